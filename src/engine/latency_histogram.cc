#include "engine/latency_histogram.hh"

#include <cmath>

namespace longhaul::engine {

namespace {

core::Nanos lower_edge(std::size_t bucket) noexcept {
  if (bucket < kLatencyFineBuckets) return core::Nanos{static_cast<std::int64_t>(bucket) * 1000};
  return core::Nanos{1'000'000 + static_cast<std::int64_t>(bucket - kLatencyFineBuckets) * 100'000};
}

core::Nanos upper_edge(std::size_t bucket) noexcept {
  if (bucket < kLatencyBuckets - 1) return lower_edge(bucket + 1);
  return core::kNever;
}

}  // namespace

void LatencyHistogram::record(core::Nanos sample) noexcept {
  const std::int64_t ns = sample.count() < 0 ? 0 : sample.count();
  const auto us = static_cast<std::uint64_t>(ns / 1000);
  std::size_t bucket;
  if (us < kFineBuckets) {
    bucket = static_cast<std::size_t>(us);
  } else if (us < 100'000) {
    bucket = kFineBuckets + static_cast<std::size_t>((us - 1000) / 100);
  } else {
    bucket = kBuckets - 1;
  }
  buckets_[bucket].add(1);
  if (static_cast<std::uint64_t>(ns) > max_ns_.get()) {
    max_ns_.sub(max_ns_.get());
    max_ns_.add(static_cast<std::uint64_t>(ns));
  }
}

std::uint64_t LatencyHistogram::count() const noexcept {
  std::uint64_t total = 0;
  for (const auto& bucket : buckets_) total += bucket.get();
  return total;
}

LatencySnapshot LatencyHistogram::snapshot() const noexcept {
  LatencySnapshot copy;
  for (std::size_t i = 0; i < kBuckets; ++i) copy.buckets[i] = buckets_[i].get();
  copy.max = max();
  return copy;
}

std::uint64_t LatencySnapshot::count() const noexcept {
  std::uint64_t total = 0;
  for (const auto bucket : buckets) total += bucket;
  return total;
}

core::Nanos LatencySnapshot::quantile(double q) const noexcept {
  const std::uint64_t total = count();
  if (total == 0) return core::Nanos{0};
  const auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(total)));
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < kLatencyBuckets; ++i) {
    seen += buckets[i];
    if (seen >= rank && seen > 0) return i == kLatencyBuckets - 1 ? max : upper_edge(i);
  }
  return max;
}

std::uint64_t LatencySnapshot::count_at_least(core::Nanos threshold) const noexcept {
  std::uint64_t total = 0;
  for (std::size_t i = kLatencyBuckets; i-- > 0;) {
    if (lower_edge(i) < threshold) break;
    total += buckets[i];
  }
  return total;
}

LatencySnapshot LatencySnapshot::since(const LatencySnapshot& earlier) const noexcept {
  LatencySnapshot difference;
  std::size_t highest = kLatencyBuckets;
  for (std::size_t i = 0; i < kLatencyBuckets; ++i) {
    // A reader racing the writer may see a later count first; never go below zero.
    difference.buckets[i] = buckets[i] >= earlier.buckets[i] ? buckets[i] - earlier.buckets[i] : 0;
    if (difference.buckets[i] != 0) highest = i;
  }
  if (highest == kLatencyBuckets) return difference;
  difference.max = highest == kLatencyBuckets - 1 ? max : std::min(max, upper_edge(highest));
  return difference;
}

}  // namespace longhaul::engine

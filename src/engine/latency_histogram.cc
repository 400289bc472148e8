#include "engine/latency_histogram.hh"

#include <algorithm>
#include <cmath>

namespace longhaul::engine {

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

core::Nanos LatencyHistogram::upper_edge(std::size_t bucket) noexcept {
  if (bucket < kFineBuckets) return core::Nanos{static_cast<std::int64_t>(bucket + 1) * 1000};
  if (bucket < kBuckets - 1) {
    return core::Nanos{1'000'000 + static_cast<std::int64_t>(bucket - kFineBuckets + 1) * 100'000};
  }
  return core::kNever;
}

core::Nanos LatencyHistogram::quantile(double q) const noexcept {
  const std::uint64_t total = count();
  if (total == 0) return core::Nanos{0};
  const auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(total)));
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < kBuckets; ++i) {
    seen += buckets_[i].get();
    // A bucket's upper edge can lie above every sample in it: never report more than the max.
    if (seen >= rank && seen > 0) return i == kBuckets - 1 ? max() : std::min(upper_edge(i), max());
  }
  return max();
}

LatencySnapshot LatencyHistogram::snapshot() const noexcept {
  LatencySnapshot copy;
  for (std::size_t i = 0; i < kBuckets; ++i) copy.buckets[i] = buckets_[i].get();
  copy.max = max();
  return copy;
}

namespace {

constexpr std::size_t kSnapshotBuckets = LatencyHistogram::kBuckets;

/// Where bucket `bucket` starts (the upper edge of the one before it).
core::Nanos lower_edge(std::size_t bucket) noexcept {
  if (bucket < LatencyHistogram::kFineBuckets) {
    return core::Nanos{static_cast<std::int64_t>(bucket) * 1000};
  }
  return core::Nanos{1'000'000 +
                     static_cast<std::int64_t>(bucket - LatencyHistogram::kFineBuckets) * 100'000};
}

}  // namespace

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
  for (std::size_t i = 0; i < kSnapshotBuckets; ++i) {
    seen += buckets[i];
    if (seen >= rank && seen > 0) {
      return i == kSnapshotBuckets - 1 ? max : std::min(LatencyHistogram::upper_edge(i), max);
    }
  }
  return max;
}

std::uint64_t LatencySnapshot::count_at_least(core::Nanos threshold) const noexcept {
  std::uint64_t total = 0;
  for (std::size_t i = kSnapshotBuckets; i-- > 0;) {
    if (lower_edge(i) < threshold) break;
    total += buckets[i];
  }
  return total;
}

LatencySnapshot LatencySnapshot::since(const LatencySnapshot& earlier) const noexcept {
  LatencySnapshot difference;
  std::size_t highest = kSnapshotBuckets;
  for (std::size_t i = 0; i < kSnapshotBuckets; ++i) {
    // A reader racing the writer may see a later count first; never go below zero.
    difference.buckets[i] = buckets[i] >= earlier.buckets[i] ? buckets[i] - earlier.buckets[i] : 0;
    if (difference.buckets[i] != 0) highest = i;
  }
  if (highest == kSnapshotBuckets) return difference;
  difference.max =
      highest == kSnapshotBuckets - 1 ? max : std::min(max, LatencyHistogram::upper_edge(highest));
  return difference;
}

}  // namespace longhaul::engine

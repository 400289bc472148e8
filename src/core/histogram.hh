#pragma once
// Histograms of durations, written by one thread (a direction's engine thread) with relaxed
// counters and readable from any thread (the control API, reports). The bucket layout is a
// policy, so the release-lateness histogram (fine, linear) and the queue-sojourn histogram
// (wide, logarithmic) share one implementation of quantiles, differences and exposition.
//
// A Layout provides:
//   static constexpr std::size_t kBuckets;            the last bucket is the overflow
//   static std::size_t bucket_of(std::int64_t ns);    where a sample >= 0 goes
//   static std::int64_t upper_edge_ns(std::size_t);   samples in a bucket are below its upper
//                                                     edge (the overflow bucket's is never used)
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <utility>
#include <vector>

#include "core/counters.hh"
#include "core/time.hh"

namespace longhaul::core {

template <class Layout>
class BucketHistogram {
 public:
  static constexpr std::size_t kBuckets = Layout::kBuckets;

  /// Upper edge of a bucket (kNever for the overflow bucket).
  static Nanos upper_edge(std::size_t bucket) noexcept {
    return bucket + 1 < kBuckets ? Nanos{Layout::upper_edge_ns(bucket)} : kNever;
  }
  /// Where a bucket starts (the upper edge of the one before it).
  static Nanos lower_edge(std::size_t bucket) noexcept {
    return bucket == 0 ? Nanos{0} : Nanos{Layout::upper_edge_ns(bucket - 1)};
  }

  /// A plain copy at one moment; two of them subtract into the samples between.
  struct Snapshot {
    std::array<std::uint64_t, kBuckets> buckets{};
    Nanos max{0};  ///< largest sample (of a difference: at most the top of its highest bucket)
    Nanos sum{0};  ///< of every sample

    std::uint64_t count() const noexcept {
      std::uint64_t total = 0;
      for (const auto bucket : buckets) total += bucket;
      return total;
    }
    /// Upper edge of the bucket holding quantile q (0..1), at most max; 0 when empty.
    Nanos quantile(double q) const noexcept {
      const std::uint64_t total = count();
      if (total == 0) return Nanos{0};
      const auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(total)));
      std::uint64_t seen = 0;
      for (std::size_t i = 0; i < kBuckets; ++i) {
        seen += buckets[i];
        // A bucket's upper edge can lie above every sample in it: never report more than max.
        if (seen >= rank && seen > 0) return i + 1 == kBuckets ? max : std::min(upper_edge(i), max);
      }
      return max;
    }
    /// Samples certainly at or above `threshold`: those in buckets that start there or later.
    std::uint64_t count_at_least(Nanos threshold) const noexcept {
      std::uint64_t total = 0;
      for (std::size_t i = kBuckets; i-- > 0;) {
        if (lower_edge(i) < threshold) break;
        total += buckets[i];
      }
      return total;
    }
    /// Samples below `edge`, which must be a bucket edge for the count to be exact (the
    /// Prometheus exposition's cumulative `le` buckets).
    std::uint64_t count_below(Nanos edge) const noexcept {
      std::uint64_t total = 0;
      for (std::size_t i = 0; i + 1 < kBuckets && upper_edge(i) <= edge; ++i) total += buckets[i];
      return total;
    }
    /// The samples of this snapshot that `earlier` (of the same histogram) did not have yet.
    Snapshot since(const Snapshot& earlier) const noexcept {
      Snapshot difference;
      std::size_t highest = kBuckets;
      for (std::size_t i = 0; i < kBuckets; ++i) {
        // A reader racing the writer may see a later count first; never go below zero.
        difference.buckets[i] =
            buckets[i] >= earlier.buckets[i] ? buckets[i] - earlier.buckets[i] : 0;
        if (difference.buckets[i] != 0) highest = i;
      }
      difference.sum = sum >= earlier.sum ? sum - earlier.sum : Nanos{0};
      if (highest == kBuckets) return difference;
      difference.max = highest + 1 == kBuckets ? max : std::min(max, upper_edge(highest));
      return difference;
    }
  };

  /// Counts `n` samples of one value (negative samples count as zero).
  void record(Nanos sample, std::uint64_t n = 1) noexcept {
    const std::int64_t ns = sample.count() < 0 ? 0 : sample.count();
    buckets_[Layout::bucket_of(ns)].add(n);
    sum_ns_.add(static_cast<std::uint64_t>(ns) * n);
    if (static_cast<std::uint64_t>(ns) > max_ns_.get()) {
      max_ns_.sub(max_ns_.get());
      max_ns_.add(static_cast<std::uint64_t>(ns));
    }
  }
  /// Samples recorded.
  std::uint64_t count() const noexcept {
    std::uint64_t total = 0;
    for (const auto& bucket : buckets_) total += bucket.get();
    return total;
  }
  /// Upper edge of the bucket holding quantile q (0..1), at most max(); 0 when empty.
  Nanos quantile(double q) const noexcept { return snapshot().quantile(q); }
  /// Largest sample seen.
  Nanos max() const noexcept { return Nanos{static_cast<std::int64_t>(max_ns_.get())}; }
  /// Copies the counts (consistent when the writer is idle; close enough while it runs).
  Snapshot snapshot() const noexcept {
    Snapshot copy;
    for (std::size_t i = 0; i < kBuckets; ++i) copy.buckets[i] = buckets_[i].get();
    copy.max = max();
    copy.sum = Nanos{static_cast<std::int64_t>(sum_ns_.get())};
    return copy;
  }

 private:
  std::array<RelaxedCounter, kBuckets> buckets_{};
  RelaxedCounter max_ns_;
  RelaxedCounter sum_ns_;
};

/// 1 us buckets to 1 ms, 100 us buckets to 100 ms, then overflow: release lateness, where the
/// fidelity verdict needs microseconds.
struct LatenessBuckets {
  static constexpr std::size_t kFine = 1000;   // 0..999 us, 1 us wide
  static constexpr std::size_t kCoarse = 990;  // 1 ms..100 ms, 100 us wide
  static constexpr std::size_t kBuckets = kFine + kCoarse + 1;
  static std::size_t bucket_of(std::int64_t ns) noexcept {
    const auto us = static_cast<std::uint64_t>(ns / 1000);
    if (us < kFine) return static_cast<std::size_t>(us);
    if (us < 100'000) return kFine + static_cast<std::size_t>((us - 1000) / 100);
    return kBuckets - 1;
  }
  static std::int64_t upper_edge_ns(std::size_t bucket) noexcept {
    if (bucket < kFine) return static_cast<std::int64_t>(bucket + 1) * 1000;
    return 1'000'000 + static_cast<std::int64_t>(bucket - kFine + 1) * 100'000;
  }
};

/// Edges 1, 1.25, 1.5, 2, 2.5, 3, 4, 5, 6, 8 per decade from 1 us to 10 s, then overflow: queue
/// sojourn, which spans microseconds on a fast idle link to seconds behind a bloated buffer.
/// Quantiles are within 25 % of the truth.
struct SojournBuckets {
  static constexpr std::size_t kEdges = 71;
  static constexpr std::size_t kBuckets = kEdges + 1;
  static constexpr std::array<std::int64_t, kEdges> kEdgesNs = [] {
    constexpr std::array<std::int64_t, 10> mantissa = {100, 125, 150, 200, 250,
                                                       300, 400, 500, 600, 800};
    std::array<std::int64_t, kEdges> edges{};
    std::int64_t decade = 10;  // ns per mantissa unit: 100 * 10 ns = 1 us
    std::size_t i = 0;
    for (int k = 0; k < 7; ++k, decade *= 10) {
      for (const auto m : mantissa) edges[i++] = m * decade;
    }
    edges[i] = 10'000'000'000;
    return edges;
  }();
  static std::size_t bucket_of(std::int64_t ns) noexcept {
    return static_cast<std::size_t>(std::upper_bound(kEdgesNs.begin(), kEdgesNs.end(), ns) -
                                    kEdgesNs.begin());
  }
  static std::int64_t upper_edge_ns(std::size_t bucket) noexcept { return kEdgesNs[bucket]; }
};

using LatenessHistogram = BucketHistogram<LatenessBuckets>;
using SojournHistogram = BucketHistogram<SojournBuckets>;

/// What the control API exposes of a histogram: count, sum, quantiles and the cumulative
/// counts below a few round edges (Prometheus `le` buckets; +Inf is the count).
struct HistogramFigures {
  std::uint64_t count = 0;
  Nanos sum{0};
  Nanos p50{0}, p99{0}, max{0};
  std::vector<std::pair<Nanos, std::uint64_t>> below;  ///< (edge, samples below it)
};

/// The figures of a snapshot at `edges` (ascending, each an edge of its layout).
template <class Layout>
HistogramFigures histogram_figures(const typename BucketHistogram<Layout>::Snapshot& snapshot,
                                   const std::vector<Nanos>& edges) {
  HistogramFigures figures;
  figures.count = snapshot.count();
  figures.sum = snapshot.sum;
  figures.p50 = snapshot.quantile(0.5);
  figures.p99 = snapshot.quantile(0.99);
  figures.max = snapshot.max;
  // One pass over the buckets for every edge (edges ascending): /metrics asks this of every
  // lane direction at each scrape.
  std::uint64_t below = 0;
  std::size_t bucket = 0;
  constexpr std::size_t kLast = BucketHistogram<Layout>::kBuckets - 1;  // overflow: never below
  for (const Nanos edge : edges) {
    for (; bucket < kLast && BucketHistogram<Layout>::upper_edge(bucket) <= edge; ++bucket) {
      below += snapshot.buckets[bucket];
    }
    figures.below.emplace_back(edge, below);
  }
  return figures;
}

}  // namespace longhaul::core

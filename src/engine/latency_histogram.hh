#pragma once
// Histogram of how late the engine released packets versus the model's
// intended time: 1 us buckets to 1 ms, 100 us buckets to 100 ms, then overflow.
// One writer (the direction thread), relaxed counters readable from anywhere.
#include <array>
#include <cstdint>

#include "core/counters.hh"
#include "core/time.hh"

namespace longhaul::engine {

struct LatencySnapshot;

class LatencyHistogram {
 public:
  static constexpr std::size_t kFineBuckets = 1000;   // 0..999 us, 1 us wide
  static constexpr std::size_t kCoarseBuckets = 990;  // 1 ms..100 ms, 100 us wide
  static constexpr std::size_t kBuckets = kFineBuckets + kCoarseBuckets + 1;

  /// Counts one sample (negative samples count as zero).
  void record(core::Nanos sample) noexcept;
  /// Samples recorded.
  std::uint64_t count() const noexcept;
  /// Upper edge of the bucket holding quantile q (0..1), at most max(); 0 when empty.
  core::Nanos quantile(double q) const noexcept;
  /// Largest sample seen.
  core::Nanos max() const noexcept { return core::Nanos{static_cast<std::int64_t>(max_ns_.get())}; }
  /// Copies the counts (consistent when the writer is idle; close enough while it runs).
  LatencySnapshot snapshot() const noexcept;

 private:
  friend struct LatencySnapshot;
  static core::Nanos upper_edge(std::size_t bucket) noexcept;
  std::array<core::RelaxedCounter, kBuckets> buckets_{};
  core::RelaxedCounter max_ns_;
};

/// A plain copy of a histogram at one moment; two of them subtract into the samples between.
struct LatencySnapshot {
  std::array<std::uint64_t, LatencyHistogram::kBuckets> buckets{};
  core::Nanos max{0};  ///< largest sample (of a difference: at most the top of its highest bucket)

  /// Samples counted.
  std::uint64_t count() const noexcept;
  /// Upper edge of the bucket holding quantile q (0..1), at most max; 0 when empty.
  core::Nanos quantile(double q) const noexcept;
  /// Samples certainly at or above `threshold`: those in buckets that start there or later.
  std::uint64_t count_at_least(core::Nanos threshold) const noexcept;
  /// The samples of this snapshot that `earlier` (of the same histogram) did not have yet.
  LatencySnapshot since(const LatencySnapshot& earlier) const noexcept;
};

}  // namespace longhaul::engine

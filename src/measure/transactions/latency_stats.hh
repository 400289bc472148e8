#pragma once
// Latency percentiles of request/response transactions and connection setups.
// Pure: a list of durations in, a summary out, so the arithmetic is tested on
// hand-made samples.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/units.hh"

namespace longhaul::measure {

using core::Nanos;

struct LatencySummary {
  std::uint64_t samples = 0;
  Nanos min{0};
  Nanos mean{0};
  Nanos p50{0};
  Nanos p90{0};
  Nanos p99{0};
  Nanos p999{0};  ///< the 99.9th percentile
  Nanos max{0};

  friend bool operator==(const LatencySummary&, const LatencySummary&) = default;
};

/// The nearest-rank percentile `p` (0 < p <= 100) of `sorted` (ascending): the smallest
/// sample with at least p % of the samples at or below it. A percentile therefore is
/// always a latency that really happened (no interpolation between two), and p99.9 of
/// fewer than 1000 samples is the maximum. Zero for no samples.
Nanos percentile(std::span<const Nanos> sorted, double p);

/// Sorts `samples` in place and summarises them.
LatencySummary summarize_latencies(std::vector<Nanos>& samples);

/// {"samples", "min_us", "mean_us", "p50_us", "p90_us", "p99_us", "p99_9_us", "max_us"};
/// microseconds as numbers with a fraction (ns resolution).
nlohmann::json to_json(const LatencySummary& summary);

/// "p50 20.3 ms  p90 20.9 ms  p99 22.1 ms  p99.9 23.0 ms  max 23.0 ms" (or "no samples").
std::string format_latency_line(const LatencySummary& summary);
/// A latency for people: "812 µs", "20.3 ms", "1.25 s".
std::string format_latency(Nanos latency);

}  // namespace longhaul::measure

#pragma once
// Time to fill the pipe: how long a flow took to reach most of the path's rate.
//
// Why it is a figure of its own: slow start doubles the congestion window once
// per round trip, so at long RTTs a flow needs many seconds (and gigabytes)
// before it runs at the path's rate; a short test then under-reports the path.
// We report the end of the first interval whose goodput reached `threshold`
// (90 %) of the path rate the user gave, and the bytes delivered until then.
// Without a path rate the figure is unknown: guessing it from the best interval
// would call any flow "filled", however slow. Omitted intervals count here:
// the omit period exists to hide exactly this ramp from the totals.
#include <cstdint>
#include <optional>
#include <span>

#include "measure/bench_config.hh"

namespace longhaul::measure {

inline constexpr double kFillThreshold = 0.9;

/// One interval of a direction's goodput (summed over its streams), in time order.
struct GoodputPoint {
  Nanos start{0};
  Nanos end{0};
  std::uint64_t bytes = 0;
  double bits_per_second = 0;
};

struct FillTime {
  std::optional<std::uint64_t> path_rate_bps;  ///< empty: unknown, nothing computed
  double threshold = kFillThreshold;
  bool reached = false;
  Nanos at{0};              ///< end of the first interval at or above the threshold
  Nanos interval_start{0};  ///< start of that interval
  std::uint32_t interval_index = 0;
  std::uint64_t bytes_before = 0;   ///< delivered from the start to `at`
  double best_bits_per_second = 0;  ///< best interval seen (context when not reached)
};

/// First interval whose goodput is at least `threshold` × `path_rate_bps`.
FillTime time_to_fill(std::span<const GoodputPoint> points,
                      std::optional<std::uint64_t> path_rate_bps,
                      double threshold = kFillThreshold);

}  // namespace longhaul::measure

#include "measure/bulk/fill_time.hh"

#include <algorithm>

namespace longhaul::measure {

FillTime time_to_fill(std::span<const GoodputPoint> points,
                      std::optional<std::uint64_t> path_rate_bps, double threshold) {
  FillTime fill;
  fill.path_rate_bps = path_rate_bps;
  fill.threshold = threshold;
  for (const GoodputPoint& point : points) {
    fill.best_bits_per_second = std::max(fill.best_bits_per_second, point.bits_per_second);
  }
  if (!path_rate_bps || *path_rate_bps == 0) return fill;
  const double target = threshold * static_cast<double>(*path_rate_bps);
  std::uint64_t delivered = 0;
  std::uint32_t index = 0;
  for (const GoodputPoint& point : points) {
    delivered += point.bytes;
    if (point.end > point.start && point.bits_per_second >= target) {
      fill.reached = true;
      fill.at = point.end;
      fill.interval_start = point.start;
      fill.interval_index = index;
      fill.bytes_before = delivered;
      return fill;
    }
    ++index;
  }
  return fill;
}

}  // namespace longhaul::measure

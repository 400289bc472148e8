#include "tune/arithmetic.hh"

#include <cmath>
#include <limits>

namespace longhaul::tune {

namespace {
double seconds(core::Nanos d) {
  return static_cast<double>(d.count()) / 1e9;
}
}  // namespace

double bdp_bytes(std::uint64_t rate_bps, core::Nanos rtt) {
  // rate x ns / 8e9: both factors are exact in a double for any realistic rate and RTT, so
  // 1 Gbit/s x 54 ms is exactly 6750000 bytes.
  return static_cast<double>(rate_bps) * static_cast<double>(rtt.count()) / 8e9;
}

double window_limited_bps(double window_bytes, core::Nanos rtt) {
  if (rtt.count() <= 0) return std::numeric_limits<double>::infinity();
  return window_bytes * 8.0 / seconds(rtt);
}

double mathis_bps(double mss_bytes, core::Nanos rtt, double loss) {
  if (loss <= 0.0 || rtt.count() <= 0) return std::numeric_limits<double>::infinity();
  return mss_bytes * 8.0 / seconds(rtt) * std::sqrt(1.5) / std::sqrt(loss);
}

unsigned slow_start_rounds(std::uint32_t initial_segments, double target_window_bytes,
                           std::uint32_t mss_bytes) {
  if (initial_segments == 0 || mss_bytes == 0) return 0;
  const double target_segments = target_window_bytes / mss_bytes;
  // Count doublings in integers of segments rather than through log2, so boundaries are exact:
  // 10 -> 20 is one round, 21 needs two.
  unsigned rounds = 0;
  for (double window = initial_segments; window < target_segments && rounds < 64; window *= 2) {
    ++rounds;
  }
  return rounds;
}

SlowStart slow_start(std::uint32_t initial_segments, double target_window_bytes,
                     std::uint32_t mss_bytes, core::Nanos rtt) {
  SlowStart result;
  result.rounds = slow_start_rounds(initial_segments, target_window_bytes, mss_bytes);
  result.time = rtt * result.rounds;
  result.bytes_sent = static_cast<double>(initial_segments) *
                      (std::ldexp(1.0, static_cast<int>(result.rounds)) - 1.0) * mss_bytes;
  return result;
}

std::uint64_t power_of_two_tier(double bytes, std::uint64_t floor_bytes,
                                std::uint64_t ceiling_bytes) {
  std::uint64_t tier = floor_bytes == 0 ? 1 : floor_bytes;
  while (static_cast<double>(tier) < bytes && tier < ceiling_bytes) tier *= 2;
  return tier < ceiling_bytes ? tier : ceiling_bytes;
}

}  // namespace longhaul::tune

#pragma once
// The arithmetic of long fat networks: bandwidth-delay product, window-limited and loss-limited
// throughput, slow start. Pure functions of their arguments; rates in bit/s, sizes in bytes,
// times as core::Nanos round-trip times unless a name says otherwise.
//
// Worked values (tests/unit/tune_arithmetic_test.cc):
//   BDP 1 Gbit/s x 54 ms = 6.75 MB; 10 Gbit/s x 54 ms = 67.5 MB; 1 Gbit/s x 0.14 ms = 17.5 kB.
//   A 64 KiB window at 100 ms RTT allows 5.24 Mbit/s, whatever the link rate.
//   Mathis: MSS 1460 B, 100 ms, 1 % loss -> 1.43 Mbit/s.
//   Slow start from 10 segments of 1448 B to a 432.5 MB window (10 Gbit/s x 346 ms): 15 rounds.
#include <cstdint>

#include "core/units.hh"

namespace longhaul::tune {

/// Bytes in flight needed to keep a `rate_bps` path busy over round trip `rtt` (rate x RTT / 8).
double bdp_bytes(std::uint64_t rate_bps, core::Nanos rtt);

/// Throughput (bit/s) one connection can reach with at most `window_bytes` unacknowledged:
/// window / RTT. Infinite for a zero RTT.
double window_limited_bps(double window_bytes, core::Nanos rtt);

/// Loss-limited throughput (bit/s) of one Reno-style connection (Mathis, Semke, Mahdavi and
/// Ott, 1997): MSS / RTT x C / sqrt(p), with C = sqrt(3/2). Infinite for zero loss.
double mathis_bps(double mss_bytes, core::Nanos rtt, double loss);

/// Round trips slow start needs to grow from `initial_segments` to `target_window_bytes` when
/// the window doubles every round trip (Linux counts acknowledged segments, so delayed ACKs do
/// not slow the doubling). 0 when the initial window is already large enough.
unsigned slow_start_rounds(std::uint32_t initial_segments, double target_window_bytes,
                           std::uint32_t mss_bytes);

/// What slow start costs to reach a window: round trips, time, and bytes sent meanwhile.
struct SlowStart {
  unsigned rounds = 0;
  core::Nanos time{0};    ///< rounds x RTT (an ideal lower bound: no HyStart exit, no loss)
  double bytes_sent = 0;  ///< initial x (2^rounds - 1) segments
};

/// slow_start_rounds() together with the time and the data sent while ramping up.
SlowStart slow_start(std::uint32_t initial_segments, double target_window_bytes,
                     std::uint32_t mss_bytes, core::Nanos rtt);

/// The largest window TCP can advertise: 65535 << 14 bytes (window scale 14, RFC 7323).
inline constexpr double kMaxTcpWindowBytes = 65535.0 * 16384.0;

/// The smallest power of two >= `bytes`, at least `floor_bytes`, at most `ceiling_bytes`.
std::uint64_t power_of_two_tier(double bytes, std::uint64_t floor_bytes,
                                std::uint64_t ceiling_bytes);

}  // namespace longhaul::tune

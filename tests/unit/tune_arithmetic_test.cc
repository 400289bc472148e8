// The tuner's arithmetic against worked values (BRIEF.md, RFC 6928, Mathis et al. 1997).
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>

#include "tune/arithmetic.hh"

namespace longhaul::tune {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;

constexpr std::uint64_t kGbit = 1'000'000'000ULL;

TEST(TuneArithmetic, BandwidthDelayProductWorkedValues) {
  EXPECT_DOUBLE_EQ(bdp_bytes(kGbit, milliseconds(54)), 6'750'000.0);        // 6.75 MB
  EXPECT_DOUBLE_EQ(bdp_bytes(10 * kGbit, milliseconds(54)), 67'500'000.0);  // 67.5 MB
  // The LAN case a published note got wrong by 1000x: 17.5 kB, not 17.5 MB.
  EXPECT_DOUBLE_EQ(bdp_bytes(kGbit, microseconds(140)), 17'500.0);
  EXPECT_DOUBLE_EQ(bdp_bytes(10 * kGbit, milliseconds(346)), 432'500'000.0);  // Japan
  EXPECT_DOUBLE_EQ(bdp_bytes(10 * kGbit, milliseconds(112)), 140'000'000.0);  // CA <-> England
  EXPECT_DOUBLE_EQ(bdp_bytes(kGbit, milliseconds(0)), 0.0);
}

TEST(TuneArithmetic, WindowLimitedThroughputIsWindowOverRtt) {
  // 64 KiB without window scaling at 100 ms: 5.24 Mbit/s whatever the link.
  EXPECT_DOUBLE_EQ(window_limited_bps(65535, milliseconds(100)), 5'242'800.0);
  // The brief's tuned maximum, 32 MiB, at 80 ms: 3.36 Gbit/s.
  EXPECT_DOUBLE_EQ(window_limited_bps(33'554'432, milliseconds(80)), 3'355'443'200.0);
  // Window = BDP gives back the rate.
  EXPECT_NEAR(window_limited_bps(bdp_bytes(10 * kGbit, milliseconds(346)), milliseconds(346)), 10e9,
              1e-3);
  EXPECT_TRUE(std::isinf(window_limited_bps(1000, milliseconds(0))));
}

TEST(TuneArithmetic, MathisLossLimitedThroughput) {
  // MSS 1460 B, 100 ms, 1 % loss: 1460 * 8 / 0.1 * sqrt(1.5) / 0.1 = 1.43 Mbit/s.
  EXPECT_NEAR(mathis_bps(1460, milliseconds(100), 0.01), 1'430'500.0, 100.0);
  // 100x less loss: 10x more throughput.
  EXPECT_NEAR(
      mathis_bps(1460, milliseconds(100), 0.0001) / mathis_bps(1460, milliseconds(100), 0.01), 10.0,
      1e-9);
  // Twice the RTT halves it.
  EXPECT_NEAR(mathis_bps(1448, milliseconds(160), 0.001) * 2,
              mathis_bps(1448, milliseconds(80), 0.001), 1e-6);
  EXPECT_TRUE(std::isinf(mathis_bps(1448, milliseconds(80), 0)));
}

TEST(TuneArithmetic, SlowStartRoundsAtTheBoundaries) {
  EXPECT_EQ(slow_start_rounds(10, 10 * 1448.0, 1448), 0U);  // already there
  EXPECT_EQ(slow_start_rounds(10, 11 * 1448.0, 1448), 1U);
  EXPECT_EQ(slow_start_rounds(10, 20 * 1448.0, 1448), 1U);
  EXPECT_EQ(slow_start_rounds(10, 21 * 1448.0, 1448), 2U);
  EXPECT_EQ(slow_start_rounds(20, 21 * 1448.0, 1448), 1U);
  EXPECT_EQ(slow_start_rounds(0, 1e9, 1448), 0U);  // degenerate input, no loop
}

TEST(TuneArithmetic, SlowStartToFillTokyo) {
  // 10 Gbit/s x 346 ms = 432.5 MB = 298 688 segments of 1448 B; from 10: 10 * 2^15 >= that.
  const SlowStart ramp = slow_start(10, 432'500'000.0, 1448, milliseconds(346));
  EXPECT_EQ(ramp.rounds, 15U);
  EXPECT_EQ(ramp.time, milliseconds(346 * 15));  // 5.19 s at best
  EXPECT_DOUBLE_EQ(ramp.bytes_sent, 10.0 * (32768 - 1) * 1448);
  // Doubling the initial window saves exactly one round trip.
  EXPECT_EQ(slow_start(20, 432'500'000.0, 1448, milliseconds(346)).rounds, 14U);
}

TEST(TuneArithmetic, PowerOfTwoTiers) {
  constexpr std::uint64_t MiB = 1 << 20;
  EXPECT_EQ(power_of_two_tier(13.5e6, 16 * MiB, 1024 * MiB), 16 * MiB);
  EXPECT_EQ(power_of_two_tier(16.0 * MiB, 16 * MiB, 1024 * MiB), 16 * MiB);
  EXPECT_EQ(power_of_two_tier(16.0 * MiB + 1, 16 * MiB, 1024 * MiB), 32 * MiB);
  EXPECT_EQ(power_of_two_tier(216.25e6, 16 * MiB, 1024 * MiB), 256 * MiB);
  EXPECT_EQ(power_of_two_tier(5e9, 16 * MiB, 1024 * MiB), 1024 * MiB);  // capped
  EXPECT_EQ(power_of_two_tier(1, 16 * MiB, 1024 * MiB), 16 * MiB);      // floored
}

TEST(TuneArithmetic, LargestWindowIsOneGibibyte) {
  EXPECT_DOUBLE_EQ(kMaxTcpWindowBytes, 1'073'725'440.0);
}

}  // namespace
}  // namespace longhaul::tune

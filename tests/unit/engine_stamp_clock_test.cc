// engine::RealtimeStamps on hand-made clock readings: a converted kernel stamp is never earlier
// than the frame's true arrival, whatever pause the reading thread took and whatever steps the
// wall clock made; at most later by the width of a reading.
#include "engine/stamp_clock.hh"

#include <gtest/gtest.h>

namespace longhaul::engine {
namespace {

using namespace std::chrono_literals;

// The wall clock ahead of the monotonic clock by this much (until a step changes it).
constexpr Nanos kOffset = 1'700'000'000s;

// A reading bracketing the realtime read at monotonic `at` between `before` and `after`.
ClockReading Reading(Nanos before, Nanos at, Nanos after, Nanos offset = kOffset) {
  return ClockReading{before, at + offset, after};
}

TEST(RealtimeStamps, TheFirstBatchIsUnstampedAndLaterOnesConvert) {
  RealtimeStamps stamps;
  EXPECT_FALSE(stamps.update(Reading(100ms, 100ms + 20ns, 100ms + 40ns)));
  EXPECT_TRUE(stamps.update(Reading(200ms, 200ms + 20ns, 200ms + 40ns)));
  const Nanos arrival = 199ms;
  const Nanos converted = stamps.to_monotonic(arrival + kOffset);
  EXPECT_GE(converted, arrival);
  EXPECT_LE(converted, arrival + 40ns);  // at most a reading's width late
}

TEST(RealtimeStamps, APauseInsideTheReadingNeverMakesAStampEarly) {
  // The thread is preempted right after its first monotonic read: read naively (realtime minus
  // the monotonic read before it) the offset is 1 us too large and every stamp 1 us early.
  RealtimeStamps stamps;
  ASSERT_FALSE(stamps.update(Reading(10ms, 10ms + 10ns, 10ms + 20ns)));
  ASSERT_TRUE(stamps.update(Reading(20ms, 20ms + 1us, 20ms + 1us + 10ns)));
  for (const Nanos arrival : {Nanos{19ms}, Nanos{19ms + 999us}, Nanos{20ms}}) {
    EXPECT_GE(stamps.to_monotonic(arrival + kOffset), arrival);
  }
}

TEST(RealtimeStamps, AReadingWiderThanTheLimitIsNotTrusted) {
  // A 5 ms pause between the reads: trusted, that reading alone would move stamps by up to 5 ms.
  RealtimeStamps stamps;
  ASSERT_FALSE(stamps.update(Reading(10ms, 10ms + 10ns, 10ms + 20ns)));
  EXPECT_FALSE(stamps.update(Reading(20ms, 25ms, 25ms + 10ns)));
  EXPECT_FALSE(stamps.update(Reading(20ms, 20ms, 20ms + RealtimeStamps::kMaxReadingWidth + 1ns)));
  EXPECT_FALSE(stamps.update(Reading(20ms, 20ms, 20ms - 1ns)));  // backwards: nonsense
  // The state is unchanged: the next good reading converts.
  EXPECT_TRUE(stamps.update(Reading(30ms, 30ms + 10ns, 30ms + 20ns)));
  EXPECT_GE(stamps.to_monotonic(29ms + kOffset), 29ms);
}

TEST(RealtimeStamps, AWallClockStepMakesTheBatchUnstampedAndLaterStampsUseTheNewOffset) {
  RealtimeStamps stamps;
  ASSERT_FALSE(stamps.update(Reading(10ms, 10ms + 10ns, 10ms + 20ns)));
  ASSERT_TRUE(stamps.update(Reading(20ms, 20ms + 10ns, 20ms + 20ns)));
  // NTP steps the wall clock 200 ms forward: a frame stamped just before the step and
  // converted with the new offset would leave 200 ms early.
  const Nanos forward = kOffset + 200ms;
  EXPECT_FALSE(stamps.update(Reading(30ms, 30ms + 10ns, 30ms + 20ns, forward)));
  EXPECT_TRUE(stamps.update(Reading(40ms, 40ms + 10ns, 40ms + 20ns, forward)));
  EXPECT_GE(stamps.to_monotonic(39ms + forward), 39ms);
  EXPECT_LE(stamps.to_monotonic(39ms + forward), 39ms + 20ns);
  // And back again (a leap second, or a correction).
  const Nanos backward = kOffset - 1s;
  EXPECT_FALSE(stamps.update(Reading(50ms, 50ms + 10ns, 50ms + 20ns, backward)));
  EXPECT_TRUE(stamps.update(Reading(60ms, 60ms + 10ns, 60ms + 20ns, backward)));
  EXPECT_GE(stamps.to_monotonic(59ms + backward), 59ms);
}

TEST(RealtimeStamps, AStepTooSmallToSeeStillMakesNoStampEarly) {
  // Steps within the readings' uncertainty are indistinguishable from it; the smallest offset
  // seen since the last visible step is used, so stamps from both sides stay on time or late.
  RealtimeStamps stamps;
  ASSERT_FALSE(stamps.update(Reading(10ms, 10ms + 500ns, 10ms + 1us)));
  const Nanos forward = kOffset + 1us;
  ASSERT_TRUE(stamps.update(Reading(20ms, 20ms + 500ns, 20ms + 1us, forward)));
  EXPECT_GE(stamps.to_monotonic(15ms + kOffset), 15ms);  // stamped before the step
  EXPECT_GE(stamps.to_monotonic(20ms + forward), 20ms);  // and after it
  const Nanos backward = kOffset - 1us;
  ASSERT_TRUE(stamps.update(Reading(30ms, 30ms + 500ns, 30ms + 1us, backward)));
  EXPECT_GE(stamps.to_monotonic(25ms + forward), 25ms);
  EXPECT_GE(stamps.to_monotonic(30ms + backward), 30ms);
}

TEST(RealtimeStamps, TheRealClocksGiveANarrowOrderedReading) {
  const ClockReading reading = read_clocks();
  EXPECT_LE(reading.monotonic_before, reading.monotonic_after);
  EXPECT_GT(reading.realtime, reading.monotonic_after);  // the wall clock is past 1970 + uptime
}

}  // namespace
}  // namespace longhaul::engine

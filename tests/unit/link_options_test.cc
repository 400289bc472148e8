// link::resolve_link and friends: from the link flags a user typed to the two
// directions' models, with errors that name the flag.
#include "link/link_options.hh"
#include "support/link_flags.hh"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace longhaul::link {
namespace {

using namespace std::chrono_literals;
using core::Nanos;

using test_support::FailsNaming;
using test_support::Resolve;

// Wire bytes of a full-size packet: 1514-byte frame + 8 preamble + 4 FCS + 12 gap.
constexpr std::uint64_t kFullPacket = 1514 + 8 + 4 + 12;

// ------------------------------------------------------------------ delay

TEST(LinkOptions, NothingGivenMeansAPerfectLink) {
  const auto spec = Resolve({});
  ASSERT_TRUE(spec) << spec.error;
  for (const core::DirectionConfig* c : {&spec->up, &spec->down}) {
    EXPECT_EQ(c->delay, Nanos{0});
    EXPECT_EQ(c->rate_bps, 0u);
    EXPECT_EQ(c->loss, 0.0);
    EXPECT_EQ(c->overhead_bytes, 24u);
    EXPECT_EQ(c->queue.max_packets, 0u);
    EXPECT_EQ(c->queue.max_bytes, 0u);
    EXPECT_EQ(c->queue.max_delay, Nanos{0});
  }
}

TEST(LinkOptions, RttIsHalvedIntoEachDirection) {
  LinkFlags flags;
  flags.rtt = "80ms";
  const auto spec = Resolve(flags);
  ASSERT_TRUE(spec) << spec.error;
  EXPECT_EQ(spec->up.delay, 40ms);
  EXPECT_EQ(spec->down.delay, 40ms);
}

TEST(LinkOptions, OddRttNanosecondIsNotLost) {
  for (const std::int64_t rtt_ns : {1, 3, 80'000'001, 346'000'007}) {
    SCOPED_TRACE(rtt_ns);
    LinkFlags flags;
    flags.rtt = std::to_string(rtt_ns) + "ns";
    const auto spec = Resolve(flags);
    ASSERT_TRUE(spec) << spec.error;
    EXPECT_EQ((spec->up.delay + spec->down.delay).count(), rtt_ns);
    const std::int64_t half = rtt_ns / 2;
    // One direction gets the lower half, the other the extra nanosecond.
    EXPECT_EQ(std::min(spec->up.delay, spec->down.delay).count(), half);
    EXPECT_EQ(std::max(spec->up.delay, spec->down.delay).count(), rtt_ns - half);
  }
}

TEST(LinkOptions, DelayIsOneWayInEachDirection) {
  LinkFlags flags;
  flags.delay = "20ms";
  auto spec = Resolve(flags);
  ASSERT_TRUE(spec) << spec.error;
  EXPECT_EQ(spec->up.delay, 20ms);
  EXPECT_EQ(spec->down.delay, 20ms);

  flags.delay_down = "35ms";  // the specific flag wins over --delay
  spec = Resolve(flags);
  ASSERT_TRUE(spec) << spec.error;
  EXPECT_EQ(spec->up.delay, 20ms);
  EXPECT_EQ(spec->down.delay, 35ms);

  LinkFlags split;
  split.delay_up = "10ms";
  split.delay_down = "1.5s";
  spec = Resolve(split);
  ASSERT_TRUE(spec) << spec.error;
  EXPECT_EQ(spec->up.delay, 10ms);
  EXPECT_EQ(spec->down.delay, 1500ms);

  LinkFlags only_up;
  only_up.delay_up = "7ms";
  spec = Resolve(only_up);
  ASSERT_TRUE(spec) << spec.error;
  EXPECT_EQ(spec->up.delay, 7ms);
  EXPECT_EQ(spec->down.delay, Nanos{0});
}

TEST(LinkOptions, RttTogetherWithADelayIsAnErrorNamingBoth) {
  for (int which = 0; which < 3; ++which) {
    LinkFlags flags;
    flags.rtt = "80ms";
    (which == 0 ? flags.delay : which == 1 ? flags.delay_up : flags.delay_down) = "40ms";
    EXPECT_TRUE(FailsNaming(flags, {"--rtt", "--delay"})) << which;
  }
}

TEST(LinkOptions, BadDelaysNameTheirFlag) {
  LinkFlags rtt;
  rtt.rtt = "80";
  EXPECT_TRUE(FailsNaming(rtt, {"--rtt", "unit"}));
  LinkFlags delay;
  delay.delay = "-5ms";
  EXPECT_TRUE(FailsNaming(delay, {"--delay"}));
  LinkFlags down;
  down.delay_down = "fast";
  EXPECT_TRUE(FailsNaming(down, {"--delay-down"}));
  LinkFlags up;
  up.delay = "10ms";
  up.delay_up = "10";
  EXPECT_TRUE(FailsNaming(up, {"--delay-up"}));
}

TEST(LinkOptions, DelayLongerThanAMinuteIsRefused) {
  LinkFlags flags;
  flags.delay = "61s";
  EXPECT_TRUE(FailsNaming(flags, {"60 s"}));
  flags.delay = "60s";
  EXPECT_TRUE(Resolve(flags));
}

// ------------------------------------------------------------------ rate, loss, overhead

TEST(LinkOptions, RatesPerDirection) {
  LinkFlags flags;
  flags.rate = "100mbit";
  flags.rate_down = "1.5gbit";
  const auto spec = Resolve(flags);
  ASSERT_TRUE(spec) << spec.error;
  EXPECT_EQ(spec->up.rate_bps, 100'000'000u);
  EXPECT_EQ(spec->down.rate_bps, 1'500'000'000u);
}

TEST(LinkOptions, ZeroNegativeAndGarbageRatesNameTheFlag) {
  for (const char* text : {"0", "0mbit", "-5mbit", "fast", "100", "100mbps", "10mbit/h", ""}) {
    LinkFlags flags;
    flags.rate = text;
    EXPECT_TRUE(FailsNaming(flags, {"--rate"})) << text;
    LinkFlags up;
    up.rate_up = text;
    EXPECT_TRUE(FailsNaming(up, {"--rate-up"})) << text;
    LinkFlags down;
    down.rate = "10mbit";
    down.rate_down = text;
    EXPECT_TRUE(FailsNaming(down, {"--rate-down"})) << text;
  }
}

TEST(LinkOptions, LossIsAProbabilityPerDirection) {
  LinkFlags flags;
  flags.loss = "2%";
  flags.loss_up = "0.1%";
  const auto spec = Resolve(flags);
  ASSERT_TRUE(spec) << spec.error;
  EXPECT_EQ(spec->up.loss, 0.001);
  EXPECT_EQ(spec->down.loss, 0.02);
  EXPECT_TRUE(spec->up.needs_wire_packets());
}

TEST(LinkOptions, LossAboveAHundredPercentOrWithoutPercentIsRefused) {
  LinkFlags flags;
  flags.loss = "101%";
  EXPECT_TRUE(FailsNaming(flags, {"--loss", "100%"}));
  flags.loss = "100.01%";
  EXPECT_TRUE(FailsNaming(flags, {"--loss"}));
  flags.loss = "0.02";
  EXPECT_TRUE(FailsNaming(flags, {"--loss", "%"}));
  LinkFlags down;
  down.loss_down = "150%";
  EXPECT_TRUE(FailsNaming(down, {"--loss-down"}));
  LinkFlags all;
  all.loss = "100%";
  const auto spec = Resolve(all);
  ASSERT_TRUE(spec) << spec.error;
  EXPECT_EQ(spec->down.loss, 1.0);
}

TEST(LinkOptions, Overhead) {
  LinkFlags flags;
  flags.overhead = "0B";
  auto spec = Resolve(flags);
  ASSERT_TRUE(spec) << spec.error;
  EXPECT_EQ(spec->up.overhead_bytes, 0u);
  EXPECT_EQ(spec->down.overhead_bytes, 0u);
  flags.overhead = "38";
  spec = Resolve(flags);
  ASSERT_TRUE(spec) << spec.error;
  EXPECT_EQ(spec->up.overhead_bytes, 38u);
  flags.overhead = "2000B";
  EXPECT_TRUE(FailsNaming(flags, {"--overhead"}));
  flags.overhead = "1.5kB";
  EXPECT_TRUE(FailsNaming(flags, {"--overhead"}));
}

// ------------------------------------------------------------------ queue

TEST(LinkOptions, QueueInPacketsBytesOrTime) {
  LinkFlags flags;
  flags.rate = "100mbit";
  flags.queue = "250p";
  auto spec = Resolve(flags);
  ASSERT_TRUE(spec) << spec.error;
  EXPECT_EQ(spec->up.queue.max_packets, 250u);
  EXPECT_EQ(spec->up.queue.max_bytes, 0u);
  EXPECT_EQ(spec->up.queue.max_delay, Nanos{0});

  flags.queue = "64KiB";
  spec = Resolve(flags);
  ASSERT_TRUE(spec) << spec.error;
  EXPECT_EQ(spec->down.queue.max_bytes, 65'536u);
  EXPECT_EQ(spec->down.queue.max_packets, 0u);

  flags.queue = "5ms";
  flags.queue_up = "1p";
  spec = Resolve(flags);
  ASSERT_TRUE(spec) << spec.error;
  EXPECT_EQ(spec->down.queue.max_delay, 5ms);
  EXPECT_EQ(spec->up.queue.max_packets, 1u);
  EXPECT_EQ(spec->up.queue.max_delay, Nanos{0});
}

TEST(LinkOptions, QueueSmallerThanOnePacketIsRefusedNamingTheFlag) {
  LinkFlags flags;
  flags.rate = "100mbit";
  // Packets: zero is no queue at all.
  flags.queue = "0p";
  EXPECT_TRUE(FailsNaming(flags, {"--queue"}));
  // Bytes: one full-size packet on the wire is 1538 B.
  flags.queue = std::to_string(kFullPacket - 1) + "B";
  EXPECT_TRUE(FailsNaming(flags, {"--queue", "1538"}));
  flags.queue = std::to_string(kFullPacket) + "B";
  EXPECT_TRUE(Resolve(flags));
  // Time: 1538 B = 12304 bits take 123.04 us at 100 Mbit/s.
  flags.queue = "123.039us";
  EXPECT_TRUE(FailsNaming(flags, {"--queue", "123 us"}));
  flags.queue = "123.04us";
  EXPECT_TRUE(Resolve(flags));
  // The per-direction flag is the one named.
  LinkFlags down;
  down.rate = "100mbit";
  down.queue_down = "100B";
  EXPECT_TRUE(FailsNaming(down, {"--queue-down"}));
  LinkFlags up;
  up.rate = "1gbit";
  up.queue_up = "12us";  // 12.304 us needed at 1 Gbit/s
  EXPECT_TRUE(FailsNaming(up, {"--queue-up"}));
}

TEST(LinkOptions, QueueWithoutARateIsAnError) {
  LinkFlags flags;
  flags.queue = "100p";
  EXPECT_TRUE(FailsNaming(flags, {"--queue", "--rate"}));
  // A rate in one direction only: the other direction has nothing to queue in front of.
  flags.rate_up = "10mbit";
  EXPECT_TRUE(FailsNaming(flags, {"--queue", "--rate"}));
  LinkFlags down;
  down.rate_up = "10mbit";
  down.queue_down = "100p";
  EXPECT_TRUE(FailsNaming(down, {"--queue-down"}));
}

TEST(LinkOptions, DefaultQueueIsTheRoundTripBdpButAtLeastAHundredPackets) {
  struct Case {
    const char* rate;
    const char* delay_up;
    const char* delay_down;
    std::uint64_t expected_bytes;
  };
  // BDP = rate / 8 * (delay up + delay down), computed by hand:
  const Case cases[] = {
      // 100 Mbit/s x 80 ms = 12.5 MB/s x 0.08 s = 1 MB.
      {"100mbit", "40ms", "40ms", 1'000'000},
      // 1 Gbit/s x 346 ms = 125 MB/s x 0.346 s = 43.25 MB.
      {"1gbit", "173ms", "173ms", 43'250'000},
      // Asymmetric delays still make one round trip: 100 Mbit/s x 40 ms = 500 kB.
      {"100mbit", "10ms", "30ms", 500'000},
      // 10 Mbit/s x 10 ms = 12.5 kB < 100 x 1538 B = 153.8 kB.
      {"10mbit", "5ms", "5ms", 100 * kFullPacket},
      // No delay at all: the floor.
      {"1gbit", "0", "0", 100 * kFullPacket},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(testing::Message() << c.rate << " " << c.delay_up << "/" << c.delay_down);
    LinkFlags flags;
    flags.rate = c.rate;
    flags.delay_up = c.delay_up;
    flags.delay_down = c.delay_down;
    const auto spec = Resolve(flags);
    ASSERT_TRUE(spec) << spec.error;
    for (const core::DirectionConfig* config : {&spec->up, &spec->down}) {
      EXPECT_EQ(config->queue.max_bytes, c.expected_bytes);
      EXPECT_EQ(config->queue.max_packets, 0u);
      EXPECT_EQ(config->queue.max_delay, Nanos{0});
    }
  }
  EXPECT_EQ(default_queue(100'000'000, 80ms).max_bytes, 1'000'000u);
  EXPECT_EQ(default_queue(1'000'000, 1s).max_bytes, 100 * kFullPacket);
  const core::QueueBound none = default_queue(0, 80ms);
  EXPECT_EQ(none.max_bytes, 0u);
  EXPECT_EQ(none.max_packets, 0u);
}

TEST(LinkOptions, DefaultQueueFollowsEachDirectionsRate) {
  LinkFlags flags;
  flags.rtt = "80ms";
  flags.rate_up = "100mbit";
  flags.rate_down = "10mbit";
  const auto spec = Resolve(flags);
  ASSERT_TRUE(spec) << spec.error;
  EXPECT_EQ(spec->up.queue.max_bytes, 1'000'000u);
  EXPECT_EQ(spec->down.queue.max_bytes, 153'800u);  // 100 kB BDP < 100 packets
}

// ------------------------------------------------------------------ seeds

std::vector<std::uint64_t> LostSeqs(const core::DirectionConfig& config) {
  class Egress final : public core::PipelineEgress {
   public:
    void transmit(const core::Packet&) noexcept override {}
    void discard(const core::Packet& packet, core::DropCause) noexcept override {
      lost.push_back(packet.seq);
    }
    std::vector<std::uint64_t> lost;
  } egress;
  core::DirectionCounters counters;
  core::Pipeline pipeline(config, 16, egress, counters);
  for (std::uint64_t i = 0; i < 2000; ++i) {
    core::Packet packet;
    packet.seq = i;
    packet.l2_bytes = 1514;
    packet.wire_bytes = pipeline.wire_bytes(1514, 1);
    pipeline.push(packet);
  }
  return egress.lost;
}

TEST(LinkOptions, SeedIsKeptAndEachDirectionGetsItsOwnStream) {
  LinkFlags flags;
  flags.loss = "10%";
  flags.seed = 42;
  const auto spec = Resolve(flags, 999);
  ASSERT_TRUE(spec) << spec.error;
  EXPECT_EQ(spec->seed, 42u);
  EXPECT_TRUE(spec->seed_given);
  EXPECT_NE(spec->up.seed, spec->down.seed);
  // Same loss rate, different streams: the directions lose different packets.
  EXPECT_NE(LostSeqs(spec->up), LostSeqs(spec->down));

  // Replaying with the same seed gives the same streams, whatever the random fallback.
  const auto again = Resolve(flags, 12345);
  ASSERT_TRUE(again) << again.error;
  EXPECT_EQ(again->up.seed, spec->up.seed);
  EXPECT_EQ(again->down.seed, spec->down.seed);
  EXPECT_EQ(LostSeqs(again->up), LostSeqs(spec->up));

  flags.seed = 43;
  const auto other = Resolve(flags);
  ASSERT_TRUE(other) << other.error;
  EXPECT_NE(other->up.seed, spec->up.seed);
  EXPECT_NE(other->down.seed, spec->down.seed);
}

TEST(LinkOptions, WithoutSeedTheRandomOneIsUsedAndReplayable) {
  LinkFlags flags;
  flags.loss = "1%";
  const auto spec = Resolve(flags, 777);
  ASSERT_TRUE(spec) << spec.error;
  EXPECT_EQ(spec->seed, 777u);
  EXPECT_FALSE(spec->seed_given);
  // Passing the printed seed back as --seed reproduces the run.
  flags.seed = 777;
  const auto replay = Resolve(flags, 1);
  ASSERT_TRUE(replay) << replay.error;
  EXPECT_EQ(replay->up.seed, spec->up.seed);
  EXPECT_EQ(replay->down.seed, spec->down.seed);
}

// ------------------------------------------------------------------ buffers

TEST(LinkOptions, PlanBuffersHoldsRateTimesOneWayDelayPlusTheQueue) {
  LinkFlags flags;
  flags.rate = "1gbit";
  flags.delay = "173ms";  // one way
  const auto spec = Resolve(flags);
  ASSERT_TRUE(spec) << spec.error;
  const BufferPlan plan = plan_buffers(spec->up, 0);
  // On the delay line: 1e9 / 8 B/s x 0.173 s = 21.625 MB.
  constexpr std::size_t kDelayLine = 21'625'000;
  EXPECT_GE(plan.arena_bytes, kDelayLine);
  // Plus a full default queue (one 346 ms round trip: 43.25 MB).
  EXPECT_GE(plan.arena_bytes, kDelayLine + 43'250'000);
  // Rings fit a line-rate flood of minimum-size frames (84 B on the wire) on the
  // delay line: 1e9 / 672 bit x 0.173 s = 257440.5 frames.
  EXPECT_GE(plan.capacity_packets, 257'441u);
}

TEST(LinkOptions, PlanBuffersForAnUnlimitedRateUsesTheAssumedRate) {
  LinkFlags flags;
  flags.delay = "10ms";
  const auto spec = Resolve(flags);
  ASSERT_TRUE(spec) << spec.error;
  // 10 Gbit/s assumed: 1.25 GB/s x 10 ms = 12.5 MB.
  EXPECT_GE(plan_buffers(spec->up, 10'000'000'000).arena_bytes, 12'500'000u);
}

TEST(LinkOptions, PlanBuffersCoversATimeBoundedQueue) {
  LinkFlags flags;
  flags.rate = "1gbit";
  flags.queue = "100ms";
  const auto spec = Resolve(flags);
  ASSERT_TRUE(spec) << spec.error;
  // 100 ms of 1 Gbit/s = 12.5 MB waiting.
  EXPECT_GE(plan_buffers(spec->up, 0).arena_bytes, 12'500'000u);
}

TEST(LinkOptions, DescribeSaysWhatTheDirectionDoes) {
  LinkFlags flags;
  flags.rtt = "80ms";
  flags.rate = "100mbit";
  flags.loss = "2%";
  const auto spec = Resolve(flags);
  ASSERT_TRUE(spec) << spec.error;
  const std::string text = describe(spec->up);
  EXPECT_NE(text.find("40 ms"), std::string::npos) << text;
  EXPECT_NE(text.find("100 Mbit/s"), std::string::npos) << text;
  EXPECT_NE(text.find("1 MB"), std::string::npos) << text;
  EXPECT_NE(text.find("2%"), std::string::npos) << text;
  EXPECT_NE(describe(core::DirectionConfig{}).find("unlimited"), std::string::npos);
}

}  // namespace
}  // namespace longhaul::link

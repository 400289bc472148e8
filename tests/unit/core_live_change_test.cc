// Live changes (the control API's) on the manual timeline: each applies at its own engine instant
// exactly as a schedule step at that instant would, late ones at the latest instant handled, and
// what they do to packets already inside follows the documented semantics (docs/api.md).
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "core/pipeline.hh"
#include "support/pipeline_egress.hh"

namespace longhaul::core {
namespace {

using namespace std::chrono_literals;
using Recorder = test_support::PipelineRecorder;
constexpr std::uint64_t k100Mbit = 100'000'000;

Packet FullSize(const Pipeline& pipeline, Nanos ts, std::uint64_t seq) {
  Packet packet;
  packet.ts = ts;
  packet.seq = seq;
  packet.buffer = static_cast<BufferHandle>(seq);
  packet.frame_bytes = packet.l2_bytes = 1514;
  packet.wire_bytes = pipeline.wire_bytes(1514, 1);
  return packet;
}

LiveChange At(Nanos at) {
  LiveChange change;
  change.at = at;
  return change;
}

TEST(LiveChange, RateChangeEqualsAScheduleStepAtTheSameInstant) {
  DirectionConfig base;
  base.rate_bps = k100Mbit;
  base.delay = 5ms;
  base.queue.max_packets = 1000;
  DirectionConfig scheduled = base;
  ConditionChange slower;
  slower.rate_bps = k100Mbit / 4;
  scheduled.schedule.steps = {ScheduleStep{3ms, slower}};

  Recorder by_schedule, live;
  DirectionCounters counters_a, counters_b;
  Pipeline a(scheduled, 4096, by_schedule, counters_a);
  Pipeline b(base, 4096, live, counters_b);
  LiveChange change = At(3ms);
  change.change = slower;
  ASSERT_TRUE(b.schedule_live(change));
  for (std::uint64_t i = 0; i < 40; ++i) {
    a.push(FullSize(a, 1ms, i));
    b.push(FullSize(b, 1ms, i));
  }
  a.advance(1s);
  b.advance(1s);
  ASSERT_EQ(live.sent.size(), 40u);  // nothing queued is lost when the rate drops
  ASSERT_EQ(by_schedule.sent.size(), live.sent.size());
  for (std::size_t i = 0; i < live.sent.size(); ++i) {
    EXPECT_EQ(live.sent[i].ts, by_schedule.sent[i].ts) << i;
    if (i > 0) {
      EXPECT_LT(live.sent[i - 1].ts, live.sent[i].ts);
    }
  }
  EXPECT_EQ(b.conditions().rate_bps.load(), k100Mbit / 4);
  EXPECT_EQ(b.conditions().live_applied.get(), 1u);
  EXPECT_EQ(b.conditions().live_late.get(), 0u);
  EXPECT_EQ(b.conditions().last_change_at_ns.load(), Nanos(3ms).count());
  EXPECT_EQ(a.conditions().last_change_at_ns.load(), Nanos(3ms).count());
  EXPECT_TRUE(counters_b.snapshot().reconciles());
}

TEST(LiveChange, DelayDecreaseKeepsOrderAndLosesNothing) {
  DirectionConfig config;
  config.delay = 100ms;
  Recorder out;
  DirectionCounters counters;
  Pipeline pipeline(config, 64, out, counters);
  pipeline.push(FullSize(pipeline, 0ms, 0));  // due at 100 ms
  LiveChange change = At(10ms);
  change.change.delay = 10ms;
  ASSERT_TRUE(pipeline.schedule_live(change));
  pipeline.push(FullSize(pipeline, 9ms, 1));    // before the change: 109 ms
  pipeline.push(FullSize(pipeline, 10ms, 2));   // 20 ms would overtake: leaves right behind, 109 ms
  pipeline.push(FullSize(pipeline, 200ms, 3));  // the new delay holds once drained: 210 ms
  pipeline.advance(1s);
  ASSERT_EQ(out.sent.size(), 4u);
  EXPECT_EQ(out.sent[0].ts, 100ms);
  EXPECT_EQ(out.sent[1].ts, 109ms);
  EXPECT_EQ(out.sent[2].ts, 109ms);
  EXPECT_EQ(out.sent[3].ts, 210ms);
  for (std::size_t i = 0; i < 4; ++i) EXPECT_EQ(out.sent[i].seq, i);
  EXPECT_EQ(pipeline.conditions().delay_ns.load(), Nanos(10ms).count());
  EXPECT_TRUE(counters.snapshot().reconciles());
}

TEST(LiveChange, DelayRaisedOnALinkStartedWithoutDelayHoldsEveryPacket) {
  DirectionConfig config;  // no delay, no rate: the stages still hold what a change asks
  Recorder out;
  DirectionCounters counters;
  Pipeline pipeline(config, 4096, out, counters);
  LiveChange change = At(0ms);
  change.change.delay = 50ms;
  change.change.rate_bps = k100Mbit;
  change.queue = QueueBound{0, 10'000'000, Nanos{0}};
  ASSERT_TRUE(pipeline.schedule_live(change));
  for (std::uint64_t i = 0; i < 1000; ++i) pipeline.push(FullSize(pipeline, 1ms, i));
  pipeline.advance(10s);
  EXPECT_EQ(out.sent.size(), 1000u);
  EXPECT_TRUE(out.discarded.empty());
  // 1000 packets of 1538 wire bytes at 100 Mbit/s: the last leaves the queue at
  // 1 ms + 123.04 ms, then 50 ms of propagation.
  EXPECT_EQ(out.sent.back().ts, 1ms + 1000 * 123'040ns + 50ms);
}

TEST(LiveChange, ALateChangeAppliesAtTheLatestInstantHandledAndIsCounted) {
  DirectionConfig config;
  config.delay = 10ms;
  Recorder out;
  DirectionCounters counters;
  Pipeline pipeline(config, 64, out, counters);
  pipeline.push(FullSize(pipeline, 50ms, 0));
  LiveChange change = At(20ms);  // already behind the model's time
  change.change.delay = 30ms;
  ASSERT_TRUE(pipeline.schedule_live(change));
  pipeline.push(FullSize(pipeline, 50ms, 1));  // arrives at the instant it applies: 80 ms
  pipeline.advance(1s);
  ASSERT_EQ(out.sent.size(), 2u);
  EXPECT_EQ(out.sent[0].ts, 60ms);
  EXPECT_EQ(out.sent[1].ts, 80ms);
  EXPECT_EQ(pipeline.conditions().live_late.get(), 1u);
  // Readers (the event stream) see the instant it actually applied at, not the one asked for.
  EXPECT_EQ(pipeline.conditions().last_change_at_ns.load(), Nanos(50ms).count());
}

TEST(LiveChange, EqualInstantsApplyInTheOrderPosted) {
  DirectionConfig config;
  Recorder out;
  DirectionCounters counters;
  Pipeline pipeline(config, 64, out, counters);
  LiveChange first = At(5ms), second = At(5ms), earlier = At(2ms);
  first.change.delay = 1ms;
  second.change.delay = 2ms;
  earlier.change.delay = 7ms;
  ASSERT_TRUE(pipeline.schedule_live(first));
  ASSERT_TRUE(pipeline.schedule_live(second));
  ASSERT_TRUE(pipeline.schedule_live(earlier));
  pipeline.advance(3ms);
  EXPECT_EQ(pipeline.conditions().delay_ns.load(), Nanos(7ms).count());
  pipeline.advance(5ms);
  EXPECT_EQ(pipeline.conditions().delay_ns.load(), Nanos(2ms).count());
  EXPECT_EQ(pipeline.conditions().live_applied.get(), 3u);
}

TEST(LiveChange, OutageLosesEverythingArrivingInItsWindowAsLoss) {
  DirectionConfig config;
  config.delay = 1ms;
  Recorder out;
  DirectionCounters counters;
  Pipeline pipeline(config, 64, out, counters);
  LiveChange outage = At(10ms);
  outage.outage = 5ms;
  ASSERT_TRUE(pipeline.schedule_live(outage));
  const Nanos arrivals[] = {9ms, 10ms, 14ms, 15ms};
  for (std::uint64_t i = 0; i < 4; ++i) pipeline.push(FullSize(pipeline, arrivals[i], i));
  pipeline.advance(1s);
  ASSERT_EQ(out.sent.size(), 2u);
  EXPECT_EQ(out.sent[0].seq, 0u);
  EXPECT_EQ(out.sent[1].seq, 3u);
  ASSERT_EQ(out.discarded.size(), 2u);
  EXPECT_EQ(out.discarded[0].second, DropCause::loss);
  EXPECT_EQ(pipeline.conditions().outage_until_ns.load(), Nanos(15ms).count());
  EXPECT_TRUE(counters.snapshot().reconciles());
}

TEST(LiveChange, LowerQueueLimitKeepsQueuedPacketsAndRefusesArrivalsUntilBelowIt) {
  DirectionConfig config;
  config.rate_bps = k100Mbit;
  config.queue.max_packets = 100;
  Recorder out;
  DirectionCounters counters;
  Pipeline pipeline(config, 4096, out, counters);
  for (std::uint64_t i = 0; i < 50; ++i) pipeline.push(FullSize(pipeline, 0ms, i));
  LiveChange change = At(1ms);
  change.queue = QueueBound{10, 0, Nanos{0}};
  ASSERT_TRUE(pipeline.schedule_live(change));
  pipeline.push(FullSize(pipeline, 1ms, 50));  // ~42 still queued: refused
  pipeline.advance(1s);
  EXPECT_EQ(out.sent.size(), 50u);  // every packet queued before the change left
  ASSERT_EQ(out.discarded.size(), 1u);
  EXPECT_EQ(out.discarded[0].first.seq, 50u);
  EXPECT_EQ(out.discarded[0].second, DropCause::queue_full);
  EXPECT_EQ(pipeline.conditions().queue_max_packets.load(), 10u);
  EXPECT_TRUE(counters.snapshot().reconciles());
}

TEST(LiveChange, LossChangesOnlyARandomLossModel) {
  DirectionConfig with_loss;
  with_loss.loss = 0.01;
  DirectionConfig without;
  Recorder out;
  DirectionCounters counters;
  Pipeline a(with_loss, 64, out, counters);
  Pipeline b(without, 64, out, counters);
  EXPECT_TRUE(a.loss().has_random_loss());
  EXPECT_FALSE(b.loss().has_random_loss());
  LiveChange change = At(0ms);
  change.change.loss = 1.0;
  ASSERT_TRUE(a.schedule_live(change));
  a.push(FullSize(a, 1ms, 0));
  EXPECT_EQ(out.discarded.size(), 1u);
  EXPECT_DOUBLE_EQ(a.conditions().loss.load(), 1.0);
}

TEST(LiveChange, RefusesMoreThanItsFixedCapacity) {
  DirectionConfig config;
  Recorder out;
  DirectionCounters counters;
  Pipeline pipeline(config, 64, out, counters);
  for (std::size_t i = 0; i < Pipeline::kMaxPendingLive; ++i) {
    ASSERT_TRUE(pipeline.schedule_live(At(1s)));
  }
  EXPECT_FALSE(pipeline.schedule_live(At(1s)));
  EXPECT_EQ(pipeline.pending_live(), Pipeline::kMaxPendingLive);
}

}  // namespace
}  // namespace longhaul::core

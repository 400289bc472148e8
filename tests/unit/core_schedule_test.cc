// Schedules on the manual (virtual) timeline: the cursor's order and repetition,
// rate changes that keep every queued packet and recompute departures exactly,
// delay changes that never reorder, loss changes, and the pipeline applying
// each step at its own instant. Expected times are derived here from the bits
// on the wire and the rates, never copied from the implementation.
#include <gtest/gtest.h>

#include <cstdint>
#include <utility>
#include <vector>

#include "core/delay_line.hh"
#include "core/jitter_delay.hh"
#include "core/pipeline.hh"
#include "core/rate_queue.hh"
#include "core/schedule.hh"
#include "support/pipeline_egress.hh"
#include "support/stage_sink.hh"

namespace longhaul::core {
namespace {

using namespace std::chrono_literals;
using Sink = test_support::StageSink;
__extension__ using Wide = unsigned __int128;

Packet MakePacket(Nanos ts, std::uint64_t seq, std::uint32_t wire_bytes = 1538) {
  Packet packet;
  packet.ts = ts;
  packet.seq = seq;
  packet.buffer = static_cast<BufferHandle>(seq);
  packet.frame_bytes = wire_bytes;
  packet.wire_bytes = wire_bytes;
  packet.l2_bytes = wire_bytes;
  return packet;
}

ScheduleStep Step(Nanos at, ConditionChange change) {
  return ScheduleStep{at, std::move(change)};
}

ConditionChange Rate(std::uint64_t bps) {
  ConditionChange change;
  change.rate_bps = bps;
  return change;
}

ConditionChange Delay(Nanos delay) {
  ConditionChange change;
  change.delay = delay;
  return change;
}

ConditionChange Loss(double p) {
  ConditionChange change;
  change.loss = p;
  return change;
}

// ------------------------------------------------------------------ cursor

TEST(ScheduleCursor, WalksStepsInTimeOrderFromTheOriginAndKeepsTiesInWrittenOrder) {
  ScheduleConfig config;
  config.steps = {Step(20ms, Rate(2)), Step(10ms, Rate(1)), Step(20ms, Rate(3))};
  ScheduleCursor cursor(config, 5s);
  std::vector<std::pair<Nanos, std::uint64_t>> seen;
  while (cursor.next_time() != kNever) {
    seen.emplace_back(cursor.next_time(), *cursor.next_change().rate_bps);
    cursor.pop();
  }
  const std::vector<std::pair<Nanos, std::uint64_t>> expected = {
      {5s + 10ms, 1}, {5s + 20ms, 2}, {5s + 20ms, 3}};
  EXPECT_EQ(seen, expected);
}

TEST(ScheduleCursor, PeriodicScheduleRepeatsForever) {
  ScheduleConfig config;
  config.steps = {Step(0ms, Rate(1)), Step(300ms, Rate(2))};
  config.period = 1s;
  ScheduleCursor cursor(config, Nanos{0});
  std::vector<Nanos> times;
  for (int i = 0; i < 6; ++i) {
    times.push_back(cursor.next_time());
    cursor.pop();
  }
  const std::vector<Nanos> expected = {0ms, 300ms, 1000ms, 1300ms, 2000ms, 2300ms};
  EXPECT_EQ(times, expected);
}

TEST(ScheduleCursor, EmptyScheduleIsNever) {
  ScheduleCursor cursor(ScheduleConfig{}, 1s);
  EXPECT_EQ(cursor.next_time(), kNever);
  ScheduleConfig periodic;
  periodic.period = 1s;
  EXPECT_EQ(ScheduleCursor(periodic, 1s).next_time(), kNever);
}

// ------------------------------------------------------------------ RateQueue::set_rate

constexpr std::uint64_t k100Mbit = 100'000'000;

TEST(RateQueueSetRate, PacketOnTheWireFinishesItsRemainingBitsAtTheNewRate) {
  Sink sink;
  RateQueue queue(k100Mbit, QueueBound{}, 64);
  queue.connect(sink, sink);
  queue.accept(MakePacket(Nanos{0}, 0));
  queue.accept(MakePacket(Nanos{0}, 1));
  // 12304 bits at 100 Mbit/s take 123040 ns; half of them are out at 61520 ns.
  queue.set_rate(Nanos{61'520}, 2 * k100Mbit);
  // The other 6152 bits at 200 Mbit/s: 30760 ns. The next packet: 61520 ns.
  EXPECT_EQ(queue.next_wakeup(), Nanos{92'280});
  queue.advance(1s);
  ASSERT_EQ(sink.out.size(), 2u);
  EXPECT_EQ(sink.out[0].ts, Nanos{92'280});
  EXPECT_EQ(sink.out[1].ts, Nanos{92'280 + 61'520});
  EXPECT_TRUE(sink.dropped.empty());
  EXPECT_EQ(queue.queued_packets(), 0u);
}

// Exact reference: the link delivers R1 bits/s until t_c and R2 after, so the
// n-th back-to-back packet is out at the true time T with
// R1 t_c + R2 (T - t_c) = 8e9 x (bytes so far) [bit-ns]; the queue reports the
// whole nanosecond at or before it (the fraction is carried, never lost).
Nanos ExactFinish(std::uint64_t bytes_so_far, std::uint64_t r1, Nanos change, std::uint64_t r2) {
  const Wide data = Wide{bytes_so_far} * 8'000'000'000ULL;
  const Wide before = Wide{r1} * static_cast<std::uint64_t>(change.count());
  if (data <= before) return Nanos{static_cast<std::int64_t>(data / r1)};
  return change + Nanos{static_cast<std::int64_t>((data - before) / r2)};
}

TEST(RateQueueSetRate, DeparturesAfterAChangeAreExactOverALongBacklog) {
  // Rates that divide nothing evenly, a change in the middle of a packet.
  const std::uint64_t r1 = 7'000'003;
  const std::uint64_t r2 = 11'000'017;
  Sink sink;
  RateQueue queue(r1, QueueBound{}, 4096);
  queue.connect(sink, sink);
  std::vector<std::uint32_t> sizes;
  for (std::uint64_t i = 0; i < 1000; ++i) {
    sizes.push_back(static_cast<std::uint32_t>(84 + (i * 37) % 1455));
    queue.accept(MakePacket(Nanos{0}, i, sizes.back()));
  }
  const Nanos change{123'456'789};
  queue.set_rate(change, r2);
  queue.advance(100s);
  ASSERT_EQ(sink.out.size(), sizes.size());
  std::uint64_t bytes = 0;
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    bytes += sizes[i];
    ASSERT_EQ(sink.out[i].ts, ExactFinish(bytes, r1, change, r2)) << "packet " << i;
  }
}

TEST(RateQueueSetRate, TimeLimitSeesTheBacklogAtTheNewRate) {
  // 10 ms of queue at 100 Mbit/s holds 81 full packets; after slowing to 10
  // Mbit/s the same bytes take ten times as long, so new arrivals are refused.
  Sink sink;
  QueueBound bound;
  bound.max_delay = 10ms;
  RateQueue queue(k100Mbit, bound, 1024);
  queue.connect(sink, sink);
  for (std::uint64_t i = 0; i < 20; ++i) queue.accept(MakePacket(Nanos{0}, i));
  EXPECT_TRUE(sink.dropped.empty());
  queue.set_rate(Nanos{1}, k100Mbit / 10);
  queue.accept(MakePacket(Nanos{2}, 20));
  ASSERT_EQ(sink.dropped.size(), 1u);
  EXPECT_EQ(sink.dropped[0].first.seq, 20u);
  EXPECT_EQ(sink.dropped[0].second, DropCause::queue_full);
  EXPECT_EQ(queue.queued_packets(), 20u);
}

TEST(RateQueueSetRate, FromUnlimitedToALimitAndBack) {
  Sink sink;
  RateQueue queue(0, QueueBound{}, 64);
  queue.connect(sink, sink);
  queue.accept(MakePacket(Nanos{5}, 0));
  ASSERT_EQ(sink.out.size(), 1u);  // unlimited: passes at once
  EXPECT_EQ(sink.out[0].ts, Nanos{5});
  queue.set_rate(Nanos{10}, k100Mbit);
  queue.accept(MakePacket(Nanos{10}, 1));
  queue.accept(MakePacket(Nanos{10}, 2));
  queue.advance(Nanos{10} + 123'040ns);
  ASSERT_EQ(sink.out.size(), 2u);
  EXPECT_EQ(sink.out[1].ts, Nanos{10} + 123'040ns);
  // Back to unlimited with one packet still waiting: it leaves at the change.
  queue.set_rate(200us, 0);
  ASSERT_EQ(sink.out.size(), 3u);
  EXPECT_EQ(sink.out[2].ts, 200us);
  EXPECT_EQ(queue.queued_packets(), 0u);
  EXPECT_EQ(queue.next_wakeup(), kNever);
}

// ------------------------------------------------------------------ delay changes

TEST(DelayLineSetDelay, InFlightPacketsKeepTheirReleaseNewOnesGetTheNewDelay) {
  Sink sink;
  DelayLine line(50ms, 16);
  line.connect(sink, sink);
  line.accept(MakePacket(Nanos{0}, 0));
  line.set_delay(80ms);
  line.accept(MakePacket(1ms, 1));
  line.advance(1s);
  ASSERT_EQ(sink.out.size(), 2u);
  EXPECT_EQ(sink.out[0].ts, 50ms);
  EXPECT_EQ(sink.out[1].ts, 81ms);
}

TEST(DelayLineSetDelay, AShorterDelayNeverLetsANewPacketOvertake) {
  Sink sink;
  DelayLine line(50ms, 16);
  line.connect(sink, sink);
  line.accept(MakePacket(Nanos{0}, 0));  // out at 50 ms
  line.set_delay(10ms);
  line.accept(MakePacket(1ms, 1));   // would be 11 ms: waits behind packet 0
  line.accept(MakePacket(45ms, 2));  // 55 ms: after packet 0 anyway
  line.advance(1s);
  ASSERT_EQ(sink.out.size(), 3u);
  EXPECT_EQ(sink.out[0].ts, 50ms);
  EXPECT_EQ(sink.out[1].ts, 50ms);
  EXPECT_EQ(sink.out[2].ts, 55ms);
  EXPECT_EQ(sink.out[1].seq, 1u);
}

TEST(JitterDelaySetDelay, ShiftsTheMeanAndStillNeverReorders) {
  JitterDelayConfig config;
  config.jitter.delay = 50ms;
  config.jitter.jitter = 5ms;
  config.jitter.shape = JitterShape::normal;
  Sink sink;
  JitterDelay stage(config, 1 << 16, 42);
  stage.connect(sink, sink);
  std::uint64_t seq = 0;
  Nanos t{0};
  const auto feed_until = [&](Nanos end) {
    for (; t < end; t += 100us) {
      stage.advance(t);
      stage.accept(MakePacket(t, seq++));
    }
  };
  feed_until(2s);
  stage.set_delay(20ms);
  const std::uint64_t first_after = seq;
  feed_until(22s);
  stage.advance(100s);
  ASSERT_EQ(sink.out.size(), seq);
  double sum_after = 0;
  std::uint64_t count_after = 0;
  for (std::size_t i = 1; i < sink.out.size(); ++i) {
    ASSERT_GE(sink.out[i].ts, sink.out[i - 1].ts) << "reordered at " << i;
    ASSERT_EQ(sink.out[i].seq, i);
  }
  // After the change (once the path has drained), delays centre on 20 ms.
  for (std::size_t i = first_after + 1'000; i < sink.out.size(); ++i) {
    const Nanos arrival = 100us * static_cast<std::int64_t>(i);
    sum_after += static_cast<double>((sink.out[i].ts - arrival).count());
    ++count_after;
  }
  // 20 s of a process that forgets its state within ~16 ms (1/lambda = 8 ms
  // for normal jitter of 5 ms): ~1250 independent looks, standard error
  // 5 ms / sqrt(1250) = 0.14 ms; 0.75 ms is more than five of them (the
  // normal table's own mean offset, -0.004 ms, is negligible).
  EXPECT_NEAR(sum_after / static_cast<double>(count_after) / 1e6, 20.0, 0.75);
}

// ------------------------------------------------------------------ pipeline

using Egress = test_support::PipelineRecorder;

Packet PipelinePacket(const Pipeline& pipeline, Nanos ts, std::uint64_t seq) {
  Packet packet = MakePacket(ts, seq, 1514);
  packet.wire_bytes = pipeline.wire_bytes(1514, 1);
  return packet;
}

TEST(PipelineSchedule, RateStepAppliesAtItsInstantCountedFromTheOrigin) {
  Egress egress;
  DirectionCounters counters;
  DirectionConfig config;
  config.rate_bps = k100Mbit;
  config.schedule.steps = {Step(1ms, Rate(k100Mbit / 2))};
  config.loss_model.schedule_origin = 10s;
  Pipeline pipeline(config, 64, egress, counters);
  // Twenty full packets at 10 s: 123.04 us each at 100 Mbit/s.
  for (std::uint64_t i = 0; i < 20; ++i) pipeline.push(PipelinePacket(pipeline, 10s, i));
  // The step at 10.001 s is the next wake-up only once packets would be
  // released after it; before, the queue's own departures come first.
  EXPECT_EQ(pipeline.next_wakeup(), 10s + 123'040ns);
  pipeline.advance(10s + 123'040ns * 8);  // 8 out by 984.32 us
  EXPECT_EQ(egress.sent.size(), 8u);
  EXPECT_EQ(pipeline.next_wakeup(), 10s + 1ms);  // before packet 9's old finish at 1107.36 us
  pipeline.advance(60s);
  ASSERT_EQ(egress.sent.size(), 20u);
  EXPECT_EQ(pipeline.changes_applied(), 1u);
  // Packet 9 had 15.68 us of 123.04 on the wire at the step: 1568 bits at 100
  // Mbit/s are out, 12304 - 1568 = 10736 remain at 50 Mbit/s = 214.72 us.
  EXPECT_EQ(egress.sent[8].ts, 10s + 1ms + 214'720ns);
  for (std::size_t i = 9; i < 20; ++i) {
    EXPECT_EQ(egress.sent[i].ts - egress.sent[i - 1].ts, 246'080ns) << i;
  }
  EXPECT_TRUE(egress.discarded.empty());
  EXPECT_TRUE(counters.snapshot().reconciles());
}

TEST(PipelineSchedule, DelayAndLossStepsApplyToPacketsArrivingAtOrAfterThem) {
  Egress egress;
  DirectionCounters counters;
  DirectionConfig config;
  config.delay = 10ms;
  config.schedule.steps = {Step(100ms, Delay(30ms)), Step(200ms, Loss(1.0)),
                           Step(300ms, Loss(0.0))};
  config.seed = 7;
  Pipeline pipeline(config, 64, egress, counters);
  EXPECT_TRUE(config.needs_wire_packets());  // loss is decided per wire packet
  pipeline.push(PipelinePacket(pipeline, 99ms, 0));
  pipeline.push(PipelinePacket(pipeline, 100ms, 1));  // at the step: gets 30 ms
  pipeline.push(PipelinePacket(pipeline, 200ms, 2));  // lost
  pipeline.push(PipelinePacket(pipeline, 299ms, 3));  // lost
  pipeline.push(PipelinePacket(pipeline, 300ms, 4));
  pipeline.advance(1s);
  ASSERT_EQ(egress.sent.size(), 3u);
  EXPECT_EQ(egress.sent[0].ts, 109ms);
  EXPECT_EQ(egress.sent[1].ts, 130ms);
  EXPECT_EQ(egress.sent[2].ts, 330ms);
  ASSERT_EQ(egress.discarded.size(), 2u);
  EXPECT_EQ(egress.discarded[0].second, DropCause::loss);
  EXPECT_EQ(pipeline.loss().random_drops(), 2u);
  EXPECT_TRUE(counters.snapshot().reconciles());
}

TEST(PipelineSchedule, PeriodicOnOffRateIsAppliedEveryCycle) {
  // 1 s cycles: 100 Mbit/s for 500 ms, 10 Mbit/s for 500 ms. A saturating
  // source: what leaves in each half-cycle is its rate times its length.
  Egress egress;
  DirectionCounters counters;
  DirectionConfig config;
  config.rate_bps = k100Mbit;
  config.queue.max_packets = 100'000;
  config.schedule.steps = {Step(0ms, Rate(k100Mbit)), Step(500ms, Rate(k100Mbit / 10))};
  config.schedule.period = 1s;
  Pipeline pipeline(config, 1 << 17, egress, counters);
  std::uint64_t seq = 0;
  for (Nanos t{0}; t < 3s; t += 50us) {
    pipeline.advance(t);
    pipeline.push(PipelinePacket(pipeline, t, seq++));  // 246 Mbit/s offered
  }
  pipeline.advance(2999ms);
  std::vector<std::uint64_t> per_half(6, 0);
  for (const Packet& packet : egress.sent) {
    const auto half = static_cast<std::size_t>(packet.ts / 500ms);
    if (half < per_half.size()) ++per_half[half];
  }
  // 500 ms at 100 Mbit/s: 50e6 / 12304 = 4063.7 packets; at 10 Mbit/s 406.4.
  for (std::size_t half = 0; half < 6; ++half) {
    const double expected = half % 2 == 0 ? 4063.7 : 406.4;
    EXPECT_NEAR(static_cast<double>(per_half[half]), expected, 1.0) << "half " << half;
  }
  EXPECT_EQ(pipeline.changes_applied(), 6u);
  EXPECT_TRUE(counters.snapshot().reconciles());
}

TEST(PipelineSchedule, SameSeedSameScheduleSameOutcome) {
  const auto run = [] {
    Egress egress;
    DirectionCounters counters;
    DirectionConfig config;
    config.delay = 5ms;
    config.rate_bps = k100Mbit;
    config.queue.max_packets = 50;
    config.seed = 99;
    config.schedule.steps = {Step(10ms, Loss(0.3)), Step(20ms, Rate(k100Mbit / 4)),
                             Step(30ms, Delay(1ms))};
    config.schedule.period = 40ms;
    Pipeline pipeline(config, 4096, egress, counters);
    std::uint64_t seq = 0;
    for (Nanos t{0}; t < 200ms; t += 60us) pipeline.push(PipelinePacket(pipeline, t, seq++));
    pipeline.advance(10s);
    std::vector<std::pair<std::uint64_t, std::int64_t>> outcome;
    for (const Packet& p : egress.sent) outcome.emplace_back(p.seq, p.ts.count());
    EXPECT_TRUE(counters.snapshot().reconciles());
    return outcome;
  };
  EXPECT_EQ(run(), run());
}

}  // namespace
}  // namespace longhaul::core

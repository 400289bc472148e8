// The single-purpose model stages on a virtual timeline: DelayLine, RateQueue and
// independent loss (LossStage with an uncorrelated RandomLossConfig). Every expected
// time is derived here from first principles (bits on the wire divided by the rate),
// never copied from the implementation.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <utility>
#include <vector>

#include "core/delay_line.hh"
#include "core/loss_models.hh"
#include "core/rate_queue.hh"
#include "support/stage_sink.hh"

namespace longhaul::core {
namespace {

using namespace std::chrono_literals;

using Sink = test_support::StageSink;

Packet MakePacket(Nanos ts, std::uint64_t seq, std::uint32_t wire_bytes = 1538,
                  std::uint16_t segments = 1) {
  Packet packet;
  packet.ts = ts;
  packet.seq = seq;
  packet.buffer = static_cast<BufferHandle>(seq);
  packet.frame_bytes = wire_bytes;
  packet.wire_bytes = wire_bytes;
  packet.l2_bytes = wire_bytes;
  packet.segments = segments;
  return packet;
}

constexpr std::uint64_t k100Mbit = 100'000'000;
// 1538 wire bytes = 12304 bits; at 1e8 bit/s that is 12304 / 1e8 s = 123.04 us.
constexpr Nanos kFullPacketAt100Mbit{123'040};

// ------------------------------------------------------------------ DelayLine

TEST(DelayLine, ReleasesExactlyDelayAfterArrivalAndNotOneNanosecondEarly) {
  Sink sink;
  DelayLine line(80ms, 16);
  line.connect(sink, sink);
  const Nanos arrival{1'234'567};
  line.accept(MakePacket(arrival, 0));
  EXPECT_EQ(line.frames_in_flight(), 1u);
  EXPECT_EQ(line.next_wakeup(), Nanos{81'234'567});

  line.advance(Nanos{81'234'566});
  EXPECT_TRUE(sink.out.empty());
  EXPECT_EQ(line.next_wakeup(), Nanos{81'234'567});

  line.advance(Nanos{81'234'567});
  ASSERT_EQ(sink.out.size(), 1u);
  EXPECT_EQ(sink.out[0].ts, Nanos{81'234'567});
  EXPECT_EQ(sink.out[0].seq, 0u);
  EXPECT_EQ(line.next_wakeup(), kNever);
  EXPECT_EQ(line.frames_in_flight(), 0u);
  EXPECT_TRUE(sink.dropped.empty());
}

TEST(DelayLine, OddDelayIsExactToTheNanosecond) {
  Sink sink;
  DelayLine line(Nanos{86'500'001}, 4);
  line.connect(sink, sink);
  line.accept(MakePacket(Nanos{3}, 0));
  line.advance(Nanos{86'500'003});
  EXPECT_TRUE(sink.out.empty());
  line.advance(Nanos{86'500'004});
  ASSERT_EQ(sink.out.size(), 1u);
  EXPECT_EQ(sink.out[0].ts, Nanos{86'500'004});
}

TEST(DelayLine, KeepsFifoOrderAndNextWakeupTracksTheHead) {
  Sink sink;
  DelayLine line(10ms, 64);
  line.connect(sink, sink);
  // Several packets share an arrival time; order must still be by arrival (seq).
  const std::vector<Nanos> arrivals{Nanos{0}, Nanos{0}, Nanos{5}, Nanos{5}, Nanos{5}, Nanos{1000}};
  for (std::size_t i = 0; i < arrivals.size(); ++i) line.accept(MakePacket(arrivals[i], i));
  EXPECT_EQ(line.next_wakeup(), 10ms);

  line.advance(10ms);
  ASSERT_EQ(sink.out.size(), 2u);
  EXPECT_EQ(line.next_wakeup(), 10ms + Nanos{5});
  line.advance(10ms + Nanos{999});
  ASSERT_EQ(sink.out.size(), 5u);
  EXPECT_EQ(line.next_wakeup(), 10ms + Nanos{1000});
  line.advance(10ms + Nanos{1000});
  ASSERT_EQ(sink.out.size(), 6u);
  for (std::size_t i = 0; i < sink.out.size(); ++i) {
    EXPECT_EQ(sink.out[i].seq, i);
    EXPECT_EQ(sink.out[i].ts, arrivals[i] + 10ms);
  }
}

TEST(DelayLine, LateAdvanceStampsIntendedTimesNotNow) {
  Sink sink;
  DelayLine line(1ms, 8);
  line.connect(sink, sink);
  line.accept(MakePacket(Nanos{100}, 0));
  line.accept(MakePacket(Nanos{200}, 1));
  line.advance(5s);  // the engine woke very late
  ASSERT_EQ(sink.out.size(), 2u);
  EXPECT_EQ(sink.out[0].ts, 1ms + Nanos{100});
  EXPECT_EQ(sink.out[1].ts, 1ms + Nanos{200});
}

TEST(DelayLine, ZeroDelayPassesStraightThrough) {
  Sink sink;
  DelayLine line(Nanos{0}, 8);
  line.connect(sink, sink);
  line.accept(MakePacket(Nanos{42}, 0));
  ASSERT_EQ(sink.out.size(), 1u);
  EXPECT_EQ(sink.out[0].ts, Nanos{42});
  EXPECT_EQ(line.next_wakeup(), kNever);
}

TEST(DelayLine, FullLineDropsAsBufferExhausted) {
  Sink sink;
  DelayLine line(1ms, 2);
  line.connect(sink, sink);
  for (std::uint64_t i = 0; i < 3; ++i) line.accept(MakePacket(Nanos{0}, i));
  ASSERT_EQ(sink.dropped.size(), 1u);
  EXPECT_EQ(sink.dropped[0].first.seq, 2u);
  EXPECT_EQ(sink.dropped[0].second, DropCause::buffer_exhausted);
  line.advance(1ms);
  EXPECT_EQ(sink.out.size(), 2u);
}

// ------------------------------------------------------------------ RateQueue

TEST(RateQueue, SerialisationTimeOfAFullSizePacket) {
  const RateQueue queue(k100Mbit, {}, 4);
  EXPECT_EQ(queue.serialisation_time(1538), kFullPacketAt100Mbit);
  // 84 bytes (minimum frame + overhead) = 672 bits at 1 Gbit/s = 672 ns.
  const RateQueue gigabit(1'000'000'000, {}, 4);
  EXPECT_EQ(gigabit.serialisation_time(84), Nanos{672});
}

TEST(RateQueue, BackToBackDeparturesAreMultiplesOfTheSerialisationTime) {
  Sink sink;
  RateQueue queue(k100Mbit, {}, 64);
  queue.connect(sink, sink);
  for (std::uint64_t i = 0; i < 10; ++i) queue.accept(MakePacket(Nanos{0}, i));
  EXPECT_EQ(queue.queued_packets(), 10u);
  EXPECT_EQ(queue.queued_bytes(), 15380u);
  EXPECT_EQ(queue.next_wakeup(), kFullPacketAt100Mbit);

  for (std::uint64_t k = 1; k <= 10; ++k) {
    const Nanos due = kFullPacketAt100Mbit * static_cast<std::int64_t>(k);
    queue.advance(due - Nanos{1});
    ASSERT_EQ(sink.out.size(), k - 1) << "released one ns early, packet " << k;
    EXPECT_EQ(queue.next_wakeup(), due);
    queue.advance(due);
    ASSERT_EQ(sink.out.size(), k);
    EXPECT_EQ(sink.out.back().ts, due);
    EXPECT_EQ(sink.out.back().seq, k - 1);
  }
  EXPECT_EQ(queue.queued_packets(), 0u);
  EXPECT_EQ(queue.queued_bytes(), 0u);
  EXPECT_EQ(queue.next_wakeup(), kNever);
}

TEST(RateQueue, SojournIsTheWaitFromArrivalToTheStartOfSerialisation) {
  // Ten full-size packets at once: the k-th (0-based) starts when k others have left, so it
  // waited k serialisation times; its own serialisation is not part of its sojourn.
  Sink sink;
  RateQueue queue(k100Mbit, {}, 64);
  queue.connect(sink, sink);
  for (std::uint64_t i = 0; i < 10; ++i) queue.accept(MakePacket(Nanos{0}, i));
  queue.advance(kFullPacketAt100Mbit * 10);
  ASSERT_EQ(sink.out.size(), 10u);
  const auto sojourn = queue.sojourn().snapshot();
  EXPECT_EQ(sojourn.count(), 10u);
  EXPECT_EQ(sojourn.max, kFullPacketAt100Mbit * 9);
  EXPECT_EQ(sojourn.sum, kFullPacketAt100Mbit * 45);  // 0 + 1 + ... + 9
  // A packet that finds the link idle waits nothing.
  queue.accept(MakePacket(kFullPacketAt100Mbit * 20, 10));
  EXPECT_EQ(queue.sojourn().snapshot().since(sojourn).sum, Nanos{0});
  EXPECT_EQ(queue.sojourn().count(), 11u);
}

TEST(RateQueue, SojournCountsEveryWirePacketOfASuperFrameAndNotTheDroppedOnes) {
  Sink sink;
  RateQueue queue(k100Mbit, QueueBound{.max_packets = 4}, 64);
  queue.connect(sink, sink);
  queue.accept(MakePacket(Nanos{0}, 0, 3 * 1538, 3));
  queue.accept(MakePacket(Nanos{0}, 1));
  queue.accept(MakePacket(Nanos{0}, 2));  // over the 4-packet limit: dropped, never served
  queue.advance(kFullPacketAt100Mbit * 4);
  ASSERT_EQ(sink.dropped.size(), 1u);
  const auto sojourn = queue.sojourn().snapshot();
  EXPECT_EQ(sojourn.count(), 4u);                    // 3 segments + 1 packet
  EXPECT_EQ(sojourn.max, kFullPacketAt100Mbit * 3);  // behind the 3-segment frame
}

TEST(RateQueue, SojournOfPacketsFlushedByAnUnlimitedRateIsTheirWaitUntilThen) {
  Sink sink;
  RateQueue queue(k100Mbit, {}, 64);
  queue.connect(sink, sink);
  for (std::uint64_t i = 0; i < 3; ++i) queue.accept(MakePacket(Nanos{0}, i));
  const Nanos flush{50'000};  // before the first packet has finished
  queue.set_rate(flush, 0);
  ASSERT_EQ(sink.out.size(), 3u);
  const auto sojourn = queue.sojourn().snapshot();
  EXPECT_EQ(sojourn.count(), 3u);  // the first started at 0 (wait 0), the others at the flush
  EXPECT_EQ(sojourn.sum, flush * 2);
}

// Departure of the k-th (1-based) packet of a back-to-back burst starting at 0: the
// link has then sent k * bits bits, which takes exactly k * bits * 1e9 / rate ns.
// Time is integer nanoseconds, so the stamp is that exact time rounded down; what
// matters is that it is computed from the total, i.e. no rounding error accumulates.
std::int64_t BurstDepartureNs(std::uint64_t k, std::uint64_t bits, std::uint64_t rate_bps) {
  // k * bits * 1e9 must fit in 64 bits for the rates and counts used below.
  return static_cast<std::int64_t>(k * bits * 1'000'000'000ULL / rate_bps);
}

TEST(RateQueue, SubNanosecondRemainderIsCarriedSoLongRunsDoNotDrift) {
  struct Case {
    std::uint64_t rate_bps;
    std::uint32_t wire_bytes;
  };
  // 3 Gbit/s and 1001 B: 8008 bits = 2669.333 ns each; 1 Gbit/s and 1001 B: exact
  // 8008 ns; 999999937 bit/s (a prime) and 1538 B: a remainder that never repeats
  // soon; 7 Mbit/s and 84 B: 96 us each, a slow link.
  const Case cases[] = {
      {3'000'000'000, 1001}, {1'000'000'000, 1001}, {999'999'937, 1538}, {7'000'000, 84}};
  for (const Case& c : cases) {
    SCOPED_TRACE(testing::Message() << c.rate_bps << " bit/s, " << c.wire_bytes << " B");
    constexpr std::uint64_t kPackets = 100'000;
    Sink sink;
    RateQueue queue(c.rate_bps, {}, kPackets);
    queue.connect(sink, sink);
    for (std::uint64_t i = 0; i < kPackets; ++i)
      queue.accept(MakePacket(Nanos{0}, i, c.wire_bytes));
    queue.advance(kNever - Nanos{1});
    ASSERT_EQ(sink.out.size(), kPackets);
    const std::uint64_t bits = std::uint64_t{c.wire_bytes} * 8;
    for (std::uint64_t k = 1; k <= kPackets; ++k) {
      ASSERT_EQ(sink.out[k - 1].ts.count(), BurstDepartureNs(k, bits, c.rate_bps))
          << "packet " << k;
    }
  }
}

TEST(RateQueue, ArrivalsAtIntegerFinishTimesKeepTheCarry) {
  // At 3 Gbit/s a 1001-byte packet takes 2669.333 ns. A packet that arrives at the
  // integer time its predecessor was stamped (2669) finds the link still busy for a
  // third of a nanosecond, so it must depart exactly as if it had been back to back.
  Sink sink;
  RateQueue queue(3'000'000'000, {}, 16);
  queue.connect(sink, sink);
  Nanos arrival{0};
  for (std::uint64_t k = 1; k <= 6; ++k) {
    queue.accept(MakePacket(arrival, k - 1, 1001));
    queue.advance(kNever - Nanos{1});
    ASSERT_EQ(sink.out.size(), k);
    EXPECT_EQ(sink.out.back().ts.count(), BurstDepartureNs(k, 8008, 3'000'000'000));
    arrival = sink.out.back().ts;
  }
}

TEST(RateQueue, IdleLinkStartsTheNextPacketAtItsArrival) {
  Sink sink;
  RateQueue queue(k100Mbit, {}, 16);
  queue.connect(sink, sink);
  queue.accept(MakePacket(Nanos{0}, 0));
  queue.advance(1s);
  ASSERT_EQ(sink.out.size(), 1u);
  EXPECT_EQ(sink.out[0].ts, kFullPacketAt100Mbit);
  EXPECT_EQ(queue.next_wakeup(), kNever);

  const Nanos later = 5ms + Nanos{7};
  queue.accept(MakePacket(later, 1));
  EXPECT_EQ(queue.next_wakeup(), later + kFullPacketAt100Mbit);
  queue.advance(later + kFullPacketAt100Mbit);
  ASSERT_EQ(sink.out.size(), 2u);
  EXPECT_EQ(sink.out[1].ts, later + kFullPacketAt100Mbit);
}

TEST(RateQueue, IdleLinkDiscardsTheFractionLeftFromTheLastBusyPeriod) {
  // Two back-to-back 1001-byte packets at 3 Gbit/s end at 5338.67 ns. A third one
  // arriving long after the link went idle starts at its arrival, so it leaves
  // 8008 / 3 = 2669.33 ns later: at arrival + 2669, whatever fraction the first
  // busy period left over.
  Sink sink;
  RateQueue queue(3'000'000'000, {}, 16);
  queue.connect(sink, sink);
  queue.accept(MakePacket(Nanos{0}, 0, 1001));
  queue.accept(MakePacket(Nanos{0}, 1, 1001));
  queue.advance(Nanos{100'000});
  ASSERT_EQ(sink.out.size(), 2u);
  EXPECT_EQ(sink.out[1].ts, Nanos{5338});

  queue.accept(MakePacket(Nanos{100'000}, 2, 1001));
  EXPECT_EQ(queue.next_wakeup(), Nanos{102'669});
  queue.advance(Nanos{200'000});
  ASSERT_EQ(sink.out.size(), 3u);
  EXPECT_EQ(sink.out[2].ts, Nanos{102'669});
}

TEST(RateQueue, MixedSizesDepartAtCumulativeBitTimes) {
  Sink sink;
  RateQueue queue(k100Mbit, {}, 16);
  queue.connect(sink, sink);
  const std::uint32_t sizes[] = {84, 1538, 600, 9038};
  for (std::uint64_t i = 0; i < 4; ++i) queue.accept(MakePacket(Nanos{1000}, i, sizes[i]));
  queue.advance(1s);
  ASSERT_EQ(sink.out.size(), 4u);
  // At 100 Mbit/s one byte (8 bits) takes 8 / 1e8 s = 80 ns.
  std::int64_t bytes_sent = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    bytes_sent += sizes[i];
    EXPECT_EQ(sink.out[i].ts, Nanos{1000 + bytes_sent * 80}) << "packet " << i;
  }
}

TEST(RateQueue, PacketLimitCountsThePacketOnTheWireAndDropsTheRest) {
  Sink sink;
  QueueBound bound;
  bound.max_packets = 3;
  RateQueue queue(k100Mbit, bound, 64);
  queue.connect(sink, sink);
  for (std::uint64_t i = 0; i < 5; ++i) queue.accept(MakePacket(Nanos{0}, i));
  EXPECT_EQ(queue.queued_packets(), 3u);
  ASSERT_EQ(sink.dropped.size(), 2u);
  EXPECT_EQ(sink.dropped[0].first.seq, 3u);
  EXPECT_EQ(sink.dropped[1].first.seq, 4u);
  for (const auto& [packet, cause] : sink.dropped) EXPECT_EQ(cause, DropCause::queue_full);

  // One ns before the first departure the queue is still full.
  queue.accept(MakePacket(kFullPacketAt100Mbit - Nanos{1}, 5));
  EXPECT_EQ(sink.dropped.size(), 3u);
  // At the first departure there is room for exactly one more.
  queue.accept(MakePacket(kFullPacketAt100Mbit, 6));
  queue.accept(MakePacket(kFullPacketAt100Mbit, 7));
  ASSERT_EQ(sink.dropped.size(), 4u);
  EXPECT_EQ(sink.dropped[3].first.seq, 7u);
  EXPECT_EQ(sink.out.size(), 1u);

  queue.advance(1s);
  ASSERT_EQ(sink.out.size(), 4u);
  const std::uint64_t delivered[] = {0, 1, 2, 6};
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(sink.out[i].seq, delivered[i]);
    EXPECT_EQ(sink.out[i].ts, kFullPacketAt100Mbit * static_cast<std::int64_t>(i + 1));
  }
}

TEST(RateQueue, ByteLimitIsInWireBytes) {
  for (const std::uint64_t limit : {std::uint64_t{3 * 1538}, std::uint64_t{3 * 1538 - 1}}) {
    SCOPED_TRACE(limit);
    Sink sink;
    QueueBound bound;
    bound.max_bytes = limit;
    RateQueue queue(k100Mbit, bound, 64);
    queue.connect(sink, sink);
    for (std::uint64_t i = 0; i < 6; ++i) queue.accept(MakePacket(Nanos{0}, i));
    const std::uint64_t fit = limit / 1538;  // whole packets that fit
    EXPECT_EQ(queue.queued_packets(), fit);
    EXPECT_EQ(queue.queued_bytes(), fit * 1538);
    EXPECT_EQ(sink.dropped.size(), 6 - fit);
    for (const auto& [packet, cause] : sink.dropped) EXPECT_EQ(cause, DropCause::queue_full);
  }
}

TEST(RateQueue, TimeLimitIsTheSojournOfTheArrivingPacket) {
  // With max_delay = 3 serialisation times, the third packet of a burst leaves
  // exactly at the limit (accepted) and the fourth would leave after it (dropped).
  for (const Nanos limit : {kFullPacketAt100Mbit * 3, kFullPacketAt100Mbit * 3 - Nanos{1}}) {
    SCOPED_TRACE(limit.count());
    Sink sink;
    QueueBound bound;
    bound.max_delay = limit;
    RateQueue queue(k100Mbit, bound, 64);
    queue.connect(sink, sink);
    for (std::uint64_t i = 0; i < 6; ++i) queue.accept(MakePacket(Nanos{0}, i));
    const std::uint64_t fit = static_cast<std::uint64_t>(limit / kFullPacketAt100Mbit);
    EXPECT_EQ(queue.queued_packets(), fit);
    EXPECT_EQ(sink.dropped.size(), 6 - fit);
    for (const auto& [packet, cause] : sink.dropped) EXPECT_EQ(cause, DropCause::queue_full);
    queue.advance(1s);
    for (const Packet& packet : sink.out) EXPECT_LE(packet.ts, limit);
  }
}

TEST(RateQueue, TimeLimitHoldsOverALongBurstWithFractionalSerialisation) {
  // 1001 B at 3 Gbit/s = 2669.333 ns per packet; a 30 ms limit on a burst that all
  // arrives at 0. The k-th packet leaves at floor(k * 8008 / 3) ns, so the queue
  // may accept exactly the packets with floor(k * 8008 / 3) <= 30 ms; truncating
  // each packet's time separately would let through a few that wait longer.
  constexpr std::uint64_t kRate = 3'000'000'000;
  constexpr std::int64_t kLimitNs = 30'000'000;
  std::uint64_t expected = 0;
  while (BurstDepartureNs(expected + 1, 8008, kRate) <= kLimitNs) ++expected;
  ASSERT_EQ(expected, 11'238u);  // 11238 * 8008 / 3 = 29997968; the next is 30000637.

  Sink sink;
  QueueBound bound;
  bound.max_delay = Nanos{kLimitNs};
  RateQueue queue(kRate, bound, 20'000);
  queue.connect(sink, sink);
  for (std::uint64_t i = 0; i < 12'000; ++i) queue.accept(MakePacket(Nanos{0}, i, 1001));
  EXPECT_EQ(queue.queued_packets(), expected);
  EXPECT_EQ(sink.dropped.size(), 12'000 - expected);
  queue.advance(1s);
  ASSERT_EQ(sink.out.size(), expected);
  EXPECT_LE(sink.out.back().ts.count(), kLimitNs);
}

TEST(RateQueue, TimeLimitAdmitsALonePacketLongerThanTheLimit) {
  // An empty queue never drops: a packet longer than the limit could never be sent otherwise.
  Sink sink;
  QueueBound bound;
  bound.max_delay = Nanos{1000};
  RateQueue queue(k100Mbit, bound, 8);
  queue.connect(sink, sink);
  queue.accept(MakePacket(Nanos{0}, 0));
  EXPECT_TRUE(sink.dropped.empty());
  queue.accept(MakePacket(Nanos{0}, 1));
  EXPECT_EQ(sink.dropped.size(), 1u);
}

TEST(RateQueue, SuperFramesCountAsTheirSegmentsInThePacketLimit) {
  Sink sink;
  QueueBound bound;
  bound.max_packets = 4;
  RateQueue queue(k100Mbit, bound, 64);
  queue.connect(sink, sink);
  queue.accept(MakePacket(Nanos{0}, 0, 3 * 1538, 3));  // 3 of 4
  EXPECT_EQ(queue.queued_packets(), 3u);
  queue.accept(MakePacket(Nanos{0}, 1, 2 * 1538, 2));  // 5 > 4: dropped whole
  ASSERT_EQ(sink.dropped.size(), 1u);
  EXPECT_EQ(sink.dropped[0].first.segments, 2);
  EXPECT_EQ(sink.dropped[0].second, DropCause::queue_full);
  queue.accept(MakePacket(Nanos{0}, 2));  // 4 of 4
  EXPECT_EQ(queue.queued_packets(), 4u);
  EXPECT_EQ(queue.queued_bytes(), 4u * 1538);
  queue.accept(MakePacket(Nanos{0}, 3));
  EXPECT_EQ(sink.dropped.size(), 2u);

  // The super-frame takes three packet times on the wire.
  queue.advance(1s);
  ASSERT_EQ(sink.out.size(), 2u);
  EXPECT_EQ(sink.out[0].ts, kFullPacketAt100Mbit * 3);
  EXPECT_EQ(sink.out[1].ts, kFullPacketAt100Mbit * 4);
}

TEST(RateQueue, FullRingDropsAsBufferExhaustedNotQueueFull) {
  Sink sink;
  RateQueue queue(k100Mbit, {}, 2);
  queue.connect(sink, sink);
  for (std::uint64_t i = 0; i < 3; ++i) queue.accept(MakePacket(Nanos{0}, i));
  ASSERT_EQ(sink.dropped.size(), 1u);
  EXPECT_EQ(sink.dropped[0].second, DropCause::buffer_exhausted);
  EXPECT_EQ(queue.queued_packets(), 2u);
}

TEST(RateQueue, UnlimitedRatePassesStraightThrough) {
  Sink sink;
  QueueBound bound;
  bound.max_packets = 1;
  RateQueue queue(0, bound, 1);
  queue.connect(sink, sink);
  for (std::uint64_t i = 0; i < 100; ++i) queue.accept(MakePacket(Nanos{500}, i, 65'000, 45));
  ASSERT_EQ(sink.out.size(), 100u);
  EXPECT_TRUE(sink.dropped.empty());
  for (std::size_t i = 0; i < 100; ++i) {
    EXPECT_EQ(sink.out[i].ts, Nanos{500});
    EXPECT_EQ(sink.out[i].seq, i);
  }
  EXPECT_EQ(queue.next_wakeup(), kNever);
  EXPECT_EQ(queue.queued_packets(), 0u);
  EXPECT_EQ(queue.serialisation_time(1538), Nanos{0});
}

// ------------------------------------------------------------------ independent loss
// LossStage with an uncorrelated RandomLossConfig: each wire packet lost with probability p.

LossStageConfig IndependentLoss(double probability) {
  LossStageConfig config;
  config.model = RandomLossConfig{probability, 0.0};
  return config;
}

std::vector<std::uint64_t> LostSeqs(double probability, std::uint64_t seed, std::uint64_t count) {
  Sink sink;
  LossStage loss(IndependentLoss(probability), seed);
  loss.connect(sink, sink);
  for (std::uint64_t i = 0; i < count; ++i) loss.accept(MakePacket(Nanos{0}, i));
  std::vector<std::uint64_t> lost;
  for (const auto& [packet, cause] : sink.dropped) {
    EXPECT_EQ(cause, DropCause::loss);
    lost.push_back(packet.seq);
  }
  EXPECT_EQ(sink.out.size() + sink.dropped.size(), count);
  return lost;
}

// Smallest k with P(X <= k) >= q for X ~ Binomial(n, p), summed exactly in log space.
std::uint64_t BinomialQuantile(std::uint64_t n, double p, double q) {
  const double dn = static_cast<double>(n);
  double cdf = 0.0;
  for (std::uint64_t k = 0; k <= n; ++k) {
    const double dk = static_cast<double>(k);
    const double log_pmf = std::lgamma(dn + 1.0) - std::lgamma(dk + 1.0) -
                           std::lgamma(dn - dk + 1.0) + dk * std::log(p) +
                           (dn - dk) * std::log1p(-p);
    cdf += std::exp(log_pmf);
    if (cdf >= q) return k;
  }
  return n;
}

TEST(IndependentLoss, ObservedRateIsWithinTheBinomialInterval) {
  constexpr std::uint64_t kPackets = 200'000;
  constexpr double kP = 0.02;
  // Central 99.9% interval: 0.05% in each tail.
  const std::uint64_t low = BinomialQuantile(kPackets, kP, 0.0005);
  const std::uint64_t high = BinomialQuantile(kPackets, kP, 0.9995);
  // Sanity of the interval itself: mean 4000, sd sqrt(3920) = 62.6, z(0.9995) = 3.29.
  EXPECT_NEAR(static_cast<double>(low), 4000.0 - 3.29 * 62.6, 6.0);
  EXPECT_NEAR(static_cast<double>(high), 4000.0 + 3.29 * 62.6, 6.0);
  for (const std::uint64_t seed : {1ULL, 42ULL, 0xdecafbadULL}) {
    const std::size_t lost = LostSeqs(kP, seed, kPackets).size();
    EXPECT_GE(lost, low) << "seed " << seed;
    EXPECT_LE(lost, high) << "seed " << seed;
  }
}

TEST(IndependentLoss, SameSeedSameDropsDifferentSeedDifferentDrops) {
  const auto a = LostSeqs(0.1, 7, 10'000);
  const auto b = LostSeqs(0.1, 7, 10'000);
  const auto c = LostSeqs(0.1, 8, 10'000);
  EXPECT_FALSE(a.empty());
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
}

TEST(IndependentLoss, ZeroNeverDropsAndOneAlwaysDrops) {
  EXPECT_TRUE(LostSeqs(0.0, 3, 100'000).empty());
  EXPECT_EQ(LostSeqs(1.0, 3, 100'000).size(), 100'000u);
}

TEST(IndependentLoss, OneDrawPerWirePacketWhateverTheBatching) {
  // A 3-segment super-frame consumes three decisions, so the packets after it see
  // the same decisions as packets 3.. of a stream of single packets.
  constexpr std::uint64_t kSeed = 99;
  constexpr double kP = 0.5;
  Sink singles_sink;
  LossStage singles(IndependentLoss(kP), kSeed);
  singles.connect(singles_sink, singles_sink);
  std::vector<bool> single_lost;
  for (std::uint64_t i = 0; i < 40; ++i) {
    const std::size_t before = singles_sink.dropped.size();
    singles.accept(MakePacket(Nanos{0}, i));
    single_lost.push_back(singles_sink.dropped.size() != before);
  }

  Sink batched_sink;
  LossStage batched(IndependentLoss(kP), kSeed);
  batched.connect(batched_sink, batched_sink);
  batched.accept(MakePacket(Nanos{0}, 0, 3 * 1538, 3));
  const bool super_lost = !batched_sink.dropped.empty();
  EXPECT_EQ(super_lost, single_lost[0] || single_lost[1] || single_lost[2]);
  const bool partial = super_lost && !(single_lost[0] && single_lost[1] && single_lost[2]);
  EXPECT_EQ(batched.partial_super_frames(), partial ? 1u : 0u);
  for (std::uint64_t i = 3; i < 40; ++i) {
    const std::size_t before = batched_sink.dropped.size();
    batched.accept(MakePacket(Nanos{0}, i));
    EXPECT_EQ(batched_sink.dropped.size() != before, single_lost[i]) << "packet " << i;
  }
}

TEST(IndependentLoss, SuperFrameIsDroppedWholeWithItsSegments) {
  Sink sink;
  LossStage loss(IndependentLoss(1.0), 5);
  loss.connect(sink, sink);
  loss.accept(MakePacket(Nanos{10}, 0, 4 * 1538, 4));
  ASSERT_EQ(sink.dropped.size(), 1u);
  EXPECT_EQ(sink.dropped[0].first.segments, 4);
  EXPECT_EQ(loss.partial_super_frames(), 0u);
  EXPECT_EQ(loss.next_wakeup(), kNever);
}

}  // namespace
}  // namespace longhaul::core

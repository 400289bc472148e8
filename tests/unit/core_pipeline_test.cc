// One direction's pipeline: stage order, wire-byte accounting and counters that
// reconcile at every step (DESIGN.md rule 9).
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/pipeline.hh"

namespace longhaul::core {
namespace {

using namespace std::chrono_literals;

// Records what leaves the pipeline, with the reason for discards.
class Egress final : public PipelineEgress {
 public:
  void transmit(const Packet& packet) noexcept override { sent.push_back(packet); }
  void discard(const Packet& packet, DropCause cause) noexcept override {
    discarded.emplace_back(packet, cause);
  }

  std::uint64_t sent_packets() const {
    std::uint64_t n = 0;
    for (const Packet& p : sent) n += p.segments;
    return n;
  }
  std::uint64_t sent_bytes() const {
    std::uint64_t n = 0;
    for (const Packet& p : sent) n += p.l2_bytes;
    return n;
  }
  std::uint64_t discarded_packets(DropCause cause) const {
    std::uint64_t n = 0;
    for (const auto& [p, c] : discarded) n += c == cause ? p.segments : 0U;
    return n;
  }
  std::uint64_t discarded_bytes(DropCause cause) const {
    std::uint64_t n = 0;
    for (const auto& [p, c] : discarded) n += c == cause ? p.l2_bytes : 0U;
    return n;
  }

  std::vector<Packet> sent;
  std::vector<std::pair<Packet, DropCause>> discarded;
};

std::uint64_t At(const std::array<std::uint64_t, kDropCauseCount>& a, DropCause cause) {
  return a[static_cast<std::size_t>(cause)];
}

// A frame of `segments` wire packets of l2_bytes_each, stamped for `pipeline`.
Packet MakePacket(const Pipeline& pipeline, Nanos ts, std::uint64_t seq,
                  std::uint32_t l2_bytes_each = 1514, std::uint16_t segments = 1) {
  Packet packet;
  packet.ts = ts;
  packet.seq = seq;
  packet.buffer = static_cast<BufferHandle>(seq);
  packet.l2_bytes = l2_bytes_each * segments;
  packet.frame_bytes = packet.l2_bytes;
  packet.segments = segments;
  packet.wire_bytes = pipeline.wire_bytes(packet.l2_bytes, segments);
  return packet;
}

// Tracks what was pushed and checks the counters against it and against what the
// egress saw, so the reconciliation is not just the counters agreeing with themselves.
class Ledger {
 public:
  Ledger(Pipeline& pipeline, Egress& egress, DirectionCounters& counters)
      : pipeline_(pipeline), egress_(egress), counters_(counters) {}

  void push(const Packet& packet) {
    pipeline_.push(packet);
    frames_ += 1;
    packets_ += packet.segments;
    bytes_ += packet.l2_bytes;
    check("push " + std::to_string(packet.seq));
  }
  void advance(Nanos now) {
    pipeline_.advance(now);
    check("advance " + std::to_string(now.count()));
  }
  void check(const std::string& step) const {
    SCOPED_TRACE(step);
    const CountersSnapshot s = counters_.snapshot();
    EXPECT_TRUE(s.reconciles());
    EXPECT_EQ(s.frames_in, frames_);
    EXPECT_EQ(s.packets_in, packets_);
    EXPECT_EQ(s.bytes_in, bytes_);
    EXPECT_EQ(s.frames_out, egress_.sent.size());
    EXPECT_EQ(s.packets_out, egress_.sent_packets());
    EXPECT_EQ(s.bytes_out, egress_.sent_bytes());
    std::uint64_t dropped_packets = 0, dropped_bytes = 0;
    for (const DropCause cause :
         {DropCause::queue_full, DropCause::loss, DropCause::malformed, DropCause::buffer_exhausted,
          DropCause::tx_error, DropCause::aqm, DropCause::mtu}) {
      EXPECT_EQ(At(s.dropped_packets, cause), egress_.discarded_packets(cause))
          << drop_cause_name(cause);
      EXPECT_EQ(At(s.dropped_bytes, cause), egress_.discarded_bytes(cause))
          << drop_cause_name(cause);
      dropped_packets += egress_.discarded_packets(cause);
      dropped_bytes += egress_.discarded_bytes(cause);
    }
    EXPECT_EQ(packets_, s.packets_out + dropped_packets + s.packets_queued);
    EXPECT_EQ(bytes_, s.bytes_out + dropped_bytes + s.bytes_queued);
  }

 private:
  Pipeline& pipeline_;
  Egress& egress_;
  DirectionCounters& counters_;
  std::uint64_t frames_ = 0, packets_ = 0, bytes_ = 0;
};

constexpr std::uint64_t k100Mbit = 100'000'000;
// 1514 L2 bytes + 24 overhead = 1538 B = 12304 bits, 123.04 us at 100 Mbit/s.
constexpr Nanos kFullPacketAt100Mbit{123'040};

TEST(Pipeline, WireBytesPadToTheEthernetMinimumAndAddOverheadPerSegment) {
  Egress egress;
  DirectionCounters counters;
  DirectionConfig config;  // overhead 24 by default
  const Pipeline pipeline(config, 8, egress, counters);
  EXPECT_EQ(pipeline.wire_bytes(1514, 1), 1538u);
  EXPECT_EQ(pipeline.wire_bytes(60, 1), 84u);
  EXPECT_EQ(pipeline.wire_bytes(42, 1), 84u);  // ARP-sized frame padded to 60
  EXPECT_EQ(pipeline.wire_bytes(1, 1), 84u);
  EXPECT_EQ(pipeline.wire_bytes(3 * 1514, 3), 3u * 1538);
  EXPECT_EQ(pipeline.wire_bytes(2 * 54, 2), 2u * 84);  // two header-only segments

  config.overhead_bytes = 0;
  const Pipeline bare(config, 8, egress, counters);
  EXPECT_EQ(bare.wire_bytes(42, 1), 60u);
  EXPECT_EQ(bare.wire_bytes(1514, 1), 1514u);
  config.overhead_bytes = 38;
  const Pipeline vlan_overhead(config, 8, egress, counters);
  EXPECT_EQ(vlan_overhead.wire_bytes(4 * 1500, 4), 4u * 1538);
}

TEST(Pipeline, PacketLeavesAfterSerialisationThenPropagation) {
  Egress egress;
  DirectionCounters counters;
  DirectionConfig config;
  config.delay = 1ms;
  config.rate_bps = k100Mbit;
  Pipeline pipeline(config, 64, egress, counters);
  Ledger ledger(pipeline, egress, counters);

  const Nanos arrival{777};
  ledger.push(MakePacket(pipeline, arrival, 0));
  const Nanos serialised = arrival + kFullPacketAt100Mbit;
  const Nanos delivered = serialised + 1ms;
  EXPECT_EQ(pipeline.next_wakeup(), serialised);
  ledger.advance(serialised);
  EXPECT_TRUE(egress.sent.empty());
  EXPECT_EQ(pipeline.next_wakeup(), delivered);
  ledger.advance(delivered - Nanos{1});
  EXPECT_TRUE(egress.sent.empty());
  ledger.advance(delivered);
  ASSERT_EQ(egress.sent.size(), 1u);
  EXPECT_EQ(egress.sent[0].ts, delivered);
  EXPECT_EQ(pipeline.next_wakeup(), kNever);
}

TEST(Pipeline, LateAdvanceStillStampsTheModelTimes) {
  Egress egress;
  DirectionCounters counters;
  DirectionConfig config;
  config.delay = 20ms;
  config.rate_bps = k100Mbit;
  Pipeline pipeline(config, 64, egress, counters);
  for (std::uint64_t i = 0; i < 3; ++i) pipeline.push(MakePacket(pipeline, Nanos{0}, i));
  pipeline.advance(10s);
  ASSERT_EQ(egress.sent.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(egress.sent[i].ts, kFullPacketAt100Mbit * static_cast<std::int64_t>(i + 1) + 20ms);
  }
}

TEST(Pipeline, NoRateNoDelayTransmitsAtArrival) {
  Egress egress;
  DirectionCounters counters;
  const DirectionConfig config;
  Pipeline pipeline(config, 8, egress, counters);
  pipeline.push(MakePacket(pipeline, Nanos{5}, 0));
  ASSERT_EQ(egress.sent.size(), 1u);
  EXPECT_EQ(egress.sent[0].ts, Nanos{5});
  EXPECT_EQ(pipeline.next_wakeup(), kNever);
  EXPECT_TRUE(counters.snapshot().reconciles());
}

TEST(Pipeline, CountersReconcileAtEveryStepOfAScriptedRun) {
  Egress egress;
  DirectionCounters counters;
  DirectionConfig config;
  config.delay = 2ms;
  config.rate_bps = k100Mbit;
  config.queue.max_packets = 4;
  config.loss = 0.2;
  config.seed = 20240601;
  Pipeline pipeline(config, 256, egress, counters);
  Ledger ledger(pipeline, egress, counters);

  // Bursts of full-size frames, small frames and super-frames, faster than the link
  // drains them, with advances in between that are sometimes early and sometimes late.
  std::uint64_t seq = 0;
  Nanos now{0};
  for (int round = 0; round < 50; ++round) {
    for (int i = 0; i < 6; ++i) ledger.push(MakePacket(pipeline, now, seq++));
    ledger.push(MakePacket(pipeline, now, seq++, 60));
    ledger.push(MakePacket(pipeline, now, seq++, 1514, 2));
    now += kFullPacketAt100Mbit * (round % 7);
    ledger.advance(now);
    now += Nanos{round * 1'000};
    ledger.advance(now);
  }
  const CountersSnapshot mid = counters.snapshot();
  EXPECT_GT(At(mid.dropped_packets, DropCause::loss), 0u);
  EXPECT_GT(At(mid.dropped_packets, DropCause::queue_full), 0u);
  EXPECT_GT(mid.packets_out, 0u);

  ledger.advance(now + 10s);
  const CountersSnapshot end = counters.snapshot();
  EXPECT_EQ(end.packets_queued, 0u);
  EXPECT_EQ(end.bytes_queued, 0u);
  EXPECT_EQ(end.packets_in, end.packets_out + At(end.dropped_packets, DropCause::loss) +
                                At(end.dropped_packets, DropCause::queue_full));
  EXPECT_EQ(end.frames_in, 50u * 8);
  EXPECT_EQ(end.packets_in, 50u * 9);
  EXPECT_EQ(pipeline.next_wakeup(), kNever);
  // Delivered in arrival order.
  for (std::size_t i = 1; i < egress.sent.size(); ++i) {
    EXPECT_LT(egress.sent[i - 1].seq, egress.sent[i].seq);
    EXPECT_LE(egress.sent[i - 1].ts, egress.sent[i].ts);
  }
}

TEST(Pipeline, LossComesBeforeTheQueueSoALostPacketNeverOccupiesIt) {
  // A one-packet queue and 200 packets at once: of the packets the loss model
  // lets through, exactly the first is queued and every other one finds it full.
  // Were the queue first, 199 would be queue drops and at most one a loss.
  Egress egress;
  DirectionCounters counters;
  DirectionConfig config;
  config.rate_bps = k100Mbit;
  config.queue.max_packets = 1;
  config.loss = 0.5;
  config.seed = 3;
  Pipeline pipeline(config, 256, egress, counters);
  for (std::uint64_t i = 0; i < 200; ++i) pipeline.push(MakePacket(pipeline, Nanos{0}, i));
  pipeline.advance(1s);
  const CountersSnapshot s = counters.snapshot();
  const std::uint64_t lost = At(s.dropped_packets, DropCause::loss);
  EXPECT_GT(lost, 50u);
  EXPECT_LT(lost, 150u);
  EXPECT_EQ(At(s.dropped_packets, DropCause::queue_full), 200 - lost - 1);
  EXPECT_EQ(s.packets_out, 1u);
  EXPECT_TRUE(s.reconciles());
}

TEST(Pipeline, TotalLossLeavesTheQueueEmpty) {
  Egress egress;
  DirectionCounters counters;
  DirectionConfig config;
  config.rate_bps = k100Mbit;
  config.queue.max_packets = 1;
  config.delay = 5ms;
  config.loss = 1.0;
  Pipeline pipeline(config, 16, egress, counters);
  for (std::uint64_t i = 0; i < 10; ++i) pipeline.push(MakePacket(pipeline, Nanos{0}, i));
  EXPECT_EQ(pipeline.rate_queue().queued_packets(), 0u);
  EXPECT_EQ(pipeline.next_wakeup(), kNever);
  const CountersSnapshot s = counters.snapshot();
  EXPECT_EQ(At(s.dropped_packets, DropCause::loss), 10u);
  EXPECT_EQ(At(s.dropped_packets, DropCause::queue_full), 0u);
  EXPECT_EQ(s.packets_queued, 0u);
}

TEST(Pipeline, SameSeedSameLossesDifferentSeedDifferentLosses) {
  auto lost_seqs = [](std::uint64_t seed) {
    Egress egress;
    DirectionCounters counters;
    DirectionConfig config;
    config.loss = 0.1;
    config.seed = seed;
    Pipeline pipeline(config, 16, egress, counters);
    for (std::uint64_t i = 0; i < 5'000; ++i) pipeline.push(MakePacket(pipeline, Nanos{0}, i));
    std::vector<std::uint64_t> seqs;
    for (const auto& [packet, cause] : egress.discarded) seqs.push_back(packet.seq);
    return seqs;
  };
  EXPECT_EQ(lost_seqs(11), lost_seqs(11));
  EXPECT_NE(lost_seqs(11), lost_seqs(12));
}

TEST(Pipeline, SuperFrameCountsAsItsSegments) {
  Egress egress;
  DirectionCounters counters;
  DirectionConfig config;
  config.rate_bps = k100Mbit;
  Pipeline pipeline(config, 16, egress, counters);
  Ledger ledger(pipeline, egress, counters);
  const Packet super_frame = MakePacket(pipeline, Nanos{0}, 0, 1514, 5);
  EXPECT_EQ(super_frame.wire_bytes, 5u * 1538);
  ledger.push(super_frame);
  CountersSnapshot s = counters.snapshot();
  EXPECT_EQ(s.frames_in, 1u);
  EXPECT_EQ(s.packets_in, 5u);
  EXPECT_EQ(s.bytes_in, 5u * 1514);
  EXPECT_EQ(s.packets_queued, 5u);
  // It occupies the link for five packet times.
  EXPECT_EQ(pipeline.next_wakeup(), kFullPacketAt100Mbit * 5);
  ledger.advance(kFullPacketAt100Mbit * 5);
  s = counters.snapshot();
  EXPECT_EQ(s.frames_out, 1u);
  EXPECT_EQ(s.packets_out, 5u);
  EXPECT_EQ(s.bytes_out, 5u * 1514);
}

TEST(Pipeline, TransmitFailedMovesAPacketFromOutToTxError) {
  Egress egress;
  DirectionCounters counters;
  const DirectionConfig config;
  Pipeline pipeline(config, 16, egress, counters);
  pipeline.push(MakePacket(pipeline, Nanos{0}, 0));
  pipeline.push(MakePacket(pipeline, Nanos{0}, 1, 1514, 3));
  ASSERT_EQ(egress.sent.size(), 2u);
  pipeline.transmit_failed(egress.sent[1]);
  const CountersSnapshot s = counters.snapshot();
  EXPECT_EQ(s.frames_out, 1u);
  EXPECT_EQ(s.packets_out, 1u);
  EXPECT_EQ(s.bytes_out, 1514u);
  EXPECT_EQ(At(s.dropped_packets, DropCause::tx_error), 3u);
  EXPECT_EQ(At(s.dropped_bytes, DropCause::tx_error), 3u * 1514);
  EXPECT_EQ(s.packets_dropped(), 3u);
  EXPECT_EQ(s.bytes_dropped(), 3u * 1514);
  EXPECT_TRUE(s.reconciles());
}

TEST(Pipeline, RejectCountsInAndDroppedAndDiscards) {
  Egress egress;
  DirectionCounters counters;
  DirectionConfig config;
  config.delay = 1ms;
  Pipeline pipeline(config, 16, egress, counters);
  Packet bad;
  bad.ts = Nanos{9};
  bad.l2_bytes = 13;
  bad.frame_bytes = 13;
  pipeline.reject(bad, DropCause::malformed);
  Packet no_room = MakePacket(pipeline, Nanos{10}, 1);
  pipeline.reject(no_room, DropCause::buffer_exhausted);
  const CountersSnapshot s = counters.snapshot();
  EXPECT_EQ(s.frames_in, 2u);
  EXPECT_EQ(s.packets_in, 2u);
  EXPECT_EQ(s.bytes_in, 13u + 1514);
  EXPECT_EQ(At(s.dropped_packets, DropCause::malformed), 1u);
  EXPECT_EQ(At(s.dropped_bytes, DropCause::malformed), 13u);
  EXPECT_EQ(At(s.dropped_packets, DropCause::buffer_exhausted), 1u);
  EXPECT_EQ(s.packets_queued, 0u);
  EXPECT_TRUE(s.reconciles());
  ASSERT_EQ(egress.discarded.size(), 2u);
  EXPECT_EQ(egress.discarded[0].second, DropCause::malformed);
  EXPECT_EQ(egress.discarded[1].second, DropCause::buffer_exhausted);
  EXPECT_EQ(pipeline.next_wakeup(), kNever);
}

TEST(Pipeline, NeedsWirePacketsOnlyWithLoss) {
  DirectionConfig config;
  EXPECT_FALSE(config.needs_wire_packets());
  config.rate_bps = k100Mbit;
  config.delay = 1s;
  EXPECT_FALSE(config.needs_wire_packets());
  config.loss = 0.001;
  EXPECT_TRUE(config.needs_wire_packets());
}

TEST(Pipeline, DropCauseNamesAreStable) {
  EXPECT_STREQ(drop_cause_name(DropCause::queue_full), "queue_full");
  EXPECT_STREQ(drop_cause_name(DropCause::loss), "loss");
  EXPECT_STREQ(drop_cause_name(DropCause::malformed), "malformed");
  EXPECT_STREQ(drop_cause_name(DropCause::buffer_exhausted), "buffer_exhausted");
  EXPECT_STREQ(drop_cause_name(DropCause::tx_error), "tx_error");
}

}  // namespace
}  // namespace longhaul::core

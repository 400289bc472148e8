// Queue disciplines of the bottleneck (drop-head, RED, CoDel, PIE), ECN marking
// and cell framing, on explicit time.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "core/pipeline.hh"
#include "core/rate_queue.hh"
#include "support/stage_sink.hh"

namespace longhaul::core {
namespace {

using namespace std::chrono_literals;
using Sink = test_support::StageSink;

constexpr std::uint64_t k10Mbit = 10'000'000;
// 1538 wire bytes at 10 Mbit/s: 12304 bits / 1e7 = 1230.4 us.
constexpr Nanos kPacketTime{1'230'400};

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

// IPv4 frames, ECT(0) for even buffers and Not-ECT for odd ones.
class FakeBytes final : public PacketBytes {
 public:
  explicit FakeBytes(std::size_t count) : frames_(count) {
    for (std::size_t i = 0; i < count; ++i) {
      auto& frame = frames_[i];
      frame.fill(std::byte{0});
      frame[12] = std::byte{0x08};
      frame[14] = std::byte{0x45};
      frame[15] = static_cast<std::byte>(i % 2 == 0 ? 2U : 0U);
    }
  }
  std::span<std::byte> bytes(const Packet& packet) noexcept override {
    return frames_[packet.buffer];
  }
  unsigned ecn(std::size_t i) const { return std::to_integer<unsigned>(frames_[i][15]) & 3U; }

 private:
  std::vector<std::array<std::byte, 64>> frames_;
};

// ------------------------------------------------------------------ cells

class NullEgress final : public PipelineEgress {
 public:
  void transmit(const Packet&) noexcept override {}
  void discard(const Packet&, DropCause) noexcept override {}
};

TEST(AqmCells, AtmCellArithmetic) {
  DirectionConfig config;
  config.cell_bytes = 53;
  config.cell_payload_bytes = 48;
  NullEgress egress;
  DirectionCounters counters;
  Pipeline pipeline(config, 16, egress, counters);
  // 1514 + 24 = 1538 bytes -> ceil(1538 / 48) = 33 cells -> 33 * 53 = 1749.
  EXPECT_EQ(pipeline.wire_bytes(1514, 1), 1749u);
  // A minimum frame: 60 + 24 = 84 -> 2 cells.
  EXPECT_EQ(pipeline.wire_bytes(42, 1), 106u);
  // Exactly one cell's payload: 24 + 24 = 48 -> but padded to 60 first: 84 -> 2 cells.
  EXPECT_EQ(pipeline.wire_bytes(60, 1), 106u);
  // Each segment of a super-frame is framed on its own.
  EXPECT_EQ(pipeline.wire_bytes(3 * 1514, 3), 3u * 1749);
  config.overhead_bytes = 0;
  Pipeline bare(config, 16, egress, counters);
  EXPECT_EQ(bare.wire_bytes(96, 1), 2u * 53);  // exactly two cells' payload
  EXPECT_EQ(bare.wire_bytes(97, 1), 3u * 53);
}

// ------------------------------------------------------------------ drop-head

TEST(AqmDropHead, DropsTheOldestWaitingPacketNotTheOneOnTheWire) {
  Sink sink;
  QueueBound bound;
  bound.max_packets = 3;
  QueueConfig config;
  config.discipline = QueueDiscipline::drop_head;
  RateQueue queue(k10Mbit, bound, 64, config);
  queue.connect(sink, sink);
  for (std::uint64_t i = 0; i < 5; ++i) queue.accept(MakePacket(Nanos{0}, i));
  ASSERT_EQ(sink.dropped.size(), 2u);
  EXPECT_EQ(sink.dropped[0].first.seq, 1u);
  EXPECT_EQ(sink.dropped[1].first.seq, 2u);
  EXPECT_EQ(sink.dropped[0].second, DropCause::queue_full);
  EXPECT_EQ(queue.aqm_dropped(), 2u);
  queue.advance(1s);
  ASSERT_EQ(sink.out.size(), 3u);
  EXPECT_EQ(sink.out[0].seq, 0u);
  EXPECT_EQ(sink.out[1].seq, 3u);
  EXPECT_EQ(sink.out[2].seq, 4u);
  // Departures stay back to back: dropping waiting packets does not disturb the link.
  EXPECT_EQ(sink.out[2].ts, kPacketTime * 3);
}

TEST(AqmDropHead, TimeLimitMakesRoomByDroppingTheOldest) {
  Sink sink;
  QueueBound bound;
  bound.max_delay = kPacketTime * 3;
  QueueConfig config;
  config.discipline = QueueDiscipline::drop_head;
  RateQueue queue(k10Mbit, bound, 64, config);
  queue.connect(sink, sink);
  for (std::uint64_t i = 0; i < 6; ++i) queue.accept(MakePacket(Nanos{0}, i));
  queue.advance(1s);
  ASSERT_EQ(sink.out.size(), 3u);
  EXPECT_EQ(sink.out[0].seq, 0u);
  EXPECT_EQ(sink.out[1].seq, 4u);
  EXPECT_EQ(sink.out[2].seq, 5u);
  EXPECT_EQ(sink.out[2].ts, kPacketTime * 3);
}

// ------------------------------------------------------------------ CoDel

struct CodelRun {
  std::vector<Nanos> drop_times;  // approximate: the arrival that triggered the decision
  std::vector<Nanos> sojourns;    // of delivered packets, by departure order
  std::vector<Nanos> departures;
};

// Constant-rate arrivals at `load` times the link rate for `duration`.
CodelRun RunCodel(double load, Nanos duration, QueueConfig config = {}, FakeBytes* bytes = nullptr,
                  Sink* sink_out = nullptr, RateQueue** queue_out = nullptr) {
  config.discipline = QueueDiscipline::codel;
  Sink local;
  Sink& sink = sink_out != nullptr ? *sink_out : local;
  RateQueue queue(k10Mbit, {}, 1'000'000, config, 1, bytes);
  queue.connect(sink, sink);
  const auto spacing =
      Nanos{static_cast<std::int64_t>(static_cast<double>(kPacketTime.count()) / load)};
  CodelRun run;
  std::size_t seen_drops = 0;
  std::uint64_t seq = 0;
  for (Nanos t{0}; t < duration; t += spacing, ++seq) {
    queue.accept(MakePacket(t, seq));
    for (; seen_drops < sink.dropped.size(); ++seen_drops) run.drop_times.push_back(t);
  }
  queue.advance(duration + 10s);
  for (const Packet& p : sink.out) {
    const Nanos arrival = spacing * static_cast<std::int64_t>(p.seq);
    run.sojourns.push_back(p.ts - kPacketTime - arrival);
    run.departures.push_back(p.ts);
  }
  if (queue_out != nullptr) *queue_out = nullptr;
  return run;
}

TEST(AqmCodel, FirstDropComesOneIntervalAfterSojournExceedsTarget) {
  const CodelRun run = RunCodel(1.2, 3s);
  ASSERT_GE(run.drop_times.size(), 6u);
  // Sojourn reaches 5 ms after about 5 ms / (1 - 1/1.2) = 30 ms of arrivals; the
  // first drop is one interval (100 ms) later.
  EXPECT_GE(run.drop_times[0], 100ms);
  EXPECT_LE(run.drop_times[0], 140ms);
  // Then drops follow interval / sqrt(count): 100, 70.7, 57.7, 50, 44.7 ms.
  for (std::size_t k = 1; k <= 5; ++k) {
    const double expected_ms = 100.0 / std::sqrt(static_cast<double>(k));
    const double gap_ms =
        static_cast<double>((run.drop_times[k] - run.drop_times[k - 1]).count()) / 1e6;
    EXPECT_NEAR(gap_ms, expected_ms, 1.5) << "gap " << k;
  }
}

TEST(AqmCodel, KeepsSojournNearTargetUnderStandingOverload) {
  const CodelRun run = RunCodel(1.1, 30s);
  // Drop-tail without a limit would reach 30 s * (1 - 1/1.1) = 2.7 s of queue.
  double total = 0;
  std::size_t n = 0;
  for (std::size_t i = 0; i < run.departures.size(); ++i) {
    if (run.departures[i] < 20s || run.departures[i] > 30s) continue;
    total += static_cast<double>(run.sojourns[i].count()) / 1e6;
    ++n;
  }
  ASSERT_GT(n, 1000u);
  const double mean_ms = total / static_cast<double>(n);
  EXPECT_LT(mean_ms, 25.0);
  EXPECT_GT(mean_ms, 1.0);
}

// ------------------------------------------------------------------ ECN

TEST(AqmEcn, CodelMarksEctPacketsAndDropsNotEctOnes) {
  constexpr std::size_t kCount = 6000;
  FakeBytes bytes(kCount);
  QueueConfig config;
  config.ecn = true;
  Sink sink;
  RunCodel(1.2, Nanos{static_cast<std::int64_t>(kCount - 1) * kPacketTime.count() / 12 * 10},
           config, &bytes, &sink);
  ASSERT_FALSE(sink.dropped.empty());
  for (const auto& [packet, cause] : sink.dropped) EXPECT_EQ(packet.seq % 2, 1u);
  std::size_t marked = 0;
  for (const Packet& p : sink.out) {
    if (bytes.ecn(p.buffer) == 3) {
      EXPECT_EQ(p.seq % 2, 0u);
      ++marked;
    }
  }
  EXPECT_GT(marked, 3u);
}

TEST(AqmEcn, WithoutEcnEctPacketsAreDropped) {
  constexpr std::size_t kCount = 6000;
  FakeBytes bytes(kCount);
  Sink sink;
  RunCodel(1.2, Nanos{static_cast<std::int64_t>(kCount - 1) * kPacketTime.count() / 12 * 10}, {},
           &bytes, &sink);
  bool ect_dropped = false;
  for (const auto& [packet, cause] : sink.dropped) ect_dropped |= packet.seq % 2 == 0;
  EXPECT_TRUE(ect_dropped);
  for (std::size_t i = 0; i < kCount; i += 2) EXPECT_EQ(bytes.ecn(i), 2u);
}

// ------------------------------------------------------------------ RED

// Holds the backlog at `level` packets: at each service instant, offers packets
// until one is admitted. With weight 1 the average is the backlog itself.
double RedDropFraction(std::uint64_t level, std::uint64_t seed) {
  Sink sink;
  QueueConfig config;
  config.discipline = QueueDiscipline::red;
  config.red.min_bytes = 10 * 1538;
  config.red.max_bytes = 30 * 1538;
  config.red.max_probability = 0.1;
  config.red.weight = 1.0;
  RateQueue queue(k10Mbit, {}, 100'000, config, seed);
  queue.connect(sink, sink);
  std::uint64_t seq = 0;
  for (std::uint64_t i = 0; i < level; ++i) queue.accept(MakePacket(Nanos{0}, seq++));
  std::uint64_t decisions = 0;
  std::size_t drops_before = sink.dropped.size();
  for (std::int64_t k = 1; k <= 20'000; ++k) {
    const Nanos t = kPacketTime * k;
    for (;;) {
      queue.accept(MakePacket(t, seq++));
      ++decisions;
      if (sink.dropped.size() == drops_before) break;
      drops_before = sink.dropped.size();
    }
  }
  return static_cast<double>(sink.dropped.size()) / static_cast<double>(decisions);
}

TEST(AqmRed, DropProbabilityRampsBetweenThresholds) {
  EXPECT_EQ(RedDropFraction(8, 7), 0.0);  // below min: never
  double previous = 0.0;
  for (const std::uint64_t level : {15u, 20u, 25u}) {
    const double fraction = RedDropFraction(level, 7);
    // Backlog at the decision is level packets (one departs as one arrives).
    const double pb = 0.1 * (static_cast<double>(level) - 10.0) / 20.0;
    // Drops spaced uniformly between 1 and 1/pb packets: fraction 2 pb / (1 + pb).
    const double expected = 2 * pb / (1 + pb);
    EXPECT_NEAR(fraction, expected, expected * 0.25) << "level " << level;
    EXPECT_GT(fraction, previous);
    previous = fraction;
  }
}

TEST(AqmRed, AboveTheMaximumEveryArrivalIsDropped) {
  Sink sink;
  QueueConfig config;
  config.discipline = QueueDiscipline::red;
  config.red.min_bytes = 10 * 1538;
  config.red.max_bytes = 30 * 1538;
  config.red.weight = 1.0;
  RateQueue queue(k10Mbit, {}, 1000, config, 7);
  queue.connect(sink, sink);
  for (std::uint64_t i = 0; i < 200; ++i) queue.accept(MakePacket(Nanos{0}, i));
  EXPECT_LE(queue.queued_packets(), 31u);
  EXPECT_GE(sink.dropped.size(), 169u);
  EXPECT_EQ(queue.aqm_dropped(), sink.dropped.size());
  // Early drops have their own cause; the hard limit's stay queue_full.
  for (const auto& [packet, cause] : sink.dropped) EXPECT_EQ(cause, DropCause::aqm) << packet.seq;
}

TEST(AqmRed, DefaultThresholdsFollowTcRed) {
  QueueBound bound;
  bound.max_bytes = 1'200'000;
  const auto red = red_thresholds(k10Mbit, bound, {});
  EXPECT_EQ(red.max_bytes, 300'000u);
  EXPECT_EQ(red.min_bytes, 100'000u);
}

// ------------------------------------------------------------------ PIE

TEST(AqmPie, ProbabilityRisesUnderOverloadAndFallsWhenItClears) {
  Sink sink;
  QueueConfig config;
  config.discipline = QueueDiscipline::pie;
  RateQueue queue(k10Mbit, {}, 1'000'000, config, 3);
  queue.connect(sink, sink);
  const auto spacing = Nanos{kPacketTime.count() * 2 / 3};  // 1.5x the rate
  std::uint64_t seq = 0;
  Nanos t{0};
  for (; t < 5s; t += spacing) queue.accept(MakePacket(t, seq++));
  const double peak = queue.pie_probability();
  EXPECT_GT(peak, 0.1);
  EXPECT_GT(queue.aqm_dropped(), 100u);
  // Under control: the queue delay sits near the 15 ms target, not 5 s * 1/3.
  EXPECT_LT(queue.queued_bytes() * 8 * 1000 / k10Mbit, 200u);
  // Offered load falls to half the rate.
  const auto slow = kPacketTime * 2;
  for (; t < 10s; t += slow) queue.accept(MakePacket(t, seq++));
  EXPECT_LT(queue.pie_probability(), peak / 10);
}

}  // namespace
}  // namespace longhaul::core

// Duplication, corruption and netem-style reordering on a virtual timeline
// with fixed seeds, against fakes of the engine's PacketCloner and PacketBytes.
// Corruption is checked on real IPv4/UDP and IPv6/TCP frames: the receiver's
// checksum must fail. Tolerances are about 5 standard errors and stated.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "core/corrupt.hh"
#include "core/delay_line.hh"
#include "core/duplicate.hh"
#include "core/frame.hh"
#include "core/jitter_delay.hh"
#include "core/reorder.hh"
#include "support/stage_sink.hh"

namespace longhaul::core {
namespace {

using namespace std::chrono_literals;

using Sink = test_support::StageSink;

Packet MakePacket(Nanos ts, std::uint64_t seq, std::uint32_t frame_bytes = 1514,
                  std::uint16_t segments = 1) {
  Packet packet;
  packet.ts = ts;
  packet.seq = seq;
  packet.buffer = static_cast<BufferHandle>(seq);
  packet.frame_bytes = frame_bytes;
  packet.wire_bytes = (frame_bytes + 24) * segments;
  packet.l2_bytes = frame_bytes * segments;
  packet.segments = segments;
  return packet;
}

// ------------------------------------------------------------- duplication

class FakeCloner final : public PacketCloner {
 public:
  std::optional<BufferHandle> clone(const Packet&) noexcept override {
    ++calls;
    if (fail) return std::nullopt;
    return next_handle++;
  }
  int calls = 0;
  bool fail = false;
  BufferHandle next_handle = 1'000'000'000;
};

TEST(Duplicate, CopyFollowsTheOriginalAtTheSameInstantWithItsOwnBuffer) {
  FakeCloner cloner;
  Sink sink;
  Duplicate stage({1.0, 0.0, CorrelationModel::preserving}, 1, cloner);
  stage.connect(sink, sink);
  stage.accept(MakePacket(Nanos{42}, 7));
  ASSERT_EQ(sink.out.size(), 2u);
  EXPECT_EQ(sink.out[0].buffer, 7u);  // the original first
  EXPECT_EQ(sink.out[1].buffer, 1'000'000'000u);
  EXPECT_EQ(sink.out[1].seq, 7u);
  EXPECT_EQ(sink.out[1].ts, Nanos{42});
  EXPECT_EQ(sink.out[1].wire_bytes, sink.out[0].wire_bytes);
  EXPECT_EQ(stage.duplicated(), 1u);
  EXPECT_EQ(cloner.calls, 1);
}

// Counts originals and copies (copies have the cloner's handles) without storing.
class CopyCounter final : public PacketOutlet, public DropOutlet {
 public:
  void accept(const Packet& packet) noexcept override {
    if (packet.buffer >= 1'000'000'000u) {
      ++copies;
      if (previous_copied) ++repeats;
      copied_now = true;
    } else {
      ++originals;
      previous_copied = copied_now;
      copied_now = false;
    }
  }
  void drop(const Packet&, DropCause) noexcept override {}
  std::uint64_t originals = 0, copies = 0, repeats = 0;

 private:
  bool previous_copied = false;
  bool copied_now = false;
};

// 1e6 packets at 1%: 10000 copies, standard error 99.5. Tolerance 500.
TEST(Duplicate, DuplicationFractionMatches) {
  FakeCloner cloner;
  CopyCounter counter;
  Duplicate stage({0.01, 0.0, CorrelationModel::preserving}, 2, cloner);
  stage.connect(counter, counter);
  for (std::uint64_t i = 0; i < 1'000'000; ++i) {
    stage.accept(MakePacket(Nanos{static_cast<std::int64_t>(i)}, i));
  }
  EXPECT_NEAR(static_cast<double>(stage.duplicated()), 10000.0, 500.0);
  EXPECT_EQ(counter.originals, 1'000'000u);
  EXPECT_EQ(counter.copies, stage.duplicated());
  EXPECT_EQ(static_cast<std::uint64_t>(cloner.calls), stage.duplicated());
}

// Preserving correlation: the rate stays P and P(copy | previous copied) =
// P + rho (1 - P). 1e6 packets at 5%, rho 40%: rate standard error 2.9e-4
// (tolerance 1.5e-3), conditional 0.43 +- 0.004 (tolerance 0.02).
TEST(Duplicate, CorrelatedDuplicationKeepsTheRate) {
  FakeCloner cloner;
  CopyCounter counter;
  Duplicate stage({0.05, 0.4, CorrelationModel::preserving}, 3, cloner);
  stage.connect(counter, counter);
  for (std::uint64_t i = 0; i < 1'000'000; ++i) stage.accept(MakePacket(Nanos{0}, i));
  EXPECT_NEAR(static_cast<double>(counter.copies) / 1e6, 0.05, 1.5e-3);
  EXPECT_NEAR(static_cast<double>(counter.repeats) / static_cast<double>(counter.copies),
              0.05 + 0.4 * 0.95, 0.02);
}

TEST(Duplicate, FailedCloneIsCountedAndTheOriginalStillPasses) {
  FakeCloner cloner;
  cloner.fail = true;
  Sink sink;
  Duplicate stage({1.0, 0.0, CorrelationModel::preserving}, 4, cloner);
  stage.connect(sink, sink);
  for (std::uint64_t i = 0; i < 10; ++i) stage.accept(MakePacket(Nanos{0}, i));
  EXPECT_EQ(sink.out.size(), 10u);
  EXPECT_EQ(stage.clone_failures(), 10u);
  EXPECT_EQ(stage.duplicated(), 0u);
}

TEST(Duplicate, DisabledNeverClonesAndSuperFramesDecidePerSegment) {
  FakeCloner cloner;
  Sink sink;
  Duplicate off({0.0, 0.0, CorrelationModel::preserving}, 5, cloner);
  off.connect(sink, sink);
  for (std::uint64_t i = 0; i < 100; ++i) off.accept(MakePacket(Nanos{0}, i));
  EXPECT_EQ(cloner.calls, 0);
  EXPECT_FALSE(DuplicateConfig{}.needs_wire_packets());

  Duplicate on({0.1, 0.0, CorrelationModel::preserving}, 5, cloner);
  on.connect(sink, sink);
  for (std::uint64_t i = 0; i < 1000; ++i) on.accept(MakePacket(Nanos{0}, i, 60000, 40));
  // P(some of 40 segments chosen) = 1 - 0.9^40 = 0.985.
  EXPECT_GT(on.duplicated(), 950u);
  EXPECT_GT(on.partial_super_frames(), 900u);
}

TEST(Duplicate, SameSeedSameCopies) {
  auto run = [](std::uint64_t seed) {
    FakeCloner cloner;
    Sink sink;
    Duplicate stage({0.2, 0.3, CorrelationModel::preserving}, seed, cloner);
    stage.connect(sink, sink);
    for (std::uint64_t i = 0; i < 5000; ++i) stage.accept(MakePacket(Nanos{0}, i));
    std::vector<std::uint64_t> seqs;
    for (const Packet& p : sink.out) seqs.push_back(p.seq);
    return seqs;
  };
  EXPECT_EQ(run(6), run(6));
  EXPECT_NE(run(6), run(7));
}

// -------------------------------------------------------------- corruption

// Internet checksum helpers (RFC 1071).
std::uint32_t AddWords(std::span<const std::byte> bytes, std::uint32_t sum) {
  for (std::size_t i = 0; i < bytes.size(); i += 2) {
    const std::uint32_t high = std::to_integer<std::uint32_t>(bytes[i]) << 8;
    const std::uint32_t low =
        i + 1 < bytes.size() ? std::to_integer<std::uint32_t>(bytes[i + 1]) : 0;
    sum += high | low;
  }
  return sum;
}
std::uint16_t Fold(std::uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
  return static_cast<std::uint16_t>(sum);
}
void Put16(std::vector<std::byte>& frame, std::size_t at, std::uint32_t value) {
  frame[at] = static_cast<std::byte>((value >> 8) & 0xFF);
  frame[at + 1] = static_cast<std::byte>(value & 0xFF);
}

struct Shape {
  bool ipv6;
  bool tcp;
};

std::size_t L3Offset() {
  return 14;
}
std::size_t L4Offset(Shape s) {
  return 14 + (s.ipv6 ? 40 : 20);
}
std::size_t HeaderBytes(Shape s) {
  return L4Offset(s) + (s.tcp ? 20 : 8);
}

// Sum of the pseudo-header and the L4 segment, the checksum field included.
std::uint32_t L4Sum(const std::vector<std::byte>& frame, Shape s) {
  const std::size_t l4 = L4Offset(s);
  const auto l4_length = static_cast<std::uint32_t>(frame.size() - l4);
  std::uint32_t sum = 0;
  const std::span<const std::byte> all(frame);
  if (s.ipv6) {
    sum = AddWords(all.subspan(L3Offset() + 8, 32), sum);  // addresses
  } else {
    sum = AddWords(all.subspan(L3Offset() + 12, 8), sum);
  }
  sum += l4_length + (s.tcp ? 6U : 17U);
  return AddWords(all.subspan(l4), sum);
}

std::vector<std::byte> Frame(Shape s, std::size_t payload, unsigned seed = 1) {
  std::vector<std::byte> frame(HeaderBytes(s) + payload, std::byte{0});
  Put16(frame, 12, s.ipv6 ? 0x86DD : 0x0800);
  const std::size_t l3 = L3Offset();
  const std::size_t l4 = L4Offset(s);
  const std::uint8_t protocol = s.tcp ? 6 : 17;
  if (s.ipv6) {
    frame[l3] = std::byte{0x60};
    Put16(frame, l3 + 4, static_cast<std::uint32_t>(frame.size() - l4));
    frame[l3 + 6] = static_cast<std::byte>(protocol);
    frame[l3 + 7] = std::byte{64};
    for (std::size_t i = 0; i < 32; ++i) frame[l3 + 8 + i] = static_cast<std::byte>(i * 13 + 1);
  } else {
    frame[l3] = std::byte{0x45};
    Put16(frame, l3 + 2, static_cast<std::uint32_t>(frame.size() - l3));
    frame[l3 + 8] = std::byte{64};
    frame[l3 + 9] = static_cast<std::byte>(protocol);
    for (std::size_t i = 0; i < 8; ++i) frame[l3 + 12 + i] = static_cast<std::byte>(i * 29 + 3);
    Put16(frame, l3 + 10,
          static_cast<std::uint16_t>(~Fold(AddWords(std::span(frame).subspan(l3, 20), 0))));
  }
  Put16(frame, l4, 40000);
  Put16(frame, l4 + 2, 5201);
  if (s.tcp) {
    frame[l4 + 12] = std::byte{0x50};  // data offset 5 words
  } else {
    Put16(frame, l4 + 4, static_cast<std::uint32_t>(frame.size() - l4));
  }
  std::uint32_t x = seed;
  for (std::size_t i = HeaderBytes(s); i < frame.size(); ++i) {
    x = x * 1103515245 + 12345;
    frame[i] = static_cast<std::byte>(x >> 16);
  }
  const std::size_t checksum_at = l4 + (s.tcp ? 16 : 6);
  Put16(frame, checksum_at, static_cast<std::uint16_t>(~Fold(L4Sum(frame, s))));
  return frame;
}

bool ChecksumOk(const std::vector<std::byte>& frame, Shape s) {
  return Fold(L4Sum(frame, s)) == 0xFFFF;
}

int BitsDiffering(const std::vector<std::byte>& a, const std::vector<std::byte>& b,
                  std::size_t from, std::size_t to) {
  int bits = 0;
  for (std::size_t i = from; i < to; ++i) {
    bits += std::popcount(std::to_integer<unsigned>(a[i] ^ b[i]));
  }
  return bits;
}

// Gives the stage a fresh copy of one template frame per fetch and keeps the
// result for inspection.
class FrameBytes final : public PacketBytes {
 public:
  explicit FrameBytes(std::vector<std::byte> frame) : pristine(std::move(frame)) {}
  std::span<std::byte> bytes(const Packet& packet) noexcept override {
    ++fetches;
    last_seq = packet.seq;
    scratch = pristine;
    return scratch;
  }
  std::vector<std::byte> pristine;
  std::vector<std::byte> scratch;
  std::uint64_t fetches = 0;
  std::uint64_t last_seq = UINT64_MAX;
};

// Per packet, after the stage: flipped bits in headers and payload.
class FlipCounter final : public PacketOutlet, public DropOutlet {
 public:
  FlipCounter(FrameBytes& store, std::size_t header) : store_(store), header_(header) {}
  void accept(const Packet& packet) noexcept override {
    ++packets;
    if (store_.last_seq != packet.seq) {
      per_packet.push_back(0);
      return;
    }
    header_flips += BitsDiffering(store_.pristine, store_.scratch, 0, header_);
    const int flips =
        BitsDiffering(store_.pristine, store_.scratch, header_, store_.pristine.size());
    payload_flips += flips;
    per_packet.push_back(flips);
    store_.last_seq = UINT64_MAX;
  }
  void drop(const Packet&, DropCause) noexcept override { ++dropped; }
  std::uint64_t packets = 0, dropped = 0;
  std::int64_t header_flips = 0, payload_flips = 0;
  std::vector<int> per_packet;

 private:
  FrameBytes& store_;
  std::size_t header_;
};

TEST(Corrupt, PerPacketModeFlipsExactlyOnePayloadBitAndTheChecksumCatchesIt) {
  for (const Shape s :
       {Shape{false, false}, Shape{false, true}, Shape{true, false}, Shape{true, true}}) {
    SCOPED_TRACE(testing::Message() << (s.ipv6 ? "IPv6" : "IPv4") << (s.tcp ? "/TCP" : "/UDP"));
    FrameBytes store(Frame(s, 1000));
    ASSERT_TRUE(ChecksumOk(store.pristine, s));
    ASSERT_EQ(l4_payload_offset(store.pristine), HeaderBytes(s));
    FlipCounter counter(store, HeaderBytes(s));
    CorruptConfig config;
    config.probability = 1.0;
    Corrupt stage(config, 1, store);
    stage.connect(counter, counter);
    for (std::uint64_t i = 0; i < 200; ++i) {
      stage.accept(MakePacket(Nanos{0}, i, static_cast<std::uint32_t>(store.pristine.size())));
      ASSERT_EQ(counter.per_packet.back(), 1);
      EXPECT_FALSE(ChecksumOk(store.scratch, s));
    }
    EXPECT_EQ(counter.header_flips, 0);
    EXPECT_EQ(stage.corrupted_frames(), 200u);
    EXPECT_EQ(stage.flipped_bits(), 200u);
  }
}

// 200000 packets at 1%: 2000 corrupted, standard error 44.5. Tolerance 225.
TEST(Corrupt, PerPacketFractionMatches) {
  const Shape s{false, true};
  FrameBytes store(Frame(s, 1448));
  FlipCounter counter(store, HeaderBytes(s));
  CorruptConfig config;
  config.probability = 0.01;
  Corrupt stage(config, 2, store);
  stage.connect(counter, counter);
  for (std::uint64_t i = 0; i < 200'000; ++i) {
    stage.accept(MakePacket(Nanos{0}, i, static_cast<std::uint32_t>(store.pristine.size())));
  }
  EXPECT_NEAR(static_cast<double>(stage.corrupted_frames()), 2000.0, 225.0);
  EXPECT_EQ(store.fetches, stage.corrupted_frames());  // bytes fetched only when needed
  EXPECT_EQ(counter.packets, 200'000u);
}

// BER 1e-5 on 1460-byte payloads (11680 bits): flips per packet are
// Binomial(11680, 1e-5), mean 0.1168, P(at least one) = 1 - (1-1e-5)^11680 =
// 0.11027. 100000 packets: total flips 11680 +- 108 (tolerance 550), fraction
// hit 0.1103 +- 0.001 (tolerance 0.005). Headers are never touched.
TEST(Corrupt, BitErrorRateGivesBinomialFlipsInThePayloadOnly) {
  const Shape s{false, false};
  FrameBytes store(Frame(s, 1460));
  FlipCounter counter(store, HeaderBytes(s));
  CorruptConfig config;
  config.bit_error_rate = 1e-5;
  Corrupt stage(config, 3, store);
  stage.connect(counter, counter);
  constexpr std::uint64_t kPackets = 100'000;
  for (std::uint64_t i = 0; i < kPackets; ++i) {
    stage.accept(MakePacket(Nanos{0}, i, static_cast<std::uint32_t>(store.pristine.size())));
  }
  EXPECT_EQ(counter.header_flips, 0);
  EXPECT_NEAR(static_cast<double>(counter.payload_flips), 11680.0, 550.0);
  EXPECT_EQ(static_cast<std::uint64_t>(counter.payload_flips), stage.flipped_bits());
  std::size_t hit = 0;
  for (int flips : counter.per_packet) hit += flips > 0 ? 1U : 0U;
  EXPECT_NEAR(static_cast<double>(hit) / kPackets, 1.0 - std::pow(1.0 - 1e-5, 11680.0), 0.005);
  EXPECT_EQ(stage.corrupted_frames(), hit);
}

// A tiny BER costs nothing per packet: 1e6 packets at 1e-12 (1.2e10 bits,
// 0.012 expected errors) fetch the bytes at most once or twice.
TEST(Corrupt, TinyBitErrorRateIsCheap) {
  const Shape s{true, true};
  FrameBytes store(Frame(s, 1440));
  FlipCounter counter(store, HeaderBytes(s));
  CorruptConfig config;
  config.bit_error_rate = 1e-12;
  Corrupt stage(config, 4, store);
  stage.connect(counter, counter);
  for (std::uint64_t i = 0; i < 1'000'000; ++i) {
    stage.accept(MakePacket(Nanos{0}, i, static_cast<std::uint32_t>(store.pristine.size())));
  }
  EXPECT_LE(store.fetches, 2u);
  EXPECT_EQ(counter.packets, 1'000'000u);
}

// At a high BER every error position is checked: only payload bits change and
// the checksum fails whenever an odd number of bits flipped in some column.
TEST(Corrupt, HighBitErrorRateLeavesHeadersAlone) {
  const Shape s{true, false};
  FrameBytes store(Frame(s, 500));
  FlipCounter counter(store, HeaderBytes(s));
  CorruptConfig config;
  config.bit_error_rate = 0.01;
  Corrupt stage(config, 5, store);
  stage.connect(counter, counter);
  for (std::uint64_t i = 0; i < 2000; ++i) {
    stage.accept(MakePacket(Nanos{0}, i, static_cast<std::uint32_t>(store.pristine.size())));
    if (counter.per_packet.back() == 1) {
      EXPECT_FALSE(ChecksumOk(store.scratch, s));
    }
  }
  EXPECT_EQ(counter.header_flips, 0);
  // 4000 payload bits at 1%: 40 per packet.
  EXPECT_NEAR(static_cast<double>(counter.payload_flips) / 2000.0, 40.0, 1.0);
}

TEST(Corrupt, FramesWithoutPayloadPassUnchangedAndAreCounted) {
  // A pure TCP ACK (no payload) and an ARP frame.
  const Shape s{false, true};
  FrameBytes ack(Frame(s, 0));
  FlipCounter counter(ack, HeaderBytes(s));
  CorruptConfig config;
  config.probability = 1.0;
  config.bit_error_rate = 0.5;
  Corrupt stage(config, 6, ack);
  stage.connect(counter, counter);
  for (std::uint64_t i = 0; i < 10; ++i) {
    stage.accept(MakePacket(Nanos{0}, i, static_cast<std::uint32_t>(ack.pristine.size())));
    EXPECT_EQ(ack.scratch, ack.pristine);
  }
  EXPECT_EQ(stage.uncorruptible_frames(), 10u);
  EXPECT_EQ(stage.corrupted_frames(), 0u);

  std::vector<std::byte> arp(60, std::byte{0x11});
  arp[12] = std::byte{0x08};
  arp[13] = std::byte{0x06};
  FrameBytes arp_store(arp);
  FlipCounter arp_counter(arp_store, 60);
  Corrupt arp_stage(config, 6, arp_store);
  arp_stage.connect(arp_counter, arp_counter);
  arp_stage.accept(MakePacket(Nanos{0}, 0, 60));
  EXPECT_EQ(arp_store.scratch, arp_store.pristine);
  EXPECT_EQ(arp_stage.uncorruptible_frames(), 1u);
  EXPECT_EQ(arp_counter.packets, 1u);
}

TEST(Corrupt, SameSeedSameFlips) {
  auto run = [](std::uint64_t seed) {
    const Shape s{false, false};
    FrameBytes store(Frame(s, 1000));
    std::vector<std::vector<std::byte>> results;
    CorruptConfig config;
    config.probability = 0.3;
    config.bit_error_rate = 1e-4;
    Corrupt stage(config, seed, store);
    Sink sink;
    stage.connect(sink, sink);
    for (std::uint64_t i = 0; i < 500; ++i) {
      stage.accept(MakePacket(Nanos{0}, i, static_cast<std::uint32_t>(store.pristine.size())));
      results.push_back(store.last_seq == i ? store.scratch : std::vector<std::byte>{});
    }
    return results;
  };
  EXPECT_EQ(run(8), run(8));
  EXPECT_NE(run(8), run(9));
}

// -------------------------------------------------------------- reordering

struct ReorderRig {
  ReorderRig(const ReorderConfig& config, Nanos delay, std::uint64_t seed = 1)
      : line(delay, 1'000'000), reorder(config, line, 1'000'000, seed) {
    reorder.connect(sink, sink);
  }
  Sink sink;
  DelayLine line;
  Reorder reorder;
};

// netem's man page: "reorder 100% gap 5" with "delay 10ms": every 5th packet
// (5th, 10th, 15th, ...) is sent immediately, the others are delayed.
TEST(Reorder, GapFiveSendsEveryFifthPacketImmediately) {
  ReorderRig rig({1.0, 0.0, 5, CorrelationModel::preserving}, 10ms);
  for (std::uint64_t i = 0; i < 20; ++i) {
    rig.reorder.accept(MakePacket(Nanos{static_cast<std::int64_t>(i) * 1000}, i));
  }
  rig.reorder.advance(1s);
  ASSERT_EQ(rig.sink.out.size(), 20u);
  std::vector<std::uint64_t> early;
  for (const Packet& p : rig.sink.out) {
    const Nanos arrival{static_cast<std::int64_t>(p.seq) * 1000};
    if (p.ts == arrival) {
      early.push_back(p.seq);
    } else {
      EXPECT_EQ(p.ts, arrival + 10ms);
    }
  }
  EXPECT_EQ(early, (std::vector<std::uint64_t>{4, 9, 14, 19}));
  // They come out first: the early ones at their arrival, then the delayed ones.
  EXPECT_EQ(rig.sink.out[0].seq, 4u);
  EXPECT_EQ(rig.reorder.reordered(), 4u);
}

// The long-run fraction sent early is P / (1 + (G - 1) P). 200000 packets;
// standard error below 0.001. Tolerance 0.005.
TEST(Reorder, FractionSentEarlyMatchesNetemsGapRule) {
  struct Case {
    double p;
    std::uint32_t gap;
  };
  for (const Case c : {Case{0.25, 1}, Case{0.5, 3}, Case{0.1, 10}}) {
    SCOPED_TRACE(testing::Message() << c.p << " gap " << c.gap);
    ReorderRig rig({c.p, 0.0, c.gap, CorrelationModel::preserving}, 10ms);
    for (std::uint64_t i = 0; i < 200'000; ++i) rig.reorder.accept(MakePacket(Nanos{0}, i));
    const double expected = c.p / (1.0 + (c.gap - 1) * c.p);
    EXPECT_NEAR(static_cast<double>(rig.reorder.reordered()) / 200'000.0, expected, 0.005);
  }
}

TEST(Reorder, ReleasesInTimeOrderEvenWhenAdvancedLate) {
  ReorderRig rig({0.3, 0.0, 1, CorrelationModel::preserving}, 5ms);
  for (std::uint64_t i = 0; i < 10000; ++i) {
    rig.reorder.accept(MakePacket(Nanos{static_cast<std::int64_t>(i) * 1000}, i));
    if (i % 1000 == 999) rig.reorder.advance(Nanos{static_cast<std::int64_t>(i) * 1000});
  }
  rig.reorder.advance(1s);
  ASSERT_EQ(rig.sink.out.size(), 10000u);
  std::size_t overtakes = 0;
  for (std::size_t i = 1; i < rig.sink.out.size(); ++i) {
    ASSERT_GE(rig.sink.out[i].ts, rig.sink.out[i - 1].ts) << i;
    overtakes += rig.sink.out[i].seq < rig.sink.out[i - 1].seq ? 1U : 0U;
  }
  EXPECT_GT(overtakes, 1000u);
  EXPECT_EQ(rig.reorder.next_wakeup(), kNever);
}

TEST(Reorder, EarlyPacketLeavesAtOnceWhenNothingIsDueBeforeIt) {
  ReorderRig rig({1.0, 0.0, 1, CorrelationModel::preserving}, 10ms);
  rig.reorder.accept(MakePacket(Nanos{5}, 0));
  ASSERT_EQ(rig.sink.out.size(), 1u);  // no advance() needed
  EXPECT_EQ(rig.sink.out[0].ts, Nanos{5});
}

TEST(Reorder, WrapsJitterDelayToo) {
  Sink sink;
  JitterConfig jitter;
  jitter.delay = 10ms;
  jitter.jitter = 1ms;
  jitter.shape = JitterShape::normal;
  JitterDelay delay({jitter, JitterMode::order_preserving, 0.5}, 100000, 3);
  Reorder reorder({0.1, 0.0, 1, CorrelationModel::preserving}, delay, 100000, 4);
  reorder.connect(sink, sink);
  for (std::uint64_t i = 0; i < 50000; ++i) {
    reorder.accept(MakePacket(Nanos{static_cast<std::int64_t>(i) * 10'000}, i));
    if (i % 100 == 0) reorder.advance(Nanos{static_cast<std::int64_t>(i) * 10'000});
  }
  reorder.advance(10s);
  ASSERT_EQ(sink.out.size(), 50000u);
  for (std::size_t i = 1; i < sink.out.size(); ++i) ASSERT_GE(sink.out[i].ts, sink.out[i - 1].ts);
  EXPECT_NEAR(static_cast<double>(reorder.reordered()) / 50000.0, 0.1, 0.007);
}

TEST(Reorder, FullEarlyQueueDropsAsBufferExhausted) {
  Sink sink;
  DelayLine line(10ms, 16);
  Reorder reorder({1.0, 0.0, 2, CorrelationModel::preserving}, line, 1, 5);
  reorder.connect(sink, sink);
  // gap 2: every second packet goes early. An early packet must wait while the
  // delay stage holds a packet due before it; the early queue holds one.
  reorder.accept(MakePacket(Nanos{0}, 0));  // delayed, due at 10 ms
  reorder.accept(MakePacket(20ms, 1));      // early, waits behind packet 0
  reorder.accept(MakePacket(20ms, 2));      // delayed
  reorder.accept(MakePacket(20ms, 3));      // early: the queue is full
  ASSERT_EQ(sink.dropped.size(), 1u);
  EXPECT_EQ(sink.dropped[0].first.seq, 3u);
  EXPECT_EQ(sink.dropped[0].second, DropCause::buffer_exhausted);
  reorder.advance(1s);
  ASSERT_EQ(sink.out.size(), 3u);
  EXPECT_EQ(sink.out[0].seq, 0u);
  EXPECT_EQ(sink.out[1].seq, 1u);
  EXPECT_EQ(sink.out[2].seq, 2u);
}

TEST(Reorder, SameSeedSameOrder) {
  auto run = [](std::uint64_t seed) {
    ReorderRig rig({0.2, 0.5, 2, CorrelationModel::preserving}, 3ms, seed);
    for (std::uint64_t i = 0; i < 5000; ++i) {
      rig.reorder.accept(MakePacket(Nanos{static_cast<std::int64_t>(i) * 1000}, i));
    }
    rig.reorder.advance(1s);
    std::vector<std::uint64_t> seqs;
    for (const Packet& p : rig.sink.out) seqs.push_back(p.seq);
    return seqs;
  };
  EXPECT_EQ(run(1), run(1));
  EXPECT_NE(run(1), run(2));
}

}  // namespace
}  // namespace longhaul::core

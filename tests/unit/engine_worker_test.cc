// engine::DirectionWorker between fake ports on a ManualClock: what it receives
// leaves unchanged, exactly when the model says, and every frame is accounted for.
#include "engine/direction_worker.hh"

#include <gtest/gtest.h>
#include <poll.h>

#include <thread>

#include <cstdint>
#include <cstring>
#include <deque>
#include <set>
#include <span>
#include <utility>
#include <vector>

namespace longhaul::engine {
namespace {

using namespace std::chrono_literals;
using Bytes = std::vector<std::byte>;

// Offset of the tag byte: vnet header (10) + Ethernet (14) + IPv4 (20) + UDP (8).
constexpr std::size_t kTagOffset = 10 + 14 + 20 + 8;

void Put16(Bytes& bytes, unsigned value) {
  bytes.push_back(static_cast<std::byte>((value >> 8) & 0xFF));
  bytes.push_back(static_cast<std::byte>(value & 0xFF));
}

// [vnet header][Ethernet][IPv4][UDP or TCP][payload], payload starting with `tag`.
Bytes MakeFrame(std::uint8_t tag, std::size_t l2_bytes = 1514, const VnetHeader& header = {},
                bool tcp = false) {
  Bytes bytes(kVnetHeaderBytes);
  std::memcpy(bytes.data(), &header, sizeof header);
  for (int i = 0; i < 6; ++i) bytes.push_back(std::byte{0x02});
  for (int i = 0; i < 6; ++i) bytes.push_back(std::byte{0x04});
  Put16(bytes, 0x0800);
  const std::size_t ip_start = bytes.size();
  bytes.push_back(std::byte{0x45});
  bytes.resize(ip_start + 20, std::byte{0});
  bytes[ip_start + 8] = std::byte{64};
  bytes[ip_start + 9] = std::byte{static_cast<std::uint8_t>(tcp ? 6 : 17)};
  const std::size_t l4_start = bytes.size();
  bytes.resize(l4_start + (tcp ? 20 : 8), std::byte{0});
  if (tcp) bytes[l4_start + 12] = std::byte{0x50};  // data offset 5 words
  const std::size_t payload_start = bytes.size();
  const std::size_t total = kVnetHeaderBytes + l2_bytes;
  for (std::size_t i = payload_start; i < total; ++i) {
    bytes.push_back(static_cast<std::byte>((i * 13 + tag) & 0xFF));
  }
  bytes[payload_start] = std::byte{tag};
  return bytes;
}

std::uint8_t TagOf(const Bytes& bytes) {
  return std::to_integer<std::uint8_t>(bytes.at(kTagOffset));
}

class FakeIngress final : public IngressPort {
 public:
  struct Incoming {
    Bytes bytes;
    bool truncated = false;
    Nanos arrived{0};
  };

  void add(Bytes bytes, bool truncated = false) {
    waiting.push_back(Incoming{std::move(bytes), truncated, Nanos{0}});
  }
  // A frame the "kernel" stamped at `arrived`.
  void add_stamped(Bytes bytes, Nanos arrived) {
    waiting.push_back(Incoming{std::move(bytes), false, arrived});
  }

  std::size_t receive(std::span<RxSlot> slots) noexcept override {
    std::size_t n = 0;
    for (; n < slots.size() && !waiting.empty(); ++n) {
      const Incoming& in = waiting.front();
      std::memcpy(slots[n].buffer, in.bytes.data(), in.bytes.size());
      slots[n].length = static_cast<std::uint32_t>(in.bytes.size());
      slots[n].truncated = in.truncated;
      slots[n].arrived = in.arrived;
      waiting.pop_front();
    }
    ++calls;
    return n;
  }
  int wait_fd() const noexcept override { return -1; }
  std::uint64_t take_lost_before_ingress() noexcept override {
    const std::uint64_t n = lost;
    lost = 0;
    return n;
  }

  std::deque<Incoming> waiting;
  std::uint64_t lost = 0;
  std::size_t calls = 0;
};

class FakeEgress final : public EgressPort {
 public:
  explicit FakeEgress(const Clock& clock) : clock_(clock) {}

  struct Sent {
    Bytes bytes;
    Nanos at;
  };

  SendResult send(std::span<const TxFrame> frames) noexcept override {
    std::size_t room = frames.size();
    if (!room_per_call.empty()) {
      room = room_per_call.front();
      room_per_call.pop_front();
    }
    ++calls;
    SendResult result;
    for (const TxFrame& frame : frames) {
      Bytes bytes(frame.data, frame.data + frame.length);
      if (refused_tags.count(TagOf(bytes)) != 0) {
        refused_tags.erase(TagOf(bytes));  // refuse once
        result.refused = true;
        return result;
      }
      if (result.sent == room) return result;  // full: retry later
      sent.push_back(Sent{std::move(bytes), clock_.now()});
      ++result.sent;
    }
    return result;
  }
  int wait_fd() const noexcept override { return -1; }

  std::vector<Sent> sent;
  std::deque<std::size_t> room_per_call;  // frames accepted per call; empty = all
  std::set<std::uint8_t> refused_tags;
  std::size_t calls = 0;

 private:
  const Clock& clock_;
};

core::CountersSnapshot Snapshot(const core::DirectionCounters& counters) {
  return counters.snapshot();
}
std::uint64_t Dropped(const core::CountersSnapshot& s, core::DropCause cause) {
  return s.dropped_packets[static_cast<std::size_t>(cause)];
}

WorkerOptions SmallOptions() {
  WorkerOptions options;
  options.arena_bytes = 8u << 20;
  options.capacity_packets = 4096;
  return options;
}

// Everything a test needs, wired together.
struct Rig {
  explicit Rig(const core::DirectionConfig& config, const WorkerOptions& options = SmallOptions())
      : egress(clock), worker(config, options, ingress, egress, clock, counters) {}

  // Polls until the ingress is drained.
  void drain() {
    while (!ingress.waiting.empty()) worker.poll_once();
  }

  ManualClock clock;
  FakeIngress ingress;
  FakeEgress egress;
  core::DirectionCounters counters;
  DirectionWorker worker;
};

core::DirectionConfig Delay(Nanos delay) {
  core::DirectionConfig config;
  config.delay = delay;
  return config;
}

TEST(DirectionWorker, SendsExactlyWhenTheClockReachesArrivalPlusDelay) {
  Rig rig(Delay(10ms));
  const Nanos arrival = 1ms + Nanos{5};
  rig.clock.set(arrival);
  const Bytes frame = MakeFrame(7);
  rig.ingress.add(frame);
  EXPECT_EQ(rig.worker.poll_once(), 1u);
  EXPECT_TRUE(rig.egress.sent.empty());
  EXPECT_EQ(rig.worker.next_wakeup(), arrival + 10ms);

  rig.clock.set(arrival + 10ms - Nanos{1});
  EXPECT_EQ(rig.worker.poll_once(), 0u);
  EXPECT_TRUE(rig.egress.sent.empty());

  rig.clock.set(arrival + 10ms);
  rig.worker.poll_once();
  ASSERT_EQ(rig.egress.sent.size(), 1u);
  EXPECT_EQ(rig.egress.sent[0].at, arrival + 10ms);
  EXPECT_EQ(rig.egress.sent[0].bytes, frame);
  EXPECT_EQ(rig.worker.next_wakeup(), core::kNever);
  EXPECT_EQ(rig.worker.stats().release_lateness.count(), 1u);
  EXPECT_EQ(rig.worker.stats().release_lateness.max(), Nanos{0});

  const core::CountersSnapshot s = Snapshot(rig.counters);
  EXPECT_EQ(s.frames_in, 1u);
  EXPECT_EQ(s.frames_out, 1u);
  EXPECT_EQ(s.packets_out, 1u);
  EXPECT_EQ(s.bytes_out, 1514u);
  EXPECT_TRUE(s.reconciles());
  EXPECT_EQ(rig.worker.arena().live_allocations(), 0u);
}

TEST(DirectionWorker, DelayCountsFromTheKernelsReceiveStampNotFromTheWakeUp) {
  Rig rig(Delay(10ms));
  const Nanos received = 1ms;
  rig.clock.set(received + 300us);  // the thread woke 300 us after the frame arrived
  rig.ingress.add_stamped(MakeFrame(1), received);
  rig.worker.poll_once();
  EXPECT_EQ(rig.worker.next_wakeup(), received + 10ms);
  rig.clock.set(received + 10ms);
  rig.worker.poll_once();
  ASSERT_EQ(rig.egress.sent.size(), 1u);
  EXPECT_EQ(rig.egress.sent[0].at, received + 10ms);
  EXPECT_EQ(rig.worker.stats().ingress_wait.count(), 1u);
  EXPECT_EQ(rig.worker.stats().ingress_wait.max(), 300us);
  EXPECT_EQ(rig.worker.stats().release_lateness.max(), Nanos{0});
}

TEST(DirectionWorker, StampsOutOfOrderOrImplausibleNeverReorderOrReleaseEarly) {
  Rig rig(Delay(1ms));
  rig.clock.set(5s);
  rig.ingress.add_stamped(MakeFrame(0), 5s - 100us);
  rig.ingress.add_stamped(MakeFrame(1), 5s - 200us);  // stamped before its predecessor
  rig.ingress.add_stamped(MakeFrame(2), 5s + 1ms);    // from the future (clock conversion)
  rig.ingress.add_stamped(MakeFrame(3), 5s - 2s);     // older than a plausible wait
  rig.worker.poll_once();
  rig.clock.set(5s + 1ms);
  rig.worker.poll_once();
  ASSERT_EQ(rig.egress.sent.size(), 4u);
  for (std::uint8_t i = 0; i < 4; ++i) EXPECT_EQ(TagOf(rig.egress.sent[i].bytes), i);
  // Frames 0 and 1 share the first stamp (order kept); 2 and 3 fall back to the read time.
  EXPECT_EQ(rig.worker.stats().ingress_wait.max(), 100us);
}

TEST(ArrivalTime, UsesThePlausibleKernelStampAndKeepsArrivalsInOrder) {
  const Nanos now = 10s;
  EXPECT_EQ(arrival_time(Nanos{0}, now, Nanos{0}), now);           // no stamp
  EXPECT_EQ(arrival_time(now - 40us, now, Nanos{0}), now - 40us);  // the kernel's time
  EXPECT_EQ(arrival_time(now + 1us, now, Nanos{0}), now);          // later than now
  EXPECT_EQ(arrival_time(now - kMaxStampAge, now, Nanos{0}), now - kMaxStampAge);
  EXPECT_EQ(arrival_time(now - kMaxStampAge - 1ns, now, Nanos{0}), now);  // a clock step
  EXPECT_EQ(arrival_time(now - 40us, now, now - 10us), now - 10us);       // never before the last
}

TEST(DirectionWorker, RateThenDelayGivesExactDepartures) {
  core::DirectionConfig config = Delay(1ms);
  config.rate_bps = 100'000'000;
  Rig rig(config);
  for (std::uint8_t i = 0; i < 3; ++i) rig.ingress.add(MakeFrame(i));
  rig.worker.poll_once();  // all three arrive at 0
  // 1514 + 24 = 1538 wire bytes = 12304 bits: 123.04 us each at 100 Mbit/s.
  for (std::int64_t k = 1; k <= 3; ++k) {
    const Nanos due = Nanos{123'040 * k} + 1ms;
    rig.clock.set(due - Nanos{1});
    rig.worker.poll_once();
    ASSERT_EQ(rig.egress.sent.size(), static_cast<std::size_t>(k - 1));
    rig.clock.set(due);
    rig.worker.poll_once();
    ASSERT_EQ(rig.egress.sent.size(), static_cast<std::size_t>(k));
    EXPECT_EQ(rig.egress.sent.back().at, due);
    EXPECT_EQ(TagOf(rig.egress.sent.back().bytes), k - 1);
  }
}

TEST(DirectionWorker, LateWakeupSendsEverythingDueInOrderAndRecordsLateness) {
  Rig rig(Delay(2ms));
  for (std::uint8_t i = 0; i < 5; ++i) {
    rig.clock.set(Nanos{i * 1000});
    rig.ingress.add(MakeFrame(i));
    rig.worker.poll_once();
  }
  rig.clock.set(2ms + 50us);  // woke 50 us after the first release was due
  rig.worker.poll_once();
  ASSERT_EQ(rig.egress.sent.size(), 5u);
  for (std::uint8_t i = 0; i < 5; ++i) EXPECT_EQ(TagOf(rig.egress.sent[i].bytes), i);
  EXPECT_EQ(rig.worker.stats().release_lateness.count(), 5u);
  EXPECT_EQ(rig.worker.stats().release_lateness.max(), 50us);
}

TEST(DirectionWorker, FullEgressKeepsFramesPendingAndSendsThemLaterWithoutLoss) {
  Rig rig(Delay(1ms));
  for (std::uint8_t i = 0; i < 3; ++i) rig.ingress.add(MakeFrame(i));
  rig.worker.poll_once();
  rig.egress.room_per_call = {0, 1};  // full, then room for one, then room for all

  rig.clock.set(1ms);
  rig.worker.poll_once();
  EXPECT_TRUE(rig.egress.sent.empty());
  EXPECT_EQ(rig.worker.pending_transmit(), 3u);
  EXPECT_EQ(rig.worker.stats().tx_blocked.get(), 1u);

  rig.clock.set(1ms + 1us);
  rig.worker.poll_once();
  ASSERT_EQ(rig.egress.sent.size(), 1u);
  EXPECT_EQ(rig.worker.pending_transmit(), 2u);
  EXPECT_EQ(rig.worker.stats().tx_blocked.get(), 2u);

  rig.clock.set(1ms + 2us);
  rig.worker.poll_once();
  ASSERT_EQ(rig.egress.sent.size(), 3u);
  EXPECT_EQ(rig.worker.pending_transmit(), 0u);
  for (std::uint8_t i = 0; i < 3; ++i) EXPECT_EQ(TagOf(rig.egress.sent[i].bytes), i);
  EXPECT_EQ(rig.egress.sent[0].at, 1ms + 1us);
  EXPECT_EQ(rig.egress.sent[2].at, 1ms + 2us);
  EXPECT_EQ(rig.worker.stats().release_lateness.max(), 2us);

  const core::CountersSnapshot s = Snapshot(rig.counters);
  EXPECT_EQ(s.packets_out, 3u);
  EXPECT_EQ(s.packets_dropped(), 0u);
  EXPECT_TRUE(s.reconciles());
  EXPECT_EQ(rig.worker.arena().live_allocations(), 0u);
}

TEST(DirectionWorker, RefusedFrameIsCountedAsTxErrorAndTheRestGoOut) {
  Rig rig(Delay(1ms));
  for (std::uint8_t i = 0; i < 4; ++i) rig.ingress.add(MakeFrame(i));
  rig.worker.poll_once();
  rig.egress.refused_tags = {1};
  rig.clock.set(1ms);
  rig.worker.poll_once();
  ASSERT_EQ(rig.egress.sent.size(), 3u);
  EXPECT_EQ(TagOf(rig.egress.sent[0].bytes), 0);
  EXPECT_EQ(TagOf(rig.egress.sent[1].bytes), 2);
  EXPECT_EQ(TagOf(rig.egress.sent[2].bytes), 3);
  EXPECT_EQ(rig.worker.pending_transmit(), 0u);

  const core::CountersSnapshot s = Snapshot(rig.counters);
  EXPECT_EQ(s.frames_out, 3u);
  EXPECT_EQ(s.packets_out, 3u);
  EXPECT_EQ(s.bytes_out, 3u * 1514);
  EXPECT_EQ(Dropped(s, core::DropCause::tx_error), 1u);
  EXPECT_EQ(s.dropped_bytes[static_cast<std::size_t>(core::DropCause::tx_error)], 1514u);
  EXPECT_TRUE(s.reconciles());
  EXPECT_EQ(rig.worker.arena().live_allocations(), 0u);
}

TEST(DirectionWorker, PendingOverflowIsCountedAsTxError) {
  // No delay: frames go to the pending ring at once; with the egress full the
  // ring (4 frames) overflows and the rest are counted, not leaked.
  WorkerOptions options = SmallOptions();
  options.capacity_packets = 4;
  Rig rig(core::DirectionConfig{}, options);
  rig.egress.room_per_call = {0, 0};
  for (std::uint8_t i = 0; i < 6; ++i) rig.ingress.add(MakeFrame(i));
  rig.worker.poll_once();
  EXPECT_EQ(rig.worker.pending_transmit(), 4u);
  core::CountersSnapshot s = Snapshot(rig.counters);
  EXPECT_EQ(Dropped(s, core::DropCause::tx_error), 2u);
  EXPECT_TRUE(s.reconciles());
  rig.worker.poll_once();  // still full
  EXPECT_EQ(rig.worker.pending_transmit(), 4u);
  rig.worker.poll_once();
  ASSERT_EQ(rig.egress.sent.size(), 4u);
  for (std::uint8_t i = 0; i < 4; ++i) EXPECT_EQ(TagOf(rig.egress.sent[i].bytes), i);
  s = Snapshot(rig.counters);
  EXPECT_EQ(s.packets_out, 4u);
  EXPECT_TRUE(s.reconciles());
  EXPECT_EQ(rig.worker.arena().live_allocations(), 0u);
}

TEST(DirectionWorker, TruncatedShortAndUnparsableFramesCountAsMalformed) {
  Rig rig(Delay(1ms));
  rig.ingress.add(MakeFrame(1), /*truncated=*/true);
  rig.ingress.add(Bytes(kVnetHeaderBytes));  // a header and no frame
  rig.ingress.add(Bytes(4));                 // not even a header
  VnetHeader gso{};
  gso.gso_type = 1;  // VIRTIO_NET_HDR_GSO_TCPV4
  gso.gso_size = 1448;
  Bytes not_ip = MakeFrame(2, 3000, gso, true);
  not_ip[kVnetHeaderBytes + 12] = std::byte{0x08};  // EtherType ARP: cannot be segmented
  not_ip[kVnetHeaderBytes + 13] = std::byte{0x06};
  rig.ingress.add(not_ip);
  const Bytes good = MakeFrame(3);
  rig.ingress.add(good);
  EXPECT_EQ(rig.worker.poll_once(), 5u);

  core::CountersSnapshot s = Snapshot(rig.counters);
  EXPECT_EQ(s.frames_in, 5u);
  EXPECT_EQ(Dropped(s, core::DropCause::malformed), 4u);
  // L2 bytes, as everywhere: 1514 of the truncated frame, none of the header-only
  // and 4-byte ones, 3000 of the unparsable one; the vnet headers do not count.
  EXPECT_EQ(s.dropped_bytes[static_cast<std::size_t>(core::DropCause::malformed)], 1514u + 3000);
  EXPECT_EQ(s.bytes_in, 1514u + 3000 + 1514);
  EXPECT_EQ(s.packets_queued, 1u);
  EXPECT_TRUE(s.reconciles());
  EXPECT_EQ(rig.worker.arena().live_allocations(), 1u);  // only the good frame holds bytes

  rig.clock.set(1ms);
  rig.worker.poll_once();
  ASSERT_EQ(rig.egress.sent.size(), 1u);
  EXPECT_EQ(rig.egress.sent[0].bytes, good);
  s = Snapshot(rig.counters);
  EXPECT_TRUE(s.reconciles());
  EXPECT_EQ(rig.worker.arena().live_allocations(), 0u);
}

TEST(DirectionWorker, BytesAreForwardedUnchanged) {
  Rig rig(Delay(100us));
  VnetHeader gso{};
  gso.flags = 1;  // VIRTIO_NET_HDR_F_NEEDS_CSUM
  gso.gso_type = 1;
  gso.hdr_len = 54;
  gso.gso_size = 1448;
  gso.csum_start = 34;
  gso.csum_offset = 16;
  const std::vector<Bytes> frames{MakeFrame(0, 60), MakeFrame(1, 1514), MakeFrame(2, 9014),
                                  MakeFrame(3, 54 + 3 * 1448, gso, true), MakeFrame(4, 65'000)};
  for (const Bytes& frame : frames) rig.ingress.add(frame);
  rig.worker.poll_once();
  rig.clock.set(100us);
  rig.worker.poll_once();
  ASSERT_EQ(rig.egress.sent.size(), frames.size());
  for (std::size_t i = 0; i < frames.size(); ++i) {
    EXPECT_EQ(rig.egress.sent[i].bytes, frames[i]) << "frame " << i;
  }
}

TEST(DirectionWorker, SuperFrameCountsAsItsWirePacketsAndTakesTheirTime) {
  core::DirectionConfig config = Delay(1ms);
  config.rate_bps = 100'000'000;
  Rig rig(config);
  VnetHeader gso{};
  gso.gso_type = 1;
  gso.gso_size = 1448;
  rig.ingress.add(MakeFrame(9, 54 + 3 * 1448, gso, true));
  rig.worker.poll_once();
  const core::CountersSnapshot s = Snapshot(rig.counters);
  EXPECT_EQ(s.frames_in, 1u);
  EXPECT_EQ(s.packets_in, 3u);
  EXPECT_EQ(s.bytes_in, 3u * (54 + 1448));  // headers repeated per segment
  // Three 1502-byte packets + 24 overhead each = 4578 B = 36624 bits = 366.24 us.
  const Nanos serialised{366'240};
  const Nanos due = serialised + 1ms;
  EXPECT_EQ(rig.worker.next_wakeup(), serialised);  // leaves the bottleneck, then propagates
  rig.clock.set(serialised);
  rig.worker.poll_once();
  EXPECT_EQ(rig.worker.next_wakeup(), due);
  rig.clock.set(due - Nanos{1});
  rig.worker.poll_once();
  EXPECT_TRUE(rig.egress.sent.empty());
  rig.clock.set(due);
  rig.worker.poll_once();
  ASSERT_EQ(rig.egress.sent.size(), 1u);
  EXPECT_EQ(Snapshot(rig.counters).packets_out, 3u);
}

TEST(DirectionWorker, GsoSizeWithoutAGsoTypeIsAnOrdinaryFrame) {
  Rig rig(Delay(1ms));
  VnetHeader no_type{};
  no_type.gso_size = 1448;  // stale size, but gso_type says "none"
  rig.ingress.add(MakeFrame(1, 54 + 3 * 1448, no_type, true));
  VnetHeader ecn_only{};
  ecn_only.gso_type = kVnetGsoEcn;
  ecn_only.gso_size = 1448;
  rig.ingress.add(MakeFrame(2, 54 + 3 * 1448, ecn_only, true));
  rig.worker.poll_once();
  const core::CountersSnapshot s = Snapshot(rig.counters);
  EXPECT_EQ(s.frames_in, 2u);
  EXPECT_EQ(s.packets_in, 2u);
  EXPECT_EQ(s.bytes_in, 2u * (54 + 3 * 1448));
}

TEST(DirectionWorker, ManyFramesAcrossBatchesKeepTheirOrder) {
  Rig rig(Delay(5ms));
  for (int i = 0; i < 300; ++i) rig.ingress.add(MakeFrame(static_cast<std::uint8_t>(i), 200));
  std::size_t received = 0;
  while (const std::size_t got = rig.worker.poll_once()) received += got;
  EXPECT_EQ(received, 300u);
  rig.clock.set(5ms);
  rig.worker.poll_once();
  ASSERT_EQ(rig.egress.sent.size(), 300u);
  for (std::size_t i = 0; i < 300; ++i) {
    EXPECT_EQ(TagOf(rig.egress.sent[i].bytes), static_cast<std::uint8_t>(i));
  }
  EXPECT_TRUE(Snapshot(rig.counters).reconciles());
}

TEST(DirectionWorker, ArenaExhaustionIsACountedDrop) {
  // A 2 MiB arena is one chunk. Each 1514-byte frame is stored with its 10-byte
  // header: 1524 bytes, 1536 with 64-byte alignment, so 2097152 / 1536 = 1365 fit.
  WorkerOptions options = SmallOptions();
  options.arena_bytes = 2u << 20;
  Rig rig(Delay(1ms), options);
  for (int i = 0; i < 1400; ++i) rig.ingress.add(MakeFrame(static_cast<std::uint8_t>(i)));
  rig.drain();
  core::CountersSnapshot s = Snapshot(rig.counters);
  EXPECT_EQ(s.packets_in, 1400u);
  EXPECT_EQ(Dropped(s, core::DropCause::buffer_exhausted), 35u);
  EXPECT_EQ(s.packets_queued, 1365u);
  EXPECT_TRUE(s.reconciles());
  rig.clock.set(1ms);
  rig.worker.poll_once();
  EXPECT_EQ(rig.egress.sent.size(), 1365u);
  s = Snapshot(rig.counters);
  EXPECT_EQ(s.packets_out, 1365u);
  EXPECT_TRUE(s.reconciles());
  EXPECT_EQ(rig.worker.arena().live_allocations(), 0u);
}

TEST(DirectionWorker, ConfiguredLossReleasesTheBuffers) {
  core::DirectionConfig config = Delay(1ms);
  config.loss = 1.0;
  Rig rig(config);
  for (std::uint8_t i = 0; i < 10; ++i) rig.ingress.add(MakeFrame(i));
  rig.worker.poll_once();
  rig.clock.set(1s);
  rig.worker.poll_once();
  EXPECT_TRUE(rig.egress.sent.empty());
  const core::CountersSnapshot s = Snapshot(rig.counters);
  EXPECT_EQ(Dropped(s, core::DropCause::loss), 10u);
  EXPECT_TRUE(s.reconciles());
  EXPECT_EQ(rig.worker.arena().live_allocations(), 0u);
}

TEST(DirectionWorker, KernelDropsAreCollected) {
  Rig rig(Delay(1ms));
  rig.ingress.lost = 7;
  rig.worker.poll_once();
  rig.worker.collect_port_statistics();
  rig.ingress.lost = 2;
  rig.worker.collect_port_statistics();
  EXPECT_EQ(rig.worker.stats().lost_before_ingress.get(), 9u);
}

TEST(DirectionWorker, LiveChangePostedFromAnotherThreadAppliesAtItsInstant) {
  Rig rig(Delay(10ms));
  core::LiveChange change;
  change.at = 5ms;
  change.change.delay = 40ms;
  std::thread api([&] { EXPECT_TRUE(rig.worker.mailbox().post(change)); });
  api.join();
  pollfd wake{rig.worker.mailbox().wake_fd(), POLLIN, 0};
  EXPECT_EQ(::poll(&wake, 1, 0), 1);  // a sleeping worker would wake
  rig.clock.set(4ms);
  rig.ingress.add(MakeFrame(1));
  rig.worker.poll_once();
  rig.clock.set(6ms);
  rig.ingress.add(MakeFrame(2));
  rig.worker.poll_once();
  for (const Nanos t : {14ms, 46ms}) {  // the first keeps 10 ms, the second has 40 ms
    rig.clock.set(t);
    rig.worker.poll_once();
  }
  ASSERT_EQ(rig.egress.sent.size(), 2u);
  EXPECT_EQ(rig.egress.sent[0].at, 14ms);
  EXPECT_EQ(rig.egress.sent[1].at, 46ms);
  EXPECT_EQ(rig.worker.pipeline().conditions().live_applied.get(), 1u);
}

TEST(LiveMailbox, HoldsItsCapacityInOrderThenRefuses) {
  LiveMailbox mailbox;
  for (std::size_t i = 0; i < LiveMailbox::kCapacity; ++i) {
    core::LiveChange change;
    change.at = Nanos{static_cast<std::int64_t>(i)};
    ASSERT_TRUE(mailbox.post(change));
  }
  EXPECT_FALSE(mailbox.post(core::LiveChange{}));
  core::LiveChange out;
  for (std::size_t i = 0; i < LiveMailbox::kCapacity; ++i) {
    ASSERT_TRUE(mailbox.take(out));
    EXPECT_EQ(out.at.count(), static_cast<std::int64_t>(i));
  }
  EXPECT_FALSE(mailbox.take(out));
  mailbox.drain_wakeups();
  pollfd wake{mailbox.wake_fd(), POLLIN, 0};
  EXPECT_EQ(::poll(&wake, 1, 0), 0);
}

}  // namespace
}  // namespace longhaul::engine

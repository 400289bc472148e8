// The direction worker's MTU on a ManualClock with fake ports: frames whose
// largest wire packet exceeds the MTU are dropped as `mtu` (a super-frame by
// its segment size, not its total), counters reconcile, and with mtu_icmp the
// sender gets an ICMP reply through the reply port, never through the egress.
#include <gtest/gtest.h>

#include <cstring>
#include <deque>
#include <vector>

#include "engine/direction_worker.hh"

namespace longhaul::engine {
namespace {

using Bytes = std::vector<std::byte>;

class Ingress final : public IngressPort {
 public:
  std::size_t receive(std::span<RxSlot> slots) noexcept override {
    std::size_t n = 0;
    for (; n < slots.size() && !waiting.empty(); ++n) {
      std::memcpy(slots[n].buffer, waiting.front().data(), waiting.front().size());
      slots[n].length = static_cast<std::uint32_t>(waiting.front().size());
      slots[n].truncated = false;
      waiting.pop_front();
    }
    return n;
  }
  int wait_fd() const noexcept override { return -1; }
  std::deque<Bytes> waiting;
};

class Egress final : public EgressPort {
 public:
  SendResult send(std::span<const TxFrame> frames) noexcept override {
    for (const TxFrame& frame : frames) sent.emplace_back(frame.data, frame.data + frame.length);
    return SendResult{frames.size(), false};
  }
  int wait_fd() const noexcept override { return -1; }
  std::vector<Bytes> sent;
};

// [vnet header][Ethernet][IPv4 (DF as given)][TCP][payload]: ip_bytes of IP packet.
Bytes TcpFrame(std::size_t ip_bytes, bool dont_fragment, std::uint16_t gso_size = 0) {
  VnetHeader header{};
  if (gso_size != 0) {
    header.gso_type = 1;  // VIRTIO_NET_HDR_GSO_TCPV4
    header.gso_size = gso_size;
  }
  Bytes b(kVnetHeaderBytes + 14 + ip_bytes, std::byte{0});
  std::memcpy(b.data(), &header, sizeof header);
  const std::size_t eth = kVnetHeaderBytes;
  for (std::size_t i = 0; i < 6; ++i) b[eth + i] = std::byte{0x02};
  for (std::size_t i = 6; i < 12; ++i) b[eth + i] = std::byte{0x04};
  b[eth + 12] = std::byte{0x08};
  const std::size_t ip = eth + 14;
  b[ip] = std::byte{0x45};
  b[ip + 2] = static_cast<std::byte>((ip_bytes >> 8) & 0xFF);
  b[ip + 3] = static_cast<std::byte>(ip_bytes & 0xFF);
  if (dont_fragment) b[ip + 6] = std::byte{0x40};
  b[ip + 8] = std::byte{64};
  b[ip + 9] = std::byte{6};
  b[ip + 12] = std::byte{198};
  b[ip + 13] = std::byte{18};
  b[ip + 15] = std::byte{2};
  b[ip + 16] = std::byte{198};
  b[ip + 17] = std::byte{18};
  b[ip + 19] = std::byte{1};
  b[ip + 20 + 12] = std::byte{0x50};  // TCP data offset: 5 words
  return b;
}

struct Rig {
  explicit Rig(bool icmp)
      : worker(Config(icmp), Options(), ingress, egress, clock, counters, &reply) {}
  static core::DirectionConfig Config(bool icmp) {
    core::DirectionConfig config;
    config.mtu_bytes = 1400;
    config.mtu_icmp = icmp;
    return config;
  }
  static WorkerOptions Options() {
    WorkerOptions options;
    options.arena_bytes = 4u << 20;
    options.capacity_packets = 1024;
    return options;
  }
  std::uint64_t Dropped(core::DropCause cause) const {
    return counters.snapshot().dropped_packets[static_cast<std::size_t>(cause)];
  }

  ManualClock clock;
  Ingress ingress;
  Egress egress;
  Egress reply;
  core::DirectionCounters counters;
  DirectionWorker worker;
};

TEST(DirectionWorkerMtu, PacketsUpToTheMtuPassLargerOnesAreDroppedAsMtu) {
  Rig rig(false);
  rig.ingress.waiting.push_back(TcpFrame(1400, true));
  rig.ingress.waiting.push_back(TcpFrame(1401, true));
  rig.worker.poll_once();
  EXPECT_EQ(rig.egress.sent.size(), 1u);
  EXPECT_EQ(rig.Dropped(core::DropCause::mtu), 1u);
  EXPECT_TRUE(rig.reply.sent.empty());  // no ICMP unless asked
  EXPECT_TRUE(rig.counters.snapshot().reconciles());
  EXPECT_EQ(rig.worker.arena().live_allocations(), 0u);
}

TEST(DirectionWorkerMtu, SuperFramesAreJudgedBySegmentSizeAndDroppedWithAllTheirSegments) {
  Rig rig(false);
  // 40 bytes of headers + 4000 of payload: gso 1360 makes 1400-byte IP packets
  // (passes), gso 1448 makes 1488-byte ones (three wire packets dropped).
  rig.ingress.waiting.push_back(TcpFrame(40 + 4000, true, 1360));
  rig.ingress.waiting.push_back(TcpFrame(40 + 4000, true, 1448));
  rig.worker.poll_once();
  EXPECT_EQ(rig.egress.sent.size(), 1u);
  EXPECT_EQ(rig.Dropped(core::DropCause::mtu), 3u);
  EXPECT_TRUE(rig.counters.snapshot().reconciles());
}

TEST(DirectionWorkerMtu, IcmpReplyGoesBackThroughTheReplyPortOnlyForDf) {
  Rig rig(true);
  rig.ingress.waiting.push_back(TcpFrame(1500, true));
  rig.ingress.waiting.push_back(TcpFrame(1500, false));  // no DF: dropped silently
  rig.worker.poll_once();
  EXPECT_TRUE(rig.egress.sent.empty());
  EXPECT_EQ(rig.Dropped(core::DropCause::mtu), 2u);
  ASSERT_EQ(rig.reply.sent.size(), 1u);
  EXPECT_EQ(rig.worker.stats().too_big_replies.get(), 1u);
  const Bytes& reply = rig.reply.sent[0];
  VnetHeader header;
  std::memcpy(&header, reply.data(), sizeof header);
  EXPECT_EQ(header.gso_type, kVnetGsoNone);
  EXPECT_EQ(header.flags, 0u);  // checksums complete, nothing for the kernel to finish
  const std::size_t icmp = kVnetHeaderBytes + 14 + 20;
  EXPECT_EQ(std::to_integer<unsigned>(reply[icmp]), 3u);
  EXPECT_EQ(std::to_integer<unsigned>(reply[icmp + 1]), 4u);
  EXPECT_EQ((std::to_integer<unsigned>(reply[icmp + 6]) << 8) |
                std::to_integer<unsigned>(reply[icmp + 7]),
            1400u);
  EXPECT_TRUE(rig.counters.snapshot().reconciles());
}

}  // namespace
}  // namespace longhaul::engine

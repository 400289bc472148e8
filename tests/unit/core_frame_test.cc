// frame.hh: from a (possibly segmentation-offload) frame to the wire packets it
// stands for. Frames are built byte by byte here, as they would arrive from a port.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "core/frame.hh"

namespace longhaul::core {
namespace {

constexpr unsigned kTcp = 6;
constexpr unsigned kUdp = 17;
constexpr unsigned kIcmp = 1;

// Appends headers in network byte order.
class Frame {
 public:
  Frame& u8(unsigned value) {
    bytes_.push_back(static_cast<std::byte>(value & 0xFF));
    return *this;
  }
  Frame& u16(unsigned value) { return u8(value >> 8).u8(value); }
  Frame& zeros(std::size_t n) {
    bytes_.insert(bytes_.end(), n, std::byte{0});
    return *this;
  }
  Frame& payload(std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) u8(static_cast<unsigned>(i * 31 + 7));
    return *this;
  }

  // Destination and source MAC, then each tag (TPID + TCI), then the EtherType.
  Frame& ethernet(unsigned ether_type, std::initializer_list<unsigned> tag_protocols = {}) {
    for (int i = 0; i < 6; ++i) u8(0x02);
    for (int i = 0; i < 6; ++i) u8(0x04);
    for (const unsigned tpid : tag_protocols) u16(tpid).u16(100);
    return u16(ether_type);
  }
  // 20 bytes plus (ihl - 5) 32-bit words of options.
  Frame& ipv4(unsigned protocol, unsigned ihl = 5) {
    u8(0x40 | ihl).u8(0).u16(0).u16(0).u16(0x4000).u8(64).u8(protocol).u16(0);
    u8(10).u8(0).u8(0).u8(1).u8(10).u8(0).u8(0).u8(2);
    return zeros((ihl > 5 ? ihl - 5 : 0) * 4);
  }
  Frame& ipv6(unsigned next_header) {
    u8(0x60).u8(0).u16(0).u16(0).u8(next_header).u8(64);
    return zeros(32);  // source and destination addresses
  }
  // Hop-by-hop / routing / destination options: (length + 1) * 8 bytes.
  Frame& ipv6_extension(unsigned next_header, unsigned length) {
    u8(next_header).u8(length);
    return zeros((length + 1) * 8 - 2);
  }
  // 20 bytes plus (data_offset - 5) 32-bit words of options.
  Frame& tcp(unsigned data_offset = 5) {
    u16(40000).u16(5201).u16(0).u16(1).u16(0).u16(0);
    u8(data_offset << 4).u8(0x10).u16(65535).u16(0).u16(0);
    return zeros((data_offset > 5 ? data_offset - 5 : 0) * 4);
  }
  Frame& udp() { return u16(40000).u16(5201).u16(0).u16(0); }

  std::span<const std::byte> span() const { return bytes_; }
  std::size_t size() const { return bytes_.size(); }
  Frame truncated(std::size_t n) const {
    Frame copy = *this;
    copy.bytes_.resize(n);
    return copy;
  }

 private:
  std::vector<std::byte> bytes_;
};

constexpr unsigned kIpv4 = 0x0800;
constexpr unsigned kIpv6 = 0x86DD;
constexpr unsigned kVlan = 0x8100;
constexpr unsigned kQinQ = 0x88A8;

// Segments and L2 bytes of a super-frame, derived from its parts: every segment
// repeats the `header` bytes and carries up to gso_size payload bytes.
WireShape Expected(std::uint32_t header, std::uint32_t payload, std::uint16_t gso_size) {
  std::uint32_t segments = 0;
  for (std::uint32_t left = payload; left > 0; left -= std::min<std::uint32_t>(left, gso_size)) {
    ++segments;
  }
  if (segments == 0) segments = 1;
  return WireShape{static_cast<std::uint16_t>(segments), payload + segments * header};
}

void ExpectShape(const Frame& frame, std::uint16_t gso_size, WireShape expected) {
  const std::optional<WireShape> shape = wire_shape(frame.span(), gso_size);
  ASSERT_TRUE(shape.has_value());
  EXPECT_EQ(shape->segments, expected.segments);
  EXPECT_EQ(shape->l2_bytes, expected.l2_bytes);
}

TEST(Frame, Ipv4TcpSuperFrame) {
  Frame frame;
  frame.ethernet(kIpv4).ipv4(kTcp).tcp().payload(3000);
  ASSERT_EQ(frame.size(), 14u + 20 + 20 + 3000);
  EXPECT_EQ(l4_payload_offset(frame.span()), 54u);
  // 1448 + 1448 + 104: three segments, each with the 54 header bytes.
  ExpectShape(frame, 1448, WireShape{3, 3000 + 3 * 54});
  ExpectShape(frame, 1448, Expected(54, 3000, 1448));
}

TEST(Frame, Ipv4TcpWithOptionsAndIpOptions) {
  Frame frame;
  frame.ethernet(kIpv4).ipv4(kTcp, 6).tcp(8).payload(2 * 1448);
  // 14 + 24 (IP with one option word) + 32 (TCP with timestamps) = 70.
  EXPECT_EQ(l4_payload_offset(frame.span()), 70u);
  ExpectShape(frame, 1448, WireShape{2, 2 * 1448 + 2 * 70});
}

TEST(Frame, Ipv6TcpSuperFrameNear64KiB) {
  Frame frame;
  frame.ethernet(kIpv6).ipv6(kTcp).tcp().payload(64'000);
  EXPECT_EQ(l4_payload_offset(frame.span()), 74u);
  // 64000 / 1428 = 44.8: 44 full segments and one of 1168 bytes.
  ExpectShape(frame, 1428, WireShape{45, 64'000 + 45 * 74});
  ExpectShape(frame, 1428, Expected(74, 64'000, 1428));
}

TEST(Frame, Ipv6WithExtensionHeaders) {
  Frame frame;
  // Hop-by-hop (8 bytes) -> destination options (24 bytes) -> TCP.
  frame.ethernet(kIpv6).ipv6(0).ipv6_extension(60, 0).ipv6_extension(kTcp, 2).tcp().payload(1000);
  const std::uint32_t header = 14 + 40 + 8 + 24 + 20;
  EXPECT_EQ(l4_payload_offset(frame.span()), header);
  ExpectShape(frame, 400, WireShape{3, 1000 + 3 * header});
}

TEST(Frame, VlanAndQinQTags) {
  Frame one_tag;
  one_tag.ethernet(kIpv4, {kVlan}).ipv4(kTcp).tcp().payload(2000);
  EXPECT_EQ(l4_payload_offset(one_tag.span()), 58u);
  ExpectShape(one_tag, 1000, WireShape{2, 2000 + 2 * 58});

  Frame two_tags;
  two_tags.ethernet(kIpv6, {kQinQ, kVlan}).ipv6(kUdp).udp().payload(2000);
  EXPECT_EQ(l4_payload_offset(two_tags.span()), 22u + 40 + 8);
  ExpectShape(two_tags, 1000, WireShape{2, 2000 + 2 * 70});
}

TEST(Frame, UdpSegmentationOffload) {
  Frame frame;
  frame.ethernet(kIpv4).ipv4(kUdp).udp().payload(5000);
  EXPECT_EQ(l4_payload_offset(frame.span()), 42u);
  // 1472 * 3 = 4416, then 584: four datagrams.
  ExpectShape(frame, 1472, WireShape{4, 5000 + 4 * 42});
}

TEST(Frame, PayloadAnExactMultipleOfGsoSize) {
  Frame frame;
  frame.ethernet(kIpv4).ipv4(kTcp).tcp().payload(4 * 1448);
  ExpectShape(frame, 1448, WireShape{4, 4 * 1448 + 4 * 54});
}

TEST(Frame, HeaderOnlySuperFrameIsOnePacket) {
  Frame frame;
  frame.ethernet(kIpv4).ipv4(kTcp).tcp();
  ExpectShape(frame, 1448, WireShape{1, 54});
}

TEST(Frame, WithoutGsoEveryFrameIsOnePacketOfItsOwnLength) {
  Frame tcp;
  tcp.ethernet(kIpv4).ipv4(kTcp).tcp().payload(1460);
  ExpectShape(tcp, 0, WireShape{1, 1514});
  Frame arp;
  arp.ethernet(0x0806).zeros(28);
  ExpectShape(arp, 0, WireShape{1, 42});
  // No parsing happens without GSO, so even bytes that are no frame at all pass.
  Frame junk;
  junk.zeros(5);
  ExpectShape(junk, 0, WireShape{1, 5});
}

TEST(Frame, SegmentCountLimit) {
  // gso_size 1 and 65535 payload bytes: 65535 segments, the most a shape can hold.
  Frame most;
  most.ethernet(kIpv4).ipv4(kUdp).udp().payload(65'535);
  ExpectShape(most, 1, WireShape{65'535, 65'535 + 65'535 * 42});
  Frame too_many;
  too_many.ethernet(kIpv4).ipv4(kUdp).udp().payload(65'536);
  EXPECT_FALSE(wire_shape(too_many.span(), 1).has_value());
}

TEST(Frame, MalformedSuperFramesGiveNullopt) {
  Frame good;
  good.ethernet(kIpv4).ipv4(kTcp).tcp().payload(100);
  ASSERT_TRUE(wire_shape(good.span(), 1448).has_value());

  std::vector<std::pair<const char*, Frame>> bad;
  bad.emplace_back("empty", Frame{});
  bad.emplace_back("shorter than an Ethernet header", good.truncated(13));
  bad.emplace_back("no IP header", good.truncated(14));
  bad.emplace_back("truncated IPv4 header", good.truncated(14 + 19));
  bad.emplace_back("truncated TCP header", good.truncated(14 + 20 + 19));
  Frame arp;
  arp.ethernet(0x0806).zeros(28).payload(100);
  bad.emplace_back("not IP", arp);
  Frame ihl4;
  ihl4.ethernet(kIpv4).ipv4(kTcp, 4).zeros(4).tcp().payload(100);
  bad.emplace_back("IPv4 IHL below 5", ihl4);
  Frame ihl_past_end;
  ihl_past_end.ethernet(kIpv4).ipv4(kUdp, 15);
  bad.emplace_back("IPv4 options past the end", ihl_past_end.truncated(14 + 30));
  Frame doff4;
  doff4.ethernet(kIpv4).ipv4(kTcp).tcp(4).payload(100);
  bad.emplace_back("TCP data offset below 5", doff4);
  Frame doff_past_end;
  doff_past_end.ethernet(kIpv4).ipv4(kTcp).tcp(15);
  bad.emplace_back("TCP options past the end", doff_past_end.truncated(14 + 20 + 40));
  Frame icmp;
  icmp.ethernet(kIpv4).ipv4(kIcmp).payload(100);
  bad.emplace_back("ICMP", icmp);
  Frame short_udp;
  short_udp.ethernet(kIpv4).ipv4(kUdp);
  bad.emplace_back("UDP header cut", short_udp.u16(1).u16(2));
  Frame three_tags;
  three_tags.ethernet(kIpv4, {kQinQ, kVlan, kVlan}).ipv4(kTcp).tcp().payload(100);
  bad.emplace_back("three VLAN tags", three_tags);
  Frame cut_tag;
  cut_tag.ethernet(kIpv4, {kVlan});
  bad.emplace_back("VLAN tag cut", cut_tag.truncated(16));
  Frame short_ipv6;
  short_ipv6.ethernet(kIpv6).ipv6(kTcp);
  bad.emplace_back("truncated IPv6 header", short_ipv6.truncated(14 + 39));
  Frame ext_past_end;
  ext_past_end.ethernet(kIpv6).ipv6(0).ipv6_extension(kTcp, 4);
  bad.emplace_back("IPv6 extension past the end", ext_past_end.truncated(14 + 40 + 16));
  Frame fragment;
  fragment.ethernet(kIpv6).ipv6(44).zeros(8).tcp().payload(100);
  bad.emplace_back("IPv6 fragment header", fragment);

  for (const auto& [what, frame] : bad) {
    EXPECT_FALSE(wire_shape(frame.span(), 1448).has_value()) << what;
    EXPECT_FALSE(l4_payload_offset(frame.span()).has_value()) << what;
  }
}

}  // namespace
}  // namespace longhaul::core

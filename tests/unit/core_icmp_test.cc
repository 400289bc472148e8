// MTU support in core: the IP size of a frame's largest wire packet, and the
// ICMP "too big" replies (RFC 792/1191, RFC 4443) with their checksums checked
// independently (a correct Internet checksum sums to 0xFFFF over its data).
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "core/checksum.hh"
#include "core/frame.hh"
#include "core/icmp.hh"

namespace longhaul::core {
namespace {

using Bytes = std::vector<std::byte>;

void Put16(Bytes& b, std::size_t at, unsigned v) {
  b[at] = static_cast<std::byte>((v >> 8) & 0xFF);
  b[at + 1] = static_cast<std::byte>(v & 0xFF);
}
unsigned Get16(const Bytes& b, std::size_t at) {
  return (std::to_integer<unsigned>(b[at]) << 8) | std::to_integer<unsigned>(b[at + 1]);
}
unsigned Byte(const Bytes& b, std::size_t at) {
  return std::to_integer<unsigned>(b[at]);
}

// Ethernet (dst 02:.., src 04:..) + IPv4 from 198.18.0.2 to 198.18.0.1 + UDP, ip_bytes long.
Bytes Ipv4Frame(std::size_t ip_bytes, bool dont_fragment, unsigned protocol = 17,
                unsigned icmp_type = 8) {
  Bytes b(14 + ip_bytes, std::byte{0});
  for (int i = 0; i < 6; ++i) b[static_cast<std::size_t>(i)] = std::byte{0x02};
  for (int i = 6; i < 12; ++i) b[static_cast<std::size_t>(i)] = std::byte{0x04};
  Put16(b, 12, 0x0800);
  b[14] = std::byte{0x45};
  Put16(b, 16, static_cast<unsigned>(ip_bytes));
  Put16(b, 20, dont_fragment ? 0x4000 : 0);
  b[22] = std::byte{64};
  b[23] = static_cast<std::byte>(protocol);
  const unsigned src[4] = {198, 18, 0, 2}, dst[4] = {198, 18, 0, 1};
  for (std::size_t i = 0; i < 4; ++i) {
    b[26 + i] = static_cast<std::byte>(src[i]);
    b[30 + i] = static_cast<std::byte>(dst[i]);
  }
  if (protocol == 1) b[34] = static_cast<std::byte>(icmp_type);
  for (std::size_t i = 42; i < b.size(); ++i) b[i] = static_cast<std::byte>(i * 7);
  return b;
}

Bytes Ipv6Frame(std::size_t ip_bytes, unsigned next_header = 17, unsigned icmp_type = 128) {
  Bytes b(14 + ip_bytes, std::byte{0});
  for (int i = 0; i < 6; ++i) b[static_cast<std::size_t>(i)] = std::byte{0x02};
  for (int i = 6; i < 12; ++i) b[static_cast<std::size_t>(i)] = std::byte{0x04};
  Put16(b, 12, 0x86DD);
  b[14] = std::byte{0x60};
  Put16(b, 18, static_cast<unsigned>(ip_bytes - 40));
  b[20] = static_cast<std::byte>(next_header);
  b[21] = std::byte{64};
  // 2001:2::2 -> 2001:2::1
  Put16(b, 22, 0x2001);
  Put16(b, 24, 0x0002);
  b[37] = std::byte{2};
  Put16(b, 38, 0x2001);
  Put16(b, 40, 0x0002);
  b[53] = std::byte{1};
  if (next_header == 58) b[54] = static_cast<std::byte>(icmp_type);
  for (std::size_t i = 62; i < b.size(); ++i) b[i] = static_cast<std::byte>(i * 5);
  return b;
}

std::uint32_t Sum(const Bytes& b, std::size_t from, std::size_t length, std::uint32_t initial = 0) {
  return ones_complement_sum(std::span<const std::byte>(b).subspan(from, length), initial);
}

TEST(LargestL3Bytes, PlainFramesAndSuperFramesBySegment) {
  const Bytes plain = Ipv4Frame(1500, true);
  EXPECT_EQ(largest_l3_bytes(plain, 0), 1500u);
  // A TCP super-frame: 14 + 20 + 20 bytes of headers, 4000 of payload, gso 1448:
  // each full wire packet is 20 + 20 + 1448 = 1488 bytes of IP.
  Bytes super = Ipv4Frame(40 + 4000, true, 6);
  super[14 + 20 + 12] = std::byte{0x50};  // TCP data offset 5 words
  EXPECT_EQ(largest_l3_bytes(super, 1448), 1488u);
  EXPECT_EQ(largest_l3_bytes(super, 8000), 4040u);  // one segment: all of it
  Bytes tagged = plain;
  tagged.insert(tagged.begin() + 12, {std::byte{0x81}, std::byte{0}, std::byte{0}, std::byte{5}});
  EXPECT_EQ(largest_l3_bytes(tagged, 0), 1500u);  // the VLAN tag is L2
}

TEST(TooBigReply, Ipv4FragmentationNeededWithValidChecksumsAndTheQuote) {
  const Bytes frame = Ipv4Frame(1500, true);
  Bytes out(kTooBigReplyMaxBytes);
  const std::size_t length = build_too_big_reply(frame, 1400, out);
  // 14 + 20 + 8 + 548 quoted bytes (576-byte datagram).
  ASSERT_EQ(length, 14u + 576);
  out.resize(length);
  for (std::size_t i = 0; i < 6; ++i) {
    EXPECT_EQ(Byte(out, i), 0x04u);      // back to the sender's MAC
    EXPECT_EQ(Byte(out, 6 + i), 0x02u);  // from the one it was sent to
  }
  EXPECT_EQ(Get16(out, 12), 0x0800u);
  EXPECT_EQ(Get16(out, 16), 576u);  // total length
  EXPECT_EQ(Byte(out, 23), 1u);     // ICMP
  EXPECT_EQ(Sum(out, 14, 20), 0xFFFFu) << "IPv4 header checksum";
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(out[26 + i], frame[30 + i]);  // source = original destination
    EXPECT_EQ(out[30 + i], frame[26 + i]);  // destination = original source
  }
  EXPECT_EQ(Byte(out, 34), 3u);      // destination unreachable
  EXPECT_EQ(Byte(out, 35), 4u);      // fragmentation needed and DF set
  EXPECT_EQ(Get16(out, 40), 1400u);  // next-hop MTU
  EXPECT_EQ(Sum(out, 34, 8 + 548), 0xFFFFu) << "ICMP checksum";
  EXPECT_TRUE(std::equal(out.begin() + 42, out.end(), frame.begin() + 14));
}

TEST(TooBigReply, Ipv4WithoutDfOrAnsweringAnIcmpErrorGetsNoReply) {
  Bytes out(kTooBigReplyMaxBytes);
  EXPECT_EQ(build_too_big_reply(Ipv4Frame(1500, false), 1400, out), 0u);
  EXPECT_EQ(build_too_big_reply(Ipv4Frame(1500, true, 1, 3), 1400, out), 0u);
  EXPECT_GT(build_too_big_reply(Ipv4Frame(1500, true, 1, 8), 1400, out), 0u);  // echo request
  Bytes multicast_source = Ipv4Frame(1500, true);
  multicast_source[26] = std::byte{224};
  EXPECT_EQ(build_too_big_reply(multicast_source, 1400, out), 0u);
  Bytes arp = Ipv4Frame(1500, true);
  Put16(arp, 12, 0x0806);
  EXPECT_EQ(build_too_big_reply(arp, 1400, out), 0u);
  Bytes small(100);
  EXPECT_EQ(build_too_big_reply(Ipv4Frame(1500, true), 1400, small), 0u);  // no room
}

TEST(TooBigReply, Ipv6PacketTooBigWithPseudoHeaderChecksum) {
  const Bytes frame = Ipv6Frame(1500);
  Bytes out(kTooBigReplyMaxBytes);
  const std::size_t length = build_too_big_reply(frame, 1400, out);
  ASSERT_EQ(length, 14u + 1280);  // the reply fills the IPv6 minimum MTU
  out.resize(length);
  EXPECT_EQ(Get16(out, 12), 0x86DDu);
  EXPECT_EQ(Byte(out, 14) >> 4, 6u);
  EXPECT_EQ(Get16(out, 18), 1240u);  // payload length
  EXPECT_EQ(Byte(out, 20), 58u);
  EXPECT_TRUE(std::equal(out.begin() + 22, out.begin() + 38, frame.begin() + 38));
  EXPECT_TRUE(std::equal(out.begin() + 38, out.begin() + 54, frame.begin() + 22));
  EXPECT_EQ(Byte(out, 54), 2u);  // packet too big
  EXPECT_EQ(Byte(out, 55), 0u);
  EXPECT_EQ((Get16(out, 58) << 16) | Get16(out, 60), 1400u);
  // Pseudo-header: source, destination, upper-layer length, next header.
  const std::uint32_t pseudo = Sum(out, 22, 32) + 1240 + 58;
  EXPECT_EQ(Sum(out, 54, 1240, pseudo), 0xFFFFu) << "ICMPv6 checksum";
  EXPECT_TRUE(std::equal(out.begin() + 62, out.end(), frame.begin() + 14));
}

TEST(TooBigReply, Ipv6ErrorsAndMulticastSourcesGetNoReply) {
  Bytes out(kTooBigReplyMaxBytes);
  EXPECT_EQ(build_too_big_reply(Ipv6Frame(1500, 58, 1), 1400, out), 0u);
  EXPECT_GT(build_too_big_reply(Ipv6Frame(1500, 58, 128), 1400, out), 0u);
  Bytes multicast = Ipv6Frame(1500);
  multicast[22] = std::byte{0xFF};
  EXPECT_EQ(build_too_big_reply(multicast, 1400, out), 0u);
}

}  // namespace
}  // namespace longhaul::core

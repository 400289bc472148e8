#include "core/icmp.hh"

#include <algorithm>
#include <cstring>

#include "core/checksum.hh"
#include "core/frame.hh"

namespace longhaul::core {

namespace {

constexpr unsigned kProtoIcmp = 1;
constexpr unsigned kProtoIcmpv6 = 58;
// ICMP quotes as much of the dropped packet as keeps the reply within the
// minimum datagram every host accepts: 576 bytes for IPv4 (RFC 1812 4.3.2.3),
// the 1280-byte IPv6 minimum MTU for IPv6 (RFC 4443 2.4(c)).
constexpr std::size_t kIpv4QuoteBytes = 576 - 20 - 8;
constexpr std::size_t kIpv6QuoteBytes = 1280 - 40 - 8;

unsigned at(std::span<const std::byte> bytes, std::size_t i) noexcept {
  return std::to_integer<unsigned>(bytes[i]);
}

void put16(std::span<std::byte> bytes, std::size_t i, unsigned value) noexcept {
  bytes[i] = static_cast<std::byte>((value >> 8) & 0xFF);
  bytes[i + 1] = static_cast<std::byte>(value & 0xFF);
}

void put32(std::span<std::byte> bytes, std::size_t i, std::uint32_t value) noexcept {
  put16(bytes, i, value >> 16);
  put16(bytes, i + 2, value & 0xFFFF);
}

std::uint16_t finish(std::uint32_t sum) noexcept {
  return static_cast<std::uint16_t>(~sum & 0xFFFF);
}

/// Copies the L2 header with the MAC addresses swapped; returns its length.
std::size_t reply_l2_header(std::span<const std::byte> frame, std::size_t l3,
                            std::span<std::byte> out) noexcept {
  std::memcpy(out.data(), frame.data() + 6, 6);
  std::memcpy(out.data() + 6, frame.data(), 6);
  std::memcpy(out.data() + 12, frame.data() + 12, l3 - 12);  // VLAN tags and EtherType
  return l3;
}

std::size_t ipv4_reply(std::span<const std::byte> frame, std::size_t l3, std::uint32_t mtu,
                       std::span<std::byte> out) noexcept {
  if (frame.size() < l3 + 20 || (at(frame, l3) >> 4) != 4) return 0;
  const std::size_t ihl = (at(frame, l3) & 0x0F) * 4U;
  if (ihl < 20 || frame.size() < l3 + ihl) return 0;
  const unsigned flags_fragment = (at(frame, l3 + 6) << 8) | at(frame, l3 + 7);
  const bool dont_fragment = (flags_fragment & 0x4000) != 0;
  const bool later_fragment = (flags_fragment & 0x1FFF) != 0;
  if (!dont_fragment || later_fragment) return 0;
  const unsigned source_first = at(frame, l3 + 12);
  const bool source_zero = source_first == 0 && at(frame, l3 + 13) == 0 &&
                           at(frame, l3 + 14) == 0 && at(frame, l3 + 15) == 0;
  const bool source_broadcast = source_first == 255 && at(frame, l3 + 13) == 255 &&
                                at(frame, l3 + 14) == 255 && at(frame, l3 + 15) == 255;
  if (source_zero || source_broadcast || (source_first >= 224 && source_first < 240)) return 0;
  if (at(frame, l3 + 9) == kProtoIcmp) {
    // Only queries (echo, timestamp...) are answered, never errors.
    if (frame.size() < l3 + ihl + 1) return 0;
    const unsigned type = at(frame, l3 + ihl);
    if (type == 3 || type == 4 || type == 5 || type == 11 || type == 12) return 0;
  }
  const std::size_t quote = std::min(frame.size() - l3, kIpv4QuoteBytes);
  const std::size_t total = l3 + 20 + 8 + quote;
  if (out.size() < total) return 0;
  reply_l2_header(frame, l3, out);
  const std::span<std::byte> ip = out.subspan(l3, 20);
  std::fill(ip.begin(), ip.end(), std::byte{0});
  ip[0] = std::byte{0x45};
  ip[1] = std::byte{0xC0};  // precedence "internetwork control", as routers send ICMP
  put16(ip, 2, static_cast<unsigned>(20 + 8 + quote));
  ip[8] = std::byte{64};  // TTL
  ip[9] = std::byte{kProtoIcmp};
  std::memcpy(ip.data() + 12, frame.data() + l3 + 16, 4);  // from the packet's destination
  std::memcpy(ip.data() + 16, frame.data() + l3 + 12, 4);  // to its source
  put16(ip, 10, finish(ones_complement_sum(ip)));
  const std::span<std::byte> icmp = out.subspan(l3 + 20, 8 + quote);
  icmp[0] = std::byte{3};  // destination unreachable
  icmp[1] = std::byte{4};  // fragmentation needed and DF set
  put16(icmp, 2, 0);
  put16(icmp, 4, 0);
  put16(icmp, 6, std::min<std::uint32_t>(mtu, 0xFFFF));  // next-hop MTU (RFC 1191)
  std::memcpy(icmp.data() + 8, frame.data() + l3, quote);
  put16(icmp, 2, finish(ones_complement_sum(icmp)));
  return total;
}

std::size_t ipv6_reply(std::span<const std::byte> frame, std::size_t l3, std::uint32_t mtu,
                       std::span<std::byte> out) noexcept {
  if (frame.size() < l3 + 40 || (at(frame, l3) >> 4) != 6) return 0;
  const std::size_t source = l3 + 8;
  if (at(frame, source) == 0xFF) return 0;  // multicast source
  bool unspecified = true;
  for (std::size_t i = 0; i < 16; ++i) unspecified = unspecified && at(frame, source + i) == 0;
  if (unspecified) return 0;
  if (at(frame, l3 + 6) == kProtoIcmpv6) {
    // Types below 128 are errors: never answered.
    if (frame.size() < l3 + 41 || at(frame, l3 + 40) < 128) return 0;
  }
  const std::size_t quote = std::min(frame.size() - l3, kIpv6QuoteBytes);
  const std::size_t payload = 8 + quote;
  const std::size_t total = l3 + 40 + payload;
  if (out.size() < total) return 0;
  reply_l2_header(frame, l3, out);
  const std::span<std::byte> ip = out.subspan(l3, 40);
  std::fill(ip.begin(), ip.end(), std::byte{0});
  ip[0] = std::byte{0x60};
  put16(ip, 4, static_cast<unsigned>(payload));
  ip[6] = std::byte{kProtoIcmpv6};
  ip[7] = std::byte{64};                                   // hop limit
  std::memcpy(ip.data() + 8, frame.data() + l3 + 24, 16);  // from the packet's destination
  std::memcpy(ip.data() + 24, frame.data() + l3 + 8, 16);  // to its source
  const std::span<std::byte> icmp = out.subspan(l3 + 40, payload);
  icmp[0] = std::byte{2};  // packet too big
  icmp[1] = std::byte{0};
  put16(icmp, 2, 0);
  put32(icmp, 4, mtu);
  std::memcpy(icmp.data() + 8, frame.data() + l3, quote);
  // Pseudo-header (RFC 8200 8.1): addresses, upper-layer length, next header.
  std::uint32_t sum = ones_complement_sum(ip.subspan(8, 32));
  sum += static_cast<std::uint32_t>(payload) + kProtoIcmpv6;
  put16(icmp, 2, finish(ones_complement_sum(icmp, sum)));
  return total;
}

}  // namespace

std::size_t build_too_big_reply(std::span<const std::byte> frame, std::uint32_t mtu,
                                std::span<std::byte> out) noexcept {
  const auto l3 = l3_offset(frame);
  if (!l3) return 0;
  const unsigned ether_type = (at(frame, *l3 - 2) << 8) | at(frame, *l3 - 1);
  if (ether_type == 0x0800) return ipv4_reply(frame, *l3, mtu, out);
  if (ether_type == 0x86DD) return ipv6_reply(frame, *l3, mtu, out);
  return 0;
}

}  // namespace longhaul::core

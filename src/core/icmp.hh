#pragma once
// "Too big" replies for an MTU that drops packets, so path MTU discovery can
// be tested: ICMP destination unreachable / fragmentation needed (type 3
// code 4, RFC 792 with RFC 1191's next-hop MTU) for IPv4 packets with DF set,
// ICMPv6 packet too big (type 2, RFC 4443 section 3.2) for IPv6. The reply is
// a whole Ethernet frame addressed back to the sender: MAC and IP addresses
// swapped (the emulator has no address of its own, so the message comes from
// the packet's destination, which every stack accepts: what it checks is the
// quoted header), VLAN tags kept, checksums complete.
//
// No reply (RFC 1122 3.2.2, RFC 4443 2.4(e)) to ICMP error messages, to IPv4
// packets without DF (a router would fragment them; longhaul drops them), to
// non-first IPv4 fragments, or to multicast, broadcast or unspecified sources.
#include <cstddef>
#include <cstdint>
#include <span>

namespace longhaul::core {

/// Room a reply needs: Ethernet with two VLAN tags, IPv6, ICMPv6, 1232 quoted bytes.
inline constexpr std::size_t kTooBigReplyMaxBytes = 22 + 40 + 8 + 1232;

/// Writes into `out` the reply to `frame`, dropped for exceeding `mtu` (bytes of
/// IP packet); returns its length, or 0 when no reply is due or `out` is too small.
std::size_t build_too_big_reply(std::span<const std::byte> frame, std::uint32_t mtu,
                                std::span<std::byte> out) noexcept;

}  // namespace longhaul::core

#pragma once
// ECN Congestion Experienced marking (RFC 3168), for netem's `ecn` option: a
// packet the loss model would drop is marked CE instead when its sender
// negotiated ECN.
#include <cstddef>
#include <span>

namespace longhaul::core {

/// Marks an Ethernet frame carrying IPv4 or IPv6 (up to two VLAN tags) as CE
/// when it is ECN-capable (ECT(0) or ECT(1)); for IPv4 the header checksum is
/// updated incrementally (RFC 1624). Returns true when the frame now carries
/// CE (including when it already did), false when it is Not-ECT, not IP, or
/// too short (the frame is then unchanged), like the kernel's INET_ECN_set_ce.
bool mark_ecn_ce(std::span<std::byte> frame) noexcept;

}  // namespace longhaul::core

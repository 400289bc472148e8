#pragma once
// Just enough header parsing to turn a segmentation-offload super-frame into
// the wire packets it stands for (DESIGN.md rule 7): Ethernet (with up to two
// VLAN tags), IPv4 or IPv6 (with extension headers), TCP or UDP.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace longhaul::core {

/// Shape of a frame on the wire.
struct WireShape {
  std::uint16_t segments = 1;  ///< wire packets
  std::uint32_t l2_bytes = 0;  ///< their L2 bytes, headers repeated per segment
};

/// Offset of the first payload byte after the L4 header; nullopt if unparsable.
std::optional<std::uint32_t> l4_payload_offset(std::span<const std::byte> frame) noexcept;

/// Offset of the L3 header after Ethernet and up to two VLAN tags; nullopt if too short.
std::optional<std::uint32_t> l3_offset(std::span<const std::byte> frame) noexcept;

/// Bytes after the L2 header of the largest wire packet `frame` stands for (its
/// IP packet, what an MTU limits): for a super-frame, the headers plus one
/// gso_size of payload; otherwise the frame less its L2 header. nullopt when a
/// super-frame's headers cannot be parsed.
std::optional<std::uint32_t> largest_l3_bytes(std::span<const std::byte> frame,
                                              std::uint16_t gso_size) noexcept;

/// Wire shape of `frame`; gso_size 0 means "not a super-frame". nullopt when a
/// super-frame's headers cannot be parsed or it would need > 65535 segments.
std::optional<WireShape> wire_shape(std::span<const std::byte> frame,
                                    std::uint16_t gso_size) noexcept;

}  // namespace longhaul::core

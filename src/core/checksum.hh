#pragma once
// Internet checksum (RFC 1071) helpers for frames whose transport checksum the
// sender left to offload (CHECKSUM_PARTIAL / virtio-net NEEDS_CSUM): the
// checksum field then holds only the pseudo-header sum, and whoever sends the
// frame on must finish it. A stage that changes payload bytes (corruption)
// must finish it first, over the original bytes, or the damage would be
// covered by a checksum computed afterwards and no receiver could see it.
#include <cstddef>
#include <cstdint>
#include <span>

namespace longhaul::core {

/// Ones'-complement sum of `bytes` (big-endian 16-bit words), not folded or inverted.
std::uint32_t ones_complement_sum(std::span<const std::byte> bytes,
                                  std::uint32_t initial = 0) noexcept;

/// Finishes a partial checksum in place: sums from csum_start to the end of the
/// frame (the field's pseudo-header sum included) and stores the complement at
/// csum_start + csum_offset. False (nothing written) when the offsets do not fit.
bool complete_partial_checksum(std::span<std::byte> frame, std::uint16_t csum_start,
                               std::uint16_t csum_offset) noexcept;

}  // namespace longhaul::core

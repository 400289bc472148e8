#include "engine/arena_access.hh"

#include <cstring>

#include "core/checksum.hh"
#include "engine/port.hh"

namespace longhaul::engine {

std::optional<core::BufferHandle> ArenaPacketAccess::clone(const core::Packet& packet) noexcept {
  const auto length = static_cast<std::uint32_t>(kVnetHeaderBytes + packet.frame_bytes);
  const auto copy = arena_.allocate(length);
  if (!copy) return std::nullopt;
  std::memcpy(arena_.data(*copy), arena_.data(packet.buffer), length);
  return copy;
}

std::span<std::byte> ArenaPacketAccess::bytes(const core::Packet& packet) noexcept {
  std::byte* stored = arena_.data(packet.buffer);
  VnetHeader header;
  std::memcpy(&header, stored, sizeof header);
  if ((header.gso_type & ~kVnetGsoEcn) != kVnetGsoNone) return {};
  std::span<std::byte> frame(stored + kVnetHeaderBytes, packet.frame_bytes);
  if ((header.flags & kVnetNeedsChecksum) != 0) {
    if (!core::complete_partial_checksum(frame, header.csum_start, header.csum_offset)) return {};
    header.flags = static_cast<std::uint8_t>(header.flags & ~kVnetNeedsChecksum);
    std::memcpy(stored, &header, sizeof header);
  }
  return frame;
}

}  // namespace longhaul::engine

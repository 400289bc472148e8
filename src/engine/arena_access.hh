#pragma once
// The engine's side of core/packet_access.hh: stages reach frame bytes in the
// direction's BufferArena through these, never the arena itself. Each stored
// frame is [virtio-net header][L2 frame].
#include "core/buffer_arena.hh"
#include "core/packet_access.hh"

namespace longhaul::engine {

class ArenaPacketAccess final : public core::PacketCloner, public core::PacketBytes {
 public:
  explicit ArenaPacketAccess(core::BufferArena& arena) noexcept : arena_(arena) {}

  /// Copies header and frame into a fresh buffer; nullopt when the arena is full.
  std::optional<core::BufferHandle> clone(const core::Packet& packet) noexcept override;
  /// The L2 frame, writable, with any offloaded transport checksum finished in
  /// software first (and the header's NEEDS_CSUM flag cleared) so later byte
  /// changes stay detectable. Empty for super-frames, whose per-segment
  /// checksums only the kernel can compute.
  std::span<std::byte> bytes(const core::Packet& packet) noexcept override;

 private:
  core::BufferArena& arena_;
};

}  // namespace longhaul::engine

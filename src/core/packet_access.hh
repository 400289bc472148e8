#pragma once
// Narrow ports through which stages reach a packet's bytes, which live in the
// engine's BufferArena. The models never see the arena: the engine implements
// these over it, and unit tests use fakes.
#include <cstddef>
#include <optional>
#include <span>

#include "core/packet.hh"

namespace longhaul::core {

/// Makes a second, independent copy of a frame's bytes (used by duplication).
class PacketCloner {
 public:
  virtual ~PacketCloner() = default;
  /// A new buffer holding a copy of packet's frame_bytes bytes, or nullopt when
  /// no buffer is free. Called exactly once per copy a stage creates, so an
  /// implementation may count successful calls as packets entering the
  /// direction (the copy is then released or dropped like any other packet).
  virtual std::optional<BufferHandle> clone(const Packet& packet) noexcept = 0;
};

/// Gives write access to a frame's bytes (used by corruption and ECN marking).
class PacketBytes {
 public:
  virtual ~PacketBytes() = default;
  /// The frame's frame_bytes bytes, writable; an empty span if unavailable.
  /// Contract for corruption: the L3/L4 checksums in the returned bytes must be
  /// final. A frame still waiting for checksum offload (virtio-net NEEDS_CSUM,
  /// CHECKSUM_PARTIAL) must have its checksum completed in software before the
  /// span is returned, otherwise the kernel would checksum the corrupted payload
  /// and no receiver could detect the damage (netem does the same:
  /// skb_checksum_help before flipping a bit). core/checksum.hh's
  /// complete_partial_checksum does this from the virtio-net csum_start/offset.
  virtual std::span<std::byte> bytes(const Packet& packet) noexcept = 0;
};

}  // namespace longhaul::core

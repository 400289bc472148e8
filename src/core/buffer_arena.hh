#pragma once
// Packet bytes for everything a direction holds in flight (queue + delay line).
//
// Why chunks: the delay line holds rate x delay bytes (about 22 MB at 1 Gbit/s
// and 173 ms one way), frames range from 60 bytes to 64 KiB GSO super-frames,
// and later stages (jitter, reordering) free out of order. Fixed-size slots
// would waste up to 1000x on small frames; a byte ring would touch its whole
// reservation on every wrap. Instead frames are bump-allocated into 2 MiB
// chunks; a chunk is reused once every frame in it is released, most recently
// freed first, so resident memory tracks the bytes really in flight while the
// reservation (virtual only) covers the configured worst case.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "core/packet.hh"

namespace longhaul::core {

/// Anonymous memory for an arena: reserved without committing it (pages become resident when
/// first touched) and not inherited by a child process, so a command that `run` forks is neither
/// charged for the engine's buffers (a fork would otherwise fail under the kernel's overcommit
/// heuristic once they exceed what it allows twice) nor made to copy their page tables.
class MappedBytes {
 public:
  /// Throws std::bad_alloc when the kernel refuses the mapping.
  explicit MappedBytes(std::size_t bytes);
  MappedBytes(MappedBytes&& other) noexcept;
  MappedBytes& operator=(MappedBytes&& other) noexcept;
  MappedBytes(const MappedBytes&) = delete;
  MappedBytes& operator=(const MappedBytes&) = delete;
  ~MappedBytes();
  std::byte* data() const noexcept { return data_; }

 private:
  std::byte* data_ = nullptr;
  std::size_t bytes_ = 0;
};

class BufferArena {
 public:
  static constexpr std::size_t kAlignment = 64;
  static constexpr std::size_t kDefaultChunkBytes = std::size_t{2} << 20;

  /// Reserves capacity_bytes (rounded up to whole chunks) of address space.
  explicit BufferArena(std::size_t capacity_bytes, std::size_t chunk_bytes = kDefaultChunkBytes);

  /// Room for `bytes` contiguous bytes; nullopt when the arena is exhausted or
  /// the request is larger than a chunk. Never allocates from the system.
  std::optional<BufferHandle> allocate(std::uint32_t bytes) noexcept;
  /// Shrinks the most recent allocation to `bytes` (after a receive told the real size).
  void shrink_last(BufferHandle handle, std::uint32_t bytes) noexcept;
  /// Gives back an allocation; its chunk is reused when all its frames are back.
  void release(BufferHandle handle) noexcept;
  /// Start of an allocation's bytes.
  std::byte* data(BufferHandle handle) const noexcept {
    return base_ + std::size_t{handle} * kAlignment;
  }

  std::size_t capacity_bytes() const noexcept { return chunk_count_ * chunk_bytes_; }
  std::size_t chunk_bytes() const noexcept { return chunk_bytes_; }
  /// Bytes allocated (rounded to the alignment) in chunks that still hold a live
  /// allocation: a released frame's bytes count until its whole chunk is released.
  std::size_t bytes_in_use() const noexcept { return bytes_in_use_; }
  /// Chunks ever handed out: an upper bound on the resident memory the arena caused.
  std::size_t chunks_touched() const noexcept { return next_fresh_chunk_; }
  std::size_t live_allocations() const noexcept { return live_allocations_; }

 private:
  bool open_chunk() noexcept;

  std::size_t chunk_bytes_;
  std::size_t chunk_count_;
  MappedBytes storage_;
  std::byte* base_;  // storage_'s first byte (page-aligned, so kAlignment-aligned)
  std::vector<std::uint32_t> live_in_chunk_;
  std::vector<std::size_t> used_in_chunk_;
  std::vector<std::uint32_t> free_chunks_;  // LIFO: the most recently used chunk is warmest
  std::size_t next_fresh_chunk_ = 0;
  std::size_t current_chunk_ = SIZE_MAX;
  std::size_t bump_ = 0;  // offset inside the current chunk
  std::size_t last_offset_ = SIZE_MAX;
  std::size_t last_size_ = 0;
  std::size_t bytes_in_use_ = 0;
  std::size_t live_allocations_ = 0;
};

}  // namespace longhaul::core

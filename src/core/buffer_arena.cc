#include "core/buffer_arena.hh"

#include <sys/mman.h>

#include <new>
#include <utility>

namespace longhaul::core {

namespace {
std::size_t round_up(std::size_t value, std::size_t to) {
  return (value + to - 1) / to * to;
}
}  // namespace

MappedBytes::MappedBytes(std::size_t bytes) : bytes_(bytes == 0 ? 1 : bytes) {
  void* mapped = ::mmap(nullptr, bytes_, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (mapped == MAP_FAILED) throw std::bad_alloc();
  data_ = static_cast<std::byte*>(mapped);
  // Best effort: without it a child only inherits the mapping, as before.
  (void)::madvise(mapped, bytes_, MADV_DONTFORK);
}

MappedBytes::MappedBytes(MappedBytes&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), bytes_(std::exchange(other.bytes_, 0)) {}

MappedBytes& MappedBytes::operator=(MappedBytes&& other) noexcept {
  if (this != &other) {
    if (data_ != nullptr) ::munmap(data_, bytes_);
    data_ = std::exchange(other.data_, nullptr);
    bytes_ = std::exchange(other.bytes_, 0);
  }
  return *this;
}

MappedBytes::~MappedBytes() {
  if (data_ != nullptr) ::munmap(data_, bytes_);
}

BufferArena::BufferArena(std::size_t capacity_bytes, std::size_t chunk_bytes)
    : chunk_bytes_(round_up(chunk_bytes, kAlignment)),
      chunk_count_(round_up(capacity_bytes == 0 ? 1 : capacity_bytes, chunk_bytes_) / chunk_bytes_),
      storage_(chunk_count_ * chunk_bytes_),
      base_(storage_.data()),
      live_in_chunk_(chunk_count_, 0),
      used_in_chunk_(chunk_count_, 0) {
  free_chunks_.reserve(chunk_count_);
}

bool BufferArena::open_chunk() noexcept {
  if (!free_chunks_.empty()) {
    current_chunk_ = free_chunks_.back();
    free_chunks_.pop_back();
  } else if (next_fresh_chunk_ < chunk_count_) {
    current_chunk_ = next_fresh_chunk_++;
  } else {
    current_chunk_ = SIZE_MAX;
    return false;
  }
  bump_ = 0;
  return true;
}

std::optional<BufferHandle> BufferArena::allocate(std::uint32_t bytes) noexcept {
  const std::size_t size = round_up(bytes == 0 ? 1 : bytes, kAlignment);
  if (size > chunk_bytes_) return std::nullopt;
  if (current_chunk_ == SIZE_MAX || bump_ + size > chunk_bytes_) {
    // No chunk to move to: keep the current one, whose tail still fits smaller frames.
    if (free_chunks_.empty() && next_fresh_chunk_ == chunk_count_) return std::nullopt;
    // Leave the current chunk; if nothing in it is live it can be reused at once.
    if (current_chunk_ != SIZE_MAX && live_in_chunk_[current_chunk_] == 0) {
      free_chunks_.push_back(static_cast<std::uint32_t>(current_chunk_));
    }
    if (!open_chunk()) return std::nullopt;
  }
  const std::size_t offset = current_chunk_ * chunk_bytes_ + bump_;
  bump_ += size;
  ++live_in_chunk_[current_chunk_];
  used_in_chunk_[current_chunk_] += size;
  bytes_in_use_ += size;
  ++live_allocations_;
  last_offset_ = offset;
  last_size_ = size;
  return static_cast<BufferHandle>(offset / kAlignment);
}

void BufferArena::shrink_last(BufferHandle handle, std::uint32_t bytes) noexcept {
  const std::size_t offset = std::size_t{handle} * kAlignment;
  if (offset != last_offset_) return;
  const std::size_t size = round_up(bytes == 0 ? 1 : bytes, kAlignment);
  if (size >= last_size_) return;
  const std::size_t chunk_start = current_chunk_ * chunk_bytes_;
  if (offset + last_size_ != chunk_start + bump_) return;  // not at the bump pointer
  bump_ -= last_size_ - size;
  used_in_chunk_[current_chunk_] -= last_size_ - size;
  bytes_in_use_ -= last_size_ - size;
  last_size_ = size;
}

void BufferArena::release(BufferHandle handle) noexcept {
  const std::size_t offset = std::size_t{handle} * kAlignment;
  const std::size_t chunk = offset / chunk_bytes_;
  --live_allocations_;
  // The newest allocation given back at once (a frame the models dropped on
  // arrival) is taken off the bump pointer. Otherwise a burst of arrival drops
  // would leave chunks mostly empty but pinned by the few frames admitted
  // between the drops, and the arena would run out at a fraction of its size.
  if (offset == last_offset_ && chunk == current_chunk_ &&
      offset + last_size_ == chunk * chunk_bytes_ + bump_) {
    bump_ -= last_size_;
    used_in_chunk_[chunk] -= last_size_;
    bytes_in_use_ -= last_size_;
    last_offset_ = SIZE_MAX;
    if (--live_in_chunk_[chunk] == 0) {
      // Nothing else lives here: the whole open chunk starts over.
      bytes_in_use_ -= used_in_chunk_[chunk];
      used_in_chunk_[chunk] = 0;
      bump_ = 0;
    }
    return;
  }
  if (--live_in_chunk_[chunk] == 0) {
    bytes_in_use_ -= used_in_chunk_[chunk];
    used_in_chunk_[chunk] = 0;
    if (chunk == current_chunk_) {
      bump_ = 0;  // the open chunk emptied: start over at its beginning
      last_offset_ = SIZE_MAX;
    } else {
      free_chunks_.push_back(static_cast<std::uint32_t>(chunk));
    }
  }
}

}  // namespace longhaul::core

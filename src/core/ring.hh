#pragma once
// Fixed-capacity FIFO of trivially copyable values, with memory that follows
// the occupancy.
//
// Why blocks: a direction's rings are sized for the worst case (the arena full
// of minimum-size frames: millions of entries at high rate x delay). A plain
// circular array would touch every page of that reservation as its head walks
// around, so resident memory would creep up to the worst case during any long
// transfer. Entries instead live in 64 KiB blocks taken from a LIFO free list
// (the most recently used block is reused first), so only as many blocks
// become resident as were ever in use at once. All memory is reserved at
// construction; push and pop never allocate.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <type_traits>
#include <vector>

namespace longhaul::core {

template <class T>
class Ring {
  static_assert(std::is_trivially_copyable_v<T>, "Ring holds plain values");

 public:
  static constexpr std::size_t kBlockBytes = 64 * 1024;
  static constexpr std::size_t kPerBlock = kBlockBytes / sizeof(T) > 0 ? kBlockBytes / sizeof(T)
                                                                       : 1;

  explicit Ring(std::size_t capacity)
      : capacity_(capacity == 0 ? 1 : capacity),
        block_count_((capacity_ + kPerBlock - 1) / kPerBlock + 1),
        // Default-initialised bytes: pages stay untouched until a block is used.
        storage_(new std::byte[block_count_ * kPerBlock * sizeof(T)]),
        in_use_(block_count_),
        free_blocks_(block_count_) {
    for (std::size_t i = 0; i < block_count_; ++i) {
      free_blocks_[i] = static_cast<std::uint32_t>(block_count_ - 1 - i);
    }
  }

  std::size_t capacity() const noexcept { return capacity_; }
  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  bool full() const noexcept { return size_ == capacity_; }
  /// Blocks ever made resident (an upper bound on this ring's resident memory / kBlockBytes).
  std::size_t blocks_touched() const noexcept { return blocks_touched_; }

  /// Appends a copy; returns false (and stores nothing) when full.
  bool push_back(const T& value) noexcept {
    if (full()) return false;
    const std::size_t position = head_offset_ + size_;
    if (position / kPerBlock == used_blocks_) {
      const std::uint32_t block = free_blocks_.back();
      free_blocks_.pop_back();
      if (block >= blocks_touched_) blocks_touched_ = block + 1U;
      in_use_[(first_block_ + used_blocks_) % block_count_] = block;
      ++used_blocks_;
    }
    new (slot(position)) T(value);
    ++size_;
    return true;
  }
  /// Oldest element; the ring must not be empty.
  T& front() noexcept { return *std::launder(slot(head_offset_)); }
  const T& front() const noexcept { return *std::launder(slot(head_offset_)); }
  /// The i-th oldest element (0 = front).
  const T& at(std::size_t i) const noexcept { return *std::launder(slot(head_offset_ + i)); }
  /// Removes the oldest element; the ring must not be empty.
  void pop_front() noexcept {
    ++head_offset_;
    --size_;
    if (head_offset_ == kPerBlock || size_ == 0) {
      // The front block is done (or the ring is empty): give it back, warmest first.
      free_blocks_.push_back(in_use_[first_block_]);
      first_block_ = (first_block_ + 1) % block_count_;
      --used_blocks_;
      head_offset_ = 0;
    }
  }

 private:
  T* slot(std::size_t position) const noexcept {
    const std::uint32_t block = in_use_[(first_block_ + position / kPerBlock) % block_count_];
    return reinterpret_cast<T*>(
        storage_.get() + (std::size_t{block} * kPerBlock + position % kPerBlock) * sizeof(T));
  }

  std::size_t capacity_;
  std::size_t block_count_;
  std::unique_ptr<std::byte[]> storage_;
  std::vector<std::uint32_t> in_use_;       // circular: blocks holding entries, oldest first
  std::vector<std::uint32_t> free_blocks_;  // LIFO stack
  std::size_t first_block_ = 0;
  std::size_t used_blocks_ = 0;
  std::size_t head_offset_ = 0;  // index of the front entry inside the first block
  std::size_t size_ = 0;
  std::size_t blocks_touched_ = 0;
};

}  // namespace longhaul::core

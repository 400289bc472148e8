#pragma once
// Fixed-capacity FIFO of trivially copyable values. Storage is reserved once at
// setup and left untouched until used, so a ring sized for the worst case costs
// resident memory only for what is actually queued.
#include <cstddef>
#include <memory>
#include <new>
#include <type_traits>

namespace longhaul::core {

template <class T>
class Ring {
  static_assert(std::is_trivially_copyable_v<T>, "Ring holds plain values");

 public:
  explicit Ring(std::size_t capacity)
      : capacity_(capacity == 0 ? 1 : capacity),
        storage_(new std::byte[capacity_ * sizeof(T)]) {}

  std::size_t capacity() const noexcept { return capacity_; }
  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  bool full() const noexcept { return size_ == capacity_; }

  /// Appends a copy; returns false (and stores nothing) when full.
  bool push_back(const T& value) noexcept {
    if (full()) return false;
    std::size_t index = head_ + size_;
    if (index >= capacity_) index -= capacity_;
    new (slot(index)) T(value);
    ++size_;
    return true;
  }
  /// Oldest element; the ring must not be empty.
  T& front() noexcept { return *std::launder(slot(head_)); }
  const T& front() const noexcept { return *std::launder(slot(head_)); }
  /// The i-th oldest element (0 = front).
  const T& at(std::size_t i) const noexcept {
    std::size_t index = head_ + i;
    if (index >= capacity_) index -= capacity_;
    return *std::launder(slot(index));
  }
  /// Removes the oldest element; the ring must not be empty.
  void pop_front() noexcept {
    if (++head_ == capacity_) head_ = 0;
    --size_;
  }

 private:
  T* slot(std::size_t index) const noexcept {
    return reinterpret_cast<T*>(storage_.get() + index * sizeof(T));
  }

  std::size_t capacity_;
  std::unique_ptr<std::byte[]> storage_;
  std::size_t head_ = 0;
  std::size_t size_ = 0;
};

}  // namespace longhaul::core

#pragma once
// How the control API hands a live change to a direction's thread (DESIGN.md, "one writer per
// lane direction"): a fixed-capacity single-producer single-consumer queue of prepared, immutable
// core::LiveChange values. The API thread (one at a time: the caller serialises producers) posts;
// the direction's thread takes them between two packets and applies each at its instant. No locks
// and no allocation on either side; an eventfd wakes a sleeping direction thread.
#include <array>
#include <atomic>
#include <cstddef>

#include "core/pipeline.hh"
#include "io/fd.hh"

namespace longhaul::engine {

class LiveMailbox {
 public:
  static constexpr std::size_t kCapacity = 32;

  /// Creates the wake-up eventfd. Throws io::SystemError when the kernel refuses it.
  LiveMailbox();
  LiveMailbox(const LiveMailbox&) = delete;
  LiveMailbox& operator=(const LiveMailbox&) = delete;

  /// Producer side: queues a copy and wakes the consumer. False when full (nothing queued).
  bool post(const core::LiveChange& change) noexcept;
  /// Producer side: true when a post would succeed (room only grows until the producer posts).
  bool has_room() const noexcept {
    return tail_.load(std::memory_order_relaxed) - head_.load(std::memory_order_acquire) <
           kCapacity;
  }
  /// Consumer side: the oldest change, if any, removed from the queue.
  bool take(core::LiveChange& out) noexcept;
  /// Readable when something was posted since the last drain_wakeups().
  int wake_fd() const noexcept { return wake_.get(); }
  /// Consumer side: clears the eventfd's count (call before taking, so no post is missed).
  void drain_wakeups() noexcept;

 private:
  std::array<core::LiveChange, kCapacity> slots_{};
  std::atomic<std::size_t> head_{0};  // next to take (written by the consumer)
  std::atomic<std::size_t> tail_{0};  // next free slot (written by the producer)
  io::Fd wake_;
};

}  // namespace longhaul::engine

#include "engine/live_mailbox.hh"

#include <sys/eventfd.h>

#include <cstdint>

#include "io/error.hh"

namespace longhaul::engine {

LiveMailbox::LiveMailbox() : wake_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  if (!wake_.valid()) io::throw_errno("eventfd", "live change mailbox");
}

bool LiveMailbox::post(const core::LiveChange& change) noexcept {
  const std::size_t tail = tail_.load(std::memory_order_relaxed);
  if (tail - head_.load(std::memory_order_acquire) == kCapacity) return false;
  slots_[tail % kCapacity] = change;
  tail_.store(tail + 1, std::memory_order_release);
  const std::uint64_t one = 1;
  [[maybe_unused]] const auto written = ::write(wake_.get(), &one, sizeof one);
  return true;
}

bool LiveMailbox::take(core::LiveChange& out) noexcept {
  const std::size_t head = head_.load(std::memory_order_relaxed);
  if (head == tail_.load(std::memory_order_acquire)) return false;
  out = slots_[head % kCapacity];
  head_.store(head + 1, std::memory_order_release);
  return true;
}

void LiveMailbox::drain_wakeups() noexcept {
  std::uint64_t count = 0;
  [[maybe_unused]] const auto got = ::read(wake_.get(), &count, sizeof count);
}

}  // namespace longhaul::engine

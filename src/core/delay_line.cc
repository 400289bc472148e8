#include "core/delay_line.hh"

#include <algorithm>

namespace longhaul::core {

DelayLine::DelayLine(Nanos delay, std::size_t capacity_packets)
    : delay_(delay), line_(std::max<std::size_t>(capacity_packets, 1)) {}

void DelayLine::accept(const Packet& packet) noexcept {
  Packet delayed = packet;
  delayed.ts = std::max(packet.ts + delay_, last_release_);
  last_release_ = delayed.ts;
  if (line_.empty() && delayed.ts == packet.ts) {
    next_->accept(delayed);
    return;
  }
  if (!line_.push_back(delayed)) drops_->drop(packet, DropCause::buffer_exhausted);
}

void DelayLine::advance(Nanos now) noexcept {
  while (!line_.empty() && line_.front().ts <= now) {
    const Packet packet = line_.front();
    line_.pop_front();
    next_->accept(packet);
  }
}

Nanos DelayLine::next_wakeup() const noexcept {
  return line_.empty() ? kNever : line_.front().ts;
}

}  // namespace longhaul::core

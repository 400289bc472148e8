#include "core/delay_line.hh"

namespace longhaul::core {

DelayLine::DelayLine(Nanos delay, std::size_t capacity_packets)
    : delay_(delay), line_(delay.count() == 0 ? 1 : capacity_packets) {}

void DelayLine::accept(const Packet& packet) noexcept {
  if (delay_.count() == 0) {
    next_->accept(packet);
    return;
  }
  Packet delayed = packet;
  delayed.ts = packet.ts + delay_;
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

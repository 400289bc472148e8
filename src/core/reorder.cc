#include "core/reorder.hh"

#include <algorithm>

namespace longhaul::core {

Reorder::Reorder(const ReorderConfig& config, Stage& delay, std::size_t capacity_packets,
                 std::uint64_t seed)
    : delay_(delay),
      relay_(*this),
      chooser_(config.probability, config.correlation, config.correlation_model),
      random_(seed),
      gap_(config.gap == 0 ? 1 : config.gap),
      early_(capacity_packets) {
  delay_.connect(relay_, relay_);
}

void Reorder::accept(const Packet& packet) noexcept {
  // sch_netem.c netem_enqueue: delayed when inside the gap or when the draw
  // says so (the draw is made only once the gap has passed).
  const bool early = chooser_.probability() > 0.0 && counter_ + 1 >= gap_ && chooser_.next(random_);
  if (!early) {
    if (counter_ < gap_) ++counter_;  // saturates: only "gap reached" matters
    delay_.accept(packet);
    return;
  }
  counter_ = 0;
  ++reordered_;
  // Nothing the delay stage holds is due before this packet: send it now.
  if (early_.empty() && delay_.next_wakeup() >= packet.ts) {
    next_->accept(packet);
    return;
  }
  if (!early_.push_back(packet)) drops_->drop(packet, DropCause::buffer_exhausted);
}

void Reorder::advance(Nanos now) noexcept {
  for (;;) {
    const Nanos early_at = early_.empty() ? kNever : early_.front().ts;
    const Nanos delayed_at = delay_.next_wakeup();
    const Nanos due = std::min(early_at, delayed_at);
    if (due == kNever || due > now) return;
    if (early_at <= delayed_at) {
      const Packet packet = early_.front();
      early_.pop_front();
      next_->accept(packet);
    } else {
      delay_.advance(delayed_at);  // releases exactly what is due at that instant
    }
  }
}

Nanos Reorder::next_wakeup() const noexcept {
  const Nanos early_at = early_.empty() ? kNever : early_.front().ts;
  return std::min(early_at, delay_.next_wakeup());
}

}  // namespace longhaul::core

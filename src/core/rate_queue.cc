#include "core/rate_queue.hh"

#include <algorithm>

namespace longhaul::core {

namespace {
constexpr std::uint64_t kNanosPerSecond = 1'000'000'000ULL;
}

RateQueue::RateQueue(std::uint64_t rate_bps, QueueBound bound, std::size_t capacity_packets)
    : rate_bps_(rate_bps), bound_(bound), queue_(rate_bps == 0 ? 1 : capacity_packets) {}

Nanos RateQueue::serialisation_time(std::uint64_t wire_bytes) const noexcept {
  if (rate_bps_ == 0) return Nanos{0};
  return Nanos{static_cast<std::int64_t>(wire_bytes * 8 * kNanosPerSecond / rate_bps_)};
}

Nanos RateQueue::head_finish(std::uint64_t& carry) const noexcept {
  const Packet& head = queue_.front();
  const Nanos start = std::max(link_free_at_, head.ts);
  // bits * 1e9 fits in 64 bits for any frame up to 2 GB.
  const std::uint64_t bit_nanos = std::uint64_t{head.wire_bytes} * 8 * kNanosPerSecond + remainder_;
  carry = bit_nanos % rate_bps_;
  return start + Nanos{static_cast<std::int64_t>(bit_nanos / rate_bps_)};
}

void RateQueue::accept(const Packet& packet) noexcept {
  if (rate_bps_ == 0) {
    next_->accept(packet);
    return;
  }
  // Bring the queue to the arrival instant so the limit sees the real backlog.
  advance(packet.ts);
  const bool over_packets =
      bound_.max_packets != 0 && queued_packets_ + packet.segments > bound_.max_packets;
  const bool over_bytes =
      bound_.max_bytes != 0 && queued_bytes_ + packet.wire_bytes > bound_.max_bytes;
  const Nanos wait = std::max(Nanos{0}, backlog_until_ - packet.ts);
  const bool over_delay = bound_.max_delay.count() != 0 && queued_packets_ != 0 &&
                          wait + serialisation_time(packet.wire_bytes) > bound_.max_delay;
  if (over_packets || over_bytes || over_delay) {
    drops_->drop(packet, DropCause::queue_full);
    return;
  }
  if (!queue_.push_back(packet)) {
    drops_->drop(packet, DropCause::buffer_exhausted);
    return;
  }
  queued_packets_ += packet.segments;
  queued_bytes_ += packet.wire_bytes;
  backlog_until_ = std::max(backlog_until_, packet.ts) + serialisation_time(packet.wire_bytes);
}

void RateQueue::advance(Nanos now) noexcept {
  while (!queue_.empty()) {
    std::uint64_t carry = 0;
    const Nanos finish = head_finish(carry);
    if (finish > now) break;
    Packet packet = queue_.front();
    queue_.pop_front();
    queued_packets_ -= packet.segments;
    queued_bytes_ -= packet.wire_bytes;
    link_free_at_ = finish;
    remainder_ = carry;
    packet.ts = finish;
    next_->accept(packet);
  }
}

Nanos RateQueue::next_wakeup() const noexcept {
  if (queue_.empty()) return kNever;
  std::uint64_t carry = 0;
  return head_finish(carry);
}

}  // namespace longhaul::core

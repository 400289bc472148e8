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
  // The carried fraction belongs to the busy period it came from: a packet that
  // arrives after the link went idle (later than the last whole-ns finish) starts
  // exactly at its arrival, with nothing carried.
  const bool idle = head.ts > link_free_at_;
  const Nanos start = idle ? head.ts : link_free_at_;
  // bits * 1e9 fits in 64 bits for any frame up to 2 GB.
  const std::uint64_t bit_nanos =
      std::uint64_t{head.wire_bytes} * 8 * kNanosPerSecond + (idle ? 0 : remainder_);
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
  // When this packet would leave, with the link's own arithmetic (remainder
  // included), so the time limit does not drift over a long busy period.
  const bool idle = packet.ts > backlog_until_;
  const Nanos start = idle ? packet.ts : backlog_until_;
  const std::uint64_t bit_nanos =
      std::uint64_t{packet.wire_bytes} * 8 * kNanosPerSecond + (idle ? 0 : backlog_remainder_);
  const Nanos finish = start + Nanos{static_cast<std::int64_t>(bit_nanos / rate_bps_)};
  const bool over_delay = bound_.max_delay.count() != 0 && queued_packets_ != 0 &&
                          finish - packet.ts > bound_.max_delay;
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
  backlog_until_ = finish;
  backlog_remainder_ = bit_nanos % rate_bps_;
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

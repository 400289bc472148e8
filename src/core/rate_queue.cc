#include "core/rate_queue.hh"

#include <algorithm>
#include <cmath>

#include "core/ecn.hh"

namespace longhaul::core {

namespace {
constexpr std::uint64_t kNanosPerSecond = 1'000'000'000ULL;
// A full-size Ethernet wire packet (1514-byte frame + 24 framing), used where a
// discipline needs a packet size before it has seen one.
constexpr std::uint64_t kTypicalPacketBytes = 1538;

double seconds(Nanos t) noexcept {
  return static_cast<double>(t.count()) / 1e9;
}
}  // namespace

const char* queue_discipline_name(QueueDiscipline discipline) noexcept {
  switch (discipline) {
    case QueueDiscipline::drop_tail:
      return "droptail";
    case QueueDiscipline::drop_head:
      return "drophead";
    case QueueDiscipline::red:
      return "red";
    case QueueDiscipline::codel:
      return "codel";
    case QueueDiscipline::pie:
      return "pie";
  }
  return "?";
}

RedThresholds red_thresholds(std::uint64_t rate_bps, const QueueBound& bound,
                             const RedParams& params) noexcept {
  // As tc-red derives them (iproute2 q_red.c: max = limit / 4, min = max / 3),
  // the limit in bytes whatever its kind.
  std::uint64_t limit_bytes = bound.max_bytes;
  if (limit_bytes == 0 && bound.max_packets != 0)
    limit_bytes = bound.max_packets * kTypicalPacketBytes;
  if (limit_bytes == 0 && bound.max_delay.count() != 0) {
    limit_bytes =
        static_cast<std::uint64_t>(static_cast<double>(rate_bps) / 8.0 * seconds(bound.max_delay));
  }
  if (limit_bytes == 0) limit_bytes = rate_bps / 8 / 10;  // unbounded: 100 ms at the rate
  RedThresholds result{};
  result.max_bytes = params.max_bytes != 0 ? params.max_bytes : limit_bytes / 4;
  result.min_bytes = params.min_bytes != 0 ? params.min_bytes : result.max_bytes / 3;
  if (result.max_bytes <= result.min_bytes) result.max_bytes = result.min_bytes + 1;
  return result;
}

RateQueue::RateQueue(std::uint64_t rate_bps, QueueBound bound, std::size_t capacity_packets,
                     const QueueConfig& config, std::uint64_t seed, PacketBytes* bytes)
    : rate_bps_(rate_bps),
      bound_(bound),
      config_(config),
      random_(seed),
      bytes_(bytes),
      queue_(std::max<std::size_t>(capacity_packets, 1)),
      pie_burst_left_(config.pie.max_burst) {
  const RedThresholds red = red_thresholds(rate_bps, bound, config.red);
  red_min_ = red.min_bytes;
  red_max_ = red.max_bytes;
}

Nanos RateQueue::serialisation_time(std::uint64_t wire_bytes) const noexcept {
  if (rate_bps_ == 0) return Nanos{0};
  return Nanos{static_cast<std::int64_t>(wire_bytes * 8 * kNanosPerSecond / rate_bps_)};
}

void RateQueue::accept(const Packet& packet) noexcept {
  if (rate_bps_ == 0) {
    next_->accept(packet);
    return;
  }
  const Nanos now = packet.ts;
  // Bring the queue to the arrival instant so the limit sees the real backlog.
  advance(now);
  const std::uint64_t per_packet = packet.wire_bytes / std::max<std::uint16_t>(packet.segments, 1);
  max_packet_bytes_ = std::max(max_packet_bytes_, std::uint64_t{per_packet});

  // The hard limit. Drop-head makes room by dropping the oldest waiting packets.
  for (;;) {
    const bool over_packets =
        bound_.max_packets != 0 && queued_packets_ + packet.segments > bound_.max_packets;
    const bool over_bytes =
        bound_.max_bytes != 0 && queued_bytes_ + packet.wire_bytes > bound_.max_bytes;
    // When this packet would leave, with the link's own arithmetic (remainder
    // included), so the time limit does not drift over a long busy period.
    bool over_delay = false;
    if (bound_.max_delay.count() != 0 && queued_packets_ != 0) {
      const bool idle = now > backlog_until_;
      const Nanos start = idle ? now : backlog_until_;
      const std::uint64_t bit_nanos =
          std::uint64_t{packet.wire_bytes} * 8 * kNanosPerSecond + (idle ? 0 : backlog_remainder_);
      const Nanos finish = start + Nanos{static_cast<std::int64_t>(bit_nanos / rate_bps_)};
      over_delay = finish - now > bound_.max_delay;
    }
    if (!over_packets && !over_bytes && !over_delay) break;
    if (config_.discipline == QueueDiscipline::drop_head && !queue_.empty()) {
      drop_oldest_waiting();
      continue;
    }
    drops_->drop(packet, DropCause::queue_full);
    return;
  }

  Verdict verdict = Verdict::pass;
  if (config_.discipline == QueueDiscipline::red) verdict = red_enqueue(packet, now);
  if (config_.discipline == QueueDiscipline::pie) verdict = pie_enqueue(packet, now);
  if (verdict == Verdict::drop) {
    ++aqm_dropped_;
    drops_->drop(packet, DropCause::aqm);
    return;
  }
  // The ring's capacity covers the packet on the wire too.
  if ((busy_ && queue_.size() + 1 >= queue_.capacity()) || !queue_.push_back(packet)) {
    drops_->drop(packet, DropCause::buffer_exhausted);
    return;
  }
  idle_ = false;
  queued_packets_ += packet.segments;
  queued_bytes_ += packet.wire_bytes;
  const bool idle = now > backlog_until_;
  const Nanos start = idle ? now : backlog_until_;
  const std::uint64_t bit_nanos =
      std::uint64_t{packet.wire_bytes} * 8 * kNanosPerSecond + (idle ? 0 : backlog_remainder_);
  backlog_until_ = start + Nanos{static_cast<std::int64_t>(bit_nanos / rate_bps_)};
  backlog_remainder_ = bit_nanos % rate_bps_;
  // An idle link starts serialising it at once.
  advance(now);
}

void RateQueue::forget_waiting(const Packet& packet) noexcept {
  queued_packets_ -= packet.segments;
  queued_bytes_ -= packet.wire_bytes;
  // Everything queued is one busy period, so removing a waiting packet moves
  // the end of the backlog earlier by exactly its serialisation time.
  const std::uint64_t bit_nanos = std::uint64_t{packet.wire_bytes} * 8 * kNanosPerSecond;
  const std::uint64_t whole = bit_nanos / rate_bps_;
  const std::uint64_t part = bit_nanos % rate_bps_;
  if (backlog_remainder_ < part) {
    backlog_remainder_ += rate_bps_;
    backlog_until_ -= Nanos{1};
  }
  backlog_remainder_ -= part;
  backlog_until_ -= Nanos{static_cast<std::int64_t>(whole)};
  if (backlog_until_ < link_free_at_) {
    backlog_until_ = link_free_at_;
    backlog_remainder_ = remainder_;
  }
}

void RateQueue::drop_oldest_waiting() noexcept {
  const Packet oldest = queue_.front();
  queue_.pop_front();
  forget_waiting(oldest);
  ++aqm_dropped_;
  drops_->drop(oldest, DropCause::queue_full);
}

void RateQueue::advance(Nanos now) noexcept {
  if (rate_bps_ == 0) return;
  if (config_.discipline == QueueDiscipline::pie) pie_update(now);
  for (;;) {
    if (busy_) {
      if (wire_finish_ > now) break;
      busy_ = false;
      queued_packets_ -= wire_.segments;
      queued_bytes_ -= wire_.wire_bytes;
      link_free_at_ = wire_finish_;
      remainder_ = wire_carry_;
      Packet out = wire_;
      out.ts = wire_finish_;
      next_->accept(out);
    }
    if (queue_.empty()) {
      if (!idle_) {
        idle_ = true;
        idle_since_ = link_free_at_;
        backlog_until_ = link_free_at_;
        backlog_remainder_ = remainder_;
      }
      break;
    }
    const Packet head = queue_.front();
    // The carried fraction belongs to the busy period it came from: a packet that
    // arrives after the link went idle (later than the last whole-ns finish) starts
    // exactly at its arrival, with nothing carried.
    const bool idle = head.ts > link_free_at_;
    const Nanos start = idle ? head.ts : link_free_at_;
    if (start > now) break;
    queue_.pop_front();
    if (config_.discipline == QueueDiscipline::codel &&
        codel_dequeue(head, start) == Verdict::drop) {
      forget_waiting(head);
      ++aqm_dropped_;
      drops_->drop(head, DropCause::aqm);
      continue;  // the link is still free at `start` for the next packet
    }
    sojourn_.record(start - head.ts, head.segments);
    // bits * 1e9 fits in 64 bits for any frame up to 2 GB.
    const std::uint64_t bit_nanos =
        std::uint64_t{head.wire_bytes} * 8 * kNanosPerSecond + (idle ? 0 : remainder_);
    wire_ = head;
    wire_start_ = start;
    wire_data_ = bit_nanos;
    wire_carry_ = bit_nanos % rate_bps_;
    wire_finish_ = start + Nanos{static_cast<std::int64_t>(bit_nanos / rate_bps_)};
    busy_ = true;
  }
}

// A rate change keeps every packet. Its arithmetic: the packet on the wire
// started at wire_start_ with wire_data_ = bits * 1e9 (+ carried remainder),
// and by `now` the old rate has sent (now - wire_start_) * old of it; the rest
// goes at the new rate from `now`. wire_data_ is an amount of data, not a
// time, so the same carry rule as in advance() keeps later departures exact.
// The waiting packets form one busy period behind it, so the end of the
// backlog is the wire packet's new finish plus their bits at the new rate.
void RateQueue::set_bound(QueueBound bound) noexcept {
  bound_ = bound;
  const RedThresholds red = red_thresholds(rate_bps_, bound_, config_.red);
  red_min_ = red.min_bytes;
  red_max_ = red.max_bytes;
}

void RateQueue::set_rate(Nanos now, std::uint64_t rate_bps) noexcept {
  advance(now);
  if (rate_bps == rate_bps_) return;
  const std::uint64_t old_rate = rate_bps_;
  rate_bps_ = rate_bps;
  const RedThresholds red = red_thresholds(rate_bps, bound_, config_.red);
  red_min_ = red.min_bytes;
  red_max_ = red.max_bytes;
  if (rate_bps == 0) {
    // Unlimited from now on: the queue empties at once, in order.
    if (busy_) {
      busy_ = false;
      Packet out = wire_;
      out.ts = now;
      next_->accept(out);
    }
    while (!queue_.empty()) {
      Packet out = queue_.front();
      queue_.pop_front();
      sojourn_.record(now - out.ts, out.segments);
      out.ts = now;
      next_->accept(out);
    }
    queued_packets_ = 0;
    queued_bytes_ = 0;
    link_free_at_ = backlog_until_ = idle_since_ = now;
    remainder_ = backlog_remainder_ = 0;
    idle_ = true;
    return;
  }
  if (old_rate == 0) {
    // Was a pass-through: nothing is queued, the link is free from now.
    link_free_at_ = backlog_until_ = idle_since_ = now;
    remainder_ = backlog_remainder_ = 0;
    idle_ = true;
    return;
  }
  if (!busy_) return;  // idle link: the next packet starts at its arrival
  // advance(now) left the wire busy, so wire_finish_ > now and the old rate has
  // sent strictly less than wire_data_.
  wire_data_ -= static_cast<std::uint64_t>((now - wire_start_).count()) * old_rate;
  wire_start_ = now;
  wire_finish_ = now + Nanos{static_cast<std::int64_t>(wire_data_ / rate_bps)};
  wire_carry_ = wire_data_ % rate_bps;
  // Up to 2^64 bit-nanoseconds would be only 2.3 GB waiting: use 128 bits.
  __extension__ using Wide = unsigned __int128;
  const Wide waiting = Wide{queued_bytes_ - wire_.wire_bytes} * 8 * kNanosPerSecond + wire_carry_;
  backlog_until_ = wire_finish_ + Nanos{static_cast<std::int64_t>(waiting / rate_bps)};
  backlog_remainder_ = static_cast<std::uint64_t>(waiting % rate_bps);
}

Nanos RateQueue::next_wakeup() const noexcept {
  return busy_ ? wire_finish_ : kNever;
}

RateQueue::Verdict RateQueue::signal(const Packet& packet, bool allow_mark) noexcept {
  if (config_.ecn && allow_mark && bytes_ != nullptr) {
    const auto frame = bytes_->bytes(packet);
    if (!frame.empty() && mark_ecn_ce(frame)) {
      ++ecn_marked_;
      return Verdict::mark;
    }
  }
  return Verdict::drop;
}

// RED (Floyd & Jacobson 1993, section 4 and figure 2). The average backlog is an
// EWMA updated at every arrival; after an idle period it decays as if m
// typical packets had been sent meanwhile, (1 - w)^m. Between the thresholds
// the base probability pb rises linearly to max_probability, and
// pa = pb / (1 - count * pb) spreads the early drops evenly (count is the
// number of packets since the last one) instead of letting them cluster.
// Above the maximum every packet is dropped (or marked), as tc-red does.
RateQueue::Verdict RateQueue::red_enqueue(const Packet& packet, Nanos now) noexcept {
  const double w = config_.red.weight;
  if (idle_) {
    const Nanos per_packet =
        serialisation_time(max_packet_bytes_ != 0 ? max_packet_bytes_ : kTypicalPacketBytes);
    if (per_packet.count() > 0 && now > idle_since_) {
      const double m = static_cast<double>((now - idle_since_).count()) /
                       static_cast<double>(per_packet.count());
      red_avg_ *= std::pow(1.0 - w, m);
    }
    idle_since_ = now;  // so a dropped arrival does not decay the average twice
  } else {
    red_avg_ = (1.0 - w) * red_avg_ + w * static_cast<double>(queued_bytes_);
  }
  const auto min = static_cast<double>(red_min_);
  const auto max = static_cast<double>(red_max_);
  if (red_avg_ < min) {
    red_count_ = -1;
    return Verdict::pass;
  }
  if (red_avg_ >= max) {
    red_count_ = 0;
    return signal(packet, true);
  }
  ++red_count_;
  const double pb = config_.red.max_probability * (red_avg_ - min) / (max - min);
  const double spread = static_cast<double>(red_count_) * pb;
  const double pa = spread >= 1.0 ? 1.0 : pb / (1.0 - spread);
  if (random_.bernoulli(pa)) {
    red_count_ = 0;
    return signal(packet, true);
  }
  return Verdict::pass;
}

// CoDel (RFC 8289, section 5 pseudo-code), decided when a packet starts
// serialising: its sojourn time is start - arrival. Once the sojourn has stayed
// at or above target for a whole interval (and more than one packet is
// waiting), CoDel enters the dropping state and drops one packet, then the
// next ones at interval / sqrt(count) spacing until the sojourn falls below
// target. Re-entering soon after leaving resumes near the previous count.
bool RateQueue::codel_ok_to_drop(const Packet& packet, Nanos now) noexcept {
  const Nanos sojourn = now - packet.ts;
  const std::uint64_t bytes_after = queued_bytes_ - packet.wire_bytes;
  if (sojourn < config_.codel.target || bytes_after <= max_packet_bytes_) {
    codel_first_above_ = Nanos{0};
    codel_above_ = false;
    return false;
  }
  if (!codel_above_) {
    codel_above_ = true;
    codel_first_above_ = now + config_.codel.interval;
    return false;
  }
  return now >= codel_first_above_;
}

namespace {
Nanos control_law(Nanos t, std::uint32_t count, Nanos interval) noexcept {
  return t + Nanos{std::llround(static_cast<double>(interval.count()) /
                                std::sqrt(static_cast<double>(count)))};
}
}  // namespace

RateQueue::Verdict RateQueue::codel_dequeue(const Packet& packet, Nanos now) noexcept {
  const bool ok_to_drop = codel_ok_to_drop(packet, now);
  const Nanos interval = config_.codel.interval;
  if (codel_dropping_) {
    if (!ok_to_drop) {
      codel_dropping_ = false;
      return Verdict::pass;
    }
    if (now >= codel_drop_next_) {
      ++codel_count_;
      codel_drop_next_ = control_law(codel_drop_next_, codel_count_, interval);
      return signal(packet, true);
    }
    return Verdict::pass;
  }
  if (!ok_to_drop) return Verdict::pass;
  codel_dropping_ = true;
  const std::uint32_t delta = codel_count_ - codel_last_count_;
  codel_count_ = 1;
  if (delta > 1 && now - codel_drop_next_ < 16 * interval) codel_count_ = delta;
  codel_drop_next_ = control_law(now, codel_count_, interval);
  codel_last_count_ = codel_count_;
  return signal(packet, true);
}

// PIE (RFC 8033, sections 4 and 5). Every tupdate the drop probability moves by
// alpha * (qdelay - target) + beta * (qdelay - qdelay_old), scaled down while it
// is small so it starts gently, and decays by 2% per update while the queue is
// empty. The queueing delay is exact here: the time the link needs to drain
// what is queued. Updates are computed lazily at the next event, at their own
// instants, so the outcome does not depend on when the engine wakes up. The
// increment caps (2% per update above 10%, +2% above 250 ms) follow Linux's
// sch_pie. Drops happen at enqueue, except during the burst allowance, while
// the delay is well under target with a low probability, or with at most two
// packets queued. ECT packets are marked while the probability is at most
// mark_threshold and dropped above it (section 5.1).
void RateQueue::pie_update(Nanos now) noexcept {
  const PieParams& pie = config_.pie;
  if (!pie_started_) {
    pie_started_ = true;
    pie_next_update_ = now + pie.tupdate;
    return;
  }
  while (pie_next_update_ <= now) {
    const Nanos at = pie_next_update_;
    const Nanos qdelay = std::max(backlog_until_ - at, Nanos{0});
    if (qdelay.count() == 0 && pie_qdelay_old_.count() == 0 && pie_prob_ == 0.0 &&
        pie_burst_left_ == pie.max_burst) {
      // At rest: nothing changes until the next arrival.
      const auto periods = (now - at) / pie.tupdate + 1;
      pie_next_update_ = at + pie.tupdate * periods;
      break;
    }
    double p = pie.alpha * (seconds(qdelay) - seconds(pie.target)) +
               pie.beta * (seconds(qdelay) - seconds(pie_qdelay_old_));
    if (pie_prob_ < 0.000001) {
      p /= 2048;
    } else if (pie_prob_ < 0.00001) {
      p /= 512;
    } else if (pie_prob_ < 0.0001) {
      p /= 128;
    } else if (pie_prob_ < 0.001) {
      p /= 32;
    } else if (pie_prob_ < 0.01) {
      p /= 8;
    } else if (pie_prob_ < 0.1) {
      p /= 2;
    }
    if (p > 0.02 && pie_prob_ >= 0.1) p = 0.02;
    if (qdelay > std::chrono::milliseconds(250)) p += 0.02;
    pie_prob_ = std::clamp(pie_prob_ + p, 0.0, 1.0);
    if (qdelay.count() == 0 && pie_qdelay_old_.count() == 0) pie_prob_ *= 0.98;
    if (pie_prob_ < 1e-12) pie_prob_ = 0.0;
    pie_burst_left_ = std::max(pie_burst_left_ - pie.tupdate, Nanos{0});
    if (pie_prob_ == 0.0 && qdelay < pie.target / 2 && pie_qdelay_old_ < pie.target / 2) {
      pie_burst_left_ = pie.max_burst;
    }
    pie_qdelay_old_ = qdelay;
    pie_next_update_ = at + pie.tupdate;
  }
}

RateQueue::Verdict RateQueue::pie_enqueue(const Packet& packet, Nanos /*now*/) noexcept {
  const PieParams& pie = config_.pie;
  if (pie_burst_left_.count() > 0) return Verdict::pass;
  if (pie_qdelay_old_ < pie.target / 2 && pie_prob_ < 0.2) return Verdict::pass;
  if (queued_bytes_ <= 2 * max_packet_bytes_) return Verdict::pass;
  if (!random_.bernoulli(pie_prob_)) return Verdict::pass;
  return signal(packet, pie_prob_ <= pie.mark_threshold);
}

}  // namespace longhaul::core

#include "core/jitter_delay.hh"

#include <algorithm>
#include <cmath>

namespace longhaul::core {

namespace {

// After this many mean proposal intervals without a packet the state is
// redrawn from the stationary (uniform) distribution instead of simulated, so
// a packet after a long idle period costs O(1). Coupling bound: two copies of
// the process fed the same proposals merge at the first proposal above both.
// From any start the upper copy falls below 1/2 within 37/lambda (the logistic
// decay from the largest double below 1 takes ln(2^53)/lambda), after which each proposal
// merges them with probability >= 1/2, so after 128/lambda the chance they
// have not merged is below exp(-45): the redraw is exact to ~1e-20 in total
// variation.
constexpr double kMixedAfterProposals = 128.0;

double clamp(double value, double low, double high) noexcept {
  if (!(value > low)) return low;
  return value < high ? value : high;
}

}  // namespace

// ------------------------------------------------------------ PathDelayProcess

PathDelayProcess::PathDelayProcess(const JitterConfig& config, double max_delay_slope,
                                   std::uint64_t seed)
    : distribution_(config), random_(seed) {
  const double slope = clamp(max_delay_slope, 1e-9, 1.0);
  const double slowdown = 1.0 - clamp(config.correlation, 0.0, 1.0);
  const double spread = distribution_.max_quantile_spread();
  if (!distribution_.constant() && spread > 0.0) lambda_per_ns_ = slope * slowdown / spread;
}

double PathDelayProcess::exponential_ns() noexcept {
  return -std::log(1.0 - random_.uniform()) / lambda_per_ns_;
}

double PathDelayProcess::decay(double u, double dt_ns) const noexcept {
  // Solution of dU/dt = -lambda U (1 - U): (1-U)/U grows as exp(lambda t).
  if (dt_ns <= 0.0) return u;
  const double growth = std::exp(lambda_per_ns_ * dt_ns);
  return u / (u + (1.0 - u) * growth);
}

Nanos PathDelayProcess::value() const noexcept {
  const double ns = distribution_.quantile(u_);
  return ns <= 0.0 ? Nanos{0} : Nanos{std::llround(ns)};
}

Nanos PathDelayProcess::delay_at(Nanos t) noexcept {
  if (distribution_.constant()) return distribution_.at(0.0);
  if (!started_ || lambda_per_ns_ <= 0.0) {
    if (!started_) {
      started_ = true;
      anchor_ = t;
      u_ = random_.uniform();  // start in the stationary distribution
      if (lambda_per_ns_ > 0.0) next_proposal_ = exponential_ns();
    }
    return value();
  }
  const auto elapsed = static_cast<double>((t - anchor_).count());
  if (elapsed * lambda_per_ns_ > kMixedAfterProposals) {
    anchor_ = t;
    u_ = random_.uniform();
    next_proposal_ = exponential_ns();
    return value();
  }
  double state_at = 0.0;  // offset from anchor_ of the time u_ describes
  while (next_proposal_ <= elapsed) {
    u_ = decay(u_, next_proposal_ - state_at);
    state_at = next_proposal_;
    const double candidate = random_.uniform();
    if (candidate > u_) u_ = candidate;
    next_proposal_ += exponential_ns();
  }
  u_ = decay(u_, elapsed - state_at);
  anchor_ = t;
  next_proposal_ -= elapsed;
  return value();
}

// ------------------------------------------------------------------ JitterDelay

JitterDelay::JitterDelay(const JitterDelayConfig& config, std::size_t capacity_packets,
                         std::uint64_t seed)
    : mode_(config.mode),
      process_(config.jitter, config.max_delay_slope, seed),
      sampler_(config.jitter, seed),
      fifo_(config.mode == JitterMode::order_preserving ? capacity_packets : 1),
      capacity_(capacity_packets == 0 ? 1 : capacity_packets),
      base_delay_(config.jitter.delay) {
  if (mode_ == JitterMode::reordering) heap_.reserve(capacity_);
}

bool JitterDelay::later(const Held& a, const Held& b) noexcept {
  return a.packet.ts > b.packet.ts || (a.packet.ts == b.packet.ts && a.order > b.order);
}

void JitterDelay::accept(const Packet& packet) noexcept {
  Packet delayed = packet;
  if (mode_ == JitterMode::order_preserving) {
    delayed.ts = std::max(packet.ts + process_.delay_at(packet.ts) + shift_, packet.ts);
    // The process guarantees order up to rounding; this only absorbs that 1 ns.
    delayed.ts = std::max(delayed.ts, last_release_);
    last_release_ = delayed.ts;
    if (fifo_.empty() && delayed.ts == packet.ts) {
      next_->accept(delayed);
      return;
    }
    if (!fifo_.push_back(delayed)) drops_->drop(packet, DropCause::buffer_exhausted);
    return;
  }
  delayed.ts = std::max(packet.ts + sampler_.next() + shift_, packet.ts);
  if (heap_.empty() && delayed.ts == packet.ts) {
    next_->accept(delayed);
    return;
  }
  if (heap_.size() == capacity_) {
    drops_->drop(packet, DropCause::buffer_exhausted);
    return;
  }
  heap_.push_back(Held{delayed, order_++});  // within the reserved capacity: no allocation
  std::push_heap(heap_.begin(), heap_.end(), later);
}

void JitterDelay::advance(Nanos now) noexcept {
  if (mode_ == JitterMode::order_preserving) {
    while (!fifo_.empty() && fifo_.front().ts <= now) {
      const Packet packet = fifo_.front();
      fifo_.pop_front();
      next_->accept(packet);
    }
    return;
  }
  while (!heap_.empty() && heap_.front().packet.ts <= now) {
    std::pop_heap(heap_.begin(), heap_.end(), later);
    const Packet packet = heap_.back().packet;
    heap_.pop_back();
    next_->accept(packet);
  }
}

Nanos JitterDelay::next_wakeup() const noexcept {
  if (mode_ == JitterMode::order_preserving) return fifo_.empty() ? kNever : fifo_.front().ts;
  return heap_.empty() ? kNever : heap_.front().packet.ts;
}

std::size_t JitterDelay::frames_in_flight() const noexcept {
  return mode_ == JitterMode::order_preserving ? fifo_.size() : heap_.size();
}

}  // namespace longhaul::core

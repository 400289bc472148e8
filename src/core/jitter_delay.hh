#pragma once
// Propagation delay with jitter: the stage that replaces DelayLine when a
// jitter is configured. Two modes, chosen explicitly:
//
// JitterMode::reordering (netem's behaviour). Every packet draws its own delay
// from the distribution (JitterSampler) and leaves at arrival + delay; packets
// are released in time order from a min-heap, so a packet that drew a short
// delay overtakes one that drew a long delay. Each packet's delay has exactly
// the configured distribution.
//
// JitterMode::order_preserving (the default: a fibre path does not reorder).
// Release times must never go backwards, and the delays must still have the
// configured mean and standard deviation. The naive scheme, each packet draws
// d and leaves at max(previous release, t + d), gets this wrong as soon as
// packets are closer together than the jitter: a packet that drew a short
// delay waits behind one that drew a long one, so at high rates nearly every
// packet leaves with the running maximum. Its mean climbs towards the top of
// the distribution and its spread collapses, by an amount that depends on the
// packet rate (normal jitter; packets every sigma: mean +0.23 sigma, standard
// deviation 0.84 sigma; every 0.1 sigma: +1.2 sigma and 0.57 sigma; every
// 0.01 sigma: +2.1 sigma and 0.42 sigma).
//
// What we do instead: the delay is a property of the path, not of the packet.
// A stationary random process D(t) in time gives every packet that enters at t
// the delay D(t). If D(t) never falls faster than it takes time to pass, i.e.
// dD/dt >= -1, then t + D(t) never decreases and order is preserved. Because
// packets sample a stationary process that does not depend on them, each
// packet's delay has the stationary distribution of D, whatever the packet
// rate. So we need a process whose stationary distribution is the configured
// one and whose downward slope is bounded. One process does both exactly
// (PathDelayProcess). In uniform coordinates U = F(D):
//   - between events U decays deterministically, dU/dt = -lambda U (1 - U)
//     (a logistic curve, solved in closed form);
//   - at the events of a Poisson process of rate lambda, a fresh uniform V is
//     drawn and U jumps to V if V > U (the delay jumps up: a queue built up
//     somewhere on the path).
// The uniform density is stationary: the downward flow across level u,
// lambda u (1 - u), equals the rate of upward jumps across u,
// integral_0^u lambda (1 - u) dw. D = Q(U), with Q the configured quantile
// function (tables made continuous by linear interpolation, which keeps the
// mean exactly and the variance within 0.01%), falls at speed
// Q'(U) lambda U (1 - U), so lambda = s / max_u Q'(u) u (1 - u) bounds the
// fall at s seconds per second. s = max_delay_slope = 0.5 by default, so
// packets leave at most twice as close together as they arrived.
//
// This fixes the process's time scale. With the default slope, 1/lambda is
// 1.6 sigma for netem's normal table (8 ms for sigma = 5 ms), 1.0 sigma for
// uniform, 3.2 sigma for paretonormal and 3.9 sigma for pareto, and the delay
// forgets its state over a few 1/lambda. It cannot be much faster while
// keeping order: the delay must spend about sigma of time coming down by
// sigma. A correlation rho stretches the time scale further (lambda is
// multiplied by 1 - rho). Delays are exact to the nanosecond at any size.
#include <cstdint>
#include <vector>

#include "core/distribution.hh"
#include "core/random.hh"
#include "core/ring.hh"
#include "core/stage.hh"

namespace longhaul::core {

/// The order-preserving path delay D(t) described above.
class PathDelayProcess {
 public:
  /// correlation in 0..1 slows the process; max_delay_slope in (0, 1].
  PathDelayProcess(const JitterConfig& config, double max_delay_slope, std::uint64_t seed);

  /// Delay of a packet entering at `t` (non-decreasing between calls), >= 0.
  /// Successive calls satisfy t1 + delay_at(t1) <= t2 + delay_at(t2) up to 1 ns rounding.
  Nanos delay_at(Nanos t) noexcept;
  /// Rate of jump proposals in events per second (the inverse time scale); 0 when frozen.
  double rate_hz() const noexcept { return lambda_per_ns_ * 1e9; }
  const DelayDistribution& distribution() const noexcept { return distribution_; }

 private:
  double exponential_ns() noexcept;
  double decay(double u, double dt_ns) const noexcept;
  Nanos value() const noexcept;

  DelayDistribution distribution_;
  Random random_;
  double lambda_per_ns_ = 0.0;
  bool started_ = false;
  Nanos anchor_{0};             // the time u_ describes
  double u_ = 0.5;              // the state in uniform coordinates
  double next_proposal_ = 0.0;  // ns after anchor_
};

enum class JitterMode : std::uint8_t {
  order_preserving,  ///< a path delay process; never reorders (default)
  reordering,        ///< netem: independent per-packet delays, packets may overtake
};

struct JitterDelayConfig {
  JitterConfig jitter;  ///< delay, jitter, distribution, correlation
  JitterMode mode = JitterMode::order_preserving;
  double max_delay_slope = 0.5;  ///< order-preserving: fastest fall of the delay, s per s, (0, 1]
};

class JitterDelay final : public Stage {
 public:
  /// Holds up to capacity_packets frames in flight; seeded.
  JitterDelay(const JitterDelayConfig& config, std::size_t capacity_packets, std::uint64_t seed);

  /// Schedules the packet at arrival + its delay (a full stage drops as buffer_exhausted).
  void accept(const Packet& packet) noexcept override;
  void advance(Nanos now) noexcept override;
  Nanos next_wakeup() const noexcept override;

  /// Moves the mean delay to `delay` for packets arriving from now on (a
  /// schedule): the distribution is shifted, not reshaped; a delay that would
  /// fall below zero is zero. Order-preserving mode still never reorders: a
  /// packet whose shifted delay would overtake an earlier one leaves behind it.
  void set_delay(Nanos delay) noexcept { shift_ = delay - base_delay_; }
  std::size_t frames_in_flight() const noexcept;
  JitterMode mode() const noexcept { return mode_; }
  const DelayDistribution& distribution() const noexcept { return process_.distribution(); }
  /// Order-preserving: the delay process's proposal rate in Hz (its time scale).
  double process_rate_hz() const noexcept { return process_.rate_hz(); }

 private:
  struct Held {
    Packet packet;
    std::uint64_t order;  // arrival order: equal release times leave first-in first-out
  };
  static bool later(const Held& a, const Held& b) noexcept;

  JitterMode mode_;
  PathDelayProcess process_;  // order_preserving
  JitterSampler sampler_;     // reordering
  Ring<Packet> fifo_;         // order_preserving: release times are non-decreasing
  std::vector<Held> heap_;    // reordering: min-heap on (release, order), capacity reserved
  std::size_t capacity_;
  std::uint64_t order_ = 0;
  Nanos last_release_{0};
  Nanos base_delay_;  // the configured mean
  Nanos shift_{0};    // scheduled mean minus the configured one
};

}  // namespace longhaul::core

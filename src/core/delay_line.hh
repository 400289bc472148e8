#pragma once
// Fixed one-way propagation delay: every packet leaves exactly `delay` after
// it arrived. Arrivals are in order and the delay is constant, so a FIFO is
// exact and O(1) per packet.
//
// The delay can change over time (a schedule: set_delay). Packets already on
// the line keep the release time they were given; packets arriving from then
// on get the new delay. When the delay falls, a new packet would be due before
// older ones, which a fibre path cannot do: it leaves right behind the last
// one instead (release = max(arrival + delay, previous release)), so the path
// never reorders and the new delay holds exactly once the line has drained.
#include "core/ring.hh"
#include "core/stage.hh"

namespace longhaul::core {

class DelayLine final : public Stage {
 public:
  /// Holds up to capacity_packets frames in flight (at least 1).
  DelayLine(Nanos delay, std::size_t capacity_packets);

  void accept(const Packet& packet) noexcept override;
  void advance(Nanos now) noexcept override;
  Nanos next_wakeup() const noexcept override;

  /// Packets arriving from now on get `delay` (never leaving before earlier ones).
  void set_delay(Nanos delay) noexcept { delay_ = delay; }
  Nanos delay() const noexcept { return delay_; }
  std::size_t frames_in_flight() const noexcept { return line_.size(); }

 private:
  Nanos delay_;
  Nanos last_release_{0};
  Ring<Packet> line_;
};

}  // namespace longhaul::core

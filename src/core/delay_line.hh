#pragma once
// Fixed one-way propagation delay: every packet leaves exactly `delay` after
// it arrived. Arrivals are in order and the delay is constant, so a FIFO is
// exact and O(1) per packet.
#include "core/ring.hh"
#include "core/stage.hh"

namespace longhaul::core {

class DelayLine final : public Stage {
 public:
  /// Holds up to capacity_packets frames in flight.
  DelayLine(Nanos delay, std::size_t capacity_packets);

  void accept(const Packet& packet) noexcept override;
  void advance(Nanos now) noexcept override;
  Nanos next_wakeup() const noexcept override;

  std::size_t frames_in_flight() const noexcept { return line_.size(); }

 private:
  Nanos delay_;
  Ring<Packet> line_;
};

}  // namespace longhaul::core

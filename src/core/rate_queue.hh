#pragma once
// A bottleneck link: a FIFO queue in front of a serialiser at a fixed rate.
//
// Departures follow the link exactly: a packet starts serialising when it has
// arrived and the link is free, and leaves when its last bit is out, after
// wire_bytes * 8 / rate. Serialisation times are computed in integer
// nanoseconds with the sub-nanosecond remainder carried forward, so a long run
// neither drifts nor accumulates rounding. The queue limit is checked on
// arrival against what is still waiting (including the packet on the wire),
// in wire packets, wire bytes or time to drain.
#include <cstdint>

#include "core/ring.hh"
#include "core/stage.hh"

namespace longhaul::core {

/// Queue limits; a zero field means "no limit of this kind".
struct QueueBound {
  std::uint64_t max_packets = 0;
  std::uint64_t max_bytes = 0;
  Nanos max_delay{0};
};

class RateQueue final : public Stage {
 public:
  /// rate_bps 0 means unlimited (packets pass straight through, no queue).
  /// capacity_packets bounds the ring that holds queued frames.
  RateQueue(std::uint64_t rate_bps, QueueBound bound, std::size_t capacity_packets);

  void accept(const Packet& packet) noexcept override;
  void advance(Nanos now) noexcept override;
  Nanos next_wakeup() const noexcept override;

  /// Wire packets waiting or on the wire.
  std::uint64_t queued_packets() const noexcept { return queued_packets_; }
  /// Wire bytes waiting or on the wire.
  std::uint64_t queued_bytes() const noexcept { return queued_bytes_; }
  /// Time to serialise `wire_bytes` at this rate, without the carried remainder.
  Nanos serialisation_time(std::uint64_t wire_bytes) const noexcept;

 private:
  /// Finish time of the head packet, carrying the remainder into `carry`.
  Nanos head_finish(std::uint64_t& carry) const noexcept;

  std::uint64_t rate_bps_;
  QueueBound bound_;
  Ring<Packet> queue_;
  Nanos link_free_at_{0};
  std::uint64_t remainder_ = 0;  // bit-nanoseconds not yet turned into whole nanoseconds
  std::uint64_t queued_packets_ = 0;
  std::uint64_t queued_bytes_ = 0;
  Nanos backlog_until_{0};               // when the link would finish everything queued so far
  std::uint64_t backlog_remainder_ = 0;  // the remainder the link will have at backlog_until_
};

}  // namespace longhaul::core

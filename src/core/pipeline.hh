#pragma once
// One direction of a lane: the stages in their fixed order, plus counting.
//
// Order (and why): loss first, because a packet lost on the path never
// occupied the bottleneck after the loss point and netem/hardware emulators
// drop before queueing too; then the bottleneck queue and its serialiser;
// then propagation delay, which comes after the bottleneck so a full queue
// adds queueing delay on top of the propagation delay, as on a real path.
#include <cstdint>
#include <memory>

#include "core/counters.hh"
#include "core/delay_line.hh"
#include "core/loss.hh"
#include "core/rate_queue.hh"

namespace longhaul::core {

/// What one direction does to its packets.
struct DirectionConfig {
  Nanos delay{0};              ///< one-way propagation delay
  std::uint64_t rate_bps = 0;  ///< bottleneck rate; 0 = unlimited
  QueueBound queue;            ///< bottleneck queue limit
  std::uint32_t overhead_bytes =
      24;                  ///< per wire packet: preamble+SFD 8, FCS 4, inter-frame gap 12
  double loss = 0.0;       ///< independent loss probability per wire packet
  std::uint64_t seed = 0;  ///< seed of this direction's random streams

  /// True when some stage decides per wire packet at random, so super-frames
  /// must arrive already segmented.
  bool needs_wire_packets() const noexcept { return loss > 0.0; }
};

/// Where a direction's packets finally go: released to the egress port, or discarded.
class PipelineEgress {
 public:
  virtual ~PipelineEgress() = default;
  /// A packet is due on the wire at packet.ts.
  virtual void transmit(const Packet& packet) noexcept = 0;
  /// A packet left the pipeline without being delivered (its buffer can be reused).
  virtual void discard(const Packet& packet, DropCause cause) noexcept = 0;
};

class Pipeline final : private PacketOutlet, private DropOutlet {
 public:
  /// capacity_packets bounds each internal ring (frames in queue, frames in the delay line).
  Pipeline(const DirectionConfig& config, std::size_t capacity_packets, PipelineEgress& egress,
           DirectionCounters& counters);
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  /// Takes a packet that arrived at packet.ts (non-decreasing between calls).
  void push(const Packet& packet) noexcept;
  /// Counts and discards a frame that never entered the models (malformed, no buffer).
  void reject(const Packet& packet, DropCause cause) noexcept;
  /// Moves a transmitted packet from "out" to the tx_error drops (the port refused it).
  void transmit_failed(const Packet& packet) noexcept;
  /// Releases everything due at or before `now` to the egress.
  void advance(Nanos now) noexcept;
  /// Earliest time advance() has work; kNever when empty.
  Nanos next_wakeup() const noexcept;

  const DirectionConfig& config() const noexcept { return config_; }
  const BernoulliLoss& loss() const noexcept { return loss_; }
  const RateQueue& rate_queue() const noexcept { return rate_queue_; }

  /// Wire bytes of a frame's wire packets: l2 bytes padded to the Ethernet
  /// minimum, plus the per-packet overhead.
  std::uint32_t wire_bytes(std::uint32_t l2_bytes, std::uint16_t segments) const noexcept;

 private:
  void accept(const Packet& packet) noexcept override;  // from the last stage
  void drop(const Packet& packet, DropCause cause) noexcept override;

  DirectionConfig config_;
  PipelineEgress& egress_;
  DirectionCounters& counters_;
  BernoulliLoss loss_;
  RateQueue rate_queue_;
  DelayLine delay_line_;
};

}  // namespace longhaul::core

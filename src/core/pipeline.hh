#pragma once
// One direction of a lane: the stages in their fixed order, plus counting.
//
// Order (and why; docs/impairments.md has the long form):
//   loss -> duplication -> corruption -> queue and rate -> delay and jitter [-> reordering]
// Loss first: a packet lost on the path never occupies the bottleneck after
// the loss point, and it is never duplicated. Duplication before corruption,
// so original and copy are damaged independently. Corruption before the
// queue: bytes are damaged on the wire, and it takes no time. The bottleneck
// queue and its serialiser next; propagation delay (with jitter) after it, so
// queueing delay adds to propagation delay as on a real path. Reordering, as
// netem defines it ("send some packets without the delay"), wraps the delay
// stage.
#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "core/corrupt.hh"
#include "core/counters.hh"
#include "core/delay_line.hh"
#include "core/duplicate.hh"
#include "core/jitter_delay.hh"
#include "core/loss_models.hh"
#include "core/packet_access.hh"
#include "core/rate_queue.hh"
#include "core/reorder.hh"
#include "core/schedule.hh"

namespace longhaul::core {

/// What one direction does to its packets.
struct DirectionConfig {
  Nanos delay{0};              ///< one-way propagation delay (the jitter's mean)
  std::uint64_t rate_bps = 0;  ///< bottleneck rate; 0 = unlimited
  QueueBound queue;            ///< bottleneck queue limit
  std::uint32_t overhead_bytes =
      24;  ///< per wire packet: preamble+SFD 8, FCS 4, inter-frame gap 12
  /// Cell framing (ATM-style): when cell_bytes != 0, each wire packet (frame plus
  /// overhead_bytes) is carried in ceil(bytes / cell_payload_bytes) cells of
  /// cell_bytes each (ATM: 53/48). 0 = no cells.
  std::uint32_t cell_bytes = 0;
  std::uint32_t cell_payload_bytes = 0;
  QueueConfig qdisc;       ///< queue discipline (drop-tail by default) and ECN marking
  double loss = 0.0;       ///< independent loss probability per wire packet
  std::uint64_t seed = 0;  ///< seed of this direction's random streams

  // Delay variation (docs/impairments.md).
  Nanos jitter{0};                  ///< sigma (uniform: half-width), 0 = none
  double jitter_correlation = 0.0;  ///< 0..1 between successive delays
  JitterShape jitter_shape = JitterShape::uniform;
  std::vector<std::int16_t> jitter_table;  ///< for JitterShape::table (netem .dist units)
  JitterMode jitter_mode = JitterMode::order_preserving;
  CorrelationModel correlation_model = CorrelationModel::preserving;

  /// Loss beyond `loss`: a correlated, Gilbert-Elliott or 4-state model, outages, ECN.
  /// When its model is set, `loss` must be 0.
  LossStageConfig loss_model;
  DuplicateConfig duplicate;
  CorruptConfig corrupt;
  ReorderConfig reorder;

  /// Time-varying rate, delay and loss (core/schedule.hh), from --at or a schedule file.
  /// Its offsets, like the trace's, count from loss_model.schedule_origin (the
  /// moment the link comes up), the one origin of everything timed in a direction.
  ScheduleConfig schedule;
  /// Trace-driven capacity: a schedule of rate changes (lab/trace_file.hh reads the files).
  ScheduleConfig capacity_trace;
  /// Largest IP packet (bytes after the L2 header, per wire packet) the direction
  /// carries; larger ones are dropped as DropCause::mtu. 0 = no limit.
  std::uint32_t mtu_bytes = 0;
  /// Answer a packet dropped for its size with ICMP fragmentation-needed (IPv4
  /// with DF) or ICMPv6 packet-too-big, sent back toward its sender (the engine does).
  bool mtu_icmp = false;

  /// The loss stage's configuration: loss_model, or `loss` as independent loss.
  LossStageConfig effective_loss() const;
  /// The jitter stage's configuration (delay, jitter, shape, correlation, mode).
  JitterDelayConfig jitter_config() const;
  bool has_jitter() const noexcept { return jitter.count() > 0; }
  /// True when the direction has a bottleneck at some time (a rate, or a schedule or trace of one).
  bool has_rate() const noexcept {
    return rate_bps != 0 || schedule.changes_rate() || capacity_trace.changes_rate();
  }
  /// Largest rate the direction ever has (its rate, schedule and trace); 0 = unlimited throughout.
  std::uint64_t max_rate_bps() const noexcept;
  /// Largest one-way delay the direction ever has (its delay and schedule).
  Nanos max_delay() const noexcept;

  /// True when some stage decides per wire packet at random, so super-frames
  /// must arrive already segmented (the engine turns segmentation offloads off).
  bool needs_wire_packets() const noexcept;
};

/// A change the control API makes while the link runs. The direction's own thread applies it at
/// the engine instant `at`, exactly like a schedule step: after the stages have released what was
/// due before it, before any packet arriving at or after it. Fields left unset keep their value.
struct LiveChange {
  Nanos at{0};
  ConditionChange change;           ///< rate, one-way delay, independent loss
  std::optional<QueueBound> queue;  ///< bottleneck queue limit
  Nanos outage{0};                  ///< > 0: lose everything arriving in [at, at + outage)
};

/// What a direction runs with now, for readers on other threads: written by the direction's
/// thread only when a change applies, read without locks.
struct LiveConditions {
  std::atomic<std::uint64_t> rate_bps{0};
  std::atomic<std::int64_t> delay_ns{0};
  std::atomic<double> loss{0.0};
  std::atomic<std::uint64_t> queue_max_bytes{0};
  std::atomic<std::uint64_t> queue_max_packets{0};
  std::atomic<std::int64_t> queue_max_delay_ns{0};
  std::atomic<std::int64_t> outage_until_ns{0};
  /// The engine instant of the last change applied (schedule, trace or live): readers see that
  /// changes posted together switched at one instant.
  std::atomic<std::int64_t> last_change_at_ns{0};
  /// Wire packets and wire bytes (L2 plus per-packet overhead) at the bottleneck: waiting for the
  /// rate or on the wire. Not what the delay line holds.
  std::atomic<std::uint64_t> bottleneck_packets{0};
  std::atomic<std::uint64_t> bottleneck_bytes{0};
  RelaxedCounter changes_applied;  ///< schedule, trace and live steps applied
  RelaxedCounter live_applied;     ///< live changes applied
  RelaxedCounter live_late;        ///< live changes that reached the thread after their instant
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

class Pipeline final : private PacketOutlet, private DropOutlet, private PacketCloner {
 public:
  /// capacity_packets bounds each internal ring. `cloner` is required when
  /// duplication is configured, `bytes` when corruption or ECN marking (netem's
  /// or the queue discipline's) is (std::invalid_argument otherwise).
  Pipeline(const DirectionConfig& config, std::size_t capacity_packets, PipelineEgress& egress,
           DirectionCounters& counters, PacketCloner* cloner = nullptr,
           PacketBytes* bytes = nullptr);
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;
  ~Pipeline() override;

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
  const LossStage& loss() const noexcept { return loss_; }
  const RateQueue& rate_queue() const noexcept { return rate_queue_; }
  /// Schedule and trace steps applied so far.
  std::uint64_t changes_applied() const noexcept { return changes_applied_; }

  /// Queues a live change (from the direction's own thread). A change whose instant has already
  /// passed on the model's timeline (an arrival or release at or after it was handled) applies
  /// at the latest time handled instead, and counts as late. False when kMaxPendingLive changes
  /// are already waiting (nothing queued).
  bool schedule_live(const LiveChange& change) noexcept;
  /// Live changes waiting for their instant.
  std::size_t pending_live() const noexcept { return live_count_; }
  /// The conditions in force, readable from any thread.
  const LiveConditions& conditions() const noexcept { return conditions_; }
  static constexpr std::size_t kMaxPendingLive = 32;

  /// Wire bytes of a frame's wire packets: l2 bytes padded to the Ethernet
  /// minimum, plus the per-packet overhead, rounded up to whole cells when cell
  /// framing is set (a super-frame's bytes split evenly over its segments).
  std::uint32_t wire_bytes(std::uint32_t l2_bytes, std::uint16_t segments) const noexcept;

 private:
  void accept(const Packet& packet) noexcept override;  // from the last stage
  void drop(const Packet& packet, DropCause cause) noexcept override;
  // Duplication's copies enter through here so they are counted.
  std::optional<BufferHandle> clone(const Packet& packet) noexcept override;
  // Applies every schedule and trace step due at or before `t`, each at its own
  // instant: the stages first release what was due before it.
  void apply_changes(Nanos t) noexcept;
  void apply(const ConditionChange& change, Nanos at) noexcept;
  void apply_live(const LiveChange& change) noexcept;
  void publish_conditions() noexcept;
  void publish_bottleneck() noexcept;

  DirectionConfig config_;
  PipelineEgress& egress_;
  DirectionCounters& counters_;
  PacketCloner* cloner_;
  LossStage loss_;
  std::unique_ptr<Duplicate> duplicate_;
  std::unique_ptr<Corrupt> corrupt_;
  RateQueue rate_queue_;
  std::unique_ptr<Stage> delay_;     // DelayLine, or JitterDelay when jitter is set
  DelayLine* delay_line_ = nullptr;  // delay_ as its type, for scheduled delay changes
  JitterDelay* jitter_delay_ = nullptr;
  std::unique_ptr<Reorder> reorder_;  // wraps delay_ when reordering is set
  Stage* after_queue_;                // reorder_ or delay_
  ScheduleCursor schedule_;
  ScheduleCursor trace_;
  std::uint64_t changes_applied_ = 0;
  // Live changes by instant (equal instants in arrival order); no allocation after construction.
  std::array<LiveChange, kMaxPendingLive> live_{};
  std::size_t live_count_ = 0;
  Nanos latest_{0};      // latest arrival or advance handled: the model's "now"
  Nanos current_delay_;  // the delay in force (the jitter stage's mean), for conditions_
  double current_loss_;  // the independent loss probability in force
  Nanos outage_until_{0};
  LiveConditions conditions_;
};

}  // namespace longhaul::core

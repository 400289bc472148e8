#pragma once
// One direction of a lane, run by one thread: ingress port -> pipeline -> egress port.
//
// The loop: drain the ingress in batches (arrivals stamped with the kernel's
// receive time where the port has it, else the clock),
// advance the pipeline to now, send everything due in batches, then sleep in
// ppoll until the next release or an arrival. The last `spin` before a release
// is busy-polled instead, because a sleeping thread wakes tens of
// microseconds late and release accuracy is the product.
#include <atomic>
#include <memory>
#include <string>

#include "core/buffer_arena.hh"
#include "core/histogram.hh"
#include "core/pipeline.hh"
#include "core/ring.hh"
#include "engine/arena_access.hh"
#include "engine/clock.hh"
#include "engine/live_mailbox.hh"
#include "engine/port.hh"
#include "io/thread_schedstat.hh"

namespace longhaul::engine {

struct WorkerOptions {
  std::size_t arena_bytes = 64 << 20;      ///< packet bytes held in flight
  std::size_t capacity_packets = 1 << 16;  ///< frames held in flight
  Nanos spin{std::chrono::microseconds(200)};
};

/// Counters the engine adds beyond the pipeline's.
struct WorkerStats {
  core::RelaxedCounter lost_before_ingress;  ///< kernel socket buffer overflowed
  core::RelaxedCounter tx_blocked;           ///< egress was full and had to wait
  core::RelaxedCounter too_big_replies;      ///< ICMP "too big" messages sent back (MTU)
  core::LatenessHistogram release_lateness;  ///< actual send time minus intended time
  core::LatenessHistogram
      ingress_wait;  ///< engine read time minus kernel receive time (stamped ports)
  /// The direction thread's scheduler times since it started (/proc/thread-self/schedstat),
  /// refreshed every kCpuSampleInterval and when it stops; cpu_samples 0: not available.
  core::RelaxedCounter cpu_running_ns, cpu_waiting_ns, cpu_samples;
  /// The models' own counts (core::Pipeline's, which only the thread may read), copied by the
  /// thread with the CPU sample and when it stops, so a live reader (a lab's status) sees them.
  core::RelaxedCounter ecn_marked, aqm_dropped, outage_dropped, schedule_changes;
};

/// How often a direction thread reads its own scheduler statistics.
inline constexpr Nanos kCpuSampleInterval{std::chrono::milliseconds(100)};

/// The arrival time the models get for a frame the port stamped `stamp` (0 = no stamp), read at
/// `now`, after a frame that got `previous`. The kernel's stamp is the true arrival; it is used
/// unless implausible (later than now, or older than kMaxStampAge: the port's conversion guards
/// against wall-clock steps, this is the last line). Never earlier than `previous`, so arrivals
/// stay in order, and a frame stamped before a step the port saw is never given a time earlier
/// than the read time of the batch that saw it.
Nanos arrival_time(Nanos stamp, Nanos now, Nanos previous) noexcept;
inline constexpr Nanos kMaxStampAge{std::chrono::seconds(1)};

class DirectionWorker final : private core::PipelineEgress {
 public:
  /// `reply`, when given, sends frames back out of the ingress interface (ICMP
  /// "too big" answers for the MTU); only this worker's thread uses it.
  DirectionWorker(const core::DirectionConfig& config, const WorkerOptions& options,
                  IngressPort& ingress, EgressPort& egress, const Clock& clock,
                  core::DirectionCounters& counters, EgressPort* reply = nullptr);
  DirectionWorker(const DirectionWorker&) = delete;
  DirectionWorker& operator=(const DirectionWorker&) = delete;
  ~DirectionWorker() override;

  /// Loops until stop_fd polls readable or `stopping` is set; never throws.
  void run(int stop_fd, const std::atomic<bool>& stopping) noexcept;
  /// Reads the ports' own counters (frames lost before ingress) into stats().
  void collect_port_statistics() noexcept;
  /// One pass without waiting: receive what waits, advance to now, send what is due.
  /// Returns the number of frames received.
  std::size_t poll_once() noexcept;
  /// Next time the pipeline releases something (kNever when empty).
  Nanos next_wakeup() const noexcept { return pipeline_.next_wakeup(); }
  /// Frames released by the model but not yet accepted by the egress port.
  std::size_t pending_transmit() const noexcept { return pending_.size(); }

  /// Where the control API posts live changes for this direction (any one thread at a time).
  LiveMailbox& mailbox() noexcept { return mailbox_; }
  const LiveMailbox& mailbox() const noexcept { return mailbox_; }

  const core::BufferArena& arena() const noexcept { return arena_; }
  const core::Pipeline& pipeline() const noexcept { return pipeline_; }
  const WorkerStats& stats() const noexcept { return stats_; }

 private:
  void transmit(const core::Packet& packet) noexcept override;
  void discard(const core::Packet& packet, core::DropCause cause) noexcept override;
  std::size_t ingest() noexcept;
  /// Moves posted live changes into the pipeline, which applies each at its instant.
  void take_live_changes() noexcept;
  void ingest_one(const RxSlot& slot, Nanos now) noexcept;
  /// Sends pending frames; false when the egress is full.
  bool flush() noexcept;
  /// Reads this thread's scheduler times into stats() (from run()'s thread only).
  void sample_cpu(Nanos now) noexcept;
  /// Copies the pipeline's model counts into stats_ (the thread's own, read by others).
  void publish_model_counts() noexcept;
  /// Answers a frame dropped for the MTU with ICMP, back out of the ingress (best effort).
  void answer_too_big(std::span<const std::byte> frame) noexcept;

  static constexpr core::BufferHandle kNoBuffer = 0xFFFFFFFF;

  IngressPort& ingress_;
  EgressPort& egress_;
  EgressPort* reply_;
  const Clock& clock_;
  WorkerOptions options_;
  core::BufferArena arena_;
  ArenaPacketAccess access_;  // how byte-level stages reach arena_ (before pipeline_)
  core::Pipeline pipeline_;
  core::Ring<core::Packet> pending_;
  std::unique_ptr<std::byte[]> scratch_;
  std::unique_ptr<std::byte[]> reply_frame_;  // [vnet header][ICMP reply], built here, sent at once
  std::vector<RxSlot> slots_;
  std::vector<TxFrame> tx_batch_;
  std::uint64_t next_seq_ = 0;
  Nanos last_arrival_{0};
  std::uint64_t passes_ = 0;
  io::ThreadSchedstat schedstat_;
  io::SchedulerTimes cpu_baseline_;
  Nanos last_cpu_sample_{0};
  WorkerStats stats_;
  LiveMailbox mailbox_;
};

}  // namespace longhaul::engine

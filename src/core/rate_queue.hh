#pragma once
// A bottleneck link: a queue in front of a serialiser at a fixed rate.
//
// Departures follow the link exactly: a packet starts serialising when it has
// arrived and the link is free, and leaves when its last bit is out, after
// wire_bytes * 8 / rate. Serialisation times are computed in integer
// nanoseconds with the sub-nanosecond remainder carried forward, so a long run
// neither drifts nor accumulates rounding. The queue limit is checked on
// arrival against what is still waiting (including the packet on the wire),
// in wire packets, wire bytes or time to drain.
//
// What happens when the queue is full, or filling, is the queue discipline
// (docs/impairments.md, "Queue disciplines"):
//   drop_tail  the arriving packet is dropped (the default; a plain FIFO);
//   drop_head  the oldest waiting packet (never the one on the wire) is
//              dropped to make room, so the freshest data gets through;
//   red        Random Early Detection (Floyd & Jacobson 1993, as tc-red):
//              an EWMA of the backlog decides at enqueue;
//   codel      Controlled Delay (RFC 8289): the sojourn time of the packet
//              that starts serialising decides, at dequeue;
//   pie        Proportional Integral controller Enhanced (RFC 8033): a drop
//              probability updated every tupdate from the queueing delay,
//              applied at enqueue.
// RED, CoDel and PIE mark ECN-capable packets CE instead of dropping them when
// ECN is enabled (RFC 3168); Not-ECT packets are dropped as usual. The hard
// limit (QueueBound) applies under every discipline. Drops at the hard limit
// (the arriving packet, or drop-head's oldest waiting one) count as
// DropCause::queue_full; RED's, CoDel's and PIE's early drops as DropCause::aqm.
#include <chrono>
#include <cstdint>

#include "core/histogram.hh"
#include "core/packet_access.hh"
#include "core/random.hh"
#include "core/ring.hh"
#include "core/stage.hh"

namespace longhaul::core {

/// Queue limits; a zero field means "no limit of this kind".
struct QueueBound {
  std::uint64_t max_packets = 0;
  std::uint64_t max_bytes = 0;
  Nanos max_delay{0};
};

enum class QueueDiscipline : std::uint8_t { drop_tail, drop_head, red, codel, pie };

/// Stable lower-case name ("droptail", "drophead", "red", "codel", "pie").
const char* queue_discipline_name(QueueDiscipline discipline) noexcept;

/// RED parameters; zero thresholds are derived from the queue limit as tc-red does
/// (max = limit / 4, min = max / 3).
struct RedParams {
  std::uint64_t min_bytes = 0;    ///< average backlog where early drops start
  std::uint64_t max_bytes = 0;    ///< average backlog where every packet is dropped
  double max_probability = 0.02;  ///< drop probability reached at max_bytes (tc-red default)
  double weight = 0.002;          ///< EWMA weight of the average (Floyd & Jacobson's w_q)
};

/// RED's thresholds in effect for a queue: the given ones, or derived from the
/// limit in bytes (packets count as 1538 B, time as bytes at the rate; no limit:
/// 100 ms at the rate).
struct RedThresholds {
  std::uint64_t min_bytes;
  std::uint64_t max_bytes;
};
RedThresholds red_thresholds(std::uint64_t rate_bps, const QueueBound& bound,
                             const RedParams& params) noexcept;

/// CoDel parameters (RFC 8289 section 4.2 defaults).
struct CodelParams {
  Nanos target = std::chrono::milliseconds(5);
  Nanos interval = std::chrono::milliseconds(100);
};

/// PIE parameters (RFC 8033 section 4 defaults).
struct PieParams {
  Nanos target = std::chrono::milliseconds(15);      ///< QDELAY_REF
  Nanos tupdate = std::chrono::milliseconds(15);     ///< T_UPDATE
  Nanos max_burst = std::chrono::milliseconds(150);  ///< MAX_BURST
  double alpha = 0.125;                              ///< per second of delay error
  double beta = 1.25;                                ///< per second of delay change
  double mark_threshold = 0.1;  ///< above this probability ECT packets are dropped, not marked
};

/// How the queue decides what to drop (or mark).
struct QueueConfig {
  QueueDiscipline discipline = QueueDiscipline::drop_tail;
  bool ecn = false;  ///< RED, CoDel and PIE mark ECT packets CE instead of dropping them
  RedParams red;
  CodelParams codel;
  PieParams pie;

  /// True when the discipline decides per packet in a way a super-frame would
  /// distort (everything but drop-tail), so frames must be wire packets.
  bool needs_wire_packets() const noexcept { return discipline != QueueDiscipline::drop_tail; }
};

class RateQueue final : public Stage {
 public:
  /// rate_bps 0 means unlimited (packets pass straight through, no queue).
  /// capacity_packets bounds the ring that holds queued frames (give at least
  /// 1; an unlimited queue whose rate a schedule will set needs the full size). `seed` feeds
  /// RED's and PIE's random decisions; `bytes` is needed for ECN marking
  /// (without it, packets are dropped instead).
  RateQueue(std::uint64_t rate_bps, QueueBound bound, std::size_t capacity_packets,
            const QueueConfig& config = {}, std::uint64_t seed = 0, PacketBytes* bytes = nullptr);

  void accept(const Packet& packet) noexcept override;
  void advance(Nanos now) noexcept override;
  Nanos next_wakeup() const noexcept override;

  /// Changes the rate at `now` (not before the last arrival or advance) without
  /// losing a packet: the one on the wire keeps the bits it has already sent
  /// and serialises the rest at the new rate, exactly (sub-nanosecond
  /// remainder included); the waiting ones follow at the new rate. 0 makes the
  /// link unlimited: everything queued leaves at `now`, in order.
  void set_rate(Nanos now, std::uint64_t rate_bps) noexcept;
  std::uint64_t rate_bps() const noexcept { return rate_bps_; }
  /// Changes the queue limit for packets arriving from now on. Packets already queued stay, even
  /// above a lower limit; arrivals are dropped (queue_full) until the queue is below it again.
  void set_bound(QueueBound bound) noexcept;
  const QueueBound& bound() const noexcept { return bound_; }

  /// Wire packets waiting or on the wire.
  std::uint64_t queued_packets() const noexcept { return queued_packets_; }
  /// Wire bytes waiting or on the wire.
  std::uint64_t queued_bytes() const noexcept { return queued_bytes_; }
  /// Time to serialise `wire_bytes` at this rate, without the carried remainder.
  Nanos serialisation_time(std::uint64_t wire_bytes) const noexcept;

  const QueueConfig& config() const noexcept { return config_; }
  /// Frames the discipline dropped early (RED, CoDel, PIE) or from the head (drop-head).
  std::uint64_t aqm_dropped() const noexcept { return aqm_dropped_; }
  /// Frames marked CE instead of dropped.
  std::uint64_t ecn_marked() const noexcept { return ecn_marked_; }
  /// RED: the average backlog in wire bytes; PIE: the current drop probability.
  double red_average() const noexcept { return red_avg_; }
  double pie_probability() const noexcept { return pie_prob_; }
  /// How long each wire packet that got the link waited for it: from its arrival to the start
  /// of its serialisation (CoDel's sojourn; its own serialisation time is not included). Packets
  /// dropped by the queue are not in it. Readable from any thread.
  const SojournHistogram& sojourn() const noexcept { return sojourn_; }
  /// RED thresholds in effect (derived from the limit when not given).
  std::uint64_t red_min_bytes() const noexcept { return red_min_; }
  std::uint64_t red_max_bytes() const noexcept { return red_max_; }

 private:
  enum class Verdict : std::uint8_t { pass, drop, mark };

  /// Removes the oldest waiting packet as a discipline drop, shortening the backlog.
  void drop_oldest_waiting() noexcept;
  /// Takes a waiting packet out of the backlog arithmetic and the counts.
  void forget_waiting(const Packet& packet) noexcept;
  /// Drop or mark for a congestion signal: marks ECT packets when ECN is on.
  Verdict signal(const Packet& packet, bool allow_mark) noexcept;
  Verdict red_enqueue(const Packet& packet, Nanos now) noexcept;
  Verdict codel_dequeue(const Packet& packet, Nanos now) noexcept;
  Verdict pie_enqueue(const Packet& packet, Nanos now) noexcept;
  void pie_update(Nanos now) noexcept;
  bool codel_ok_to_drop(const Packet& packet, Nanos now) noexcept;

  std::uint64_t rate_bps_;
  QueueBound bound_;
  QueueConfig config_;
  Random random_;
  PacketBytes* bytes_;
  Ring<Packet> queue_;  // waiting, not yet serialising; ts = arrival
  SojournHistogram sojourn_;
  // The packet on the wire, if any.
  bool busy_ = false;
  Packet wire_{};
  Nanos wire_finish_{0};
  std::uint64_t wire_carry_ = 0;
  Nanos wire_start_{0};          // when the link started (or a rate change resumed) it
  std::uint64_t wire_data_ = 0;  // its bits * 1e9 (plus the carried remainder) from wire_start_

  Nanos link_free_at_{0};
  std::uint64_t remainder_ = 0;  // bit-nanoseconds not yet turned into whole nanoseconds
  std::uint64_t queued_packets_ = 0;
  std::uint64_t queued_bytes_ = 0;
  Nanos backlog_until_{0};               // when the link would finish everything queued so far
  std::uint64_t backlog_remainder_ = 0;  // the remainder the link will have at backlog_until_
  std::uint64_t max_packet_bytes_ = 0;   // largest wire packet seen (CoDel/PIE's MAXPACKET)

  std::uint64_t aqm_dropped_ = 0;
  std::uint64_t ecn_marked_ = 0;

  // RED.
  std::uint64_t red_min_ = 0;
  std::uint64_t red_max_ = 0;
  double red_avg_ = 0.0;
  std::int64_t red_count_ = -1;  // packets since the last early drop, -1 below min
  Nanos idle_since_{0};          // when the queue last became empty
  bool idle_ = true;

  // CoDel (RFC 8289 variable names).
  Nanos codel_first_above_{0};
  bool codel_above_ = false;
  Nanos codel_drop_next_{0};
  std::uint32_t codel_count_ = 0;
  std::uint32_t codel_last_count_ = 0;
  bool codel_dropping_ = false;

  // PIE.
  double pie_prob_ = 0.0;
  Nanos pie_qdelay_old_{0};
  Nanos pie_burst_left_{0};
  Nanos pie_next_update_{0};
  bool pie_started_ = false;
};

}  // namespace longhaul::core

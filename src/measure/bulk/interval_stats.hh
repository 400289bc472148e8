#pragma once
// Per-interval figures of a stream from two snapshots (application byte
// counter + TCP_INFO), their sums over streams, and whole-test totals. Pure:
// times are arguments (nanoseconds since the side's test start).
//
// What "bytes" means: on a receiver, bytes the application read; on a sender,
// bytes the peer acknowledged (tcpi_bytes_acked), not bytes written into the
// socket. Written bytes run ahead by up to a send buffer (megabytes with
// autotuning), which would make a sender's first interval look fast and its
// last one slow; acknowledged bytes track what really crossed the path.
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "measure/bench_config.hh"
#include "measure/bulk/limited_by.hh"
#include "measure/bulk/tcp_sample.hh"

namespace longhaul::measure {

/// One stream at one instant.
struct StreamSnapshot {
  Nanos at{0};                       ///< since the side's test start
  std::uint64_t app_bytes = 0;       ///< written (sender) or read (receiver) by the application
  std::optional<TcpInfoSample> tcp;  ///< empty when TCP_INFO could not be read
};

/// What a stream did during one interval, seen from one side.
struct StreamInterval {
  std::uint32_t id = 0;  ///< 1-based stream id, the same on both sides
  Side side = Side::client;
  Role role = Role::sender;
  Direction direction = Direction::upload;
  Nanos start{0};
  Nanos end{0};
  bool omitted = false;
  std::uint64_t bytes = 0;          ///< sender: newly acknowledged; receiver: read
  std::uint64_t bytes_written = 0;  ///< sender: written by the application
  double bits_per_second = 0;       ///< bytes × 8 / (end - start)
  // Sender's TCP_INFO at the end of the interval, and deltas over it.
  std::uint32_t rtt_us = 0;
  std::uint32_t rttvar_us = 0;
  std::uint32_t min_rtt_us = 0;
  std::uint32_t snd_mss_bytes = 0;
  std::uint32_t snd_cwnd_segments = 0;
  std::uint64_t snd_cwnd_bytes = 0;
  std::uint32_t snd_wnd_bytes = 0;  ///< the receive window the peer advertised
  std::uint32_t retransmits = 0;    ///< segments retransmitted during the interval
  std::uint64_t bytes_retransmitted = 0;
  std::uint64_t pacing_rate_bps = 0;
  std::uint64_t delivery_rate_bps = 0;
  std::optional<LimitedBy> limited_by;  ///< senders only
  // Receiver's TCP_INFO at the end of the interval.
  std::uint32_t rcv_rtt_us = 0;
  std::uint32_t rcv_space_bytes = 0;
  std::optional<std::uint32_t> rcv_wnd_bytes;  ///< what we advertise (Linux 6.2+)

  friend bool operator==(const StreamInterval&, const StreamInterval&) = default;
};

/// Everything one side measured in one interval.
struct SideInterval {
  std::uint32_t index = 0;
  Nanos start{0};
  Nanos end{0};
  bool omitted = false;
  std::vector<StreamInterval> streams;

  friend bool operator==(const SideInterval&, const SideInterval&) = default;
};

/// Identity of a stream as a side sees it.
struct StreamIdentity {
  std::uint32_t id = 1;
  Side side = Side::client;
  Direction direction = Direction::upload;
  std::uint64_t pacing_cap_bps = 0;               ///< configured pacing, 0 for none
  std::optional<std::uint64_t> sndbuf_set_bytes;  ///< SO_SNDBUF the user set (senders)
};

/// The interval between two snapshots of the same stream (`end.at` > `begin.at`).
StreamInterval compute_interval(const StreamIdentity& who, const StreamSnapshot& begin,
                                const StreamSnapshot& end, bool omitted);

/// Sum over the streams of one direction seen in one role, in one interval.
struct IntervalSum {
  Direction direction = Direction::upload;
  Role role = Role::sender;
  Nanos start{0};
  Nanos end{0};
  bool omitted = false;
  std::uint32_t streams = 0;
  std::uint64_t bytes = 0;
  double bits_per_second = 0;
  std::uint32_t retransmits = 0;
  std::uint32_t mean_rtt_us = 0;        ///< senders: mean of the streams' smoothed RTTs
  std::uint64_t snd_cwnd_bytes = 0;     ///< senders: sum of the congestion windows
  std::uint64_t snd_wnd_bytes = 0;      ///< senders: sum of the peers' windows
  std::optional<LimitedBy> limited_by;  ///< senders: mean over the streams
};

/// Sums the streams of `direction` seen in `role`; empty when there are none.
std::optional<IntervalSum> sum_interval(std::span<const StreamInterval> streams,
                                        Direction direction, Role role);

/// A whole test's figure for one direction and role, from its non-omitted intervals.
struct Totals {
  Direction direction = Direction::upload;
  Role role = Role::sender;
  Nanos start{0};  ///< start of the first counted interval
  Nanos end{0};    ///< end of the last interval
  std::uint64_t bytes = 0;
  double bits_per_second = 0;  ///< bytes × 8 / (end - start)
  std::uint32_t retransmits = 0;
  std::optional<LimitedBy> limited_by;  ///< time-weighted over the counted intervals
  std::uint32_t mean_rtt_us = 0;        ///< time-weighted mean of the interval means
  double mean_snd_wnd_bytes = 0;        ///< time-weighted mean of the peers' windows
};

/// Totals over every stream interval of `direction` in `role` (all sides' intervals may be
/// mixed in; others are ignored). Omitted intervals are left out; empty when none remain.
std::optional<Totals> summarize(std::span<const SideInterval> intervals, Direction direction,
                                Role role);

/// When the interval that contains `elapsed` ends: every `interval` from the start during
/// the omitted period (the last one cut at `omit`), then every `interval` from `omit`.
Nanos interval_end(Nanos elapsed, Nanos interval, Nanos omit);

}  // namespace longhaul::measure

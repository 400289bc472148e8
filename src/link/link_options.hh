#pragma once
// Turns the link flags a user typed into the two directions' models, with the
// defaults and the checks a user needs ("up" = from the command toward the
// remote side, "down" = back). Kept apart from the CLI so tests reach it.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/pipeline.hh"
#include "core/units.hh"

namespace longhaul::link {

/// The link flags as typed (unset = not given).
struct LinkFlags {
  std::optional<std::string> rtt, delay, delay_up, delay_down;
  std::optional<std::string> rate, rate_up, rate_down;
  std::optional<std::string> loss, loss_up, loss_down;
  std::optional<std::string> queue, queue_up, queue_down;
  std::optional<std::string> overhead;
  // Queue discipline and framing (docs/impairments.md, "Queue disciplines").
  std::optional<std::string> qdisc;  ///< droptail|drophead|red|codel|pie
  bool ecn = false;                  ///< the discipline marks ECT packets CE instead of dropping
  std::optional<std::string> cell;   ///< "SIZE/PAYLOAD", e.g. "53/48" (ATM)
  // Impairments beyond delay, rate and loss (docs/impairments.md).
  std::optional<std::string> jitter, jitter_up, jitter_down;
  std::optional<std::string> distribution;       ///< uniform|normal|pareto|paretonormal|FILE.dist
  std::optional<std::string> jitter_mode;        ///< order|reorder
  std::optional<std::string> correlation_model;  ///< preserving|netem
  std::optional<std::string> duplicate, corrupt, ber;
  std::vector<std::string> outages;  ///< "AT+FOR", e.g. "5s+2s": both directions down
  std::optional<std::string> netem, netem_up, netem_down;  ///< tc-netem parameter lines
  std::optional<std::uint64_t> seed;
  // Time-varying conditions (docs/impairments.md, "Schedules", "Traces", "MTU").
  std::vector<std::string> at;  ///< "TIME:KEY=VALUE[,KEY=VALUE...]", e.g. "10s:rate=100mbit"
  std::optional<std::string> schedule;              ///< schedule file ("10s rate 100mbit" lines)
  std::optional<std::string> schedule_repeat;       ///< period after which the schedule repeats
  std::optional<std::string> trace_up, trace_down;  ///< capacity traces (Mahimahi or native)
  bool trace_once = false;  ///< play the traces once, then keep their last rate (default: loop)
  std::optional<std::string> mtu, mtu_up, mtu_down;  ///< largest IP packet a direction carries
  bool mtu_icmp = false;  ///< answer too-big packets with ICMP (frag-needed / packet-too-big)
};

/// A netem distribution table: NAME.dist from iproute2's directories, or a path.
/// Errors name every place looked at.
core::Parsed<std::vector<std::int16_t>> load_dist_table(const std::string& name);

/// Both directions, resolved.
struct LinkSpec {
  core::DirectionConfig up;
  core::DirectionConfig down;
  std::uint64_t seed = 0;
  bool seed_given = false;
};

/// Largest wire packet the default MTU produces (1514-byte frame + 24 overhead).
inline constexpr std::uint64_t kFullSizeWireBytes = 1514 + 24;

/// Resolves flags into a LinkSpec; the error names the flag, the value and what to do.
/// `random_seed` is used when no --seed was given.
core::Parsed<LinkSpec> resolve_link(const LinkFlags& flags, std::uint64_t random_seed);

/// Default bottleneck queue for a direction: one bandwidth-delay product of the
/// path's round trip, at least 100 full-size packets (never a fixed packet count).
core::QueueBound default_queue(std::uint64_t rate_bps, core::Nanos rtt);

/// Packet-buffer sizing for one direction: the bytes the direction can hold in
/// flight (queue plus delay line) at its rate, or at `assumed_rate_bps` when unlimited.
struct BufferPlan {
  std::size_t arena_bytes;
  std::size_t capacity_packets;
};
BufferPlan plan_buffers(const core::DirectionConfig& config, std::uint64_t assumed_rate_bps);

/// One line describing a direction, e.g. "40 ms, 500 Mbit/s, queue 5 MB, loss 0.1%".
std::string describe(const core::DirectionConfig& config);

}  // namespace longhaul::link

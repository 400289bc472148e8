#pragma once
// The tc-netem parameter grammar, so users can paste the netem part of their
// existing `tc qdisc ... netem ...` lines (a leading `tc ... netem` or `netem`
// is skipped). Strict: every word must be understood; an error names the word,
// its column and what is accepted.
//
//   limit PACKETS
//   delay|latency TIME [JITTER [CORRELATION]]
//   distribution {uniform|normal|pareto|paretonormal|NAME}
//   loss|drop [random] PERCENT [CORRELATION]
//   loss|drop state P13 [P31 [P32 [P23 [P14]]]]
//   loss|drop gemodel PERCENT [R [1-H [1-K]]]
//   ecn
//   corrupt PERCENT [CORRELATION]
//   duplicate PERCENT [CORRELATION]
//   reorder PERCENT [CORRELATION]      gap DISTANCE
//   rate RATE [PACKETOVERHEAD]
//   seed NUMBER
//
// Units are tc's, including its surprises:
// - TIME: s|sec|secs, ms|msec|msecs, us|usec|usecs, ns|nsec|nsecs (ns is a
//   longhaul addition), case-insensitive; a bare number is MICROseconds, as
//   in tc ("delay 100" is 100 us). Exact to the nanosecond; at most 1000 s.
// - PERCENT and CORRELATION: a number with an optional "%"; the number is a
//   percentage either way, as in tc ("loss 1" is 1%, "loss 0.1" is 0.1%).
// - RATE: bit, kbit, mbit, gbit, tbit (SI), kibit, mibit, gibit, tibit (IEC),
//   and BYTES per second with "bps": bps, kbps, mbps, gbps, tbps, kibps, ...;
//   case-insensitive, so "100mbps" is 100 megaBYTES per second = 800 Mbit/s,
//   exactly as in tc. A bare number is bits per second. "%" of the device
//   speed is rejected (no device here).
// - Optional arguments are recognised as tc does: the next word starts with a
//   digit (or "-" for the signed overhead).
// Checks tc makes are made too: reorder needs a delay; gap needs reorder (and
// defaults to 1 with it); ecn needs a loss model; distribution needs delay and
// jitter. Rejected with a reason: slot (MAC-layer bursts), rate CELLSIZE and
// CELLOVERHEAD (ATM cells), rate as a percentage, loss/delay trace, help.
// Each keyword may appear once.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/corrupt.hh"
#include "core/distribution.hh"
#include "core/duplicate.hh"
#include "core/loss_models.hh"
#include "core/reorder.hh"
#include "core/syntax_error.hh"
#include "core/time.hh"

namespace longhaul::core {

/// A parsed netem line; every field is as tc would send it to netem.
struct NetemSpec {
  std::optional<std::uint32_t>
      limit_packets;  ///< `limit`: netem's queue limit (default 1000 in netem)
  Nanos delay{0};     ///< one way
  Nanos jitter{0};
  double delay_correlation = 0.0;  ///< 0..1
  JitterShape distribution = JitterShape::uniform;
  std::string distribution_name;  ///< as written; for JitterShape::table the caller loads NAME.dist
  LossModelConfig loss;           ///< monostate: no loss
  bool ecn = false;
  double duplicate = 0.0;
  double duplicate_correlation = 0.0;
  double corrupt = 0.0;
  double corrupt_correlation = 0.0;
  double reorder = 0.0;
  double reorder_correlation = 0.0;
  std::uint32_t gap = 0;                        ///< 0 without reorder; >= 1 with it
  std::optional<std::uint64_t> rate_bps;        ///< `rate`, in bits per second
  std::optional<std::int32_t> packet_overhead;  ///< bytes added per packet by `rate` (may be < 0)
  std::optional<std::uint64_t> seed;
};

/// Parses netem parameters (optionally preceded by `tc ... netem` or `netem`).
SyntaxResult<NetemSpec> parse_netem(std::string_view text);

/// The spec in canonical netem syntax (parses back to the same spec), e.g.
/// "delay 100ms 10ms 25% distribution normal loss random 0.1%".
std::string format_netem(const NetemSpec& spec);

// Stage configurations for a parsed spec (the same for both directions;
// give each direction its own seed). `table` is the loaded NAME.dist for
// JitterShape::table.
JitterConfig netem_jitter_config(const NetemSpec& spec, std::vector<std::int16_t> table = {},
                                 CorrelationModel model = CorrelationModel::preserving);
LossStageConfig netem_loss_config(const NetemSpec& spec,
                                  CorrelationModel model = CorrelationModel::preserving);
DuplicateConfig netem_duplicate_config(const NetemSpec& spec,
                                       CorrelationModel model = CorrelationModel::preserving);
CorruptConfig netem_corrupt_config(const NetemSpec& spec,
                                   CorrelationModel model = CorrelationModel::preserving);
ReorderConfig netem_reorder_config(const NetemSpec& spec,
                                   CorrelationModel model = CorrelationModel::preserving);

}  // namespace longhaul::core

#pragma once
// The fidelity verdict: did a lane direction behave as configured, or could the machine not keep
// the promise? Pure: it judges numbers the engine measured (release lateness against the model's
// due time, drops the configuration did not ask for, how long the direction's thread waited for
// a CPU) against thresholds that scale with the path's one-way delay.
//
// Why a share test and not "p99 <= T": a percentile of 20 pings is their maximum, so one ping
// delayed by a machine hiccup would call a whole run degraded. "p99 <= T" means "at most 1 % of
// frames later than T"; the verdict says degraded only when the late share exceeds that beyond
// chance: when the Chernoff bound on the probability that a path keeping the threshold shows at
// least this many late frames out of n is below kFidelityConfidence. With many frames this is
// "more than about 1 %"; with 20 pings it takes 4 late by the p99 threshold (or 2 by the p99.9
// one).
#include <cstdint>
#include <string>
#include <vector>

#include "core/pipeline.hh"
#include "core/time.hh"

namespace longhaul::core {

/// How late a release may be: at most 1 % of frames later than `late_p99`, at most 0.1 %
/// later than `late_p999`.
struct FidelityThresholds {
  Nanos late_p99{0};
  Nanos late_p999{0};
};

/// max(100 us, 1 % of the one-way delay) and max(1 ms, 5 % of it), each at most 100 ms (beyond
/// that the lateness histogram only knows the maximum, and 100 ms late is wrong on any path).
FidelityThresholds fidelity_thresholds(Nanos one_way_delay) noexcept;

/// The one-way delay the thresholds scale with: the configured delay, or the smallest a
/// schedule sets, whichever is less (the strictest promise the direction makes).
Nanos fidelity_delay(const DirectionConfig& config) noexcept;

/// What one lane direction measured over a span of time (every count is a difference over it).
struct FidelityEvidence {
  FidelityThresholds thresholds;
  std::uint64_t frames_released = 0;  ///< frames handed to the kernel (lateness samples)
  std::uint64_t late_over_p99 = 0;    ///< of those, released later than thresholds.late_p99
  std::uint64_t late_over_p999 = 0;   ///< ... later than thresholds.late_p999
  Nanos lateness_p99{0};              ///< for the words (0 = not known)
  Nanos lateness_p999{0};
  Nanos ingress_wait_p999{0};  ///< frames' wait in the receive socket (part of the delay)
  std::uint64_t lost_before_ingress = 0;  ///< frames the kernel dropped before the engine read them
  std::uint64_t buffer_exhausted = 0;     ///< packets dropped: the engine's buffer ran out
  std::uint64_t tx_error = 0;             ///< packets the egress interface refused
  bool cpu_measured = false;              ///< the direction thread's scheduler statistics were read
  Nanos cpu_running{0};                   ///< time the thread ran
  Nanos cpu_waiting{0};                   ///< time it was runnable but waited for a CPU
};

/// Why a direction could not keep its promise, where the engine can tell.
enum class FidelityCause {
  cpu,               ///< its thread was runnable but not running
  ingress_overflow,  ///< the kernel's receive socket overflowed before the engine read it
  buffer_exhausted,  ///< the engine's packet buffer ran out
  egress_refused,    ///< the egress interface refused frames
  machine,           ///< late with no CPU wait: the machine paused the thread (its timer floor)
};

struct FidelityFinding {
  FidelityCause cause;
  std::string text;    ///< what happened, with numbers
  std::string advice;  ///< what to do about it
};

struct FidelityVerdict {
  bool degraded = false;
  std::vector<std::string> reasons;       ///< each threshold missed, in words and numbers
  std::vector<FidelityFinding> findings;  ///< causes, most telling first
  double late_share_p99 = 0;              ///< fraction of released frames over each threshold
  double late_share_p999 = 0;
  double cpu_wait_share = 0;  ///< waiting / (running + waiting), 0 when not measured
};

/// A CPU-wait share from which the CPU is named as a cause of lateness.
inline constexpr double kCpuWaitCauseShare = 0.05;
/// How sure the verdict must be that a late share exceeds its allowance (see the top).
inline constexpr double kFidelityConfidence = 0.999;

/// True when `late` of `total` frames is more than `allowed_share` beyond chance at
/// kFidelityConfidence (Chernoff bound exp(-n KL(late/n || allowed)) below 1 - confidence).
bool late_share_exceeded(std::uint64_t late, std::uint64_t total, double allowed_share) noexcept;

/// The evidence of the span between two cumulative records of one direction (counts
/// subtracted; percentiles, which do not subtract, unknown). Thresholds are `later`'s.
FidelityEvidence evidence_between(const FidelityEvidence& later, const FidelityEvidence& earlier);

/// Judges one direction's evidence.
FidelityVerdict judge_fidelity(const FidelityEvidence& evidence);

/// "cpu", "ingress_overflow", "buffer_exhausted", "egress_refused", "machine".
const char* fidelity_cause_name(FidelityCause cause) noexcept;

/// A duration for people: "850 us", "1.2 ms", "40 ms".
std::string describe_duration(Nanos duration);

/// What went wrong in a degraded verdict, in one line: the reasons, then " — " and the
/// causes, then what to do about the first.
std::string fidelity_explanation(const FidelityVerdict& verdict);

/// One line for the end of a run when `verdict` is degraded, e.g. "FIDELITY DEGRADED on up: 1.2 %
/// of frames released > 1 ms late (p99.9 40 ms) — the engine's thread waited for a CPU 31 % of
/// the time it had work; give it cores with --cpus or lower the rate".
std::string fidelity_summary_line(const std::string& direction, const FidelityVerdict& verdict);

}  // namespace longhaul::core

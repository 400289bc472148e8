#pragma once
// Time-varying conditions of one direction: at given offsets from an origin
// (the moment the link comes up), change the rate, the one-way delay or the
// independent loss probability. A schedule may repeat with a period, which
// gives on/off patterns; a capacity trace is a schedule of rate changes
// (lab/trace_file.hh reads Mahimahi's and the native trace formats into one).
//
// The schedule is pure data plus a cursor; the pipeline applies each change at
// its exact instant on the model's timeline (core/pipeline.cc), after the
// stages have released everything due before it and before any packet that
// arrives at or after it, so a change never depends on when the engine wakes.
// What a change does to packets already inside the direction is each stage's
// business and is documented there: the rate queue keeps its packets and
// recomputes the departure of the one on the wire; the delay line keeps the
// release times it gave and never lets a later packet overtake an earlier one.
#include <cstdint>
#include <optional>
#include <vector>

#include "core/time.hh"

namespace longhaul::core {

/// What one schedule step sets; fields left unset keep their current value.
struct ConditionChange {
  std::optional<std::uint64_t> rate_bps;  ///< bottleneck rate, > 0
  std::optional<Nanos> delay;             ///< one-way propagation delay (the jitter's mean)
  std::optional<double> loss;             ///< independent loss probability, 0..1

  bool empty() const noexcept { return !rate_bps && !delay && !loss; }
};

struct ScheduleStep {
  Nanos at{0};  ///< offset from the origin; with a period, within [0, period)
  ConditionChange change;
};

struct ScheduleConfig {
  std::vector<ScheduleStep> steps;  ///< in non-decreasing `at`; equal times apply in order
  Nanos period{0};                  ///< 0: once; otherwise the steps repeat every period

  bool empty() const noexcept { return steps.empty(); }
  bool changes_rate() const noexcept;
  bool changes_delay() const noexcept;
  bool changes_loss() const noexcept;
  /// Largest rate any step sets (0 when none does).
  std::uint64_t max_rate_bps() const noexcept;
  /// Largest delay any step sets (0 when none does).
  Nanos max_delay() const noexcept;
};

/// Walks a schedule in time. Owns a copy of the steps (allocated here, never later).
class ScheduleCursor {
 public:
  ScheduleCursor() = default;
  ScheduleCursor(const ScheduleConfig& config, Nanos origin);

  /// Absolute time of the next step; kNever when the schedule is over.
  Nanos next_time() const noexcept { return next_; }
  /// The next step's change; precondition: next_time() != kNever.
  const ConditionChange& next_change() const noexcept { return steps_[index_].change; }
  /// Moves past the next step.
  void pop() noexcept;

 private:
  void settle() noexcept;

  std::vector<ScheduleStep> steps_;
  std::size_t index_ = 0;
  Nanos period_{0};
  Nanos base_{0};  // origin + cycles completed * period
  Nanos next_ = kNever;
};

}  // namespace longhaul::core

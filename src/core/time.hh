#pragma once
// Time in the core is an argument, never read from a clock: every model is told `now`.
#include <chrono>
#include <cstdint>

namespace longhaul::core {

/// Durations and monotonic instants (nanoseconds since an arbitrary epoch).
using Nanos = std::chrono::nanoseconds;

/// "Never": the wake-up time of an idle stage.
inline constexpr Nanos kNever = Nanos::max();

/// A duration in seconds, for reports and JSON.
inline constexpr double to_seconds(Nanos t) noexcept {
  return static_cast<double>(t.count()) / 1e9;
}

}  // namespace longhaul::core

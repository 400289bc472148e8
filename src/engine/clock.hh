#pragma once
// The engine's only source of time (DESIGN.md rule 1). Tests use ManualClock.
#include <time.h>

#include "core/time.hh"

namespace longhaul::engine {

using core::Nanos;

class Clock {
 public:
  virtual ~Clock() = default;
  /// Monotonic time now.
  virtual Nanos now() const noexcept = 0;
};

/// CLOCK_MONOTONIC: what the emulator runs on.
class MonotonicClock final : public Clock {
 public:
  Nanos now() const noexcept override {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return Nanos{ts.tv_sec * 1'000'000'000LL + ts.tv_nsec};
  }
};

/// A clock that only moves when told to.
class ManualClock final : public Clock {
 public:
  Nanos now() const noexcept override { return now_; }
  /// Moves time forward (or sets it) to `to`.
  void set(Nanos to) noexcept { now_ = to; }
  void advance(Nanos by) noexcept { now_ += by; }

 private:
  Nanos now_{0};
};

}  // namespace longhaul::engine

#include "engine/stamp_clock.hh"

#include <time.h>

#include <algorithm>

namespace longhaul::engine {

namespace {

Nanos read_clock(clockid_t id) noexcept {
  timespec ts{};
  ::clock_gettime(id, &ts);
  return Nanos{ts.tv_sec * 1'000'000'000LL + ts.tv_nsec};
}

// A few tries find a bracket without a preemption in it; each costs three vDSO reads.
constexpr int kReadingTries = 3;

}  // namespace

ClockReading read_clocks() noexcept {
  ClockReading best;
  for (int attempt = 0; attempt < kReadingTries; ++attempt) {
    ClockReading reading;
    reading.monotonic_before = read_clock(CLOCK_MONOTONIC);
    reading.realtime = read_clock(CLOCK_REALTIME);
    reading.monotonic_after = read_clock(CLOCK_MONOTONIC);
    const Nanos width = reading.monotonic_after - reading.monotonic_before;
    if (attempt == 0 || width < best.monotonic_after - best.monotonic_before) best = reading;
    if (width <= RealtimeStamps::kMaxReadingWidth) break;
  }
  return best;
}

bool RealtimeStamps::update(const ClockReading& reading) noexcept {
  const Nanos width = reading.monotonic_after - reading.monotonic_before;
  if (width < Nanos{0} || width > kMaxReadingWidth) return false;
  const Nanos low = reading.realtime - reading.monotonic_after;
  const Nanos high = reading.realtime - reading.monotonic_before;
  if (!known_ || low > offset_high_ || high < offset_low_) {
    known_ = true;
    offset_low_ = low;
    offset_high_ = high;
    return false;
  }
  offset_low_ = std::min(offset_low_, low);
  offset_high_ = std::max(offset_high_, high);
  return true;
}

}  // namespace longhaul::engine

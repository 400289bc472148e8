#pragma once
// The kernel stamps received frames with CLOCK_REALTIME; the engine runs on CLOCK_MONOTONIC.
// Converting a stamp needs their offset, which only changes when the wall clock is stepped
// (NTP slews both clocks alike). The offset can only be read as two clock reads, and a thread
// preempted between them would get an offset too large by the pause: every stamp converted with
// it would come out earlier than the frame really arrived, and the frame would leave early by
// the pause. So the offset is read bracketed (monotonic, realtime, monotonic), and a stamp is
// converted with the smallest offset the brackets allow: a converted arrival is never earlier
// than the true one, and later by at most the bracket's width.
#include "core/time.hh"

namespace longhaul::engine {

using core::Nanos;

/// One reading of the wall clock between two readings of the monotonic clock.
struct ClockReading {
  Nanos monotonic_before{0};
  Nanos realtime{0};
  Nanos monotonic_after{0};
};

/// Reads the real clocks: the narrowest of a few brackets.
ClockReading read_clocks() noexcept;

class RealtimeStamps {
 public:
  /// A reading wider than this (the thread was preempted while reading) is not trusted.
  static constexpr Nanos kMaxReadingWidth{2'000};

  /// Takes the reading made for a batch of frames, after receiving it. Returns whether the
  /// batch's stamps may be converted. Not for the first batch, after a step of the wall clock
  /// (this reading's offset is inconsistent with the earlier ones: a stamp of the batch may be
  /// from either side of the step), or when the reading is too wide. The caller then treats
  /// the batch as unstamped. Frames of later batches stamped before a step are still never
  /// early: the unstamped batch took the read time, and arrivals never go back in time.
  bool update(const ClockReading& reading) noexcept;

  /// The monotonic time of a realtime stamp, never earlier than the true one (valid after an
  /// update that returned true).
  Nanos to_monotonic(Nanos realtime_stamp) const noexcept { return realtime_stamp - offset_low_; }

 private:
  bool known_ = false;
  // The range of realtime - monotonic that every reading since the last step allows. Without
  // a step the true offset lies inside each reading's range; the smallest low end is used, so
  // a step too small to see (under two reading widths) still makes no stamp early.
  Nanos offset_low_{0};
  Nanos offset_high_{0};
};

}  // namespace longhaul::engine

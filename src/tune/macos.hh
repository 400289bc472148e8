#pragma once
// The macOS equivalents of the Linux rules (`longhaul tune --os macos`). longhaul cannot read
// a Mac's settings from Linux, so every row's `current` is unknown and its `why` names the
// typical default; the values follow the same rate x RTT tiers.
//
// macOS differs: its receive window is (nearly) the buffer itself, autotuning maxima are
// net.inet.tcp.autorcvbufmax / autosndbufmax under the kern.ipc.maxsockbuf cap (which counts
// mbuf overhead), TIME_WAIT is 2 x net.inet.tcp.msl (15 s: 30 s in all), the ephemeral range is
// 49152-65535, there is no BBR and no per-route initial window.
#include <vector>

#include "tune/recommend.hh"

namespace longhaul::tune {

/// Path figures for a Mac: window = buffer (no 2x), default MSS 1448, initial window 10.
PathFigures analyse_macos_path(const TuneRequest& request);

/// The macOS rows, in a fixed order.
std::vector<Recommendation> recommend_macos(const TuneRequest& request);

}  // namespace longhaul::tune

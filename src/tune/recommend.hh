#pragma once
// The tuning rules: from what a host has (HostSettings) and what the user needs (TuneRequest),
// the settings that limit throughput or connection churn and the values to set.
//
// Rules (docs/tune.md gives each with its sources):
// - Size by rate x RTT: the socket buffer limit must hold one stream's share of the
//   bandwidth-delay product plus the kernel's bookkeeping (2x), rounded up to a power-of-two
//   tier between 16 MiB and 1 GiB (ESnet fasterdata's host-tuning tiers are powers of two too).
// - Never lower a limit that is already at or above what is needed; never narrow a range.
// - Know the running kernel: tcp_adv_win_scale governs the buffer/window ratio before 6.6 and
//   is ignored since; BBR exists from 4.9 and paces without the fq qdisc from 4.13;
//   tcp_tw_recycle exists only before 4.12 (and is only ever switched off).
// - Never recommend removed or harmful settings: no tcp_tw_recycle, never disable SACK, window
//   scaling or timestamps (turn them back on if off), tcp_mem only in pages and only as advice.
#include <optional>
#include <string>
#include <vector>

#include "tune/arithmetic.hh"
#include "tune/settings.hh"

namespace longhaul::tune {

/// What to do with a setting.
enum class Action {
  keep,    ///< the current value is fine (or better): leave it
  set,     ///< change it to `recommended` (what --apply does)
  advise,  ///< worth considering, but depends on things longhaul cannot see: never applied
};
std::string_view to_string(Action action);

/// The throughput (or connection rate) a setting allows, now and with the recommended value.
struct Allows {
  std::string unit;  ///< "bit/s", or "connections/s" for churn limits
  std::optional<double> current;
  std::optional<double> recommended;
};

/// One row of the tuner's table.
struct Recommendation {
  std::string setting;  ///< sysctl(8) name, or "mtu", "txqueuelen", "initcwnd", "initrwnd"
  std::string object;   ///< "" for a sysctl; "dev eth0"; "route default via 192.0.2.1 dev eth0"
  Scope scope = Scope::netns;
  Action action = Action::keep;
  std::optional<std::string> current;  ///< as read, blanks normalised; nullopt if unknown
  std::string recommended;
  std::string why;
  std::optional<Allows> allows;
};

/// Figures about the path that the rules are based on.
struct PathFigures {
  double bdp_bytes = 0;                 ///< rate x RTT
  double window_per_stream_bytes = 0;   ///< BDP / streams
  double buffer_per_window = 2;         ///< socket memory per byte of window on this kernel
  double buffer_needed_bytes = 0;       ///< window per stream x buffer_per_window
  std::uint64_t buffer_tier_bytes = 0;  ///< the power-of-two tier recommended for tcp_rmem/wmem
  std::uint32_t mss_bytes = 0;
  std::uint32_t initcwnd = 10;                  ///< the route's, or the kernel default
  SlowStart slow_start;                         ///< from initcwnd to the per-stream window
  std::optional<double> mathis_bps_per_stream;  ///< when a loss rate was given
  unsigned streams_to_fill = 1;                 ///< streams needed when one cannot hold the window
  std::vector<std::string> notes;
};

/// Tiers for tcp_rmem/tcp_wmem maxima.
inline constexpr std::uint64_t kBufferTierFloor = 16ULL << 20;   // 16 MiB
inline constexpr std::uint64_t kBufferTierCeiling = 1ULL << 30;  // 1 GiB
/// Linux's initial congestion window since 2.6.39 (RFC 6928).
inline constexpr std::uint32_t kDefaultInitcwnd = 10;
/// What longhaul recommends on long routes (the field-tested value from the brief).
inline constexpr std::uint32_t kRaisedInitcwnd = 20;
/// The widened ephemeral port range recommended for connection churn (55 % more ports than the
/// default 32768-60999; first even and last odd, as ip-sysctl.rst advises).
inline constexpr std::int64_t kWidePortLow = 16384;
inline constexpr std::int64_t kWidePortHigh = 65535;
/// TIME_WAIT lasts 60 s on Linux (TCP_TIMEWAIT_LEN, not tunable).
inline constexpr double kTimeWaitSeconds = 60;

/// Where sysctl `name` lives: global for net.core.*, tcp_mem and conntrack's table sizes;
/// per namespace otherwise, unless `settings` were read in a namespace where it is read-only.
Scope sysctl_scope(const std::string& name, const HostSettings& settings);

/// Socket memory the kernel charges per byte of TCP receive window (2 on 6.6+, else from
/// tcp_adv_win_scale: 2 for the default 1).
double buffer_per_window(const HostSettings& settings);

/// The path figures the rules use.
PathFigures analyse_path(const HostSettings& settings, const TuneRequest& request);
/// The same with an explicit socket-memory-per-window ratio (1 for macOS).
PathFigures analyse_path(const HostSettings& settings, const TuneRequest& request,
                         double buffer_ratio);

/// Why a "set" row cannot be applied to `target` ("" if it can): host-global settings are
/// refused for a namespace, and mtu is never changed by longhaul.
std::string refusal_reason(const Recommendation& row, TargetKind target);

/// Every setting the tuner looks at, in a fixed order, each with a keep/set/advise verdict.
std::vector<Recommendation> recommend(const HostSettings& settings, const TuneRequest& request);

}  // namespace longhaul::tune

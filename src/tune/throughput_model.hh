#pragma once
// What one bulk TCP test over an emulated path should achieve, and why a measurement that
// misses it by more than the tolerance did: the model behind `longhaul bench sweep`.
//
//   predicted = min(link goodput, streams x window / RTT, streams x Mathis bound)
//
// - Link goodput: the bottleneck charges every segment its wire bytes (headers, Ethernet
//   framing and per-packet overhead), so only MSS / wire bytes of the rate carries payload:
//   1 Gbit/s x 1448 / 1538 = 941.5 Mbit/s with longhaul's default 24 B overhead.
// - Window: the smaller of what the receiver may advertise (tcp_rmem max) and what the sender
//   may keep unacknowledged (tcp_wmem max), each times the share of socket memory that carries
//   payload (expected_window_fraction).
// - Mathis: loss-based congestion control under random loss p (not BBR, which does not back
//   off on random loss).
// Pure functions; worked values in tests/unit/tune_throughput_model_test.cc.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/units.hh"
#include "tune/arithmetic.hh"
#include "tune/settings.hh"

namespace longhaul::tune {

/// A measured cell within this fraction of its prediction needs no explanation.
inline constexpr double kModelTolerance = 0.10;

/// Share of a socket buffer limit that becomes TCP window, as the kernel will really use it:
/// before 6.6 exactly 1 / buffer_per_window (tcp_adv_win_scale); since 6.6 the payload/truesize
/// ratio the kernel measures on received segments, which for 1448-byte segments in 2 KiB buffers
/// settles at about 0.65 (measured on veth: a 2 MiB tcp_rmem max advertised 1.37 MB). Tuning
/// sizes buffers with the safe 1/2 (buffer_per_window); predictions need the expected value.
double expected_window_fraction(const HostSettings& settings);
inline constexpr double kMeasuredScalingRatio = 0.65;

/// The maxima a namespace's autotuning allows and the window they give one stream.
struct WindowLimits {
  std::int64_t rmem_max_bytes = 0;  ///< receiver's tcp_rmem maximum
  std::int64_t wmem_max_bytes = 0;  ///< sender's tcp_wmem maximum
  double window_fraction = 0.5;     ///< expected_window_fraction of the receiver's kernel
  double receive_window_bytes = 0;  ///< rmem max x fraction
  double send_window_bytes = 0;     ///< wmem max x fraction
  double window_bytes() const;      ///< the smaller of the two
};

/// Window limits of an upload from `sender`'s settings to `receiver`'s (sysctls missing:
/// Linux's defaults, 6 MiB and 4 MiB).
WindowLimits window_limits(const HostSettings& receiver, const HostSettings& sender);

struct ThroughputModelInput {
  std::uint64_t rate_bps = 0;
  core::Nanos rtt{0};
  unsigned streams = 1;
  std::uint32_t mss_bytes = 1448;               ///< payload per full segment
  std::uint32_t wire_bytes_per_segment = 1538;  ///< what the bottleneck charges for it
  double window_bytes = 0;                      ///< per stream (WindowLimits::window_bytes)
  std::optional<double> loss;                   ///< random loss probability, if configured
  bool loss_based = true;                       ///< false for BBR: no Mathis bound
  std::uint32_t initcwnd = 10;                  ///< segments, for the slow-start figures
};

enum class ModelLimit { link, window, loss };
std::string_view to_string(ModelLimit limit);

struct ThroughputPrediction {
  double link_goodput_bps = 0;
  double window_bytes = 0;        ///< per stream
  double window_limited_bps = 0;  ///< streams x window / RTT (infinite at zero RTT)
  std::optional<double> mathis_bps;
  double predicted_bps = 0;  ///< the smallest of the above
  ModelLimit limit = ModelLimit::link;
  /// The window a stream must grow to: the smaller of its window and its share of the BDP.
  double ramp_window_bytes = 0;
  /// Ideal slow start to that window.
  SlowStart slow_start;
};

ThroughputPrediction predict_throughput(const ThroughputModelInput& input);

/// What was measured in a cell, for the explanation.
struct CellObservation {
  double measured_bps = 0;      ///< receiver's goodput over the counted intervals
  core::Nanos counted_from{0};  ///< the omitted period (-O)
  core::Nanos duration{0};      ///< the counted period (-t)
  /// The first interval at 90 % of the prediction: its start and end (empty: never reached).
  std::optional<core::Nanos> fill_interval_start;
  std::optional<core::Nanos> fill;
  std::uint32_t retransmits = 0;
  double mean_peer_window_bytes = 0;  ///< what the receiver advertised, mean (0: unknown)
  std::string dominant_limit;         ///< "cwnd", "rwnd", ... from TCP_INFO; "" if unknown
  /// The most this machine carried through the emulator in the sweep so far (any cell).
  std::optional<double> machine_capacity_bps;
};

/// ratio = measured / predicted.
bool within_tolerance(double measured_bps, double predicted_bps);

/// Empty when the cell is within tolerance; else why it is not, with what to do about it.
/// Checked in order: CPU-bound (the prediction is above what this machine carried anywhere in
/// the sweep, and the cell got about that), slow start not finished (90 % of the prediction
/// reached only after the omitted period, or never), losses, a window above the model, and
/// otherwise what TCP_INFO says limited the sender.
std::optional<std::string> explain_cell(const ThroughputPrediction& prediction,
                                        const CellObservation& observation);

}  // namespace longhaul::tune

#pragma once
// The results of `longhaul bench sweep` as data, and what is made of them: the table (RTT,
// throughput per profile beside the model's prediction, explanations), JSON (schema
// longhaul.sweep/1, units in key names) and the figure's series. Pure: the sweep itself (labs,
// tuning, tests) lives in lab/sweep.cc.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/units.hh"
#include "measure/report/plot.hh"
#include "tune/throughput_model.hh"

namespace longhaul::measure {

inline constexpr std::string_view kSweepSchema = "longhaul.sweep/1";

/// One profile at one RTT.
struct SweepCell {
  std::string profile;  ///< "default", "tuned"
  core::Nanos rtt{0};
  std::optional<double> measured_bps;  ///< the receiver's goodput; empty when the test failed
  std::optional<double> sent_bps;      ///< the sender's (acknowledged bytes)
  tune::WindowLimits window;
  std::string congestion;  ///< the sender's congestion control
  tune::ThroughputPrediction prediction;
  tune::CellObservation observation;  ///< machine_capacity_bps is filled by explain_sweep
  double mean_rtt_ms = 0;             ///< the sender's smoothed RTT, mean
  std::optional<std::string> explanation;
  bool within_tolerance = false;
  std::optional<std::string> error;
};

/// What a profile did to the sites.
struct SweepProfileInfo {
  std::string name;
  std::vector<std::string> applied;  ///< "net.ipv4.tcp_wmem = 4096 16384 33554432 (was ...)"
  std::vector<std::string> refused;  ///< "net.core.rmem_max: host-global: ..."
};

struct SweepSettings {
  std::uint64_t rate_bps = 0;
  std::vector<core::Nanos> rtts;
  std::vector<std::string> profiles;
  core::Nanos duration{0};  ///< counted, per cell
  core::Nanos omit{0};      ///< left out first, per cell
  std::uint32_t streams = 1;
  std::optional<double> loss;
  std::optional<std::uint64_t> window_bytes;  ///< --window: the sites' tcp_rmem/tcp_wmem max
  std::string kernel;                         ///< uname release
};

struct SweepResult {
  SweepSettings settings;
  std::vector<SweepCell> cells;  ///< in the order run: RTT by RTT, profile by profile
  std::vector<SweepProfileInfo> profiles;
  std::optional<double> machine_capacity_bps;  ///< the most any cell carried
  bool interrupted = false;
  std::optional<std::string> error;
};

/// Fills machine_capacity_bps, then each cell's within_tolerance and explanation.
void explain_sweep(SweepResult& result);

/// The human table: one row per RTT, a measured and a model column per profile, a mark
/// beside each cell (ok within 10 %, else a note number) and the notes below.
std::string sweep_table(const SweepResult& result);

/// The JSON document (schema longhaul.sweep/1).
nlohmann::json sweep_json(const SweepResult& result);

/// One series pair per profile for sweep_figure (RTT in ms, bit/s).
std::vector<SweepProfile> sweep_plot_profiles(const SweepResult& result);

/// Total time of a sweep's tests (cells x (omit + duration)), without lab set-up.
core::Nanos sweep_test_time(const SweepSettings& settings);

}  // namespace longhaul::measure

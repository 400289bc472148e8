#pragma once
// `longhaul bench sweep`: throughput against RTT, with host defaults and tuned, beside the
// model's prediction. For each RTT a two-site lab (sites "client" and "server" joined by one
// lane with that RTT, rate and loss) comes up, each profile's test runs in it (server and
// client in-process, on threads inside the sites' namespaces), and the lab goes down again,
// also on errors and Ctrl-C. The pure parts (model, explanations, table, JSON) are in
// tune/throughput_model and measure/sweep_report.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/time.hh"
#include "core/units.hh"
#include "measure/report/progress.hh"
#include "measure/report/sweep_report.hh"

namespace longhaul::lab {

struct SweepRequest {
  measure::SweepSettings settings;  ///< rate, RTTs, profiles ("default", "tuned"), -t, -O, ...
  std::string lab_name = "sweep";   ///< the command's default is sw-PID (bench sweep --name)
  std::string version = "longhaul";
  core::Nanos spin{std::chrono::microseconds(200)};
  /// Readable when the sweep should stop (a SignalWatch's fd); -1 for none.
  int interrupt_fd = -1;
  std::function<void(const measure::ProgressState&)> on_progress;
};

/// "0,2,4,8ms" or "0ms,500us,1s": RTTs separated by commas; bare numbers take the unit of the
/// last item (so "0,2,4,8ms" is in milliseconds). The error names the item.
core::Parsed<std::vector<core::Nanos>> parse_rtt_list(const std::string& text);

/// Checks the request (profiles known, RTTs and rate sane); empty when fine, else a sentence
/// naming the flag.
std::string validate(const SweepRequest& request);

/// Runs the sweep. Never leaves a lab or tune state behind. Failures of one cell are recorded
/// in it and the sweep goes on; an interruption stops it with `interrupted` set. The result is
/// explained (measure::explain_sweep).
measure::SweepResult run_sweep(const SweepRequest& request);

}  // namespace longhaul::lab

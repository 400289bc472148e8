#include "measure/report/sweep_report.hh"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "measure/bench_result.hh"

namespace longhaul::measure {

namespace {

double milliseconds(core::Nanos d) {
  return std::chrono::duration<double, std::milli>(d).count();
}
double seconds(core::Nanos d) {
  return std::chrono::duration<double>(d).count();
}

// RTTs in the table as the brief's reference table has them: milliseconds.
std::string rtt_text(core::Nanos rtt) {
  return fmt::format("{:g} ms", milliseconds(rtt));
}

// "1gbit": a rate as typed after --rate.
std::string rate_flag(std::uint64_t bps) {
  std::string text = core::format_rate(static_cast<double>(bps));
  text.erase(std::remove(text.begin(), text.end(), ' '), text.end());
  return text;
}

nlohmann::json optional_number(const std::optional<double>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

// Infinite (zero RTT) figures are not JSON numbers.
nlohmann::json finite_or_null(double value) {
  return std::isfinite(value) ? nlohmann::json(value) : nlohmann::json(nullptr);
}

nlohmann::json cell_json(const SweepCell& cell) {
  const auto& p = cell.prediction;
  const auto& o = cell.observation;
  return {
      {"profile", cell.profile},
      {"rtt_ms", milliseconds(cell.rtt)},
      {"measured_bps", optional_number(cell.measured_bps)},
      {"predicted_bps", finite_or_null(p.predicted_bps)},
      {"ratio", cell.measured_bps && p.predicted_bps > 0
                    ? nlohmann::json(*cell.measured_bps / p.predicted_bps)
                    : nlohmann::json(nullptr)},
      {"within_tolerance", cell.within_tolerance},
      {"explanation", cell.explanation ? nlohmann::json(*cell.explanation) : nullptr},
      {"prediction",
       {{"limit", tune::to_string(p.limit)},
        {"link_goodput_bps", p.link_goodput_bps},
        {"window_bytes", p.window_bytes},
        {"window_limited_bps", finite_or_null(p.window_limited_bps)},
        {"mathis_bps", optional_number(p.mathis_bps)},
        {"ramp_window_bytes", p.ramp_window_bytes},
        {"slow_start", {{"rounds", p.slow_start.rounds}, {"time_s", seconds(p.slow_start.time)}}},
        {"rmem_max_bytes", cell.window.rmem_max_bytes},
        {"wmem_max_bytes", cell.window.wmem_max_bytes},
        {"window_fraction", cell.window.window_fraction},
        {"congestion", cell.congestion}}},
      {"measured",
       {{"received_bps", optional_number(cell.measured_bps)},
        {"sent_bps", optional_number(cell.sent_bps)},
        {"retransmits", o.retransmits},
        {"mean_rtt_ms", cell.mean_rtt_ms},
        {"mean_peer_window_bytes", o.mean_peer_window_bytes},
        {"limited_by",
         o.dominant_limit.empty() ? nlohmann::json(nullptr) : nlohmann::json(o.dominant_limit)},
        {"fill_time_s", o.fill ? nlohmann::json(seconds(*o.fill)) : nlohmann::json(nullptr)},
        {"omit_s", seconds(o.counted_from)},
        {"duration_s", seconds(o.duration)}}},
      {"error", cell.error ? nlohmann::json(*cell.error) : nullptr},
  };
}

}  // namespace

void explain_sweep(SweepResult& result) {
  result.machine_capacity_bps.reset();
  for (const auto& cell : result.cells) {
    if (cell.measured_bps &&
        (!result.machine_capacity_bps || *cell.measured_bps > *result.machine_capacity_bps)) {
      result.machine_capacity_bps = cell.measured_bps;
    }
  }
  for (auto& cell : result.cells) {
    cell.observation.machine_capacity_bps = result.machine_capacity_bps;
    if (!cell.measured_bps) {
      cell.within_tolerance = false;
      cell.explanation = cell.error ? "the test failed: " + *cell.error : "not measured";
      continue;
    }
    cell.observation.measured_bps = *cell.measured_bps;
    cell.within_tolerance =
        tune::within_tolerance(*cell.measured_bps, cell.prediction.predicted_bps);
    cell.explanation = tune::explain_cell(cell.prediction, cell.observation);
  }
}

std::string sweep_table(const SweepResult& result) {
  const auto& s = result.settings;
  std::string text = fmt::format(
      "longhaul bench sweep: {}, {} stream{}, {} counted per cell after {} omitted{}{}\n",
      core::format_rate(static_cast<double>(s.rate_bps)), s.streams, s.streams == 1 ? "" : "s",
      core::format_duration(s.duration), core::format_duration(s.omit),
      s.loss ? fmt::format(", loss {:g} %", *s.loss * 100) : "",
      s.window_bytes
          ? fmt::format(", sites' tcp_rmem/tcp_wmem max {}", format_size(*s.window_bytes))
          : "");
  text += fmt::format(
      "model: min(link goodput, window / RTT{}) from each site's settings; \"ok\" = within "
      "{:.0f} %, [n] = note n\n\n",
      s.loss ? ", Mathis" : "", tune::kModelTolerance * 100);
  text += fmt::format("{:<10}", "RTT");
  for (const auto& profile : s.profiles) {
    text += fmt::format("{:>13} {:>13}     ", profile, "model");
  }
  text += "\n";
  std::vector<std::string> notes;
  for (const auto rtt : s.rtts) {
    std::string row = fmt::format("{:<10}", rtt_text(rtt));
    bool any = false;
    for (const auto& profile : s.profiles) {
      const auto cell = std::find_if(result.cells.begin(), result.cells.end(), [&](const auto& c) {
        return c.rtt == rtt && c.profile == profile;
      });
      if (cell == result.cells.end()) {
        row += fmt::format("{:>13} {:>13}     ", "-", "");
        continue;
      }
      any = true;
      const std::string measured =
          cell->measured_bps ? core::format_rate(*cell->measured_bps) : "failed";
      std::string mark = "ok";
      if (!cell->within_tolerance || cell->explanation) {
        notes.push_back(fmt::format("{} at {}: {}", profile, rtt_text(rtt),
                                    cell->explanation.value_or("outside the tolerance")));
        mark = fmt::format("[{}]", notes.size());
      }
      row += fmt::format("{:>13} {:>13} {:<4}", measured,
                         core::format_rate(cell->prediction.predicted_bps), mark);
    }
    if (any) text += row + "\n";
  }
  if (!notes.empty()) text += "\n";
  for (std::size_t i = 0; i < notes.size(); ++i) {
    text += fmt::format("[{}] {}\n", i + 1, notes[i]);
  }
  for (const auto& profile : result.profiles) {
    if (profile.applied.empty() && profile.refused.empty()) continue;
    text += fmt::format(
        "\n{}: what `longhaul tune --rate {} --rtt RTT` recommends, applied in both sites:\n",
        profile.name, rate_flag(s.rate_bps));
    for (const auto& line : profile.applied) text += "  set " + line + "\n";
    for (const auto& line : profile.refused) text += "  not applied: " + line + "\n";
    if (!profile.refused.empty()) {
      text +=
          "  (host-global limits such as net.core.rmem_max cap only buffers an application sets\n"
          "  with SO_RCVBUF/SO_SNDBUF; the sweep's tests leave buffers to autotuning, which\n"
          "  tcp_rmem/tcp_wmem bound, so they do not change these results)\n";
    }
  }
  if (result.interrupted) text += "\ninterrupted: the table shows the cells measured so far\n";
  return text;
}

nlohmann::json sweep_json(const SweepResult& result) {
  const auto& s = result.settings;
  nlohmann::json rtts = nlohmann::json::array();
  for (const auto rtt : s.rtts) rtts.push_back(milliseconds(rtt));
  nlohmann::json rows = nlohmann::json::array();
  for (const auto rtt : s.rtts) {
    nlohmann::json cells = nlohmann::json::object();
    for (const auto& cell : result.cells) {
      if (cell.rtt == rtt) cells[cell.profile] = cell_json(cell);
    }
    if (!cells.empty()) rows.push_back({{"rtt_ms", milliseconds(rtt)}, {"cells", cells}});
  }
  nlohmann::json profiles = nlohmann::json::object();
  for (const auto& profile : result.profiles) {
    profiles[profile.name] = {{"applied", profile.applied}, {"refused", profile.refused}};
  }
  return {
      {"schema", kSweepSchema},
      {"config",
       {{"rate_bps", s.rate_bps},
        {"rtts_ms", rtts},
        {"profiles", s.profiles},
        {"duration_s", seconds(s.duration)},
        {"omit_s", seconds(s.omit)},
        {"streams", s.streams},
        {"loss", optional_number(s.loss)},
        {"window_bytes", s.window_bytes ? nlohmann::json(*s.window_bytes) : nullptr},
        {"tolerance", tune::kModelTolerance},
        {"kernel", s.kernel}}},
      {"profiles", profiles},
      {"rows", rows},
      {"machine_capacity_bps", optional_number(result.machine_capacity_bps)},
      {"interrupted", result.interrupted},
      {"error", result.error ? nlohmann::json(*result.error) : nullptr},
  };
}

std::vector<SweepProfile> sweep_plot_profiles(const SweepResult& result) {
  std::vector<SweepProfile> profiles;
  for (const auto& name : result.settings.profiles) {
    SweepProfile profile{name, {}};
    for (const auto& cell : result.cells) {
      if (cell.profile != name) continue;
      SweepPoint point;
      point.rtt_ms = milliseconds(cell.rtt);
      point.measured_bps = cell.measured_bps;
      if (std::isfinite(cell.prediction.predicted_bps)) {
        point.predicted_bps = cell.prediction.predicted_bps;
      }
      profile.points.push_back(point);
    }
    profiles.push_back(std::move(profile));
  }
  return profiles;
}

core::Nanos sweep_test_time(const SweepSettings& settings) {
  const auto cells = static_cast<core::Nanos::rep>(settings.rtts.size() * settings.profiles.size());
  return (settings.omit + settings.duration) * cells;
}

}  // namespace longhaul::measure

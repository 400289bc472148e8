#include "lab/fidelity_report.hh"

#include "measure/report/link_fidelity.hh"

namespace longhaul::lab {

DirectionFidelity direction_fidelity(const engine::Lane& lane, engine::Direction direction,
                                     const engine::FidelitySample& earlier) {
  const auto& worker = lane.worker(direction);
  const auto now = engine::sample_fidelity(worker, lane.counters(direction));
  DirectionFidelity fidelity;
  fidelity.evidence =
      engine::fidelity_evidence(now, earlier, engine::fidelity_thresholds_of(worker));
  fidelity.verdict = core::judge_fidelity(fidelity.evidence);
  return fidelity;
}

LaneFidelity lane_fidelity(const engine::Lane& lane) {
  return {direction_fidelity(lane, engine::Direction::up),
          direction_fidelity(lane, engine::Direction::down)};
}

std::string fidelity_summary_lines(const LaneFidelity& fidelity, const std::string& lane_name) {
  std::string text;
  const auto add = [&](const DirectionFidelity& direction, const char* name) {
    if (!direction.verdict.degraded) return;
    const std::string where = lane_name.empty() ? name : lane_name + " " + name;
    text += "longhaul: " + core::fidelity_summary_line(where, direction.verdict) + "\n";
  };
  add(fidelity.up, "up");
  add(fidelity.down, "down");
  return text;
}

nlohmann::json direction_fidelity_json(const DirectionFidelity& fidelity) {
  return measure::fidelity_json(fidelity.verdict, fidelity.evidence);
}

std::string run_fidelity_path(const RunState& state) {
  return std::string(kStateDir) + "/" + state.id() + ".fidelity";
}

nlohmann::json live_fidelity_file(const engine::Lane& lane) {
  nlohmann::json directions = nlohmann::json::object();
  for (const auto direction : {engine::Direction::up, engine::Direction::down}) {
    directions[engine::direction_name(direction)] =
        measure::fidelity_evidence_json(direction_fidelity(lane, direction).evidence);
  }
  return {{"schema", measure::kFidelitySchema}, {"directions", directions}};
}

}  // namespace longhaul::lab

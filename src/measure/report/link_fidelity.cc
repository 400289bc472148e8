#include "measure/report/link_fidelity.hh"

#include <cstdlib>
#include <fstream>

namespace longhaul::measure {

nlohmann::json fidelity_evidence_json(const core::FidelityEvidence& evidence) {
  return {{"thresholds",
           {{"late_p99_ns", evidence.thresholds.late_p99.count()},
            {"late_p999_ns", evidence.thresholds.late_p999.count()}}},
          {"frames_released", evidence.frames_released},
          {"late_over_p99_frames", evidence.late_over_p99},
          {"late_over_p999_frames", evidence.late_over_p999},
          {"lateness_p99_ns", evidence.lateness_p99.count()},
          {"lateness_p999_ns", evidence.lateness_p999.count()},
          {"ingress_wait_p999_ns", evidence.ingress_wait_p999.count()},
          {"lost_before_ingress_frames", evidence.lost_before_ingress},
          {"buffer_exhausted_packets", evidence.buffer_exhausted},
          {"tx_error_packets", evidence.tx_error},
          {"cpu",
           {{"measured", evidence.cpu_measured},
            {"running_ns", evidence.cpu_running.count()},
            {"waiting_ns", evidence.cpu_waiting.count()}}}};
}

std::optional<core::FidelityEvidence> fidelity_evidence_from_json(const nlohmann::json& json) {
  try {
    core::FidelityEvidence evidence;
    const auto nanos = [](const nlohmann::json& value) {
      return core::Nanos{value.get<std::int64_t>()};
    };
    evidence.thresholds.late_p99 = nanos(json.at("thresholds").at("late_p99_ns"));
    evidence.thresholds.late_p999 = nanos(json.at("thresholds").at("late_p999_ns"));
    evidence.frames_released = json.at("frames_released").get<std::uint64_t>();
    evidence.late_over_p99 = json.at("late_over_p99_frames").get<std::uint64_t>();
    evidence.late_over_p999 = json.at("late_over_p999_frames").get<std::uint64_t>();
    evidence.lost_before_ingress = json.at("lost_before_ingress_frames").get<std::uint64_t>();
    evidence.buffer_exhausted = json.at("buffer_exhausted_packets").get<std::uint64_t>();
    evidence.tx_error = json.at("tx_error_packets").get<std::uint64_t>();
    evidence.cpu_measured = json.at("cpu").at("measured").get<bool>();
    evidence.cpu_running = nanos(json.at("cpu").at("running_ns"));
    evidence.cpu_waiting = nanos(json.at("cpu").at("waiting_ns"));
    return evidence;
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

nlohmann::json fidelity_json(const core::FidelityVerdict& verdict,
                             const core::FidelityEvidence& evidence) {
  nlohmann::json causes = nlohmann::json::array();
  for (const auto& finding : verdict.findings) {
    causes.push_back({{"cause", core::fidelity_cause_name(finding.cause)},
                      {"text", finding.text},
                      {"advice", finding.advice}});
  }
  nlohmann::json json = {{"verdict", verdict.degraded ? "degraded" : "ok"},
                         {"reasons", verdict.reasons},
                         {"causes", causes},
                         {"late_share_p99", verdict.late_share_p99},
                         {"late_share_p999", verdict.late_share_p999},
                         {"cpu_wait_share", verdict.cpu_wait_share}};
  if (verdict.degraded) json["explanation"] = core::fidelity_explanation(verdict);
  json.update(fidelity_evidence_json(evidence));
  return json;
}

nlohmann::json overall_fidelity_json(const nlohmann::json& directions) {
  nlohmann::json reasons = nlohmann::json::array();
  bool degraded = false;
  for (const auto& [name, fidelity] : directions.items()) {
    if (fidelity.value("verdict", "ok") != "degraded") continue;
    degraded = true;
    for (const auto& reason : fidelity.value("reasons", nlohmann::json::array())) {
      reasons.push_back(name + ": " + reason.get<std::string>());
    }
  }
  return {{"verdict", degraded ? "degraded" : "ok"}, {"reasons", reasons}};
}

std::optional<std::map<std::string, core::FidelityEvidence>> read_link_fidelity() {
  const char* path = std::getenv(kFidelityFileEnv);
  if (path == nullptr || *path == '\0') return std::nullopt;
  std::ifstream in(path);
  if (!in) return std::nullopt;
  try {
    const auto json = nlohmann::json::parse(in);
    if (json.value("schema", "") != kFidelitySchema) return std::nullopt;
    std::map<std::string, core::FidelityEvidence> directions;
    for (const auto& [name, entry] : json.at("directions").items()) {
      const auto evidence = fidelity_evidence_from_json(entry);
      if (!evidence) return std::nullopt;
      directions.emplace(name, *evidence);
    }
    return directions;
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

std::vector<std::string> link_fidelity_warnings(
    const std::map<std::string, core::FidelityEvidence>& at_start,
    const std::map<std::string, core::FidelityEvidence>& at_end) {
  std::vector<std::string> warnings;
  for (const auto& [name, end] : at_end) {
    const auto start = at_start.find(name);
    const core::FidelityEvidence span =
        start == at_start.end() ? end : core::evidence_between(end, start->second);
    const auto verdict = core::judge_fidelity(span);
    if (!verdict.degraded) continue;
    warnings.push_back(core::fidelity_summary_line(name, verdict) +
                       ". These figures measure this machine's limits as much as the path's.");
  }
  return warnings;
}

}  // namespace longhaul::measure

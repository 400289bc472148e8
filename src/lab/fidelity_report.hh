#pragma once
// The fidelity verdict of a lane's directions (core/fidelity.hh) for the end of a run or bridge,
// the JSON report, and a lab's live status.
#include <nlohmann/json.hpp>
#include <string>

#include "core/fidelity.hh"
#include "engine/fidelity_sample.hh"
#include "engine/lane.hh"
#include "lab/run_state.hh"

namespace longhaul::lab {

/// Exit status of `run` and `bridge --strict` when a direction's verdict is degraded and the
/// run would otherwise have exited 0.
inline constexpr int kExitFidelityDegraded = 5;

struct DirectionFidelity {
  core::FidelityEvidence evidence;
  core::FidelityVerdict verdict;
};

/// One direction's verdict over the span since `earlier` (default: since the lane started).
DirectionFidelity direction_fidelity(const engine::Lane& lane, engine::Direction direction,
                                     const engine::FidelitySample& earlier = {});

/// A lane's verdicts since it started, both directions.
struct LaneFidelity {
  DirectionFidelity up;
  DirectionFidelity down;
  bool degraded() const noexcept { return up.verdict.degraded || down.verdict.degraded; }
};
LaneFidelity lane_fidelity(const engine::Lane& lane);

/// "longhaul: FIDELITY DEGRADED on NAME up: ..." lines for the degraded directions (nothing when
/// both are ok). `lane_name` is empty for a run's single lane.
std::string fidelity_summary_lines(const LaneFidelity& fidelity, const std::string& lane_name);

/// measure::fidelity_json of one direction.
nlohmann::json direction_fidelity_json(const DirectionFidelity& fidelity);

/// Where a run keeps its live fidelity file: /run/longhaul/runs/rN.fidelity (not .json, so it is
/// never taken for a run's state file); tear_down_run removes it.
std::string run_fidelity_path(const RunState& state);

/// The run's live fidelity file (measure/link_fidelity.hh): evidence since the start, per
/// direction.
nlohmann::json live_fidelity_file(const engine::Lane& lane);

}  // namespace longhaul::lab

#pragma once
// What a lane did, for people (a table on stderr) and machines (versioned JSON).
#include <nlohmann/json.hpp>
#include <string>

#include "engine/lane.hh"
#include "link/link_options.hh"

namespace longhaul::lab {

inline constexpr const char* kRunSchema = "longhaul.run/1";

/// JSON of one direction's configuration (units in key names).
nlohmann::json direction_config_json(const core::DirectionConfig& config);
/// JSON of one direction's counters and engine statistics.
nlohmann::json direction_stats_json(const core::CountersSnapshot& counters,
                                    const engine::WorkerStats& stats);
/// What the models did besides dropping (ECN marks, AQM decisions), as the direction's thread
/// last published them (every kCpuSampleInterval, and when it stops: final after a run).
nlohmann::json direction_model_json(const engine::WorkerStats& stats);
/// Human table of both directions' counters, with the models' own counts (ECN
/// marks, AQM, outage and MTU drops, ICMP replies, schedule changes) when not zero.
/// Reads the stages' plain counters: call it once the lane has stopped.
std::string counters_table(const engine::Lane& lane, bool detailed);

/// Writes a run's or bridge's JSON report to `path` ("-" = standard output, after what the
/// command printed). Throws SystemError naming the path when it cannot be written.
void write_json_report(const nlohmann::json& report, const std::string& path);

}  // namespace longhaul::lab

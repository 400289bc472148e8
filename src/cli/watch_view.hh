#pragma once
// `longhaul watch`'s pure part: two snapshots of GET /v1/lanes (docs/api.md) and the time
// between them to the lines of one refresh: per lane and direction the throughput out, packets/s,
// queue, drops by cause over the interval, release lateness p99 and the configuration in force.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace longhaul::cli {

/// The lines of one refresh of `lab` (the engine's label: "lab four-sites", "run r1"). `previous`
/// is the snapshot before (nullptr on the first refresh: the per-interval columns show "-"),
/// `elapsed_s` the time between the two. Lanes are matched by name; counters that went backwards
/// (another engine) show "-".
std::vector<std::string> watch_lines(const std::string& lab, const nlohmann::json* previous,
                                     const nlohmann::json& current, double elapsed_s);

}  // namespace longhaul::cli

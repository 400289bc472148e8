#pragma once
// What `longhaul status` says of a lab.
#include <nlohmann/json.hpp>
#include <string>

#include "lab/lab_state.hh"

namespace longhaul::lab {

/// Human status of one lab: sites, addresses, lanes and live counters.
std::string lab_status_text(const LabState& state);
/// The same as JSON (schema longhaul.lab/1).
nlohmann::json lab_status_json(const LabState& state);

inline constexpr const char* kLabSchema = "longhaul.lab/1";

}  // namespace longhaul::lab

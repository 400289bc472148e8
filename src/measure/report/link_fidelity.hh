#pragma once
// Fidelity verdicts (core/fidelity.hh) as JSON, and the file through which `longhaul run` tells
// the command it runs how faithful its link has been so far: the run rewrites it every second
// and names it in $LONGHAUL_FIDELITY_FILE, and `longhaul bench client` reads it when it starts
// and ends, so it can warn when its own figures were measured through a link the machine could
// not keep.
//
// The file: {"schema": "longhaul.fidelity/1", "directions": {"up": EVIDENCE, "down": EVIDENCE}}
// where EVIDENCE is fidelity_evidence_json() of everything since the run started.
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/fidelity.hh"

namespace longhaul::measure {

inline constexpr const char* kFidelityFileEnv = "LONGHAUL_FIDELITY_FILE";
inline constexpr const char* kFidelitySchema = "longhaul.fidelity/1";

/// The evidence's numbers (units in key names).
nlohmann::json fidelity_evidence_json(const core::FidelityEvidence& evidence);
/// Reads fidelity_evidence_json()'s cumulative counts back; nullopt when a key is missing.
std::optional<core::FidelityEvidence> fidelity_evidence_from_json(const nlohmann::json& json);

/// {"verdict": "ok"|"degraded", "reasons": [...], "causes": [{"cause", "text", "advice"}],
///  "late_share_p99", "late_share_p999", "cpu_wait_share", ...evidence}.
nlohmann::json fidelity_json(const core::FidelityVerdict& verdict,
                             const core::FidelityEvidence& evidence);

/// The overall verdict of several directions' fidelity_json(): degraded when any is, with
/// their reasons prefixed by the direction's name.
nlohmann::json overall_fidelity_json(const nlohmann::json& directions);

/// Reads the file $LONGHAUL_FIDELITY_FILE names, if the variable is set and the file parses:
/// evidence per direction name.
std::optional<std::map<std::string, core::FidelityEvidence>> read_link_fidelity();

/// Warnings for a test that ran between two reads of the link's fidelity file: one line per
/// direction whose verdict over that span is degraded. Pure.
std::vector<std::string> link_fidelity_warnings(
    const std::map<std::string, core::FidelityEvidence>& at_start,
    const std::map<std::string, core::FidelityEvidence>& at_end);

}  // namespace longhaul::measure

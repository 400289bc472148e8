#pragma once
// The parameter schema written out for people and programs: `longhaul params` (a table or JSON)
// and the generated parameter tables of docs/run.md, docs/topology.md and the man page (a unit
// test compares them with the files; `make docs` rewrites them).
#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace longhaul::link {

/// `longhaul params --json`: schema "longhaul.params/1", one object per parameter.
nlohmann::json params_json();

/// `longhaul params`: one line per parameter name, for a terminal.
std::string params_text();

/// The markdown table of `run`'s link flags (docs/run.md).
std::string run_flags_markdown();

/// The markdown table of a lane's keys (docs/topology.md).
std::string topology_keys_markdown();

/// The roff entries of the LINK FLAGS section (docs/longhaul.1).
std::string man_link_flags();

/// Where generated text sits in a file: between a line holding `<!-- params:NAME -->`
/// (`.\" params:NAME` in roff) and the next line holding `<!-- /params -->` (`.\" /params`).
/// Returns the file's text with that region replaced by `body`, or "" when the markers are missing.
std::string replace_generated(std::string_view file_text, std::string_view name,
                              std::string_view body);

}  // namespace longhaul::link

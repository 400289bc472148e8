#pragma once
// The tuner's outputs: a human table (default), a sysctl.conf snippet with the `ip` commands for
// per-route and per-interface settings (--format sysctl), and JSON (--format json) with the
// versioned schema "longhaul.tune/1" described in docs/tune.md. Pure: strings in, strings out.
#include <optional>
#include <string>
#include <vector>

#include "tune/recommend.hh"
#include "tune/saved_state.hh"
#include "tune/settings.hh"

namespace longhaul::tune {

/// Schema tag of --format json output.
inline constexpr const char* kJsonSchema = "longhaul.tune/1";

/// What the tuner found and recommends for one request.
struct Report {
  TuneRequest request;
  std::optional<HostSettings> settings;  ///< nullopt for --os macos (nothing is read)
  PathFigures path;
  std::vector<Recommendation> rows;
};

/// Runs the rules: Linux on `settings`, or macOS when request.os says so.
Report make_report(const TuneRequest& request, std::optional<HostSettings> settings);

/// Everything one invocation prints as JSON; absent parts become null.
struct Output {
  TuneRequest request;
  std::optional<Report> report;
  std::optional<ApplyResult> apply;
  std::optional<RevertResult> revert;
  std::optional<std::string> error;  ///< set when the invocation failed
};

/// The table: a header with the path figures, one row per setting, then notes.
std::string format_table(const Report& report);
/// A sysctl.conf snippet (or macOS sysctl lines) with the non-sysctl commands as comments.
std::string format_sysctl(const Report& report);
/// The JSON document (one line per key, indented, ending in a newline).
std::string format_json(const Output& output);
/// What --apply did, for people.
std::string format_apply(const ApplyResult& result, const TuneRequest& request);
/// What --revert did, for people.
std::string format_revert(const RevertResult& result, const TuneRequest& request);

}  // namespace longhaul::tune

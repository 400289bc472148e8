#pragma once
// What `longhaul tune --apply` changed, and what it found before, so that `--revert` can put
// every value back exactly. Kept as JSON under /run/longhaul/tune/ (one file per target); this
// file only converts it (pure, tested); tune/apply.cc reads and writes it.
//
// Applying twice before reverting keeps the value found by the *first* apply for every setting
// (merge_changes), so one revert always returns to the state before longhaul touched anything.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tune/settings.hh"

namespace longhaul::tune {

/// Identifies one route again: family, table, destination, source, tos and priority.
struct RouteKey {
  int family = 0;
  std::uint32_t table = 0;
  std::string destination;  ///< "default" or "198.18.1.0/24"
  std::string source;       ///< "" or the source prefix of a policy route
  std::uint32_t tos = 0;
  std::uint32_t priority = 0;

  friend bool operator==(const RouteKey&, const RouteKey&) = default;
};

/// One changed value.
struct SavedChange {
  enum class Kind { sysctl, link, route };
  Kind kind = Kind::sysctl;
  std::string setting;  ///< sysctl(8) name, "txqueuelen", "initcwnd", "initrwnd"
  std::string object;   ///< "", "dev eth0", "route default via 192.0.2.1 dev eth0"
  std::string key;      ///< sysctl: /proc/sys-relative path; link: interface name; route: ""
  std::optional<RouteKey> route;        ///< for Kind::route
  std::optional<std::string> previous;  ///< nullopt: was unset (route metric at kernel default)
  std::string applied;
};
std::string_view to_string(SavedChange::Kind kind);

/// The state file of one target.
struct SavedState {
  TargetKind target = TargetKind::host;
  std::string netns;                 ///< name, for a netns target
  std::uint64_t netns_dev = 0;       ///< identity of the namespace applied to (st_dev, st_ino of
  std::uint64_t netns_inode = 0;     ///< /run/netns/NAME), to notice one re-created under its name
  std::string kernel;                ///< uname release at apply time
  std::string created;               ///< UTC time of the first apply, for display
  std::vector<SavedChange> changes;  ///< in the order applied; revert goes backwards
};

/// Schema tag of state files.
inline constexpr const char* kStateSchema = "longhaul.tune-state/1";

/// Serialises a state file (pretty JSON, schema kStateSchema).
std::string state_to_json(const SavedState& state);
/// Parses a state file; throws std::runtime_error saying what is wrong.
SavedState state_from_json(const std::string& text);

/// True if `a` and `b` change the same thing (kind, key or route key, setting).
bool same_target(const SavedChange& a, const SavedChange& b);
/// Adds `changes` to `state`: a setting already saved keeps its first `previous` and takes the
/// new `applied`; new ones are appended.
void merge_changes(SavedState& state, const std::vector<SavedChange>& changes);

/// The state file's name for a target: "host.json" or "netns-NAME.json".
std::string state_file_name(TargetKind target, const std::string& netns);

/// What --apply did.
struct Refusal {
  std::string setting;
  std::string object;
  std::string reason;
};
struct ApplyResult {
  std::vector<SavedChange> changed;  ///< in this invocation (previous = the value found now)
  std::vector<Refusal> refused;      ///< "set" recommendations not applied, with the reason
  std::string state_path;            ///< "" when nothing was changed
};

/// What --revert did.
struct RevertResult {
  std::vector<SavedChange> restored;  ///< previous = the value restored, applied = what it was
  std::vector<std::string> problems;  ///< values that could not be restored, with the reason
  std::string state_path;
  std::string message;  ///< "nothing to revert", "namespace re-created", ... ("" normally)
};

}  // namespace longhaul::tune

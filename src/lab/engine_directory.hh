#pragma once
// Where the running engines are and how to reach their control API, for the commands that talk
// to one (`set`, `watch`, `web`): labs (/run/longhaul/labs/NAME.sock), runs
// (/run/longhaul/runs/rN.sock) and bridges (/run/longhaul/bridges/NAME.sock).
//
// A bridge runs in the foreground and keeps no state file: its socket is its record. A socket
// that refuses connections is a bridge that was killed; the next bridge of that name, or
// `longhaul down --stale`, removes it.
#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

namespace longhaul::lab {

inline constexpr const char* kBridgeDir = "/run/longhaul/bridges";
inline constexpr const char* kDefaultBridgeName = "bridge";

/// One engine that serves the control API.
struct EngineRef {
  std::string kind;  ///< "lab", "run" or "bridge"
  std::string name;  ///< the lab's name, "rN", the bridge's name
  std::string socket;
  pid_t pid = 0;  ///< 0 for a bridge (none recorded)

  /// "lab four-sites", "run r2", "bridge wan".
  std::string label() const { return kind + " " + name; }
};

/// The socket of bridge `name`.
std::string bridge_socket(const std::string& name);
/// Whether something accepts connections on the unix socket at `path`.
bool socket_answers(const std::string& path) noexcept;
/// Bridges whose socket answers, by name.
std::vector<std::string> live_bridges();
/// Removes bridge sockets nobody answers on (their bridge was killed); returns their names.
std::vector<std::string> sweep_stale_bridges() noexcept;

/// The engine named `name` (a lab, "rN" for a run, or a bridge), or the only engine that is up
/// when `name` is empty (the only lab, when labs are up). Throws std::runtime_error naming what
/// is up when the choice is not clear; `how_to_name` ends that message with how the command
/// takes a name.
EngineRef choose_engine(const std::string& name, std::string_view how_to_name);

/// Whether the engine's process is still there (a bridge: whether its socket answers).
bool engine_is_alive(const EngineRef& engine);

}  // namespace longhaul::lab

#pragma once
// Flags that shape the engine (--spin, --cpus, --realtime, --port), shared by run, up and bridge.
#include <CLI/CLI.hpp>

#include <optional>
#include <string>

#include "core/time.hh"
#include "engine/lane.hh"
#include "lab/direction_setup.hh"

namespace longhaul::cli {

struct EngineFlags {
  std::string spin = "200us";
  std::optional<std::string> cpus;  ///< given, even as "", is checked
  bool realtime = false;
  std::string port = "packet";
};

/// Declares --spin, --cpus, --realtime and --port on `app`, storing into `flags`.
void add_engine_flags(CLI::App* app, EngineFlags& flags);

/// The busy-poll window --spin asks for; UsageError when it is not a duration.
core::Nanos spin_window(const EngineFlags& flags);

/// The placement the flags ask for; UsageError on a bad CPU list or one naming a CPU this
/// process may not run on (offline, absent, outside its affinity mask), before anything is built.
engine::ThreadPlacement thread_placement(const EngineFlags& flags);

/// The socket type --port names (the option's own check has already refused anything else).
lab::PortKind port_kind(const EngineFlags& flags);

}  // namespace longhaul::cli

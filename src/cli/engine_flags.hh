#pragma once
// Flags that place the engine's threads (--cpus, --realtime), shared by run, up and bridge.
#include <CLI/CLI.hpp>

#include <string>

#include "engine/lane.hh"

namespace longhaul::cli {

struct EngineFlags {
  std::string cpus;
  bool realtime = false;
};

/// Declares --cpus and --realtime on `app`, storing into `flags`.
void add_engine_flags(CLI::App* app, EngineFlags& flags);

/// The placement the flags ask for; UsageError on a bad CPU list.
engine::ThreadPlacement thread_placement(const EngineFlags& flags);

}  // namespace longhaul::cli

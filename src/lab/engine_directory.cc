#include "lab/engine_directory.hh"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <system_error>

#include "core/topology.hh"
#include "lab/control_host.hh"
#include "lab/lab_session.hh"
#include "lab/lab_state.hh"
#include "lab/run_state.hh"

namespace longhaul::lab {

namespace fs = std::filesystem;

namespace {

EngineRef lab_engine(const LabState& state) {
  return {"lab", state.name, control_socket_for(state.state_path()), state.pid};
}

EngineRef run_engine(const RunState& state) {
  return {"run", state.id(), state.control_socket(), state.pid};
}

EngineRef bridge_engine(const std::string& name) {
  return {"bridge", name, bridge_socket(name), 0};
}

/// Bridge names with a socket in kBridgeDir, answering or not.
std::vector<std::string> bridge_socket_names() {
  std::vector<std::string> names;
  std::error_code ignored;
  for (fs::directory_iterator it(kBridgeDir, ignored), end; !ignored && it != end;
       it.increment(ignored)) {
    const fs::path& path = it->path();
    if (path.extension() == ".sock" && it->is_socket(ignored)) {
      names.push_back(path.stem().string());
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::string joined(const std::vector<EngineRef>& engines) {
  std::string text;
  for (const auto& engine : engines) text += (text.empty() ? "" : ", ") + engine.label();
  return text;
}

}  // namespace

std::string bridge_socket(const std::string& name) {
  return fmt::format("{}/{}.sock", kBridgeDir, name);
}

bool socket_answers(const std::string& path) noexcept {
  sockaddr_un address{};
  if (path.size() >= sizeof(address.sun_path)) return false;
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  const bool answers =
      ::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) == 0;
  ::close(fd);
  return answers;
}

std::vector<std::string> live_bridges() {
  std::vector<std::string> names = bridge_socket_names();
  std::erase_if(names,
                [](const std::string& name) { return !socket_answers(bridge_socket(name)); });
  return names;
}

std::vector<std::string> sweep_stale_bridges() noexcept {
  std::vector<std::string> removed;
  try {
    for (const auto& name : bridge_socket_names()) {
      if (socket_answers(bridge_socket(name))) continue;
      std::error_code ignored;
      if (fs::remove(bridge_socket(name), ignored)) removed.push_back(name);
    }
  } catch (const std::exception&) {
    // Best effort, like every sweep: what cannot be listed is left for the next one.
  }
  return removed;
}

EngineRef choose_engine(const std::string& name, std::string_view how_to_name) {
  std::vector<EngineRef> up;
  for (const auto& lab : list_labs()) up.push_back(lab_engine(lab));
  const std::size_t labs = up.size();
  for (const auto& run : list_runs()) {
    if (run_is_alive(run)) up.push_back(run_engine(run));
  }
  for (const auto& bridge : live_bridges()) up.push_back(bridge_engine(bridge));

  if (!name.empty()) {
    if (auto lab = find_lab(name)) return lab_engine(*lab);
    for (const auto& run : list_runs()) {
      if (run.id() == name) return run_engine(run);
    }
    if (core::valid_topology_name(name, core::kMaxLabNameLength) &&
        fs::is_socket(bridge_socket(name))) {
      return bridge_engine(name);
    }
    throw std::runtime_error(
        fmt::format("no lab named '{}' is up, nor a run or bridge of that "
                    "name{}",
                    name, up.empty() ? " (nothing is up)" : " (up: " + joined(up) + ")"));
  }
  // Labs first: with labs up, a name-less command means a lab, as it always has.
  if (labs == 1) return up.front();
  if (labs > 1) {
    std::string names;
    for (std::size_t i = 0; i < labs; ++i) names += (i == 0 ? "" : ", ") + up[i].name;
    throw std::runtime_error(
        fmt::format("several labs are up ({}): name one with {}", names, how_to_name));
  }
  if (up.empty()) {
    throw std::runtime_error(
        "no lab is up (nor a run or bridge): start one with `longhaul up "
        "examples/four-sites.toml`");
  }
  if (up.size() > 1) {
    throw std::runtime_error(
        fmt::format("several engines are up ({}): name one with {}", joined(up), how_to_name));
  }
  return up.front();
}

bool engine_is_alive(const EngineRef& engine) {
  if (engine.kind == "lab") {
    const auto state = find_lab(engine.name);
    return state && lab_is_alive(*state);
  }
  if (engine.kind == "run") {
    for (const auto& run : list_runs()) {
      if (run.id() == engine.name) return run_is_alive(run);
    }
    return false;
  }
  return socket_answers(engine.socket);
}

}  // namespace longhaul::lab

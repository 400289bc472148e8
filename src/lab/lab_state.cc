#include "lab/lab_state.hh"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include <fmt/format.h>
#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fstream>

#include "core/topology.hh"
#include "io/error.hh"
#include "io/fd.hh"
#include "io/netns.hh"
#include "io/process.hh"
#include "lab/run_state.hh"

namespace longhaul::lab {

namespace fs = std::filesystem;

std::string LabState::state_path() const {
  return fmt::format("{}/{}.json", kLabStateDir, name);
}
std::string LabState::counters_path() const {
  return fmt::format("{}/{}.counters.json", kLabStateDir, name);
}
std::string LabState::log_path() const {
  return fmt::format("{}/{}.log", kLabStateDir, name);
}

std::string site_netns(const std::string& lab, const std::string& site) {
  return fmt::format("lh-{}-{}", lab, site);
}
std::string emulator_netns(const std::string& lab) {
  return fmt::format("lh-{}.emu", lab);
}
std::string etc_netns_dir(const std::string& netns) {
  return "/etc/netns/" + netns;
}

namespace {

io::Fd lock_lab_dir() {
  std::error_code ignored;
  fs::create_directories(kLabStateDir, ignored);
  const std::string lock_path = std::string(kLabStateDir) + "/.lock";
  io::Fd fd(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!fd.valid()) io::throw_errno("open", lock_path);
  if (::flock(fd.get(), LOCK_EX) != 0) io::throw_errno("flock", lock_path);
  return fd;
}

std::optional<LabState> read_lab(const fs::path& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  try {
    const auto json = nlohmann::json::parse(in);
    LabState state;
    state.name = json.at("name").get<std::string>();
    state.slot = json.at("slot").get<int>();
    state.pid = json.at("pid").get<pid_t>();
    state.start_time = json.at("start_time").get<unsigned long long>();
    state.file = json.value("file", "");
    state.namespaces = json.at("namespaces").get<std::vector<std::string>>();
    state.description = json.value("description", nlohmann::json::object());
    return state;
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

void write_lab(const LabState& state) {
  const nlohmann::json json = {{"name", state.name},
                               {"slot", state.slot},
                               {"pid", state.pid},
                               {"start_time", state.start_time},
                               {"file", state.file},
                               {"namespaces", state.namespaces},
                               {"description", state.description}};
  // Written whole and renamed, so a reader never sees half a file.
  const std::string path = state.state_path();
  const std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary);
    out << json.dump(2) << '\n';
    if (!out) io::throw_errno("write", temporary);
  }
  if (::rename(temporary.c_str(), path.c_str()) != 0) io::throw_errno("rename", path);
}

}  // namespace

LabState claim_lab(const std::string& name, pid_t pid, const std::string& file,
                   std::vector<std::string> namespaces) {
  const io::Fd lock = lock_lab_dir();
  const auto labs = list_labs();
  if (const auto existing = std::find_if(labs.begin(), labs.end(),
                                         [&](const LabState& lab) { return lab.name == name; });
      existing != labs.end()) {
    throw std::runtime_error(fmt::format(
        "a lab named '{}' is already up (engine pid {}, from {}): take it down with `longhaul "
        "down {}` or give this one another name with --name",
        name, existing->pid, existing->file, name));
  }
  for (const auto& netns : namespaces) {
    if (io::netns_exists(netns)) {
      throw std::runtime_error(fmt::format(
          "namespace {} already exists (another lab or tool made it): choose another lab name "
          "with --name, or remove it with `ip netns delete {}` if it is left over",
          netns, netns));
    }
  }
  for (int slot = 1; slot <= core::kMaxLabs; ++slot) {
    if (std::any_of(labs.begin(), labs.end(),
                    [&](const LabState& lab) { return lab.slot == slot; })) {
      continue;
    }
    LabState state;
    state.name = name;
    state.slot = slot;
    state.pid = pid;
    state.start_time = process_start_time(pid);
    state.file = file;
    state.namespaces = std::move(namespaces);
    write_lab(state);
    return state;
  }
  throw std::runtime_error(fmt::format(
      "all {} lab slots are in use (see {}): take a lab down first", core::kMaxLabs, kLabStateDir));
}

void save_lab(const LabState& state) {
  write_lab(state);
}

std::optional<LabState> find_lab(const std::string& name) {
  return read_lab(fs::path(kLabStateDir) / (name + ".json"));
}

const nlohmann::json& find_site(const LabState& state, const std::string& site) {
  static const nlohmann::json kNoSites = nlohmann::json::array();
  const nlohmann::json& sites =
      state.description.contains("sites") ? state.description.at("sites") : kNoSites;
  std::string names;
  for (const auto& entry : sites) {
    if (entry.value("name", "") == site) return entry;
    names += (names.empty() ? "" : ", ") + entry.value("name", "");
  }
  throw std::runtime_error(fmt::format("lab '{}' has no site '{}' (sites: {})", state.name, site,
                                       names.empty() ? "none recorded" : names));
}

std::vector<LabState> list_labs() {
  std::vector<LabState> labs;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(kLabStateDir, error)) {
    const std::string file = entry.path().filename().string();
    if (!file.ends_with(".json") || file.ends_with(".counters.json")) continue;
    if (auto state = read_lab(entry.path())) labs.push_back(*state);
  }
  std::sort(labs.begin(), labs.end(),
            [](const LabState& a, const LabState& b) { return a.name < b.name; });
  return labs;
}

bool lab_is_alive(const LabState& state) {
  if (state.pid <= 0) return false;
  if (::kill(state.pid, 0) != 0 && errno == ESRCH) return false;
  // A zombie has exited but was not reaped yet: the engine's parent (`longhaul up`) is gone,
  // whoever adopted it may be slow to reap, and a zombie runs nothing.
  const auto stat = io::read_process_stat(state.pid);
  return stat && stat->start_time == state.start_time && stat->state != 'Z';
}

void tear_down_lab(const LabState& state) noexcept {
  for (const std::string& netns : state.namespaces) {
    const std::string path = std::string(io::kNetnsRunDir) + "/" + netns;
    // A namespace lives on while a process is in it, so empty it first.
    io::kill_processes_in_netns(io::netns_inode(path));
    io::delete_netns(netns);
    std::error_code ignored;
    fs::remove_all(etc_netns_dir(netns), ignored);
  }
  std::error_code ignored;
  fs::remove(state.counters_path(), ignored);
  fs::remove(state.log_path(), ignored);
  // The control API's socket (lab/control_host.hh), left behind when the engine crashed.
  fs::remove(fs::path(state.state_path()).replace_extension(".sock"), ignored);
  fs::remove(state.state_path(), ignored);
}

std::vector<LabState> sweep_stale_labs() noexcept {
  std::vector<LabState> swept;
  try {
    const io::Fd lock = lock_lab_dir();
    for (const LabState& state : list_labs()) {
      if (lab_is_alive(state)) continue;
      tear_down_lab(state);
      swept.push_back(state);
    }
  } catch (...) {
    // Sweeping is a courtesy; a failure here must not stop the caller.
  }
  return swept;
}

}  // namespace longhaul::lab

#include "lab/lab_state.hh"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include <fmt/format.h>
#include <algorithm>
#include <cerrno>
#include <filesystem>

#include "core/topology.hh"
#include "io/error.hh"
#include "io/fd.hh"
#include "io/netns.hh"
#include "io/process.hh"
#include "io/rootless.hh"
#include "io/text_file.hh"
#include "lab/run_state.hh"
#include "tune/apply.hh"

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
  // Rootless, /etc is not ours to write: the session's own state directory holds them.
  if (io::in_rootless_session()) return "/run/longhaul/etc-netns/" + netns;
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

/// Reads a lab state file defensively (see parse_lab_state).
LabStateRead read_lab(const fs::path& path) {
  const io::InputFile file = io::read_input_file(path.string(), "state", io::kStateFileLimit);
  if (!file) {
    LabStateRead read;
    read.problem = file.error;
    return read;
  }
  return parse_lab_state(file.text, path.filename().string());
}

void write_lab(const LabState& state) {
  const nlohmann::json json = {{"schema", kLabStateSchema},
                               {"name", state.name},
                               {"slot", state.slot},
                               {"pid", state.pid},
                               {"start_time", state.start_time},
                               {"file", state.file},
                               {"namespaces", state.namespaces},
                               {"description", state.description}};
  // Written whole and renamed, so a reader never sees half a file.
  io::write_file_atomically(state.state_path(), json.dump(2) + "\n");
}

/// The state files of the lab directory (not counters, logs or temporaries).
std::vector<fs::path> lab_state_files() {
  std::vector<fs::path> files;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(kLabStateDir, error)) {
    const std::string file = entry.path().filename().string();
    if (!file.ends_with(".json") || file.ends_with(".counters.json")) continue;
    files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

LabStateRead parse_lab_state(std::string_view text, std::string_view file_name) {
  LabStateRead read;
  const auto json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object()) {
    read.problem = "not a JSON object (cut short or overwritten)";
    return read;
  }
  if (json.contains("schema") && json["schema"] != kLabStateSchema) {
    read.problem =
        fmt::format("written by another version of longhaul (schema {}, this one reads {})",
                    json["schema"].dump(), kLabStateSchema);
    return read;
  }
  const auto field = [&json](const char* key) -> const nlohmann::json* {
    const auto it = json.find(key);
    return it == json.end() ? nullptr : &*it;
  };
  const auto* name = field("name");
  const auto* slot = field("slot");
  const auto* pid = field("pid");
  const auto* start_time = field("start_time");
  const auto* namespaces = field("namespaces");
  const auto* recorded_file = field("file");
  const auto* description = field("description");
  const auto string_list = [](const nlohmann::json* list) {
    if (list == nullptr || !list->is_array()) return false;
    return std::all_of(list->begin(), list->end(),
                       [](const nlohmann::json& item) { return item.is_string(); });
  };
  if (pid != nullptr && pid->is_number_integer()) read.pid = pid->get<pid_t>();
  if (start_time != nullptr && start_time->is_number_unsigned()) {
    read.start_time = start_time->get<unsigned long long>();
  }
  if (string_list(namespaces)) read.namespaces = namespaces->get<std::vector<std::string>>();
  if (name == nullptr || !name->is_string() || slot == nullptr || !slot->is_number_integer() ||
      pid == nullptr || !pid->is_number_integer() || start_time == nullptr ||
      !start_time->is_number_unsigned() || !string_list(namespaces) ||
      (recorded_file != nullptr && !recorded_file->is_string() && !recorded_file->is_null()) ||
      (description != nullptr && !description->is_object() && !description->is_null())) {
    read.problem =
        "a field is missing or of the wrong type (name, slot, pid, start_time, "
        "namespaces, file, description)";
    return read;
  }
  LabState state;
  state.name = name->get<std::string>();
  state.slot = slot->get<int>();
  state.pid = read.pid;
  state.start_time = read.start_time;
  if (recorded_file != nullptr && recorded_file->is_string())
    state.file = recorded_file->get<std::string>();
  state.namespaces = read.namespaces;
  // A lab being set up has no description yet (null): it is still a lab.
  state.description =
      description != nullptr && description->is_object() ? *description : nlohmann::json::object();
  if (file_name != state.name + ".json") {
    read.problem = fmt::format("it names lab '{}', not the lab its file name says", state.name);
    return read;
  }
  read.state = std::move(state);
  return read;
}

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
  // Lab names are checked when a lab comes up; a name with a slash names no lab.
  if (name.empty() || name.find('/') != std::string::npos) return std::nullopt;
  return read_lab(fs::path(kLabStateDir) / (name + ".json")).state;
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
  for (const auto& path : lab_state_files()) {
    if (auto read = read_lab(path); read.state) labs.push_back(*read.state);
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
    tune::forget_netns_state(netns);
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

std::vector<UnreadableState> unreadable_labs() {
  std::vector<UnreadableState> unreadable;
  for (const auto& path : lab_state_files()) {
    if (auto read = read_lab(path); !read.state) {
      unreadable.push_back({path.string(), read.problem});
    }
  }
  return unreadable;
}

std::vector<UnreadableState> sweep_unreadable_labs() noexcept {
  std::vector<UnreadableState> swept;
  try {
    const io::Fd lock = lock_lab_dir();
    for (const auto& path : lab_state_files()) {
      LabStateRead read = read_lab(path);
      if (read.state) continue;
      // Leave it while the process it names runs: it may be a newer longhaul's live lab.
      LabState owner;
      owner.pid = read.pid;
      owner.start_time = read.start_time;
      if (lab_is_alive(owner)) continue;
      // What it names that looks like a lab's namespace goes too; nothing else is trusted.
      owner.name = path.stem().string();
      for (const auto& netns : read.namespaces) {
        if (netns.starts_with("lh-" + owner.name + "-") || netns == emulator_netns(owner.name)) {
          owner.namespaces.push_back(netns);
        }
      }
      tear_down_lab(owner);
      std::error_code ignored;
      fs::remove(path, ignored);
      swept.push_back({path.string(), read.problem});
    }
  } catch (...) {
    // Sweeping is a courtesy; a failure here must not stop the caller.
  }
  for (const auto& orphan : io::remove_orphan_temporaries(kLabStateDir)) {
    swept.push_back({orphan, "a temporary file its writer left when it was killed"});
  }
  return swept;
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

#include "lab/run_state.hh"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include <fmt/format.h>
#include <cerrno>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "io/error.hh"
#include "io/fd.hh"
#include "io/netlink.hh"
#include "io/netns.hh"
#include "io/process.hh"
#include "io/text_file.hh"
#include "lab/fidelity_report.hh"
#include "tune/apply.hh"

namespace longhaul::lab {

namespace fs = std::filesystem;

std::string RunState::id() const {
  return fmt::format("r{}", index);
}

std::string RunState::control_socket() const {
  return fmt::format("{}/{}.sock", kStateDir, id());
}
std::string RunState::command_netns() const {
  return fmt::format("lh-{}-cmd", id());
}
std::string RunState::emulator_netns() const {
  return fmt::format("lh-{}-emu", id());
}
std::string RunState::host_link() const {
  return fmt::format("lh-{}", id());
}
std::string RunState::host_ipv4() const {
  return fmt::format("198.18.{}.1", index);
}
std::string RunState::host_ipv6() const {
  return fmt::format("2001:2:0:{:x}::1", index);
}
std::string RunState::command_ipv4() const {
  return fmt::format("198.18.{}.2", index);
}
std::string RunState::command_ipv6() const {
  return fmt::format("2001:2:0:{:x}::2", index);
}

namespace {

fs::path state_path(int index) {
  return fs::path(kStateDir) / fmt::format("r{}.json", index);
}

io::Fd lock_state_dir() {
  std::error_code ignored;
  fs::create_directories(kStateDir, ignored);
  const std::string lock_path = std::string(kStateDir) + "/.lock";
  io::Fd fd(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!fd.valid()) io::throw_errno("open", lock_path);
  if (::flock(fd.get(), LOCK_EX) != 0) io::throw_errno("flock", lock_path);
  return fd;
}

/// The run index a state file's name gives ("r7.json" -> 7), 0 if it is not one.
int index_of(const fs::path& path) {
  const std::string stem = path.stem().string();
  if (stem.size() < 2 || stem.size() > 4 || stem[0] != 'r' ||
      stem.find_first_not_of("0123456789", 1) != std::string::npos) {
    return 0;
  }
  const int index = std::stoi(stem.substr(1));
  return index >= 1 && index <= kMaxRuns ? index : 0;
}

/// Reads a run state file defensively: a problem sentence instead of an exception.
/// Reads a run state file defensively (see parse_run_state).
std::optional<RunState> read_state(const fs::path& path, std::string& problem,
                                   pid_t& salvaged_pid) {
  const io::InputFile file = io::read_input_file(path.string(), "state", io::kStateFileLimit);
  if (!file) {
    problem = file.error;
    return std::nullopt;
  }
  return parse_run_state(file.text, path.filename().string(), problem, salvaged_pid);
}

/// The run state files (rN.json).
std::vector<fs::path> run_state_files() {
  std::vector<fs::path> files;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(kStateDir, error)) {
    if (entry.path().extension() == ".json") files.push_back(entry.path());
  }
  return files;
}

bool index_in_use(int index) {
  RunState probe;
  probe.index = index;
  if (fs::exists(state_path(index))) return true;
  if (io::netns_exists(probe.command_netns()) || io::netns_exists(probe.emulator_netns())) {
    return true;
  }
  return io::Netlink::open().link_exists(probe.host_link());
}

}  // namespace

std::optional<RunState> parse_run_state(std::string_view text, std::string_view file_name,
                                        std::string& problem, pid_t& salvaged_pid) {
  const auto json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object()) {
    problem = "not a JSON object (cut short or overwritten)";
    return std::nullopt;
  }
  if (json.contains("schema") && json["schema"] != kRunStateSchema) {
    problem = fmt::format("written by another version of longhaul (schema {}, this one reads {})",
                          json["schema"].dump(), kRunStateSchema);
    return std::nullopt;
  }
  const auto integer = [&json](const char* key) {
    const auto it = json.find(key);
    return it != json.end() && it->is_number_integer();
  };
  if (integer("pid")) salvaged_pid = json["pid"].get<pid_t>();
  if (!integer("index") || !integer("pid") || !json.contains("start_time") ||
      !json["start_time"].is_number_unsigned()) {
    problem = "a field is missing or of the wrong type (index, pid, start_time)";
    return std::nullopt;
  }
  RunState state;
  state.index = json["index"].get<int>();
  state.pid = json["pid"].get<pid_t>();
  state.start_time = json["start_time"].get<unsigned long long>();
  if (state.index != index_of(fs::path(std::string(file_name)))) {
    problem = fmt::format("it records run index {}, not the one its file name says",
                          json["index"].dump());
    return std::nullopt;
  }
  return state;
}

unsigned long long process_start_time(pid_t pid) noexcept {
  const auto stat = io::read_process_stat(pid);
  return stat ? stat->start_time : 0;
}

RunState claim_run(pid_t pid) {
  const io::Fd lock = lock_state_dir();
  for (int index = 1; index <= kMaxRuns; ++index) {
    if (index_in_use(index)) continue;
    RunState state;
    state.index = index;
    state.pid = pid;
    state.start_time = process_start_time(pid);
    const nlohmann::json json = {{"schema", kRunStateSchema},
                                 {"index", state.index},
                                 {"pid", state.pid},
                                 {"start_time", state.start_time},
                                 {"command_netns", state.command_netns()},
                                 {"emulator_netns", state.emulator_netns()},
                                 {"host_link", state.host_link()}};
    io::write_file_atomically(state_path(index).string(), json.dump(2) + "\n");
    return state;
  }
  throw std::runtime_error(fmt::format(
      "all {} run slots are in use (see {}); finish some runs or remove stale ones with "
      "`longhaul down --all`",
      kMaxRuns, kStateDir));
}

std::vector<RunState> list_runs() {
  std::vector<RunState> runs;
  for (const auto& path : run_state_files()) {
    std::string problem;
    pid_t pid = 0;
    if (auto state = read_state(path, problem, pid)) runs.push_back(*state);
  }
  std::sort(runs.begin(), runs.end(),
            [](const RunState& a, const RunState& b) { return a.index < b.index; });
  return runs;
}

bool run_is_alive(const RunState& state) {
  if (state.pid <= 0) return false;
  if (::kill(state.pid, 0) != 0 && errno == ESRCH) return false;
  // A zombie (killed, not yet reaped by its parent) runs nothing: its run is over.
  const auto stat = io::read_process_stat(state.pid);
  return stat && stat->start_time == state.start_time && stat->state != 'Z';
}

std::vector<UnreadableState> unreadable_runs() {
  std::vector<UnreadableState> unreadable;
  for (const auto& path : run_state_files()) {
    std::string problem;
    pid_t pid = 0;
    if (!read_state(path, problem, pid)) unreadable.push_back({path.string(), problem});
  }
  return unreadable;
}

std::vector<UnreadableState> sweep_unreadable_runs() noexcept {
  std::vector<UnreadableState> swept;
  try {
    const io::Fd lock = lock_state_dir();
    for (const auto& path : run_state_files()) {
      std::string problem;
      pid_t owner = 0;
      if (read_state(path, problem, owner)) continue;
      // Leave it while the process it names runs: it may be a newer longhaul's live run.
      if (owner > 0 && ::kill(owner, 0) == 0) continue;
      // Its name says which run it was, and a run's namespaces and link follow from that.
      RunState state;
      state.index = index_of(path);
      if (state.index != 0) tear_down_run(state);
      std::error_code ignored;
      fs::remove(path, ignored);
      swept.push_back({path.string(), problem});
    }
  } catch (...) {
    // Sweeping is a courtesy; a failure here must not stop the caller.
  }
  for (const auto& orphan : io::remove_orphan_temporaries(kStateDir)) {
    swept.push_back({orphan, "a temporary file its writer left when it was killed"});
  }
  return swept;
}

void tear_down_run(const RunState& state) noexcept {
  // The host link goes first and explicitly: deleting a veth end removes its
  // peer at once, whereas a namespace's links vanish later, on a kernel
  // workqueue, which would let a quick next run collide with the old name.
  try {
    io::Netlink::open().delete_link_if_exists(state.host_link());
  } catch (...) {
    // Best effort: teardown must go on to the namespaces whatever happens here.
  }
  for (const std::string& netns : {state.command_netns(), state.emulator_netns()}) {
    const std::string path = std::string(io::kNetnsRunDir) + "/" + netns;
    // A namespace lives on while a process is in it, so empty it first.
    io::kill_processes_in_netns(io::netns_inode(path));
    io::delete_netns(netns);
    tune::forget_netns_state(netns);
  }
  std::error_code ignored;
  fs::remove(run_fidelity_path(state), ignored);
  fs::remove(state.control_socket(), ignored);
  fs::remove(state.control_socket() + ".new", ignored);
  fs::remove(state_path(state.index), ignored);
}

std::vector<RunState> sweep_stale_runs() noexcept {
  std::vector<RunState> swept;
  try {
    const io::Fd lock = lock_state_dir();
    for (const RunState& state : list_runs()) {
      if (run_is_alive(state)) continue;
      tear_down_run(state);
      swept.push_back(state);
    }
  } catch (...) {
    // Sweeping is a courtesy; a failure here must not stop the caller.
  }
  return swept;
}

}  // namespace longhaul::lab

#include "lab/run_state.hh"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include <fmt/format.h>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "io/error.hh"
#include "io/fd.hh"
#include "io/netlink.hh"
#include "io/netns.hh"
#include "io/process.hh"
#include "lab/fidelity_report.hh"

namespace longhaul::lab {

namespace fs = std::filesystem;

std::string RunState::id() const {
  return fmt::format("r{}", index);
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

std::optional<RunState> read_state(const fs::path& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  try {
    const auto json = nlohmann::json::parse(in);
    RunState state;
    state.index = json.at("index").get<int>();
    state.pid = json.at("pid").get<pid_t>();
    state.start_time = json.at("start_time").get<unsigned long long>();
    if (state.index < 1 || state.index > kMaxRuns) return std::nullopt;
    return state;
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
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
    const nlohmann::json json = {{"index", state.index},
                                 {"pid", state.pid},
                                 {"start_time", state.start_time},
                                 {"command_netns", state.command_netns()},
                                 {"emulator_netns", state.emulator_netns()},
                                 {"host_link", state.host_link()}};
    const fs::path path = state_path(index);
    std::ofstream out(path);
    out << json.dump(2) << '\n';
    if (!out) io::throw_errno("write", path.string());
    return state;
  }
  throw std::runtime_error(fmt::format(
      "all {} run slots are in use (see {}); finish some runs or remove stale ones with "
      "`longhaul down --all`",
      kMaxRuns, kStateDir));
}

std::vector<RunState> list_runs() {
  std::vector<RunState> runs;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(kStateDir, error)) {
    if (entry.path().extension() != ".json") continue;
    if (auto state = read_state(entry.path())) runs.push_back(*state);
  }
  std::sort(runs.begin(), runs.end(),
            [](const RunState& a, const RunState& b) { return a.index < b.index; });
  return runs;
}

bool run_is_alive(const RunState& state) {
  if (state.pid <= 0) return false;
  if (::kill(state.pid, 0) != 0 && errno == ESRCH) return false;
  return process_start_time(state.pid) == state.start_time;
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
  }
  std::error_code ignored;
  fs::remove(run_fidelity_path(state), ignored);
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

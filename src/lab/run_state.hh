#pragma once
// Bookkeeping for `longhaul run`, under /run/longhaul so another shell (or
// `longhaul down` after a crash) can find and remove what a run created.
// The state file is written before anything is created, so nothing a run makes
// is ever without a record.
#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace longhaul::lab {

inline constexpr const char* kStateDir = "/run/longhaul/runs";
inline constexpr int kMaxRuns = 250;
/// Written into every run state file; a file with another schema is another version's.
inline constexpr const char* kRunStateSchema = "longhaul.run-state/1";

/// A state file (of a run or a lab) that cannot be read: cut short, null where a value
/// belongs, another version's. `problem` says which.
struct UnreadableState {
  std::string path;
  std::string problem;
};

struct RunState {
  int index = 0;                      ///< 1..250: subnet 198.18.<index>.0/24, 2001:2:0:<index>::/64
  pid_t pid = 0;                      ///< the longhaul process that owns the run
  unsigned long long start_time = 0;  ///< its start time (clock ticks), to detect PID reuse

  std::string id() const;              ///< "r<index>"
  std::string command_netns() const;   ///< namespace the command runs in
  std::string emulator_netns() const;  ///< namespace holding the emulator's ports
  std::string host_link() const;       ///< veth end in the root namespace
  std::string host_ipv4() const;       ///< remote address seen from the command
  std::string host_ipv6() const;
  std::string command_ipv4() const;
  std::string command_ipv6() const;
  std::string control_socket() const;  ///< the run's control API: /run/longhaul/runs/rN.sock
};

/// Parses the text of run state file `file_name` ("r7.json") defensively: the state, or
/// nullopt with `problem` saying why (and `salvaged_pid` the owner's pid when it names one).
/// Pure (the fuzz target tests/fuzz/run_state_fuzz.cc drives it).
std::optional<RunState> parse_run_state(std::string_view text, std::string_view file_name,
                                        std::string& problem, pid_t& salvaged_pid);

/// Claims the lowest free run index for `pid` under a lock and records it.
RunState claim_run(pid_t pid);
/// Every recorded run.
std::vector<RunState> list_runs();
/// True while the run's owning process is alive (and is the same process).
bool run_is_alive(const RunState& state);
/// Removes everything the run created: processes in its namespaces, the
/// namespaces, the host link, then the state file. Idempotent; never throws.
void tear_down_run(const RunState& state) noexcept;
/// The run state files that cannot be read (list_runs() skips them).
std::vector<UnreadableState> unreadable_runs();
/// Removes unreadable run state files with the namespaces and link their name implies, and the
/// temporaries of killed writers; returns what it removed. Never throws.
std::vector<UnreadableState> sweep_unreadable_runs() noexcept;
/// Tears down recorded runs whose owner is gone; returns them.
std::vector<RunState> sweep_stale_runs() noexcept;
/// Start time of a process (field 22 of /proc/PID/stat), 0 if unknown.
unsigned long long process_start_time(pid_t pid) noexcept;

}  // namespace longhaul::lab

#pragma once
// Bookkeeping for labs (`longhaul up`), under /run/longhaul/labs so `status`, `exec`, `down` and
// `capture` work from any shell, and `down` can clean up after the lab's process died. The state
// file is written before anything is created and names everything the lab will create.
#include <sys/types.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lab/run_state.hh"

namespace longhaul::lab {

inline constexpr const char* kLabStateDir = "/run/longhaul/labs";
/// Written into every lab state file; a file with another schema is another version's.
inline constexpr const char* kLabStateSchema = "longhaul.lab-state/1";

struct LabState {
  std::string name;
  int slot = 0;                         ///< 1..15: its automatic subnets (core::plan_lab)
  pid_t pid = 0;                        ///< the process that runs the lab's engine
  unsigned long long start_time = 0;    ///< its start time (clock ticks), to detect PID reuse
  std::string file;                     ///< the topology file it came from
  std::vector<std::string> namespaces;  ///< every namespace the lab creates (emulator last)
  nlohmann::json description;           ///< sites, addresses, lanes: for status and exec

  std::string state_path() const;     ///< /run/longhaul/labs/NAME.json
  std::string counters_path() const;  ///< live counters the engine rewrites every second
  std::string log_path() const;       ///< the engine process's stderr
};

/// Namespace of site `site` in lab `lab`: "lh-LAB-SITE".
std::string site_netns(const std::string& lab, const std::string& site);
/// Namespace holding the lab's engine ports and switches: "lh-LAB.emu" (a dot, which site names
/// cannot contain, so it never collides with a site).
std::string emulator_netns(const std::string& lab);
/// /etc/netns/NAMESPACE: files there replace /etc files for commands run in the namespace (the
/// same convention as `ip netns exec`), which is how site names resolve.
std::string etc_netns_dir(const std::string& netns);

/// What reading one lab state file gave: the state, or the problem and whatever could be
/// salvaged to clean up after it (the owner's pid and start time, the namespaces it names).
struct LabStateRead {
  std::optional<LabState> state;
  std::string problem;
  pid_t pid = 0;
  unsigned long long start_time = 0;
  std::vector<std::string> namespaces;
};

/// Parses the text of lab state file `file_name` ("NAME.json") defensively: whatever a crash,
/// another version or a hand edit left there becomes a problem sentence, never an exception.
/// Pure (the fuzz target tests/fuzz/lab_state_fuzz.cc drives it).
LabStateRead parse_lab_state(std::string_view text, std::string_view file_name);

/// Claims a slot and records the lab under a lock. Throws std::runtime_error when a lab of this
/// name is up, a namespace it needs exists, or all slots are taken.
LabState claim_lab(const std::string& name, pid_t pid, const std::string& file,
                   std::vector<std::string> namespaces);
/// Rewrites the state file (after the description or the owning pid changed).
void save_lab(const LabState& state);
/// The recorded lab called `name`, if any.
std::optional<LabState> find_lab(const std::string& name);
/// Site `site` of `state`'s description (its "netns", "interfaces", ...). Throws
/// std::runtime_error naming the lab's sites when it has no such site.
const nlohmann::json& find_site(const LabState& state, const std::string& site);
/// Every recorded lab, by name.
std::vector<LabState> list_labs();
/// True while the lab's engine process is alive (and is the same process).
bool lab_is_alive(const LabState& state);
/// Removes everything the lab created: processes in its namespaces, the namespaces, their
/// /etc/netns directories, then the state files. Idempotent; never throws.
void tear_down_lab(const LabState& state) noexcept;
/// Tears down recorded labs whose engine process is gone; returns them.
std::vector<LabState> sweep_stale_labs() noexcept;
/// The lab state files that cannot be read (list_labs() skips them), for status to mention.
std::vector<UnreadableState> unreadable_labs();
/// Removes unreadable lab state files whose owner (if they name one) is gone, with the
/// namespaces they name, and the temporaries of killed writers; returns what it removed.
std::vector<UnreadableState> sweep_unreadable_labs() noexcept;

}  // namespace longhaul::lab

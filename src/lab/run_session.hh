#pragma once
// `longhaul run`: an emulated link between a command (in its own network
// namespace) and the host, for the lifetime of the command.
//
//   command netns          emulator netns                root netns
//   eth0 198.18.N.2 <-veth-> near ==[engine]== far <-veth-> lh-rN 198.18.N.1
//
// The engine's ports live in a namespace of their own so the host sees one
// new interface only, and deleting the two namespaces removes every link.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "control/api_server.hh"
#include "core/time.hh"
#include "engine/lane.hh"
#include "lab/direction_setup.hh"
#include "link/link_options.hh"

namespace longhaul::lab {

/// The name of a run's one lane in its control API (`longhaul set r1 link --rtt 80ms`).
inline constexpr std::string_view kRunLaneName = "link";

struct RunRequest {
  link::LinkSpec link;
  std::vector<std::string> command;      ///< empty: the user's $SHELL
  bool detailed_stats = false;           ///< --stats
  bool quiet = false;                    ///< no header, no summary
  std::optional<std::string> json_path;  ///< --json FILE ("-" = stdout)
  core::Nanos spin{std::chrono::microseconds(200)};
  engine::ThreadPlacement placement;                   ///< --cpus, --realtime
  std::uint64_t assumed_rate_bps = 20'000'000'000ULL;  ///< buffer sizing when --rate is not given
  PortKind port = PortKind::packet;                    ///< --port
  bool strict = false;  ///< --strict: a degraded fidelity verdict fails the run (exit 5)
  std::vector<control::ServerEndpoint> api_tcp;  ///< --listen, --web: the API on TCP too
};

/// Exit codes of longhaul itself (the command's own status passes through otherwise).
inline constexpr int kExitUsage = 2;        ///< bad flags or values
inline constexpr int kExitEnvironment = 3;  ///< not root, missing kernel support
inline constexpr int kExitSetup = 4;        ///< creating the link failed
inline constexpr int kExitNotExecutable = 126;
inline constexpr int kExitNotFound = 127;

/// Thrown for problems with the machine rather than the request.
class EnvironmentError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Builds the link, runs the command through it, tears everything down and
/// returns the command's exit status (128+N when it or longhaul got signal N; with
/// request.strict, kExitFidelityDegraded instead of 0 when a direction's fidelity is degraded).
/// Throws (after cleaning up) when the link cannot be built or the command cannot start.
int run_session(const RunRequest& request);

/// What `run` needs root for (check_privileges' default).
inline constexpr std::string_view kRootToBuildLinks =
    "to create network namespaces and links (CAP_NET_ADMIN and CAP_SYS_ADMIN). The command "
    "itself runs as you";

/// Checks that this process runs as root; throws EnvironmentError saying what root is
/// `needed_for` ("to enter a lab site's network namespace", ...).
void check_privileges(std::string_view needed_for = kRootToBuildLinks);

}  // namespace longhaul::lab

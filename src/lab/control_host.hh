#pragma once
// The control API of an engine process (run, lab, bridge): its target over the running lanes, the
// request core and the unix-socket server, kept together for the engine's lifetime. This is the
// one place that tells the control layer today's parameter names (lab::link_flag_keys) and buffer
// sizing (lab::plan_buffers).
#include <memory>
#include <string>
#include <vector>

#include "control/api_server.hh"
#include "control/control_api.hh"
#include "control/lanes_target.hh"
#include "engine/clock.hh"
#include "engine/lane.hh"

namespace longhaul::lab {

struct ControlHostRequest {
  std::string kind;  ///< "run", "lab" or "bridge"
  std::string name;
  std::uint64_t seed = 0;
  std::vector<std::string> lane_names;
  std::vector<engine::Lane*> lanes;
  const engine::Clock* clock = nullptr;
  core::Nanos origin{0};
  std::uint64_t assumed_rate_bps = 0;  ///< buffer sizing when a direction has no rate
  std::string socket_path;
  std::vector<control::ServerEndpoint> tcp;  ///< --listen and --web
  /// What the lanes join, for the dashboard's drawing: {"sites": [NAME...], "switches":
  /// [NAME...], "lanes": [{"name", "a", "b"}...]} (up is a -> b); null when the engine has no
  /// topology (run, bridge). Shown in GET /v1/ and the event stream's hello.
  nlohmann::json topology;
};

class ControlHost {
 public:
  /// Starts serving; throws std::runtime_error when the socket cannot be made.
  explicit ControlHost(const ControlHostRequest& request);
  const std::string& socket_path() const noexcept { return server_->socket_path(); }
  /// How to reach it: {"socket": PATH, "tcp": [{"url", "dashboard", "token"}...]}, for the state
  /// file (status, `longhaul web`).
  nlohmann::json endpoints_json() const;

 private:
  control::LanesTarget target_;
  control::ControlApi api_;
  std::unique_ptr<control::ApiServer> server_;
  std::vector<std::unique_ptr<control::ApiServer>> tcp_servers_;
};

/// "; dashboard http://127.0.0.1:8080/; API http://..." for the TCP listeners ("" without).
std::string tcp_endpoints_text(const ControlHost& host);

/// The control socket beside a state file: /run/longhaul/labs/NAME.json -> NAME.sock.
std::string control_socket_for(const std::string& state_file);

}  // namespace longhaul::lab

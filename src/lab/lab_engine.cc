// A lab's engine process: it opens every lane's ports in the emulator namespace, serves the
// control API, rewrites the counters file each second, and removes the lab when it stops.
#include "lab/lab_engine.hh"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/prctl.h>
#include <iostream>
#include "io/error.hh"
#include "io/netns.hh"
#include "io/text_file.hh"
#include "lab/control_host.hh"
#include "lab/fidelity_report.hh"
#include "lab/report.hh"
#include "lab/supervise.hh"

namespace longhaul::lab {

std::string engine_port(std::size_t lane, char end) {
  return fmt::format("l{}{}", lane, end);
}

namespace {

/// What each lane direction had measured at the previous live update: the start of the
/// interval its "last_interval" fidelity verdict covers.
using PreviousSamples = std::vector<std::array<engine::FidelitySample, 2>>;

nlohmann::json live_counters(const std::vector<std::unique_ptr<engine::Lane>>& lanes,
                             const LabDefinition& lab, double uptime_s, PreviousSamples& previous) {
  nlohmann::json json = {{"uptime_s", uptime_s}, {"lanes", nlohmann::json::object()}};
  previous.resize(lanes.size());
  for (std::size_t l = 0; l < lanes.size(); ++l) {
    nlohmann::json lane;
    for (const auto direction : {engine::Direction::up, engine::Direction::down}) {
      const auto d = static_cast<std::size_t>(direction);
      nlohmann::json stats =
          direction_stats_json(lanes[l]->counters(direction), lanes[l]->worker(direction).stats());
      // As of the thread's last CPU sample (every kCpuSampleInterval).
      stats["models"] = direction_model_json(lanes[l]->worker(direction).stats());
      const auto now =
          engine::sample_fidelity(lanes[l]->worker(direction), lanes[l]->counters(direction));
      stats["fidelity"] = {
          {"since_start", direction_fidelity_json(direction_fidelity(*lanes[l], direction))},
          {"last_interval",
           direction_fidelity_json(direction_fidelity(*lanes[l], direction, previous[l][d]))}};
      previous[l][d] = now;
      lane[engine::direction_name(direction)] = stats;
    }
    json["lanes"][lab.topology.lanes[l].name] = lane;
  }
  return json;
}

void write_atomically(const std::string& path, const std::string& text) {
  try {
    io::write_file_atomically(path, text);
  } catch (const io::SystemError&) {
    // Live counters are a convenience for `status`: a full /run must not stop the engine.
  }
}

}  // namespace

/// The engine process: runs every lane until told to stop, then removes the lab. Never returns.
[[noreturn]] void run_lab_engine(LabState state, const LabDefinition& lab, core::Nanos spin,
                                 const engine::ThreadPlacement& placement, PortKind port,
                                 const std::vector<control::ServerEndpoint>& api_tcp, int ready_fd,
                                 pid_t up_pid) {
  ::setsid();
  ::prctl(PR_SET_NAME, "longhaul-lab", 0, 0, 0);
  // Until the lab is up, the engine dies with `longhaul up`: killed mid-setup, `up` leaves a
  // state file naming itself, which `down --stale` cleans, and no engine half set up. (getppid
  // catches an `up` that died before the prctl.)
  ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  if (::getppid() != up_pid) ::_exit(1);
  // Detach from the terminal: the log keeps what the engine has to say.
  const int log = ::open(state.log_path().c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  const int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null >= 0) ::dup2(null, STDIN_FILENO);
  if (log >= 0) {
    ::dup2(log, STDOUT_FILENO);
    ::dup2(log, STDERR_FILENO);
  }
  std::string failure;
  std::vector<std::unique_ptr<engine::Lane>> lanes;
  engine::MonotonicClock clock;
  std::unique_ptr<ControlHost> control;
  try {
    const io::Netns emulator = io::Netns::open(emulator_netns(state.name));
    const core::Nanos origin = clock.now();
    for (std::size_t l = 0; l < lab.lanes.size(); ++l) {
      core::DirectionConfig up = lab.lanes[l].up;
      core::DirectionConfig down = lab.lanes[l].down;
      // Outage schedules count from the moment the lab comes up.
      up.loss_model.schedule_origin = down.loss_model.schedule_origin = origin;
      lanes.push_back(make_lane(up, down,
                                {engine_port(l, 'a'), engine_port(l, 'b'), port, emulator.fd()},
                                kLabAssumedRateBps, spin, clock));
    }
    for (std::size_t l = 0; l < lanes.size(); ++l) lanes[l]->start(placement, 2 * l);
    ControlHostRequest api;
    api.kind = "lab";
    api.name = state.name;
    api.seed = lab.seed;
    // Which site or switch each lane joins: the API's clients (the dashboard) draw the lab
    // from it, as the lane names alone do not say.
    api.topology = {{"sites", nlohmann::json::array()},
                    {"switches", nlohmann::json::array()},
                    {"lanes", nlohmann::json::array()}};
    for (const auto& site : lab.topology.sites) api.topology["sites"].push_back(site.name);
    for (const auto& hub : lab.topology.switches) api.topology["switches"].push_back(hub.name);
    for (std::size_t l = 0; l < lanes.size(); ++l) {
      const core::TopologyLane& lane = lab.topology.lanes[l];
      api.lane_names.push_back(lane.name);
      api.lanes.push_back(lanes[l].get());
      api.topology["lanes"].push_back({{"name", lane.name}, {"a", lane.a}, {"b", lane.b}});
    }
    api.clock = &clock;
    api.origin = origin;
    api.assumed_rate_bps = kLabAssumedRateBps;
    api.socket_path = control_socket_for(state.state_path());
    api.tcp = api_tcp;
    control = std::make_unique<ControlHost>(api);
    state.description["api"] = control->endpoints_json();
    state.pid = ::getpid();
    state.start_time = process_start_time(state.pid);
    save_lab(state);
  } catch (const std::exception& error) {
    failure = error.what();
  }
  if (!failure.empty()) {
    control.reset();
    for (auto& lane : lanes) lane->stop();
    tear_down_lab(state);
    [[maybe_unused]] auto written = ::write(ready_fd, failure.data(), failure.size());
    ::_exit(1);
  }
  // Up: from now on the engine outlives `up`, and the state file names the engine.
  ::prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
  [[maybe_unused]] auto written = ::write(ready_fd, "ok", 2);
  ::close(ready_fd);

  const sigset_t signals = run_signals();
  const auto started = std::chrono::steady_clock::now();
  PreviousSamples previous;
  for (;;) {
    const double uptime =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    write_atomically(state.counters_path(),
                     live_counters(lanes, lab, uptime, previous).dump() + "\n");
    const timespec timeout{1, 0};
    const int signal = ::sigtimedwait(&signals, nullptr, &timeout);
    if (signal > 0 && signal != SIGCHLD) {
      std::cerr << fmt::format("longhaul lab {}: signal {}, stopping\n", state.name, signal);
      break;
    }
  }
  control.reset();  // no more changes, then the lanes stop
  for (auto& lane : lanes) lane->stop();
  tear_down_lab(state);
  ::_exit(0);
}

}  // namespace longhaul::lab

#include "lab/run_session.hh"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <random>
#include <thread>

#include "engine/clock.hh"
#include "engine/lane.hh"
#include "engine/socket_ports.hh"
#include "io/error.hh"
#include "io/ethtool.hh"
#include "io/netlink.hh"
#include "io/netns.hh"
#include "io/packet_socket.hh"
#include "io/process.hh"
#include "io/sysctl.hh"
#include "io/text_file.hh"
#include "lab/command_placeholders.hh"
#include "lab/control_host.hh"
#include "lab/direction_setup.hh"
#include "lab/fidelity_report.hh"
#include "lab/report.hh"
#include "lab/run_state.hh"
#include "lab/supervise.hh"
#include "measure/report/link_fidelity.hh"

namespace longhaul::lab {

namespace {

using namespace std::chrono_literals;

constexpr const char* kCommandLink = "eth0";
constexpr const char* kNearPort = "near";  // emulator side of the command's veth
constexpr const char* kFarPort = "far";    // emulator side of the host's veth

/// Rewrites the run's live fidelity file (measure/link_fidelity.hh) whole, so a reader never
/// sees half of it (and a run killed mid-write leaves a PATH.PID.tmp that `down --stale`
/// removes). Best effort: the run goes on without it.
void write_live_fidelity(const std::string& path, const engine::Lane& lane) {
  try {
    io::write_file_atomically(path, live_fidelity_file(lane).dump() + "\n");
  } catch (const std::exception&) {
    // A full /run must not stop the run.
  }
}

/// Removes the run's resources when it goes out of scope, however the scope ends.
class RunGuard {
 public:
  explicit RunGuard(RunState state) : state_(std::move(state)) {}
  RunGuard(const RunGuard&) = delete;
  RunGuard& operator=(const RunGuard&) = delete;
  ~RunGuard() { tear_down_run(state_); }
  const RunState& state() const { return state_; }

 private:
  RunState state_;
};

void build_links(const RunState& state, const io::Netns& command_ns, const io::Netns& emulator_ns,
                 bool segmentation_offloads, PortKind port) {
  // Host side: lh-rN in the root namespace, its peer "far" in the emulator's.
  io::Netlink root = io::Netlink::open();
  root.create_veth(state.host_link(), kFarPort, emulator_ns.fd());
  // Command side: eth0 in the command's namespace, its peer "near" in the emulator's.
  io::Netlink command = io::Netlink::open_in(command_ns.fd());
  command.create_veth(kCommandLink, kNearPort, emulator_ns.fd());

  // The emulator's ports carry frames only; with IPv6 off they send no router
  // solicitations or MLD reports of their own onto the link.
  io::run_in_netns(emulator_ns.fd(), [] {
    io::write_sysctl("net.ipv6.conf.all.disable_ipv6", "1");
    io::write_sysctl("net.ipv6.conf.default.disable_ipv6", "1");
  });
  io::Netlink emulator = io::Netlink::open_in(emulator_ns.fd());
  emulator.set_link_up(kNearPort);
  emulator.set_link_up(kFarPort);

  io::write_sysctl("net.ipv6.conf." + state.host_link() + ".accept_ra", "0");
  root.add_address(state.host_link(), state.host_ipv4() + "/24");
  root.add_address(state.host_link(), state.host_ipv6() + "/64");
  root.set_link_up(state.host_link());

  command.set_link_up("lo");
  io::run_in_netns(command_ns.fd(), [] { io::write_sysctl("net.ipv6.conf.eth0.accept_ra", "0"); });
  command.add_address(kCommandLink, state.command_ipv4() + "/24");
  command.add_address(kCommandLink, state.command_ipv6() + "/64");
  command.set_link_up(kCommandLink);

  if (!segmentation_offloads) {
    // Random per-packet decisions need wire-sized frames: make both senders
    // segment in their own stack rather than hand over 64 KiB super-frames.
    io::set_segmentation_offloads(state.host_link(), false);
    io::run_in_netns(command_ns.fd(), [] { io::set_segmentation_offloads(kCommandLink, false); });
  }
  if (port == PortKind::xdp) {
    // XDP hands the emulator finished wire frames only: a frame whose checksum the sender left
    // to offload would arrive with the pseudo-header sum in place of its checksum (a TCP SYN
    // then fails its checksum), so both senders fill in their checksums themselves. Switching
    // transmit checksumming off also switches off TSO, which depends on it.
    io::set_tx_checksum_offload(state.host_link(), false);
    io::run_in_netns(command_ns.fd(), [] { io::set_tx_checksum_offload(kCommandLink, false); });
  }
}

/// Peak resident memory of this process (the emulator), in bytes.
long max_rss_bytes() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss * 1024;
}

/// CPU time this process (the emulator's threads) used, user plus system, in seconds.
double cpu_seconds() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  const auto seconds = [](const timeval& tv) {
    return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

/// Waits until both directions hold no packets, at most as long as the last
/// packet in could take to come out (queue drain plus delay), plus a margin.
void drain(const engine::Lane& lane, const link::LinkSpec& link) {
  const auto longest = [](const core::DirectionConfig& config) {
    core::Nanos queue{0};
    if (config.rate_bps != 0) {
      const double queue_bytes = static_cast<double>(
          config.queue.max_bytes != 0 ? config.queue.max_bytes
                                      : config.queue.max_packets * link::kFullSizeWireBytes);
      queue = core::Nanos{
          static_cast<std::int64_t>(queue_bytes * 8e9 / static_cast<double>(config.rate_bps))};
      queue = std::max(queue, config.queue.max_delay);
    }
    return config.delay + queue;
  };
  const core::Nanos bound =
      std::min<core::Nanos>(std::max(longest(link.up), longest(link.down)) + 200ms, 30s);
  const auto deadline = std::chrono::steady_clock::now() + bound;
  const auto in_flight = [&lane] {
    std::uint64_t packets = 0;
    for (const auto direction : {engine::Direction::up, engine::Direction::down}) {
      packets += lane.counters(direction).packets_queued;
    }
    return packets;
  };
  // Polls a condition with a deadline; the engine threads do the work.
  while (in_flight() != 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(1ms);
  }
}

}  // namespace

void check_privileges(std::string_view needed_for) {
  if (::geteuid() != 0) {
    throw EnvironmentError(fmt::format("longhaul needs root {}; run it with sudo", needed_for));
  }
}

int run_session(const RunRequest& request) {
  check_privileges();
  // Block the run's signals before any thread exists, so every thread inherits
  // the mask and only supervise() takes them; a Ctrl-C during setup waits
  // until the guard can clean up.
  const BlockRunSignals block_signals;

  sweep_stale_runs();
  RunGuard guard(claim_run(::getpid()));
  const RunState& state = guard.state();

  std::unique_ptr<engine::Lane> lane;
  engine::MonotonicClock clock;
  std::unique_ptr<ControlHost> control;  // reads the lane: goes before it
  pid_t child = -1;
  int status = 0;
  int signal_received = 0;
  const auto started = std::chrono::steady_clock::now();
  {
    io::Netns command_ns = io::Netns::create(state.command_netns());
    io::Netns emulator_ns = io::Netns::create(state.emulator_netns());
    const bool offloads =
        !request.link.up.needs_wire_packets() && !request.link.down.needs_wire_packets();
    build_links(state, command_ns, emulator_ns, offloads, request.port);
    // Outages, schedules and traces count from the moment the link comes up.
    core::DirectionConfig up = request.link.up;
    core::DirectionConfig down = request.link.down;
    const core::Nanos origin = clock.now();
    up.loss_model.schedule_origin = down.loss_model.schedule_origin = origin;
    lane = make_lane(up, down, {kNearPort, kFarPort, request.port, emulator_ns.fd()},
                     request.assumed_rate_bps, request.spin, clock);
    lane->start(request.placement);
    ControlHostRequest api;
    api.kind = "run";
    api.name = state.id();
    api.seed = request.link.seed;
    api.lane_names = {std::string(kRunLaneName)};
    api.lanes = {lane.get()};
    api.clock = &clock;
    api.origin = origin;
    api.assumed_rate_bps = request.assumed_rate_bps;
    api.socket_path = state.control_socket();
    api.tcp = request.api_tcp;
    control = std::make_unique<ControlHost>(api);

    if (!request.quiet) {
      std::cerr << fmt::format(
          "longhaul: link {} up (seed {})\n  up   (command -> remote): {}\n  down (remote -> "
          "command): {}\n  remote {} / {} ({{remote}} / {{remote6}} in the command, "
          "$LONGHAUL_REMOTE / "
          "$LONGHAUL_REMOTE6 in its environment)\n  control API: {} (lane \"{}\"){}\n",
          state.id(), request.link.seed, link::describe(request.link.up),
          link::describe(request.link.down), state.host_ipv4(), state.host_ipv6(),
          control->socket_path(), kRunLaneName, tcp_endpoints_text(*control));
    }

    io::SpawnRequest spawn;
    spawn.argv = expand_placeholders(request.command, {.remote = state.host_ipv4(),
                                                       .remote6 = state.host_ipv6(),
                                                       .local = state.command_ipv4(),
                                                       .local6 = state.command_ipv6()});
    if (spawn.argv.empty()) {
      const char* shell = std::getenv("SHELL");
      spawn.argv.emplace_back(shell != nullptr && *shell != '\0' ? shell : "/bin/sh");
    }
    spawn.extra_env = {"LONGHAUL_REMOTE=" + state.host_ipv4(),
                       "LONGHAUL_REMOTE6=" + state.host_ipv6(),
                       "LONGHAUL_LOCAL=" + state.command_ipv4(),
                       "LONGHAUL_LOCAL6=" + state.command_ipv6(),
                       "LONGHAUL_LINK=" + state.id(),
                       "LONGHAUL_API=" + control->socket_path(),
                       std::string(measure::kFidelityFileEnv) + "=" + run_fidelity_path(state)};
    spawn.netns_fd = command_ns.fd();
    spawn.drop_to = io::sudo_invoker();
    write_live_fidelity(run_fidelity_path(state), *lane);
    child = io::spawn(spawn);
    status = supervise(child, signal_received,
                       [&] { write_live_fidelity(run_fidelity_path(state), *lane); });
    // Daemons the command left behind would keep its namespace alive.
    io::kill_processes_in_netns(
        io::netns_inode(std::string(io::kNetnsRunDir) + "/" + state.command_netns()));
    // The command's last packets are still on the wire: deliver them (a server
    // on the host waiting for a final message would otherwise hang). Not when
    // the user asked to stop.
    if (signal_received == 0) drain(*lane, request.link);
  }
  control.reset();
  lane->stop();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  const LaneFidelity fidelity = lane_fidelity(*lane);
  if (!request.quiet) {
    std::cerr << fmt::format("longhaul: link {} down after {:.1f} s; command exit status {}\n",
                             state.id(), seconds, status)
              << fidelity_summary_lines(fidelity, "")
              << counters_table(*lane, request.detailed_stats);
  }
  if (request.json_path) {
    nlohmann::json json = {
        {"schema", kRunSchema},
        {"seed", request.link.seed},
        {"port", port_name(request.port)},
        {"command", request.command},
        {"exit_status", status},
        {"duration_s", seconds},
        {"max_rss_bytes", max_rss_bytes()},
        {"cpu_seconds", cpu_seconds()},
        {"link",
         {{"up", direction_config_json(request.link.up)},
          {"down", direction_config_json(request.link.down)}}},
        {"directions",
         {{"up", direction_stats_json(lane->counters(engine::Direction::up),
                                      lane->worker(engine::Direction::up).stats())},
          {"down", direction_stats_json(lane->counters(engine::Direction::down),
                                        lane->worker(engine::Direction::down).stats())}}}};
    // The threads have stopped, so the stages' own counters can be read.
    for (const auto direction : {engine::Direction::up, engine::Direction::down}) {
      json["directions"][engine::direction_name(direction)]["models"] =
          direction_model_json(lane->worker(direction).stats());
    }
    json["directions"]["up"]["fidelity"] = direction_fidelity_json(fidelity.up);
    json["directions"]["down"]["fidelity"] = direction_fidelity_json(fidelity.down);
    json["fidelity"] =
        measure::overall_fidelity_json({{"up", json["directions"]["up"]["fidelity"]},
                                        {"down", json["directions"]["down"]["fidelity"]}});
    write_json_report(json, *request.json_path);
  }
  if (signal_received != 0 && signal_received != SIGINT) return 128 + signal_received;
  // --strict speaks only when the command succeeded: its own failure says more.
  if (request.strict && status == 0 && fidelity.degraded()) return kExitFidelityDegraded;
  return status;
}

}  // namespace longhaul::lab

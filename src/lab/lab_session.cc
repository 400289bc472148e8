#include "lab/lab_session.hh"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>
#include <array>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include "control/api_client.hh"
#include "core/topology.hh"
#include "engine/clock.hh"
#include "engine/lane.hh"
#include "engine/socket_ports.hh"
#include "io/error.hh"
#include "io/ethtool.hh"
#include "io/fd.hh"
#include "io/netlink.hh"
#include "io/netns.hh"
#include "io/packet_socket.hh"
#include "io/process.hh"
#include "io/sysctl.hh"
#include "io/text_file.hh"
#include "lab/control_host.hh"
#include "lab/direction_setup.hh"
#include "lab/fidelity_report.hh"
#include "lab/report.hh"
#include "lab/run_session.hh"
#include "lab/run_state.hh"
#include "lab/supervise.hh"

namespace longhaul::lab {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

std::string switch_bridge(std::size_t index) {
  return fmt::format("sw{}", index);
}
/// The engine's port at lane `lane`'s end `end` ('a' or 'b').
std::string engine_port(std::size_t lane, char end) {
  return fmt::format("l{}{}", lane, end);
}
/// The bridge port facing the engine's port, when the end is a switch.
std::string switch_port(std::size_t lane, char end) {
  return fmt::format("l{}{}s", lane, end);
}

/// Removes the lab on scope exit unless dismissed (the engine process then owns it).
class LabGuard {
 public:
  explicit LabGuard(LabState state) : state_(std::move(state)) {}
  LabGuard(const LabGuard&) = delete;
  LabGuard& operator=(const LabGuard&) = delete;
  ~LabGuard() {
    if (armed_) tear_down_lab(state_);
  }
  LabState& state() { return state_; }
  void dismiss() { armed_ = false; }

 private:
  LabState state_;
  bool armed_ = true;
};

nlohmann::json describe_lab(const core::LabPlan& plan, const LabDefinition& lab) {
  nlohmann::json sites = nlohmann::json::array();
  for (const auto& site : plan.sites) {
    nlohmann::json interfaces = nlohmann::json::array();
    for (const auto& interface : site.interfaces) {
      interfaces.push_back({{"ifname", interface.ifname},
                            {"ipv4", core::format_ipv4(interface.ipv4)},
                            {"ipv6", core::format_ipv6(interface.ipv6)},
                            {"lane", plan.lanes[interface.lane].name},
                            {"subnet", plan.segments[interface.segment].name}});
    }
    sites.push_back({{"name", site.name},
                     {"netns", site_netns(plan.name, site.name)},
                     {"forwards", site.forwards},
                     {"interfaces", interfaces}});
  }
  nlohmann::json subnets = nlohmann::json::array();
  for (const auto& segment : plan.segments) {
    subnets.push_back({{"name", segment.name},
                       {"ipv4", core::format_ipv4(segment.ipv4.network) + "/" +
                                    std::to_string(segment.ipv4.length)},
                       {"ipv6", core::format_ipv6(segment.ipv6.network) + "/" +
                                    std::to_string(segment.ipv6.length)}});
  }
  nlohmann::json lanes = nlohmann::json::array();
  for (std::size_t l = 0; l < plan.lanes.size(); ++l) {
    const auto& lane = lab.topology.lanes[l];
    // The far side of each engine port's veth: `longhaul capture` reads what the engine sent
    // there, because frames sent with PACKET_QDISC_BYPASS are invisible to taps on the port.
    const auto peer = [&](const core::LaneEnd& end, char which) -> nlohmann::json {
      if (end.is_site) {
        const auto& site = plan.sites[end.index];
        return {{"netns", site_netns(plan.name, site.name)},
                {"ifname", site.interfaces[end.interface].ifname}};
      }
      return {{"netns", emulator_netns(plan.name)}, {"ifname", switch_port(l, which)}};
    };
    const nlohmann::json peers = {{"a", peer(plan.lanes[l].a, 'a')},
                                  {"b", peer(plan.lanes[l].b, 'b')}};
    lanes.push_back({{"name", lane.name},
                     {"a", lane.a},
                     {"b", lane.b},
                     {"ports", {{"a", engine_port(l, 'a')}, {"b", engine_port(l, 'b')}}},
                     {"peers", peers},
                     {"up", link::describe(lab.lanes[l].up)},
                     {"down", link::describe(lab.lanes[l].down)},
                     {"seed", lab.lanes[l].seed},
                     {"config",
                      {{"up", direction_config_json(lab.lanes[l].up)},
                       {"down", direction_config_json(lab.lanes[l].down)}}}});
  }
  return {{"sites", sites},     {"switches", plan.switches},
          {"subnets", subnets}, {"lanes", lanes},
          {"seed", lab.seed},   {"emulator_netns", emulator_netns(plan.name)}};
}

void write_hosts_file(const std::string& netns, const core::SitePlan& site,
                      const std::string& lab_name) {
  const std::string dir = etc_netns_dir(netns);
  fs::create_directories(dir);
  std::string text =
      "# written by longhaul for lab " + lab_name + "\n127.0.0.1 localhost\n::1 localhost\n";
  for (const auto& host : site.hosts) {
    text +=
        fmt::format("{} {} {}.{}\n", core::format_ipv4(host.ipv4), host.name, host.name, lab_name);
    text +=
        fmt::format("{} {} {}.{}\n", core::format_ipv6(host.ipv6), host.name, host.name, lab_name);
  }
  std::ofstream out(dir + "/hosts");
  out << text;
  if (!out) io::throw_errno("write", dir + "/hosts");
}

/// Everything but the engine: namespaces, links, switches, addresses, routes, settings.
void build_lab(const core::LabPlan& plan, const LabDefinition& lab, PortKind port) {
  io::Netns emulator = io::Netns::create(emulator_netns(plan.name));
  emulator.release();  // the state file and tear_down_lab own it from here
  io::run_in_netns(emulator.fd(), [] {
    // The emulator's ports carry frames only: no addresses, no router solicitations, no MLD.
    io::write_sysctl("net.ipv6.conf.all.disable_ipv6", "1");
    io::write_sysctl("net.ipv6.conf.default.disable_ipv6", "1");
  });
  io::Netlink emu = io::Netlink::open_in(emulator.fd());
  for (std::size_t s = 0; s < plan.switches.size(); ++s) {
    emu.create_bridge(switch_bridge(s));
    emu.set_link_up(switch_bridge(s));
  }

  std::vector<io::Netns> sites;
  for (const auto& site : plan.sites) {
    io::Netns netns = io::Netns::create(site_netns(plan.name, site.name));
    netns.release();
    io::run_in_netns(netns.fd(), [&site] {
      // Replies may come back on another interface than requests left (routed layouts):
      // strict reverse-path filtering would drop them.
      io::write_sysctl("net.ipv4.conf.all.rp_filter", "0");
      io::write_sysctl("net.ipv4.conf.default.rp_filter", "0");
      io::write_sysctl("net.ipv6.conf.default.accept_ra", "0");
      io::write_sysctl("net.ipv6.conf.all.accept_ra", "0");
      // The lab chose every address itself: no duplicate address detection, so the link-local
      // addresses interfaces get are usable at once. A forwarding site solicits neighbours from
      // its link-local address and, while that is still tentative (1-2 s), cannot: IPv6
      // through it would stall right after `up` returns.
      io::write_sysctl("net.ipv6.conf.default.accept_dad", "0");
      io::write_sysctl("net.ipv6.conf.all.accept_dad", "0");
      if (site.forwards) {
        io::write_sysctl("net.ipv4.ip_forward", "1");
        io::write_sysctl("net.ipv6.conf.all.forwarding", "1");
        // Multi-homed: answer ARP only for the address of the interface asked on.
        io::write_sysctl("net.ipv4.conf.all.arp_ignore", "1");
        io::write_sysctl("net.ipv4.conf.all.arp_announce", "2");
      }
    });
    io::Netlink::open_in(netns.fd()).set_link_up("lo");
    sites.push_back(std::move(netns));
  }

  // Lanes: each end is a veth whose engine side stays in the emulator's namespace.
  for (std::size_t l = 0; l < plan.lanes.size(); ++l) {
    const auto& lane = plan.lanes[l];
    for (const auto& [end, which] : {std::pair{&lane.a, 'a'}, std::pair{&lane.b, 'b'}}) {
      const std::string engine_end = engine_port(l, which);
      if (end->is_site) {
        const auto& site = plan.sites[end->index];
        emu.create_veth(engine_end, site.interfaces[end->interface].ifname, sites[end->index].fd());
      } else {
        emu.create_veth(engine_end, switch_port(l, which));
        emu.set_master(switch_port(l, which), switch_bridge(end->index));
        emu.set_link_up(switch_port(l, which));
      }
      emu.set_link_up(engine_end);
    }
    // Random per-packet decisions need wire-sized frames: the sender into each engine port
    // segments in its own stack instead of handing over 64 KiB super-frames. AF_XDP ports take
    // finished frames only: the sender fills in its checksums (which also ends its TSO), since
    // XDP loses the "checksum still to be filled in" state.
    const auto& link = lab.lanes[l];
    for (const auto& [end, needs] : {std::pair{&lane.a, link.up.needs_wire_packets()},
                                     std::pair{&lane.b, link.down.needs_wire_packets()}}) {
      const auto adjust = [&, needs = needs](const std::string& ifname) {
        if (needs) io::set_segmentation_offloads(ifname, false);
        if (port == PortKind::xdp) io::set_tx_checksum_offload(ifname, false);
      };
      if (end->is_site) {
        const std::string ifname = plan.sites[end->index].interfaces[end->interface].ifname;
        io::run_in_netns(sites[end->index].fd(), [&] { adjust(ifname); });
      } else {
        const std::string ifname = switch_port(l, end == &lane.a ? 'a' : 'b');
        io::run_in_netns(emulator.fd(), [&] { adjust(ifname); });
      }
    }
  }

  // Addresses, routes and names, site by site.
  for (std::size_t i = 0; i < plan.sites.size(); ++i) {
    const auto& site = plan.sites[i];
    io::Netlink netlink = io::Netlink::open_in(sites[i].fd());
    for (const auto& interface : site.interfaces) {
      io::run_in_netns(sites[i].fd(), [&] {
        io::write_sysctl("net.ipv6.conf." + interface.ifname + ".accept_ra", "0");
        io::write_sysctl("net.ipv4.conf." + interface.ifname + ".rp_filter", "0");
      });
      const auto& segment = plan.segments[interface.segment];
      netlink.add_address(interface.ifname, core::format_ipv4(interface.ipv4) + "/" +
                                                std::to_string(segment.ipv4.length));
      netlink.add_address(interface.ifname, core::format_ipv6(interface.ipv6) + "/" +
                                                std::to_string(segment.ipv6.length));
      netlink.set_link_up(interface.ifname);
    }
    for (const auto& route : site.routes) {
      const auto& segment = plan.segments[route.segment];
      const std::string& out = site.interfaces[route.out_interface].ifname;
      netlink.add_route(
          core::format_ipv4(segment.ipv4.network) + "/" + std::to_string(segment.ipv4.length),
          core::format_ipv4(route.gateway_ipv4), out);
      netlink.add_route(
          core::format_ipv6(segment.ipv6.network) + "/" + std::to_string(segment.ipv6.length),
          core::format_ipv6(route.gateway_ipv6), out);
    }
    write_hosts_file(sites[i].name(), site, plan.name);
  }
}

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

/// The engine process: runs every lane until told to stop, then removes the lab. Never returns.
[[noreturn]] void run_engine(LabState state, const LabDefinition& lab, core::Nanos spin,
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

}  // namespace

LabState lab_up(const UpRequest& request) {
  check_privileges();
  const LabDefinition& lab = request.lab;
  const std::string& name = lab.topology.name;
  // Signals wait until the guard can clean up, here and in the engine process.
  const BlockRunSignals block_signals;
  sweep_stale_labs();

  std::vector<std::string> namespaces;
  for (const auto& site : lab.topology.sites) namespaces.push_back(site_netns(name, site.name));
  namespaces.push_back(emulator_netns(name));
  LabGuard guard(claim_lab(name, ::getpid(), lab.path, namespaces));
  const auto plan = core::plan_lab(lab.topology, guard.state().slot);
  if (!plan) throw TopologyError(lab.path + ": " + plan.error.message);
  guard.state().description = describe_lab(*plan, lab);
  guard.state().description["port"] = port_name(request.port);
  save_lab(guard.state());
  build_lab(*plan, lab, request.port);

  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) io::throw_errno("pipe2", "lab engine status pipe");
  io::Fd read_end(pipe_fds[0]);
  io::Fd write_end(pipe_fds[1]);
  std::cout.flush();
  std::cerr.flush();
  const pid_t up_pid = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) io::throw_errno("fork", "lab engine");
  if (pid == 0) {
    read_end.reset();
    run_engine(guard.state(), lab, request.spin, request.placement, request.port, request.api_tcp,
               write_end.release(), up_pid);
  }
  write_end.reset();
  std::string reply;
  char buffer[512];
  for (;;) {
    const ssize_t got = ::read(read_end.get(), buffer, sizeof buffer);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    reply.append(buffer, static_cast<std::size_t>(got));
  }
  if (reply != "ok") {
    // The engine cleaned up after itself if it could say why; reap it either way.
    int status = 0;
    ::waitpid(pid, &status, 0);
    throw std::runtime_error(
        fmt::format("the lab's engine process failed to start: {}",
                    reply.empty() ? "it died without a word (see dmesg)" : reply));
  }
  guard.dismiss();
  return *find_lab(name);
}

LabState choose_lab(const std::string& name, std::string_view how_to_name) {
  if (!name.empty()) {
    if (auto state = find_lab(name)) return *state;
    std::string up;
    for (const auto& lab : list_labs()) up += (up.empty() ? "" : ", ") + lab.name;
    throw std::runtime_error(fmt::format("no lab named '{}' is up{}", name,
                                         up.empty() ? " (no lab is up)" : " (up: " + up + ")"));
  }
  const auto labs = list_labs();
  if (labs.empty()) {
    throw std::runtime_error("no lab is up: start one with `longhaul up examples/four-sites.toml`");
  }
  if (labs.size() > 1) {
    std::string up;
    for (const auto& lab : labs) up += (up.empty() ? "" : ", ") + lab.name;
    throw std::runtime_error(
        fmt::format("several labs are up ({}): name one with {}", up, how_to_name));
  }
  return labs.front();
}

void lab_down(const LabState& state) {
  if (lab_is_alive(state)) {
    ::kill(state.pid, SIGTERM);
    // The engine removes the lab itself; wait for it (bounded), then make sure.
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (lab_is_alive(state) && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(5ms);  // polling another process's exit, bounded above
    }
    if (lab_is_alive(state)) ::kill(state.pid, SIGKILL);
  }
  tear_down_lab(state);
}

int lab_exec(const ExecRequest& request) {
  check_privileges(
      "to enter a lab site's network namespace (CAP_SYS_ADMIN). The command itself runs as you");
  const LabState state = choose_lab(request.lab);
  const nlohmann::json& site = find_site(state, request.site);
  const std::string netns_name = site.at("netns").get<std::string>();
  const BlockRunSignals block_signals;
  const io::Netns netns = io::Netns::open(netns_name);

  io::SpawnRequest spawn;
  spawn.argv = request.command;
  if (spawn.argv.empty()) {
    const char* shell = std::getenv("SHELL");
    spawn.argv.emplace_back(shell != nullptr && *shell != '\0' ? shell : "/bin/sh");
  }
  spawn.netns_fd = netns.fd();
  const std::string hosts = etc_netns_dir(netns_name) + "/hosts";
  if (fs::exists(hosts)) spawn.etc_binds.emplace_back(hosts, "/etc/hosts");
  const auto& first = site.at("interfaces").at(0);
  spawn.extra_env = {"LONGHAUL_LAB=" + state.name, "LONGHAUL_SITE=" + request.site,
                     "LONGHAUL_LOCAL=" + first.at("ipv4").get<std::string>(),
                     "LONGHAUL_LOCAL6=" + first.at("ipv6").get<std::string>()};
  spawn.drop_to = io::sudo_invoker();
  const pid_t child = io::spawn(spawn);
  int signal_received = 0;
  const int status = supervise(child, signal_received);
  if (signal_received != 0 && signal_received != SIGINT) return 128 + signal_received;
  return status;
}

namespace {

/// The lanes as the engine answers now (GET /v1/lanes: counters of this instant and the
/// configuration in force, live changes included), or null when it does not answer.
nlohmann::json live_lanes(const LabState& state) {
  try {
    control::ApiClient client(control_socket_for(state.state_path()), std::chrono::seconds(2));
    const control::ApiAnswer answer = client.request("GET", "/v1/lanes");
    if (!answer.ok()) return nullptr;
    auto parsed = nlohmann::json::parse(answer.body, nullptr, /*allow_exceptions=*/false);
    if (parsed.is_object() && parsed.contains("lanes") && parsed["lanes"].is_array()) {
      return std::move(parsed["lanes"]);
    }
  } catch (const std::exception&) {
    // An engine that does not answer (stopping, another version) leaves the counters file.
  }
  return nullptr;
}

}  // namespace

nlohmann::json lab_status_json(const LabState& state) {
  const bool alive = lab_is_alive(state);
  nlohmann::json json = {{"schema", kLabSchema}, {"name", state.name}, {"file", state.file},
                         {"pid", state.pid},     {"alive", alive},     {"lab", state.description}};
  // Asked of the engine itself when it runs: what `GET /v1/lanes` answers, by lane name.
  if (alive) {
    if (const nlohmann::json lanes = live_lanes(state); lanes.is_array()) {
      json["live"] = nlohmann::json::object();
      for (const auto& lane : lanes) {
        if (lane.is_object() && lane.contains("name") && lane["name"].is_string()) {
          json["live"][lane["name"].get<std::string>()] = lane;
        }
      }
    }
  }
  // Rewritten atomically every second, but read defensively all the same: a counters file
  // that is not an object (another version's, cut short) shows as no counters.
  const io::InputFile counters =
      io::read_input_file(state.counters_path(), "counters", io::kStateFileLimit);
  if (counters) {
    auto parsed = nlohmann::json::parse(counters.text, nullptr, /*allow_exceptions=*/false);
    if (parsed.is_object() && parsed.contains("lanes") && parsed["lanes"].is_object()) {
      json["counters"] = std::move(parsed);
    }
  }
  return json;
}

namespace {

/// A lane's fidelity lines for `status`: the verdicts since the start and over the last
/// interval, and what went wrong in a degraded direction.
std::string fidelity_status_text(const nlohmann::json& lane) {
  const auto verdict = [&](const char* direction, const char* span) -> std::string {
    if (!lane[direction].contains("fidelity")) return "-";
    return lane[direction]["fidelity"][span].value("verdict", "-") == "degraded" ? "DEGRADED"
                                                                                 : "ok";
  };
  std::string text = fmt::format(
      "{:<15}   fidelity: up {}, down {} since start; up {}, down {} over the last second\n", "",
      verdict("up", "since_start"), verdict("down", "since_start"), verdict("up", "last_interval"),
      verdict("down", "last_interval"));
  for (const char* direction : {"up", "down"}) {
    for (const char* span : {"since_start", "last_interval"}) {
      if (verdict(direction, span) != "DEGRADED") continue;
      text += fmt::format("{:<15}     {} ({}): {}\n", "", direction,
                          std::string_view(span) == "since_start" ? "since start" : "last second",
                          lane[direction]["fidelity"][span].value("explanation", ""));
    }
  }
  return text;
}

/// "now (changed live): up 150 ms, 1 Gbit/s, loss 0%; down ..." for a lane whose rate, delay
/// or loss was changed through the API since `up`; "" for one that was not.
std::string live_change_text(const nlohmann::json& lane) {
  if (lane.at("up").value("live_changes_applied", 0) == 0 &&
      lane.at("down").value("live_changes_applied", 0) == 0) {
    return {};
  }
  const auto direction = [&](const char* name) {
    const auto& config = lane.at(name).at("config");
    return fmt::format("{} {}, {}, loss {:g}%", name, config.value("delay", "-"),
                       config.value("rate", "-"), config.value("loss", 0.0) * 100.0);
  };
  return fmt::format("{:<15}   now (changed live): {}; {}\n", "", direction("up"),
                     direction("down"));
}

/// The sites and lanes tables of a lab's status (throws nlohmann::json::exception when the
/// recorded description lacks what they show).
std::string lab_tables(const LabState& state, const nlohmann::json& json) {
  const auto& lab = state.description;
  std::string text =
      "\n\nsite            interface  address          address (IPv6)          lane\n";
  for (const auto& site : lab.at("sites")) {
    bool first = true;
    for (const auto& interface : site.at("interfaces")) {
      text += fmt::format(
          "{:<15} {:<10} {:<16} {:<23} {}\n", first ? site.at("name").get<std::string>() : "",
          interface.at("ifname").get<std::string>(), interface.at("ipv4").get<std::string>(),
          interface.at("ipv6").get<std::string>(), interface.at("lane").get<std::string>());
      first = false;
    }
  }
  text += "\nlane            a -> b (up)                  packets up/down        dropped up/down\n";
  for (const auto& lane : lab.at("lanes")) {
    const std::string name = lane.at("name").get<std::string>();
    std::string packets = "-";
    std::string dropped = "-";
    // The engine's answer of this instant, else the counters file it rewrites every second;
    // both give per direction packets_out and dropped {cause: {packets}}.
    const nlohmann::json* live =
        json.contains("live") && json["live"].contains(name) ? &json["live"][name] : nullptr;
    const nlohmann::json* counters =
        json.contains("counters") && json.at("counters").at("lanes").contains(name)
            ? &json.at("counters").at("lanes").at(name)
            : nullptr;
    if (live != nullptr || counters != nullptr) {
      const auto direction_counters = [&](const char* direction) -> const nlohmann::json& {
        return live != nullptr ? live->at(direction).at("counters") : counters->at(direction);
      };
      const auto count = [&](const char* direction, const char* field) {
        return direction_counters(direction).value(field, std::uint64_t{0});
      };
      const auto drops = [&](const char* direction) {
        std::uint64_t total = 0;
        for (const auto& [cause, value] : direction_counters(direction).at("dropped").items()) {
          total += value.value("packets", std::uint64_t{0});
        }
        return total;
      };
      packets = fmt::format("{}/{}", count("up", "packets_out"), count("down", "packets_out"));
      dropped = fmt::format("{}/{}", drops("up"), drops("down"));
    }
    text += fmt::format("{:<15} {:<28} {:<22} {}\n", name,
                        lane.at("a").get<std::string>() + " -> " + lane.at("b").get<std::string>(),
                        packets, dropped);
    text += fmt::format("{:<15}   up:   {}\n{:<15}   down: {}\n", "",
                        lane.at("up").get<std::string>(), "", lane.at("down").get<std::string>());
    if (live != nullptr) text += live_change_text(*live);
    if (json.contains("counters") && json["counters"]["lanes"].contains(name)) {
      text += fidelity_status_text(json["counters"]["lanes"][name]);
    }
  }
  return text;
}

}  // namespace

std::string lab_status_text(const LabState& state) {
  const nlohmann::json json = lab_status_json(state);
  const auto& lab = state.description;
  const bool alive = lab_is_alive(state);
  std::string text = fmt::format(
      "lab {} from {}: {}", state.name, state.file,
      alive ? fmt::format("up (engine pid {})", state.pid) : "ENGINE GONE (run `longhaul down`)");
  if (json.contains("counters") && json["counters"].contains("uptime_s") &&
      json["counters"]["uptime_s"].is_number()) {
    text += fmt::format(", up {:.0f} s", json["counters"]["uptime_s"].get<double>());
  }
  if (!lab.contains("sites") || !lab.contains("lanes")) {
    // The state file is written before anything is created; the description follows.
    return text + (alive ? ", still being set up\n"
                         : "; it was killed while being set up: `longhaul down --stale` removes "
                           "what it left\n");
  }
  if (lab.contains("port") && lab["port"] == port_name(PortKind::xdp)) text += ", AF_XDP ports";
  try {
    text += lab_tables(state, json);
    if (lab.contains("api") && lab["api"].is_object()) {
      const auto& api = lab["api"];
      text += fmt::format("control API: {}\n", api.value("socket", "-"));
      for (const auto& tcp : api.value("tcp", nlohmann::json::array())) {
        text += fmt::format("{}: {}{}\n", tcp.value("dashboard", false) ? "dashboard" : "API",
                            tcp.value("url", "-"),
                            tcp.value("token", false) ? " (token required)" : "");
      }
    }
    return text;
  } catch (const nlohmann::json::exception&) {
    return text + "; its recorded description is unreadable (another version's state file?)\n";
  }
}

}  // namespace longhaul::lab

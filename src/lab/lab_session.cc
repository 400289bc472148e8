#include "lab/lab_session.hh"

#include <fcntl.h>
#include <sys/wait.h>

#include <fmt/format.h>
#include <fstream>
#include <iostream>

#include "io/error.hh"
#include "io/ethtool.hh"
#include "io/netlink.hh"
#include "io/netns.hh"
#include "io/process.hh"
#include "io/sysctl.hh"
#include "lab/lab_engine.hh"
#include "lab/report.hh"
#include "lab/run_session.hh"
#include "lab/supervise.hh"

namespace longhaul::lab {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

std::string switch_bridge(std::size_t index) {
  return fmt::format("sw{}", index);
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
    run_lab_engine(guard.state(), lab, request.spin, request.placement, request.port,
                   request.api_tcp, write_end.release(), up_pid);
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

}  // namespace longhaul::lab

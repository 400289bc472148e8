#include "lab/bridge_session.hh"

#include <net/if.h>
#include <signal.h>

#include <fmt/format.h>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <memory>
#include <set>

#include "core/random.hh"
#include "engine/clock.hh"
#include "engine/lane.hh"
#include "engine/socket_ports.hh"
#include "io/error.hh"
#include "io/ethtool.hh"
#include "io/netlink.hh"
#include "io/netns.hh"
#include "io/packet_socket.hh"
#include "io/xsk_socket.hh"
#include "lab/control_host.hh"
#include "lab/direction_setup.hh"
#include "lab/engine_directory.hh"
#include "lab/fidelity_report.hh"
#include "lab/report.hh"
#include "lab/run_session.hh"
#include "lab/supervise.hh"
#include "lab/topology_file.hh"
#include "measure/report/link_fidelity.hh"

namespace longhaul::lab {

namespace {

/// Where the interfaces live: runs work there (longhaul's own namespace, or --netns NAME).
class Place {
 public:
  explicit Place(const std::string& netns) {
    if (netns.empty()) return;
    if (!io::netns_exists(netns)) {
      throw EnvironmentError(
          fmt::format("--netns {}: no such network namespace (see `ip netns list`)", netns));
    }
    netns_ = io::Netns::open(netns);
  }
  template <class F>
  auto run(F&& fn) const {
    if (netns_.fd() < 0) return fn();
    return io::run_in_netns(netns_.fd(), std::forward<F>(fn));
  }
  /// The namespace's descriptor; -1 for longhaul's own.
  int netns_fd() const { return netns_.fd(); }
  std::string describe() const {
    return netns_.fd() < 0 ? "" : fmt::format(" in namespace {}", netns_.name());
  }

 private:
  io::Netns netns_;  // not owned: destruction leaves it in place
};

/// Restores an interface's receive coalescing (GRO/LRO) on destruction.
class CoalescingRestore {
 public:
  CoalescingRestore(const Place& place, std::string ifname, io::ReceiveCoalescing previous)
      : place_(place), ifname_(std::move(ifname)), previous_(previous) {}
  CoalescingRestore(const CoalescingRestore&) = delete;
  CoalescingRestore& operator=(const CoalescingRestore&) = delete;
  ~CoalescingRestore() {
    try {
      place_.run([&] { io::set_receive_coalescing(ifname_, previous_); });
    } catch (const std::exception& error) {
      // The interface may have gone (a NIC unplugged, a veth deleted): say so, carry on.
      std::cerr << fmt::format("longhaul: could not restore GRO/LRO on {}: {}\n", ifname_,
                               error.what());
    }
  }

 private:
  const Place& place_;
  std::string ifname_;
  io::ReceiveCoalescing previous_;
};

/// Checks one interface and returns its MTU; the errors say what to do.
unsigned check_interface(const Place& place, const std::string& ifname) {
  return place.run([&] {
    if (ifname.empty() || ifname.size() >= IFNAMSIZ || ::if_nametoindex(ifname.c_str()) == 0) {
      std::string names;
      for (const auto& name : io::Netlink::open().list_links()) {
        if (name != "lo") names += (names.empty() ? "" : ", ") + name;
      }
      throw EnvironmentError(fmt::format("no interface '{}'{} (interfaces: {})", ifname,
                                         place.describe(), names.empty() ? "none" : names));
    }
    if (!io::link_is_up(ifname)) {
      throw EnvironmentError(
          fmt::format("interface {}{} is down: bring it up first (ip link set {} up)", ifname,
                      place.describe(), ifname));
    }
    return io::link_mtu(ifname);
  });
}

/// Waits for a signal that ends the bridge; returns it.
int wait_for_stop() {
  const sigset_t signals = run_signals();
  for (;;) {
    const int signal = ::sigwaitinfo(&signals, nullptr);
    if (signal > 0 && signal != SIGCHLD) return signal;
  }
}

}  // namespace

core::Parsed<BridgeLane> parse_bridge_lane(std::string_view text) {
  const auto expected = [&] {
    return fmt::format("--lane '{}': expected a=INTERFACE,b=INTERFACE (e.g. a=eth1,b=eth2)", text);
  };
  BridgeLane lane;
  std::string_view rest = text;
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    const std::string_view item = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    const auto equals = item.find('=');
    if (equals == std::string_view::npos) return core::parse_failure<BridgeLane>(expected());
    const std::string_view key = item.substr(0, equals);
    const std::string value(item.substr(equals + 1));
    std::string* target = key == "a" ? &lane.a : key == "b" ? &lane.b : nullptr;
    if (target == nullptr) {
      return core::parse_failure<BridgeLane>(expected() + fmt::format("; unknown key '{}'", key));
    }
    if (!target->empty()) {
      return core::parse_failure<BridgeLane>(expected() + fmt::format("; '{}' given twice", key));
    }
    if (value.empty() || value.size() >= IFNAMSIZ ||
        value.find_first_of("/ \t") != std::string::npos) {
      return core::parse_failure<BridgeLane>(fmt::format(
          "--lane '{}': '{}' is not an interface name (1 to {} characters, no '/' or spaces)", text,
          value, IFNAMSIZ - 1));
    }
    *target = value;
  }
  if (lane.a.empty() || lane.b.empty()) return core::parse_failure<BridgeLane>(expected());
  return core::Parsed<BridgeLane>{lane, {}};
}

std::string check_bridge_lanes(const std::vector<BridgeLane>& lanes) {
  if (lanes.empty()) return "give at least one --lane a=IF1,b=IF2";
  std::set<std::string> used;
  for (const auto& lane : lanes) {
    for (const auto* name : {&lane.a, &lane.b}) {
      if (!used.insert(*name).second) {
        return fmt::format(
            "interface {} is used twice; each interface belongs to one lane end (a frame "
            "received there could only go one way)",
            *name);
      }
    }
  }
  return {};
}

link::LinkSpec lane_link(const link::LinkSpec& link, std::size_t index) {
  link::LinkSpec lane = link;
  // resolve_link gives up/down streams 1 and 2 of the seed: lane k takes 2k+1 and 2k+2.
  lane.up.seed = core::derive_seed(link.seed, 2 * index + 1);
  lane.down.seed = core::derive_seed(link.seed, 2 * index + 2);
  if (index == 0) {
    lane.up.seed = link.up.seed;
    lane.down.seed = link.down.seed;
  }
  return lane;
}

std::string bridge_lane_name(const BridgeLane& lane, std::size_t index) {
  return lane.name.empty() ? std::to_string(index) : lane.name;
}

int bridge_session(const BridgeRequest& request) {
  check_privileges();
  if (const std::string error = check_bridge_lanes(request.lanes); !error.empty()) {
    throw std::invalid_argument(error);
  }
  // The name is checked first: a second bridge of one name would take the first one's socket.
  const std::string socket = bridge_socket(request.name);
  if (socket_answers(socket)) {
    throw EnvironmentError(
        fmt::format("a bridge named {} is already running (its control API answers on {}); give "
                    "this one another --name",
                    request.name, socket));
  }
  // Signals wait until the lanes are stopped and the interfaces restored.
  const BlockRunSignals block_signals;
  const Place place(request.netns);

  struct LaneInfo {
    unsigned mtu_a = 0;
    unsigned mtu_b = 0;
    link::LinkSpec link;
  };
  std::vector<LaneInfo> infos;
  for (std::size_t l = 0; l < request.lanes.size(); ++l) {
    const auto& lane = request.lanes[l];
    infos.push_back({check_interface(place, lane.a), check_interface(place, lane.b),
                     lane.link ? *lane.link : lane_link(request.link, l)});
    for (const auto& [ifname, mtu] :
         {std::pair{lane.a, infos.back().mtu_a}, std::pair{lane.b, infos.back().mtu_b}}) {
      if (request.port == PortKind::xdp && mtu > io::kXdpMaxMtu) {
        throw EnvironmentError(fmt::format(
            "interface {}{} has MTU {}: --port xdp takes frames of at most {} bytes of IP; lower "
            "it (ip link set {} mtu {}) or use --port packet",
            ifname, place.describe(), mtu, io::kXdpMaxMtu, ifname, io::kXdpMaxMtu));
      }
    }
  }

  // Declared before the lanes so it outlives their sockets: coalescing comes back last.
  std::vector<std::unique_ptr<CoalescingRestore>> restores;
  std::vector<std::unique_ptr<engine::Lane>> lanes;
  engine::MonotonicClock clock;
  const core::Nanos origin = clock.now();
  for (std::size_t l = 0; l < request.lanes.size(); ++l) {
    const auto& lane = request.lanes[l];
    core::DirectionConfig up = infos[l].link.up;
    core::DirectionConfig down = infos[l].link.down;
    // Random per-packet stages need wire-sized frames: the receiving interface must not merge
    // them (GRO in the kernel, LRO in the NIC). Otherwise super-frames are fine: the engine
    // accounts them per wire packet, and coalescing saves CPU at 10 Gbit/s.
    // XDP cannot take LRO's merged frames (drivers refuse to attach while it is on).
    const bool xdp = request.port == PortKind::xdp;
    for (const auto& [interface, needs] : {std::pair{&lane.a, xdp || up.needs_wire_packets()},
                                           std::pair{&lane.b, xdp || down.needs_wire_packets()}}) {
      if (!needs) continue;
      // A copy the lambdas can capture (clang 14, which builds the fuzz targets, cannot
      // capture a structured binding).
      const std::string* ifname = interface;
      const io::ReceiveCoalescing previous =
          place.run([&] { return io::receive_coalescing(*ifname); });
      if (!previous.gro && !previous.lro) continue;
      restores.push_back(std::make_unique<CoalescingRestore>(place, *ifname, previous));
      place.run([&] { io::set_receive_coalescing(*ifname, {}); });
    }
    up.loss_model.schedule_origin = down.loss_model.schedule_origin = origin;
    // Frames between the two sides are addressed to their MACs, not ours: promiscuous.
    lanes.push_back(make_lane(up, down, {lane.a, lane.b, request.port, place.netns_fd(), true},
                              request.assumed_rate_bps, request.spin, clock));
  }
  for (std::size_t l = 0; l < lanes.size(); ++l) lanes[l]->start(request.placement, 2 * l);
  const auto started = std::chrono::steady_clock::now();

  std::unique_ptr<ControlHost> control;  // reads the lanes: goes before they stop
  {
    std::error_code ignored;
    std::filesystem::create_directories(kBridgeDir, ignored);
    ControlHostRequest api;
    api.kind = "bridge";
    api.name = request.name;
    api.seed = request.link.seed;
    for (std::size_t l = 0; l < lanes.size(); ++l) {
      api.lane_names.push_back(bridge_lane_name(request.lanes[l], l));
      api.lanes.push_back(lanes[l].get());
    }
    api.clock = &clock;
    api.origin = origin;
    api.assumed_rate_bps = request.assumed_rate_bps;
    api.socket_path = socket;
    api.tcp = request.api_tcp;
    control = std::make_unique<ControlHost>(api);  // throws: the lanes stop, GRO comes back
  }

  if (!request.quiet) {
    std::string text =
        fmt::format("longhaul: bridging{} (seed {}{}); Ctrl-C stops\n", place.describe(),
                    request.link.seed, request.port == PortKind::xdp ? ", AF_XDP ports" : "");
    for (std::size_t l = 0; l < request.lanes.size(); ++l) {
      const auto& lane = request.lanes[l];
      text += fmt::format(
          "  lane {}: a={} (MTU {}) <-> b={} (MTU {})\n    up   (a -> b): {}\n    "
          "down (b -> a): {}\n",
          bridge_lane_name(lane, l), lane.a, infos[l].mtu_a, lane.b, infos[l].mtu_b,
          link::describe(infos[l].link.up), link::describe(infos[l].link.down));
      if (infos[l].mtu_a != infos[l].mtu_b) {
        text += fmt::format(
            "    warning: the MTUs differ: frames larger than {} bytes of IP cannot leave by "
            "{} and are counted as refused; give both interfaces the same MTU\n",
            std::min(infos[l].mtu_a, infos[l].mtu_b),
            infos[l].mtu_a < infos[l].mtu_b ? lane.a : lane.b);
      }
    }
    text += fmt::format("  control API: {}{} (`longhaul set {} LANE ...`)\n", socket,
                        tcp_endpoints_text(*control), request.name);
    std::cerr << text << std::flush;
  }

  const int signal = wait_for_stop();
  control.reset();  // no more changes, then the lanes stop
  for (auto& lane : lanes) lane->stop();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  std::vector<LaneFidelity> fidelity;
  for (const auto& lane : lanes) fidelity.push_back(lane_fidelity(*lane));
  const bool degraded = std::any_of(fidelity.begin(), fidelity.end(),
                                    [](const LaneFidelity& lane) { return lane.degraded(); });
  if (!request.quiet) {
    std::string text =
        fmt::format("longhaul: bridge stopped after {:.1f} s ({})\n", seconds, ::strsignal(signal));
    for (std::size_t l = 0; l < lanes.size(); ++l) {
      text += fidelity_summary_lines(fidelity[l],
                                     fmt::format("lane {}", bridge_lane_name(request.lanes[l], l)));
    }
    for (std::size_t l = 0; l < lanes.size(); ++l) {
      text += fmt::format("lane {}: up = {} -> {}, down = {} -> {}\n",
                          bridge_lane_name(request.lanes[l], l), request.lanes[l].a,
                          request.lanes[l].b, request.lanes[l].b, request.lanes[l].a) +
              counters_table(*lanes[l], request.detailed_stats);
    }
    std::cerr << text;
  }
  if (request.json_path) {
    nlohmann::json json_lanes = nlohmann::json::array();
    nlohmann::json overall = nlohmann::json::object();
    for (std::size_t l = 0; l < lanes.size(); ++l) {
      nlohmann::json directions;
      for (const auto direction : {engine::Direction::up, engine::Direction::down}) {
        auto stats = direction_stats_json(lanes[l]->counters(direction),
                                          lanes[l]->worker(direction).stats());
        // The threads have stopped, so the stages' own counters can be read.
        stats["models"] = direction_model_json(lanes[l]->worker(direction).stats());
        directions[engine::direction_name(direction)] = stats;
      }
      directions["up"]["fidelity"] = direction_fidelity_json(fidelity[l].up);
      directions["down"]["fidelity"] = direction_fidelity_json(fidelity[l].down);
      const std::string name = bridge_lane_name(request.lanes[l], l);
      overall[fmt::format("lane {} up", name)] = directions["up"]["fidelity"];
      overall[fmt::format("lane {} down", name)] = directions["down"]["fidelity"];
      json_lanes.push_back({{"name", name},
                            {"a", request.lanes[l].a},
                            {"b", request.lanes[l].b},
                            {"mtu", {{"a", infos[l].mtu_a}, {"b", infos[l].mtu_b}}},
                            {"link",
                             {{"up", direction_config_json(infos[l].link.up)},
                              {"down", direction_config_json(infos[l].link.down)}}},
                            {"directions", directions}});
    }
    const nlohmann::json json = {{"schema", kBridgeSchema},
                                 {"name", request.name},
                                 {"seed", request.link.seed},
                                 {"netns", request.netns},
                                 {"port", port_name(request.port)},
                                 {"duration_s", seconds},
                                 {"lanes", json_lanes},
                                 {"fidelity", measure::overall_fidelity_json(overall)}};
    write_json_report(json, *request.json_path);
  }
  if (signal == SIGINT || signal == SIGTERM) {
    // --strict: a bridge stopped as asked exits 0 only if every lane kept its promise.
    return request.strict && degraded ? kExitFidelityDegraded : 0;
  }
  return 128 + signal;
}

std::vector<BridgeLane> bridge_lanes_from(const LabDefinition& lab) {
  std::vector<BridgeLane> lanes;
  const auto interface_of = [&](const core::TopologyLane& lane, const std::string& end) {
    for (const auto& site : lab.topology.sites) {
      if (site.name != end) continue;
      if (site.interface.empty()) break;
      return site.interface;
    }
    throw TopologyError(fmt::format(
        "{}:{}:{}: lane '{}': end '{}' is not a site with interface = \"...\"; in appliance "
        "mode every lane joins two existing interfaces (switches and namespaces are for labs)",
        lab.path, lane.place.line, lane.place.column, lane.name, end));
  };
  for (std::size_t l = 0; l < lab.topology.lanes.size(); ++l) {
    const auto& lane = lab.topology.lanes[l];
    lanes.push_back(BridgeLane{interface_of(lane, lane.a), interface_of(lane, lane.b), lane.name,
                               lab.lanes[l]});
  }
  return lanes;
}

}  // namespace longhaul::lab

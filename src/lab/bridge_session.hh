#pragma once
// `longhaul bridge`: appliance mode. Bridges existing interfaces lane by lane, in both
// directions, through the emulator, like a Linux bridge plus netem box in front of real links:
//
//   switch 1 ==wire== IF_A --AF_PACKET rx (promiscuous)--> [up: a -> b]   --AF_PACKET tx--> IF_B
//   ==wire== switch 2
//                     IF_A <--AF_PACKET tx--               [down: b -> a] <--AF_PACKET rx--  IF_B
//
// With --port xdp the sockets are AF_XDP (copy mode, native XDP: the driver must support it), which
// forward small frames at a higher rate; the interfaces' MTU must then be at most 3506 and LRO is
// switched off (XDP cannot take merged frames).
//
// Nothing is created: the interfaces exist (in the current namespace or --netns NAME). What is
// changed is put back when the bridge stops, however it stops: promiscuous mode belongs to the
// receive sockets (the kernel undoes it when they close), and receive coalescing (GRO/LRO) that
// was turned off for wire-sized packets is restored by a guard.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "control/api_server.hh"
#include "core/time.hh"
#include "core/units.hh"
#include "engine/lane.hh"
#include "lab/direction_setup.hh"
#include "link/link_options.hh"

namespace longhaul::lab {

struct LabDefinition;  // lab/topology_file.hh

/// One lane: the interface on side a and the one on side b ("up" is a -> b).
struct BridgeLane {
  std::string a;
  std::string b;
  std::string name{};  ///< the topology file's lane name; empty: its number in the API ("0", ...)
  std::optional<link::LinkSpec> link{};  ///< this lane's own impairments (a topology file's lane)
};

/// Parses "a=IF1,b=IF2" (either order). Pure; the error says what is expected.
core::Parsed<BridgeLane> parse_bridge_lane(std::string_view text);
/// Checks a set of lanes: at least one, no interface used twice (in one lane or across lanes).
/// Pure; returns the error, empty when fine.
std::string check_bridge_lanes(const std::vector<BridgeLane>& lanes);
/// The link of lane `index`: `link` with that lane's own seeds (lane 0 keeps link's own), so
/// lanes draw independently yet a run replays from the one printed seed. Pure.
link::LinkSpec lane_link(const link::LinkSpec& link, std::size_t index);

struct BridgeRequest {
  std::vector<BridgeLane> lanes;
  link::LinkSpec link;  ///< every lane's impairments (up = a -> b)
  std::string netns;    ///< where the interfaces are; empty: longhaul's own namespace
  core::Nanos spin{std::chrono::microseconds(200)};
  engine::ThreadPlacement placement;  ///< lane-direction threads, in lane order (up, down)
  PortKind port = PortKind::packet;   ///< --port: AF_PACKET or AF_XDP sockets on the interfaces
  bool detailed_stats = false;
  bool quiet = false;
  std::optional<std::string> json_path;                ///< "-" = stdout
  std::uint64_t assumed_rate_bps = 20'000'000'000ULL;  ///< buffer sizing without --rate
  bool strict = false;          ///< --strict: a degraded fidelity verdict makes the exit status 5
  std::string name = "bridge";  ///< --name: its control socket is /run/longhaul/bridges/NAME.sock
  std::vector<control::ServerEndpoint> api_tcp;  ///< --listen, --web: the API on TCP too
};

inline constexpr const char* kBridgeSchema = "longhaul.bridge/1";

/// Lane `index`'s name in the control API and the messages: its own name, else its number.
std::string bridge_lane_name(const BridgeLane& lane, std::size_t index);

/// Bridges until SIGINT/SIGTERM (exit 0) or SIGHUP/SIGQUIT (128+N), then prints the counters.
/// Serves the control API (docs/api.md) on /run/longhaul/bridges/NAME.sock meanwhile; throws
/// before touching anything when a live bridge already has that name.
/// Throws, having restored everything, when an interface is missing, down or cannot be opened.
int bridge_session(const BridgeRequest& request);

/// Appliance lanes from a topology file whose sites name existing interfaces
/// (`interface = "eth1"`): every lane must join two such sites. Throws TopologyError.
std::vector<BridgeLane> bridge_lanes_from(const LabDefinition& lab);

}  // namespace longhaul::lab

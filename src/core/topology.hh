#pragma once
// A lab's graph: sites (hosts, each a network namespace), switches (software layer-2 switches
// inside the emulator) and lanes (emulated links, each two directions of impairments between two
// endpoints). Validation and the addressing/routing plan are pure, so the rules in
// docs/topology.md are tested here without a kernel.
//
// Semantics:
//   - A switch and every lane attached to it form one layer-2 segment (one subnet). Lanes
//     between switches join their segments (a chain of hubs is still one flat subnet); a cycle
//     of switch-to-switch lanes is rejected because the switches run no spanning tree.
//   - A lane between two sites is a point-to-point segment of its own.
//   - Each lane end on a site is one interface of that site (eth0, eth1, ... in file order) with
//     one IPv4 and one IPv6 address in the segment's prefixes; the host part is the site's
//     1-based position in the file, so a site has the same last octet everywhere.
//   - A site on two or more segments forwards between them (a router); every site gets a route
//     to every segment it is not on, via the first router on a shortest path (fewest routers).
//   - Site names resolve in every site: to the address on a segment both share when there is
//     one (the direct lane), else to the site's first interface.
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/syntax_error.hh"

namespace longhaul::core {

/// Where something was written in the topology file (1-based; 0 = not from a file).
struct SourcePlace {
  std::size_t line = 0;
  std::size_t column = 0;
};

struct Ipv4Prefix {
  std::uint32_t network = 0;  ///< host byte order
  int length = 24;
  friend bool operator==(const Ipv4Prefix&, const Ipv4Prefix&) = default;
};
struct Ipv6Prefix {
  std::array<std::uint8_t, 16> network{};
  int length = 64;
  friend bool operator==(const Ipv6Prefix&, const Ipv6Prefix&) = default;
};

struct TopologySite {
  std::string name;
  std::string interface;  ///< appliance mode: an existing interface instead of a namespace
  SourcePlace place;
};

struct TopologySwitch {
  std::string name;
  std::optional<Ipv4Prefix>
      ipv4;  ///< the segment's prefixes; assigned from the lab's slot if unset
  std::optional<Ipv6Prefix> ipv6;
  SourcePlace place;
};

struct TopologyLane {
  std::string name;  ///< unique; defaults to the site end's name (or "a-b") in the file reader
  std::string a;     ///< endpoint: a site or switch name ("up" is a -> b)
  std::string b;
  std::optional<Ipv4Prefix> ipv4;  ///< only for site-to-site lanes (their own segment)
  std::optional<Ipv6Prefix> ipv6;
  SourcePlace place;
};

struct Topology {
  std::string name;
  std::vector<TopologySite> sites;
  std::vector<TopologySwitch> switches;
  std::vector<TopologyLane> lanes;
};

/// One interface of a site: the site end of a lane.
struct SiteInterface {
  std::string ifname;  ///< "eth0", "eth1", ...
  std::size_t lane = 0;
  std::size_t segment = 0;
  std::uint32_t ipv4 = 0;
  std::array<std::uint8_t, 16> ipv6{};
};

struct SiteRoute {
  std::size_t segment = 0;  ///< destination: this segment's prefixes
  std::size_t via_site = 0;
  std::size_t out_interface = 0;  ///< index into the site's interfaces
  std::uint32_t gateway_ipv4 = 0;
  std::array<std::uint8_t, 16> gateway_ipv6{};
};

struct HostEntry {
  std::string name;
  std::uint32_t ipv4 = 0;
  std::array<std::uint8_t, 16> ipv6{};
};

struct SitePlan {
  std::string name;
  std::vector<SiteInterface> interfaces;
  std::vector<SiteRoute> routes;
  std::vector<HostEntry> hosts;  ///< every site's name as this site should resolve it
  bool forwards = false;
};

struct SegmentPlan {
  std::string name;  ///< the switch's name, or the site-to-site lane's
  Ipv4Prefix ipv4;
  Ipv6Prefix ipv6;
};

/// One end of a lane as the emulator sees it.
struct LaneEnd {
  bool is_site = false;
  std::size_t index = 0;      ///< into sites or switches
  std::size_t interface = 0;  ///< the site's interface index, when is_site
};

struct LanePlan {
  std::string name;
  LaneEnd a;
  LaneEnd b;
  std::size_t segment = 0;
};

struct LabPlan {
  std::string name;
  std::vector<SitePlan> sites;
  std::vector<std::string> switches;
  std::vector<std::size_t> switch_segment;  ///< segment of each switch
  std::vector<SegmentPlan> segments;
  std::vector<LanePlan> lanes;
};

/// Address space of automatically numbered labs: lab slot k (1..kMaxLabs) owns
/// 198.19.(16k + s).0/24 and 2001:2:0:(0x100 + 16k + s)::/64 for its segments s < 16.
inline constexpr int kMaxLabs = 15;
inline constexpr std::size_t kMaxSegmentsPerLab = 16;
inline constexpr std::size_t kMaxSites = 250;

/// Checks the graph and computes interfaces, addresses, routes and host entries. Errors carry
/// the place of the offending entry and say what is expected.
SyntaxResult<LabPlan> plan_lab(const Topology& topology, int lab_slot);

/// True if `name` can name a lab, site, switch or lane: lowercase letters, digits and '-',
/// starting with a letter, at most `max_length` characters.
bool valid_topology_name(const std::string& name, std::size_t max_length);

/// Lab names become parts of namespace names: "lh-<lab>-<site>".
inline constexpr std::size_t kMaxLabNameLength = 12;
inline constexpr std::size_t kMaxSiteNameLength = 24;

std::string format_ipv4(std::uint32_t address);
std::string format_ipv6(const std::array<std::uint8_t, 16>& address);

}  // namespace longhaul::core

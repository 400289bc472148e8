#include "core/topology.hh"

#include <arpa/inet.h>

#include <algorithm>
#include <deque>
#include <limits>
#include <map>
#include <numeric>

namespace longhaul::core {

namespace {

SyntaxError error_at(SourcePlace place, std::string word, std::string message) {
  SyntaxError error;
  error.line = place.line;
  error.column = place.column;
  error.word = std::move(word);
  error.message = std::move(message);
  return error;
}

/// Union-find over segments, for switches joined by lanes.
class Components {
 public:
  explicit Components(std::size_t count) : parent_(count) {
    std::iota(parent_.begin(), parent_.end(), std::size_t{0});
  }
  std::size_t find(std::size_t item) {
    while (parent_[item] != item) item = parent_[item] = parent_[parent_[item]];
    return item;
  }
  /// Joins two sets; false if they were already one (the new edge closes a cycle).
  bool join(std::size_t a, std::size_t b) {
    a = find(a);
    b = find(b);
    if (a == b) return false;
    parent_[std::max(a, b)] = std::min(a, b);
    return true;
  }

 private:
  std::vector<std::size_t> parent_;
};

std::uint32_t prefix_mask(int length) {
  return length == 0 ? 0 : ~std::uint32_t{0} << (32 - length);
}

bool overlaps(const Ipv4Prefix& x, const Ipv4Prefix& y) {
  const std::uint32_t mask = prefix_mask(std::min(x.length, y.length));
  return (x.network & mask) == (y.network & mask);
}

bool overlaps(const Ipv6Prefix& x, const Ipv6Prefix& y) {
  const int length = std::min(x.length, y.length);
  for (int bit = 0; bit < length; ++bit) {
    const auto byte = static_cast<std::size_t>(bit / 8);
    const auto mask = static_cast<std::uint8_t>(0x80U >> (bit % 8));
    if ((x.network[byte] & mask) != (y.network[byte] & mask)) return false;
  }
  return true;
}

std::string format(const Ipv4Prefix& prefix) {
  return format_ipv4(prefix.network) + "/" + std::to_string(prefix.length);
}
std::string format(const Ipv6Prefix& prefix) {
  return format_ipv6(prefix.network) + "/" + std::to_string(prefix.length);
}

/// Host `host` (1-based) inside `prefix`, if it fits (never the network or broadcast address).
std::optional<std::uint32_t> host_in(const Ipv4Prefix& prefix, std::size_t host) {
  const std::uint64_t size = std::uint64_t{1} << (32 - prefix.length);
  if (host + 1 >= size) return std::nullopt;
  return prefix.network + static_cast<std::uint32_t>(host);
}
std::array<std::uint8_t, 16> host_in(const Ipv6Prefix& prefix, std::size_t host) {
  std::array<std::uint8_t, 16> address = prefix.network;
  address[14] = static_cast<std::uint8_t>(host >> 8);
  address[15] = static_cast<std::uint8_t>(host & 0xFF);
  return address;
}

}  // namespace

bool valid_topology_name(const std::string& name, std::size_t max_length) {
  if (name.empty() || name.size() > max_length) return false;
  if (name.front() < 'a' || name.front() > 'z') return false;
  if (name.back() == '-') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

std::string format_ipv4(std::uint32_t address) {
  return std::to_string(address >> 24) + "." + std::to_string((address >> 16) & 0xFF) + "." +
         std::to_string((address >> 8) & 0xFF) + "." + std::to_string(address & 0xFF);
}

std::string format_ipv6(const std::array<std::uint8_t, 16>& address) {
  char text[INET6_ADDRSTRLEN] = {};
  ::inet_ntop(AF_INET6, address.data(), text, sizeof text);
  return text;
}

SyntaxResult<LabPlan> plan_lab(const Topology& topology, int lab_slot) {
  SyntaxResult<LabPlan> result;
  const auto fail = [&result](SourcePlace place, std::string word, std::string message) {
    result.error = error_at(place, std::move(word), std::move(message));
    return result;
  };
  if (topology.sites.empty()) {
    return fail({}, "", "the topology has no sites: add at least two [[site]] tables");
  }
  if (topology.sites.size() > kMaxSites) {
    return fail(topology.sites[kMaxSites].place, topology.sites[kMaxSites].name,
                "too many sites: a lab holds at most 250");
  }

  // Names: sites and switches share one set (both can be a lane's end); lanes have their own,
  // so a lane may carry its remote site's name (`capture japan`, `exec japan`).
  struct Named {
    const char* kind;
    std::size_t index;
    SourcePlace place;
  };
  std::map<std::string, Named> names;
  std::map<std::string, Named> lane_names;
  const auto declare = [&](const std::string& name, const char* kind, std::size_t index,
                           SourcePlace place, std::size_t max_length) -> bool {
    auto& table = std::string_view(kind) == "lane" ? lane_names : names;
    if (!valid_topology_name(name, max_length)) {
      result.error = error_at(
          place, name,
          "'" + name + "' is not a valid " + kind + " name: use lowercase letters, digits and " +
              "'-', starting with a letter, at most " + std::to_string(max_length) + " characters");
      return false;
    }
    const auto [it, inserted] = table.emplace(name, Named{kind, index, place});
    if (!inserted) {
      result.error =
          error_at(place, name,
                   "duplicate name '" + name + "': the " + it->second.kind + " on line " +
                       std::to_string(it->second.place.line) + " already has it" +
                       (&table == &names ? " (sites and switches share one set of names)" : ""));
      return false;
    }
    return true;
  };
  for (std::size_t i = 0; i < topology.sites.size(); ++i) {
    const auto& site = topology.sites[i];
    if (!declare(site.name, "site", i, site.place, kMaxSiteNameLength)) return result;
  }
  for (std::size_t i = 0; i < topology.switches.size(); ++i) {
    const auto& sw = topology.switches[i];
    if (!declare(sw.name, "switch", i, sw.place, kMaxSiteNameLength)) return result;
  }
  for (std::size_t i = 0; i < topology.lanes.size(); ++i) {
    const auto& lane = topology.lanes[i];
    if (!declare(lane.name, "lane", i, lane.place, kMaxSiteNameLength)) return result;
  }

  // Lane ends.
  LabPlan plan;
  plan.name = topology.name;
  for (const auto& site : topology.sites) plan.sites.push_back(SitePlan{site.name, {}, {}, {}});
  for (const auto& sw : topology.switches) plan.switches.push_back(sw.name);
  const auto resolve_end = [&](const TopologyLane& lane, const std::string& end,
                               const char* key) -> std::optional<LaneEnd> {
    const auto it = names.find(end);
    if (it == names.end()) {
      std::string known;
      for (const auto& [name, named] : names) known += (known.empty() ? "" : ", ") + name;
      result.error = error_at(lane.place, end,
                              "lane '" + lane.name + "': " + key + " = '" + end +
                                  "' names no site or switch (known: " + known + ")");
      return std::nullopt;
    }
    LaneEnd lane_end;
    lane_end.is_site = std::string_view(it->second.kind) == "site";
    lane_end.index = it->second.index;
    return lane_end;
  };

  // Segments: switches first (joined through switch-to-switch lanes), then site-to-site lanes.
  const std::size_t switch_count = topology.switches.size();
  Components joined(switch_count);
  std::vector<LaneEnd> ends_a;
  std::vector<LaneEnd> ends_b;
  for (const auto& lane : topology.lanes) {
    auto a = resolve_end(lane, lane.a, "a");
    if (!a) return result;
    auto b = resolve_end(lane, lane.b, "b");
    if (!b) return result;
    if (lane.a == lane.b) {
      return fail(lane.place, lane.a,
                  "lane '" + lane.name + "' joins '" + lane.a + "' to itself: a and b must differ");
    }
    if (!a->is_site && !b->is_site && !joined.join(a->index, b->index)) {
      return fail(lane.place, lane.name,
                  "lane '" + lane.name + "' closes a loop of switches ('" + lane.a + "' and '" +
                      lane.b +
                      "' are already joined): the switches run no spanning tree, so frames "
                      "would circle forever; remove one lane of the loop");
    }
    if (!(a->is_site && b->is_site) && (lane.ipv4 || lane.ipv6)) {
      return fail(lane.place, lane.name,
                  "lane '" + lane.name +
                      "': ipv4/ipv6 prefixes belong to the switch's table when a lane ends on a "
                      "switch (the lane is part of the switch's segment)");
    }
    ends_a.push_back(*a);
    ends_b.push_back(*b);
  }
  std::vector<std::size_t> segment_of_component(switch_count,
                                                std::numeric_limits<std::size_t>::max());
  std::vector<std::optional<Ipv4Prefix>> wanted_ipv4;
  std::vector<std::optional<Ipv6Prefix>> wanted_ipv6;
  std::vector<SourcePlace> segment_place;
  plan.switch_segment.resize(switch_count);
  for (std::size_t i = 0; i < switch_count; ++i) {
    const std::size_t root = joined.find(i);
    const auto& sw = topology.switches[i];
    if (segment_of_component[root] == std::numeric_limits<std::size_t>::max()) {
      segment_of_component[root] = plan.segments.size();
      plan.segments.push_back(SegmentPlan{sw.name, {}, {}});
      wanted_ipv4.push_back(sw.ipv4);
      wanted_ipv6.push_back(sw.ipv6);
      segment_place.push_back(sw.place);
    } else {
      const std::size_t segment = segment_of_component[root];
      if ((sw.ipv4 && wanted_ipv4[segment] && !(*sw.ipv4 == *wanted_ipv4[segment])) ||
          (sw.ipv6 && wanted_ipv6[segment] && !(*sw.ipv6 == *wanted_ipv6[segment]))) {
        return fail(sw.place, sw.name,
                    "switch '" + sw.name + "' is joined by lanes to switch '" +
                        plan.segments[segment].name +
                        "', so they form one subnet, but their prefixes differ: give the prefix "
                        "on one of them only");
      }
      if (sw.ipv4) wanted_ipv4[segment] = sw.ipv4;
      if (sw.ipv6) wanted_ipv6[segment] = sw.ipv6;
    }
    plan.switch_segment[i] = segment_of_component[root];
  }
  for (std::size_t l = 0; l < topology.lanes.size(); ++l) {
    const auto& lane = topology.lanes[l];
    LanePlan lane_plan{lane.name, ends_a[l], ends_b[l], 0};
    if (ends_a[l].is_site && ends_b[l].is_site) {
      lane_plan.segment = plan.segments.size();
      plan.segments.push_back(SegmentPlan{lane.name, {}, {}});
      wanted_ipv4.push_back(lane.ipv4);
      wanted_ipv6.push_back(lane.ipv6);
      segment_place.push_back(lane.place);
    } else {
      lane_plan.segment =
          plan.switch_segment[ends_a[l].is_site ? ends_b[l].index : ends_a[l].index];
    }
    plan.lanes.push_back(lane_plan);
  }

  // Addresses: automatic prefixes from the lab's slot unless the file gives them.
  const std::size_t automatic = static_cast<std::size_t>(std::count_if(
      wanted_ipv4.begin(), wanted_ipv4.end(), [](const auto& p) { return !p.has_value(); }));
  if (plan.segments.size() > kMaxSegmentsPerLab && automatic > 0) {
    return fail(segment_place[kMaxSegmentsPerLab], plan.segments[kMaxSegmentsPerLab].name,
                "more than 16 subnets (switches and site-to-site lanes): give the extra ones "
                "explicit ipv4 and ipv6 prefixes");
  }
  for (std::size_t s = 0; s < plan.segments.size(); ++s) {
    const auto slot_segment =
        static_cast<std::uint32_t>(lab_slot) * 16U + static_cast<std::uint32_t>(s);
    plan.segments[s].ipv4 =
        wanted_ipv4[s].value_or(Ipv4Prefix{(198U << 24) | (19U << 16) | (slot_segment << 8), 24});
    if (wanted_ipv6[s]) {
      plan.segments[s].ipv6 = *wanted_ipv6[s];
    } else {
      Ipv6Prefix prefix;
      prefix.network = {0x20,
                        0x01,
                        0x00,
                        0x02,
                        0x00,
                        0x00,
                        static_cast<std::uint8_t>((0x100U + slot_segment) >> 8),
                        static_cast<std::uint8_t>((0x100U + slot_segment) & 0xFF)};
      plan.segments[s].ipv6 = prefix;
    }
  }
  for (std::size_t s = 0; s < plan.segments.size(); ++s) {
    for (std::size_t t = 0; t < s; ++t) {
      const bool v4 = overlaps(plan.segments[s].ipv4, plan.segments[t].ipv4);
      if (v4 || overlaps(plan.segments[s].ipv6, plan.segments[t].ipv6)) {
        return fail(segment_place[s], plan.segments[s].name,
                    "subnet of '" + plan.segments[s].name + "' (" +
                        (v4 ? format(plan.segments[s].ipv4) : format(plan.segments[s].ipv6)) +
                        ") overlaps that of '" + plan.segments[t].name + "' (" +
                        (v4 ? format(plan.segments[t].ipv4) : format(plan.segments[t].ipv6)) +
                        "): give each subnet its own prefix");
      }
    }
  }

  // Interfaces, in lane order.
  std::vector<std::vector<std::size_t>> sites_on_segment(plan.segments.size());
  for (std::size_t l = 0; l < plan.lanes.size(); ++l) {
    for (LaneEnd* end : {&plan.lanes[l].a, &plan.lanes[l].b}) {
      if (!end->is_site) continue;
      SitePlan& site = plan.sites[end->index];
      const std::size_t segment = plan.lanes[l].segment;
      for (const auto& existing : site.interfaces) {
        if (existing.segment == segment) {
          return fail(topology.lanes[l].place, topology.lanes[l].name,
                      "site '" + site.name + "' would have two interfaces on subnet '" +
                          plan.segments[segment].name + "' (lanes '" +
                          plan.lanes[existing.lane].name + "' and '" + plan.lanes[l].name +
                          "'): a site joins a subnet once");
        }
      }
      SiteInterface interface;
      interface.ifname = "eth" + std::to_string(site.interfaces.size());
      interface.lane = l;
      interface.segment = segment;
      const auto v4 = host_in(plan.segments[segment].ipv4, end->index + 1);
      if (!v4) {
        return fail(segment_place[segment], plan.segments[segment].name,
                    "subnet " + format(plan.segments[segment].ipv4) + " of '" +
                        plan.segments[segment].name + "' has no room for site number " +
                        std::to_string(end->index + 1) + " ('" + site.name +
                        "'): use a shorter prefix (addresses are the site's position in the file)");
      }
      interface.ipv4 = *v4;
      interface.ipv6 = host_in(plan.segments[segment].ipv6, end->index + 1);
      end->interface = site.interfaces.size();
      site.interfaces.push_back(interface);
      sites_on_segment[segment].push_back(end->index);
    }
  }
  for (std::size_t i = 0; i < plan.sites.size(); ++i) {
    if (plan.sites[i].interfaces.empty()) {
      return fail(topology.sites[i].place, plan.sites[i].name,
                  "site '" + plan.sites[i].name +
                      "' is on no lane: add a [[lane]] with a or b = '" + plan.sites[i].name + "'");
    }
    plan.sites[i].forwards = plan.sites[i].interfaces.size() > 1;
  }

  // Routes: breadth-first over segments from each site; crossing a segment to another site
  // costs one hop, and only forwarding sites are crossed.
  for (std::size_t origin = 0; origin < plan.sites.size(); ++origin) {
    SitePlan& site = plan.sites[origin];
    constexpr std::size_t kUnseen = std::numeric_limits<std::size_t>::max();
    // For each segment: the interface and first router used to reach it.
    std::vector<std::size_t> via_interface(plan.segments.size(), kUnseen);
    std::vector<std::size_t> via_router(plan.segments.size(), kUnseen);
    std::vector<bool> site_seen(plan.sites.size(), false);
    std::deque<std::pair<std::size_t, std::size_t>> frontier;  // (router site, interface used)
    site_seen[origin] = true;
    for (std::size_t k = 0; k < site.interfaces.size(); ++k) {
      via_interface[site.interfaces[k].segment] = k;
    }
    for (std::size_t k = 0; k < site.interfaces.size(); ++k) {
      for (const std::size_t neighbour : sites_on_segment[site.interfaces[k].segment]) {
        if (site_seen[neighbour] || !plan.sites[neighbour].forwards) continue;
        site_seen[neighbour] = true;
        frontier.emplace_back(neighbour, k);
      }
    }
    std::vector<std::size_t> first_router(plan.sites.size(), kUnseen);
    for (auto& [router, interface] : frontier) first_router[router] = router;
    while (!frontier.empty()) {
      const auto [router, interface] = frontier.front();
      frontier.pop_front();
      for (const auto& far : plan.sites[router].interfaces) {
        if (via_interface[far.segment] == kUnseen) {
          via_interface[far.segment] = interface;
          via_router[far.segment] = first_router[router];
        }
        for (const std::size_t next : sites_on_segment[far.segment]) {
          if (site_seen[next] || !plan.sites[next].forwards) continue;
          site_seen[next] = true;
          first_router[next] = first_router[router];
          frontier.emplace_back(next, interface);
        }
      }
    }
    for (std::size_t s = 0; s < plan.segments.size(); ++s) {
      if (via_router[s] == kUnseen) continue;
      const SiteInterface& out = site.interfaces[via_interface[s]];
      const SitePlan& router = plan.sites[via_router[s]];
      const auto gateway = std::find_if(router.interfaces.begin(), router.interfaces.end(),
                                        [&](const auto& i) { return i.segment == out.segment; });
      site.routes.push_back(
          SiteRoute{s, via_router[s], via_interface[s], gateway->ipv4, gateway->ipv6});
    }
  }

  // Host entries per site: a shared segment's address first, else the site's first interface.
  for (auto& site : plan.sites) {
    for (const auto& other : plan.sites) {
      const auto shared = [&]() -> const SiteInterface* {
        for (const auto& mine : site.interfaces) {
          for (const auto& theirs : other.interfaces) {
            if (theirs.segment == mine.segment) return &theirs;
          }
        }
        return nullptr;
      };
      const SiteInterface* chosen = shared();
      if (chosen == nullptr) chosen = &other.interfaces.front();
      site.hosts.push_back(HostEntry{other.name, chosen->ipv4, chosen->ipv6});
    }
  }
  result.value = std::move(plan);
  return result;
}

}  // namespace longhaul::core

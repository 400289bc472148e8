#include "lab/topology_file.hh"

#include <arpa/inet.h>

#include <fmt/format.h>
#include <toml++/toml.h>
#include <array>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "core/random.hh"
#include "io/text_file.hh"
#include "lab/buffer_budget.hh"
#include "link/link_flag_keys.hh"

namespace longhaul::lab {

namespace {

core::SourcePlace place_of(const toml::source_region& region) {
  return {region.begin.line, region.begin.column};
}

/// Builds errors that point into the file.
class Reporter {
 public:
  explicit Reporter(std::string origin) : origin_(std::move(origin)) {}
  [[noreturn]] void fail(core::SourcePlace place, const std::string& message) const {
    if (place.line == 0) throw TopologyError(fmt::format("{}: {}", origin_, message));
    throw TopologyError(fmt::format("{}:{}:{}: {}", origin_, place.line, place.column, message));
  }
  [[noreturn]] void fail(const toml::node& node, const std::string& message) const {
    fail(place_of(node.source()), message);
  }

 private:
  std::string origin_;
};

/// A lane's keys as written, with the place of each (for errors found after resolving).
struct LaneKeys {
  link::LinkFlags flags;
  std::map<std::string, core::SourcePlace> places;
};

std::string text_of(const toml::node& node, const std::string& key, const Reporter& report) {
  if (const auto* text = node.as_string()) return text->get();
  report.fail(node, fmt::format("{} must be text in quotes, e.g. {} = \"example\"", key, key));
}

link::LinkFlagValue value_of(const toml::node& node, const std::string& key,
                             const Reporter& report) {
  if (const auto* text = node.as_string()) return text->get();
  if (const auto* whole = node.as_integer()) return whole->get();
  if (const auto* real = node.as_floating_point()) return real->get();
  if (const auto* flag = node.as_boolean()) return flag->get();
  if (const auto* array = node.as_array()) {
    std::vector<std::string> items;
    for (const auto& item : *array) items.push_back(text_of(item, key, report));
    return items;
  }
  report.fail(node, fmt::format("{} has a value of a kind longhaul does not read here", key));
}

template <class Prefix>
Prefix parse_prefix(const toml::node& node, const std::string& key, const Reporter& report) {
  const std::string text = text_of(node, key, report);
  constexpr bool v4 = std::is_same_v<Prefix, core::Ipv4Prefix>;
  const auto slash = text.find('/');
  const char* example = v4 ? "\"198.19.200.0/24\"" : "\"2001:2:0:f00::/64\"";
  if (slash == std::string::npos) {
    report.fail(node,
                fmt::format("{} = \"{}\" needs a prefix length, e.g. {}", key, text, example));
  }
  const std::string address = text.substr(0, slash);
  int length = -1;
  try {
    std::size_t used = 0;
    length = std::stoi(text.substr(slash + 1), &used);
    if (used != text.size() - slash - 1) length = -1;
  } catch (const std::exception&) {
    length = -1;
  }
  Prefix prefix;
  const int max_length = v4 ? 30 : 120;
  if (length < (v4 ? 8 : 16) || length > max_length) {
    report.fail(node, fmt::format("{} = \"{}\": prefix length must be {}..{}, e.g. {}", key, text,
                                  v4 ? 8 : 16, max_length, example));
  }
  prefix.length = length;
  if constexpr (v4) {
    in_addr parsed{};
    if (::inet_pton(AF_INET, address.c_str(), &parsed) != 1) {
      report.fail(node,
                  fmt::format("{} = \"{}\" is not an IPv4 prefix, e.g. {}", key, text, example));
    }
    prefix.network = ntohl(parsed.s_addr);
    const std::uint32_t mask = ~std::uint32_t{0} << (32 - length);
    // The benchmarking range 198.18.0.0/15: a lab must never take addresses that may be real.
    if ((prefix.network & 0xFFFE0000U) != 0xC6120000U || (prefix.network & ~mask) != 0) {
      report.fail(node, fmt::format("{} = \"{}\" must be a network (host bits zero) inside "
                                    "198.18.0.0/15, the benchmarking range labs use",
                                    key, text));
    }
  } else {
    if (::inet_pton(AF_INET6, address.c_str(), prefix.network.data()) != 1) {
      report.fail(node,
                  fmt::format("{} = \"{}\" is not an IPv6 prefix, e.g. {}", key, text, example));
    }
    bool host_bits = false;
    for (int bit = length; bit < 128; ++bit) {
      host_bits |= (prefix.network[static_cast<std::size_t>(bit / 8)] >> (7 - bit % 8) & 1) != 0;
    }
    const bool benchmarking = prefix.network[0] == 0x20 && prefix.network[1] == 0x01 &&
                              prefix.network[2] == 0x00 && prefix.network[3] == 0x02 &&
                              prefix.network[4] == 0x00 && prefix.network[5] == 0x00 &&
                              length >= 48;
    if (host_bits || !benchmarking) {
      report.fail(node, fmt::format("{} = \"{}\" must be a network (host bits zero) inside "
                                    "2001:2::/48, the benchmarking range labs use",
                                    key, text));
    }
  }
  return prefix;
}

const toml::array& tables_of(const toml::node& node, const std::string& key,
                             const Reporter& report) {
  const auto* array = node.as_array();
  if (array == nullptr || !array->is_array_of_tables()) {
    report.fail(node, fmt::format("{} must be written as [[{}]] tables", key, key));
  }
  return *array;
}

std::string required_name(const toml::table& table, const char* what, const Reporter& report,
                          core::SourcePlace where) {
  const auto* node = table.get("name");
  if (node == nullptr) report.fail(where, fmt::format("a [[{}]] has no name = \"...\"", what));
  return text_of(*node, "name", report);
}

/// Finds which key an error of resolve_link is about ("--rate-up: ..." -> "rate-up").
std::string flag_in_message(const std::string& message) {
  if (!message.starts_with("--")) return "";
  const auto end = message.find_first_of(": ,/", 2);
  return message.substr(2, end == std::string::npos ? std::string::npos : end - 2);
}

}  // namespace

LabDefinition parse_lab_definition(const std::string& text, const std::string& origin,
                                   const std::string& name_override, std::uint64_t random_seed) {
  const Reporter report(origin);
  toml::table document;
  try {
    document = toml::parse(text, origin);
  } catch (const toml::parse_error& error) {
    report.fail(place_of(error.source()), fmt::format("not valid TOML: {}", error.description()));
  }

  LabDefinition lab;
  lab.path = origin;
  LaneKeys defaults;
  std::vector<LaneKeys> lane_keys;
  std::optional<std::uint64_t> seed;
  const toml::node* name_node = nullptr;
  for (const auto& [key, node] : document) {
    const std::string name(key.str());
    const core::SourcePlace where = place_of(key.source());
    if (name == "name") {
      name_node = &node;
      lab.topology.name = text_of(node, "name", report);
    } else if (name == "description") {
      text_of(node, "description", report);
    } else if (name == "seed") {
      const auto* whole = node.as_integer();
      if (whole == nullptr || whole->get() < 0)
        report.fail(node, "seed must be a whole number >= 0");
      seed = static_cast<std::uint64_t>(whole->get());
    } else if (name == "defaults") {
      const auto* table = node.as_table();
      if (table == nullptr) report.fail(node, "defaults must be a table: [defaults]");
      for (const auto& [lane_key, value] : *table) {
        const std::string k(lane_key.str());
        if (auto error = link::set_link_flag(defaults.flags, k, value_of(value, k, report))) {
          report.fail(place_of(lane_key.source()), "[defaults]: " + *error);
        }
        defaults.places[k] = place_of(lane_key.source());
      }
    } else if (name == "site") {
      for (const auto& item : tables_of(node, "site", report)) {
        const auto& table = *item.as_table();
        core::TopologySite site;
        site.place = place_of(table.source());
        site.name = required_name(table, "site", report, site.place);
        for (const auto& [site_key, value] : table) {
          if (site_key.str() == "interface") {
            site.interface = text_of(value, "interface", report);
          } else if (site_key.str() != "name") {
            report.fail(place_of(site_key.source()),
                        fmt::format("unknown key '{}' in [[site]] '{}'; a site has: name, "
                                    "interface (appliance mode)",
                                    site_key.str(), site.name));
          }
        }
        lab.topology.sites.push_back(site);
      }
    } else if (name == "switch") {
      for (const auto& item : tables_of(node, "switch", report)) {
        const auto& table = *item.as_table();
        core::TopologySwitch sw;
        sw.place = place_of(table.source());
        sw.name = required_name(table, "switch", report, sw.place);
        for (const auto& [switch_key, value] : table) {
          const std::string k(switch_key.str());
          if (k == "ipv4") {
            sw.ipv4 = parse_prefix<core::Ipv4Prefix>(value, k, report);
          } else if (k == "ipv6") {
            sw.ipv6 = parse_prefix<core::Ipv6Prefix>(value, k, report);
          } else if (k != "name") {
            report.fail(place_of(switch_key.source()),
                        fmt::format("unknown key '{}' in [[switch]] '{}'; a switch has: name, "
                                    "ipv4, ipv6",
                                    k, sw.name));
          }
        }
        lab.topology.switches.push_back(sw);
      }
    } else if (name == "lane") {
      for (const auto& item : tables_of(node, "lane", report)) {
        const auto& table = *item.as_table();
        core::TopologyLane lane;
        lane.place = place_of(table.source());
        LaneKeys keys = defaults;
        for (const auto& [lane_key, value] : table) {
          const std::string k(lane_key.str());
          if (k == "name") {
            lane.name = text_of(value, k, report);
          } else if (k == "a") {
            lane.a = text_of(value, k, report);
          } else if (k == "b") {
            lane.b = text_of(value, k, report);
          } else if (k == "ipv4") {
            lane.ipv4 = parse_prefix<core::Ipv4Prefix>(value, k, report);
          } else if (k == "ipv6") {
            lane.ipv6 = parse_prefix<core::Ipv6Prefix>(value, k, report);
          } else {
            if (auto error = link::set_link_flag(keys.flags, k, value_of(value, k, report))) {
              // A lane also has its ends and prefixes, which [defaults] may not set.
              const bool unknown = error->starts_with("unknown key");
              report.fail(place_of(lane_key.source()),
                          "[[lane]]: " + *error + (unknown ? "; and name, a, b, ipv4, ipv6" : ""));
            }
            keys.places[k] = place_of(lane_key.source());
          }
        }
        if (lane.a.empty() || lane.b.empty()) {
          report.fail(lane.place,
                      "a [[lane]] needs both ends: a = \"SITE-OR-SWITCH\" and b = "
                      "\"SITE-OR-SWITCH\" (up is a -> b)");
        }
        lab.topology.lanes.push_back(lane);
        lane_keys.push_back(std::move(keys));
      }
    } else {
      report.fail(where, fmt::format("unknown key '{}'; a topology file has: name, description, "
                                     "seed, [defaults], [[site]], [[switch]], [[lane]]",
                                     name));
    }
  }

  if (!name_override.empty()) lab.topology.name = name_override;
  if (lab.topology.name.empty()) {
    lab.topology.name = std::filesystem::path(origin).stem().string();
  }
  if (!core::valid_topology_name(lab.topology.name, core::kMaxLabNameLength)) {
    const std::string message = fmt::format(
        "lab name '{}' is not valid: use lowercase letters, digits and '-', starting with a "
        "letter, at most {} characters (it becomes part of namespace names){}",
        lab.topology.name, core::kMaxLabNameLength,
        name_override.empty() ? "; set name = \"...\" in the file or pass --name" : "");
    if (name_node != nullptr && name_override.empty()) report.fail(*name_node, message);
    report.fail(core::SourcePlace{}, message);
  }

  // Lane names: the site end's name when exactly one end is a site, else "a-b".
  std::set<std::string> site_names;
  for (const auto& site : lab.topology.sites) site_names.insert(site.name);
  for (auto& lane : lab.topology.lanes) {
    if (!lane.name.empty()) continue;
    const bool a_site = site_names.contains(lane.a);
    const bool b_site = site_names.contains(lane.b);
    lane.name = a_site != b_site ? (a_site ? lane.a : lane.b) : lane.a + "-" + lane.b;
  }

  // The graph (slot 1 stands in for the real one: addresses do not change validity).
  const auto plan = core::plan_lab(lab.topology, 1);
  if (!plan) report.fail(core::SourcePlace{plan.error.line, plan.error.column}, plan.error.message);

  // Each lane's two directions, with the errors pointed at the key responsible.
  lab.seed = seed.value_or(random_seed);
  for (std::size_t l = 0; l < lab.topology.lanes.size(); ++l) {
    const auto& keys = lane_keys[l];
    const auto& lane = lab.topology.lanes[l];
    auto resolved = link::resolve_link(keys.flags, core::derive_seed(lab.seed, 1000 + l));
    if (!resolved) {
      const std::string key = flag_in_message(resolved.error);
      const auto it = keys.places.find(key);
      report.fail(it != keys.places.end() ? it->second : lane.place,
                  fmt::format("lane '{}': {}", lane.name, resolved.error));
    }
    lab.lanes.push_back(*resolved);
  }
  return lab;
}

LabDefinition load_lab_definition(const std::string& path, const std::string& name_override,
                                  std::uint64_t random_seed) {
  const io::InputFile file = io::read_input_file(path, "topology", io::kTopologyFileLimit);
  if (!file) throw TopologyError(file.error);
  return parse_lab_definition(file.text, path, name_override, random_seed);
}

std::uint64_t lab_buffer_bytes(const LabDefinition& lab) {
  std::uint64_t total = 0;
  for (const auto& link : lab.lanes) total += link_buffer_bytes(link, kLabAssumedRateBps);
  return total;
}

void check_lab_fits(const LabDefinition& lab, std::uint64_t available_bytes) {
  std::vector<BufferedLink> links;
  for (std::size_t l = 0; l < lab.lanes.size(); ++l) {
    links.push_back({fmt::format("lane '{}'", lab.topology.lanes[l].name), &lab.lanes[l]});
  }
  const std::string problem =
      buffers_do_not_fit(links, kLabAssumedRateBps, available_bytes,
                         {"the whole lab", "set rate = \"{}\" or lower on it", "a shorter delay"});
  if (!problem.empty()) throw TopologyError(fmt::format("{}: {}", lab.path, problem));
}

}  // namespace longhaul::lab

// Route and link queries on io::Netlink (declared in netlink.hh, defined here to keep the lab's
// link-building code and the tuner's route inspection apart).
#include "io/route_query.hh"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <stdexcept>

#include "io/error.hh"

namespace longhaul::io {

namespace {

std::string address_text(int family, const std::vector<std::uint8_t>& raw) {
  if (raw.empty()) return {};
  std::array<char, INET6_ADDRSTRLEN> text{};
  if (inet_ntop(family, raw.data(), text.data(), static_cast<socklen_t>(text.size())) == nullptr) {
    return "?";
  }
  return text.data();
}

std::vector<std::uint8_t> attribute_bytes(const nlattr* attribute) {
  const auto* data = static_cast<const std::uint8_t*>(mnl_attr_get_payload(attribute));
  return {data, data + mnl_attr_get_payload_len(attribute)};
}

std::optional<std::uint32_t> payload_u32(const std::vector<std::uint8_t>& payload) {
  if (payload.size() != sizeof(std::uint32_t)) return std::nullopt;
  std::uint32_t value = 0;
  std::memcpy(&value, payload.data(), sizeof value);
  return value;
}

int collect_metric(const nlattr* attribute, void* data) {
  auto* metrics = static_cast<std::vector<RouteMetric>*>(data);
  metrics->push_back(RouteMetric{mnl_attr_get_type(attribute), attribute_bytes(attribute)});
  return MNL_CB_OK;
}

int collect_route_attribute(const nlattr* attribute, void* data) {
  auto* route = static_cast<RouteInfo*>(data);
  const auto u32 = [&] { return mnl_attr_get_u32(attribute); };
  switch (mnl_attr_get_type(attribute)) {
    case RTA_DST:
      route->dst = attribute_bytes(attribute);
      break;
    case RTA_SRC:
      route->src = attribute_bytes(attribute);
      break;
    case RTA_GATEWAY:
      route->gateway = attribute_bytes(attribute);
      break;
    case RTA_PREFSRC:
      route->prefsrc = attribute_bytes(attribute);
      break;
    case RTA_OIF:
      route->oif = static_cast<int>(u32());
      break;
    case RTA_PRIORITY:
      route->priority = u32();
      break;
    case RTA_TABLE:
      route->table = u32();
      break;
    case RTA_PREF:
      route->pref = mnl_attr_get_u8(attribute);
      break;
    case RTA_METRICS:
      mnl_attr_parse_nested(attribute, collect_metric, &route->metrics);
      break;
    case RTA_MULTIPATH:
      route->unsupported = "multipath route";
      break;
    case RTA_NH_ID:
      route->unsupported = "route uses a nexthop object";
      break;
    case RTA_ENCAP:
      route->unsupported = "route has a lightweight tunnel encapsulation";
      break;
    case RTA_VIA:
      route->unsupported = "route has a gateway of another address family";
      break;
    case RTA_EXPIRES:
      if (u32() != 0) route->unsupported = "route expires (learnt from a router advertisement)";
      break;
    default:
      break;
  }
  return MNL_CB_OK;
}

// A unicast route from an RTM_NEWROUTE message; nullopt for anything else.
std::optional<RouteInfo> parse_route(const nlmsghdr* message) {
  if (message->nlmsg_type != RTM_NEWROUTE || mnl_nlmsg_get_payload_len(message) < sizeof(rtmsg)) {
    return std::nullopt;
  }
  const auto* header = static_cast<const rtmsg*>(mnl_nlmsg_get_payload(message));
  RouteInfo route;
  route.family = header->rtm_family;
  route.dst_len = header->rtm_dst_len;
  route.src_len = header->rtm_src_len;
  route.tos = header->rtm_tos;
  route.protocol = header->rtm_protocol;
  route.scope = header->rtm_scope;
  route.type = header->rtm_type;
  route.flags = header->rtm_flags;
  route.table = header->rtm_table;
  mnl_attr_parse(message, sizeof(rtmsg), collect_route_attribute, &route);
  if (route.type != RTN_UNICAST) return std::nullopt;
  return route;
}

int collect_link_attribute(const nlattr* attribute, void* data) {
  auto* link = static_cast<LinkInfo*>(data);
  switch (mnl_attr_get_type(attribute)) {
    case IFLA_IFNAME:
    case IFLA_QDISC: {
      const auto* text = static_cast<const char*>(mnl_attr_get_payload(attribute));
      std::string value(text, ::strnlen(text, mnl_attr_get_payload_len(attribute)));
      (mnl_attr_get_type(attribute) == IFLA_IFNAME ? link->name : link->qdisc) = std::move(value);
      break;
    }
    case IFLA_MTU:
      link->mtu = mnl_attr_get_u32(attribute);
      break;
    case IFLA_TXQLEN:
      link->txqueuelen = mnl_attr_get_u32(attribute);
      break;
    default:
      break;
  }
  return MNL_CB_OK;
}

// iproute2's names for RTAX_* metrics (index = RTAX_*), "" where it has none we print.
constexpr std::array<const char*, 18> kMetricNames{
    "",         "",        "mtu",      "window",     "rtt",      "rttvar",
    "ssthresh", "cwnd",    "advmss",   "reordering", "hoplimit", "initcwnd",
    "features", "rto_min", "initrwnd", "quickack",   "congctl",  "fastopen_no_cookie"};

}  // namespace

std::string route_protocol_name(std::uint8_t protocol) {
  switch (protocol) {
    case RTPROT_REDIRECT:
      return "redirect";
    case RTPROT_KERNEL:
      return "kernel";
    case RTPROT_BOOT:
      return "boot";
    case RTPROT_STATIC:
      return "static";
    case RTPROT_RA:
      return "ra";
    case RTPROT_DHCP:
      return "dhcp";
    default:
      return std::to_string(protocol);
  }
}

std::string RouteInfo::destination() const {
  if (dst_len == 0) return "default";
  return address_text(family, dst) + "/" + std::to_string(dst_len);
}

std::string RouteInfo::gateway_text() const {
  return address_text(family, gateway);
}

std::string RouteInfo::prefsrc_text() const {
  return address_text(family, prefsrc);
}

std::optional<std::uint32_t> RouteInfo::metric(std::uint16_t metric_type) const {
  for (const auto& entry : metrics) {
    if (entry.type == metric_type) return payload_u32(entry.payload);
  }
  return std::nullopt;
}

void RouteInfo::set_metric(std::uint16_t metric_type, std::optional<std::uint32_t> value) {
  auto it = std::find_if(metrics.begin(), metrics.end(),
                         [&](const RouteMetric& entry) { return entry.type == metric_type; });
  if (!value) {
    if (it != metrics.end()) metrics.erase(it);
    return;
  }
  std::vector<std::uint8_t> payload(sizeof(std::uint32_t));
  std::memcpy(payload.data(), &*value, sizeof(std::uint32_t));
  if (it != metrics.end()) {
    it->payload = std::move(payload);
  } else {
    metrics.push_back(RouteMetric{metric_type, std::move(payload)});
  }
}

bool RouteInfo::same_key(const RouteInfo& other) const {
  return family == other.family && table == other.table && dst_len == other.dst_len &&
         dst == other.dst && src_len == other.src_len && src == other.src && tos == other.tos &&
         priority.value_or(0) == other.priority.value_or(0);
}

std::string RouteInfo::describe() const {
  std::string text = destination();
  if (!gateway.empty()) text += " via " + gateway_text();
  if (!dev.empty()) text += " dev " + dev;
  if (table != RT_TABLE_MAIN) text += " table " + std::to_string(table);
  return text;
}

std::string RouteInfo::ip_route_arguments() const {
  std::string text = destination();
  if (src_len > 0) text += " from " + address_text(family, src) + "/" + std::to_string(src_len);
  if (tos != 0) text += " tos " + std::to_string(tos);
  if (!gateway.empty()) text += " via " + gateway_text();
  if (!dev.empty()) text += " dev " + dev;
  if (table != RT_TABLE_MAIN) text += " table " + std::to_string(table);
  text += " proto " + route_protocol_name(protocol);
  if (family == AF_INET && scope != RT_SCOPE_UNIVERSE) {
    text += scope == RT_SCOPE_LINK ? " scope link" : " scope " + std::to_string(scope);
  }
  if (!prefsrc.empty()) text += " src " + prefsrc_text();
  if (priority) text += " metric " + std::to_string(*priority);
  if ((flags & RTNH_F_ONLINK) != 0) text += " onlink";
  const std::uint32_t locked = metric(RTAX_LOCK).value_or(0);
  for (const auto& entry : metrics) {
    if (entry.type == RTAX_LOCK) continue;
    if (entry.type == RTAX_CC_ALGO) {
      const auto* name = reinterpret_cast<const char*>(entry.payload.data());
      text += " congctl ";
      text += std::string(name, ::strnlen(name, entry.payload.size()));
      continue;
    }
    const auto value = payload_u32(entry.payload);
    if (!value || entry.type >= kMetricNames.size() || *kMetricNames[entry.type] == '\0') continue;
    if (entry.type == RTAX_FEATURES) {
      if ((*value & RTAX_FEATURE_ECN) != 0) text += " features ecn";  // the only settable one
      continue;
    }
    text += ' ';
    text += kMetricNames[entry.type];
    if (entry.type < 32 && (locked & (1U << entry.type)) != 0) text += " lock";
    // iproute2 keeps rtt in units of 1/8 ms and rttvar in 1/4 ms; rto_min is in ms.
    if (entry.type == RTAX_RTT) {
      text += " " + std::to_string(*value / 8) + "ms";
    } else if (entry.type == RTAX_RTTVAR) {
      text += " " + std::to_string(*value / 4) + "ms";
    } else if (entry.type == RTAX_RTO_MIN) {
      text += " " + std::to_string(*value) + "ms";
    } else {
      text += " " + std::to_string(*value);
    }
  }
  return text;
}

RouteInfo Netlink::route_to(const std::string& address) {
  std::array<unsigned char, 16> raw{};
  int family = AF_INET;
  if (inet_pton(AF_INET, address.c_str(), raw.data()) != 1) {
    family = AF_INET6;
    if (inet_pton(AF_INET6, address.c_str(), raw.data()) != 1) {
      throw std::invalid_argument("malformed address '" + address +
                                  "' (expected an IPv4 or IPv6 address)");
    }
  }
  const std::size_t size = family == AF_INET ? 4 : 16;
  nlmsghdr* request = start_request(RTM_GETROUTE, 0);
  auto* header = static_cast<rtmsg*>(mnl_nlmsg_put_extra_header(request, sizeof(rtmsg)));
  header->rtm_family = static_cast<std::uint8_t>(family);
  header->rtm_dst_len = static_cast<std::uint8_t>(size * 8);
  // FIB_MATCH (Linux 4.13): the configured route that matched, with its metrics, rather than a
  // resolved per-destination result.
  header->rtm_flags = RTM_F_FIB_MATCH;
  mnl_attr_put(request, RTA_DST, size, raw.data());
  std::optional<RouteInfo> found;
  execute(request, "RTM_GETROUTE", address, [&](const nlmsghdr* message) {
    if (auto route = parse_route(message)) found = std::move(route);
  });
  if (!found) throw_error("RTM_GETROUTE", address, ENETUNREACH);
  if (found->oif > 0) found->dev = link_info(found->oif).name;
  return *found;
}

std::vector<RouteInfo> Netlink::list_routes(int family) {
  std::vector<RouteInfo> routes;
  constexpr int kAttempts = 5;
  for (int attempt = 1;; ++attempt) {
    routes.clear();
    nlmsghdr* request = start_request(RTM_GETROUTE, NLM_F_DUMP);
    auto* header = static_cast<rtmsg*>(mnl_nlmsg_put_extra_header(request, sizeof(rtmsg)));
    header->rtm_family = static_cast<std::uint8_t>(family);
    std::string kernel_message;
    const int result = exchange(
        request,
        [&](const nlmsghdr* message) {
          if (auto route = parse_route(message)) routes.push_back(std::move(*route));
        },
        kernel_message);
    if (result < 0) throw_error("RTM_GETROUTE dump", kernel_message, -result);
    if (result == 0 || attempt == kAttempts) break;  // 1: changed during the dump, try again
  }
  for (auto& route : routes) {
    if (route.oif > 0) route.dev = link_info(route.oif).name;
  }
  return routes;
}

void Netlink::replace_route(const RouteInfo& route) {
  if (!route.unsupported.empty()) {
    throw std::invalid_argument("cannot change route " + route.describe() + ": " +
                                route.unsupported);
  }
  // No NLM_F_CREATE: replace the existing entry or fail with ENOENT, never add a second one.
  nlmsghdr* request = start_request(RTM_NEWROUTE, NLM_F_REPLACE);
  auto* header = static_cast<rtmsg*>(mnl_nlmsg_put_extra_header(request, sizeof(rtmsg)));
  header->rtm_family = static_cast<std::uint8_t>(route.family);
  header->rtm_dst_len = route.dst_len;
  header->rtm_src_len = route.src_len;
  header->rtm_tos = route.tos;
  header->rtm_table = static_cast<std::uint8_t>(route.table < 256 ? route.table : RT_TABLE_UNSPEC);
  header->rtm_protocol = route.protocol;
  header->rtm_scope = route.scope;
  header->rtm_type = route.type;
  header->rtm_flags = route.flags & RTNH_F_ONLINK;
  mnl_attr_put_u32(request, RTA_TABLE, route.table);
  if (route.dst_len > 0) mnl_attr_put(request, RTA_DST, route.dst.size(), route.dst.data());
  if (route.src_len > 0) mnl_attr_put(request, RTA_SRC, route.src.size(), route.src.data());
  if (!route.gateway.empty()) {
    mnl_attr_put(request, RTA_GATEWAY, route.gateway.size(), route.gateway.data());
  }
  if (route.oif > 0) mnl_attr_put_u32(request, RTA_OIF, static_cast<std::uint32_t>(route.oif));
  if (route.priority) mnl_attr_put_u32(request, RTA_PRIORITY, *route.priority);
  if (!route.prefsrc.empty()) {
    mnl_attr_put(request, RTA_PREFSRC, route.prefsrc.size(), route.prefsrc.data());
  }
  if (route.pref) mnl_attr_put_u8(request, RTA_PREF, *route.pref);
  if (!route.metrics.empty()) {
    nlattr* nest = mnl_attr_nest_start(request, RTA_METRICS);
    for (const auto& entry : route.metrics) {
      mnl_attr_put(request, entry.type, entry.payload.size(), entry.payload.data());
    }
    mnl_attr_nest_end(request, nest);
  }
  execute(request, "RTM_NEWROUTE replace", route.describe());
}

LinkInfo Netlink::link_info(int ifindex) {
  nlmsghdr* request = start_request(RTM_GETLINK, 0);
  auto* header = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(request, sizeof(ifinfomsg)));
  header->ifi_family = AF_UNSPEC;
  header->ifi_index = ifindex;
  mnl_attr_put_u32(request, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
  LinkInfo link;
  execute(request, "RTM_GETLINK", "ifindex " + std::to_string(ifindex),
          [&](const nlmsghdr* message) {
            if (message->nlmsg_type != RTM_NEWLINK ||
                mnl_nlmsg_get_payload_len(message) < sizeof(ifinfomsg)) {
              return;
            }
            const auto* reply = static_cast<const ifinfomsg*>(mnl_nlmsg_get_payload(message));
            link.index = reply->ifi_index;
            mnl_attr_parse(message, sizeof(ifinfomsg), collect_link_attribute, &link);
          });
  if (link.index <= 0) throw_error("RTM_GETLINK", "ifindex " + std::to_string(ifindex), ENODEV);
  return link;
}

}  // namespace longhaul::io

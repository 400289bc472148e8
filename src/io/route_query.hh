#pragma once
// Routes and links as the kernel reports them over rtnetlink, for inspecting and changing the
// per-route TCP metrics (initcwnd, initrwnd) that `ip route change ... initcwnd 20` sets.
//
// A route is changed by replacing it whole (RTM_NEWROUTE with NLM_F_REPLACE): every attribute
// longhaul read is sent back unchanged except the metrics, because a replace that omitted, say,
// "mtu lock 1400" or the preferred source would silently drop them. Routes longhaul cannot
// reproduce exactly (multipath, nexthop objects, lightweight tunnels, expiring routes learnt from
// router advertisements) are reported with a reason in `unsupported` and never replaced.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "io/netlink.hh"

namespace longhaul::io {

/// One RTA_METRICS entry: an RTAX_* type and its payload (a u32, or a name for RTAX_CC_ALGO).
struct RouteMetric {
  std::uint16_t type = 0;
  std::vector<std::uint8_t> payload;

  friend bool operator==(const RouteMetric&, const RouteMetric&) = default;
};

/// A unicast route, with what is needed to find it again and to replace it exactly.
struct RouteInfo {
  int family = 0;  ///< AF_INET or AF_INET6
  std::uint8_t dst_len = 0;
  std::uint8_t src_len = 0;
  std::uint8_t tos = 0;
  std::uint8_t protocol = 0;              ///< RTPROT_*
  std::uint8_t scope = 0;                 ///< RT_SCOPE_*
  std::uint8_t type = 0;                  ///< RTN_*
  std::uint32_t flags = 0;                ///< rtm_flags
  std::uint32_t table = 0;                ///< RTA_TABLE (or rtm_table)
  std::vector<std::uint8_t> dst;          ///< raw address, empty for a default route
  std::vector<std::uint8_t> src;          ///< raw source prefix (policy routing), usually empty
  std::vector<std::uint8_t> gateway;      ///< raw, empty when on-link
  std::vector<std::uint8_t> prefsrc;      ///< raw preferred source, usually empty
  std::optional<std::uint32_t> priority;  ///< RTA_PRIORITY ("metric" in `ip route`)
  std::optional<std::uint8_t> pref;       ///< RTA_PREF (IPv6 router preference)
  int oif = 0;                            ///< output ifindex, 0 if none
  std::string dev;                        ///< name of oif ("" if none)
  std::vector<RouteMetric> metrics;       ///< RTA_METRICS, in the order the kernel gave them
  std::string unsupported;                ///< non-empty: why replace_route() refuses this route

  /// "default", "198.18.1.0/24" or "2001:2::/48".
  std::string destination() const;
  /// The gateway address as text, "" when on-link.
  std::string gateway_text() const;
  /// The preferred source address as text, "" when unset.
  std::string prefsrc_text() const;
  /// The u32 value of metric `type` (RTAX_*), if present.
  std::optional<std::uint32_t> metric(std::uint16_t type) const;
  /// Sets metric `type` to `value`, or removes it when `value` is empty (kernel default).
  void set_metric(std::uint16_t type, std::optional<std::uint32_t> value);
  /// True if `other` is the same FIB entry: family, table, destination, source, tos, priority.
  bool same_key(const RouteInfo& other) const;
  /// Short human form: "default via 192.0.2.1 dev eth0".
  std::string describe() const;
  /// The arguments `ip route change` needs to reproduce this route with its metrics, e.g.
  /// "default via 192.0.2.1 dev eth0 proto dhcp src 192.0.2.2 metric 100 initcwnd 20".
  std::string ip_route_arguments() const;
};

/// A network interface's queueing-related properties.
struct LinkInfo {
  int index = 0;
  std::string name;
  std::uint32_t mtu = 0;
  std::uint32_t txqueuelen = 0;
  std::string qdisc;  ///< root qdisc kind ("fq_codel", "noqueue", ...), "" if unknown
};

/// Names of the RTPROT_* values iproute2 knows ("boot", "kernel", "static", "dhcp", "ra"...),
/// else the number as text.
std::string route_protocol_name(std::uint8_t protocol);

}  // namespace longhaul::io

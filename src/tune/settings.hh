#pragma once
// What the tuner knows about a host (or a network namespace) and what it was asked.
//
// HostSettings is filled by tune/inspect.cc from /proc/sys, uname and rtnetlink, and built by
// hand in tests; everything that decides anything (tune/recommend.cc) reads only these structs.
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/units.hh"

namespace longhaul::tune {

/// The running kernel's version, from uname's release ("6.18.44-fc-v769").
struct KernelVersion {
  unsigned major = 0;
  unsigned minor = 0;
  unsigned patch = 0;
  std::string release;  ///< the release string as reported

  /// Parses "MAJOR.MINOR[.PATCH][anything]"; nullopt if it does not start that way.
  static std::optional<KernelVersion> parse(std::string_view release);
  /// True if this kernel is MAJOR.MINOR or newer.
  bool at_least(unsigned want_major, unsigned want_minor) const {
    return major != want_major ? major > want_major : minor >= want_minor;
  }
};

/// Where a setting lives, hence where it can be applied.
enum class Scope {
  global,     ///< one value for the whole machine (host only)
  netns,      ///< one value per network namespace
  interface,  ///< a property of a network interface (which belongs to one namespace)
  route,      ///< a metric of one route (in one namespace)
};
std::string_view to_string(Scope scope);

/// The interface the route to the peer leaves by.
struct LinkSettings {
  std::string name;
  std::uint32_t mtu = 0;
  std::uint32_t txqueuelen = 0;
  std::string qdisc;  ///< root qdisc kind, "" if unknown
};

/// The route to the peer (or the default route) and its TCP metrics.
struct RouteSettings {
  std::string description;  ///< "default via 192.0.2.1 dev eth0"
  /// What `ip route change` needs to reproduce the route (io::RouteInfo::ip_route_arguments),
  /// without its initcwnd and initrwnd, which the tuner appends.
  std::string ip_arguments;
  std::string dev;
  std::optional<std::uint32_t> initcwnd;  ///< unset: the kernel default (10 segments)
  std::optional<std::uint32_t> initrwnd;  ///< unset: the kernel default (10 segments)
  std::optional<std::uint32_t> mtu;       ///< a route "mtu" metric, overriding the link's
  bool ipv6 = false;                      ///< IPv6 headers are 20 bytes longer
  std::string unsupported;                ///< non-empty: why longhaul will not change this route
};

/// Everything read from one target (the host, or one network namespace).
struct HostSettings {
  KernelVersion kernel;
  /// Sysctl values as read, by sysctl(8) name ("net.ipv4.tcp_rmem"; an interface name with dots
  /// appears with slashes: "net.ipv4.conf.eth0/100.rp_filter"). Absent: not on this kernel.
  std::map<std::string, std::string> sysctls;
  /// True when read inside a network namespace: then `netns_writable` says which sysctls are
  /// that namespace's own (writable there); the others are the host's, seen read-only.
  bool read_in_netns = false;
  std::set<std::string> netns_writable;
  std::optional<LinkSettings> link;
  std::optional<RouteSettings> route;
  std::uint64_t page_size = 4096;  ///< tcp_mem is in pages of this size
  std::vector<std::string> notes;  ///< what could not be read, e.g. "no default route here"

  /// The value of sysctl `name`, if present.
  std::optional<std::string> sysctl(const std::string& name) const;
  /// Its whitespace-separated integers (tcp_rmem: three); nullopt if absent or not numeric.
  std::optional<std::vector<std::int64_t>> integers(const std::string& name) const;
  /// Its single integer value; nullopt if absent or not one integer.
  std::optional<std::int64_t> integer(const std::string& name) const;
};

enum class TargetKind { host, netns };
enum class Os { linux_os, macos_os };

/// What the user asked for.
struct TuneRequest {
  std::uint64_t rate_bps = 0;
  core::Nanos rtt{0};  ///< round trip
  unsigned streams = 1;
  Os os = Os::linux_os;
  TargetKind target = TargetKind::host;
  std::string netns;                  ///< when target is netns
  std::string peer;                   ///< address whose route is inspected; "" = default route
  std::optional<double> loss;         ///< packet loss probability, for Mathis
  std::optional<double> churn_per_s;  ///< new connections per second to one server address:port
};

/// The /proc/sys-relative path of a sysctl(8) name: "net.ipv4.conf.eth0/100.rp_filter" ->
/// "net/ipv4/conf/eth0.100/rp_filter" (io::sysctl_path accepts it as is).
std::string sysctl_relative_path(const std::string& name);
/// The sysctl(8) name of a /proc/sys-relative path (the inverse of sysctl_relative_path).
std::string sysctl_name(const std::string& relative_path);

/// Collapses runs of blanks and tabs into one space and trims: "4096\t131072" -> "4096 131072".
std::string normalize_value(std::string_view value);

}  // namespace longhaul::tune

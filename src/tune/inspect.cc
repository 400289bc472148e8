#include "tune/inspect.hh"

#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "io/error.hh"
#include "io/netns.hh"
#include "io/sysctl.hh"

namespace longhaul::tune {

namespace {

std::optional<std::string> try_read_sysctl(const std::string& name) {
  try {
    return io::read_sysctl(sysctl_relative_path(name));
  } catch (const io::SystemError&) {
    return std::nullopt;  // not on this kernel, module not loaded, or not readable here
  }
}

bool sysctl_writable(const std::string& name) {
  // /proc/sys answers with the table's mode in the calling thread's namespace: a sysctl that
  // belongs to the host shows 0444 inside other namespaces (checked on 6.18 for net.core.*
  // and nf_conntrack_max / nf_conntrack_buckets).
  const std::string path = "/proc/sys/" + sysctl_relative_path(name);
  return ::access(path.c_str(), W_OK) == 0;
}

std::string rp_filter_name(const std::string& dev) {
  std::string component = dev;
  std::replace(component.begin(), component.end(), '.', '/');
  return "net.ipv4.conf." + component + ".rp_filter";
}

// What is read inside the target's namespace (on a thread there, for a netns target).
struct Reading {
  std::map<std::string, std::string> sysctls;
  std::set<std::string> writable;
  std::optional<LinkSettings> link;
  std::optional<RouteSettings> route;
  std::vector<std::string> missing;  // sysctls absent in the namespace
  std::string route_problem;
};

Reading read_here(const std::string& peer, bool probe_writable) {
  Reading reading;
  io::Netlink netlink = io::Netlink::open();
  try {
    if (const auto route = select_route(netlink, peer)) {
      reading.route = route_settings(*route);
      if (route->oif > 0) {
        const io::LinkInfo link = netlink.link_info(route->oif);
        reading.link = LinkSettings{link.name, link.mtu, link.txqueuelen, link.qdisc};
      }
    } else {
      reading.route_problem = peer.empty() ? "no default route here; give --peer ADDRESS to "
                                             "inspect the route to a peer"
                                           : "no route to " + peer;
    }
  } catch (const io::SystemError& error) {
    reading.route_problem = std::string("route lookup failed: ") + error.what();
  }
  std::vector<std::string> names = inspected_sysctls();
  if (reading.link) names.push_back(rp_filter_name(reading.link->name));
  for (const auto& name : names) {
    if (auto value = try_read_sysctl(name)) {
      reading.sysctls.emplace(name, std::move(*value));
      if (probe_writable && sysctl_writable(name)) reading.writable.insert(name);
    } else {
      reading.missing.push_back(name);
    }
  }
  return reading;
}

}  // namespace

const std::vector<std::string>& inspected_sysctls() {
  static const std::vector<std::string> names{
      "net.core.rmem_max",
      "net.core.wmem_max",
      "net.core.default_qdisc",
      "net.ipv4.tcp_rmem",
      "net.ipv4.tcp_wmem",
      "net.ipv4.tcp_mem",
      "net.ipv4.tcp_adv_win_scale",
      "net.ipv4.tcp_congestion_control",
      "net.ipv4.tcp_available_congestion_control",
      "net.ipv4.tcp_allowed_congestion_control",
      "net.ipv4.tcp_mtu_probing",
      "net.ipv4.tcp_slow_start_after_idle",
      "net.ipv4.tcp_window_scaling",
      "net.ipv4.tcp_sack",
      "net.ipv4.tcp_timestamps",
      "net.ipv4.tcp_tw_recycle",
      "net.ipv4.tcp_tw_reuse",
      "net.ipv4.tcp_tw_reuse_delay",
      "net.ipv4.ip_local_port_range",
      "net.netfilter.nf_conntrack_max",
      "net.netfilter.nf_conntrack_buckets",
      "net.netfilter.nf_conntrack_tcp_timeout_time_wait",
      "net.ipv4.conf.all.rp_filter",
  };
  return names;
}

RouteKey route_key(const io::RouteInfo& route) {
  RouteKey key;
  key.family = route.family;
  key.table = route.table;
  key.destination = route.destination();
  if (route.src_len > 0) {
    io::RouteInfo source = route;  // format the source prefix the way destinations are
    source.dst = route.src;
    source.dst_len = route.src_len;
    key.source = source.destination();
  }
  key.tos = route.tos;
  key.priority = route.priority.value_or(0);
  return key;
}

RouteSettings route_settings(const io::RouteInfo& route) {
  RouteSettings settings;
  settings.description = route.describe();
  settings.dev = route.dev;
  settings.initcwnd = route.metric(RTAX_INITCWND);
  settings.initrwnd = route.metric(RTAX_INITRWND);
  settings.mtu = route.metric(RTAX_MTU);
  settings.ipv6 = route.family == AF_INET6;
  settings.unsupported = route.unsupported;
  io::RouteInfo without_windows = route;
  without_windows.set_metric(RTAX_INITCWND, std::nullopt);
  without_windows.set_metric(RTAX_INITRWND, std::nullopt);
  settings.ip_arguments = without_windows.ip_route_arguments();
  return settings;
}

std::optional<io::RouteInfo> select_route(io::Netlink& netlink, const std::string& peer) {
  if (!peer.empty()) {
    try {
      return netlink.route_to(peer);
    } catch (const io::SystemError& error) {
      if (error.code() == ENETUNREACH || error.code() == EHOSTUNREACH) return std::nullopt;
      throw;
    }
  }
  for (const int family : {AF_INET, AF_INET6}) {
    std::optional<io::RouteInfo> best;
    for (auto& route : netlink.list_routes(family)) {
      if (route.table != RT_TABLE_MAIN || route.dst_len != 0 || route.src_len != 0) continue;
      if (!best || route.priority.value_or(0) < best->priority.value_or(0)) best = std::move(route);
    }
    if (best) return best;
  }
  return std::nullopt;
}

std::optional<io::RouteInfo> find_route(io::Netlink& netlink, const RouteKey& key) {
  for (auto& route : netlink.list_routes(key.family)) {
    if (route_key(route) == key) return std::move(route);
  }
  return std::nullopt;
}

HostSettings inspect(const TuneRequest& request) {
  HostSettings settings;
  utsname names{};
  if (::uname(&names) != 0) io::throw_errno("uname", "");
  settings.kernel =
      KernelVersion::parse(names.release).value_or(KernelVersion{0, 0, 0, names.release});
  const long page = ::sysconf(_SC_PAGESIZE);
  if (page > 0) settings.page_size = static_cast<std::uint64_t>(page);

  Reading reading;
  if (request.target == TargetKind::netns) {
    const io::Netns netns = io::Netns::open(request.netns);
    reading = io::run_in_netns(netns.fd(), [&] { return read_here(request.peer, true); });
    settings.read_in_netns = true;
    // Host-global sysctls some kernels hide inside namespaces (net.core.default_qdisc,
    // tcp_mem on 6.x): the host's value is the one in force, and it is not writable there.
    for (const auto& name : reading.missing) {
      if (auto value = try_read_sysctl(name)) reading.sysctls.emplace(name, std::move(*value));
    }
  } else {
    reading = read_here(request.peer, false);
  }
  settings.sysctls = std::move(reading.sysctls);
  settings.netns_writable = std::move(reading.writable);
  settings.link = std::move(reading.link);
  settings.route = std::move(reading.route);
  if (!reading.route_problem.empty()) settings.notes.push_back(reading.route_problem);
  return settings;
}

}  // namespace longhaul::tune

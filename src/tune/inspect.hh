#pragma once
// The io side of the tuner: reads a host's (or a network namespace's) settings into
// HostSettings. Everything it reads is listed in inspected_sysctls() and docs/tune.md.
#include <optional>
#include <string>
#include <vector>

#include "io/route_query.hh"
#include "tune/saved_state.hh"
#include "tune/settings.hh"

namespace longhaul::tune {

/// The sysctls read from every target (per-interface rp_filter is added for the route's device).
const std::vector<std::string>& inspected_sysctls();

/// Reads kernel version, sysctls, the route to request.peer (or the default route) and its
/// interface, from the host or, for a netns target, from inside /run/netns/NAME (where it also
/// notes which sysctls that namespace may write). Needs root for a namespace.
HostSettings inspect(const TuneRequest& request);

/// The route to `peer`, or the main table's default route (IPv4, else IPv6) when `peer` is
/// empty; nullopt when there is none. Uses `netlink`'s namespace.
std::optional<io::RouteInfo> select_route(io::Netlink& netlink, const std::string& peer);
/// The route with `key` in `netlink`'s namespace, if it still exists.
std::optional<io::RouteInfo> find_route(io::Netlink& netlink, const RouteKey& key);
/// The key that finds `route` again.
RouteKey route_key(const io::RouteInfo& route);
/// RouteSettings (what the rules see) of an io route.
RouteSettings route_settings(const io::RouteInfo& route);

}  // namespace longhaul::tune

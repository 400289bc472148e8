#pragma once
// rtnetlink client (libmnl) for the few link, address and route operations the lab needs.
// Every request asks for an ACK and checks it, so a failure surfaces as a SystemError naming the
// request and the interface, e.g. "RTM_NEWLINK veth lh-r1a peer lh-r1b: File exists", with the
// kernel's extended-ACK text appended to the object when it gives one.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

struct mnl_socket;
struct nlmsghdr;

namespace longhaul::io {

struct RouteInfo;  // io/route_query.hh
struct LinkInfo;   // io/route_query.hh

/// An rtnetlink socket, bound to the network namespace of the thread that opened it. Move-only.
class Netlink {
 public:
  /// Opens a socket in the calling thread's network namespace.
  static Netlink open();
  /// Opens a socket in network namespace `ns_fd`; it stays there whichever thread uses it.
  static Netlink open_in(int ns_fd);

  Netlink(const Netlink&) = delete;
  Netlink& operator=(const Netlink&) = delete;
  Netlink(Netlink&& other) noexcept;
  Netlink& operator=(Netlink&& other) noexcept;
  ~Netlink();

  /// Creates veth pair name <-> peer_name here, the peer directly in namespace peer_ns_fd if >= 0.
  void create_veth(const std::string& name, const std::string& peer_name, int peer_ns_fd = -1);
  /// Creates a software layer-2 switch (a Linux bridge) called `name`: no spanning tree (ports
  /// forward as soon as they are up) and no multicast snooping (IPv6 neighbour discovery floods).
  void create_bridge(const std::string& name);
  /// Makes `name` a port of bridge `bridge`.
  void set_master(const std::string& name, const std::string& bridge);
  /// The ifindex of `name` (SystemError with ENODEV if there is no such link).
  int link_index(const std::string& name);
  /// True if a link called `name` exists in this socket's namespace.
  bool link_exists(const std::string& name);
  /// Names of all links in this socket's namespace, in ifindex order.
  std::vector<std::string> list_links();

  /// Sets IFF_UP on `name`.
  void set_link_up(const std::string& name);
  /// Sets the MTU of `name` in bytes (L3, as `ip link set mtu`).
  void set_mtu(const std::string& name, unsigned mtu);
  /// Sets the transmit queue length of `name` in packets.
  void set_txqueuelen(const std::string& name, unsigned packets);

  /// Adds "198.18.1.1/24" or "2001:2:0:1::1/64" to `name`; IPv6 without DAD so it is usable at
  /// once. Malformed CIDR text: std::invalid_argument naming it.
  void add_address(const std::string& name, const std::string& cidr);
  /// Adds a main-table route to cidr_destination ("default" allowed) via gateway (may be empty:
  /// on-link) out of dev. IPv4 or IPv6, but destination and gateway must agree.
  void add_route(const std::string& cidr_destination, const std::string& gateway_or_empty,
                 const std::string& dev);

  /// The route the kernel would use to reach `address`, as configured (`ip route get ADDRESS
  /// fibmatch`). Defined in route_query.cc.
  RouteInfo route_to(const std::string& address);
  /// Every unicast route of `family` (AF_INET or AF_INET6) in every table. In route_query.cc.
  std::vector<RouteInfo> list_routes(int family);
  /// Replaces `route` (found again by its key: table, destination, tos, priority) with the same
  /// route carrying `route.metrics` (RTM_NEWROUTE NLM_F_REPLACE). In route_query.cc.
  void replace_route(const RouteInfo& route);
  /// MTU, transmit queue length and qdisc of link `ifindex`. In route_query.cc.
  LinkInfo link_info(int ifindex);

  /// Deletes link `name` (for a veth, both ends go).
  void delete_link(const std::string& name);
  /// Deletes link `name` if it exists; true if it was deleted. Never throws (teardown path).
  bool delete_link_if_exists(const std::string& name) noexcept;

 private:
  using MessageHandler = std::function<void(const nlmsghdr*)>;

  Netlink(mnl_socket* socket, unsigned port_id) noexcept;
  void close() noexcept;
  // Starts a request in buffer_ with a fresh sequence number and NLM_F_REQUEST|NLM_F_ACK.
  nlmsghdr* start_request(std::uint16_t type, std::uint16_t flags);
  // Sends the request and reads replies until its ACK, error or NLMSG_DONE; data messages go to
  // on_message. Returns a negative errno, 0, or 1 for a dump interrupted by a concurrent change;
  // `kernel_message` receives any extended-ACK text.
  int exchange(nlmsghdr* request, const MessageHandler& on_message, std::string& kernel_message);
  // exchange() that throws SystemError(what, object) on failure.
  void execute(nlmsghdr* request, const std::string& what, const std::string& object,
               const MessageHandler& on_message = {});
  // RTM_NEWLINK on an existing link by name, with extra attributes added by `fill`.
  void modify_link(const std::string& name, const std::string& what, unsigned flags,
                   unsigned change, const std::function<void(nlmsghdr*)>& fill);

  mnl_socket* socket_ = nullptr;
  unsigned port_id_ = 0;
  std::uint32_t sequence_ = 0;
  std::vector<char> request_buffer_;
  std::vector<char> reply_buffer_;
};

}  // namespace longhaul::io

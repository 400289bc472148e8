#include "io/netlink.hh"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string_view>
#include <utility>

#include "io/error.hh"
#include "io/netns.hh"

namespace longhaul::io {

namespace {

// Requests are small (a veth with its peer is under 200 bytes).
constexpr std::size_t kRequestBufferSize = 8192;
// Dump replies: the kernel sizes dump skbs from the largest receive buffer it has seen, up to
// 32 KiB, and truncates (MSG_TRUNC) into a smaller one. 64 KiB leaves room for extended ACKs.
constexpr std::size_t kReplyBufferSize = 65536;
// A dump interrupted by a concurrent change (NLM_F_DUMP_INTR) is restarted this many times.
constexpr int kDumpAttempts = 5;

// An address with an optional prefix length, parsed from text.
struct Prefix {
  int family = AF_UNSPEC;
  std::array<unsigned char, 16> bytes{};
  std::uint8_t length = 0;

  std::size_t address_size() const noexcept { return family == AF_INET ? 4 : 16; }
  std::uint8_t max_length() const noexcept { return family == AF_INET ? 32 : 128; }
};

// Parses a bare IPv4 or IPv6 address; false if it is neither.
bool parse_address(const std::string& text, Prefix& out) {
  if (inet_pton(AF_INET, text.c_str(), out.bytes.data()) == 1) {
    out.family = AF_INET;
  } else if (inet_pton(AF_INET6, text.c_str(), out.bytes.data()) == 1) {
    out.family = AF_INET6;
  } else {
    return false;
  }
  out.length = out.max_length();
  return true;
}

// Parses "ADDRESS/LENGTH" strictly: both parts required, length in decimal within the family's
// range, nothing trailing. `what` says which argument it was, for the error.
Prefix parse_cidr(const std::string& text, std::string_view what) {
  const auto fail = [&]() -> Prefix {
    throw std::invalid_argument(
        "malformed " + std::string(what) + " '" + text +
        "' (expected ADDRESS/LENGTH, e.g. 198.18.1.1/24 or 2001:db8::1/64)");
  };
  const std::size_t slash = text.find('/');
  if (slash == std::string::npos) return fail();
  Prefix prefix;
  if (!parse_address(text.substr(0, slash), prefix)) return fail();
  const std::string_view digits = std::string_view(text).substr(slash + 1);
  if (digits.empty() || digits.size() > 3) return fail();
  unsigned length = 0;
  for (const char c : digits) {
    if (c < '0' || c > '9') return fail();
    length = length * 10 + static_cast<unsigned>(c - '0');
  }
  if (length > prefix.max_length()) return fail();
  prefix.length = static_cast<std::uint8_t>(length);
  return prefix;
}

// Interface names: what the kernel's dev_valid_name() accepts, checked here so the error names
// the text instead of being a bare EINVAL.
void check_ifname(const std::string& name) {
  bool valid = !name.empty() && name.size() < IFNAMSIZ && name != "." && name != "..";
  for (const char c : name) {
    if (c == '/' || c == ':' || c == '\0' || c == ' ' || c == '\t' || c == '\n') valid = false;
  }
  if (!valid) throw std::invalid_argument("invalid interface name '" + name + "'");
}

// First attribute of `type` after the fixed header of `header_size` bytes, or nullptr.
const nlattr* find_attribute(const nlmsghdr* message, std::size_t header_size, std::uint16_t type) {
  if (mnl_nlmsg_get_payload_len(message) < header_size) return nullptr;
  const auto* attribute =
      static_cast<const nlattr*>(mnl_nlmsg_get_payload_offset(message, header_size));
  const auto* tail = static_cast<const char*>(mnl_nlmsg_get_payload_tail(message));
  int remaining = static_cast<int>(tail - reinterpret_cast<const char*>(attribute));
  while (mnl_attr_ok(attribute, remaining)) {
    if (mnl_attr_get_type(attribute) == type) return attribute;
    const nlattr* next = mnl_attr_next(attribute);
    remaining -= static_cast<int>(reinterpret_cast<const char*>(next) -
                                  reinterpret_cast<const char*>(attribute));
    attribute = next;
  }
  return nullptr;
}

std::string attribute_string(const nlattr* attribute) {
  const auto* text = static_cast<const char*>(mnl_attr_get_payload(attribute));
  return std::string(text, ::strnlen(text, mnl_attr_get_payload_len(attribute)));
}

const ifinfomsg* link_header(const nlmsghdr* message) {
  if (message->nlmsg_type != RTM_NEWLINK ||
      mnl_nlmsg_get_payload_len(message) < sizeof(ifinfomsg)) {
    return nullptr;
  }
  return static_cast<const ifinfomsg*>(mnl_nlmsg_get_payload(message));
}

// Outcome of one request/reply exchange.
struct Outcome {
  int error = 0;             // positive errno, 0 on success
  bool interrupted = false;  // a dump saw NLM_F_DUMP_INTR and may be inconsistent
  std::string kernel_message;
};

// Reads the error and extended-ACK text of an NLMSG_ERROR or NLMSG_DONE message.
void read_status(const nlmsghdr* message, Outcome& outcome) {
  const std::size_t payload = mnl_nlmsg_get_payload_len(message);
  if (payload < sizeof(int)) return;
  int error = 0;
  std::memcpy(&error, mnl_nlmsg_get_payload(message), sizeof error);
  outcome.error = error < 0 ? -error : error;
  if ((message->nlmsg_flags & NLM_F_ACK_TLVS) == 0) return;
  std::size_t tlv_offset = sizeof(int);
  if (message->nlmsg_type == NLMSG_ERROR) {
    if (payload < sizeof(nlmsgerr)) return;
    const auto* header = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(message));
    // The echoed request is the header only when capped (NETLINK_CAP_ACK), else all of it.
    tlv_offset = (message->nlmsg_flags & NLM_F_CAPPED) != 0 ? sizeof(nlmsgerr)
                                                            : sizeof(int) + header->msg.nlmsg_len;
  }
  if (const nlattr* text = find_attribute(message, tlv_offset, NLMSGERR_ATTR_MSG)) {
    outcome.kernel_message = attribute_string(text);
  }
}

}  // namespace

Netlink Netlink::open() {
  mnl_socket* socket = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
  if (socket == nullptr) throw_errno("socket(NETLINK_ROUTE)", "");
  if (mnl_socket_bind(socket, 0, MNL_SOCKET_AUTOPID) < 0) {
    const int err = errno;
    mnl_socket_close(socket);
    throw_error("bind(NETLINK_ROUTE)", "", err);
  }
  // Best effort, both since Linux 4.x: short ACKs (no echoed request) and the kernel's
  // explanation of EINVAL-style errors, which we append to the exception text.
  int on = 1;
  mnl_socket_setsockopt(socket, NETLINK_CAP_ACK, &on, sizeof on);
  mnl_socket_setsockopt(socket, NETLINK_EXT_ACK, &on, sizeof on);
  return Netlink(socket, mnl_socket_get_portid(socket));
}

Netlink Netlink::open_in(int ns_fd) {
  return run_in_netns(ns_fd, [] { return Netlink::open(); });
}

Netlink::Netlink(mnl_socket* socket, unsigned port_id) noexcept
    : socket_(socket), port_id_(port_id) {}

Netlink::Netlink(Netlink&& other) noexcept
    : socket_(std::exchange(other.socket_, nullptr)),
      port_id_(other.port_id_),
      sequence_(other.sequence_),
      request_buffer_(std::move(other.request_buffer_)),
      reply_buffer_(std::move(other.reply_buffer_)) {}

Netlink& Netlink::operator=(Netlink&& other) noexcept {
  if (this != &other) {
    close();
    socket_ = std::exchange(other.socket_, nullptr);
    port_id_ = other.port_id_;
    sequence_ = other.sequence_;
    request_buffer_ = std::move(other.request_buffer_);
    reply_buffer_ = std::move(other.reply_buffer_);
  }
  return *this;
}

Netlink::~Netlink() {
  close();
}

void Netlink::close() noexcept {
  if (socket_ != nullptr) mnl_socket_close(socket_);
  socket_ = nullptr;
}

nlmsghdr* Netlink::start_request(std::uint16_t type, std::uint16_t flags) {
  if (socket_ == nullptr) throw std::logic_error("Netlink: use of a moved-from socket");
  request_buffer_.assign(kRequestBufferSize, 0);
  nlmsghdr* request = mnl_nlmsg_put_header(request_buffer_.data());
  request->nlmsg_type = type;
  request->nlmsg_flags = static_cast<std::uint16_t>(NLM_F_REQUEST | NLM_F_ACK | flags);
  request->nlmsg_seq = ++sequence_;
  return request;
}

int Netlink::exchange(nlmsghdr* request, const MessageHandler& on_message,
                      std::string& kernel_message) {
  const std::uint32_t sequence = request->nlmsg_seq;
  if (mnl_socket_sendto(socket_, request, request->nlmsg_len) < 0) return -errno;
  if (reply_buffer_.size() < kReplyBufferSize) reply_buffer_.resize(kReplyBufferSize);
  Outcome outcome;
  for (;;) {
    const ssize_t received =
        mnl_socket_recvfrom(socket_, reply_buffer_.data(), reply_buffer_.size());
    if (received < 0) {
      if (errno == EINTR) continue;
      return -errno;
    }
    int remaining = static_cast<int>(received);
    const auto* message = reinterpret_cast<const nlmsghdr*>(reply_buffer_.data());
    for (; mnl_nlmsg_ok(message, remaining); message = mnl_nlmsg_next(message, &remaining)) {
      // Leftovers of an earlier request abandoned by an exception: not ours, skip them.
      if (message->nlmsg_seq != sequence || message->nlmsg_pid != port_id_) continue;
      if ((message->nlmsg_flags & NLM_F_DUMP_INTR) != 0) outcome.interrupted = true;
      switch (message->nlmsg_type) {
        case NLMSG_NOOP:
          break;
        case NLMSG_OVERRUN:
          return -ENOBUFS;
        case NLMSG_ERROR:
        case NLMSG_DONE:
          read_status(message, outcome);
          kernel_message = std::move(outcome.kernel_message);
          if (outcome.error != 0) return -outcome.error;
          return outcome.interrupted ? 1 : 0;
        default:
          if (on_message) on_message(message);
          break;
      }
    }
  }
}

void Netlink::execute(nlmsghdr* request, const std::string& what, const std::string& object,
                      const MessageHandler& on_message) {
  std::string kernel_message;
  const int result = exchange(request, on_message, kernel_message);
  if (result >= 0) return;
  if (kernel_message.empty()) throw_error(what, object, -result);
  throw_error(what, object + " [" + kernel_message + "]", -result);
}

void Netlink::create_veth(const std::string& name, const std::string& peer_name, int peer_ns_fd) {
  check_ifname(name);
  check_ifname(peer_name);
  nlmsghdr* request = start_request(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
  auto* link = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(request, sizeof(ifinfomsg)));
  link->ifi_family = AF_UNSPEC;
  mnl_attr_put_strz(request, IFLA_IFNAME, name.c_str());
  nlattr* link_info = mnl_attr_nest_start(request, IFLA_LINKINFO);
  mnl_attr_put_strz(request, IFLA_INFO_KIND, "veth");
  nlattr* info_data = mnl_attr_nest_start(request, IFLA_INFO_DATA);
  nlattr* peer = mnl_attr_nest_start(request, VETH_INFO_PEER);
  // VETH_INFO_PEER carries a whole ifinfomsg followed by the peer's own link attributes.
  auto* peer_link = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(request, sizeof(ifinfomsg)));
  peer_link->ifi_family = AF_UNSPEC;
  mnl_attr_put_strz(request, IFLA_IFNAME, peer_name.c_str());
  if (peer_ns_fd >= 0) {
    mnl_attr_put_u32(request, IFLA_NET_NS_FD, static_cast<std::uint32_t>(peer_ns_fd));
  }
  mnl_attr_nest_end(request, peer);
  mnl_attr_nest_end(request, info_data);
  mnl_attr_nest_end(request, link_info);
  execute(request, "RTM_NEWLINK veth", name + " peer " + peer_name);
}

void Netlink::create_bridge(const std::string& name) {
  check_ifname(name);
  nlmsghdr* request = start_request(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
  auto* link = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(request, sizeof(ifinfomsg)));
  link->ifi_family = AF_UNSPEC;
  mnl_attr_put_strz(request, IFLA_IFNAME, name.c_str());
  nlattr* link_info = mnl_attr_nest_start(request, IFLA_LINKINFO);
  mnl_attr_put_strz(request, IFLA_INFO_KIND, "bridge");
  nlattr* info_data = mnl_attr_nest_start(request, IFLA_INFO_DATA);
  mnl_attr_put_u32(request, IFLA_BR_STP_STATE, 0);
  mnl_attr_put_u8(request, IFLA_BR_MCAST_SNOOPING, 0);
  mnl_attr_nest_end(request, info_data);
  mnl_attr_nest_end(request, link_info);
  execute(request, "RTM_NEWLINK bridge", name);
}

void Netlink::set_master(const std::string& name, const std::string& bridge) {
  const int bridge_index = link_index(bridge);
  modify_link(name, "RTM_NEWLINK master " + bridge, 0, 0, [bridge_index](nlmsghdr* request) {
    mnl_attr_put_u32(request, IFLA_MASTER, static_cast<std::uint32_t>(bridge_index));
  });
}

int Netlink::link_index(const std::string& name) {
  check_ifname(name);
  nlmsghdr* request = start_request(RTM_GETLINK, 0);
  auto* link = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(request, sizeof(ifinfomsg)));
  link->ifi_family = AF_UNSPEC;
  mnl_attr_put_strz(request, IFLA_IFNAME, name.c_str());
  // Skip statistics: they are most of a link message and we only want the index.
  mnl_attr_put_u32(request, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
  int index = 0;
  execute(request, "RTM_GETLINK", name, [&](const nlmsghdr* message) {
    if (const ifinfomsg* reply = link_header(message)) index = reply->ifi_index;
  });
  if (index <= 0) throw_error("RTM_GETLINK", name, ENODEV);
  return index;
}

bool Netlink::link_exists(const std::string& name) {
  try {
    link_index(name);
    return true;
  } catch (const SystemError& error) {
    if (error.code() == ENODEV) return false;
    throw;
  }
}

std::vector<std::string> Netlink::list_links() {
  std::vector<std::string> names;
  for (int attempt = 1;; ++attempt) {
    names.clear();
    nlmsghdr* request = start_request(RTM_GETLINK, NLM_F_DUMP);
    auto* link = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(request, sizeof(ifinfomsg)));
    link->ifi_family = AF_UNSPEC;
    mnl_attr_put_u32(request, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
    std::string kernel_message;
    const int result = exchange(
        request,
        [&](const nlmsghdr* message) {
          if (link_header(message) == nullptr) return;
          if (const nlattr* ifname = find_attribute(message, sizeof(ifinfomsg), IFLA_IFNAME)) {
            names.push_back(attribute_string(ifname));
          }
        },
        kernel_message);
    if (result < 0) throw_error("RTM_GETLINK dump", kernel_message, -result);
    // result 1: links changed during the dump; the list may miss or repeat one. Try again.
    if (result == 0 || attempt == kDumpAttempts) return names;
  }
}

void Netlink::modify_link(const std::string& name, const std::string& what, unsigned flags,
                          unsigned change, const std::function<void(nlmsghdr*)>& fill) {
  check_ifname(name);
  // No NLM_F_CREATE: RTM_NEWLINK then only modifies, and fails with ENODEV if `name` is missing.
  nlmsghdr* request = start_request(RTM_NEWLINK, 0);
  auto* link = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(request, sizeof(ifinfomsg)));
  link->ifi_family = AF_UNSPEC;
  link->ifi_flags = flags;
  link->ifi_change = change;
  mnl_attr_put_strz(request, IFLA_IFNAME, name.c_str());
  if (fill) fill(request);
  execute(request, what, name);
}

void Netlink::set_link_up(const std::string& name) {
  modify_link(name, "RTM_NEWLINK up", IFF_UP, IFF_UP, {});
}

void Netlink::set_mtu(const std::string& name, unsigned mtu) {
  modify_link(name, "RTM_NEWLINK mtu " + std::to_string(mtu), 0, 0,
              [mtu](nlmsghdr* request) { mnl_attr_put_u32(request, IFLA_MTU, mtu); });
}

void Netlink::set_txqueuelen(const std::string& name, unsigned packets) {
  modify_link(name, "RTM_NEWLINK txqueuelen " + std::to_string(packets), 0, 0,
              [packets](nlmsghdr* request) { mnl_attr_put_u32(request, IFLA_TXQLEN, packets); });
}

void Netlink::add_address(const std::string& name, const std::string& cidr) {
  const Prefix prefix = parse_cidr(cidr, "address");
  const int index = link_index(name);
  nlmsghdr* request = start_request(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
  auto* address = static_cast<ifaddrmsg*>(mnl_nlmsg_put_extra_header(request, sizeof(ifaddrmsg)));
  address->ifa_family = static_cast<std::uint8_t>(prefix.family);
  address->ifa_prefixlen = prefix.length;
  address->ifa_scope = RT_SCOPE_UNIVERSE;
  address->ifa_index = static_cast<std::uint32_t>(index);
  const auto size = prefix.address_size();
  mnl_attr_put(request, IFA_LOCAL, size, prefix.bytes.data());
  mnl_attr_put(request, IFA_ADDRESS, size, prefix.bytes.data());
  if (prefix.family == AF_INET6) {
    // Without NODAD the address stays "tentative" (unusable for bind/connect) for a second or
    // more while duplicate detection runs; a lab link has no duplicates to detect.
    address->ifa_flags = IFA_F_NODAD;
    mnl_attr_put_u32(request, IFA_FLAGS, IFA_F_NODAD);
  }
  execute(request, "RTM_NEWADDR", name + " " + cidr);
}

void Netlink::add_route(const std::string& cidr_destination, const std::string& gateway_or_empty,
                        const std::string& dev) {
  Prefix gateway;
  if (!gateway_or_empty.empty() && !parse_address(gateway_or_empty, gateway)) {
    throw std::invalid_argument("malformed gateway address '" + gateway_or_empty + "'");
  }
  Prefix destination;
  if (cidr_destination == "default") {
    destination.family = gateway.family == AF_INET6 ? AF_INET6 : AF_INET;
    destination.length = 0;
  } else {
    destination = parse_cidr(cidr_destination, "route destination");
  }
  if (gateway.family != AF_UNSPEC && gateway.family != destination.family) {
    throw std::invalid_argument("route to '" + cidr_destination + "' via '" + gateway_or_empty +
                                "' mixes IPv4 and IPv6");
  }
  const int index = link_index(dev);
  nlmsghdr* request = start_request(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
  auto* route = static_cast<rtmsg*>(mnl_nlmsg_put_extra_header(request, sizeof(rtmsg)));
  route->rtm_family = static_cast<std::uint8_t>(destination.family);
  route->rtm_dst_len = destination.length;
  route->rtm_table = RT_TABLE_MAIN;
  route->rtm_protocol = RTPROT_BOOT;  // what `ip route add` uses
  route->rtm_type = RTN_UNICAST;
  // As iproute2: an IPv4 route without a gateway is on-link (scope link); IPv6 is always global.
  route->rtm_scope = destination.family == AF_INET && gateway.family == AF_UNSPEC
                         ? RT_SCOPE_LINK
                         : RT_SCOPE_UNIVERSE;
  if (destination.length > 0) {
    mnl_attr_put(request, RTA_DST, destination.address_size(), destination.bytes.data());
  }
  if (gateway.family != AF_UNSPEC) {
    mnl_attr_put(request, RTA_GATEWAY, gateway.address_size(), gateway.bytes.data());
  }
  mnl_attr_put_u32(request, RTA_OIF, static_cast<std::uint32_t>(index));
  std::string object = cidr_destination;
  if (!gateway_or_empty.empty()) object += " via " + gateway_or_empty;
  object += " dev " + dev;
  execute(request, "RTM_NEWROUTE", object);
}

void Netlink::delete_link(const std::string& name) {
  check_ifname(name);
  nlmsghdr* request = start_request(RTM_DELLINK, 0);
  auto* link = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(request, sizeof(ifinfomsg)));
  link->ifi_family = AF_UNSPEC;
  mnl_attr_put_strz(request, IFLA_IFNAME, name.c_str());
  execute(request, "RTM_DELLINK", name);
}

bool Netlink::delete_link_if_exists(const std::string& name) noexcept {
  try {
    delete_link(name);
    return true;
  } catch (...) {
    // ENODEV is the expected "already gone"; anything else cannot be reported from a teardown
    // path that must not throw, and the caller's next step will surface it.
    return false;
  }
}

}  // namespace longhaul::io

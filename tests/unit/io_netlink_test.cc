// Privileged: builds veths, addresses and routes inside throwaway network namespaces named
// "lhtest-<pid>-*" (and one veth end in the root namespace, named "lt<pid>*"), removed again
// by owning objects and guards even when an assertion fails. Skipped unless run as root.
#include <arpa/inet.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "io/error.hh"
#include "io/ethtool.hh"
#include "io/fd.hh"
#include "io/netlink.hh"
#include "io/netns.hh"

namespace longhaul::io {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;

std::string test_netns_name(const std::string& suffix) {
  return "lhtest-" + std::to_string(::getpid()) + "-" + suffix;
}

// Deletes a link at scope exit (for links in the root namespace, which nothing else cleans).
struct LinkGuard {
  Netlink& netlink;
  std::string name;
  ~LinkGuard() { netlink.delete_link_if_exists(name); }
};

// "ifname address" for every IPv4/IPv6 address of the calling thread's namespace.
std::vector<std::string> addresses_here() {
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) throw std::runtime_error("getifaddrs");
  std::vector<std::string> result;
  for (const ifaddrs* entry = list; entry != nullptr; entry = entry->ifa_next) {
    if (entry->ifa_addr == nullptr) continue;
    char text[INET6_ADDRSTRLEN] = {};
    const void* address = nullptr;
    if (entry->ifa_addr->sa_family == AF_INET) {
      address = &reinterpret_cast<const sockaddr_in*>(entry->ifa_addr)->sin_addr;
    } else if (entry->ifa_addr->sa_family == AF_INET6) {
      address = &reinterpret_cast<const sockaddr_in6*>(entry->ifa_addr)->sin6_addr;
    } else {
      continue;
    }
    ::inet_ntop(entry->ifa_addr->sa_family, address, text, sizeof text);
    result.push_back(std::string(entry->ifa_name) + " " + text);
  }
  ::freeifaddrs(list);
  return result;
}

// One SIOCGIF* query on `ifname` in the calling thread's namespace.
ifreq query_interface(const std::string& ifname, unsigned long request) {
  Fd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  ifreq ifr{};
  ifname.copy(ifr.ifr_name, IFNAMSIZ - 1);
  if (!fd.valid() || ::ioctl(fd.get(), request, &ifr) != 0) {
    throw std::runtime_error("SIOCGIF* " + ifname);
  }
  return ifr;
}

std::string read_file(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) throw std::runtime_error("open " + path);
  std::string text;
  char chunk[4096];
  for (ssize_t got; (got = ::read(fd.get(), chunk, sizeof chunk)) > 0;) {
    text.append(chunk, static_cast<std::size_t>(got));
  }
  return text;
}

// Two fresh namespaces, "a" and "b", with an rtnetlink socket in each.
class NetlinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to create network namespaces";
    a_ = Netns::create(test_netns_name("a"));
    b_ = Netns::create(test_netns_name("b"));
    netlink_a_.emplace(Netlink::open_in(a_.fd()));
    netlink_b_.emplace(Netlink::open_in(b_.fd()));
  }
  void TearDown() override {
    // Sockets hold their namespace alive; close them before the namespaces go.
    netlink_a_.reset();
    netlink_b_.reset();
  }

  // va in a <-> vb in b, both up.
  void make_linked_pair() {
    netlink_a().create_veth("va", "vb", b_.fd());
    netlink_a().set_link_up("va");
    netlink_b().set_link_up("vb");
  }

  Netlink& netlink_a() { return *netlink_a_; }
  Netlink& netlink_b() { return *netlink_b_; }

  Netns a_;
  Netns b_;
  std::optional<Netlink> netlink_a_;
  std::optional<Netlink> netlink_b_;
};

TEST_F(NetlinkTest, VethPeerIsCreatedDirectlyInTheOtherNamespace) {
  netlink_a().create_veth("va", "vb", b_.fd());
  EXPECT_TRUE(netlink_a().link_exists("va"));
  EXPECT_FALSE(netlink_a().link_exists("vb"));
  EXPECT_TRUE(netlink_b().link_exists("vb"));
  EXPECT_FALSE(netlink_b().link_exists("va"));
  EXPECT_GT(netlink_a().link_index("va"), 1);
  EXPECT_THAT(netlink_a().list_links(), Contains("va"));
  EXPECT_THAT(netlink_a().list_links(), Contains("lo"));
  EXPECT_THAT(netlink_b().list_links(), Not(Contains("va")));
}

TEST_F(NetlinkTest, VethWithBothEndsHere) {
  netlink_a().create_veth("x0", "x1");
  EXPECT_TRUE(netlink_a().link_exists("x0"));
  EXPECT_TRUE(netlink_a().link_exists("x1"));
}

TEST_F(NetlinkTest, DuplicateVethFailsNamingIt) {
  netlink_a().create_veth("dupveth0", "dupveth1");
  try {
    netlink_a().create_veth("dupveth0", "other1");
    FAIL() << "created dupveth0 twice";
  } catch (const SystemError& error) {
    EXPECT_EQ(error.code(), EEXIST);
    EXPECT_THAT(error.what(), HasSubstr("RTM_NEWLINK veth dupveth0"));
  }
  EXPECT_FALSE(netlink_a().link_exists("other1"));
  EXPECT_THROW(netlink_a().create_veth("a-name-far-too-long", "p"), std::invalid_argument);
}

TEST_F(NetlinkTest, LinkUpMtuAndTxQueueLength) {
  netlink_a().create_veth("va", "vb", b_.fd());
  netlink_a().set_link_up("va");
  netlink_a().set_mtu("va", 9000);
  netlink_a().set_txqueuelen("va", 5000);
  run_in_netns(a_.fd(), [] {
    EXPECT_TRUE(query_interface("va", SIOCGIFFLAGS).ifr_flags & IFF_UP);
    EXPECT_EQ(query_interface("va", SIOCGIFMTU).ifr_mtu, 9000);
    EXPECT_EQ(query_interface("va", SIOCGIFTXQLEN).ifr_qlen, 5000);
  });
  try {
    netlink_a().set_link_up("nosuchlink");
    FAIL() << "brought up a missing link";
  } catch (const SystemError& error) {
    EXPECT_EQ(error.code(), ENODEV);
    EXPECT_THAT(error.what(), HasSubstr("nosuchlink"));
  }
  EXPECT_THROW(netlink_a().link_index("nosuchlink"), SystemError);
}

TEST_F(NetlinkTest, AddressesV4AndV6AreUsableAtOnce) {
  make_linked_pair();
  netlink_a().add_address("va", "198.18.1.1/24");
  netlink_a().add_address("va", "2001:2:0:1::1/64");
  const auto addresses = run_in_netns(a_.fd(), [] { return addresses_here(); });
  EXPECT_THAT(addresses, Contains("va 198.18.1.1"));
  EXPECT_THAT(addresses, Contains("va 2001:2:0:1::1"));
  EXPECT_THAT(run_in_netns(b_.fd(), [] { return addresses_here(); }),
              Not(Contains("vb 198.18.1.1")));

  // A tentative (DAD in progress) IPv6 address cannot be bound: NODAD makes this work now.
  const int bind_error = run_in_netns(a_.fd(), [] {
    Fd fd(::socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    sockaddr_in6 address{};
    address.sin6_family = AF_INET6;
    ::inet_pton(AF_INET6, "2001:2:0:1::1", &address.sin6_addr);
    const int rc = ::bind(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address);
    return rc == 0 ? 0 : errno;
  });
  EXPECT_EQ(bind_error, 0);

  try {
    netlink_a().add_address("va", "198.18.1.1/24");
    FAIL() << "added the same address twice";
  } catch (const SystemError& error) {
    EXPECT_EQ(error.code(), EEXIST);
    EXPECT_THAT(error.what(), HasSubstr("va"));
  }
}

TEST_F(NetlinkTest, MalformedCidrIsRejectedNamingTheText) {
  netlink_a().create_veth("va", "vb", b_.fd());
  for (const std::string bad : {"198.18.1.1", "198.18.1.1/33", "198.18.1/24", "198.18.1.1/24x",
                                "/24", "2001::1/129", "2001::zz/64", "198.18.1.1/-1", "", "a/b"}) {
    try {
      netlink_a().add_address("va", bad);
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const std::invalid_argument& error) {
      EXPECT_THAT(error.what(), HasSubstr("'" + bad + "'"));
    }
  }
  EXPECT_THROW(netlink_a().add_route("10.0.0.0/8", "2001::1", "va"), std::invalid_argument);
  EXPECT_THROW(netlink_a().add_route("10.0.0.0/8", "10.0.0.256", "va"), std::invalid_argument);
}

TEST_F(NetlinkTest, RoutesV4AndV6) {
  make_linked_pair();
  netlink_a().add_address("va", "198.18.1.1/24");
  netlink_a().add_address("va", "2001:2:0:1::1/64");
  netlink_a().add_route("198.51.100.0/24", "198.18.1.2", "va");
  netlink_a().add_route("203.0.113.0/24", "", "va");
  netlink_a().add_route("default", "198.18.1.254", "va");
  netlink_a().add_route("2001:db8:5::/48", "2001:2:0:1::2", "va");
  netlink_a().add_route("default", "2001:2:0:1::fe", "va");

  // /proc/net is /proc/self/net: the thread group leader's namespace. thread-self is ours.
  const auto [v4, v6] = run_in_netns(a_.fd(), [] {
    return std::pair(read_file("/proc/thread-self/net/route"),
                     read_file("/proc/thread-self/net/ipv6_route"));
  });
  // /proc/net/route prints addresses as the hex of the in-memory (network order) u32.
  EXPECT_THAT(v4, HasSubstr("va\t006433C6\t020112C6"));  // 198.51.100.0 via 198.18.1.2
  EXPECT_THAT(v4, HasSubstr("va\t007100CB\t00000000"));  // 203.0.113.0 on-link
  EXPECT_THAT(v4, HasSubstr("va\t00000000\tFE0112C6"));  // default via 198.18.1.254
  EXPECT_THAT(v6, HasSubstr("20010db8000500000000000000000000 30"));
  EXPECT_THAT(v6, HasSubstr("00000000000000000000000000000000 00 "
                            "00000000000000000000000000000000 00 "
                            "200100020000000100000000000000fe"));

  try {
    netlink_a().add_route("198.51.100.0/24", "198.18.1.2", "va");
    FAIL() << "added the same route twice";
  } catch (const SystemError& error) {
    EXPECT_EQ(error.code(), EEXIST);
    EXPECT_THAT(error.what(), HasSubstr("RTM_NEWROUTE 198.51.100.0/24 via 198.18.1.2 dev va"));
  }
}

TEST_F(NetlinkTest, DeleteLink) {
  netlink_a().create_veth("va", "vb", b_.fd());
  netlink_a().delete_link("va");
  EXPECT_FALSE(netlink_a().link_exists("va"));
  EXPECT_FALSE(netlink_b().link_exists("vb"));  // a veth goes as a pair
  EXPECT_FALSE(netlink_a().delete_link_if_exists("va"));
  try {
    netlink_a().delete_link("va");
    FAIL() << "deleted a missing link";
  } catch (const SystemError& error) {
    EXPECT_EQ(error.code(), ENODEV);
    EXPECT_THAT(error.what(), HasSubstr("RTM_DELLINK va"));
  }
  netlink_a().create_veth("vc", "vd");
  EXPECT_TRUE(netlink_a().delete_link_if_exists("vd"));
  EXPECT_FALSE(netlink_a().link_exists("vc"));
}

TEST_F(NetlinkTest, OpenInABadDescriptorFails) {
  EXPECT_THROW(Netlink::open_in(-1), SystemError);
}

// Waits, without sleeping, until `name` is gone from `netlink`'s (the root) namespace: wakes
// on every link notification and re-checks. False after `timeout`.
bool wait_until_link_gone(Netlink& netlink, const std::string& name,
                          std::chrono::milliseconds timeout) {
  Fd monitor(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
  sockaddr_nl address{};
  address.nl_family = AF_NETLINK;
  address.nl_groups = RTMGRP_LINK;
  if (!monitor.valid() ||
      ::bind(monitor.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    throw std::runtime_error("netlink monitor");
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  // Subscribed before the first check, so the deletion cannot slip between check and wait.
  while (netlink.link_exists(name)) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd ready{monitor.get(), POLLIN, 0};
    if (::poll(&ready, 1, static_cast<int>(left.count())) > 0) {
      char drain[16384];
      while (::recv(monitor.get(), drain, sizeof drain, MSG_DONTWAIT) > 0) {
      }
    }
  }
  return true;
}

TEST_F(NetlinkTest, DeletingTheNamespaceRemovesTheRootPeer) {
  Netlink root = Netlink::open();
  const std::string name = "lt" + std::to_string(::getpid()) + "r";
  LinkGuard guard{root, name};
  root.create_veth(name, "eth0", b_.fd());
  EXPECT_TRUE(root.link_exists(name));
  EXPECT_TRUE(netlink_b().link_exists("eth0"));

  // Every reference to b must go: our descriptor (inside remove()) and the socket opened in it.
  netlink_b_.reset();
  b_.remove();
  // The kernel dismantles a namespace asynchronously (cleanup_net on a workqueue), so the root
  // end disappears a little after the last reference is dropped, not during remove().
  EXPECT_TRUE(wait_until_link_gone(root, name, std::chrono::seconds(30)));
}

TEST_F(NetlinkTest, ErrorsCarryTheKernelExplanation) {
  netlink_a().create_veth("va", "vb", b_.fd());
  // An MTU above the veth maximum is refused with an extended-ACK message.
  try {
    netlink_a().set_mtu("va", 1u << 20);
    FAIL() << "accepted a 1 MiB MTU";
  } catch (const SystemError& error) {
    EXPECT_EQ(error.code(), EINVAL);
    EXPECT_THAT(error.what(), HasSubstr("RTM_NEWLINK mtu 1048576 va ["));
  }
}

class EthtoolTest : public NetlinkTest {};

TEST_F(EthtoolTest, SegmentationOffloadsOffAndOnAgain) {
  netlink_a().create_veth("va", "vb");
  const auto [initially, after_off, after_on] = run_in_netns(a_.fd(), [] {
    const bool before = tso_enabled("va");
    set_segmentation_offloads("va", false);
    const bool off = tso_enabled("va");
    set_segmentation_offloads("va", true);
    return std::tuple(before, off, tso_enabled("va"));
  });
  EXPECT_TRUE(initially);
  EXPECT_FALSE(after_off);
  EXPECT_TRUE(after_on);
}

TEST_F(EthtoolTest, MissingDeviceIsNamed) {
  run_in_netns(a_.fd(), [] {
    try {
      set_segmentation_offloads("nosuchdev", false);
      ADD_FAILURE() << "changed offloads of a missing device";
    } catch (const SystemError& error) {
      EXPECT_EQ(error.code(), ENODEV);
      EXPECT_THAT(error.what(), HasSubstr("nosuchdev"));
    }
  });
}

}  // namespace
}  // namespace longhaul::io

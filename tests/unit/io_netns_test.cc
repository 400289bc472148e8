// Privileged: creates real network namespaces named "lhtest-<pid>-*" and removes them again,
// also when an assertion fails (owning Netns objects and guards). Skipped unless run as root.
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <stdexcept>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "io/error.hh"
#include "io/netlink.hh"
#include "io/netns.hh"
#include "io/sysctl.hh"

namespace longhaul::io {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;

std::string test_netns_name(const std::string& suffix) {
  return "lhtest-" + std::to_string(::getpid()) + "-" + suffix;
}

// Removes a namespace by name at scope exit, for tests that deliberately give up ownership.
struct NetnsNameGuard {
  std::string name;
  ~NetnsNameGuard() { delete_netns(name); }
};

ino_t netns_inode_of_this_thread() {
  struct stat st {};
  if (::stat("/proc/thread-self/ns/net", &st) != 0) throw std::runtime_error("stat ns/net");
  return st.st_ino;
}

class NetnsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to create network namespaces";
  }
};

TEST_F(NetnsTest, CreateAndRemove) {
  const std::string name = test_netns_name("create");
  Netns ns = Netns::create(name);
  EXPECT_EQ(ns.name(), name);
  EXPECT_GE(ns.fd(), 0);
  EXPECT_TRUE(ns.owned());
  EXPECT_TRUE(netns_exists(name));
  EXPECT_THAT(list_netns(), Contains(name));

  ns.remove();
  EXPECT_FALSE(netns_exists(name));
  EXPECT_THAT(list_netns(), Not(Contains(name)));
  EXPECT_EQ(ns.fd(), -1);
  ns.remove();  // idempotent
  EXPECT_FALSE(netns_exists(name));
}

TEST_F(NetnsTest, DestructorRemovesOwnedNamespace) {
  const std::string name = test_netns_name("dtor");
  {
    Netns ns = Netns::create(name);
    Netns moved = std::move(ns);
    EXPECT_FALSE(ns.owned());
    EXPECT_TRUE(moved.owned());
    EXPECT_TRUE(netns_exists(name));
  }
  EXPECT_FALSE(netns_exists(name));
}

TEST_F(NetnsTest, ReleasedAndOpenedNamespacesOutliveTheirObjects) {
  const std::string name = test_netns_name("keep");
  NetnsNameGuard guard{name};
  Netns::create(name).release();
  ASSERT_TRUE(netns_exists(name));
  {
    Netns opened = Netns::open(name);
    EXPECT_FALSE(opened.owned());
    EXPECT_GE(opened.fd(), 0);
  }
  EXPECT_TRUE(netns_exists(name));
  EXPECT_TRUE(delete_netns(name));
  EXPECT_FALSE(netns_exists(name));
  EXPECT_FALSE(delete_netns(name));
}

TEST_F(NetnsTest, DuplicateNameFailsNamingItAndKeepsTheOriginal) {
  const std::string name = test_netns_name("dup");
  Netns first = Netns::create(name);
  try {
    Netns second = Netns::create(name);
    FAIL() << "creating " << name << " twice succeeded";
  } catch (const SystemError& error) {
    EXPECT_EQ(error.code(), EEXIST);
    EXPECT_THAT(error.what(), HasSubstr(name));
  }
  EXPECT_TRUE(netns_exists(name));
  EXPECT_NO_THROW(Netns::open(name));
}

TEST_F(NetnsTest, OpenMissingOrInvalidNameFails) {
  const std::string name = test_netns_name("missing");
  try {
    Netns::open(name);
    FAIL() << "opened a namespace that does not exist";
  } catch (const SystemError& error) {
    EXPECT_EQ(error.code(), ENOENT);
    EXPECT_THAT(error.what(), HasSubstr(name));
  }
  EXPECT_THROW(Netns::create("a/b"), std::invalid_argument);
  EXPECT_THROW(Netns::create(".."), std::invalid_argument);
  EXPECT_FALSE(netns_exists("../netns"));
}

TEST_F(NetnsTest, RunDirIsASharedMountLikeIproute2) {
  Netns ns = Netns::create(test_netns_name("shared"));
  std::ifstream mountinfo("/proc/self/mountinfo");
  std::string line;
  bool found_shared = false;
  while (std::getline(mountinfo, line)) {
    // Fields: id parent major:minor root mount-point options optional-fields... - ...
    if (line.find(" /run/netns ") != std::string::npos &&
        line.find(" shared:") < line.find(" - ")) {
      found_shared = true;
    }
  }
  EXPECT_TRUE(found_shared);
}

TEST_F(NetnsTest, RunInNetnsSeesAnotherNamespace) {
  Netns ns = Netns::create(test_netns_name("inode"));
  const ino_t here = netns_inode_of_this_thread();
  const ino_t there = run_in_netns(ns.fd(), [] { return netns_inode_of_this_thread(); });
  EXPECT_NE(here, there);
  struct stat st {};
  ASSERT_EQ(::fstat(ns.fd(), &st), 0);
  EXPECT_EQ(there, st.st_ino);
  EXPECT_EQ(netns_inode_of_this_thread(), here);  // the caller never moved
}

TEST_F(NetnsTest, RunInNetnsReturnsVoidAndRethrows) {
  Netns ns = Netns::create(test_netns_name("run"));
  bool ran = false;
  run_in_netns(ns.fd(), [&] { ran = true; });
  EXPECT_TRUE(ran);
  EXPECT_THROW(run_in_netns(ns.fd(), []() -> int { throw std::logic_error("inside"); }),
               std::logic_error);
  EXPECT_THROW(run_in_netns(-1, [] {}), SystemError);
}

TEST(SysctlTest, KeysMapToProcSysPaths) {
  EXPECT_EQ(sysctl_path("net.ipv4.ip_forward"), "/proc/sys/net/ipv4/ip_forward");
  EXPECT_EQ(sysctl_path("net/ipv6/conf/eth0.100/accept_dad"),
            "/proc/sys/net/ipv6/conf/eth0.100/accept_dad");
  EXPECT_EQ(sysctl_path("/proc/sys/net/ipv6/conf/eth0.100/accept_dad"),
            "/proc/sys/net/ipv6/conf/eth0.100/accept_dad");
  EXPECT_THROW(sysctl_path("/etc/passwd"), std::invalid_argument);
  EXPECT_THROW(sysctl_path("net/../../etc/passwd"), std::invalid_argument);
  EXPECT_THROW(sysctl_path("net..ipv4"), std::invalid_argument);
  EXPECT_THROW(sysctl_path(""), std::invalid_argument);
}

class SysctlInNetnsTest : public NetnsTest {};

TEST_F(SysctlInNetnsTest, WriteInsideNamespaceLeavesHostAlone) {
  const std::string key = "net.ipv4.ip_default_ttl";
  const std::string host_before = read_sysctl(key);
  const std::string wanted = host_before == "99" ? "98" : "99";
  Netns ns = Netns::create(test_netns_name("sysctl"));
  const std::string inside = run_in_netns(ns.fd(), [&] {
    write_sysctl(key, wanted);
    return read_sysctl(key);
  });
  EXPECT_EQ(inside, wanted);
  EXPECT_EQ(read_sysctl(key), host_before);
  EXPECT_EQ(run_in_netns(ns.fd(), [&] { return read_sysctl("/proc/sys/net/ipv4/ip_default_ttl"); }),
            wanted);
}

TEST_F(SysctlInNetnsTest, InterfaceNamesWithDotsWorkAsPaths) {
  Netns ns = Netns::create(test_netns_name("dots"));
  Netlink netlink = Netlink::open_in(ns.fd());
  netlink.create_veth("eth0.5", "eth1.5");
  run_in_netns(ns.fd(), [] {
    write_sysctl("net/ipv6/conf/eth0.5/accept_dad", "0");
    EXPECT_EQ(read_sysctl("/proc/sys/net/ipv6/conf/eth0.5/accept_dad"), "0");
    write_sysctl("/proc/sys/net/ipv6/conf/eth0.5/accept_dad", "2");
    EXPECT_EQ(read_sysctl("net/ipv6/conf/eth0.5/accept_dad"), "2");
    // The dotted form cannot express the name: it means net/ipv6/conf/eth0/5/accept_dad.
    EXPECT_THROW(read_sysctl("net.ipv6.conf.eth0.5.accept_dad"), SystemError);
  });
}

TEST_F(SysctlInNetnsTest, MissingKeyNamesThePath) {
  try {
    write_sysctl("net.ipv4.no_such_tunable", "1");
    FAIL() << "wrote a tunable that does not exist";
  } catch (const SystemError& error) {
    EXPECT_EQ(error.code(), ENOENT);
    EXPECT_THAT(error.what(), HasSubstr("/proc/sys/net/ipv4/no_such_tunable"));
  }
}

}  // namespace
}  // namespace longhaul::io

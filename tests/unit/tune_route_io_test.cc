// Privileged: route and link queries and the exact route replace the tuner relies on, in a
// namespace named "lhtest-<pid>-tune" that the owning Netns removes, also on failure. Skipped
// unless run as root.
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <stdexcept>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "io/error.hh"
#include "io/netlink.hh"
#include "io/netns.hh"
#include "io/route_query.hh"
#include "tune/inspect.hh"

namespace longhaul::tune {
namespace {

using ::testing::HasSubstr;

class TuneRouteIoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to create network namespaces";
    ns_ = io::Netns::create("lhtest-" + std::to_string(::getpid()) + "-tune");
    netlink_.emplace(io::Netlink::open_in(ns_.fd()));
    netlink_->create_veth("lhva", "lhvb");
    netlink_->set_link_up("lhva");
    netlink_->set_link_up("lhvb");
    netlink_->add_address("lhva", "198.18.251.2/24");
    netlink_->add_route("default", "198.18.251.1", "lhva");
  }

  std::size_t default_routes() {
    const auto routes = netlink_->list_routes(AF_INET);
    return static_cast<std::size_t>(std::count_if(routes.begin(), routes.end(), [](const auto& r) {
      return r.table == RT_TABLE_MAIN && r.dst_len == 0;
    }));
  }

  io::Netns ns_;
  std::optional<io::Netlink> netlink_;
};

TEST_F(TuneRouteIoTest, FindsTheRouteAndItsLink) {
  const io::RouteInfo route = netlink_->route_to("198.18.99.1");  // via the default route
  EXPECT_EQ(route.destination(), "default");
  EXPECT_EQ(route.gateway_text(), "198.18.251.1");
  EXPECT_EQ(route.dev, "lhva");
  EXPECT_EQ(route.describe(), "default via 198.18.251.1 dev lhva");
  EXPECT_EQ(route.ip_route_arguments(), "default via 198.18.251.1 dev lhva proto boot");
  EXPECT_FALSE(route.metric(RTAX_INITCWND));
  EXPECT_TRUE(route.unsupported.empty());
  const io::LinkInfo link = netlink_->link_info(route.oif);
  EXPECT_EQ(link.name, "lhva");
  EXPECT_EQ(link.mtu, 1500U);
  EXPECT_EQ(link.txqueuelen, 1000U);
  // The connected route wins for its own prefix.
  EXPECT_EQ(netlink_->route_to("198.18.251.9").destination(), "198.18.251.0/24");
  EXPECT_THROW(netlink_->route_to("not-an-address"), std::invalid_argument);
  // select_route without a peer picks the main table's default route.
  const auto chosen = select_route(*netlink_, "");
  ASSERT_TRUE(chosen);
  EXPECT_EQ(route_key(*chosen), route_key(route));
}

TEST_F(TuneRouteIoTest, ReplaceChangesOnlyTheMetricsAndRestoresExactly) {
  io::RouteInfo route = netlink_->route_to("198.18.99.1");
  const RouteKey key = route_key(route);
  route.set_metric(RTAX_INITCWND, 20);
  route.set_metric(RTAX_INITRWND, 20);
  netlink_->replace_route(route);
  auto changed = find_route(*netlink_, key);
  ASSERT_TRUE(changed);
  EXPECT_EQ(changed->metric(RTAX_INITCWND), 20U);
  EXPECT_EQ(changed->metric(RTAX_INITRWND), 20U);
  EXPECT_EQ(changed->gateway_text(), "198.18.251.1");
  EXPECT_EQ(changed->protocol, route.protocol);
  EXPECT_EQ(default_routes(), 1U);  // replaced, not added
  EXPECT_THAT(route_settings(*changed).ip_arguments, ::testing::Not(HasSubstr("initcwnd")));
  EXPECT_EQ(route_settings(*changed).initcwnd, 20U);

  changed->set_metric(RTAX_INITCWND, std::nullopt);
  changed->set_metric(RTAX_INITRWND, std::nullopt);
  netlink_->replace_route(*changed);
  const auto restored = find_route(*netlink_, key);
  ASSERT_TRUE(restored);
  EXPECT_TRUE(restored->metrics.empty());
  EXPECT_EQ(default_routes(), 1U);
}

TEST_F(TuneRouteIoTest, RefusesRoutesItCannotReproduce) {
  io::RouteInfo route = netlink_->route_to("198.18.99.1");
  route.unsupported = "multipath route";
  EXPECT_THROW(netlink_->replace_route(route), std::invalid_argument);
  // Replacing a route that is gone fails instead of adding one.
  io::RouteInfo gone = netlink_->route_to("198.18.99.1");
  gone.dst = {203, 0, 113, 0};
  gone.dst_len = 24;
  EXPECT_THROW(netlink_->replace_route(gone), io::SystemError);
}

}  // namespace
}  // namespace longhaul::tune

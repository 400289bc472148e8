// Topology files: the graph plan (addresses, routes, names) and the errors users see.
#include <gtest/gtest.h>

#include <string>

#include "core/topology.hh"
#include "lab/topology_file.hh"

namespace longhaul::lab {
namespace {

const char* kFourSites = R"(
name = "four-sites"
[defaults]
rate = "1gbit"
[[site]]
name = "new-york"
[[site]]
name = "california"
[[site]]
name = "england"
[[site]]
name = "japan"
[[switch]]
name = "hub"
[[lane]]
a = "new-york"
b = "hub"
[[lane]]
a = "california"
b = "hub"
rtt = "32ms"
[[lane]]
a = "england"
b = "hub"
rtt = "80ms"
[[lane]]
a = "japan"
b = "hub"
rtt = "346ms"
rate-up = "100mbit"
)";

LabDefinition parse(const std::string& text) {
  return parse_lab_definition(text, "lab.toml", "", 7);
}

/// The message of the TopologyError the text raises ("" when it parses).
std::string error_of(const std::string& text) {
  try {
    parse(text);
  } catch (const TopologyError& error) {
    return error.what();
  }
  return "";
}

TEST(TopologyFile, FourSitesStarResolvesEachLaneFromDefaultsAndItsOwnKeys) {
  const LabDefinition lab = parse(kFourSites);
  ASSERT_EQ(lab.topology.lanes.size(), 4u);
  EXPECT_EQ(lab.topology.name, "four-sites");
  // Lanes take their site's name when one end is a site.
  EXPECT_EQ(lab.topology.lanes[3].name, "japan");
  EXPECT_EQ(lab.lanes[1].up.delay, std::chrono::milliseconds(16));
  EXPECT_EQ(lab.lanes[1].down.delay, std::chrono::milliseconds(16));
  EXPECT_EQ(lab.lanes[0].up.delay.count(), 0);
  EXPECT_EQ(lab.lanes[0].up.rate_bps, 1'000'000'000u);
  EXPECT_EQ(lab.lanes[3].up.rate_bps, 100'000'000u);  // its own key wins over [defaults]
  EXPECT_EQ(lab.lanes[3].down.rate_bps, 1'000'000'000u);
  // Each lane draws from its own seed, derived from the lab's.
  EXPECT_NE(lab.lanes[1].seed, lab.lanes[2].seed);
  EXPECT_EQ(parse(kFourSites).lanes[2].seed, lab.lanes[2].seed);
}

TEST(TopologyFile, StarSharesOneSubnetWithHostsForEverySite) {
  const LabDefinition lab = parse(kFourSites);
  const auto plan = core::plan_lab(lab.topology, 2);
  ASSERT_TRUE(plan) << plan.error.message;
  ASSERT_EQ(plan->segments.size(), 1u);
  EXPECT_EQ(core::format_ipv4(plan->segments[0].ipv4.network), "198.19.32.0");
  EXPECT_EQ(core::format_ipv6(plan->segments[0].ipv6.network), "2001:2:0:120::");
  const auto& japan = plan->sites[3];
  ASSERT_EQ(japan.interfaces.size(), 1u);
  EXPECT_EQ(japan.interfaces[0].ifname, "eth0");
  EXPECT_EQ(core::format_ipv4(japan.interfaces[0].ipv4), "198.19.32.4");
  EXPECT_EQ(core::format_ipv6(japan.interfaces[0].ipv6), "2001:2:0:120::4");
  EXPECT_TRUE(japan.routes.empty());  // one flat subnet: nothing to route
  EXPECT_FALSE(japan.forwards);
  ASSERT_EQ(japan.hosts.size(), 4u);
  EXPECT_EQ(japan.hosts[1].name, "california");
  EXPECT_EQ(core::format_ipv4(japan.hosts[1].ipv4), "198.19.32.2");
}

TEST(TopologyFile, ChainRoutesThroughTheMiddleSite) {
  const auto lab = parse(R"(
[[site]]
name = "a"
[[site]]
name = "b"
[[site]]
name = "c"
[[lane]]
a = "a"
b = "b"
rtt = "10ms"
[[lane]]
a = "b"
b = "c"
rtt = "20ms"
)");
  const auto plan = core::plan_lab(lab.topology, 1);
  ASSERT_TRUE(plan) << plan.error.message;
  EXPECT_EQ(lab.topology.name, "lab");  // from the file name
  EXPECT_EQ(lab.topology.lanes[0].name, "a-b");
  ASSERT_EQ(plan->segments.size(), 2u);
  EXPECT_TRUE(plan->sites[1].forwards);
  ASSERT_EQ(plan->sites[0].routes.size(), 1u);
  const auto& route = plan->sites[0].routes[0];
  EXPECT_EQ(route.segment, 1u);
  EXPECT_EQ(route.via_site, 1u);
  EXPECT_EQ(core::format_ipv4(route.gateway_ipv4), "198.19.16.2");  // b on the a-b subnet
  // a resolves c to c's only address, reached through b.
  EXPECT_EQ(core::format_ipv4(plan->sites[0].hosts[2].ipv4), "198.19.17.3");
}

TEST(TopologyFile, FullMeshResolvesEachPeerOnTheDirectLane) {
  const auto lab = parse(R"(
[[site]]
name = "a"
[[site]]
name = "b"
[[site]]
name = "c"
[[lane]]
a = "a"
b = "b"
[[lane]]
a = "b"
b = "c"
[[lane]]
a = "a"
b = "c"
ipv4 = "198.18.250.0/24"
ipv6 = "2001:2:0:fa00::/64"
)");
  const auto plan = core::plan_lab(lab.topology, 1);
  ASSERT_TRUE(plan) << plan.error.message;
  // From a, c is the address on the a-c lane (explicit prefix), not the one behind b.
  EXPECT_EQ(core::format_ipv4(plan->sites[0].hosts[2].ipv4), "198.18.250.3");
  EXPECT_EQ(core::format_ipv6(plan->sites[0].hosts[2].ipv6), "2001:2:0:fa00::3");
}

TEST(TopologyFile, RoutedLayoutWithTwoSwitches) {
  const auto lab = parse(R"(
[[site]]
name = "client"
[[site]]
name = "router"
[[site]]
name = "server"
[[switch]]
name = "left"
[[switch]]
name = "right"
[[lane]]
a = "client"
b = "left"
[[lane]]
name = "router-left"
a = "router"
b = "left"
[[lane]]
name = "router-right"
a = "router"
b = "right"
[[lane]]
a = "server"
b = "right"
rtt = "50ms"
)");
  const auto plan = core::plan_lab(lab.topology, 3);
  ASSERT_TRUE(plan) << plan.error.message;
  ASSERT_EQ(plan->segments.size(), 2u);
  ASSERT_EQ(plan->sites[2].routes.size(), 1u);
  EXPECT_EQ(core::format_ipv4(plan->sites[2].routes[0].gateway_ipv4), "198.19.49.2");
  EXPECT_EQ(plan->sites[1].interfaces.size(), 2u);
}

TEST(TopologyFile, SwitchesJoinedByALaneAreOneSubnet) {
  const auto lab = parse(R"(
[[site]]
name = "x"
[[site]]
name = "y"
[[switch]]
name = "s1"
[[switch]]
name = "s2"
[[lane]]
a = "x"
b = "s1"
[[lane]]
name = "trunk"
a = "s1"
b = "s2"
rtt = "5ms"
[[lane]]
a = "y"
b = "s2"
)");
  const auto plan = core::plan_lab(lab.topology, 1);
  ASSERT_TRUE(plan) << plan.error.message;
  EXPECT_EQ(plan->segments.size(), 1u);
  EXPECT_TRUE(plan->sites[0].routes.empty());
}

struct BadFile {
  const char* what;
  const char* text;
  const char* expected;  ///< a part of the message (after "lab.toml:LINE:COL: ")
};

class BadTopologyFile : public ::testing::TestWithParam<BadFile> {};

TEST_P(BadTopologyFile, NamesFileLineAndWhatIsExpected) {
  const std::string message = error_of(GetParam().text);
  EXPECT_NE(message.find(GetParam().expected), std::string::npos) << message;
  EXPECT_TRUE(message.starts_with("lab.toml")) << message;
}

const char* kTwoSites = "[[site]]\nname = \"a\"\n[[site]]\nname = \"b\"\n";

INSTANTIATE_TEST_SUITE_P(
    Cases, BadTopologyFile,
    ::testing::Values(
        BadFile{"unknown top-level key", "colour = \"red\"\n",
                "lab.toml:1:1: unknown key 'colour'"},
        BadFile{"unknown lane key",
                "[[site]]\nname = \"a\"\n[[site]]\nname = \"b\"\n[[lane]]\na = \"a\"\nb = "
                "\"b\"\nrttt = \"5ms\"\n",
                "lab.toml:8:1: [[lane]]: unknown key 'rttt'; link keys are: "},
        BadFile{"unknown lane key lists a lane's own keys too",
                "[[site]]\nname = \"a\"\n[[site]]\nname = \"b\"\n[[lane]]\na = \"a\"\nb = "
                "\"b\"\nrttt = \"5ms\"\n",
                "; and name, a, b, ipv4, ipv6"},
        BadFile{"unknown key in [defaults] lists only link keys", "[defaults]\nrttt = \"5ms\"\n",
                "lab.toml:2:1: [defaults]: unknown key 'rttt'; link keys are: rtt, "},
        BadFile{
            "unknown site in a lane",
            "[[site]]\nname = \"a\"\n[[site]]\nname = \"b\"\n[[lane]]\na = \"a\"\nb = \"mars\"\n",
            "b = 'mars' names no site or switch (known: a, b)"},
        BadFile{"duplicate site", "[[site]]\nname = \"a\"\n[[site]]\nname = \"a\"\n",
                "lab.toml:3:1: duplicate name 'a': the site on line 1 already has it"},
        BadFile{"unitless value",
                "[[site]]\nname = \"a\"\n[[site]]\nname = \"b\"\n[[lane]]\na = \"a\"\nb = "
                "\"b\"\nrtt = 32\n",
                "lab.toml:8:1: [[lane]]: rtt = 32 has no unit: write it as text with its unit, "
                "e.g. rtt = \"80ms\""},
        BadFile{"negative value",
                "[[site]]\nname = \"a\"\n[[site]]\nname = \"b\"\n[[lane]]\na = \"a\"\nb = "
                "\"b\"\nrate = \"-5mbit\"\n",
                "lab.toml:8:1: lane 'a-b': --rate"},
        BadFile{"site on no lane", "[[site]]\nname = \"a\"\n[[site]]\nname = \"b\"\n",
                "site 'a' is on no lane"},
        BadFile{"lane to itself", "[[site]]\nname = \"a\"\n[[lane]]\na = \"a\"\nb = \"a\"\n",
                "to itself"},
        BadFile{"overlapping prefixes",
                "[[site]]\nname = \"a\"\n[[site]]\nname = \"b\"\n[[switch]]\nname = "
                "\"s\"\nipv4 = \"198.19.16.0/24\"\n[[lane]]\na = \"a\"\nb = \"s\"\n[[lane]]\na = "
                "\"b\"\nb = \"s\"\n[[lane]]\na = \"a\"\nb = \"b\"\nipv4 = \"198.19.16.0/25\"\n",
                "overlaps that of 's'"},
        BadFile{"address outside the benchmarking range",
                "[[switch]]\nname = \"s\"\nipv4 = \"10.0.0.0/24\"\n", "inside 198.18.0.0/15"},
        BadFile{"loop of switches",
                "[[site]]\nname = \"a\"\n[[switch]]\nname = \"s\"\n[[switch]]\nname = "
                "\"t\"\n[[lane]]\na = \"a\"\nb = \"s\"\n[[lane]]\na = \"s\"\nb = "
                "\"t\"\n[[lane]]\nname = \"again\"\na = \"t\"\nb = \"s\"\n",
                "closes a loop of switches"},
        BadFile{"not TOML", "[[site]\nname = \"a\"\n", "lab.toml:1:"},
        BadFile{"bad lab name", "name = \"Four Sites\"\n", "lab name 'Four Sites' is not valid"},
        BadFile{"lane without ends", "[[site]]\nname = \"a\"\n[[lane]]\na = \"a\"\n",
                "needs both ends"}));

TEST(TopologyFile, CheckLabFitsNamesTheLaneAndARateThatFits) {
  const LabDefinition lab = parse(kFourSites);
  EXPECT_NO_THROW(check_lab_fits(lab, std::uint64_t{64} << 30));
  try {
    check_lab_fits(lab, std::uint64_t{200} << 20);
    FAIL() << "200 MiB cannot hold 1 Gbit/s at 173 ms one way, both directions, plus the rest";
  } catch (const TopologyError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("lane 'japan' cannot be buffered"), std::string::npos) << message;
    EXPECT_NE(message.find("set rate = "), std::string::npos) << message;
  }
}

TEST(TopologyFile, TheSuggestedRateFitsAndTheNextStepDoesNot) {
  const std::uint64_t available = std::uint64_t{200} << 20;
  std::string message;
  try {
    check_lab_fits(parse(kFourSites), available);
  } catch (const TopologyError& error) {
    message = error.what();
  }
  const auto at = message.find("set rate = \"");
  ASSERT_NE(at, std::string::npos) << message;
  const std::string value =
      message.substr(at + 12, message.find('"', at + 12) - (at + 12));  // e.g. "270mbit"
  // The lab with japan's lane at the suggested rate, both ways, as a user would type it.
  const auto with_japan_rate = [](const std::string& rate) {
    std::string text = kFourSites;
    const std::string old_key = "rate-up = \"100mbit\"";
    return text.replace(text.find(old_key), old_key.size(), "rate = \"" + rate + "\"");
  };
  EXPECT_NO_THROW(check_lab_fits(parse(with_japan_rate(value)), available)) << value;
  // One step of the second significant digit faster no longer fits: the suggestion is the edge.
  const auto unit_at = value.find_first_not_of("0123456789");
  std::uint64_t step = 1;
  for (std::size_t digits = unit_at; digits > 2; --digits) step *= 10;
  const std::string faster =
      std::to_string(std::stoull(value.substr(0, unit_at)) + step) + value.substr(unit_at);
  EXPECT_THROW(check_lab_fits(parse(with_japan_rate(faster)), available), TopologyError) << faster;
}

TEST(TopologyFile, TwoSitesMinimal) {
  const auto lab = parse(std::string(kTwoSites) + "[[lane]]\na = \"a\"\nb = \"b\"\n");
  EXPECT_EQ(lab.topology.lanes.size(), 1u);
}

}  // namespace
}  // namespace longhaul::lab

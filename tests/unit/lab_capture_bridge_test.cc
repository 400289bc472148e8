// The pure parts of `longhaul capture` (which interfaces show a lane) and `longhaul bridge`
// (lane syntax, checks, per-lane seeds).
#include <gtest/gtest.h>

#include <string>

#include "lab/bridge_session.hh"
#include "lab/capture_session.hh"

namespace longhaul::lab {
namespace {

// As lab_session.cc records it: lane "branch" from a site to a switch, "p2p" between two sites.
const nlohmann::json kDescription = nlohmann::json::parse(R"({
  "emulator_netns": "lh-cap.emu",
  "lanes": [
    {"name": "branch", "a": "branch", "b": "hub",
     "ports": {"a": "l0a", "b": "l0b"},
     "peers": {"a": {"netns": "lh-cap-branch", "ifname": "eth0"},
               "b": {"netns": "lh-cap.emu", "ifname": "l0bs"}}},
    {"name": "p2p", "a": "left", "b": "right",
     "ports": {"a": "l1a", "b": "l1b"},
     "peers": {"a": {"netns": "lh-cap-left", "ifname": "eth1"},
               "b": {"netns": "lh-cap-right", "ifname": "eth0"}}}
  ]
})");

TEST(CapturePlan, BeforeImpairmentReadsTheIngressPorts) {
  const auto points = plan_capture(kDescription, "cap", "branch", CaptureDirections::both, true);
  ASSERT_EQ(points.size(), 2u);
  EXPECT_EQ(points[0].direction, engine::Direction::up);
  EXPECT_EQ(points[0].netns, "lh-cap.emu");
  EXPECT_EQ(points[0].ifname, "l0a");  // up enters at a
  EXPECT_EQ(points[1].direction, engine::Direction::down);
  EXPECT_EQ(points[1].ifname, "l0b");
}

TEST(CapturePlan, AfterImpairmentReadsThePeersOfTheEgressPorts) {
  const auto up = plan_capture(kDescription, "cap", "branch", CaptureDirections::up, false);
  ASSERT_EQ(up.size(), 1u);
  EXPECT_EQ(up[0].netns, "lh-cap.emu");  // up leaves by b, a switch: its bridge port
  EXPECT_EQ(up[0].ifname, "l0bs");
  const auto down = plan_capture(kDescription, "cap", "p2p", CaptureDirections::down, false);
  ASSERT_EQ(down.size(), 1u);
  EXPECT_EQ(down[0].direction, engine::Direction::down);
  EXPECT_EQ(down[0].netns, "lh-cap-left");  // down leaves by a: the site's interface
  EXPECT_EQ(down[0].ifname, "eth1");
}

TEST(CapturePlan, UnknownLaneNamesTheLanes) {
  try {
    plan_capture(kDescription, "cap", "nowhere", CaptureDirections::both, false);
    FAIL() << "expected an error";
  } catch (const std::runtime_error& error) {
    EXPECT_STREQ(error.what(), "lab 'cap' has no lane 'nowhere' (lanes: branch, p2p)");
  }
}

TEST(BridgeLane, ParsesBothOrders) {
  const auto lane = parse_bridge_lane("a=eth1,b=eth2");
  ASSERT_TRUE(lane) << lane.error;
  EXPECT_EQ(lane->a, "eth1");
  EXPECT_EQ(lane->b, "eth2");
  const auto swapped = parse_bridge_lane("b=eth2,a=eth1");
  ASSERT_TRUE(swapped) << swapped.error;
  EXPECT_EQ(swapped->a, "eth1");
}

TEST(BridgeLane, RejectsWhatIsNotTwoInterfaces) {
  for (const char* text : {"eth1,eth2", "a=eth1", "a=eth1,b=eth2,c=eth3", "a=eth1,a=eth2",
                           "a=,b=eth2", "a=eth1,b=this-name-is-far-too-long", "a=x/y,b=z", ""}) {
    const auto lane = parse_bridge_lane(text);
    EXPECT_FALSE(lane) << text;
    EXPECT_NE(lane.error.find("--lane"), std::string::npos) << lane.error;
  }
}

TEST(BridgeLane, EachInterfaceBelongsToOneLaneEnd) {
  EXPECT_EQ(check_bridge_lanes({{"eth1", "eth2"}, {"eth3", "eth4"}}), "");
  EXPECT_NE(check_bridge_lanes({}), "");
  EXPECT_NE(check_bridge_lanes({{"eth1", "eth1"}}).find("eth1 is used twice"), std::string::npos);
  EXPECT_NE(check_bridge_lanes({{"eth1", "eth2"}, {"eth2", "eth3"}}).find("eth2"),
            std::string::npos);
}

TEST(BridgeLane, LanesDrawFromTheirOwnSeeds) {
  link::LinkSpec link;
  link.seed = 42;
  link.up.seed = 1001;
  link.down.seed = 1002;
  const link::LinkSpec first = lane_link(link, 0);
  EXPECT_EQ(first.up.seed, 1001u);  // lane 0 is exactly the link as resolved
  EXPECT_EQ(first.down.seed, 1002u);
  const link::LinkSpec second = lane_link(link, 1);
  const link::LinkSpec third = lane_link(link, 2);
  EXPECT_NE(second.up.seed, first.up.seed);
  EXPECT_NE(second.up.seed, second.down.seed);
  EXPECT_NE(third.up.seed, second.up.seed);
  EXPECT_EQ(lane_link(link, 1).up.seed, second.up.seed);  // replayable
}

}  // namespace
}  // namespace longhaul::lab

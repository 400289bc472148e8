#include "lab/command_placeholders.hh"

#include <gtest/gtest.h>

namespace longhaul::lab {
namespace {

const LinkAddresses kAddresses{.remote = "198.18.3.1",
                               .remote6 = "2001:2:0:3::1",
                               .local = "198.18.3.2",
                               .local6 = "2001:2:0:3::2"};

TEST(CommandPlaceholders, ReplacesWholeAndEmbeddedPlaceholders) {
  const std::vector<std::string> argv{"iperf3", "-c", "{remote}", "http://[{remote6}]:80/",
                                      "{local}-{local6}"};
  EXPECT_EQ(expand_placeholders(argv, kAddresses),
            (std::vector<std::string>{"iperf3", "-c", "198.18.3.1", "http://[2001:2:0:3::1]:80/",
                                      "198.18.3.2-2001:2:0:3::2"}));
}

TEST(CommandPlaceholders, LeavesOtherBracesAndShellTextAlone) {
  const std::vector<std::string> argv{"sh", "-c", "echo {} {remote $LONGHAUL_REMOTE {remotes}"};
  EXPECT_EQ(expand_placeholders(argv, kAddresses), argv);
}

TEST(CommandPlaceholders, HintsAtAnEmptyArgumentOnly) {
  EXPECT_FALSE(empty_argument_hint({"iperf3", "-c", "{remote}"}));
  EXPECT_FALSE(empty_argument_hint({}));
  const auto hint = empty_argument_hint({"iperf3", "-c", "", "-t", "20"});
  ASSERT_TRUE(hint);
  EXPECT_NE(hint->find("argument 2 of the command (iperf3) is empty"), std::string::npos) << *hint;
  EXPECT_NE(hint->find("{remote}"), std::string::npos) << *hint;
}

}  // namespace
}  // namespace longhaul::lab

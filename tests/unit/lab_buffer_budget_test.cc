// One memory check for run, up and bridge: what the buffers need against what the machine has.
#include <gtest/gtest.h>

#include "core/units.hh"
#include "lab/buffer_budget.hh"

namespace longhaul::lab {
namespace {

using namespace std::chrono_literals;

link::LinkSpec delayed(core::Nanos delay, std::uint64_t rate_bps = 0) {
  link::LinkSpec link;
  link.up.delay = link.down.delay = delay;
  link.up.rate_bps = link.down.rate_bps = rate_bps;
  return link;
}

TEST(BufferBudget, ARunWithoutRateSizedForTwentyGigabitNeedsWhatItsDelayHolds) {
  // 20 Gbit/s x 2 s x 1.6 = 8 GB per direction: no 4 GiB machine holds it.
  const link::LinkSpec link = delayed(2s);
  const BufferedLink links[] = {{"the link", &link}};
  const std::string problem =
      buffers_do_not_fit(links, 20'000'000'000ULL, 4ULL << 30,
                         {"the link", "give --rate {} or lower", "a shorter --delay"});
  EXPECT_NE(problem.find("the link cannot be buffered: at no rate (sized for 20 Gbit/s) and 2 s"),
            std::string::npos)
      << problem;
  EXPECT_NE(problem.find("or lower (the fastest that fits) or a shorter --delay"),
            std::string::npos)
      << problem;
  EXPECT_EQ(buffers_do_not_fit(links, 20'000'000'000ULL, 64ULL << 30, {}), "");
}

TEST(BufferBudget, TheRateThatFitsDoesFit) {
  const link::LinkSpec link = delayed(10s, 10'000'000'000ULL);
  const BufferedLink links[] = {{"the link", &link}};
  const std::uint64_t available = 8ULL << 30;
  const std::string problem =
      buffers_do_not_fit(links, 0, available, {"the link", "rate {} or lower", "y"});
  ASSERT_NE(problem, "");
  // Following the advice: the rate it names, as typed, passes the same check.
  const auto at = problem.find("rate ");
  ASSERT_NE(at, std::string::npos) << problem;
  const auto rate =
      core::parse_rate_bps(problem.substr(at + 5, problem.find(' ', at + 5) - at - 5));
  ASSERT_TRUE(rate) << problem;
  const link::LinkSpec fitting = delayed(10s, *rate);
  const BufferedLink fitting_links[] = {{"the link", &fitting}};
  EXPECT_EQ(buffers_do_not_fit(fitting_links, 0, available, {}), "") << problem;
}

TEST(BufferBudget, HugeQueuesAndDelaysAreRefusedNotAllocated) {
  link::LinkSpec link = delayed(1000s);
  link.up.queue.max_bytes = link.down.queue.max_bytes = 1'000'000'000'000ULL;
  const BufferedLink links[] = {{"the link", &link}};
  EXPECT_NE(buffers_do_not_fit(links, 20'000'000'000ULL, 64ULL << 30, {"the link", "x", "y"}), "");
}

}  // namespace
}  // namespace longhaul::lab

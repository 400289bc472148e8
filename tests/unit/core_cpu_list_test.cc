// CPU lists for --cpus, in the kernel's own notation.
#include <gtest/gtest.h>

#include "core/cpu_list.hh"

namespace longhaul::core {
namespace {

TEST(CpuList, SinglesAndRangesInTheOrderWritten) {
  EXPECT_EQ(*parse_cpu_list("3"), (std::vector<int>{3}));
  EXPECT_EQ(*parse_cpu_list("2,3"), (std::vector<int>{2, 3}));
  EXPECT_EQ(*parse_cpu_list("0-3,6"), (std::vector<int>{0, 1, 2, 3, 6}));
  EXPECT_EQ(*parse_cpu_list("6,0-1"), (std::vector<int>{6, 0, 1}));
}

TEST(CpuList, RejectsWhatTasksetWouldRejectAndSaysWhy) {
  for (const char* bad : {"", ",", "1,", "a", "3-1", "1-", "-1", "1,1", "0-2,2", "4096", "1 2"}) {
    const auto parsed = parse_cpu_list(bad);
    EXPECT_FALSE(parsed) << bad;
    EXPECT_NE(parsed.error.find("is not a CPU list"), std::string::npos) << parsed.error;
  }
  EXPECT_NE(parse_cpu_list("0-2,2").error.find("CPU 2 appears twice"), std::string::npos);
}

}  // namespace
}  // namespace longhaul::core

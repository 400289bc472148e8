// io::parse_process_stat / read_process_stat: the identity (start time) and state of a process,
// which tell a live run or lab engine from a dead one or a reused PID.
#include <unistd.h>

#include <gtest/gtest.h>

#include "io/process.hh"

namespace longhaul::io {
namespace {

// Fields 3..22 of /proc/PID/stat: state, then 18 numbers, the last (22) being the start time.
constexpr const char* kTail = " 1 1 1 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 1 0 123456 ";

TEST(ProcessStat, ReadsStateAndStartTime) {
  const auto stat = parse_process_stat(std::string("42 (longhaul) S") + kTail);
  ASSERT_TRUE(stat.has_value());
  EXPECT_EQ(stat->state, 'S');
  EXPECT_EQ(stat->start_time, 123456u);
}

TEST(ProcessStat, CommandNamesWithSpacesAndParenthesesDoNotShiftTheFields) {
  const auto stat = parse_process_stat(std::string("42 (a) Z (b c)) Z") + kTail);
  ASSERT_TRUE(stat.has_value());
  EXPECT_EQ(stat->state, 'Z');
  EXPECT_EQ(stat->start_time, 123456u);
}

TEST(ProcessStat, TruncatedOrMalformedLinesAreRejected) {
  EXPECT_FALSE(parse_process_stat("").has_value());
  EXPECT_FALSE(parse_process_stat("42 longhaul S 1 1").has_value());
  EXPECT_FALSE(parse_process_stat("42 (longhaul)").has_value());
  EXPECT_FALSE(parse_process_stat("42 (longhaul) S 1 1 1").has_value());
}

TEST(ProcessStat, OwnProcessIsRunningWithAStableStartTime) {
  const auto first = read_process_stat(::getpid());
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->state, 'R');  // reading its own stat, it is running
  EXPECT_GT(first->start_time, 0u);
  EXPECT_EQ(read_process_stat(::getpid())->start_time, first->start_time);
}

TEST(ProcessStat, NoSuchProcess) {
  // PIDs are at most 2^22 on Linux (pid_max limit), so this one cannot exist.
  EXPECT_FALSE(read_process_stat(1 << 23).has_value());
}

}  // namespace
}  // namespace longhaul::io

// Schedules, capacity traces and MTU as the user writes them: --at values,
// schedule files, Mahimahi and native trace files, --mtu; what they resolve to
// and the errors, which name the flag or file:line, the value and what to do.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "link/schedule_options.hh"
#include "link/trace_file.hh"
#include "support/link_flags.hh"

namespace longhaul::link {
namespace {

using namespace std::chrono_literals;
using test_support::FailsNaming;
using test_support::Resolve;

testing::AssertionResult ErrorContains(const std::string& error,
                                       std::initializer_list<std::string_view> phrases) {
  if (error.empty()) return testing::AssertionFailure() << "no error";
  for (const auto phrase : phrases) {
    if (error.find(phrase) == std::string::npos) {
      return testing::AssertionFailure() << "error \"" << error << "\" lacks \"" << phrase << "\"";
    }
  }
  return testing::AssertionSuccess() << error;
}

// A file in the test's temporary directory, removed afterwards.
class TempFile {
 public:
  TempFile(const std::string& name, const std::string& text)
      : path_(testing::TempDir() + "/" + name) {
    std::ofstream(path_) << text;
  }
  ~TempFile() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// ------------------------------------------------------------------ --at and files

TEST(ScheduleText, LinesWithAndWithoutDirectionAndARepeat) {
  const auto spec = parse_schedule_text(
      "# a day on a flaky link\n"
      "0s rate 200mbit\n"
      "10s up delay 40ms loss 1%   # only up\n"
      "\n"
      "20s rtt 100ms rate-down 50mbit\n"
      "repeat 30s\n",
      "day.sched");
  ASSERT_TRUE(spec) << spec.error;
  ASSERT_EQ(spec->up.steps.size(), 3u);
  ASSERT_EQ(spec->down.steps.size(), 2u);
  EXPECT_EQ(spec->up.period, 30s);
  EXPECT_EQ(spec->down.period, 30s);
  EXPECT_EQ(spec->up.steps[0].change.rate_bps, 200'000'000u);
  EXPECT_EQ(spec->up.steps[1].at, 10s);
  EXPECT_EQ(spec->up.steps[1].change.delay, 40ms);
  EXPECT_EQ(spec->up.steps[1].change.loss, 0.01);
  EXPECT_EQ(spec->up.steps[2].change.delay, 50ms);  // half the round trip
  EXPECT_FALSE(spec->up.steps[2].change.rate_bps);  // rate-down is not up's
  EXPECT_EQ(spec->down.steps[1].change.delay, 50ms);
  EXPECT_EQ(spec->down.steps[1].change.rate_bps, 50'000'000u);
}

TEST(ScheduleText, ErrorsNameFileLineAndWhatIsExpected) {
  EXPECT_TRUE(ErrorContains(parse_schedule_text("0s rate 1mbit\n10 rate 5mbit\n", "f").error,
                            {"f:2:", "\"10\" is not a time", "TIME [up|down] KEY VALUE"}));
  EXPECT_TRUE(ErrorContains(parse_schedule_text("\n5s speed 1mbit\n", "f").error,
                            {"f:2:", "unknown key \"speed\"", "rtt, delay, rate, loss"}));
  EXPECT_TRUE(ErrorContains(parse_schedule_text("5s rate\n", "f").error, {"f:1:", "has no value"}));
  EXPECT_TRUE(
      ErrorContains(parse_schedule_text("5s rate 10mbps\n", "f").error, {"f:1:", "rate 10mbps"}));
  EXPECT_TRUE(ErrorContains(parse_schedule_text("5s up rate-down 1mbit\n", "f").error,
                            {"f:1:", "contradicts"}));
  EXPECT_TRUE(ErrorContains(parse_schedule_text("5s rate 1mbit rate 2mbit\n", "f").error,
                            {"f:1:", "set twice"}));
  EXPECT_TRUE(
      ErrorContains(parse_schedule_text("5s loss 150%\n", "f").error, {"f:1:", "loss 150%"}));
  EXPECT_TRUE(ErrorContains(parse_schedule_text("5s delay 61s\n", "f").error, {"f:1:", "60 s"}));
  EXPECT_TRUE(
      ErrorContains(parse_schedule_text("5s up rtt 10ms\n", "f").error, {"f:1:", "round trip"}));
}

TEST(AtFlag, ParsesTimeAndCommaSeparatedChanges) {
  ScheduleSpec spec;
  ASSERT_EQ(add_at_step("10s:rate=100mbit", spec), "");
  ASSERT_EQ(add_at_step("20s:rate=1gbit,delay-up=40ms", spec), "");
  ASSERT_EQ(spec.up.steps.size(), 2u);
  ASSERT_EQ(spec.down.steps.size(), 2u);
  EXPECT_EQ(spec.up.steps[1].at, 20s);
  EXPECT_EQ(spec.up.steps[1].change.rate_bps, 1'000'000'000u);
  EXPECT_EQ(spec.up.steps[1].change.delay, 40ms);
  EXPECT_FALSE(spec.down.steps[1].change.delay);
  EXPECT_TRUE(ErrorContains(add_at_step("10s", spec), {"--at 10s", "TIME:KEY=VALUE"}));
  EXPECT_TRUE(ErrorContains(add_at_step("10s:rate", spec), {"--at 10s:rate", "KEY=VALUE"}));
  EXPECT_TRUE(ErrorContains(add_at_step("ten:rate=1mbit", spec), {"--at ten:rate=1mbit"}));
}

TEST(ResolveSchedule, RepeatMustCoverEveryStep) {
  auto ok = resolve_schedule({"0s:rate=10mbit", "5s:rate=1mbit"}, std::nullopt, "10s");
  ASSERT_TRUE(ok) << ok.error;
  EXPECT_EQ(ok->up.period, 10s);
  EXPECT_TRUE(ErrorContains(
      resolve_schedule({"0s:rate=10mbit", "15s:rate=1mbit"}, std::nullopt, "10s").error,
      {"15 s", "repeat period of 10 s"}));
  EXPECT_TRUE(ErrorContains(resolve_schedule({}, std::nullopt, "10s").error, {"without steps"}));
  // In a file the step and the repeat line are named by FILE:LINE, wherever the repeat line is.
  EXPECT_TRUE(ErrorContains(
      parse_schedule_text("repeat 15s\n0s rate 1mbit\n# comment\n15s rate 2mbit\n", "day.sched")
          .error,
      {"day.sched:4:", "step at 15 s", "repeat period of 15 s (line 1)"}));
  EXPECT_TRUE(
      ErrorContains(parse_schedule_text("0s rate 1mbit\n20s rate 2mbit\nrepeat 15s\n", "f").error,
                    {"f:2:", "step at 20 s"}));
  EXPECT_TRUE(parse_schedule_text("0s rate 1mbit\n14.999s rate 2mbit\nrepeat 15s\n", "f"));
  EXPECT_TRUE(ErrorContains(resolve_schedule({}, "/nonexistent/x.sched", std::nullopt).error,
                            {"--schedule /nonexistent/x.sched", "cannot open"}));
}

TEST(ResolveSchedule, FileStepsComeFirstAtEqualTimes) {
  const TempFile file("order.sched", "10s rate 1mbit\n");
  auto spec = resolve_schedule({"10s:rate=2mbit", "5s:rate=3mbit"}, file.path(), std::nullopt);
  ASSERT_TRUE(spec) << spec.error;
  ASSERT_EQ(spec->up.steps.size(), 3u);
  EXPECT_EQ(spec->up.steps[0].change.rate_bps, 3'000'000u);
  EXPECT_EQ(spec->up.steps[1].change.rate_bps, 1'000'000u);
  EXPECT_EQ(spec->up.steps[2].change.rate_bps, 2'000'000u);
}

TEST(ResolveLinkSchedule, ScheduleOnlyRateGetsAQueueSizedForItsFastestRate) {
  LinkFlags flags;
  flags.rtt = "40ms";
  flags.at = {"3s:rate=50mbit", "1s:rate=200mbit"};
  const auto spec = Resolve(flags);
  ASSERT_TRUE(spec) << spec.error;
  EXPECT_EQ(spec->up.rate_bps, 0u);  // unlimited until the first step
  EXPECT_TRUE(spec->up.has_rate());
  EXPECT_EQ(spec->up.max_rate_bps(), 200'000'000u);
  // One round trip at 200 Mbit/s: 1 MB.
  EXPECT_EQ(spec->up.queue.max_bytes, 1'000'000u);
  ASSERT_EQ(spec->down.schedule.steps.size(), 2u);
  EXPECT_EQ(spec->down.schedule.steps[0].at, 1s);
}

TEST(ResolveLinkSchedule, QdiscAndQueueAcceptAScheduledRate) {
  LinkFlags flags;
  flags.at = {"1s:rate-up=10mbit"};
  flags.qdisc = "codel";
  flags.queue_up = "100p";
  const auto spec = Resolve(flags);
  ASSERT_TRUE(spec) << spec.error;
  EXPECT_EQ(spec->up.qdisc.discipline, core::QueueDiscipline::codel);
  EXPECT_EQ(spec->up.queue.max_packets, 100u);
  EXPECT_TRUE(spec->up.needs_wire_packets());
}

TEST(ResolveLinkSchedule, ScheduledLossNeedsIndependentLossAndWirePackets) {
  LinkFlags flags;
  flags.at = {"2s:loss-down=5%"};
  auto spec = Resolve(flags);
  ASSERT_TRUE(spec) << spec.error;
  EXPECT_TRUE(spec->down.needs_wire_packets());
  EXPECT_FALSE(spec->up.needs_wire_packets());
  flags.netem_down = "loss gemodel 1% 10%";
  EXPECT_TRUE(FailsNaming(flags, {"schedule changes the down loss", "--netem"}));
}

// ------------------------------------------------------------------ traces

TEST(CapacityTrace, MahimahiConstantTraceIsOneRate) {
  // One opportunity per millisecond: 1538 B x 8 x 1000/s = 12.304 Mbit/s.
  std::string text;
  for (int ms = 1; ms <= 10; ++ms) text += std::to_string(ms) + "\n";
  const auto trace = parse_capacity_trace(text, "12mbit.mahi", true, 24);
  ASSERT_TRUE(trace) << trace.error;
  ASSERT_EQ(trace->steps.size(), 1u);
  EXPECT_EQ(trace->steps[0].at, 0ms);
  EXPECT_EQ(trace->steps[0].change.rate_bps, 12'304'000u);
  EXPECT_EQ(trace->period, 10ms);
}

TEST(CapacityTrace, MahimahiIntervalsCarryTheirOpportunitiesAndZeroFoldsIntoTheLoop) {
  // 0 (x1), 2 (x3), 5 (x1), 10 (x2): intervals (0,2] 3 opp, (2,5] 1, (5,10] 2 + 1 from time 0.
  const auto trace = parse_capacity_trace("0\n2\n2\n2\n5\n10\n10\n", "t", true, 24);
  ASSERT_TRUE(trace) << trace.error;
  ASSERT_EQ(trace->steps.size(), 3u);
  const double bits = 1538 * 8;
  EXPECT_EQ(trace->steps[0].at, 0ms);
  EXPECT_EQ(trace->steps[0].change.rate_bps, static_cast<std::uint64_t>(3 * bits * 1000 / 2));
  EXPECT_EQ(trace->steps[1].at, 2ms);
  EXPECT_EQ(trace->steps[1].change.rate_bps, static_cast<std::uint64_t>(bits * 1000 / 3));
  EXPECT_EQ(trace->steps[2].at, 5ms);
  EXPECT_EQ(trace->steps[2].change.rate_bps, static_cast<std::uint64_t>(3 * bits * 1000 / 5));
  EXPECT_EQ(trace->period, 10ms);
  // Each cycle delivers exactly the trace's 7 opportunities.
  const double delivered =
      (3 * bits * 1000 / 2) * 0.002 + (bits * 1000 / 3) * 0.003 + (3 * bits * 1000 / 5) * 0.005;
  EXPECT_NEAR(delivered / bits, 7.0, 1e-9);

  const auto once = parse_capacity_trace("0\n2\n2\n2\n5\n10\n10\n", "t", false, 24);
  ASSERT_TRUE(once);
  EXPECT_EQ(once->period, 0ns);
  EXPECT_EQ(once->steps[2].change.rate_bps, static_cast<std::uint64_t>(2 * bits * 1000 / 5));
}

TEST(CapacityTrace, NativeMicrosecondRatesWithAnEnd) {
  const auto trace = parse_capacity_trace(
      "# t_us rate\n0 10gbit\n250000 2.5gbit\n500000 10gbit\n1000000 end\n", "n.trace", true, 24);
  ASSERT_TRUE(trace) << trace.error;
  ASSERT_EQ(trace->steps.size(), 3u);
  EXPECT_EQ(trace->steps[1].at, 250ms);
  EXPECT_EQ(trace->steps[1].change.rate_bps, 2'500'000'000u);
  EXPECT_EQ(trace->period, 1s);
  const auto no_end = parse_capacity_trace("0 1gbit\n5 2gbit\n", "n", true, 24);
  ASSERT_TRUE(no_end);
  EXPECT_EQ(no_end->period, 0ns);  // nothing to loop at: the last rate holds
}

TEST(CapacityTrace, ErrorsNameFileLineAndWhatIsExpected) {
  EXPECT_TRUE(ErrorContains(parse_capacity_trace("1\n2\nx\n", "m", true, 24).error,
                            {"m:3:", "whole number of milliseconds"}));
  EXPECT_TRUE(ErrorContains(parse_capacity_trace("5\n3\n", "m", true, 24).error,
                            {"m:2:", "must not decrease"}));
  EXPECT_TRUE(ErrorContains(parse_capacity_trace("0\n0\n", "m", true, 24).error,
                            {"m:", "longer than 0 ms"}));
  EXPECT_TRUE(ErrorContains(parse_capacity_trace("0 1gbit\n10 5\n", "n", true, 24).error,
                            {"n:2:", "rate 5"}));
  EXPECT_TRUE(ErrorContains(parse_capacity_trace("10 1gbit\n", "n", true, 24).error,
                            {"n:1:", "first line must be at 0"}));
  EXPECT_TRUE(ErrorContains(parse_capacity_trace("0 1gbit\n0 2gbit\n", "n", true, 24).error,
                            {"n:2:", "times must increase"}));
  EXPECT_TRUE(
      ErrorContains(parse_capacity_trace("0 1gbit\n10 end\n20 1gbit\n", "n", true, 24).error,
                    {"n:3:", "nothing may follow"}));
  EXPECT_TRUE(ErrorContains(parse_capacity_trace("# only a comment\n", "e", true, 24).error,
                            {"e:", "no trace lines"}));
}

TEST(ResolveLinkTrace, TraceSetsTheRateAndConflictsAreErrors) {
  const TempFile file("link.mahi", "1\n2\n3\n4\n");
  LinkFlags flags;
  flags.rtt = "20ms";
  flags.trace_down = file.path();
  auto spec = Resolve(flags);
  ASSERT_TRUE(spec) << spec.error;
  EXPECT_EQ(spec->down.rate_bps, 12'304'000u);
  EXPECT_EQ(spec->down.capacity_trace.period, 4ms);
  EXPECT_EQ(spec->up.rate_bps, 0u);
  flags.trace_once = true;
  spec = Resolve(flags);
  ASSERT_TRUE(spec);
  EXPECT_EQ(spec->down.capacity_trace.period, 0ns);

  LinkFlags both = flags;
  both.rate = "10mbit";
  EXPECT_TRUE(FailsNaming(both, {"--rate", "--trace-down", "both set the rate"}));
  LinkFlags scheduled = flags;
  scheduled.at = {"1s:rate=5mbit"};
  EXPECT_TRUE(FailsNaming(scheduled, {"schedule changes the down rate", "--trace-down"}));
  LinkFlags missing;
  missing.trace_up = "/nonexistent/trace";
  EXPECT_TRUE(FailsNaming(missing, {"--trace-up", "/nonexistent/trace", "cannot open"}));
  LinkFlags once_alone;
  once_alone.trace_once = true;
  EXPECT_TRUE(FailsNaming(once_alone, {"--trace-once", "--trace-up"}));
}

// ------------------------------------------------------------------ MTU

TEST(ResolveLinkMtu, PerDirectionMtuAndIcmp) {
  LinkFlags flags;
  flags.mtu = "1400";
  flags.mtu_down = "9000B";
  flags.mtu_icmp = true;
  const auto spec = Resolve(flags);
  ASSERT_TRUE(spec) << spec.error;
  EXPECT_EQ(spec->up.mtu_bytes, 1400u);
  EXPECT_EQ(spec->down.mtu_bytes, 9000u);
  EXPECT_TRUE(spec->up.mtu_icmp);
  LinkFlags small;
  small.mtu = "60";
  EXPECT_TRUE(FailsNaming(small, {"--mtu 60", "68"}));
  LinkFlags icmp_only;
  icmp_only.mtu_icmp = true;
  EXPECT_TRUE(FailsNaming(icmp_only, {"--mtu-icmp", "add --mtu"}));
}

}  // namespace
}  // namespace longhaul::link

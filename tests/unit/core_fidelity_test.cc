// The fidelity verdict (core/fidelity) on constructed evidence, the lateness histogram's
// snapshots it is built from (engine/latency_histogram), the schedstat parser, and the file
// through which a run tells `bench client` how faithful its link was (measure/link_fidelity).
#include "core/fidelity.hh"

#include <gtest/gtest.h>

#include <chrono>

#include "core/histogram.hh"
#include "engine/fidelity_sample.hh"
#include "io/thread_schedstat.hh"
#include "measure/report/link_fidelity.hh"

namespace longhaul::core {
namespace {

using namespace std::chrono_literals;

TEST(FidelityThresholds, ScaleWithTheOneWayDelayBetweenFloorAndCeiling) {
  const auto zero = fidelity_thresholds(0ns);
  EXPECT_EQ(zero.late_p99, 100us);
  EXPECT_EQ(zero.late_p999, 1ms);
  const auto japan = fidelity_thresholds(173ms);  // 346 ms round trip
  EXPECT_EQ(japan.late_p99, 1730us);
  EXPECT_EQ(japan.late_p999, 8650us);
  const auto small = fidelity_thresholds(5ms);  // 1 % = 50 us and 5 % = 250 us: the floors hold
  EXPECT_EQ(small.late_p99, 100us);
  EXPECT_EQ(small.late_p999, 1ms);
  const auto huge = fidelity_thresholds(10s);  // the histogram's range caps both
  EXPECT_EQ(huge.late_p99, 100ms);
  EXPECT_EQ(huge.late_p999, 100ms);
}

TEST(FidelityThresholds, FollowTheSmallestDelayASchedulePromises) {
  DirectionConfig config;
  config.delay = 40ms;
  EXPECT_EQ(fidelity_delay(config), 40ms);
  ScheduleStep step;
  step.at = 1s;
  step.change.delay = 10ms;
  config.schedule.steps.push_back(step);
  ScheduleStep rate_only;
  rate_only.at = 2s;
  rate_only.change.rate_bps = 1'000'000;
  config.schedule.steps.push_back(rate_only);
  EXPECT_EQ(fidelity_delay(config), 10ms);
}

TEST(LateShareExceeded, NeedsMoreThanChanceAllows) {
  // Nothing late, or a share at the allowance, is never degraded.
  EXPECT_FALSE(late_share_exceeded(0, 1'000'000, 0.01));
  EXPECT_FALSE(late_share_exceeded(10'000, 1'000'000, 0.01));
  EXPECT_FALSE(late_share_exceeded(1, 0, 0.01));
  // 20 pings: one over the p99.9 threshold could be chance (a 2 % chance at 0.1 %), two are not.
  EXPECT_FALSE(late_share_exceeded(1, 20, 0.001));
  EXPECT_TRUE(late_share_exceeded(2, 20, 0.001));
  // ... and over the p99 threshold it takes four of twenty.
  EXPECT_FALSE(late_share_exceeded(3, 20, 0.01));
  EXPECT_TRUE(late_share_exceeded(4, 20, 0.01));
  // A million frames: 1.01 % late is within chance of 1 %, 1.05 % is not.
  EXPECT_FALSE(late_share_exceeded(10'100, 1'000'000, 0.01));
  EXPECT_TRUE(late_share_exceeded(10'500, 1'000'000, 0.01));
  // Everything late.
  EXPECT_TRUE(late_share_exceeded(50, 50, 0.01));
}

FidelityEvidence Quiet(std::uint64_t frames) {
  FidelityEvidence evidence;
  evidence.thresholds = fidelity_thresholds(20ms);  // 200 us / 1 ms
  evidence.frames_released = frames;
  evidence.cpu_measured = true;
  evidence.cpu_running = 2s;
  evidence.cpu_waiting = 10ms;
  return evidence;
}

TEST(JudgeFidelity, OkWhenEverythingIsWithinThresholds) {
  auto evidence = Quiet(100'000);
  evidence.late_over_p99 = 900;  // 0.9 %
  evidence.late_over_p999 = 80;  // 0.08 %
  const auto verdict = judge_fidelity(evidence);
  EXPECT_FALSE(verdict.degraded);
  EXPECT_TRUE(verdict.reasons.empty());
  EXPECT_TRUE(verdict.findings.empty());
  EXPECT_DOUBLE_EQ(verdict.late_share_p99, 0.009);
  EXPECT_NEAR(verdict.cpu_wait_share, 0.01 / 2.01, 1e-12);
}

TEST(JudgeFidelity, NoTrafficIsOk) {
  EXPECT_FALSE(judge_fidelity(Quiet(0)).degraded);
}

TEST(JudgeFidelity, LateReleasesWithCpuWaitNameTheCpu) {
  auto evidence = Quiet(200'000);
  evidence.late_over_p99 = 2'400;   // 1.2 %
  evidence.late_over_p999 = 2'000;  // 1 %
  evidence.lateness_p99 = 5ms;
  evidence.lateness_p999 = 40ms;
  evidence.cpu_running = 7s;
  evidence.cpu_waiting = 3s;  // 30 % of the time it had work
  const auto verdict = judge_fidelity(evidence);
  ASSERT_TRUE(verdict.degraded);
  ASSERT_EQ(verdict.reasons.size(), 2u);
  EXPECT_EQ(verdict.reasons[0], "1 % of frames released > 1 ms late (allowed 0.1 %; p99.9 40 ms)");
  EXPECT_EQ(verdict.reasons[1], "1.2 % of frames released > 200 us late (allowed 1 %; p99 5 ms)");
  ASSERT_EQ(verdict.findings.size(), 1u);
  EXPECT_EQ(verdict.findings[0].cause, FidelityCause::cpu);
  EXPECT_NE(verdict.findings[0].text.find("30 %"), std::string::npos) << verdict.findings[0].text;
  EXPECT_NE(verdict.findings[0].advice.find("--cpus"), std::string::npos);
  const std::string line = fidelity_summary_line("up", verdict);
  EXPECT_EQ(line.rfind("FIDELITY DEGRADED on up: 1 % of frames released > 1 ms late", 0), 0u)
      << line;
  EXPECT_NE(line.find("\u2014 the engine's thread waited for a CPU 30 %"), std::string::npos)
      << line;
}

TEST(JudgeFidelity, LateReleasesWithoutCpuWaitBlameTheMachine) {
  auto evidence = Quiet(200'000);
  evidence.late_over_p999 = 1'000;  // 0.5 %
  evidence.late_over_p99 = 1'000;
  const auto verdict = judge_fidelity(evidence);
  ASSERT_TRUE(verdict.degraded);
  ASSERT_EQ(verdict.findings.size(), 1u);
  EXPECT_EQ(verdict.findings[0].cause, FidelityCause::machine);
  EXPECT_NE(verdict.findings[0].text.find("timer floor"), std::string::npos);
}

TEST(JudgeFidelity, WithoutSchedulerStatisticsTheCauseIsUnknownButStillTheMachineOrCpu) {
  auto evidence = Quiet(200'000);
  evidence.cpu_measured = false;
  evidence.late_over_p999 = 1'000;
  const auto verdict = judge_fidelity(evidence);
  ASSERT_EQ(verdict.findings.size(), 1u);
  EXPECT_EQ(verdict.findings[0].cause, FidelityCause::machine);
  EXPECT_EQ(verdict.cpu_wait_share, 0.0);
}

TEST(JudgeFidelity, EveryUnconfiguredDropDegradesWithItsOwnCause) {
  auto evidence = Quiet(1'000);
  evidence.lost_before_ingress = 3;
  evidence.buffer_exhausted = 1;
  evidence.tx_error = 2;
  const auto verdict = judge_fidelity(evidence);
  ASSERT_TRUE(verdict.degraded);
  EXPECT_EQ(verdict.reasons,
            (std::vector<std::string>{"3 frames lost before the engine read them",
                                      "1 packets dropped for want of a packet buffer",
                                      "2 packets refused by the egress interface"}));
  ASSERT_EQ(verdict.findings.size(), 3u);
  EXPECT_EQ(verdict.findings[0].cause, FidelityCause::ingress_overflow);
  EXPECT_EQ(verdict.findings[1].cause, FidelityCause::buffer_exhausted);
  EXPECT_EQ(verdict.findings[2].cause, FidelityCause::egress_refused);
  EXPECT_STREQ(fidelity_cause_name(verdict.findings[0].cause), "ingress_overflow");
}

TEST(JudgeFidelity, CpuWaitAloneIsNotDegraded) {
  // A starved thread that still released on time kept the promise.
  auto evidence = Quiet(10'000);
  evidence.cpu_waiting = 2s;
  EXPECT_FALSE(judge_fidelity(evidence).degraded);
}

TEST(EvidenceBetween, SubtractsCountsAndKeepsTheLaterThresholds) {
  auto start = Quiet(1'000);
  start.late_over_p99 = 5;
  start.cpu_waiting = 1s;
  auto end = Quiet(3'000);
  end.late_over_p99 = 105;
  end.late_over_p999 = 50;
  end.cpu_waiting = 2s;
  end.lateness_p999 = 9ms;
  const auto span = evidence_between(end, start);
  EXPECT_EQ(span.frames_released, 2'000u);
  EXPECT_EQ(span.late_over_p99, 100u);
  EXPECT_EQ(span.late_over_p999, 50u);
  EXPECT_EQ(span.cpu_waiting, 1s);
  EXPECT_EQ(span.cpu_running, 0s);
  EXPECT_EQ(span.lateness_p999, 0ns);  // percentiles do not subtract
  EXPECT_EQ(span.thresholds.late_p99, end.thresholds.late_p99);
}

TEST(DescribeDuration, PicksAReadableUnit) {
  EXPECT_EQ(describe_duration(850us), "850 us");
  EXPECT_EQ(describe_duration(1200us), "1.2 ms");
  EXPECT_EQ(describe_duration(40ms), "40 ms");
  EXPECT_EQ(describe_duration(12s), "12 s");
}

}  // namespace
}  // namespace longhaul::core

namespace longhaul::engine {
namespace {

using namespace std::chrono_literals;

TEST(LatenessSnapshot, CountsSamplesCertainlyAtOrAboveAThreshold) {
  core::LatenessHistogram histogram;
  for (int i = 0; i < 90; ++i) histogram.record(5us);
  for (int i = 0; i < 8; ++i) histogram.record(250us);
  histogram.record(1'450us);  // bucket [1.4 ms, 1.5 ms)
  histogram.record(300ms);    // overflow
  const auto snapshot = histogram.snapshot();
  EXPECT_EQ(snapshot.count(), 100u);
  EXPECT_EQ(snapshot.count_at_least(100us), 10u);
  EXPECT_EQ(snapshot.count_at_least(250us), 10u);  // the bucket starting at 250 us counts
  EXPECT_EQ(snapshot.count_at_least(251us), 2u);   // the bucket holding 250.x us might be below
  EXPECT_EQ(snapshot.count_at_least(1400us), 2u);
  EXPECT_EQ(snapshot.count_at_least(1450us), 1u);  // inside a 100 us bucket: not certain
  EXPECT_EQ(snapshot.count_at_least(100ms), 1u);
  EXPECT_EQ(snapshot.quantile(0.99), 1500us);
  EXPECT_EQ(snapshot.quantile(1.0), 300ms);
  EXPECT_EQ(histogram.quantile(0.5), snapshot.quantile(0.5));
}

TEST(LatenessSnapshot, SinceGivesTheSamplesBetweenTwoSnapshots) {
  core::LatenessHistogram histogram;
  for (int i = 0; i < 50; ++i) histogram.record(3ms);
  const auto before = histogram.snapshot();
  for (int i = 0; i < 10; ++i) histogram.record(20us);
  const auto difference = histogram.snapshot().since(before);
  EXPECT_EQ(difference.count(), 10u);
  EXPECT_EQ(difference.count_at_least(1ms), 0u);
  EXPECT_EQ(difference.quantile(0.999), 21us);
  EXPECT_EQ(difference.max, 21us);  // the top of its highest bucket, not the whole run's 3 ms
  EXPECT_EQ(histogram.snapshot().since(histogram.snapshot()).count(), 0u);
}

TEST(FidelityEvidence, FromTwoSamples) {
  FidelitySample earlier;
  FidelitySample later;
  core::LatenessHistogram histogram;
  for (int i = 0; i < 100; ++i) histogram.record(10us);
  earlier.lateness = histogram.snapshot();
  for (int i = 0; i < 97; ++i) histogram.record(10us);
  for (int i = 0; i < 3; ++i) histogram.record(5ms);
  later.lateness = histogram.snapshot();
  later.lost_before_ingress = 7;
  earlier.lost_before_ingress = 2;
  later.cpu_samples = 3;
  earlier.cpu_samples = 1;
  later.cpu_running = 900ms;
  later.cpu_waiting = 300ms;
  earlier.cpu_waiting = 100ms;
  const auto evidence = fidelity_evidence(later, earlier, core::fidelity_thresholds(0ns));
  EXPECT_EQ(evidence.frames_released, 100u);
  EXPECT_EQ(evidence.late_over_p99, 3u);
  EXPECT_EQ(evidence.late_over_p999, 3u);
  EXPECT_EQ(evidence.lateness_p99, 5ms);  // its bucket ends at 5.1 ms; no sample was above 5
  EXPECT_EQ(evidence.lost_before_ingress, 5u);
  EXPECT_TRUE(evidence.cpu_measured);
  EXPECT_EQ(evidence.cpu_waiting, 200ms);
  EXPECT_FALSE(fidelity_evidence(later, later, core::fidelity_thresholds(0ns)).cpu_measured);
}

}  // namespace
}  // namespace longhaul::engine

namespace longhaul::io {
namespace {

TEST(ParseSchedstat, ReadsRunAndWaitTimes) {
  const auto times = parse_schedstat("161814536 296114656 123\n");
  ASSERT_TRUE(times);
  EXPECT_EQ(times->running.count(), 161814536);
  EXPECT_EQ(times->waiting.count(), 296114656);
  EXPECT_FALSE(parse_schedstat(""));
  EXPECT_FALSE(parse_schedstat("12"));
  EXPECT_FALSE(parse_schedstat("x 12 3"));
}

TEST(ThreadSchedstat, ReadsThisThreadsTimesWhereTheKernelHasThem) {
  const auto schedstat = ThreadSchedstat::for_this_thread();
  const auto first = schedstat.read();
  if (!first) GTEST_SKIP() << "no /proc/thread-self/schedstat on this kernel";
  // The kernel adds a running thread's time at ticks and switches, not continuously: spin
  // until the figure moves, within a bound.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  auto second = schedstat.read();
  volatile std::uint64_t sink = 0;
  while (second && second->running == first->running &&
         std::chrono::steady_clock::now() < deadline) {
    for (std::uint64_t i = 0; i < 100'000; ++i) sink = sink + i;
    second = schedstat.read();
  }
  ASSERT_TRUE(second);
  EXPECT_GT(second->running, first->running);
  EXPECT_GE(second->waiting, first->waiting);
  EXPECT_FALSE(ThreadSchedstat().read());
}

}  // namespace
}  // namespace longhaul::io

namespace longhaul::measure {
namespace {

using namespace std::chrono_literals;

TEST(LinkFidelity, EvidenceSurvivesItsJson) {
  core::FidelityEvidence evidence;
  evidence.thresholds = core::fidelity_thresholds(40ms);
  evidence.frames_released = 12;
  evidence.late_over_p99 = 3;
  evidence.late_over_p999 = 2;
  evidence.lost_before_ingress = 4;
  evidence.buffer_exhausted = 5;
  evidence.tx_error = 6;
  evidence.cpu_measured = true;
  evidence.cpu_running = 7ms;
  evidence.cpu_waiting = 8ms;
  const auto back = fidelity_evidence_from_json(fidelity_evidence_json(evidence));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->thresholds.late_p999, evidence.thresholds.late_p999);
  EXPECT_EQ(back->frames_released, 12u);
  EXPECT_EQ(back->late_over_p999, 2u);
  EXPECT_EQ(back->tx_error, 6u);
  EXPECT_EQ(back->cpu_waiting, 8ms);
  EXPECT_FALSE(fidelity_evidence_from_json(nlohmann::json::object()));
}

TEST(LinkFidelity, WarnsOnlyAboutTheSpanOfTheTest) {
  core::FidelityEvidence before;
  before.thresholds = core::fidelity_thresholds(40ms);
  before.frames_released = 100'000;
  before.late_over_p99 = 50'000;  // a bad start, before the test
  before.late_over_p999 = 50'000;
  core::FidelityEvidence after = before;
  after.frames_released += 100'000;  // the test's own span: nothing late
  std::map<std::string, core::FidelityEvidence> start{{"up", before}, {"down", before}};
  std::map<std::string, core::FidelityEvidence> end{{"up", after}, {"down", after}};
  EXPECT_TRUE(link_fidelity_warnings(start, end).empty());
  end["down"].late_over_p999 += 5'000;  // 5 % of the test's frames late on the way back
  end["down"].late_over_p99 += 5'000;
  const auto warnings = link_fidelity_warnings(start, end);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0].rfind("FIDELITY DEGRADED on down: 5 % of frames released > 2 ms late", 0),
            0u)
      << warnings[0];
  EXPECT_NE(warnings[0].find("machine's limits"), std::string::npos);
}

TEST(LinkFidelity, OverallVerdictCollectsTheDegradedDirections) {
  const nlohmann::json directions = {
      {"up", {{"verdict", "ok"}, {"reasons", nlohmann::json::array()}}},
      {"down",
       {{"verdict", "degraded"}, {"reasons", {"3 frames lost before the engine read them"}}}}};
  const auto overall = overall_fidelity_json(directions);
  EXPECT_EQ(overall["verdict"], "degraded");
  EXPECT_EQ(overall["reasons"],
            nlohmann::json::array({"down: 3 frames lost before the engine read them"}));
  EXPECT_EQ(overall_fidelity_json({{"up", {{"verdict", "ok"}}}})["verdict"], "ok");
}

}  // namespace
}  // namespace longhaul::measure

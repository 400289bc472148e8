// The sweep's model against worked values: link goodput, window / RTT, Mathis, the window a
// host's settings allow, and the explanations' thresholds.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>

#include "lab/sweep.hh"
#include "measure/report/sweep_report.hh"
#include "tune/throughput_model.hh"

namespace longhaul::tune {
namespace {

using namespace std::chrono_literals;

HostSettings linux_66(const std::string& rmem, const std::string& wmem) {
  HostSettings settings;
  settings.kernel = *KernelVersion::parse("6.6.0");
  settings.sysctls["net.ipv4.tcp_rmem"] = rmem;
  settings.sysctls["net.ipv4.tcp_wmem"] = wmem;
  return settings;
}

ThroughputModelInput one_gbit(core::Nanos rtt, double window) {
  ThroughputModelInput input;
  input.rate_bps = 1'000'000'000;
  input.rtt = rtt;
  input.window_bytes = window;
  return input;
}

TEST(ThroughputModel, LinkGoodputChargesWireBytesPerSegment) {
  // 1448 B of payload in a 1538 B wire packet (1500 MTU + 14 Ethernet + 24 overhead).
  const auto p = predict_throughput(one_gbit(0ms, 16e6));
  EXPECT_NEAR(p.link_goodput_bps, 941.482e6, 1e3);
  EXPECT_EQ(p.limit, ModelLimit::link);
  EXPECT_TRUE(std::isinf(p.window_limited_bps));  // zero RTT: no window limit
}

TEST(ThroughputModel, WindowOverRtt) {
  // 4 MiB x 0.65 = 2.726 MB at 64 ms: 340.8 Mbit/s, below the link.
  const auto p = predict_throughput(one_gbit(64ms, 4194304 * 0.65));
  EXPECT_NEAR(p.window_limited_bps, 340.787e6, 1e3);
  EXPECT_EQ(p.limit, ModelLimit::window);
  EXPECT_DOUBLE_EQ(p.predicted_bps, p.window_limited_bps);
  // Streams add up: four such windows exceed the link again.
  auto four = one_gbit(64ms, 4194304 * 0.65);
  four.streams = 4;
  EXPECT_EQ(predict_throughput(four).limit, ModelLimit::link);
}

TEST(ThroughputModel, MathisWhenLossBasedOnly) {
  auto input = one_gbit(100ms, 1e9);
  input.mss_bytes = 1460;
  input.loss = 0.01;
  const auto p = predict_throughput(input);
  ASSERT_TRUE(p.mathis_bps);
  EXPECT_NEAR(*p.mathis_bps, 1.43e6, 0.01e6);  // MSS 1460 B, 100 ms, 1 %: 1.43 Mbit/s
  EXPECT_EQ(p.limit, ModelLimit::loss);
  input.loss_based = false;  // BBR does not back off on random loss
  EXPECT_FALSE(predict_throughput(input).mathis_bps);
}

TEST(ThroughputModel, SlowStartToTheSmallerOfWindowAndBdp) {
  // 1 Gbit/s x 128 ms = 16 MB; from 10 x 1448 B that is 11 round trips, 1.408 s.
  const auto p = predict_throughput(one_gbit(128ms, 64e6));
  EXPECT_DOUBLE_EQ(p.ramp_window_bytes, 16e6);
  EXPECT_EQ(p.slow_start.rounds, 11U);
  EXPECT_EQ(p.slow_start.time, 1408ms);
}

TEST(ThroughputModel, WindowFromSettings) {
  // Since 6.6 the expected payload share is the measured 0.65; tcp_adv_win_scale is ignored.
  auto settings = linux_66("4096 131072 2097152", "4096 16384 4194304");
  settings.sysctls["net.ipv4.tcp_adv_win_scale"] = "-2";
  const auto limits = window_limits(settings, settings);
  EXPECT_EQ(limits.rmem_max_bytes, 2097152);
  EXPECT_EQ(limits.wmem_max_bytes, 4194304);
  EXPECT_DOUBLE_EQ(limits.receive_window_bytes, 2097152 * 0.65);
  EXPECT_DOUBLE_EQ(limits.window_bytes(), 2097152 * 0.65);
  // Before 6.6 tcp_adv_win_scale decides: 1 -> half, 2 -> three quarters.
  settings.kernel = *KernelVersion::parse("5.15.0");
  settings.sysctls["net.ipv4.tcp_adv_win_scale"] = "2";
  EXPECT_DOUBLE_EQ(window_limits(settings, settings).window_fraction, 0.75);
  settings.sysctls["net.ipv4.tcp_adv_win_scale"] = "1";
  EXPECT_DOUBLE_EQ(window_limits(settings, settings).window_fraction, 0.5);
}

CellObservation observed(double bps) {
  CellObservation o;
  o.measured_bps = bps;
  o.counted_from = 3s;
  o.duration = 10s;
  o.fill_interval_start = 1s;
  o.fill = 2s;
  return o;
}

TEST(ThroughputModel, ToleranceIsTenPercentEitherWay) {
  EXPECT_TRUE(within_tolerance(90, 100));
  EXPECT_TRUE(within_tolerance(110, 100));
  EXPECT_FALSE(within_tolerance(89, 100));
  EXPECT_FALSE(within_tolerance(111, 100));
  const auto p = predict_throughput(one_gbit(0ms, 16e6));
  EXPECT_FALSE(explain_cell(p, observed(0.95 * p.predicted_bps)));
}

TEST(ThroughputModel, SlowStartExplanationWhenTheRampWasCounted) {
  const auto p = predict_throughput(one_gbit(128ms, 64e6));
  auto o = observed(0.7 * p.predicted_bps);
  o.fill_interval_start = 5s;  // 90 % first reached in an interval counted in the totals
  o.fill = 6s;
  auto why = explain_cell(p, o);
  ASSERT_TRUE(why);
  EXPECT_NE(why->find("slow start not finished"), std::string::npos) << *why;
  EXPECT_NE(why->find("11 round trips"), std::string::npos) << *why;
  o.fill.reset();  // never reached
  o.fill_interval_start.reset();
  why = explain_cell(p, o);
  EXPECT_NE(why->find("never reached 90 %"), std::string::npos) << *why;
  // Reached within the omitted period: not slow start; losses then.
  o = observed(0.7 * p.predicted_bps);
  o.retransmits = 300;
  why = explain_cell(p, o);
  EXPECT_EQ(why->find("slow start"), std::string::npos) << *why;
  EXPECT_NE(why->find("300 retransmitted"), std::string::npos) << *why;
}

TEST(ThroughputModel, CpuBoundWhenThePredictionExceedsWhatTheMachineCarried) {
  const auto p = predict_throughput(one_gbit(0ms, 16e6));  // 941 Mbit/s
  auto o = observed(600e6);
  o.machine_capacity_bps = 620e6;
  auto why = explain_cell(p, o);
  EXPECT_NE(why->find("CPU-bound"), std::string::npos) << *why;
  o.measured_bps = 400e6;  // well below the machine's best: not the CPU
  why = explain_cell(p, o);
  EXPECT_EQ(why->find("CPU-bound"), std::string::npos) << *why;
}

TEST(ThroughputModel, AboveTheModelNamesTheAdvertisedWindow) {
  const auto p = predict_throughput(one_gbit(80ms, 1e6));  // 100 Mbit/s
  auto o = observed(130e6);
  o.mean_peer_window_bytes = 1.3e6;
  const auto why = explain_cell(p, o);
  EXPECT_NE(why->find("advertised 1.3 MB"), std::string::npos) << *why;
}

}  // namespace
}  // namespace longhaul::tune

namespace longhaul::measure {
namespace {

using namespace std::chrono_literals;

TEST(SweepReport, RttListTakesTheLastUnit) {
  const auto rtts = lab::parse_rtt_list("0,2,4.5,128ms");
  ASSERT_TRUE(rtts) << rtts.error;
  EXPECT_EQ(*rtts, (std::vector<core::Nanos>{0ms, 2ms, 4500us, 128ms}));
  EXPECT_EQ(*lab::parse_rtt_list("500us,1s"), (std::vector<core::Nanos>{500us, 1s}));
  EXPECT_FALSE(lab::parse_rtt_list("0,,8ms"));
  EXPECT_FALSE(lab::parse_rtt_list("0,x,8ms"));
  EXPECT_FALSE(lab::parse_rtt_list(""));
}

SweepResult two_cells() {
  SweepResult result;
  result.settings.rate_bps = 1'000'000'000;
  result.settings.rtts = {0ms, 64ms};
  result.settings.profiles = {"default"};
  result.settings.duration = 10s;
  result.settings.omit = 3s;
  for (const auto rtt : result.settings.rtts) {
    SweepCell cell;
    cell.profile = "default";
    cell.rtt = rtt;
    tune::ThroughputModelInput input;
    input.rate_bps = 1'000'000'000;
    input.rtt = rtt;
    input.window_bytes = 2.726e6;
    cell.prediction = tune::predict_throughput(input);
    cell.measured_bps = cell.prediction.predicted_bps * (rtt == 0ms ? 0.98 : 0.5);
    cell.observation.counted_from = 3s;
    cell.observation.duration = 10s;
    cell.observation.fill_interval_start = 1s;
    cell.observation.fill = 2s;
    cell.observation.dominant_limit = "rwnd";
    result.cells.push_back(cell);
  }
  explain_sweep(result);
  return result;
}

TEST(SweepReport, TableMarksCellsAndNumbersNotes) {
  const auto result = two_cells();
  EXPECT_TRUE(result.cells[0].within_tolerance);
  EXPECT_FALSE(result.cells[1].within_tolerance);
  const std::string table = sweep_table(result);
  EXPECT_NE(table.find("0 ms"), std::string::npos) << table;
  EXPECT_NE(table.find(" ok"), std::string::npos) << table;
  EXPECT_NE(table.find("[1] default at 64 ms: below the model (window); the sender was mostly "
                       "limited by rwnd"),
            std::string::npos)
      << table;
}

TEST(SweepReport, JsonHasUnitsInKeysAndEveryCell) {
  const auto json = sweep_json(two_cells());
  EXPECT_EQ(json["schema"], "longhaul.sweep/1");
  EXPECT_EQ(json["config"]["rtts_ms"], nlohmann::json::array({0.0, 64.0}));
  ASSERT_EQ(json["rows"].size(), 2U);
  const auto& cell = json["rows"][1]["cells"]["default"];
  EXPECT_EQ(cell["prediction"]["limit"], "window");
  EXPECT_FALSE(cell["within_tolerance"].get<bool>());
  EXPECT_TRUE(cell["explanation"].is_string());
  // Infinite figures (zero RTT) are null, not invalid JSON.
  EXPECT_TRUE(json["rows"][0]["cells"]["default"]["prediction"]["window_limited_bps"].is_null());
  const auto profiles = sweep_plot_profiles(two_cells());
  ASSERT_EQ(profiles.size(), 1U);
  EXPECT_EQ(profiles[0].points.size(), 2U);
  EXPECT_DOUBLE_EQ(profiles[0].points[1].rtt_ms, 64);
}

}  // namespace
}  // namespace longhaul::measure

// Plot descriptions and the gnuplot scripts generated from them (no gnuplot needed).
#include <gtest/gtest.h>

#include "measure/report/plot.hh"

namespace longhaul::measure {
namespace {

using namespace std::chrono_literals;

TEST(MeasurePlot, FormatFollowsTheExtension) {
  EXPECT_EQ(*plot_format_for("out.svg"), PlotFormat::svg);
  EXPECT_EQ(*plot_format_for("/tmp/A.PNG"), PlotFormat::png);
  const auto bad = plot_format_for("out.pdf");
  EXPECT_FALSE(bad);
  EXPECT_EQ(bad.error, "'out.pdf': the file name must end in .svg or .png (the format)");
}

TEST(MeasurePlot, ScriptHasDataLabelsAndSharedAxis) {
  PlotFigure figure;
  figure.title = "say \"hi\"";
  figure.x_label = "Time (s)";
  figure.shaded = std::pair{0.0, 2.0};
  figure.shaded_label = "omitted";
  figure.panels = {{"Goodput (Mbit/s)", {{"upload", {{0.5, 90.0}, {1.5, 94.0}}, false, 0}}, false},
                   {"RTT (ms)", {{"upload", {{0.5, 20.1}, {4.5, 20.4}}, false, 0}}, false}};
  const auto svg = gnuplot_script(figure, PlotFormat::svg, "/tmp/o.svg");
  EXPECT_NE(svg.find("set terminal svg size 1100,660"), std::string::npos) << svg;
  EXPECT_NE(svg.find("set output \"/tmp/o.svg\""), std::string::npos);
  EXPECT_NE(svg.find("set multiplot title \"say \\\"hi\\\"\""), std::string::npos);
  EXPECT_NE(svg.find("$p0s0 << EOD\n0.5 90\n1.5 94\nEOD\n"), std::string::npos) << svg;
  EXPECT_NE(svg.find("set ylabel \"Goodput (Mbit/s)\""), std::string::npos);
  EXPECT_NE(svg.find("set xrange [0:4.5]"), std::string::npos) << svg;  // one range for both
  EXPECT_NE(svg.find("set xlabel \"Time (s)\""), std::string::npos);
  EXPECT_NE(svg.find("set object 1 rect from 0, graph 0 to 2, graph 1"), std::string::npos);
  // Only the bottom panel labels x; the upper ones hide their tick labels.
  EXPECT_LT(svg.find("set format x \"\""), svg.find("set format x \"%g\""));
  EXPECT_NE(svg.find("title \"upload\""), std::string::npos);
  EXPECT_NE(svg.find("unset multiplot"), std::string::npos);
  const auto png = gnuplot_script(figure, PlotFormat::png, "o.png");
  EXPECT_NE(png.find("set terminal pngcairo size 1100,660"), std::string::npos);
}

TEST(MeasurePlot, SweepFigureHasMeasuredAndPredictedPerProfile) {
  const std::vector<SweepProfile> profiles = {
      {"default", {{2, 1053e6 * 8, 1100e6 * 8}, {64, 8.2e6 * 8, 8e6 * 8}}},
      {"tuned", {{2, 1136e6 * 8, std::nullopt}}}};
  const auto figure = sweep_figure(profiles, "10 Gbit/s");
  ASSERT_EQ(figure.panels.size(), 1U);
  const auto& series = figure.panels[0].series;
  ASSERT_EQ(series.size(), 4U);
  EXPECT_EQ(series[0].title, "default measured");
  EXPECT_FALSE(series[0].dashed);
  EXPECT_EQ(series[1].title, "default predicted");
  EXPECT_TRUE(series[1].dashed);
  EXPECT_EQ(series[1].color, series[0].color);
  EXPECT_NE(series[2].color, series[0].color);
  EXPECT_DOUBLE_EQ(series[0].points[1].second, 65.6);  // Mbit/s
  EXPECT_TRUE(series[3].points.empty());
  EXPECT_TRUE(figure.panels[0].log_y);
  const auto script = gnuplot_script(figure, PlotFormat::svg, "s.svg");
  EXPECT_NE(script.find("set logscale y"), std::string::npos);
  EXPECT_NE(script.find("dt 2"), std::string::npos);
  // An empty series has its (empty) data block but is not plotted.
  EXPECT_EQ(script.find("$p0s3 using"), std::string::npos);
}

TEST(MeasurePlot, ThroughputFigureFromIntervals) {
  BenchResult result;
  result.start.host = "198.18.1.1";
  result.start.port = 5301;
  result.start.config.omit = 1s;
  result.start.config.path_rate_bps = 100'000'000;
  for (std::uint32_t i = 0; i < 3; ++i) {
    SideInterval interval;
    interval.index = i;
    interval.start = std::chrono::seconds(i);
    interval.end = std::chrono::seconds(i + 1);
    StreamInterval sender;
    sender.role = Role::sender;
    sender.start = interval.start;
    sender.end = interval.end;
    sender.rtt_us = 20'000 + i * 1000;
    sender.snd_cwnd_bytes = 100'000 * (i + 1);
    sender.bytes = 11'250'000;  // 90 Mbit/s over 1 s
    sender.bits_per_second = 90e6;
    StreamInterval receiver = sender;
    receiver.role = Role::receiver;
    receiver.side = Side::server;
    interval.streams = {sender, receiver};
    result.intervals.push_back(interval);
  }
  const auto figure = throughput_figure(result);
  EXPECT_NE(figure.title.find("198.18.1.1 port 5301, 1 stream, upload"), std::string::npos)
      << figure.title;
  ASSERT_EQ(figure.panels.size(), 3U);
  EXPECT_EQ(figure.panels[0].y_label, "Goodput (Mbit/s)");
  EXPECT_EQ(figure.panels[1].y_label, "Congestion window (kB)");
  EXPECT_EQ(figure.panels[2].y_label, "Smoothed RTT (ms)");
  ASSERT_EQ(figure.panels[0].series.size(), 2U);  // goodput and the path rate
  EXPECT_DOUBLE_EQ(figure.panels[0].series[0].points[0].second, 90.0);
  EXPECT_DOUBLE_EQ(figure.panels[0].series[0].points[0].first, 0.5);
  EXPECT_TRUE(figure.panels[0].series[1].dashed);
  EXPECT_DOUBLE_EQ(figure.panels[1].series[0].points[2].second, 300.0);
  EXPECT_DOUBLE_EQ(figure.panels[2].series[0].points[1].second, 21.0);
  ASSERT_TRUE(figure.shaded);
  EXPECT_DOUBLE_EQ(figure.shaded->second, 1.0);
}

}  // namespace
}  // namespace longhaul::measure

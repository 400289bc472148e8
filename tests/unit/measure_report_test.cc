// Human-facing bench text: buffer reports, sizes, seconds arguments, the
// progress line and interval lines.
#include <gtest/gtest.h>

#include "measure/bench_result.hh"
#include "measure/report/human_report.hh"
#include "measure/report/progress.hh"

namespace longhaul::measure {
namespace {

using namespace std::chrono_literals;

TEST(MeasureReport, ClampedBufferSaysByHowMuchAndWhy) {
  BufferReport report{"SO_SNDBUF", "net.core.wmem_max", 64ULL << 20, 425'984, 212'992, 4'194'304};
  EXPECT_TRUE(report.clamped());
  EXPECT_EQ(report.granted_bytes(), 212'992U);
  EXPECT_EQ(describe(report),
            "SO_SNDBUF: kernel clamped 64 MiB to 208 KiB (net.core.wmem_max=212992); setting a "
            "size disables autotuning");
}

TEST(MeasureReport, GrantedBufferAndAutotuning) {
  BufferReport set{"SO_RCVBUF", "net.core.rmem_max", 262'144, 524'288, 4'194'304, 33'554'432};
  EXPECT_FALSE(set.clamped());
  EXPECT_EQ(describe(set),
            "SO_RCVBUF: 256 KiB (the kernel reserves 512 KiB including its overhead); setting a "
            "size disables autotuning");
  BufferReport tiny{"SO_RCVBUF", "net.core.rmem_max", 100, 4608, 4'194'304, std::nullopt};
  EXPECT_EQ(describe(tiny),
            "SO_RCVBUF: kernel raised 100 B to its minimum of 2.25 KiB; setting a size disables "
            "autotuning");
  BufferReport automatic{"SO_SNDBUF", "net.core.wmem_max", std::nullopt, 16'384, 212'992,
                         4'194'304};
  EXPECT_FALSE(automatic.clamped());
  EXPECT_EQ(describe(automatic), "SO_SNDBUF: autotuning (starts at 8 KiB, may grow to 4 MiB)");
}

TEST(MeasureReport, Sizes) {
  EXPECT_EQ(format_size(0), "0 B");
  EXPECT_EQ(format_size(1000), "1000 B");
  EXPECT_EQ(format_size(1024), "1 KiB");
  EXPECT_EQ(format_size(416 * 1024), "416 KiB");
  EXPECT_EQ(format_size(1536 * 1024), "1.5 MiB");
  EXPECT_EQ(format_size(64ULL << 30), "64 GiB");
}

TEST(MeasureReport, SecondsArguments) {
  EXPECT_EQ(*parse_seconds("10"), 10s);
  EXPECT_EQ(*parse_seconds("0.5"), 500ms);
  EXPECT_EQ(*parse_seconds("250ms"), 250ms);
  EXPECT_EQ(*parse_seconds("1.5s"), 1500ms);
  EXPECT_FALSE(parse_seconds("10x"));
  EXPECT_FALSE(parse_seconds("-1"));
  EXPECT_FALSE(parse_seconds(""));
  EXPECT_FALSE(parse_seconds("1..5"));
}

TEST(MeasureReport, ProgressLine) {
  ProgressState state;
  state.what = "upload to 198.18.1.1";
  state.elapsed = 12s;
  state.planned = 60s;
  const std::string line = format_progress(state, 80);
  EXPECT_EQ(line.substr(0, 38), "bench upload to 198.18.1.1: 12 / 60 s ");
  EXPECT_NE(line.find("[######"), std::string::npos);
  EXPECT_NE(line.find(" 20%"), std::string::npos);
  EXPECT_LE(line.size(), 80U);
  EXPECT_LE(format_progress(state, 20).size(), 20U);  // a narrow terminal gets no bar
  ProgressState bytes;
  bytes.what = "download from h";
  bytes.elapsed = 3s;
  bytes.bytes = 500'000'000;
  bytes.planned_bytes = 1'000'000'000;
  EXPECT_NE(format_progress(bytes, 100).find("500 MB / 1 GB"), std::string::npos);
  EXPECT_NE(format_progress(bytes, 100).find(" 50%"), std::string::npos);
}

TEST(MeasureReport, ProgressIsOffWhenNotATerminal) {
  std::FILE* file = std::tmpfile();
  ASSERT_NE(file, nullptr);
  {
    TerminalProgress progress(file, true);
    EXPECT_FALSE(progress.enabled());
    ProgressState state;
    state.what = "x";
    state.elapsed = 1s;
    state.planned = 2s;
    progress.update(state);
    progress.clear();
  }
  EXPECT_EQ(std::ftell(file), 0L);
  std::fclose(file);
}

TEST(MeasureReport, IntervalLinesShowBothRoles) {
  BenchConfig config;
  SideInterval interval{0, 0s, 1s, false, {}};
  StreamInterval sender;
  sender.id = 1;
  sender.role = Role::sender;
  sender.start = 0s;
  sender.end = 1s;
  sender.bytes = 11'700'000;
  sender.bits_per_second = 93.6e6;
  sender.rtt_us = 20'400;
  sender.snd_cwnd_bytes = 250'000;
  ChronoDelta busy;
  busy.interval_us = 1'000'000;
  busy.busy_us = 1'000'000;
  sender.limited_by = classify_limits(busy);
  StreamInterval receiver = sender;
  receiver.side = Side::server;
  receiver.role = Role::receiver;
  receiver.limited_by.reset();
  interval.streams = {sender, receiver};
  const std::string text = human_interval(interval, config, false);
  EXPECT_NE(text.find("[  1]   0.00-1.00   s sender"), std::string::npos) << text;
  EXPECT_NE(text.find("93.6 Mbit/s"), std::string::npos) << text;
  EXPECT_NE(text.find("20.4 ms"), std::string::npos) << text;
  EXPECT_NE(text.find("cwnd 100%"), std::string::npos) << text;
  EXPECT_NE(text.find("receiver"), std::string::npos) << text;
  EXPECT_EQ(describe_test(config), "1 stream, upload (client sends), 10 s");
  config.streams = 4;
  config.reverse = true;
  config.omit = 2500ms;
  EXPECT_EQ(describe_test(config), "4 streams, download (server sends), 10 s after 2.5 s omitted");
}

}  // namespace
}  // namespace longhaul::measure

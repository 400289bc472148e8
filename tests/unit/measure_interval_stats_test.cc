// measure interval statistics on synthetic snapshots: per-stream intervals,
// sums over streams, totals without the omitted period, the sampling schedule
// and the time to fill the pipe.
#include <gtest/gtest.h>

#include "measure/bench_result.hh"
#include "measure/bulk/fill_time.hh"
#include "measure/bulk/interval_stats.hh"

namespace longhaul::measure {
namespace {

using namespace std::chrono_literals;

TcpInfoSample Sender(std::uint64_t acked, std::uint32_t retrans, std::uint64_t busy_us,
                     std::uint64_t rwnd_us = 0) {
  TcpInfoSample s;
  s.bytes_acked = acked;
  s.total_retrans_segments = retrans;
  s.busy_time_us = busy_us;
  s.rwnd_limited_us = rwnd_us;
  s.rtt_us = 20'000;
  s.snd_mss_bytes = 1448;
  s.snd_cwnd_segments = 100;
  s.snd_wnd_bytes = 1'000'000;
  return s;
}

StreamInterval Make(Side side, Direction direction, Nanos start, Nanos end, std::uint64_t bytes,
                    bool omitted = false, std::uint32_t id = 1) {
  StreamInterval s;
  s.id = id;
  s.side = side;
  s.direction = direction;
  s.role = role_of(side, direction);
  s.start = start;
  s.end = end;
  s.omitted = omitted;
  s.bytes = bytes;
  s.bits_per_second = static_cast<double>(bytes) * 8 / to_seconds(end - start);
  return s;
}

TEST(MeasureIntervalStats, RolesFollowDirectionAndSide) {
  EXPECT_EQ(role_of(Side::client, Direction::upload), Role::sender);
  EXPECT_EQ(role_of(Side::server, Direction::upload), Role::receiver);
  EXPECT_EQ(role_of(Side::client, Direction::download), Role::receiver);
  EXPECT_EQ(role_of(Side::server, Direction::download), Role::sender);
}

TEST(MeasureIntervalStats, SenderCountsAcknowledgedBytesNotWrittenOnes) {
  const StreamIdentity who{1, Side::client, Direction::upload, 0, std::nullopt};
  const StreamSnapshot begin{0s, 0, Sender(100, 0, 0)};
  // 4 MB written into the socket, 1.25 MB acknowledged: the buffer is not the path.
  const StreamSnapshot end{1s, 4'000'000, Sender(1'250'100, 7, 1'000'000, 250'000)};
  const StreamInterval s = compute_interval(who, begin, end, false);
  EXPECT_EQ(s.role, Role::sender);
  EXPECT_EQ(s.bytes, 1'250'000U);
  EXPECT_EQ(s.bytes_written, 4'000'000U);
  EXPECT_DOUBLE_EQ(s.bits_per_second, 10'000'000.0);
  EXPECT_EQ(s.retransmits, 7U);
  EXPECT_EQ(s.snd_cwnd_bytes, 144'800U);
  EXPECT_EQ(s.rtt_us, 20'000U);
  ASSERT_TRUE(s.limited_by.has_value());
  EXPECT_DOUBLE_EQ(s.limited_by->receive_window, 0.25);
  EXPECT_TRUE(s.limited_by->loss);
  // 10 Mbit/s x 20 ms = 25 kB in flight, 2.5 % of the 1 MB window.
  EXPECT_NEAR(s.limited_by->rwnd_utilization, 0.025, 1e-9);
  EXPECT_FALSE(s.limited_by->sndbuf_utilization.has_value());
}

TEST(MeasureIntervalStats, SendBufferUtilizationWhenTheUserSetOne) {
  const StreamIdentity who{1, Side::client, Direction::upload, 0, 50'000};
  const StreamSnapshot begin{0s, 0, Sender(0, 0, 0)};
  const StreamSnapshot end{1s, 0, Sender(2'500'000, 0, 1'000'000)};  // 20 Mbit/s x 20 ms = 50 kB
  const StreamInterval s = compute_interval(who, begin, end, false);
  ASSERT_TRUE(s.limited_by && s.limited_by->sndbuf_utilization);
  EXPECT_NEAR(*s.limited_by->sndbuf_utilization, 1.0, 1e-9);
  EXPECT_EQ(s.limited_by->dominant, Limit::send_buffer);
}

TEST(MeasureIntervalStats, ReceiverCountsBytesRead) {
  const StreamIdentity who{2, Side::server, Direction::upload, 0, std::nullopt};
  TcpInfoSample info;
  info.rcv_wnd_bytes = 65'536;
  info.rcv_space_bytes = 30'000;
  const StreamSnapshot begin{500ms, 1'000, info};
  const StreamSnapshot end{1500ms, 2'001'000, info};
  const StreamInterval s = compute_interval(who, begin, end, true);
  EXPECT_EQ(s.role, Role::receiver);
  EXPECT_EQ(s.id, 2U);
  EXPECT_EQ(s.bytes, 2'000'000U);
  EXPECT_DOUBLE_EQ(s.bits_per_second, 16'000'000.0);
  EXPECT_TRUE(s.omitted);
  EXPECT_EQ(s.rcv_wnd_bytes, std::optional<std::uint32_t>(65'536));
  EXPECT_FALSE(s.limited_by.has_value());
}

TEST(MeasureIntervalStats, WithoutTcpInfoASenderFallsBackToWrittenBytes) {
  const StreamIdentity who{1, Side::client, Direction::upload, 0, std::nullopt};
  const StreamInterval s =
      compute_interval(who, {0s, 0, std::nullopt}, {1s, 1000, std::nullopt}, false);
  EXPECT_EQ(s.bytes, 1000U);
  EXPECT_FALSE(s.limited_by.has_value());
}

TEST(MeasureIntervalStats, SumAddsStreamsOfOneDirectionAndRole) {
  std::vector<StreamInterval> streams = {
      Make(Side::client, Direction::upload, 0s, 1s, 1'000'000, false, 1),
      Make(Side::client, Direction::upload, 0s, 1s, 3'000'000, false, 2),
      Make(Side::server, Direction::upload, 0s, 1s, 3'900'000, false, 1),
      Make(Side::client, Direction::download, 0s, 1s, 99, false, 3),
  };
  streams[0].retransmits = 2;
  streams[1].retransmits = 3;
  streams[0].rtt_us = 10'000;
  streams[1].rtt_us = 30'000;
  const auto sent = sum_interval(streams, Direction::upload, Role::sender);
  ASSERT_TRUE(sent.has_value());
  EXPECT_EQ(sent->streams, 2U);
  EXPECT_EQ(sent->bytes, 4'000'000U);
  EXPECT_DOUBLE_EQ(sent->bits_per_second, 32'000'000.0);
  EXPECT_EQ(sent->retransmits, 5U);
  EXPECT_EQ(sent->mean_rtt_us, 20'000U);
  const auto received = sum_interval(streams, Direction::upload, Role::receiver);
  ASSERT_TRUE(received.has_value());
  EXPECT_EQ(received->bytes, 3'900'000U);
  EXPECT_FALSE(sum_interval(streams, Direction::download, Role::sender).has_value());
}

TEST(MeasureIntervalStats, TotalsLeaveOutTheOmittedPeriod) {
  std::vector<SideInterval> intervals;
  // Slow start (omitted) then three full seconds, then a 0.5 s tail.
  intervals.push_back(
      {0, 0s, 1s, true, {Make(Side::server, Direction::upload, 0s, 1s, 100, true)}});
  intervals.push_back(
      {1, 1s, 2s, false, {Make(Side::server, Direction::upload, 1s, 2s, 1'000'000)}});
  intervals.push_back(
      {2, 2s, 3s, false, {Make(Side::server, Direction::upload, 2s, 3s, 1'000'000)}});
  intervals.push_back(
      {3, 3s, 3500ms, false, {Make(Side::server, Direction::upload, 3s, 3500ms, 500'000)}});
  const auto totals = summarize(intervals, Direction::upload, Role::receiver);
  ASSERT_TRUE(totals.has_value());
  EXPECT_EQ(totals->bytes, 2'500'000U);
  EXPECT_EQ(totals->start, 1s);
  EXPECT_EQ(totals->end, 3500ms);
  EXPECT_DOUBLE_EQ(totals->bits_per_second, 8'000'000.0);
  EXPECT_FALSE(summarize(intervals, Direction::upload, Role::sender).has_value());
}

TEST(MeasureIntervalStats, TotalsTimeWeighTheMeanWindowAndRtt) {
  std::vector<SideInterval> intervals;
  auto a = Make(Side::client, Direction::upload, 0s, 1s, 1000);
  a.snd_wnd_bytes = 100'000;
  a.rtt_us = 10'000;
  auto b = Make(Side::client, Direction::upload, 1s, 4s, 3000);
  b.snd_wnd_bytes = 200'000;
  b.rtt_us = 30'000;
  intervals.push_back({0, 0s, 1s, false, {a}});
  intervals.push_back({1, 1s, 4s, false, {b}});
  const auto totals = summarize(intervals, Direction::upload, Role::sender);
  ASSERT_TRUE(totals.has_value());
  EXPECT_DOUBLE_EQ(totals->mean_snd_wnd_bytes, 175'000.0);
  EXPECT_EQ(totals->mean_rtt_us, 25'000U);
}

TEST(MeasureIntervalStats, StreamTotalsPickOneStream) {
  std::vector<SideInterval> intervals = {
      {0,
       0s,
       1s,
       false,
       {Make(Side::client, Direction::upload, 0s, 1s, 10, false, 1),
        Make(Side::client, Direction::upload, 0s, 1s, 20, false, 2)}}};
  EXPECT_EQ(stream_totals(intervals, 2, Direction::upload, Role::sender)->bytes, 20U);
}

TEST(MeasureIntervalStats, IntervalScheduleCutsAtTheOmitBoundary) {
  EXPECT_EQ(interval_end(0s, 1s, 0s), 1s);
  EXPECT_EQ(interval_end(1s, 1s, 0s), 2s);
  EXPECT_EQ(interval_end(1500ms, 1s, 0s), 2s);
  // Omit 2.5 s with 1 s intervals: 1, 2, 2.5, then 3.5, 4.5, ...
  EXPECT_EQ(interval_end(0s, 1s, 2500ms), 1s);
  EXPECT_EQ(interval_end(2s, 1s, 2500ms), 2500ms);
  EXPECT_EQ(interval_end(2500ms, 1s, 2500ms), 3500ms);
  EXPECT_EQ(interval_end(4s, 1s, 2500ms), 4500ms);
}

TEST(MeasureFillTime, FirstIntervalAtNinetyPercentOfThePathRate) {
  const std::vector<GoodputPoint> points = {{0s, 1s, 1'000'000, 8e6},
                                            {1s, 2s, 5'000'000, 40e6},
                                            {2s, 3s, 11'000'000, 88e6},
                                            {3s, 4s, 11'500'000, 92e6},
                                            {4s, 5s, 11'700'000, 93.6e6}};
  const FillTime fill = time_to_fill(points, 100'000'000);
  EXPECT_TRUE(fill.reached);
  EXPECT_EQ(fill.at, 4s);
  EXPECT_EQ(fill.interval_start, 3s);
  EXPECT_EQ(fill.interval_index, 3U);
  EXPECT_EQ(fill.bytes_before, 28'500'000U);
  EXPECT_DOUBLE_EQ(fill.best_bits_per_second, 93.6e6);
}

TEST(MeasureFillTime, NotReachedAndUnknown) {
  const std::vector<GoodputPoint> points = {{0s, 1s, 100, 50e6}, {1s, 2s, 100, 89.9e6}};
  const FillTime slow = time_to_fill(points, 100'000'000);
  EXPECT_FALSE(slow.reached);
  EXPECT_DOUBLE_EQ(slow.best_bits_per_second, 89.9e6);
  const FillTime unknown = time_to_fill(points, std::nullopt);
  EXPECT_FALSE(unknown.path_rate_bps.has_value());
  EXPECT_FALSE(unknown.reached);
  // An empty interval never counts, whatever its rate field says.
  const std::vector<GoodputPoint> empty = {{2s, 2s, 0, 1e12}};
  EXPECT_FALSE(time_to_fill(empty, 1000).reached);
}

TEST(MeasureFillTime, FinishResultUsesTheReceiversIncludingOmittedIntervals) {
  BenchResult result;
  result.start.config.omit = 2s;
  result.start.config.path_rate_bps = 10'000'000;
  result.intervals = {
      {0, 0s, 1s, true, {Make(Side::server, Direction::upload, 0s, 1s, 1'000'000, true)}},
      {1, 1s, 2s, true, {Make(Side::server, Direction::upload, 1s, 2s, 1'200'000, true)}},
      {2, 2s, 3s, false, {Make(Side::server, Direction::upload, 2s, 3s, 1'200'000)}},
  };
  finish_result(result);
  ASSERT_EQ(result.directions.size(), 1U);
  const auto& up = result.directions[0];
  EXPECT_TRUE(up.fill.reached);
  EXPECT_EQ(up.fill.at, 2s);  // 9.6 Mbit/s in the second (omitted) interval
  ASSERT_TRUE(up.received.has_value());
  EXPECT_EQ(up.received->bytes, 1'200'000U);
  EXPECT_FALSE(up.sent.has_value());
}

}  // namespace
}  // namespace longhaul::measure

// measure::classify_limits: what held a sender back in an interval, from the
// kernel's busy / rwnd-limited / sndbuf-limited timers and Little's law.
#include "measure/bulk/limited_by.hh"

#include <gtest/gtest.h>

namespace longhaul::measure {
namespace {

ChronoDelta Interval(std::uint64_t busy_us, std::uint64_t rwnd_us = 0,
                     std::uint64_t sndbuf_us = 0) {
  ChronoDelta delta;
  delta.interval_us = 1'000'000;
  delta.busy_us = busy_us;
  delta.rwnd_limited_us = rwnd_us;
  delta.sndbuf_limited_us = sndbuf_us;
  return delta;
}

TEST(MeasureLimitedBy, BusyWithoutWindowStallsIsTheCongestionWindow) {
  const LimitedBy limits = classify_limits(Interval(1'000'000));
  EXPECT_EQ(limits.dominant, Limit::congestion);
  EXPECT_DOUBLE_EQ(limits.congestion, 1.0);
  EXPECT_DOUBLE_EQ(limits.application, 0.0);
  EXPECT_FALSE(limits.loss);
}

TEST(MeasureLimitedBy, ReceiveWindowStallsNameTheReceiveWindow) {
  const LimitedBy limits = classify_limits(Interval(1'000'000, 800'000));
  EXPECT_EQ(limits.dominant, Limit::receive_window);
  EXPECT_DOUBLE_EQ(limits.receive_window, 0.8);
  EXPECT_DOUBLE_EQ(limits.congestion, 0.2);
}

TEST(MeasureLimitedBy, SendBufferStallsNameTheSendBuffer) {
  const LimitedBy limits = classify_limits(Interval(900'000, 100'000, 600'000));
  EXPECT_EQ(limits.dominant, Limit::send_buffer);
  EXPECT_DOUBLE_EQ(limits.send_buffer, 0.6);
  EXPECT_DOUBLE_EQ(limits.receive_window, 0.1);
  EXPECT_DOUBLE_EQ(limits.congestion, 0.2);
  EXPECT_DOUBLE_EQ(limits.application, 0.1);
}

TEST(MeasureLimitedBy, LittleBusyTimeIsTheApplication) {
  const LimitedBy limits = classify_limits(Interval(50'000));
  EXPECT_EQ(limits.dominant, Limit::application);
  EXPECT_DOUBLE_EQ(limits.application, 0.95);
}

TEST(MeasureLimitedBy, SharesSumToOneWhenTimersRunAheadOfTheInterval) {
  // Jiffy granularity can report more busy time than our clock measured.
  const LimitedBy limits = classify_limits(Interval(1'004'000, 2'000'000, 0));
  EXPECT_NEAR(limits.receive_window + limits.send_buffer + limits.congestion + limits.application,
              1.0, 1e-12);
  EXPECT_DOUBLE_EQ(limits.receive_window, 1.0);  // clamped to the busy time
  EXPECT_DOUBLE_EQ(limits.application, 0.0);
}

TEST(MeasureLimitedBy, EmptyIntervalIsApplicationLimited) {
  ChronoDelta delta;
  EXPECT_EQ(classify_limits(delta).dominant, Limit::application);
}

TEST(MeasureLimitedBy, RetransmitsMarkLoss) {
  ChronoDelta delta = Interval(1'000'000);
  delta.retransmits = 3;
  const LimitedBy limits = classify_limits(delta);
  EXPECT_TRUE(limits.loss);
  EXPECT_EQ(format_limits(limits), "cwnd+loss 100%");
}

TEST(MeasureLimitedBy, PacingAtTheCapIsPacing) {
  ChronoDelta delta = Interval(1'000'000);
  delta.pacing_cap_bps = 50'000'000;
  delta.goodput_bps = 47'000'000;
  EXPECT_EQ(classify_limits(delta).dominant, Limit::pacing);
  delta.goodput_bps = 30'000'000;  // well below the cap: something else holds it back
  EXPECT_EQ(classify_limits(delta).dominant, Limit::congestion);
}

// A paced sender (BBR) leaves the transmit loop on the pacing check before the
// window test, so the kernel's rwnd timer undercounts; a full window per round
// trip still names the receive window.
TEST(MeasureLimitedBy, FullWindowPerRoundTripNamesTheWindowOverTheBusyRemainder) {
  ChronoDelta delta = Interval(1'000'000, 300'000);
  delta.rwnd_utilization = 0.98;
  const LimitedBy limits = classify_limits(delta);
  EXPECT_EQ(limits.dominant, Limit::receive_window);
  EXPECT_DOUBLE_EQ(limits.receive_window, 0.3);  // the timers are still reported as measured
  EXPECT_EQ(format_limits(limits), "rwnd (98% used)");

  delta.rwnd_utilization = 0.88;
  delta.sndbuf_utilization = 1.17;  // a fixed SO_SNDBUF is the tighter limit
  EXPECT_EQ(classify_limits(delta).dominant, Limit::send_buffer);

  delta.sndbuf_utilization = 0.5;
  EXPECT_EQ(classify_limits(delta).dominant, Limit::congestion);
}

TEST(MeasureLimitedBy, UtilizationDoesNotOverrideAnIdleApplication) {
  ChronoDelta delta = Interval(100'000);
  delta.rwnd_utilization = 1.0;
  EXPECT_EQ(classify_limits(delta).dominant, Limit::application);
}

TEST(MeasureLimitedBy, CombineWeighsByTime) {
  const LimitedBy cwnd = classify_limits(Interval(1'000'000));
  const LimitedBy rwnd = classify_limits(Interval(1'000'000, 1'000'000));
  const LimitedBy both = combine_limits(cwnd, 1.0, rwnd, 3.0);
  EXPECT_DOUBLE_EQ(both.receive_window, 0.75);
  EXPECT_DOUBLE_EQ(both.congestion, 0.25);
  EXPECT_EQ(both.dominant, Limit::receive_window);
  EXPECT_EQ(combine_limits(cwnd, 0.0, rwnd, 0.0), cwnd);
}

TEST(MeasureLimitedBy, Names) {
  EXPECT_EQ(limit_name(Limit::receive_window), "rwnd");
  EXPECT_EQ(limit_name(Limit::send_buffer), "sndbuf");
  EXPECT_EQ(limit_name(Limit::congestion), "cwnd");
  EXPECT_EQ(limit_description(Limit::receive_window), "receive window");
  EXPECT_EQ(format_limits(classify_limits(Interval(1'000'000, 880'000))), "rwnd 88%");
  EXPECT_EQ(format_limits(classify_limits(Interval(0))), "application 100%");
}

}  // namespace
}  // namespace longhaul::measure

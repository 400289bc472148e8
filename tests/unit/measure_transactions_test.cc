// Pure parts of `bench rr` and `bench churn`: percentiles, churn accounting, the
// /proc/net/tcp census, the EADDRNOTAVAIL explanation from given sysctl values,
// the transaction configuration and its JSON.
#include <gtest/gtest.h>

#include <cerrno>

#include "measure/report/progress.hh"
#include "measure/transactions/latency_stats.hh"
#include "measure/transactions/socket_census.hh"
#include "measure/transactions/transaction_config.hh"
#include "measure/transactions/transaction_report.hh"
#include "measure/transactions/transaction_result.hh"

namespace longhaul::measure {
namespace {

using namespace std::chrono_literals;

std::vector<Nanos> millis(std::initializer_list<int> values) {
  std::vector<Nanos> out;
  for (const int v : values) out.push_back(std::chrono::milliseconds(v));
  return out;
}

TEST(MeasureLatency, NearestRankPercentilesAreSamplesThatHappened) {
  std::vector<Nanos> samples;
  for (int i = 100; i >= 1; --i) samples.push_back(std::chrono::milliseconds(i));  // unsorted
  const auto s = summarize_latencies(samples);
  EXPECT_EQ(s.samples, 100U);
  EXPECT_EQ(s.min, 1ms);
  EXPECT_EQ(s.p50, 50ms);  // rank ceil(0.5 × 100) = 50
  EXPECT_EQ(s.p90, 90ms);
  EXPECT_EQ(s.p99, 99ms);
  EXPECT_EQ(s.p999, 100ms);  // fewer than 1000 samples: p99.9 is the maximum
  EXPECT_EQ(s.max, 100ms);
  EXPECT_EQ(s.mean, Nanos{50'500'000});
}

TEST(MeasureLatency, RanksAtExactBoundariesAndSmallSets) {
  std::vector<Nanos> thousand;
  for (int i = 1; i <= 1000; ++i) thousand.push_back(Nanos{i});
  // 99.9 % of 1000 is rank 999 exactly, despite 0.999 × 1000 not being exact in binary.
  EXPECT_EQ(percentile(thousand, 99.9), Nanos{999});
  EXPECT_EQ(percentile(thousand, 50), Nanos{500});
  auto one = millis({7});
  EXPECT_EQ(summarize_latencies(one).p50, 7ms);
  auto two = millis({10, 30});
  const auto s = summarize_latencies(two);
  EXPECT_EQ(s.p50, 10ms);
  EXPECT_EQ(s.p90, 30ms);
  std::vector<Nanos> none;
  EXPECT_EQ(summarize_latencies(none), LatencySummary{});
  EXPECT_EQ(format_latency_line(LatencySummary{}), "no samples");
}

TEST(MeasureLatency, HumanAndJson) {
  EXPECT_EQ(format_latency(Nanos{812'000}), "812 µs");
  EXPECT_EQ(format_latency(Nanos{20'312'000}), "20.31 ms");
  EXPECT_EQ(format_latency(Nanos{346'400'000}), "346.4 ms");
  EXPECT_EQ(format_latency(Nanos{1'250'000'000}), "1.25 s");
  auto samples = millis({20, 21, 22});
  const auto json = to_json(summarize_latencies(samples));
  EXPECT_EQ(json["samples"], 3);
  EXPECT_DOUBLE_EQ(json["p50_us"].get<double>(), 21'000.0);
  EXPECT_DOUBLE_EQ(json["p99_9_us"].get<double>(), 22'000.0);
}

TEST(MeasureChurn, TallyCountsIntervalsTotalsAndTheFirstExhaustion) {
  ChurnTally tally(1s);
  // Interval 1: 3 started, 2 connected and completed, 1 refused.
  tally.started(100ms, true);
  tally.connected(110ms, 10ms);
  tally.completed(130ms, 20ms);
  tally.started(200ms, true);
  tally.connected(212ms, 12ms);
  tally.completed(234ms, 22ms);
  tally.started(300ms, true);
  tally.failed(300ms, ECONNREFUSED, 3);
  EXPECT_EQ(tally.next_boundary(), 1s);
  const auto first = tally.close_interval(1s, SocketCensus{10, 2, 2, 2, 3});
  EXPECT_EQ(first.started, 3U);
  EXPECT_EQ(first.connected, 2U);
  EXPECT_EQ(first.completed, 2U);
  EXPECT_EQ(first.failed, 1U);
  EXPECT_EQ(first.start, 0s);
  EXPECT_EQ(first.end, 1s);
  // Interval 2 (closed late, at 2.5 s): ports run out on attempts 4 and 5.
  tally.started(1100ms, true);
  tally.failed(1100ms, EADDRNOTAVAIL, 4);
  EXPECT_TRUE(tally.exhaustion_needs_census());
  tally.set_exhaustion_census(SocketCensus{50, 48, 48, 49, 50});
  EXPECT_FALSE(tally.exhaustion_needs_census());
  tally.started(1200ms, true);
  tally.failed(1200ms, EADDRNOTAVAIL, 5);
  const auto second = tally.close_interval(2500ms, std::nullopt);
  EXPECT_EQ(second.start, 1s);
  EXPECT_EQ(second.failed, 2U);
  EXPECT_EQ(tally.next_boundary(), 3s);  // no empty interval for the missed boundary
  ASSERT_TRUE(tally.exhaustion());
  EXPECT_EQ(tally.exhaustion()->attempt, 4U);  // the first, not the last
  EXPECT_EQ(tally.exhaustion()->at, 1100ms);
  EXPECT_EQ(tally.exhaustion()->connected_before, 2U);
  EXPECT_EQ(tally.exhaustion()->census->time_wait_to_server, 48U);

  const auto totals = tally.totals();
  EXPECT_EQ(totals.attempted, 5U);
  EXPECT_EQ(totals.connections_opened, 5U);
  EXPECT_EQ(totals.connected, 2U);
  EXPECT_EQ(totals.completed, 2U);
  EXPECT_EQ(totals.failed, 3U);
  EXPECT_EQ(totals.failures.at("EADDRNOTAVAIL"), 2U);
  EXPECT_EQ(totals.failures.at("ECONNREFUSED"), 1U);
  EXPECT_EQ(totals.elapsed, 1200ms);  // the last event
  EXPECT_DOUBLE_EQ(totals.connections_per_second, 2 / 1.2);
  EXPECT_EQ(totals.connect_latency.p50, 10ms);
  EXPECT_EQ(totals.transaction_latency.max, 22ms);
  EXPECT_EQ(totals.time_wait_max, 48U);
  EXPECT_EQ(totals.ports_in_use_max, 50U);
}

TEST(MeasureChurn, ReusedConnectionsCountAsTransactionsNotConnections) {
  ChurnTally tally(1s);
  tally.started(0ms, true);
  tally.connected(10ms, 10ms);
  tally.completed(30ms, 20ms);
  for (int i = 1; i < 10; ++i) {
    tally.started(std::chrono::milliseconds(100 * i), false);
    tally.completed(std::chrono::milliseconds(100 * i + 20), 20ms);
  }
  const auto totals = tally.totals();
  EXPECT_EQ(totals.attempted, 10U);
  EXPECT_EQ(totals.connections_opened, 1U);
  EXPECT_EQ(totals.completed, 10U);
  EXPECT_DOUBLE_EQ(totals.transactions_per_second, 10 / 0.92);
}

constexpr const char* kProcNetTcp =
    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  "
    "timeout inode\n"
    "   0: 00000000:14B5 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 "
    "1001 1 0000000000000000 100 0 0 10 0\n"
    "   1: 020112C6:9C40 010112C6:14B5 06 00000000:00000000 03:00001770 00000000     0        0 "
    "0 3 0000000000000000\n"
    "   2: 020112C6:9C41 010112C6:14B5 06 00000000:00000000 03:00001770 00000000     0        0 "
    "0 3 0000000000000000\n"
    "   3: 020112C6:9C42 010112C6:14B5 01 00000000:00000000 00:00000000 00000000     0        0 "
    "1002 1 0000000000000000 20 4 30 10 -1\n"
    "   4: 020112C6:9C42 030112C6:0050 06 00000000:00000000 03:00001770 00000000     0        0 "
    "0 3 0000000000000000\n"
    "   5: 0100007F:8000 0100007F:1F90 01 00000000:00000000 00:00000000 00000000     0        0 "
    "1003 1 0000000000000000 20 4 30 10 -1\n"
    "garbage line\n";

TEST(MeasureChurn, ProcNetTcpCensus) {
  const auto entries = parse_proc_net_tcp(kProcNetTcp);
  ASSERT_EQ(entries.size(), 6U);
  EXPECT_EQ(entries[1].local_address, "020112C6");
  EXPECT_EQ(entries[1].local_port, 40000);
  EXPECT_EQ(entries[1].remote_port, 5301);
  EXPECT_EQ(entries[1].state, kTcpTimeWait);
  // The server 198.18.1.1 port 5301 as the kernel prints it on a little-endian host.
  const ProcEndpoint server{"010112C6", 5301};
  const auto census = count_sockets(entries, server, 40000, 40049);
  EXPECT_EQ(census.sockets, 5U);  // the listener is not counted
  EXPECT_EQ(census.time_wait, 3U);
  EXPECT_EQ(census.time_wait_to_server, 2U);
  EXPECT_EQ(census.to_server, 3U);
  // 40000, 40001 and 40002 (shared by two connections to different servers); 32768 is
  // outside the range.
  EXPECT_EQ(census.ephemeral_ports_in_use, 3U);
}

TEST(MeasureChurn, PortRangeAndTwReuseValues) {
  std::uint16_t low = 0, high = 0;
  ASSERT_TRUE(parse_port_range("32768\t60999", low, high));
  EXPECT_EQ(low, 32768);
  EXPECT_EQ(high, 60999);
  EXPECT_FALSE(parse_port_range("60999 32768", low, high));
  EXPECT_FALSE(parse_port_range("x", low, high));
  EXPECT_EQ((PortSettings{32768, 60999, 2, 1}.ports()), 28232U);
  EXPECT_EQ(PortSettings{}.ports(), 0U);
  EXPECT_EQ(tw_reuse_meaning(0), "0 (off)");
  EXPECT_EQ(tw_reuse_meaning(2), "2 (loopback only)");
}

TEST(MeasureChurn, ExplanationUsesTheNamespacesValues) {
  const PortSettings settings{40000, 40049, 2, 1};
  TransactionConfig config;
  config.kind = TransactionKind::churn;
  config.rate_per_s = 200;
  const PortExhaustion exhaustion{50, 245ms, 49, SocketCensus{51, 49, 49, 50, 50}};
  const auto lines = explain_port_exhaustion(exhaustion, settings, config, "198.18.1.1 port 5301");
  ASSERT_EQ(lines.size(), 4U);
  EXPECT_EQ(lines[0],
            "connect() failed with EADDRNOTAVAIL (\"cannot assign requested address\") on attempt "
            "50 at 0.24 s, after 49 connections: every local port of "
            "net.ipv4.ip_local_port_range 40000-40049 (50 ports) was taken: 50 sockets toward "
            "198.18.1.1 port 5301, 49 of them in TIME_WAIT.");
  EXPECT_NE(lines[1].find("TIME_WAIT for 60 s"), std::string::npos) << lines[1];
  EXPECT_EQ(lines[2],
            "Arithmetic: one client address toward one server address and port sustains at most "
            "50 ports / 60 s = 0.83 new connections/s; at 200/s the range lasts about 0.25 s.");
  EXPECT_EQ(lines[3],
            "net.ipv4.tcp_tw_reuse = 2 (loopback only): TIME_WAIT ports are reused only for "
            "loopback traffic, not on this path.");

  const auto fixes = port_exhaustion_fixes(settings);
  ASSERT_EQ(fixes.size(), 5U);
  EXPECT_NE(fixes[0].find("--reuse"), std::string::npos);
  EXPECT_NE(fixes[1].find("net.ipv4.tcp_tw_reuse=1 (now 2 (loopback only))"), std::string::npos)
      << fixes[1];
  EXPECT_NE(fixes[2].find("(now 40000 40049, 50 ports)"), std::string::npos) << fixes[2];
  EXPECT_NE(fixes[4].find("tcp_tw_recycle (removed in Linux 4.12"), std::string::npos);

  // With tcp_tw_reuse already on, the ceiling is ports per second, and the fix is not offered.
  const PortSettings reuse_on{40000, 40049, 1, 1};
  const auto on = explain_port_exhaustion(exhaustion, reuse_on, config, "s");
  EXPECT_NE(on[3].find("50 ports / 1 s = 50 new connections/s"), std::string::npos) << on[3];
  EXPECT_EQ(port_exhaustion_fixes(reuse_on).size(), 4U);
}

TEST(MeasureTransactions, ConfigBoundsAndJsonRoundTrip) {
  TransactionConfig config;
  config.kind = TransactionKind::churn;
  config.rate_per_s = 250;
  config.count = 1000;
  config.reuse = true;
  config.request_bytes = 100;
  config.response_bytes = 2000;
  EXPECT_EQ(validate(config), "");
  EXPECT_EQ(planned_transactions(config), 1000U);
  const auto back = transaction_config_from_json(to_json(config));
  ASSERT_TRUE(back) << back.error;
  EXPECT_EQ(*back, config);

  TransactionConfig rr;
  EXPECT_EQ(planned_transactions(rr), kMaxTransactions);
  rr.request_bytes = 0;
  EXPECT_NE(validate(rr).find("--request-size"), std::string::npos);
  TransactionConfig fast = config;
  fast.count.reset();
  fast.rate_per_s = 100'000;
  fast.duration = 3600s;
  EXPECT_NE(validate(fast).find("bound the test with -n/--count"), std::string::npos);
  EXPECT_FALSE(transaction_config_from_json({{"kind", "bulk"}}));
  auto json = to_json(config);
  json["request_bytes"] = 2U << 20;
  EXPECT_NE(transaction_config_from_json(json).error.find("request_bytes"), std::string::npos);
}

TEST(MeasureTransactions, ProgressShowsCountsAndPhase) {
  ProgressState state;
  state.what = "rr to 198.18.1.1";
  state.phase = "phase 1/2, alone";
  state.elapsed = 3s;
  state.planned = 10s;
  state.count = 150;
  state.count_unit = "transactions";
  EXPECT_EQ(format_progress(state, 200),
            "bench rr to 198.18.1.1 (phase 1/2, alone): 3 / 10 s, 150 transactions "
            "[#########.....................]  30%");
  state.phase.clear();
  state.planned_count = 200;  // the count is further along than the time: it decides
  EXPECT_EQ(format_progress(state, 200),
            "bench rr to 198.18.1.1: 3 / 10 s, 150 / 200 transactions "
            "[######################........]  75%");
}

TEST(MeasureTransactions, RrDocumentSideBySide) {
  RrResult result;
  result.start.host = "198.18.1.1";
  result.start.port = 5301;
  result.alone.transactions = 100;
  result.alone.elapsed = 2s;
  auto alone = millis({20, 20, 21});
  result.alone.latency = summarize_latencies(alone);
  result.loaded = RrPhase{};
  result.loaded->transactions = 40;
  result.loaded->elapsed = 2s;
  auto loaded = millis({45, 50, 60});
  result.loaded->latency = summarize_latencies(loaded);
  result.load_config = BenchConfig{};
  const auto doc = rr_document(result);
  EXPECT_EQ(doc["kind"], "rr");
  EXPECT_EQ(doc["end"]["alone"]["transactions_per_second"], 50.0);
  EXPECT_DOUBLE_EQ(doc["end"]["latency_increase_us"]["p50"].get<double>(), 30'000.0);
  const auto text = rr_human(result);
  EXPECT_NE(text.find("alone"), std::string::npos);
  EXPECT_NE(text.find("under load"), std::string::npos);
  EXPECT_NE(text.find("+30.00 ms"), std::string::npos) << text;
}

TEST(MeasureTransactions, JsonStreamEventsCarryTheDocumentInOrder) {
  ChurnResult result;
  result.start.host = "198.18.1.1";
  result.start.port = 5301;
  result.config.kind = TransactionKind::churn;
  ChurnInterval first;
  first.end = 1s;
  first.connected = 10;
  ChurnInterval second;
  second.start = 1s;
  second.end = 2s;
  second.connected = 20;
  result.intervals = {first, second};
  result.error = "the server went away";
  const auto doc = churn_document(result);
  const auto events = document_events(doc);
  ASSERT_EQ(events.size(), 5U);
  EXPECT_EQ(events[0]["event"], "start");
  EXPECT_EQ(events[0]["data"]["schema"], doc["schema"]);
  EXPECT_EQ(events[0]["data"]["kind"], "churn");
  EXPECT_EQ(events[0]["data"]["config"], doc["start"]["config"]);
  EXPECT_EQ(events[1]["event"], "interval");
  EXPECT_EQ(events[1]["data"], churn_interval_json(first));
  EXPECT_EQ(events[2]["data"]["connected"], 20);
  EXPECT_EQ(events[3]["event"], "error");
  EXPECT_EQ(events[3]["data"]["message"], "the server went away");
  EXPECT_EQ(events[4]["event"], "end");
  EXPECT_EQ(events[4]["data"], doc["end"]);

  // rr has no intervals and, here, no error: start and end only.
  const auto rr = document_events(rr_document(RrResult{}));
  ASSERT_EQ(rr.size(), 2U);
  EXPECT_EQ(rr[0]["data"]["kind"], "rr");
  EXPECT_EQ(rr[1]["event"], "end");
}

}  // namespace
}  // namespace longhaul::measure

// GET /v1/events on a fake engine and a manual clock: the hello, samples every interval with
// rates and drops over that interval only, the changes the API accepted, and the directions
// that switched, at the instant they did.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "control/event_stream.hh"
#include "support/fake_control_target.hh"

namespace longhaul::control {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

struct Event {
  std::string name;
  json data;
};

/// Splits event-stream text into its events (each "event: NAME\ndata: JSON\n\n").
std::vector<Event> parse(const std::string& text) {
  std::vector<Event> events;
  std::size_t at = 0;
  while (at < text.size()) {
    const std::size_t end = text.find("\n\n", at);
    EXPECT_NE(end, std::string::npos) << "an event is not closed by a blank line: " << text;
    if (end == std::string::npos) break;
    const std::string block = text.substr(at, end - at);
    const std::size_t newline = block.find('\n');
    EXPECT_EQ(block.rfind("event: ", 0), 0u) << block;
    EXPECT_EQ(block.compare(newline + 1, 6, "data: "), 0) << block;
    EXPECT_EQ(block.find('\n', newline + 1), std::string::npos) << "data spans lines: " << block;
    events.push_back({block.substr(7, newline - 7), json::parse(block.substr(newline + 7))});
    at = end + 2;
  }
  return events;
}

struct Events : ::testing::Test {
  std::vector<Event> poll() { return parse(stream.poll()); }
  test_support::FakeControlTarget target;
  ControlApi api{target};
  EventStream stream{target, api.change_log(), 1s};
};

TEST_F(Events, StartWithHelloNamingTheEngineAndEveryLanesConfiguration) {
  target.states[1][0].rate_bps = 50'000'000;
  const auto events = poll();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].name, "hello");
  const json& hello = events[0].data;
  EXPECT_EQ(hello.at("kind"), "lab");
  EXPECT_DOUBLE_EQ(hello.at("interval_s").get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(hello.at("t_s").get<double>(), 10.0);
  ASSERT_EQ(hello.at("lanes").size(), 2u);
  EXPECT_EQ(hello.at("lanes")[1].at("name"), "japan");
  EXPECT_EQ(hello.at("lanes")[1].at("up").at("rate_bps"), 50'000'000);
  EXPECT_DOUBLE_EQ(hello.at("lanes")[0].at("down").at("delay_s").get<double>(), 0.016);
}

TEST_F(Events, ASampleEveryIntervalWithRatesAndDropsOverThatIntervalOnly) {
  target.states[0][0].counters.dropped_packets[0] = 7;  // before the stream: not in a sample
  poll();
  target.clock += 999ms;
  EXPECT_TRUE(poll().empty());  // not an interval yet
  target.clock += 1ms;
  auto& up = target.states[0][0];
  up.counters.bytes_out += 125'000;  // 1 Mbit in the second
  up.counters.packets_out += 100;
  up.counters.dropped_packets[0] += 3;
  up.counters.packets_queued = 4;
  auto events = poll();
  ASSERT_EQ(events.size(), 1u);
  ASSERT_EQ(events[0].name, "sample");
  const json& sample = events[0].data;
  EXPECT_DOUBLE_EQ(sample.at("interval_s").get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(sample.at("t_s").get<double>(), 11.0);
  const json& california_up = sample.at("lanes")[0].at("up");
  EXPECT_DOUBLE_EQ(california_up.at("out_bps").get<double>(), 1e6);
  EXPECT_DOUBLE_EQ(california_up.at("out_pps").get<double>(), 100.0);
  const std::string cause = core::drop_cause_name(static_cast<core::DropCause>(0));
  EXPECT_EQ(california_up.at("dropped"), json({{cause, 3}}));
  EXPECT_EQ(california_up.at("queue").at("packets"), 4);
  EXPECT_EQ(california_up.at("fidelity").at("verdict"), "ok");
  EXPECT_TRUE(sample.at("lanes")[1].at("down").at("dropped").empty());
  // The next interval starts where this one ended: nothing new, nothing counted again.
  target.clock += 2s;
  events = poll();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_DOUBLE_EQ(events[0].data.at("interval_s").get<double>(), 2.0);
  EXPECT_DOUBLE_EQ(events[0].data.at("lanes")[0].at("up").at("out_bps").get<double>(), 0.0);
  EXPECT_TRUE(events[0].data.at("lanes")[0].at("up").at("dropped").empty());
}

TEST_F(Events, FidelityInASampleIsOverTheIntervalAndNamesADegradedLane) {
  poll();
  const int moves_at_hello = target.cursor_moves;
  EXPECT_EQ(moves_at_hello, 4);  // every direction's interval starts at the hello
  target.degraded = 1;
  target.clock += 1s;
  const auto events = poll();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(target.cursor_moves, moves_at_hello + 4);
  EXPECT_EQ(events[0].data.at("lanes")[1].at("up").at("fidelity").at("verdict"), "degraded");
  EXPECT_EQ(events[0].data.at("lanes")[0].at("up").at("fidelity").at("verdict"), "ok");
}

TEST_F(Events, AnAcceptedChangeThenEachDirectionThatSwitchedAtItsInstant) {
  api.handle({"PATCH", "/v1/lanes/japan", R"({"rtt": "400ms"})"});  // before: not replayed
  poll();
  const auto answer = api.handle({"POST", "/v1/changes",
                                  R"({"changes": [{"lane": "california", "rate": "20mbit"},
                                                  {"lane": "japan", "delay-up": "90ms"}]})"});
  ASSERT_EQ(answer.status, 200) << answer.body;
  auto events = poll();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].name, "change");
  EXPECT_EQ(events[0].data.at("change"), 2);
  EXPECT_DOUBLE_EQ(events[0].data.at("at_s").get<double>(), 10.002);
  EXPECT_EQ(events[0].data.at("changes").size(), 2u);
  EXPECT_TRUE(poll().empty());  // said once
  // The engine applies it: california both ways, japan up; the instant is the engine's.
  for (auto* state : {&target.states[0][0], &target.states[0][1], &target.states[1][0]}) {
    state->changes_applied += 1;
    state->last_change_at = 10'002ms;
  }
  target.states[0][0].rate_bps = 20'000'000;
  events = poll();
  ASSERT_EQ(events.size(), 3u);
  for (const auto& event : events) {
    EXPECT_EQ(event.name, "applied");
    EXPECT_DOUBLE_EQ(event.data.at("at_s").get<double>(), 10.002);
    EXPECT_EQ(event.data.at("changes"), 1);
  }
  EXPECT_EQ(events[0].data.at("lane"), "california");
  EXPECT_EQ(events[0].data.at("direction"), "up");
  EXPECT_EQ(events[0].data.at("config").at("rate_bps"), 20'000'000);
  EXPECT_EQ(events[2].data.at("lane"), "japan");
  EXPECT_TRUE(poll().empty());
}

TEST(EventInterval, DefaultsToOneSecondAndNamesItsBounds) {
  EXPECT_EQ(parse_event_interval("").interval, 1s);
  EXPECT_EQ(parse_event_interval("250ms").interval, 250ms);
  EXPECT_NE(parse_event_interval("10ms").error.find("from 100ms to 60s"), std::string::npos)
      << parse_event_interval("10ms").error;
  EXPECT_NE(parse_event_interval("61s").error.find("60s"), std::string::npos);
  EXPECT_NE(parse_event_interval("soon").error.find("interval \"soon\""), std::string::npos);
}

TEST(ChangeLogKeeps, TheLatestEntriesInOrder) {
  ChangeLog log;
  for (int i = 0; i < static_cast<int>(ChangeLog::kKept) + 10; ++i) log.add({{"i", i}});
  EXPECT_EQ(log.last(), ChangeLog::kKept + 10);
  const auto all = log.since(0);
  ASSERT_EQ(all.size(), ChangeLog::kKept);
  EXPECT_EQ(all.front().first, 11u);  // the first ten are gone
  EXPECT_EQ(all.front().second.at("change"), 11);
  EXPECT_EQ(log.since(log.last()).size(), 0u);
  EXPECT_EQ(log.since(log.last() - 1).at(0).second.at("i"), static_cast<int>(ChangeLog::kKept) + 9);
}

}  // namespace
}  // namespace longhaul::control

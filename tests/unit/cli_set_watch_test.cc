// `longhaul set` and `longhaul watch`, their pure parts: link flags -> the control API request
// (checked against the API core that will read it), the answer line, and the watch table from
// two snapshots of GET /v1/lanes.
#include <gtest/gtest.h>

#include <memory>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "cli/commands.hh"
#include "cli/set_request.hh"
#include "cli/watch_view.hh"
#include "control/control_api.hh"
#include "link/schema.hh"

namespace longhaul::cli {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

SetInput flags(std::vector<GivenFlag> given, SetDirection direction = SetDirection::both) {
  SetInput input;
  input.flags = std::move(given);
  input.direction = direction;
  return input;
}

/// The UsageError's message, or "" when `set_request` accepted the input.
std::string refusal(const SetInput& input) {
  try {
    (void)set_request("japan", input);
  } catch (const UsageError& error) {
    return error.what();
  }
  return "";
}

TEST(SetRequest, SharedAndOneDirectionFlagsBecomeTheSchemaKeys) {
  const ApiRequest request = set_request("japan", flags({{"rtt", "400ms"}, {"loss-up", "1%"}}));
  EXPECT_EQ(request.method, "PATCH");
  EXPECT_EQ(request.path, "/v1/lanes/japan");
  EXPECT_EQ(request.body, (json{{"rtt", "400ms"}, {"loss-up", "1%"}}));
}

TEST(SetRequest, UpOrDownPutsEveryFlagInThatDirection) {
  EXPECT_EQ(
      set_request("japan", flags({{"rate", "10mbit"}, {"delay", "5ms"}}, SetDirection::up)).body,
      (json{{"rate-up", "10mbit"}, {"delay-up", "5ms"}}));
  EXPECT_EQ(
      set_request("japan", flags({{"loss", "0.5%"}, {"queue-down", "100p"}}, SetDirection::down))
          .body,
      (json{{"loss-down", "0.5%"}, {"queue-down", "100p"}}));
}

TEST(SetRequest, ADirectionsOwnFlagWinsThereAsInRun) {
  EXPECT_EQ(set_request("japan", flags({{"rate", "10mbit"}, {"rate-up", "20mbit"}})).body,
            (json{{"rate-up", "20mbit"}, {"rate-down", "10mbit"}}));
}

TEST(SetRequest, AtGoesInTheBody) {
  SetInput input = flags({{"rate", "1gbit"}});
  input.at = "+5s";
  EXPECT_EQ(set_request("japan", input).body, (json{{"rate", "1gbit"}, {"at", "+5s"}}));
  input.at = "30s";
  EXPECT_EQ(set_request("japan", input).body["at"], "30s");
  input.at = "soon";
  EXPECT_NE(refusal(input).find("--at 'soon'"), std::string::npos) << refusal(input);
}

TEST(SetRequest, EveryLiveFlagOfTheSchemaIsSentUnderItsOwnName) {
  std::size_t checked = 0;
  for (const link::Param& param : link::link_params()) {
    const auto& live = control::live_keys();
    if (std::find(live.begin(), live.end(), param.key) == live.end()) continue;
    for (const std::string& name : link::names_of(param)) {
      const std::string value(param.example);
      const ApiRequest request = set_request("japan", flags({{name, value}}));
      EXPECT_EQ(request.body, (json{{name, value}})) << name;
      ++checked;
    }
  }
  EXPECT_EQ(checked, 1U + 4U * 3U);  // rtt; delay, rate, loss, queue with -up and -down
}

TEST(SetRequest, AFlagThatIsNotLiveIsRefusedWithRestart) {
  const std::string message = refusal(flags({{"rtt", "80ms"}, {"jitter", "5ms"}}));
  EXPECT_NE(message.find("--jitter cannot change while the lab runs"), std::string::npos)
      << message;
  EXPECT_NE(message.find("restart"), std::string::npos) << message;
  EXPECT_NE(message.find("--rtt"), std::string::npos) << message;  // what can change
  EXPECT_NE(refusal(flags({{"ecn", ""}})).find("--ecn cannot change"), std::string::npos);
}

TEST(SetRequest, ValuesAreCheckedWithTheUnitsOfRun) {
  const std::string message = refusal(flags({{"rtt", "fast"}}));
  EXPECT_EQ(message.rfind("--rtt 'fast': ", 0), 0U) << message;
  EXPECT_NE(refusal(flags({{"loss", "1"}})).find("--loss '1'"), std::string::npos);
  EXPECT_NE(refusal(flags({{"rate-down", "10mbps"}})).find("--rate-down"), std::string::npos);
  EXPECT_NE(refusal(flags({{"queue", "100"}})).find("--queue '100'"), std::string::npos);
}

TEST(SetRequest, ContradictionsAreRefusedNamingTheFlags) {
  std::string message = refusal(flags({{"rtt", "80ms"}}, SetDirection::up));
  EXPECT_NE(message.find("--rtt is for both directions"), std::string::npos) << message;
  EXPECT_NE(message.find("--delay"), std::string::npos) << message;
  message = refusal(flags({{"rate-down", "1mbit"}}, SetDirection::up));
  EXPECT_NE(message.find("--rate-down contradicts --up"), std::string::npos) << message;
  message = refusal(flags({{"rtt", "80ms"}, {"delay-up", "10ms"}}));
  EXPECT_NE(message.find("--rtt and --delay-up both set"), std::string::npos) << message;
  message = refusal(flags({{"rate", "1mbit"}, {"rate", "2mbit"}}));
  EXPECT_NE(message.find("--rate is given twice"), std::string::npos) << message;
}

TEST(SetRequest, NothingToChangeIsRefused) {
  const std::string message = refusal(flags({}));
  EXPECT_NE(message.find("nothing to change on lane 'japan'"), std::string::npos) << message;
}

TEST(SetRequest, AnOutageIsAPostOfItsOwn) {
  SetInput input = flags({}, SetDirection::down);
  input.outage = "2s";
  const ApiRequest request = set_request("japan", input);
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.path, "/v1/lanes/japan/outage");
  EXPECT_EQ(request.body, (json{{"for", "2s"}, {"direction", "down"}}));
  input.outage = "0s";
  EXPECT_NE(refusal(input).find("--outage '0s': must be above 0"), std::string::npos);
  input = flags({{"rtt", "80ms"}});
  input.outage = "2s";
  EXPECT_NE(refusal(input).find("--outage is a change of its own"), std::string::npos);
}

TEST(SetRequest, TheLaneIsEscapedInThePath) {
  EXPECT_EQ(set_request("a b/c", flags({{"rate", "1mbit"}})).path, "/v1/lanes/a%20b%2Fc");
  EXPECT_EQ(url_path_segment("new-york_1.x~"), "new-york_1.x~");
}

TEST(SetRequest, TheAnswerLineNamesTheChangeItsInstantAndWhatChanged) {
  const ApiRequest request = set_request("japan", flags({{"rtt", "400ms"}, {"loss-up", "1%"}}));
  const json answer = {{"change", 3}, {"at_s", 12.3456}, {"changes", json::array()}};
  EXPECT_EQ(set_answer_line("lab", "four-sites", "japan", request, answer),
            "lab four-sites lane japan: change 3, loss-up 1%, rtt 400ms, at 12.346 s of lab time");
  SetInput outage;
  outage.outage = "2s";
  EXPECT_EQ(set_answer_line("lab", "four-sites", "japan", set_request("japan", outage),
                            {{"change", 4}, {"at_s", 1.0}}),
            "lab four-sites lane japan: change 4, outage of 2s (both directions), at 1.000 s of "
            "lab time");
  // A run's or a bridge's answer names it as such.
  EXPECT_EQ(set_answer_line("run", "r2", "link", request, answer),
            "run r2 lane link: change 3, loss-up 1%, rtt 400ms, at 12.346 s of run time");
}

/// A lab of one lane, "japan", for the API core that reads what `set` sends.
class OneLane final : public control::ControlTarget {
 public:
  OneLane() {
    for (auto& direction : state_) {
      direction.delay = 173ms;
      direction.rate_bps = 1'000'000'000;
      direction.random_loss = true;
    }
  }
  json identity() const override { return {{"kind", "lab"}, {"name", "four-sites"}}; }
  const std::vector<std::string>& lane_names() const override { return names_; }
  control::DirectionState state(std::size_t, int direction) const override {
    return state_[static_cast<std::size_t>(direction)];
  }
  core::Nanos now() const override { return 10s; }
  core::Nanos origin() const override { return 1s; }
  std::string check_capacity(std::size_t, int, std::uint64_t, core::Nanos,
                             const core::QueueBound&) const override {
    return "";
  }
  bool post(const std::vector<control::PlannedChange>& changes) override {
    posted = changes;
    return true;
  }
  std::vector<std::string> link_keys() const override { return link::param_names(); }
  json params() const override { return json::object(); }
  std::unique_ptr<control::FidelityCursor> fidelity_cursor() const override {
    return std::make_unique<control::FidelityCursor>();
  }
  json fidelity(std::size_t, int, control::FidelityCursor*) const override {
    return {{"verdict", "ok"}};
  }

  std::vector<control::PlannedChange> posted;

 private:
  std::vector<std::string> names_{"japan"};
  std::array<control::DirectionState, 2> state_;
};

TEST(SetRequest, TheApiCoreReadsTheRequestAsMeant) {
  OneLane lab;
  control::ControlApi api(lab);
  const ApiRequest request = set_request("japan", flags({{"rtt", "400ms"}, {"loss-up", "1%"}}));
  const auto response = api.handle({request.method, request.path, request.body.dump()});
  ASSERT_EQ(response.status, 200) << response.body;
  ASSERT_EQ(lab.posted.size(), 2U);
  EXPECT_EQ(lab.posted[0].change.change.delay, core::Nanos(200ms));
  EXPECT_EQ(lab.posted[1].change.change.delay, core::Nanos(200ms));
  EXPECT_EQ(lab.posted[0].change.change.loss, 0.01);
  EXPECT_FALSE(lab.posted[1].change.change.loss.has_value());

  SetInput outage = flags({}, SetDirection::up);
  outage.outage = "2s";
  const ApiRequest post = set_request("japan", outage);
  lab.posted.clear();
  ASSERT_EQ(api.handle({post.method, post.path, post.body.dump()}).status, 200);
  ASSERT_EQ(lab.posted.size(), 1U);
  EXPECT_EQ(lab.posted[0].direction, 0);
  EXPECT_EQ(lab.posted[0].change.outage, core::Nanos(2s));
}

/// One direction of GET /v1/lanes as the server writes it.
json direction(std::uint64_t bytes_out, std::uint64_t packets_out, std::uint64_t queue_full,
               double delay_s, double loss) {
  json dropped = json::object();
  for (const char* cause : {"queue_full", "loss", "aqm"}) {
    dropped[cause] = {{"packets", 0}, {"bytes", 0}};
  }
  dropped["queue_full"]["packets"] = queue_full;
  return {
      {"config",
       {{"rate_bps", 1'000'000'000},
        {"rate", "1 Gbit/s"},
        {"delay_s", delay_s},
        {"delay", delay_s == 0.173 ? "173 ms" : "?"},
        {"loss", loss}}},
      {"counters", {{"packets_out", packets_out}, {"bytes_out", bytes_out}, {"dropped", dropped}}},
      // QUEUE is the bottleneck's, not everything inside the direction (the delay line too).
      {"queue",
       {{"packets", 30},
        {"bytes", 45'000},
        {"bottleneck_packets", 8},
        {"bottleneck_bytes", 12'000}}},
      {"release_lateness", {{"p99_s", 0.000'040}}}};
}

json snapshot(std::uint64_t bytes_out, std::uint64_t packets_out, std::uint64_t queue_full) {
  json lane = {{"name", "japan"}, {"index", 0}};
  lane["up"] = direction(bytes_out, packets_out, queue_full, 0.173, 0.01);
  lane["down"] = direction(0, 0, 0, 0.173, 0.0);
  return {{"lanes", json::array({lane})}};
}

std::string joined(const std::vector<std::string>& lines) {
  std::string text;
  for (const auto& line : lines) text += line + "\n";
  return text;
}

/// A table row's cells: the text between runs of two or more spaces (cells hold single ones).
std::vector<std::string> cells(const std::string& line) {
  std::vector<std::string> out;
  std::string cell;
  for (std::size_t i = 0; i < line.size(); ++i) {
    if (line[i] == ' ' && i + 1 < line.size() && line[i + 1] == ' ') {
      if (!cell.empty()) out.push_back(cell);
      cell.clear();
      while (i + 1 < line.size() && line[i + 1] == ' ') ++i;
      continue;
    }
    cell += line[i];
  }
  if (!cell.empty()) out.push_back(cell);
  return out;
}

TEST(WatchView, RatesAndDropsAreOverTheInterval) {
  const json before = snapshot(1'000'000, 500, 7);
  const json after = snapshot(1'000'000 + 2'500'000, 500 + 2'000, 10);
  const auto lines = watch_lines("lab four-sites", &before, after, 2.0);
  ASSERT_EQ(lines.size(), 4U) << joined(lines);  // title, headings, up, down
  EXPECT_EQ(lines[0], "lab four-sites: 1 lanes; rates and drops over the last 2.00 s");
  EXPECT_EQ(cells(lines[1]),
            (std::vector<std::string>{"LANE", "RTT", "DIR", "OUT", "PKT/S", "QUEUE", "LATE P99",
                                      "RATE", "DELAY", "LOSS", "DROPS"}));
  // 2.5 MB in 2 s is 10 Mbit/s; 2000 packets in 2 s, 1000/s; 3 more queue drops, no losses.
  EXPECT_EQ(cells(lines[2]),
            (std::vector<std::string>{"japan", "346 ms", "up", "10 Mbit/s", "1000", "12 kB 8p",
                                      "40 us", "1 Gbit/s", "173 ms", "1%", "queue_full 3"}))
      << joined(lines);
  // The lane is named once; an interval without drops says so.
  EXPECT_EQ(cells(lines[3]), (std::vector<std::string>{"down", "0 bit/s", "0", "12 kB 8p", "40 us",
                                                       "1 Gbit/s", "173 ms", "0%", "none"}))
      << joined(lines);
  // The columns line up: each row's direction starts where the DIR heading does.
  EXPECT_EQ(lines[2].find(" up "), lines[1].find(" DIR ")) << joined(lines);
  EXPECT_EQ(lines[3].find(" down "), lines[1].find(" DIR ")) << joined(lines);
}

TEST(WatchView, TheFirstRefreshHasNoIntervalYet) {
  const auto lines = watch_lines("lab four-sites", nullptr, snapshot(5, 1, 1), 0.0);
  EXPECT_EQ(lines[0], "lab four-sites: 1 lanes; rates and drops from the next refresh");
  EXPECT_EQ(cells(lines[2]),
            (std::vector<std::string>{"japan", "346 ms", "up", "-", "-", "12 kB 8p", "40 us",
                                      "1 Gbit/s", "173 ms", "1%", "-"}))
      << joined(lines);
}

TEST(WatchView, CountersThatWentBackwardsShowNoRate) {
  const json before = snapshot(9'000'000, 900, 9);
  const auto row = cells(watch_lines("lab four-sites", &before, snapshot(10, 1, 0), 1.0)[2]);
  ASSERT_EQ(row.size(), 11U);
  EXPECT_EQ(row[3], "-");
  EXPECT_EQ(row[4], "-");
  EXPECT_EQ(row[10], "none");
}

TEST(WatchView, ALaneThatIsNotThereBeforeHasNoRateYet) {
  json before = snapshot(0, 0, 0);
  before["lanes"][0]["name"] = "england";
  const auto row = cells(watch_lines("lab four-sites", &before, snapshot(10, 1, 0), 1.0)[2]);
  ASSERT_EQ(row.size(), 11U);
  EXPECT_EQ(row[3], "-");
  EXPECT_EQ(row[10], "-");
}

}  // namespace
}  // namespace longhaul::cli

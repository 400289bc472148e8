// The control API's request -> response core against a fake engine: routing, whole-change
// validation (one bad key changes nothing), the error statuses and their messages, atomic
// instants across lanes, and the Prometheus text.
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "control/control_api.hh"
#include "support/fake_control_target.hh"

namespace longhaul::control {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

using FakeTarget = test_support::FakeControlTarget;

struct Api : ::testing::Test {
  HttpResponse call(const std::string& method, const std::string& path,
                    const std::string& body = "") {
    return api.handle({method, path, body});
  }
  std::string error_of(const HttpResponse& response) {
    return json::parse(response.body).at("error").get<std::string>();
  }
  FakeTarget target;
  ControlApi api{target};
};

TEST_F(Api, DescribesTheEngineAndItsLanes) {
  const auto root = call("GET", "/v1/");
  ASSERT_EQ(root.status, 200);
  const json value = json::parse(root.body);
  EXPECT_EQ(value.at("kind"), "lab");
  EXPECT_EQ(value.at("lanes"), json::array({"california", "japan"}));
  EXPECT_DOUBLE_EQ(value.at("engine_time_s").get<double>(), 10.0);
  const json lane = json::parse(call("GET", "/v1/lanes/japan").body);
  EXPECT_EQ(lane.at("name"), "japan");
  EXPECT_DOUBLE_EQ(lane.at("up").at("config").at("delay_s").get<double>(), 0.016);
  EXPECT_EQ(json::parse(call("GET", "/v1/lanes").body).at("lanes").size(), 2u);
  const json params = json::parse(call("GET", "/v1/params").body).at("params");
  // The target's schema, each parameter marked with whether the API may change it.
  std::map<std::string, bool> api_live;
  for (const auto& param : params) api_live[param.at("key")] = param.at("api_live").get<bool>();
  EXPECT_EQ(api_live.size(), 8u);
  EXPECT_FALSE(api_live.at("jitter"));
  EXPECT_FALSE(api_live.at("qdisc"));
  for (const char* key : {"rtt", "delay", "rate", "loss", "queue"}) EXPECT_TRUE(api_live.at(key));
}

TEST_F(Api, TheEngineNamesWhatEachLaneJoins) {
  // A lab engine's identity carries its topology (lab_session.cc); /v1/ shows it whole, so a
  // client (the dashboard) can draw which sites and switches each lane joins.
  target.topology = {{"sites", {"new-york", "japan"}},
                     {"switches", {"hub"}},
                     {"lanes",
                      {{{"name", "california"}, {"a", "new-york"}, {"b", "hub"}},
                       {{"name", "japan"}, {"a", "japan"}, {"b", "hub"}}}}};
  const json value = json::parse(call("GET", "/v1/").body);
  EXPECT_EQ(value.at("topology"), target.topology);
  EXPECT_EQ(value.at("topology").at("lanes").at(1).at("a"), "japan");
  EXPECT_EQ(value.at("lanes"), json::array({"california", "japan"}));
}

TEST_F(Api, RttIsSplitHalfEachWayAndAppliesAfterTheLead) {
  const auto response = call("PATCH", "/v1/lanes/japan", R"({"rtt": "346ms"})");
  ASSERT_EQ(response.status, 200) << response.body;
  ASSERT_EQ(target.posted.size(), 2u);
  for (const auto& planned : target.posted) {
    EXPECT_EQ(planned.lane, 1u);
    EXPECT_EQ(planned.change.at, 11s + kApplyLead);
    EXPECT_EQ(*planned.change.change.delay, 173ms);
  }
  EXPECT_EQ(response.applies_at, 11s + kApplyLead);
}

TEST_F(Api, PerDirectionKeysAndObjects) {
  ASSERT_EQ(call("PATCH", "/v1/lanes/california",
                 R"({"up": {"delay": "60ms"}, "rate-down": "50mbit", "loss": "1%"})")
                .status,
            200);
  ASSERT_EQ(target.posted.size(), 2u);
  EXPECT_EQ(*target.posted[0].change.change.delay, 60ms);
  EXPECT_FALSE(target.posted[0].change.change.rate_bps);
  EXPECT_EQ(*target.posted[1].change.change.rate_bps, 50'000'000u);
  EXPECT_FALSE(target.posted[1].change.change.delay);
  // A lane that had no rate gets the default queue with it: one BDP of the new round trip
  // (60 ms up + 16 ms down) at 50 Mbit/s, as it is more than 100 full-size packets.
  ASSERT_TRUE(target.posted[1].change.queue);
  EXPECT_EQ(target.posted[1].change.queue->max_bytes, 50'000'000u / 8u * 76u / 1000u);
  EXPECT_DOUBLE_EQ(*target.posted[0].change.change.loss, 0.01);
}

TEST_F(Api, ChangesAcrossLanesShareOneInstant) {
  const auto response = call("POST", "/v1/changes",
                             R"({"at": "+5s", "changes": [{"lane": "california", "rtt": "40ms"},
                                 {"lane": "japan", "delay": "200ms"}]})");
  ASSERT_EQ(response.status, 200) << response.body;
  ASSERT_EQ(target.posted.size(), 4u);
  for (const auto& planned : target.posted) EXPECT_EQ(planned.change.at, 16s);
  ASSERT_EQ(
      call("POST", "/v1/changes", R"({"at": "20s", "changes": [{"lane": "japan", "rtt": "1ms"}]})")
          .status,
      200);
  EXPECT_EQ(target.posted.back().change.at, 21s);  // from the engine's start
}

TEST_F(Api, OneBadKeyRejectsTheWholeChange) {
  const auto response = call("POST", "/v1/changes",
                             R"({"changes": [{"lane": "california", "rtt": "40ms"},
                                 {"lane": "japan", "delay": "fast"}]})");
  EXPECT_EQ(response.status, 400);
  EXPECT_NE(error_of(response).find("delay \"fast\""), std::string::npos) << response.body;
  EXPECT_TRUE(target.posted.empty());
}

TEST_F(Api, ErrorsNameTheKeyTheValueAndTheRule) {
  struct Case {
    const char* method;
    const char* path;
    const char* body;
    int status;
    const char* says;
  };
  const Case cases[] = {
      {"PATCH", "/v1/lanes/japan", R"({"jitter": "2ms"})", 409,
       "jitter is not live-changeable (start the lab, run or bridge again with it)"},
      {"PATCH", "/v1/lanes/japan", R"({"colour": "red"})", 400, "unknown key \"colour\""},
      {"PATCH", "/v1/lanes/japan", R"({"rate": 50})", 400, "rate: 50 has no unit"},
      {"PATCH", "/v1/lanes/japan", R"({"rate": "50mbits"})", 400, "rate \"50mbits\""},
      {"PATCH", "/v1/lanes/japan", R"({"rtt": "1s", "up": {"delay": "1ms"}})", 400, "already set"},
      {"PATCH", "/v1/lanes/japan", R"({"up": {"rtt": "1s"}})", 400, "round trip for both"},
      {"PATCH", "/v1/lanes/japan", R"({"loss": "1%"})", 409, "started without independent loss"},
      {"PATCH", "/v1/lanes/japan", R"({"queue": "5MB"})", 409, "no rate limit"},
      {"PATCH", "/v1/lanes/japan", R"({"delay": "59s", "rate": "10gbit"})", 409,
       "needs more buffer"},
      {"PATCH", "/v1/lanes/japan", R"({"delay": "61s"})", 400, "60 s"},
      {"PATCH", "/v1/lanes/japan", "not json", 400, "not JSON"},
      {"PATCH", "/v1/lanes/japan", "[1]", 400, "JSON object"},
      {"PATCH", "/v1/lanes/japan", "{}", 400, "sets nothing"},
      {"PATCH", "/v1/lanes/mars", R"({"rtt": "1s"})", 404, "lanes: california, japan"},
      {"GET", "/v1/nothing", "", 404, "endpoints:"},
      {"DELETE", "/v1/lanes/japan", "", 405, "takes GET, PATCH"},
      {"PUT", "/metrics", "", 405, "takes GET"},
      {"POST", "/v1/changes", R"({"changes": []})", 400, "non-empty list"},
      {"POST", "/v1/changes", R"({"at": "1s", "changes": [{"lane": "japan", "rtt": "1s"}]})", 409,
       "in the past"},
      {"POST", "/v1/changes",
       R"({"changes": [{"lane": "japan", "rtt": "1s"}, {"lane": "japan", "rate": "1mbit"}]})", 400,
       "appears twice"},
      {"POST", "/v1/lanes/japan/outage", R"({"for": "soon"})", 400, "for \"soon\""},
      {"POST", "/v1/lanes/japan/outage", R"({"for": "1s", "direction": "sideways"})", 400,
       "\"direction\""},
      {"GET", "/v1/lanes/japan/outage", "", 405, "takes POST"},
  };
  for (const auto& c : cases) {
    const auto response = call(c.method, c.path, c.body);
    EXPECT_EQ(response.status, c.status) << c.method << " " << c.path << " " << c.body;
    EXPECT_NE(error_of(response).find(c.says), std::string::npos)
        << c.body << " -> " << response.body;
  }
  EXPECT_TRUE(target.posted.empty());
  EXPECT_EQ(call("DELETE", "/v1/lanes/japan").allow, "GET, PATCH");
}

TEST_F(Api, OversizedBodyIs413AndAFullMailboxIs409) {
  const auto big = call("PATCH", "/v1/lanes/japan", std::string(kMaxBodyBytes + 1, ' '));
  EXPECT_EQ(big.status, 413);
  EXPECT_NE(error_of(big).find("limit"), std::string::npos);
  target.full = true;
  EXPECT_EQ(call("PATCH", "/v1/lanes/japan", R"({"rtt": "1s"})").status, 409);
}

TEST_F(Api, OutageNowOnOneDirection) {
  ASSERT_EQ(
      call("POST", "/v1/lanes/california/outage", R"({"for": "2s", "direction": "down"})").status,
      200);
  ASSERT_EQ(target.posted.size(), 1u);
  EXPECT_EQ(target.posted[0].direction, 1);
  EXPECT_EQ(target.posted[0].change.outage, 2s);
}

TEST_F(Api, FuzzFoundBytesAndNumbersAreRefusedNotInternalErrors) {
  // A path that is not UTF-8 is quoted in the 404 with the bad bytes replaced; the body is JSON.
  const auto path = call("GET", "/v1/lanes/\xc3\xc3x");
  EXPECT_EQ(path.status, 404);
  EXPECT_TRUE(nlohmann::json::accept(path.body)) << path.body;
  // A number beyond a double is a body that is not JSON (400), not a 500.
  const auto number = call("PATCH", "/v1/lanes/japan", R"({"loss": 7e777})");
  EXPECT_EQ(number.status, 400) << number.body;
  EXPECT_NE(number.body.find("not JSON"), std::string::npos) << number.body;
  EXPECT_TRUE(target.posted.empty());
}

TEST_F(Api, MetricsAreWellFormedPrometheusText) {
  target.states[1][0].counters.packets_in = 42;
  const auto response = call("GET", "/metrics");
  ASSERT_EQ(response.status, 200);
  EXPECT_NE(response.content_type.find("version=0.0.4"), std::string::npos);
  // Every line: a comment (# HELP/# TYPE) or NAME{LABELS} VALUE, with quoted, escaped labels.
  const std::regex sample(
      R"re(^[a-zA-Z_:][a-zA-Z0-9_:]*\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\} [-+0-9.eE]+$)re");
  std::istringstream lines(response.body);
  std::string line;
  std::size_t samples = 0;
  while (std::getline(lines, line)) {
    if (line.starts_with("# HELP ") || line.starts_with("# TYPE ")) continue;
    EXPECT_TRUE(std::regex_match(line, sample)) << line;
    ++samples;
  }
  EXPECT_GT(samples, 50u);
  EXPECT_NE(response.body.find(
                R"(longhaul_packets_in_total{lab="four\"sites",lane="japan",direction="up"} 42)"),
            std::string::npos);
}

TEST_F(Api, MetricsHaveLatenessAndSojournHistogramsWithCumulativeBuckets) {
  core::SojournHistogram sojourn;
  sojourn.record(800ns);   // below 1 us
  sojourn.record(3ms, 2);  // in [2.5 ms, 5 ms)
  sojourn.record(20s);     // above every finite bound
  target.states[0][1].sojourn = sojourn.snapshot();
  core::LatenessHistogram lateness;
  lateness.record(4us);
  lateness.record(150us);
  target.states[0][1].lateness =
      core::histogram_figures<core::LatenessBuckets>(lateness.snapshot(), lateness_edges());
  const std::string body = call("GET", "/metrics").body;
  const std::string labels = R"(lab="four\"sites",lane="california",direction="down")";
  const auto line = [&](const std::string& name, const std::string& le) {
    return name + "{" + labels + (le.empty() ? "" : ",le=\"" + le + "\"") + "} ";
  };
  EXPECT_NE(body.find("# TYPE longhaul_queue_sojourn_seconds histogram\n"), std::string::npos);
  EXPECT_NE(body.find(line("longhaul_queue_sojourn_seconds_bucket", "1e-06") + "1\n"),
            std::string::npos);
  EXPECT_NE(body.find(line("longhaul_queue_sojourn_seconds_bucket", "0.0025") + "1\n"),
            std::string::npos);
  EXPECT_NE(body.find(line("longhaul_queue_sojourn_seconds_bucket", "0.005") + "3\n"),
            std::string::npos);
  EXPECT_NE(body.find(line("longhaul_queue_sojourn_seconds_bucket", "10") + "3\n"),
            std::string::npos);
  EXPECT_NE(body.find(line("longhaul_queue_sojourn_seconds_bucket", "+Inf") + "4\n"),
            std::string::npos);
  EXPECT_NE(body.find(line("longhaul_queue_sojourn_seconds_count", "") + "4\n"), std::string::npos);
  EXPECT_NE(body.find(line("longhaul_queue_sojourn_seconds_sum", "") + "20.0060008\n"),
            std::string::npos);
  EXPECT_NE(body.find("# TYPE longhaul_release_lateness_seconds histogram\n"), std::string::npos);
  EXPECT_NE(body.find(line("longhaul_release_lateness_seconds_bucket", "5e-06") + "1\n"),
            std::string::npos);
  EXPECT_NE(body.find(line("longhaul_release_lateness_seconds_bucket", "0.0002") + "2\n"),
            std::string::npos);
  EXPECT_NE(body.find(line("longhaul_release_lateness_seconds_sum", "") + "0.000154\n"),
            std::string::npos);
  // Every bound of the exposition is an edge of its histogram, so the counts are exact.
  for (const auto edge : lateness_edges()) {
    const auto bucket = core::LatenessBuckets::bucket_of(edge.count());
    EXPECT_EQ(core::LatenessHistogram::lower_edge(bucket), edge) << edge.count();
  }
  for (const auto edge : sojourn_edges()) {
    const auto bucket = core::SojournBuckets::bucket_of(edge.count());
    EXPECT_EQ(core::SojournHistogram::lower_edge(bucket), edge) << edge.count();
  }
  EXPECT_EQ(lateness_edges().size(), 16u);  // 1 us ... 100 ms
  EXPECT_EQ(sojourn_edges().size(), 22u);   // 1 us ... 5 s, and 10 s
}

}  // namespace
}  // namespace longhaul::control

namespace longhaul::control {
namespace {
TEST(ApiChanges, RefuseOutageKeysWhichOnlyTheOutageEndpointChecks) {
  test_support::FakeControlTarget target;
  ControlApi api{target};
  for (const char* body : {R"({"changes": [{"lane": "japan", "outage": "bogus"}]})",
                           R"({"changes": [{"lane": "japan", "outage": 5}]})",
                           R"({"changes": [{"lane": "japan", "rate": "1mbit",
                                            "outage_direction": "sideways"}]})"}) {
    const auto response = api.handle({"POST", "/v1/changes", body});
    EXPECT_EQ(response.status, 400) << body;
    EXPECT_NE(response.body.find("/outage"), std::string::npos) << response.body;
  }
  EXPECT_TRUE(target.posted.empty());
}

TEST(ApiChanges, APatchRefusesOutageKeysToo) {
  test_support::FakeControlTarget target;
  ControlApi api{target};
  for (const char* body : {R"({"outage": 5})", R"({"outage": "bogus"})", R"({"outage": "-5s"})",
                           R"({"rate": "1mbit", "outage_direction": "up"})"}) {
    const auto response = api.handle({"PATCH", "/v1/lanes/japan", body});
    EXPECT_EQ(response.status, 400) << body;
    EXPECT_NE(response.body.find("/outage"), std::string::npos) << response.body;
  }
  EXPECT_TRUE(target.posted.empty());
}

TEST(ApiChanges, AtAndLaneWhereTheyWouldGoUnreadAreRefused) {
  test_support::FakeControlTarget target;
  ControlApi api{target};
  // One change's own "at" would be ignored (the request's instant is shared by every lane).
  auto response =
      api.handle({"POST", "/v1/changes",
                  R"({"changes": [{"lane": "japan", "rate": "75mbit", "at": "+60s"}]})"});
  EXPECT_EQ(response.status, 400);
  EXPECT_NE(response.body.find("inside one change"), std::string::npos) << response.body;
  // Inside a direction, "at" and "lane" would be ignored too.
  for (const char* body : {R"({"up": {"delay": "60ms", "at": "+5s"}})",
                           R"({"down": {"lane": "england", "delay": "60ms"}})"}) {
    response = api.handle({"PATCH", "/v1/lanes/japan", body});
    EXPECT_EQ(response.status, 400) << body;
    EXPECT_NE(response.body.find("inside a direction"), std::string::npos) << response.body;
  }
  EXPECT_TRUE(target.posted.empty());
  // At the top, both are fine.
  response = api.handle({"POST", "/v1/changes",
                         R"({"at": "+1s", "changes": [{"lane": "japan", "rate": "75mbit"}]})"});
  EXPECT_EQ(response.status, 200) << response.body;
}
}  // namespace
}  // namespace longhaul::control

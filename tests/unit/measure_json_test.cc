// The bench JSON document (schema longhaul.bench/1), the configuration as sent
// to the server, and the objects that travel on the control connection.
#include <gtest/gtest.h>

#include "measure/report/bench_json.hh"
#include "measure/transactions/frame_codec.hh"

namespace longhaul::measure {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

StreamInterval Stream(Side side, Direction direction, Nanos start, Nanos end, std::uint64_t bytes,
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
  if (s.role == Role::sender) {
    s.bytes_written = bytes + 10;
    s.rtt_us = 20'123;
    s.snd_cwnd_segments = 10;
    s.snd_mss_bytes = 1448;
    s.snd_cwnd_bytes = 14'480;
    s.snd_wnd_bytes = 65'535;
    s.retransmits = 1;
    ChronoDelta delta;
    delta.interval_us = 1'000'000;
    delta.busy_us = 900'000;
    delta.rwnd_limited_us = 100'000;
    delta.sndbuf_utilization = 0.5;
    s.limited_by = classify_limits(delta);
  } else {
    s.rcv_wnd_bytes = 131'072;
    s.rcv_space_bytes = 14'480;
  }
  return s;
}

BenchResult Sample(bool bidir) {
  BenchResult result;
  result.start.version = "longhaul test";
  result.start.host = "198.18.1.1";
  result.start.port = 5301;
  result.start.config.seed = 42;
  result.start.config.duration = 2s;
  result.start.config.omit = 1s;
  result.start.config.bidir = bidir;
  result.start.config.path_rate_bps = 90'000'000;
  result.start.warnings = {"client SO_SNDBUF: kernel clamped 64 MiB to 4 MiB"};
  for (std::uint32_t i = 0; i < 3; ++i) {
    const Nanos start = std::chrono::seconds(i);
    const Nanos end = start + 1s;
    SideInterval interval{i, start, end, i == 0, {}};
    interval.streams.push_back(
        Stream(Side::client, Direction::upload, start, end, 10'000'000, i == 0));
    interval.streams.push_back(
        Stream(Side::server, Direction::upload, start, end, 11'000'000, i == 0));
    if (bidir) {
      interval.streams.push_back(
          Stream(Side::server, Direction::download, start, end, 5'000'000, i == 0, 2));
      interval.streams.push_back(
          Stream(Side::client, Direction::download, start, end, 5'000'000, i == 0, 2));
    }
    result.intervals.push_back(interval);
  }
  finish_result(result);
  return result;
}

TEST(MeasureJson, DocumentHasSchemaStartIntervalsEnd) {
  const json doc = bench_document(Sample(false));
  EXPECT_EQ(doc["schema"], "longhaul.bench/1");
  EXPECT_EQ(doc["start"]["seed"], 42);
  EXPECT_EQ(doc["start"]["config"]["seed"], 42);
  EXPECT_EQ(doc["start"]["config"]["duration_s"], 2.0);
  EXPECT_EQ(doc["start"]["config"]["omit_ns"], 1'000'000'000);
  EXPECT_EQ(doc["start"]["connecting_to"]["host"], "198.18.1.1");
  EXPECT_EQ(doc["start"]["warnings"].size(), 1U);
  ASSERT_EQ(doc["intervals"].size(), 3U);
  EXPECT_EQ(doc["intervals"][0]["omitted"], true);
  EXPECT_EQ(doc["intervals"][1]["sum_received"]["bytes"], 11'000'000);
  EXPECT_EQ(doc["intervals"][1]["sum_sent"]["bytes"], 10'000'000);
  // The receiver's total, after the omitted second: 22 MB in 2 s.
  EXPECT_DOUBLE_EQ(doc["end"]["sum_received"]["bits_per_second"].get<double>(), 88'000'000.0);
  EXPECT_EQ(doc["end"]["sum_received"]["bytes"], 22'000'000);
  EXPECT_DOUBLE_EQ(doc["end"]["sum_received"]["seconds"].get<double>(), 2.0);
  EXPECT_EQ(doc["end"]["sum_sent"]["retransmits"], 2);
  EXPECT_EQ(doc["end"]["sum_sent"]["limited_by"]["dominant"], "cwnd");
  EXPECT_EQ(doc["end"]["time_to_fill"]["reached"], true);
  EXPECT_DOUBLE_EQ(doc["end"]["time_to_fill"]["seconds"].get<double>(), 1.0);
  EXPECT_EQ(doc["end"]["streams"].size(), 1U);
  EXPECT_FALSE(doc.contains("error"));
  EXPECT_FALSE(doc["end"].contains("sum_received_bidir_reverse"));
}

TEST(MeasureJson, BidirAddsReverseSums) {
  const json doc = bench_document(Sample(true));
  EXPECT_EQ(doc["end"]["sum_received_bidir_reverse"]["bytes"], 10'000'000);
  EXPECT_EQ(doc["intervals"][2]["sum_sent_bidir_reverse"]["bytes"], 5'000'000);
  EXPECT_TRUE(doc["end"].contains("time_to_fill_bidir_reverse"));
  EXPECT_EQ(doc["end"]["streams"].size(), 2U);
  EXPECT_EQ(doc["end"]["streams"][1]["direction"], "download");
}

TEST(MeasureJson, FailedTestCarriesTheErrorAndStillParses) {
  BenchResult result;
  result.error = "connect 198.18.1.1 port 5301: Connection refused";
  finish_result(result);
  const json doc = bench_document(result);
  EXPECT_EQ(doc["error"], "connect 198.18.1.1 port 5301: Connection refused");
  EXPECT_TRUE(doc["end"]["sum_received"].is_null());
  EXPECT_TRUE(doc["end"]["time_to_fill"]["reached"].is_null());
  EXPECT_EQ(json::parse(doc.dump()), doc);
}

TEST(MeasureJson, SideIntervalRoundTrips) {
  const BenchResult result = Sample(true);
  for (const SideInterval& interval : result.intervals) {
    const auto back = side_interval_from_json(json::parse(to_json(interval).dump()));
    ASSERT_TRUE(back) << back.error;
    EXPECT_EQ(*back, interval);
  }
}

TEST(MeasureJson, MalformedIntervalIsAnError) {
  EXPECT_FALSE(side_interval_from_json(json::object()));
  json bad = to_json(Sample(false).intervals[0]);
  bad["streams"][0]["role"] = "spectator";
  const auto parsed = side_interval_from_json(bad);
  EXPECT_FALSE(parsed);
  EXPECT_NE(parsed.error.find("spectator"), std::string::npos) << parsed.error;
}

TEST(MeasureJson, SocketReportRoundTrips) {
  SocketReport report;
  report.side = Side::server;
  report.congestion = "cubic";
  report.sndbuf = {"SO_SNDBUF", "net.core.wmem_max", 67'108'864, 8'388'608, 4'194'304, 4'194'304};
  report.rcvbuf = {"SO_RCVBUF", "net.core.rmem_max", std::nullopt,
                   131'072,     std::nullopt,        33'554'432};
  report.pacing_rate_bps = 50'000'000;
  const json j = to_json(report);
  EXPECT_EQ(j["sndbuf"]["clamped"], true);
  EXPECT_EQ(j["sndbuf"]["granted_bytes"], 4'194'304);
  EXPECT_EQ(j["rcvbuf"]["autotuning"], true);
  const auto back = socket_report_from_json(json::parse(j.dump()));
  ASSERT_TRUE(back) << back.error;
  EXPECT_EQ(*back, report);
}

TEST(MeasureJson, ConfigRoundTripsAndIsValidated) {
  BenchConfig config;
  config.streams = 8;
  config.duration = 30s;
  config.bidir = true;
  config.congestion = "bbr";
  config.sndbuf_bytes = 262'144;
  config.rcvbuf_bytes = 1'048'576;
  config.pacing_rate_bps = 1'000'000'000;
  config.interval = 500ms;
  config.omit = 5s;
  config.path_rate_bps = 10'000'000'000;
  config.seed = 0xfeedfacecafebeefULL;
  const auto back = config_from_json(json::parse(to_json(config).dump()));
  ASSERT_TRUE(back) << back.error;
  EXPECT_EQ(*back, config);

  BenchConfig bytes_mode;
  bytes_mode.bytes = 1'000'000;
  const auto bytes_back = config_from_json(to_json(bytes_mode));
  ASSERT_TRUE(bytes_back) << bytes_back.error;
  EXPECT_EQ(bytes_back->bytes, std::optional<std::uint64_t>(1'000'000));

  json too_many = to_json(config);
  too_many["streams"] = 1000;
  EXPECT_NE(config_from_json(too_many).error.find("-P"), std::string::npos);
  json too_long = to_json(config);
  too_long["duration_ns"] = 7200'000'000'000LL;
  EXPECT_NE(config_from_json(too_long).error.find("-t"), std::string::npos);
  json negative = to_json(config);
  negative["interval_ns"] = -1;
  EXPECT_NE(config_from_json(negative).error.find("interval_ns"), std::string::npos);
  json hostile = to_json(config);
  hostile["congestion"] = "../../etc";
  EXPECT_FALSE(config_from_json(hostile));
  EXPECT_FALSE(config_from_json(json::array()));
}

TEST(MeasureJson, ConfigValidationNamesTheFlag) {
  BenchConfig config;
  config.reverse = true;
  config.bidir = true;
  EXPECT_NE(validate(config).find("--bidir"), std::string::npos);
  config = BenchConfig{};
  config.interval = 10ms;
  EXPECT_NE(validate(config).find("-i/--interval"), std::string::npos);
  config = BenchConfig{};
  config.sndbuf_bytes = 0;
  EXPECT_NE(validate(config).find("--sndbuf"), std::string::npos);
  config = BenchConfig{};
  config.bytes = 3;
  config.streams = 4;
  EXPECT_NE(validate(config).find("-n/--bytes"), std::string::npos);
  EXPECT_EQ(validate(BenchConfig{}), "");
}

TEST(MeasureJson, ConnectionsAndDirections) {
  BenchConfig config;
  config.streams = 3;
  EXPECT_EQ(connection_count(config), 3U);
  EXPECT_EQ(connection_direction(config, 2), Direction::upload);
  config.reverse = true;
  EXPECT_EQ(connection_direction(config, 0), Direction::download);
  config.reverse = false;
  config.bidir = true;
  EXPECT_EQ(connection_count(config), 6U);
  EXPECT_EQ(connection_direction(config, 2), Direction::upload);
  EXPECT_EQ(connection_direction(config, 3), Direction::download);
  EXPECT_EQ(directions(config).size(), 2U);
  config.bytes = 100;
  config.omit = 2s;
  EXPECT_EQ(send_window(config), 2s + kMaxDuration);
}

TEST(MeasureJson, StreamEvent) {
  const json event = stream_event("interval", {{"index", 3}});
  EXPECT_EQ(event.dump(), R"({"data":{"index":3},"event":"interval"})");
}

TEST(MeasureFrameCodec, MessagesSurviveArbitrarySplits) {
  const json a = {{"type", "hello"}, {"n", 1}};
  const json b = {{"type", "interval"}, {"text", std::string(1000, 'x')}};
  const std::string wire = encode_message(a) + encode_message(b);
  EXPECT_EQ(static_cast<unsigned char>(wire[3]), a.dump().size());
  FrameReader reader;
  std::vector<json> got;
  for (const char c : wire) {  // one byte at a time
    reader.feed(std::string_view(&c, 1));
    json message;
    std::string error;
    while (reader.next(message, error) == FrameReader::Status::message) got.push_back(message);
  }
  ASSERT_EQ(got.size(), 2U);
  EXPECT_EQ(got[0], a);
  EXPECT_EQ(got[1], b);
  EXPECT_EQ(reader.buffered(), 0U);
}

TEST(MeasureFrameCodec, OversizedOrGarbledFramesAreErrors) {
  FrameReader oversized;
  oversized.feed(std::string("\x7f\xff\xff\xff", 4));
  json message;
  std::string error;
  EXPECT_EQ(oversized.next(message, error), FrameReader::Status::error);
  EXPECT_NE(error.find("longhaul bench peer"), std::string::npos);
  EXPECT_EQ(oversized.next(message, error), FrameReader::Status::error);  // stays failed

  FrameReader garbled;
  garbled.feed(std::string("\0\0\0\x05hello", 9));
  EXPECT_EQ(garbled.next(message, error), FrameReader::Status::error);

  FrameReader http;  // someone pointed the client at a web server
  http.feed("HTTP/1.1 400 Bad Request\r\n");
  EXPECT_EQ(http.next(message, error), FrameReader::Status::error);

  FrameReader partial;
  partial.feed(std::string("\0\0\0", 3));
  EXPECT_EQ(partial.next(message, error), FrameReader::Status::incomplete);
}

}  // namespace
}  // namespace longhaul::measure

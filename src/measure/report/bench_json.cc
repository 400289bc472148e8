#include "measure/report/bench_json.hh"

#include <cmath>
#include <string>

namespace longhaul::measure {

namespace {

using nlohmann::json;

template <class T>
json optional_json(const std::optional<T>& value) {
  return value ? json(*value) : json(nullptr);
}

Nanos seconds_to_nanos(double seconds) {
  return Nanos{static_cast<Nanos::rep>(std::llround(seconds * 1e9))};
}

// Reads an enum from its name; throws json::type_error-like out_of_range otherwise.
template <class E>
E enum_from(const json& value, E a, std::string_view a_name, E b, std::string_view b_name) {
  const auto text = value.get<std::string>();
  if (text == a_name) return a;
  if (text == b_name) return b;
  throw std::invalid_argument("unknown value '" + text + "'");
}

Limit limit_from(const std::string& name) {
  for (const Limit limit : {Limit::application, Limit::congestion, Limit::receive_window,
                            Limit::send_buffer, Limit::pacing}) {
    if (limit_name(limit) == name) return limit;
  }
  throw std::invalid_argument("unknown limit '" + name + "'");
}

LimitedBy limits_from_json(const json& j) {
  LimitedBy limits;
  limits.dominant = limit_from(j.at("dominant").get<std::string>());
  limits.loss = j.at("loss").get<bool>();
  limits.receive_window = j.at("rwnd_fraction").get<double>();
  limits.send_buffer = j.at("sndbuf_fraction").get<double>();
  limits.congestion = j.at("cwnd_fraction").get<double>();
  limits.application = j.at("application_fraction").get<double>();
  limits.rwnd_utilization = j.at("rwnd_utilization").get<double>();
  if (!j.at("sndbuf_utilization").is_null()) {
    limits.sndbuf_utilization = j["sndbuf_utilization"].get<double>();
  }
  return limits;
}

StreamInterval stream_interval_from_json(const json& j) {
  StreamInterval s;
  s.id = j.at("id").get<std::uint32_t>();
  s.side = enum_from(j.at("side"), Side::client, "client", Side::server, "server");
  s.role = enum_from(j.at("role"), Role::sender, "sender", Role::receiver, "receiver");
  s.direction =
      enum_from(j.at("direction"), Direction::upload, "upload", Direction::download, "download");
  s.start = seconds_to_nanos(j.at("start_s").get<double>());
  s.end = seconds_to_nanos(j.at("end_s").get<double>());
  s.omitted = j.at("omitted").get<bool>();
  s.bytes = j.at("bytes").get<std::uint64_t>();
  s.bits_per_second = j.at("bits_per_second").get<double>();
  if (s.role == Role::sender) {
    s.bytes_written = j.at("bytes_written").get<std::uint64_t>();
    s.rtt_us = j.at("rtt_us").get<std::uint32_t>();
    s.rttvar_us = j.at("rttvar_us").get<std::uint32_t>();
    s.min_rtt_us = j.at("min_rtt_us").get<std::uint32_t>();
    s.snd_mss_bytes = j.at("snd_mss_bytes").get<std::uint32_t>();
    s.snd_cwnd_segments = j.at("snd_cwnd_segments").get<std::uint32_t>();
    s.snd_cwnd_bytes = j.at("snd_cwnd_bytes").get<std::uint64_t>();
    s.snd_wnd_bytes = j.at("snd_wnd_bytes").get<std::uint32_t>();
    s.retransmits = j.at("retransmits").get<std::uint32_t>();
    s.bytes_retransmitted = j.at("bytes_retransmitted").get<std::uint64_t>();
    s.pacing_rate_bps = j.at("pacing_rate_bps").get<std::uint64_t>();
    s.delivery_rate_bps = j.at("delivery_rate_bps").get<std::uint64_t>();
    if (const auto it = j.find("limited_by"); it != j.end() && !it->is_null()) {
      s.limited_by = limits_from_json(*it);
    }
  } else {
    s.rcv_rtt_us = j.at("rcv_rtt_us").get<std::uint32_t>();
    s.rcv_space_bytes = j.at("rcv_space_bytes").get<std::uint32_t>();
    if (const auto it = j.find("rcv_wnd_bytes"); it != j.end() && !it->is_null()) {
      s.rcv_wnd_bytes = it->get<std::uint32_t>();
    }
  }
  return s;
}

BufferReport buffer_from_json(const json& j) {
  BufferReport report;
  report.option = j.at("option").get<std::string>();
  report.limit_sysctl = j.at("limit_sysctl").get<std::string>();
  report.kernel_bytes = j.at("kernel_bytes").get<std::uint64_t>();
  if (!j.at("requested_bytes").is_null())
    report.requested_bytes = j["requested_bytes"].get<std::uint64_t>();
  if (!j.at("limit_bytes").is_null()) report.limit_bytes = j["limit_bytes"].get<std::uint64_t>();
  if (!j.at("autotune_max_bytes").is_null()) {
    report.autotune_max_bytes = j["autotune_max_bytes"].get<std::uint64_t>();
  }
  return report;
}

json sum_json(const IntervalSum& sum) {
  json out = {{"start_s", to_seconds(sum.start)},
              {"end_s", to_seconds(sum.end)},
              {"seconds", to_seconds(sum.end - sum.start)},
              {"omitted", sum.omitted},
              {"streams", sum.streams},
              {"bytes", sum.bytes},
              {"bits_per_second", sum.bits_per_second}};
  if (sum.role == Role::sender) {
    out["retransmits"] = sum.retransmits;
    out["mean_rtt_us"] = sum.mean_rtt_us;
    out["snd_cwnd_bytes"] = sum.snd_cwnd_bytes;
    out["snd_wnd_bytes"] = sum.snd_wnd_bytes;
    out["limited_by"] = sum.limited_by ? to_json(*sum.limited_by) : json(nullptr);
  }
  return out;
}

// Key suffix of a direction in the document: none for the test's own direction.
std::string suffix(const BenchConfig& config, Direction direction) {
  return config.bidir && direction == Direction::download ? "_bidir_reverse" : "";
}

}  // namespace

json to_json(const LimitedBy& limits) {
  return {{"dominant", limit_name(limits.dominant)},
          {"loss", limits.loss},
          {"rwnd_fraction", limits.receive_window},
          {"sndbuf_fraction", limits.send_buffer},
          {"cwnd_fraction", limits.congestion},
          {"application_fraction", limits.application},
          {"rwnd_utilization", limits.rwnd_utilization},
          {"sndbuf_utilization", optional_json(limits.sndbuf_utilization)}};
}

json to_json(const StreamInterval& s) {
  json out = {{"id", s.id},
              {"side", side_name(s.side)},
              {"role", role_name(s.role)},
              {"direction", direction_name(s.direction)},
              {"start_s", to_seconds(s.start)},
              {"end_s", to_seconds(s.end)},
              {"seconds", to_seconds(s.end - s.start)},
              {"omitted", s.omitted},
              {"bytes", s.bytes},
              {"bits_per_second", s.bits_per_second}};
  if (s.role == Role::sender) {
    out["bytes_written"] = s.bytes_written;
    out["rtt_us"] = s.rtt_us;
    out["rttvar_us"] = s.rttvar_us;
    out["min_rtt_us"] = s.min_rtt_us;
    out["snd_mss_bytes"] = s.snd_mss_bytes;
    out["snd_cwnd_segments"] = s.snd_cwnd_segments;
    out["snd_cwnd_bytes"] = s.snd_cwnd_bytes;
    out["snd_wnd_bytes"] = s.snd_wnd_bytes;
    out["retransmits"] = s.retransmits;
    out["bytes_retransmitted"] = s.bytes_retransmitted;
    out["pacing_rate_bps"] = s.pacing_rate_bps;
    out["delivery_rate_bps"] = s.delivery_rate_bps;
    out["limited_by"] = s.limited_by ? to_json(*s.limited_by) : json(nullptr);
  } else {
    out["rcv_rtt_us"] = s.rcv_rtt_us;
    out["rcv_space_bytes"] = s.rcv_space_bytes;
    out["rcv_wnd_bytes"] = optional_json(s.rcv_wnd_bytes);
  }
  return out;
}

json to_json(const SideInterval& interval) {
  json streams = json::array();
  for (const auto& s : interval.streams) streams.push_back(to_json(s));
  return {
      {"index", interval.index},           {"start_s", to_seconds(interval.start)},
      {"end_s", to_seconds(interval.end)}, {"seconds", to_seconds(interval.end - interval.start)},
      {"omitted", interval.omitted},       {"streams", streams}};
}

json to_json(const BufferReport& report) {
  return {{"option", report.option},
          {"requested_bytes", optional_json(report.requested_bytes)},
          {"granted_bytes", report.granted_bytes()},
          {"kernel_bytes", report.kernel_bytes},
          {"clamped", report.clamped()},
          {"autotuning", !report.requested_bytes.has_value()},
          {"limit_sysctl", report.limit_sysctl},
          {"limit_bytes", optional_json(report.limit_bytes)},
          {"autotune_max_bytes", optional_json(report.autotune_max_bytes)},
          {"message", describe(report)}};
}

json to_json(const SocketReport& report) {
  return {{"side", side_name(report.side)},
          {"congestion", report.congestion},
          {"sndbuf", to_json(report.sndbuf)},
          {"rcvbuf", to_json(report.rcvbuf)},
          {"pacing_rate_bps", optional_json(report.pacing_rate_bps)}};
}

json to_json(const Totals& totals) {
  json out = {{"start_s", to_seconds(totals.start)},
              {"end_s", to_seconds(totals.end)},
              {"seconds", to_seconds(totals.end - totals.start)},
              {"bytes", totals.bytes},
              {"bits_per_second", totals.bits_per_second}};
  if (totals.role == Role::sender) {
    out["retransmits"] = totals.retransmits;
    out["mean_rtt_us"] = totals.mean_rtt_us;
    out["mean_snd_wnd_bytes"] = totals.mean_snd_wnd_bytes;
    out["limited_by"] = totals.limited_by ? to_json(*totals.limited_by) : json(nullptr);
  }
  return out;
}

json to_json(const FillTime& fill) {
  json out = {{"path_rate_bps", optional_json(fill.path_rate_bps)},
              {"threshold_fraction", fill.threshold},
              {"best_interval_bits_per_second", fill.best_bits_per_second}};
  if (!fill.path_rate_bps) {
    out["reached"] = nullptr;
    out["seconds"] = nullptr;
    out["note"] = "path rate unknown; give --path-rate";
    return out;
  }
  out["reached"] = fill.reached;
  out["seconds"] = fill.reached ? json(to_seconds(fill.at)) : json(nullptr);
  out["interval_start_s"] = fill.reached ? json(to_seconds(fill.interval_start)) : json(nullptr);
  out["interval_index"] = fill.reached ? json(fill.interval_index) : json(nullptr);
  out["bytes_before"] = fill.reached ? json(fill.bytes_before) : json(nullptr);
  return out;
}

core::Parsed<SideInterval> side_interval_from_json(const json& j) {
  core::Parsed<SideInterval> result;
  try {
    SideInterval interval;
    interval.index = j.at("index").get<std::uint32_t>();
    interval.start = seconds_to_nanos(j.at("start_s").get<double>());
    interval.end = seconds_to_nanos(j.at("end_s").get<double>());
    interval.omitted = j.at("omitted").get<bool>();
    const auto& streams = j.at("streams");
    if (!streams.is_array() || streams.size() > 2 * kMaxStreams) {
      throw std::invalid_argument("bad stream list");
    }
    for (const auto& s : streams) interval.streams.push_back(stream_interval_from_json(s));
    result.value = std::move(interval);
  } catch (const std::exception& error) {
    result.error = std::string("malformed interval: ") + error.what();
  }
  return result;
}

core::Parsed<SocketReport> socket_report_from_json(const json& j) {
  core::Parsed<SocketReport> result;
  try {
    SocketReport report;
    report.side = enum_from(j.at("side"), Side::client, "client", Side::server, "server");
    report.congestion = j.at("congestion").get<std::string>();
    report.sndbuf = buffer_from_json(j.at("sndbuf"));
    report.rcvbuf = buffer_from_json(j.at("rcvbuf"));
    if (!j.at("pacing_rate_bps").is_null()) {
      report.pacing_rate_bps = j["pacing_rate_bps"].get<std::uint64_t>();
    }
    result.value = std::move(report);
  } catch (const std::exception& error) {
    result.error = std::string("malformed socket report: ") + error.what();
  }
  return result;
}

json start_json(const StartInfo& start) {
  json connected = json::array();
  for (const auto& c : start.connections) {
    connected.push_back({{"id", c.id},
                         {"direction", direction_name(c.direction)},
                         {"local_host", c.local_host},
                         {"local_port", c.local_port},
                         {"remote_host", c.remote_host},
                         {"remote_port", c.remote_port}});
  }
  return {{"version", start.version},
          {"connecting_to", {{"host", start.host}, {"port", start.port}}},
          {"timestamp_unix_s", start.timestamp_unix_s},
          {"seed", start.config.seed},
          {"config", to_json(start.config)},
          {"connected", connected},
          {"socket_options",
           {{"client", start.client ? to_json(*start.client) : json(nullptr)},
            {"server", start.server ? to_json(*start.server) : json(nullptr)}}},
          {"warnings", start.warnings}};
}

json interval_json(const SideInterval& interval, const BenchConfig& config) {
  json out = to_json(interval);
  for (const Direction direction : directions(config)) {
    const std::string tail = suffix(config, direction);
    const auto sent = sum_interval(interval.streams, direction, Role::sender);
    const auto received = sum_interval(interval.streams, direction, Role::receiver);
    out["sum_sent" + tail] = sent ? sum_json(*sent) : json(nullptr);
    out["sum_received" + tail] = received ? sum_json(*received) : json(nullptr);
  }
  return out;
}

json end_json(const BenchResult& result) {
  const BenchConfig& config = result.start.config;
  json streams = json::array();
  for (std::uint32_t index = 0; index < connection_count(config); ++index) {
    const std::uint32_t id = index + 1;
    const Direction direction = connection_direction(config, index);
    const auto sent = stream_totals(result.intervals, id, direction, Role::sender);
    const auto received = stream_totals(result.intervals, id, direction, Role::receiver);
    streams.push_back({{"id", id},
                       {"direction", direction_name(direction)},
                       {"sender", sent ? to_json(*sent) : json(nullptr)},
                       {"receiver", received ? to_json(*received) : json(nullptr)}});
  }
  json out = {{"streams", streams}};
  for (const auto& d : result.directions) {
    const std::string tail = suffix(config, d.direction);
    out["sum_sent" + tail] = d.sent ? to_json(*d.sent) : json(nullptr);
    out["sum_received" + tail] = d.received ? to_json(*d.received) : json(nullptr);
    out["time_to_fill" + tail] = to_json(d.fill);
  }
  return out;
}

json bench_document(const BenchResult& result) {
  json intervals = json::array();
  for (const auto& interval : result.intervals) {
    intervals.push_back(interval_json(interval, result.start.config));
  }
  json out = {{"schema", kSchema},
              {"start", start_json(result.start)},
              {"intervals", intervals},
              {"end", end_json(result)}};
  if (result.error) out["error"] = *result.error;
  return out;
}

json stream_event(std::string_view name, json data) {
  return {{"event", name}, {"data", std::move(data)}};
}

}  // namespace longhaul::measure

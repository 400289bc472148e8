#include "measure/transactions/transaction_report.hh"

#include <fmt/format.h>

#include "measure/report/bench_json.hh"

namespace longhaul::measure {

namespace {

nlohmann::json start_common(const StartCommon& start) {
  return {{"version", start.version},
          {"connecting_to", {{"host", start.host}, {"port", start.port}}},
          {"timestamp_unix_s", start.timestamp_unix_s}};
}

std::string size_text(std::uint32_t bytes) {
  return format_size(bytes);
}

std::string bounds_text(const TransactionConfig& config, std::string_view unit) {
  std::string text = fmt::format("{} s", to_seconds(config.duration));
  if (config.count) text += fmt::format(" or {} {}, whichever comes first", *config.count, unit);
  return text;
}

std::string signed_latency(Nanos d) {
  return (d < Nanos{0} ? "-" : "+") + format_latency(d < Nanos{0} ? -d : d);
}

}  // namespace

nlohmann::json to_json(const RrPhase& phase) {
  nlohmann::json out = {{"transactions", phase.transactions},
                        {"seconds", to_seconds(phase.elapsed)},
                        {"transactions_per_second", phase.transactions_per_second()},
                        {"latency", to_json(phase.latency)}};
  if (phase.error) out["error"] = *phase.error;
  return out;
}

nlohmann::json to_json(const SocketCensus& census) {
  return {{"sockets", census.sockets},
          {"time_wait", census.time_wait},
          {"time_wait_to_server", census.time_wait_to_server},
          {"to_server", census.to_server},
          {"ephemeral_ports_in_use", census.ephemeral_ports_in_use}};
}

nlohmann::json to_json(const PortSettings& settings) {
  const auto optional = [](const auto& value) {
    return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
  };
  return {{"ip_local_port_range",
           settings.ports() > 0 ? nlohmann::json::array({*settings.range_low, *settings.range_high})
                                : nlohmann::json(nullptr)},
          {"ephemeral_ports", settings.ports()},
          {"tcp_tw_reuse", optional(settings.tw_reuse)},
          {"tcp_timestamps", optional(settings.timestamps)}};
}

nlohmann::json rr_document(const RrResult& result) {
  nlohmann::json start = start_common(result.start);
  start["config"] = to_json(result.config);
  start["config"]["under_load"] = result.load_config.has_value();
  start["load"] = result.load_config ? to_json(*result.load_config) : nlohmann::json(nullptr);
  start["load_ramp_s"] =
      result.load_config ? nlohmann::json(to_seconds(result.load_ramp)) : nlohmann::json(nullptr);
  nlohmann::json end = {{"alone", to_json(result.alone)},
                        {"under_load", nullptr},
                        {"load", nullptr},
                        {"latency_increase_us", nullptr}};
  if (result.loaded) {
    end["under_load"] = to_json(*result.loaded);
    const auto& a = result.alone.latency;
    const auto& b = result.loaded->latency;
    const auto us = [](Nanos d) { return static_cast<double>(d.count()) / 1000.0; };
    if (a.samples > 0 && b.samples > 0) {
      end["latency_increase_us"] = {{"p50", us(b.p50 - a.p50)},
                                    {"p90", us(b.p90 - a.p90)},
                                    {"p99", us(b.p99 - a.p99)},
                                    {"p99_9", us(b.p999 - a.p999)},
                                    {"max", us(b.max - a.max)}};
    }
  }
  if (result.load && !result.load->directions.empty()) {
    const auto& direction = result.load->directions.front();
    nlohmann::json load = {{"direction", direction_name(direction.direction)},
                           {"streams", result.load->start.config.streams}};
    load["sum_received"] =
        direction.received ? to_json(*direction.received) : nlohmann::json(nullptr);
    load["sum_sent"] = direction.sent ? to_json(*direction.sent) : nlohmann::json(nullptr);
    end["load"] = load;
  }
  nlohmann::json doc = {{"schema", kSchema}, {"kind", "rr"}, {"start", start}, {"end", end}};
  if (result.error) doc["error"] = *result.error;
  return doc;
}

std::string rr_human(const RrResult& result) {
  const auto& c = result.config;
  std::string out =
      fmt::format("longhaul bench rr: {} port {}, request {}, response {}, {} per phase\n",
                  result.start.host, result.start.port, size_text(c.request_bytes),
                  size_text(c.response_bytes), bounds_text(c, "transactions"));
  if (result.load_config) {
    out += fmt::format(
        "under load: {} {} stream{} on the same path, timing from {} s after the load starts\n",
        result.load_config->bidir ? "bidirectional"
                                  : direction_name(directions(*result.load_config).front()),
        result.load_config->streams, result.load_config->streams == 1 ? "" : "s",
        to_seconds(result.load_ramp));
  }
  out += fmt::format("{:<12} {:>12} {:>8} {:>10} {:>10} {:>10} {:>10} {:>10}\n", "", "transactions",
                     "per s", "p50", "p90", "p99", "p99.9", "max");
  const auto row = [&](const char* name, const RrPhase& p) {
    const auto& l = p.latency;
    if (l.samples == 0)
      return fmt::format("{:<12} {:>12} {:>8.1f} {:>10}\n", name, p.transactions,
                         p.transactions_per_second(), "no samples");
    return fmt::format("{:<12} {:>12} {:>8.1f} {:>10} {:>10} {:>10} {:>10} {:>10}\n", name,
                       p.transactions, p.transactions_per_second(), format_latency(l.p50),
                       format_latency(l.p90), format_latency(l.p99), format_latency(l.p999),
                       format_latency(l.max));
  };
  out += row("alone", result.alone);
  if (result.loaded) {
    out += row("under load", *result.loaded);
    const auto& a = result.alone.latency;
    const auto& b = result.loaded->latency;
    if (a.samples > 0 && b.samples > 0) {
      out += fmt::format("{:<12} {:>12} {:>8} {:>10} {:>10} {:>10} {:>10} {:>10}\n", "increase", "",
                         "", signed_latency(b.p50 - a.p50), signed_latency(b.p90 - a.p90),
                         signed_latency(b.p99 - a.p99), signed_latency(b.p999 - a.p999),
                         signed_latency(b.max - a.max));
    }
  }
  if (result.load && !result.load->directions.empty()) {
    const auto& d = result.load->directions.front();
    if (d.received) {
      out +=
          fmt::format("load: {} {} on the path during the timing (receiver), {} retransmits",
                      direction_name(d.direction), core::format_rate(d.received->bits_per_second),
                      d.sent ? d.sent->retransmits : 0);
      if (d.sent && d.sent->mean_rtt_us > 0) {
        out += fmt::format(", the load's own RTT {:.1f} ms", d.sent->mean_rtt_us / 1000.0);
      }
      out += "\n";
    }
  }
  if (result.error) out += "error: " + *result.error + "\n";
  return out;
}

nlohmann::json churn_interval_json(const ChurnInterval& i) {
  return {{"start_s", to_seconds(i.start)},
          {"end_s", to_seconds(i.end)},
          {"started", i.started},
          {"connected", i.connected},
          {"completed", i.completed},
          {"failed", i.failed},
          {"connections_per_second",
           i.end > i.start ? static_cast<double>(i.connected) / to_seconds(i.end - i.start) : 0.0},
          {"sockets", i.census ? to_json(*i.census) : nlohmann::json(nullptr)}};
}

nlohmann::json churn_document(const ChurnResult& result) {
  nlohmann::json start = start_common(result.start);
  start["config"] = to_json(result.config);
  start["client_namespace"] = to_json(result.settings);
  nlohmann::json intervals = nlohmann::json::array();
  for (const auto& i : result.intervals) intervals.push_back(churn_interval_json(i));
  const auto& t = result.totals;
  nlohmann::json end = {{"attempted", t.attempted},
                        {"connections_opened", t.connections_opened},
                        {"connected", t.connected},
                        {"completed", t.completed},
                        {"failed", t.failed},
                        {"failures", t.failures},
                        {"seconds", to_seconds(t.elapsed)},
                        {"connections_per_second", t.connections_per_second},
                        {"transactions_per_second", t.transactions_per_second},
                        {"target_connections_per_second", result.config.rate_per_s},
                        {"connect_latency", to_json(t.connect_latency)},
                        {"transaction_latency", to_json(t.transaction_latency)},
                        {"time_wait_max", t.time_wait_max},
                        {"ephemeral_ports_in_use_max", t.ports_in_use_max},
                        {"first_eaddrnotavail", nullptr}};
  if (result.exhaustion) {
    const auto& e = *result.exhaustion;
    end["first_eaddrnotavail"] = {
        {"attempt", e.attempt},
        {"at_s", to_seconds(e.at)},
        {"connected_before", e.connected_before},
        {"sockets", e.census ? to_json(*e.census) : nlohmann::json(nullptr)},
        {"explanation",
         explain_port_exhaustion(e, result.settings, result.config,
                                 fmt::format("{} port {}", result.start.host, result.start.port))},
        {"fixes", port_exhaustion_fixes(result.settings)}};
  }
  nlohmann::json doc = {{"schema", kSchema},
                        {"kind", "churn"},
                        {"start", start},
                        {"intervals", intervals},
                        {"end", end}};
  if (result.error) doc["error"] = *result.error;
  return doc;
}

std::string churn_human_header(const ChurnResult& result) {
  const auto& c = result.config;
  std::string out = fmt::format(
      "longhaul bench churn: {} port {}, {} at {}/s for {}, request {}, response {}, {}\n",
      result.start.host, result.start.port, c.reuse ? "transactions" : "connections", c.rate_per_s,
      bounds_text(c, c.reuse ? "transactions" : "connections"), size_text(c.request_bytes),
      size_text(c.response_bytes),
      c.reuse ? fmt::format("reusing up to {} kept-alive connections", c.concurrency)
              : fmt::format("a new connection each (at most {} open)", c.concurrency));
  const auto& s = result.settings;
  out += fmt::format(
      "client namespace: net.ipv4.ip_local_port_range {}, net.ipv4.tcp_tw_reuse {}\n",
      s.ports() > 0 ? fmt::format("{} {} ({} ports)", *s.range_low, *s.range_high, s.ports())
                    : "unknown",
      s.tw_reuse ? tw_reuse_meaning(*s.tw_reuse) : "unknown");
  out += fmt::format("{:>15} {:>8} {:>9} {:>9} {:>7} {:>8} {:>9} {:>12}\n", "interval", "started",
                     "connected", "completed", "failed", "conn/s", "TIME_WAIT", "ports in use");
  return out;
}

std::string churn_human_interval(const ChurnInterval& i) {
  const double seconds = to_seconds(i.end - i.start);
  return fmt::format("{:>6.2f}-{:<6.2f} s {:>8} {:>9} {:>9} {:>7} {:>8.1f} {:>9} {:>12}\n",
                     to_seconds(i.start), to_seconds(i.end), i.started, i.connected, i.completed,
                     i.failed, seconds > 0 ? static_cast<double>(i.connected) / seconds : 0.0,
                     i.census ? fmt::format("{}", i.census->time_wait) : "-",
                     i.census ? fmt::format("{}", i.census->ephemeral_ports_in_use) : "-");
}

std::string churn_human_summary(const ChurnResult& result) {
  const auto& t = result.totals;
  std::string out = "- - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - -\n";
  std::string failures;
  for (const auto& [name, n] : t.failures) {
    failures += fmt::format("{}{} {}", failures.empty() ? "" : ", ", name, n);
  }
  out += fmt::format(
      "connections: {} opened, {} established, {} transactions completed, {} failed{} of {} "
      "started in {:.2f} s\n",
      t.connections_opened, t.connected, t.completed, t.failed,
      failures.empty() ? "" : " (" + failures + ")", t.attempted, to_seconds(t.elapsed));
  out +=
      fmt::format("rate: {:.1f} connections/s established, {:.1f} transactions/s (target {}/s)\n",
                  t.connections_per_second, t.transactions_per_second, result.config.rate_per_s);
  out += "connect latency:     " + format_latency_line(t.connect_latency) + "\n";
  out += "transaction latency: " + format_latency_line(t.transaction_latency) + "\n";
  out += fmt::format("TIME_WAIT sockets: at most {}; ephemeral ports in use: at most {}",
                     t.time_wait_max, t.ports_in_use_max);
  if (result.settings.ports() > 0) out += fmt::format(" of {}", result.settings.ports());
  if (!result.intervals.empty() && result.intervals.back().census) {
    out += fmt::format(" ({} in TIME_WAIT at the end)", result.intervals.back().census->time_wait);
  }
  out += "\n";
  if (result.exhaustion) {
    out += "first \"cannot assign requested address\":\n";
    for (const auto& line :
         explain_port_exhaustion(*result.exhaustion, result.settings, result.config,
                                 fmt::format("{} port {}", result.start.host, result.start.port))) {
      out += "  " + line + "\n";
    }
    out += "fixes:\n";
    for (const auto& line : port_exhaustion_fixes(result.settings)) out += "  - " + line + "\n";
  }
  if (result.error) out += "error: " + *result.error + "\n";
  return out;
}

std::vector<nlohmann::json> document_events(const nlohmann::json& document) {
  nlohmann::json start = document.at("start");
  start["schema"] = document.at("schema");
  start["kind"] = document.at("kind");
  std::vector<nlohmann::json> events{stream_event("start", start)};
  if (document.contains("intervals")) {
    for (const auto& interval : document.at("intervals")) {
      events.push_back(stream_event("interval", interval));
    }
  }
  if (document.contains("error")) {
    events.push_back(stream_event("error", {{"message", document.at("error")}}));
  }
  events.push_back(stream_event("end", document.at("end")));
  return events;
}

}  // namespace longhaul::measure

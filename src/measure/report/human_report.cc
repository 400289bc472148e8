#include "measure/report/human_report.hh"

#include <fmt/format.h>

namespace longhaul::measure {

namespace {

std::string seconds_text(Nanos d) {
  const double s = to_seconds(d);
  return s == static_cast<double>(static_cast<long long>(s)) ? fmt::format("{:.0f} s", s)
                                                             : fmt::format("{:g} s", s);
}

std::string role_label(const BenchConfig& config, Direction direction, Role role) {
  if (!config.bidir) return std::string(role_name(role));
  return fmt::format("{} {}", direction == Direction::upload ? "up" : "down", role_name(role));
}

std::string interval_text(Nanos start, Nanos end) {
  return fmt::format("{:6.2f}-{:<6.2f} s", to_seconds(start), to_seconds(end));
}

std::string rtt_text(std::uint32_t rtt_us) {
  if (rtt_us == 0) return "-";
  return fmt::format("{:.1f} ms", rtt_us / 1000.0);
}

std::string line(std::string_view id, Nanos start, Nanos end, const std::string& role,
                 std::uint64_t bytes, double bps, const std::string& rtt, const std::string& cwnd,
                 const std::string& retr, const std::string& tail, bool omitted) {
  std::string text =
      fmt::format("[{:>3}] {} {:<13} {:>12} {:>10} {:>9} {:>9} {:>5}  {}", id,
                  interval_text(start, end), role, core::format_rate(bps),
                  core::format_bytes(static_cast<double>(bytes)), rtt, cwnd, retr, tail);
  if (omitted) text += " (omitted)";
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text + "\n";
}

std::string stream_line(const StreamInterval& s, const BenchConfig& config, bool omitted) {
  const std::string id = fmt::format("{}", s.id);
  const std::string role = role_label(config, s.direction, s.role);
  if (s.role == Role::sender) {
    return line(id, s.start, s.end, role, s.bytes, s.bits_per_second, rtt_text(s.rtt_us),
                core::format_bytes(static_cast<double>(s.snd_cwnd_bytes)),
                fmt::format("{}", s.retransmits), s.limited_by ? format_limits(*s.limited_by) : "",
                omitted);
  }
  const std::string window =
      s.rcv_wnd_bytes
          ? fmt::format("window {}", core::format_bytes(static_cast<double>(*s.rcv_wnd_bytes)))
          : "";
  return line(id, s.start, s.end, role, s.bytes, s.bits_per_second, "-", "-", "-", window, omitted);
}

std::string sum_line(const IntervalSum& sum, const BenchConfig& config) {
  const std::string role = role_label(config, sum.direction, sum.role);
  if (sum.role == Role::sender) {
    return line("SUM", sum.start, sum.end, role, sum.bytes, sum.bits_per_second,
                rtt_text(sum.mean_rtt_us),
                core::format_bytes(static_cast<double>(sum.snd_cwnd_bytes)),
                fmt::format("{}", sum.retransmits),
                sum.limited_by ? format_limits(*sum.limited_by) : "", sum.omitted);
  }
  return line("SUM", sum.start, sum.end, role, sum.bytes, sum.bits_per_second, "-", "-", "-", "",
              sum.omitted);
}

std::string socket_line(const SocketReport& report) {
  std::string text = fmt::format("{}: congestion control {}", side_name(report.side),
                                 report.congestion.empty() ? "unknown" : report.congestion);
  if (report.pacing_rate_bps)
    text +=
        fmt::format(", pacing {}", core::format_rate(static_cast<double>(*report.pacing_rate_bps)));
  text += fmt::format("\n  {}\n  {}\n", describe(report.sndbuf), describe(report.rcvbuf));
  return text;
}

std::string limits_sentence(const LimitedBy& limits) {
  std::string text = fmt::format(
      "{} (sender's time: receive window {:.0f}%, send buffer {:.0f}%, congestion window or "
      "pacing {:.0f}%, application {:.0f}%; delivered per round trip: {:.0f}% of the receive "
      "window",
      limit_description(limits.dominant), limits.receive_window * 100, limits.send_buffer * 100,
      limits.congestion * 100, limits.application * 100, limits.rwnd_utilization * 100);
  if (limits.sndbuf_utilization) {
    text += fmt::format(", {:.0f}% of the send buffer", *limits.sndbuf_utilization * 100);
  }
  text += ")";
  if (limits.loss) text += "; there were losses";
  return text;
}

}  // namespace

std::string describe_test(const BenchConfig& config) {
  std::string text = fmt::format("{} stream{}", config.streams, config.streams == 1 ? "" : "s");
  if (config.bidir) {
    text += " each way, bidirectional";
  } else if (config.reverse) {
    text += ", download (server sends)";
  } else {
    text += ", upload (client sends)";
  }
  if (config.bytes) {
    text += fmt::format(", {} bytes", *config.bytes);
  } else {
    text += fmt::format(", {}", seconds_text(config.duration));
  }
  if (config.omit > Nanos{0}) text += fmt::format(" after {} omitted", seconds_text(config.omit));
  return text;
}

std::string human_header(const StartInfo& start) {
  std::string text = fmt::format("longhaul bench: {} port {}, {}, seed {}\n", start.host,
                                 start.port, describe_test(start.config), start.config.seed);
  if (start.client) text += socket_line(*start.client);
  if (start.server) text += socket_line(*start.server);
  for (const auto& warning : start.warnings) text += fmt::format("warning: {}\n", warning);
  return text;
}

std::string human_server_header(const StartInfo& start) {
  std::string text =
      fmt::format("longhaul bench server: test from {} port {}: {}, seed {}\n", start.host,
                  start.port, describe_test(start.config), start.config.seed);
  if (start.server) text += socket_line(*start.server);
  for (const auto& warning : start.warnings) text += fmt::format("warning: {}\n", warning);
  return text;
}

std::string human_columns() {
  return fmt::format("[{:>3}] {:<15} {:<13} {:>12} {:>10} {:>9} {:>9} {:>5}  {}\n", "ID",
                     "Interval", "Role", "Goodput", "Transfer", "RTT", "cwnd", "Retr",
                     "Limited by");
}

std::string human_interval(const SideInterval& interval, const BenchConfig& config,
                           bool per_stream) {
  std::string text;
  const bool show_streams = per_stream || config.streams == 1;
  for (const Direction direction : directions(config)) {
    for (const Role role : {Role::sender, Role::receiver}) {
      if (show_streams) {
        for (const auto& s : interval.streams) {
          if (s.direction == direction && s.role == role)
            text += stream_line(s, config, interval.omitted);
        }
      }
      if (config.streams > 1) {
        if (const auto sum = sum_interval(interval.streams, direction, role)) {
          text += sum_line(*sum, config);
        }
      }
    }
  }
  return text;
}

std::string human_summary(const BenchResult& result) {
  const BenchConfig& config = result.start.config;
  std::string text = "- - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - -\n";
  for (const auto& d : result.directions) {
    for (const auto* totals : {&d.sent, &d.received}) {
      if (!*totals) continue;
      const Totals& t = **totals;
      const std::string role = role_label(config, d.direction, t.role);
      if (t.role == Role::sender) {
        text += line("SUM", t.start, t.end, role, t.bytes, t.bits_per_second,
                     rtt_text(t.mean_rtt_us), "", fmt::format("{}", t.retransmits),
                     t.limited_by ? format_limits(*t.limited_by) : "", false);
      } else {
        text +=
            line("SUM", t.start, t.end, role, t.bytes, t.bits_per_second, "", "", "", "", false);
      }
    }
    const std::string which = config.bidir ? fmt::format(" ({})", direction_name(d.direction)) : "";
    if (!d.fill.path_rate_bps) {
      text += fmt::format("time to fill the pipe{}: unknown (give --path-rate)\n", which);
    } else if (d.fill.reached) {
      text += fmt::format(
          "time to fill the pipe{}: {:.2f} s (first interval at >= {:.0f}% of {}; {} delivered by "
          "then)\n",
          which, to_seconds(d.fill.at), d.fill.threshold * 100,
          core::format_rate(static_cast<double>(*d.fill.path_rate_bps)),
          core::format_bytes(static_cast<double>(d.fill.bytes_before)));
    } else {
      text += fmt::format(
          "time to fill the pipe{}: not reached (no interval at >= {:.0f}% of {}; best {})\n",
          which, d.fill.threshold * 100,
          core::format_rate(static_cast<double>(*d.fill.path_rate_bps)),
          core::format_rate(d.fill.best_bits_per_second));
    }
    if (d.sent && d.sent->limited_by) {
      text += fmt::format("limited by{}: {}\n", which, limits_sentence(*d.sent->limited_by));
    }
  }
  if (result.error) text += fmt::format("error: {}\n", *result.error);
  return text;
}

}  // namespace longhaul::measure

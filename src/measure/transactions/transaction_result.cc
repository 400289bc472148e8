#include "measure/transactions/transaction_result.hh"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>

namespace longhaul::measure {

double RrPhase::transactions_per_second() const {
  const double s = to_seconds(elapsed);
  return s > 0 ? static_cast<double>(transactions) / s : 0;
}

std::uint32_t PortSettings::ports() const {
  if (!range_low || !range_high || *range_high < *range_low) return 0;
  return static_cast<std::uint32_t>(*range_high - *range_low) + 1;
}

bool parse_port_range(std::string_view text, std::uint16_t& low, std::uint16_t& high) {
  unsigned values[2] = {};
  const char* p = text.data();
  const char* end = text.data() + text.size();
  for (unsigned& value : values) {
    while (p < end && (*p == ' ' || *p == '\t')) ++p;
    const auto [next, error] = std::from_chars(p, end, value);
    if (error != std::errc() || value > 0xffff) return false;
    p = next;
  }
  low = static_cast<std::uint16_t>(values[0]);
  high = static_cast<std::uint16_t>(values[1]);
  return low <= high;
}

std::string tw_reuse_meaning(int value) {
  switch (value) {
    case 0:
      return "0 (off)";
    case 1:
      return "1 (on for outgoing connections)";
    case 2:
      return "2 (loopback only)";
    default:
      return fmt::format("{}", value);
  }
}

void ChurnTally::started(Nanos at, bool new_connection) {
  ++current_.started;
  ++totals_.attempted;
  if (new_connection) ++totals_.connections_opened;
  last_event_ = std::max(last_event_, at);
}

void ChurnTally::connected(Nanos at, Nanos latency) {
  ++current_.connected;
  ++totals_.connected;
  connect_samples_.push_back(latency);
  last_event_ = std::max(last_event_, at);
}

void ChurnTally::completed(Nanos at, Nanos latency) {
  ++current_.completed;
  ++totals_.completed;
  transaction_samples_.push_back(latency);
  last_event_ = std::max(last_event_, at);
}

void ChurnTally::failed(Nanos at, int err, std::uint64_t attempt) {
  ++current_.failed;
  ++totals_.failed;
  ++totals_.failures[errno_name(err)];
  last_event_ = std::max(last_event_, at);
  if (err == EADDRNOTAVAIL && !exhaustion_) {
    exhaustion_ = PortExhaustion{attempt, at, totals_.connected, std::nullopt};
  }
}

void ChurnTally::set_exhaustion_census(const SocketCensus& census) {
  if (exhaustion_) exhaustion_->census = census;
  totals_.time_wait_max = std::max(totals_.time_wait_max, census.time_wait);
  totals_.ports_in_use_max = std::max(totals_.ports_in_use_max, census.ephemeral_ports_in_use);
}

ChurnInterval ChurnTally::close_interval(Nanos now, std::optional<SocketCensus> census) {
  ChurnInterval out = current_;
  out.start = interval_start_;
  out.end = std::max(now, interval_start_);
  out.census = census;
  if (census) {
    totals_.time_wait_max = std::max(totals_.time_wait_max, census->time_wait);
    totals_.ports_in_use_max = std::max(totals_.ports_in_use_max, census->ephemeral_ports_in_use);
  }
  intervals_.push_back(out);
  current_ = {};
  interval_start_ = out.end;
  // The next boundary is the first multiple of the interval after now (a late poll
  // does not produce a run of empty intervals).
  while (next_boundary_ <= out.end) next_boundary_ += interval_;
  return out;
}

ChurnTotals ChurnTally::totals() {
  ChurnTotals out = totals_;
  out.elapsed = last_event_;
  const double s = to_seconds(last_event_);
  out.connections_per_second = s > 0 ? static_cast<double>(out.connected) / s : 0;
  out.transactions_per_second = s > 0 ? static_cast<double>(out.completed) / s : 0;
  out.connect_latency = summarize_latencies(connect_samples_);
  out.transaction_latency = summarize_latencies(transaction_samples_);
  return out;
}

std::string errno_name(int err) {
  if (const char* name = ::strerrorname_np(err)) return name;
  return fmt::format("errno {}", err);
}

namespace {

// "200", "0.83": a per-second figure with the precision it deserves.
std::string per_second(double per_s) {
  return per_s >= 10 ? fmt::format("{:.0f}", per_s) : fmt::format("{:.2g}", per_s);
}

}  // namespace

std::vector<std::string> explain_port_exhaustion(const PortExhaustion& exhaustion,
                                                 const PortSettings& settings,
                                                 const TransactionConfig& config,
                                                 const std::string& server) {
  std::vector<std::string> lines;
  const std::uint32_t ports = settings.ports();
  const std::string range = ports > 0
                                ? fmt::format("net.ipv4.ip_local_port_range {}-{} ({} ports)",
                                              *settings.range_low, *settings.range_high, ports)
                                : std::string("net.ipv4.ip_local_port_range (unreadable)");
  std::string held = "every local port of " + range;
  if (exhaustion.census) {
    held +=
        fmt::format(" was taken: {} sockets toward {}, {} of them in TIME_WAIT",
                    exhaustion.census->to_server, server, exhaustion.census->time_wait_to_server);
  } else {
    held += fmt::format(" was taken by a socket toward {}", server);
  }
  lines.push_back(fmt::format(
      "connect() failed with EADDRNOTAVAIL (\"cannot assign requested address\") on attempt {} "
      "at {:.2f} s, after {} connections: {}.",
      exhaustion.attempt, to_seconds(exhaustion.at), exhaustion.connected_before, held));
  lines.push_back(
      "Cause: the side that closes a TCP connection first keeps it in TIME_WAIT for 60 s "
      "(TCP_TIMEWAIT_LEN, fixed in Linux), and while it does, its local port cannot be used "
      "again toward the same remote address and port. Here the client closes first.");
  if (ports > 0) {
    const double sustainable = ports / to_seconds(kTimeWait);
    std::string line = fmt::format(
        "Arithmetic: one client address toward one server address and port sustains at most "
        "{} ports / 60 s = {} new connections/s",
        ports, per_second(sustainable));
    if (!config.reuse && config.rate_per_s > sustainable) {
      line += fmt::format("; at {}/s the range lasts about {:.2g} s", per_second(config.rate_per_s),
                          ports / config.rate_per_s);
    }
    lines.push_back(line + ".");
  }
  if (settings.tw_reuse) {
    if (*settings.tw_reuse == 1) {
      lines.push_back(fmt::format(
          "net.ipv4.tcp_tw_reuse = 1: connect() may take a TIME_WAIT port once its last "
          "timestamp is 1 s old, so the ceiling is about {} ports / 1 s = {} new connections/s (it "
          "needs "
          "net.ipv4.tcp_timestamps=1{}).",
          ports, per_second(ports),
          settings.timestamps ? fmt::format(", now {}", *settings.timestamps) : ""));
    } else {
      lines.push_back(fmt::format("net.ipv4.tcp_tw_reuse = {}: TIME_WAIT ports are {}.",
                                  tw_reuse_meaning(*settings.tw_reuse),
                                  *settings.tw_reuse == 2 ? "reused only for loopback traffic, not "
                                                            "on this path"
                                                          : "never reused"));
    }
  }
  return lines;
}

std::vector<std::string> port_exhaustion_fixes(const PortSettings& settings) {
  std::vector<std::string> fixes;
  fixes.push_back(
      "Reuse connections: HTTP keep-alive or a connection pool sized to the concurrency; "
      "`longhaul bench churn --reuse` runs the same load over a pool.");
  if (settings.tw_reuse.value_or(0) != 1) {
    fixes.push_back(fmt::format(
        "sysctl -w net.ipv4.tcp_tw_reuse=1 (now {}): outgoing connections may reuse a TIME_WAIT "
        "port after 1 s (safe with TCP timestamps, the default). It is per network namespace.",
        settings.tw_reuse ? tw_reuse_meaning(*settings.tw_reuse) : "unknown"));
  }
  fixes.push_back(fmt::format(
      "Widen the ephemeral range: sysctl -w net.ipv4.ip_local_port_range=\"1024 65535\" (now "
      "{}) gives 64512 ports, 1075 new connections/s per destination without reuse; keep "
      "listening ports out of it with net.ipv4.ip_local_reserved_ports.",
      settings.ports() > 0 ? fmt::format("{} {}, {} ports", *settings.range_low,
                                         *settings.range_high, settings.ports())
                           : "unknown"));
  fixes.push_back(
      "Spread over more destinations: every remote address and port has its own set of local "
      "ports (more server addresses or ports), or bind more source addresses with "
      "IP_BIND_ADDRESS_NO_PORT.");
  fixes.push_back(
      "Not net.ipv4.tcp_tw_recycle (removed in Linux 4.12; it broke clients behind NAT), and "
      "not SO_LINGER with a zero timeout (it resets connections instead of closing them).");
  return fixes;
}

}  // namespace longhaul::measure

#pragma once
// `longhaul bench churn`: many short connections (connect, one request, the
// response, close) at a target rate, or the same transactions over a pool of
// kept-alive connections (--reuse); counts TIME_WAIT sockets and ephemeral
// ports in the client's namespace and catches the first EADDRNOTAVAIL.
//
// One thread, non-blocking sockets and epoll: arrivals follow the target rate
// (open loop: the k-th starts at k / rate) as long as fewer than --concurrency
// connections are open; beyond that they wait, and the achieved rate shows it.
#include <functional>
#include <string>

#include "measure/report/progress.hh"
#include "measure/transactions/transaction_result.hh"

namespace longhaul::measure {

struct ChurnOptions {
  std::string host;
  std::uint16_t port = kDefaultPort;
  TransactionConfig config;  ///< kind churn
  std::string version = "longhaul";
  Nanos connect_timeout = std::chrono::seconds(10);
  int interrupt_fd = -1;
};

/// Called for each interval as it ends, and for progress (may be empty).
struct ChurnCallbacks {
  std::function<void(const ChurnInterval&)> on_interval;
  std::function<void(const ProgressState&)> on_progress;
};

/// The client namespace's ip_local_port_range, tcp_tw_reuse and tcp_timestamps.
PortSettings read_port_settings();

/// Runs one test. Never throws for a failed test: the result carries `error`.
ChurnResult run_churn(const ChurnOptions& options, const ChurnCallbacks& callbacks);

}  // namespace longhaul::measure

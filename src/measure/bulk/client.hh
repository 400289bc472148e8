#pragma once
// `longhaul bench client`: agree a test with a server over the control
// connection, open the data connections, run and sample this side, merge the
// server's intervals with ours and compute the totals.
#include <cstdint>
#include <string>

#include "measure/bench_config.hh"
#include "measure/bench_result.hh"
#include "measure/report/reporter.hh"
#include "measure/transactions/transaction_config.hh"

namespace longhaul::measure {

struct ClientOptions {
  std::string host;
  std::uint16_t port = kDefaultPort;
  BenchConfig config;
  std::string version = "longhaul";
  Nanos connect_timeout = std::chrono::seconds(10);
  /// Readable when the test should stop early (a SignalWatch); -1 for none.
  int interrupt_fd = -1;
  /// Times request/response transactions on one more connection while the streams run,
  /// from `probe_delay` after the start (the load's ramp) for the probe's -t or count,
  /// within the streams' send window. The result is BenchResult::probe.
  std::optional<TransactionConfig> probe;
  Nanos probe_delay{0};
};

/// Runs one test. Never throws for a failed test: the result carries `error` and
/// whatever was measured, and the observer sees on_finish either way.
BenchResult run_client(const ClientOptions& options, BenchObserver& observer);

}  // namespace longhaul::measure

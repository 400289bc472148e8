#pragma once
// `longhaul bench rr`: small requests and responses back to back over one
// connection, timed one by one; with a load, the same again while a bulk test
// (the ordinary client streams) fills the same path, so the report shows
// latency alone and under load side by side (bufferbloat).
#include <functional>
#include <optional>
#include <string>

#include "measure/bench_result.hh"
#include "measure/report/progress.hh"
#include "measure/transactions/transaction_result.hh"

namespace longhaul::measure {

struct RrOptions {
  std::string host;
  std::uint16_t port = kDefaultPort;
  TransactionConfig config;  ///< kind rr
  /// --under-load: the bulk test that loads the path during the second phase. Its
  /// duration is the ramp plus the phase's -t plus a second of margin.
  std::optional<BenchConfig> load;
  Nanos load_ramp = std::chrono::seconds(2);  ///< the load runs this long before timing starts
  std::string version = "longhaul";
  Nanos connect_timeout = std::chrono::seconds(10);
  int interrupt_fd = -1;
};

struct RrResult {
  StartCommon start;
  TransactionConfig config;
  std::optional<BenchConfig> load_config;
  Nanos load_ramp{0};
  RrPhase alone;
  std::optional<RrPhase> loaded;
  std::optional<BenchResult> load;  ///< the bulk test's own result
  std::optional<std::string> error;
};

/// The bulk test that loads the path for `options` (duration: ramp + -t + 1 s).
BenchConfig load_config_for(const RrOptions& options);

/// Runs the phases. Never throws for a failed test: the result carries `error`.
RrResult run_rr(const RrOptions& options,
                const std::function<void(const ProgressState&)>& progress);

}  // namespace longhaul::measure

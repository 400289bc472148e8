#pragma once
// The results of a bench test as data: what was asked and granted at the start,
// every interval from both sides, and the totals. Reporters (human, JSON, JSON
// stream) and later consumers (sweeps, plots) read these; nothing here does I/O.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "measure/bench_config.hh"
#include "measure/bulk/fill_time.hh"
#include "measure/bulk/interval_stats.hh"
#include "measure/transactions/transaction_result.hh"

namespace longhaul::measure {

/// A socket buffer as requested and as granted. Linux stores twice the
/// requested size (half is for its bookkeeping) and getsockopt returns that
/// doubled value; it first clamps the request to net.core.{w,r}mem_max. A size
/// set by the application also turns off the kernel's buffer autotuning.
struct BufferReport {
  std::string option;                               ///< "SO_SNDBUF" or "SO_RCVBUF"
  std::string limit_sysctl;                         ///< "net.core.wmem_max" or "net.core.rmem_max"
  std::optional<std::uint64_t> requested_bytes;     ///< empty: not set, autotuning
  std::uint64_t kernel_bytes = 0;                   ///< what getsockopt returned
  std::optional<std::uint64_t> limit_bytes;         ///< the sysctl's value, when readable
  std::optional<std::uint64_t> autotune_max_bytes;  ///< tcp_wmem / tcp_rmem maximum

  /// The usable size in the units of the request: half of what the kernel stores.
  std::uint64_t granted_bytes() const { return kernel_bytes / 2; }
  /// True when the kernel granted less than was requested.
  bool clamped() const { return requested_bytes && granted_bytes() < *requested_bytes; }

  friend bool operator==(const BufferReport&, const BufferReport&) = default;
};

/// A sentence for people: "SO_SNDBUF: kernel clamped 64 MiB to 4 MiB
/// (net.core.wmem_max=4194304); setting a size disables autotuning".
std::string describe(const BufferReport& report);
/// Binary size for buffers: "256 KiB", "4 MiB", "1.5 MiB", "1000 B".
std::string format_size(std::uint64_t bytes);

/// Socket settings of one side's data connections (they are all set alike).
struct SocketReport {
  Side side = Side::client;
  std::string congestion;  ///< in effect (TCP_CONGESTION read back)
  BufferReport sndbuf;
  BufferReport rcvbuf;
  std::optional<std::uint64_t> pacing_rate_bps;  ///< SO_MAX_PACING_RATE, when set

  friend bool operator==(const SocketReport&, const SocketReport&) = default;
};

/// One data connection's addresses, from the client's point of view.
struct ConnectionInfo {
  std::uint32_t id = 1;
  Direction direction = Direction::upload;
  std::string local_host;
  std::uint16_t local_port = 0;
  std::string remote_host;
  std::uint16_t remote_port = 0;

  friend bool operator==(const ConnectionInfo&, const ConnectionInfo&) = default;
};

struct StartInfo {
  std::string version;  ///< "longhaul 0.1.0"
  std::string host;     ///< as given to the client
  std::uint16_t port = 0;
  std::int64_t timestamp_unix_s = 0;  ///< wall clock, for display only
  BenchConfig config;
  std::vector<ConnectionInfo> connections;
  std::optional<SocketReport> client;
  std::optional<SocketReport> server;
  std::vector<std::string> warnings;  ///< buffer clamps, autotuning off, ...
};

/// Totals and time to fill of one direction.
struct DirectionResult {
  Direction direction = Direction::upload;
  std::optional<Totals> sent;      ///< the sending side's view (acknowledged bytes)
  std::optional<Totals> received;  ///< the receiving side's view (bytes read)
  FillTime fill;
};

struct BenchResult {
  StartInfo start;
  std::vector<SideInterval> intervals;  ///< both sides merged by interval index
  std::vector<DirectionResult> directions;
  std::optional<std::string> error;  ///< set when the test failed or was interrupted
  /// Transactions timed on a connection of their own while the streams ran (`bench rr
  /// --under-load` runs a bulk test with a probe).
  std::optional<RrPhase> probe;
};

/// Computes `directions` (totals, time to fill) from `start.config` and `intervals`.
void finish_result(BenchResult& result);

/// Totals of one stream (by id) in one role, from its non-omitted intervals.
std::optional<Totals> stream_totals(std::span<const SideInterval> intervals, std::uint32_t id,
                                    Direction direction, Role role);

}  // namespace longhaul::measure

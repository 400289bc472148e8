#pragma once
// Results of request/response (`bench rr`) and connection churn (`bench churn`)
// tests as data, and the pure accounting behind them: counters per interval,
// latency samples, and the first "cannot assign requested address" with the
// arithmetic that explains it. Reporters and tests read these; no I/O here.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "measure/transactions/latency_stats.hh"
#include "measure/transactions/socket_census.hh"
#include "measure/transactions/transaction_config.hh"

namespace longhaul::measure {

/// Linux keeps a closed connection in TIME_WAIT for TCP_TIMEWAIT_LEN, fixed at 60 s.
inline constexpr Nanos kTimeWait = std::chrono::seconds(60);
/// tcp_tw_reuse lets connect() take a TIME_WAIT port once its last timestamp is 1 s old.
inline constexpr Nanos kTwReuseAge = std::chrono::seconds(1);

/// One series of transactions on one connection (rr, alone or under load).
struct RrPhase {
  std::uint64_t transactions = 0;
  Nanos elapsed{0};
  LatencySummary latency;
  std::optional<std::string> error;

  double transactions_per_second() const;
};

/// The client namespace's settings that bound outgoing connections.
struct PortSettings {
  std::optional<std::uint16_t> range_low, range_high;  ///< net.ipv4.ip_local_port_range
  std::optional<int> tw_reuse;                         ///< net.ipv4.tcp_tw_reuse
  std::optional<int> timestamps;                       ///< net.ipv4.tcp_timestamps

  /// Ports in the range (0 when unknown).
  std::uint32_t ports() const;
};

/// Parses "32768\t60999" as ip_local_port_range prints it.
bool parse_port_range(std::string_view text, std::uint16_t& low, std::uint16_t& high);
/// What a tcp_tw_reuse value means: "0 (off)", "1 (on for outgoing connections)",
/// "2 (loopback only)".
std::string tw_reuse_meaning(int value);

struct ChurnInterval {
  Nanos start{0}, end{0};
  std::uint64_t started = 0;           ///< transactions started (new connections or reused ones)
  std::uint64_t connected = 0;         ///< connections established
  std::uint64_t completed = 0;         ///< transactions answered in full
  std::uint64_t failed = 0;            ///< connection attempts or transactions that failed
  std::optional<SocketCensus> census;  ///< the namespace's sockets at the interval's end
};

/// The first connect() that failed with EADDRNOTAVAIL.
struct PortExhaustion {
  std::uint64_t attempt = 0;  ///< 1-based number of the connection attempt
  Nanos at{0};                ///< since the test started
  std::uint64_t connected_before = 0;
  std::optional<SocketCensus> census;  ///< taken right after the failure
};

struct ChurnTotals {
  std::uint64_t attempted = 0;           ///< transactions started
  std::uint64_t connections_opened = 0;  ///< connect() calls
  std::uint64_t connected = 0;
  std::uint64_t completed = 0;
  std::uint64_t failed = 0;
  std::map<std::string, std::uint64_t> failures;  ///< by error name ("EADDRNOTAVAIL")
  Nanos elapsed{0};                    ///< from the start to the last transaction's end or failure
  double connections_per_second = 0;   ///< established per second
  double transactions_per_second = 0;  ///< completed per second
  LatencySummary connect_latency;      ///< connect() to established (SYN to SYN-ACK)
  LatencySummary transaction_latency;  ///< request written to response read
  std::uint64_t time_wait_max = 0;
  std::uint64_t ports_in_use_max = 0;
};

/// Counts a churn test's events as they happen; the client feeds it, tests drive it by hand.
class ChurnTally {
 public:
  explicit ChurnTally(Nanos interval) : interval_(interval), next_boundary_(interval) {}

  void started(Nanos at, bool new_connection);
  void connected(Nanos at, Nanos latency);
  void completed(Nanos at, Nanos latency);
  /// A failure with errno `err` of attempt number `attempt` (1-based).
  void failed(Nanos at, int err, std::uint64_t attempt);
  /// Attaches the census taken right after the first EADDRNOTAVAIL.
  void set_exhaustion_census(const SocketCensus& census);
  bool exhaustion_needs_census() const { return exhaustion_ && !exhaustion_->census; }

  /// When the current interval ends (since the start).
  Nanos next_boundary() const { return next_boundary_; }
  /// Closes the interval at `now` (the boundary, or earlier for the last one).
  ChurnInterval close_interval(Nanos now, std::optional<SocketCensus> census);
  const std::vector<ChurnInterval>& intervals() const { return intervals_; }
  const std::optional<PortExhaustion>& exhaustion() const { return exhaustion_; }
  /// The totals so far (sorts the latency samples).
  ChurnTotals totals();

 private:
  Nanos interval_;
  Nanos next_boundary_;
  Nanos interval_start_{0};
  Nanos last_event_{0};
  ChurnInterval current_;
  std::vector<ChurnInterval> intervals_;
  ChurnTotals totals_;
  std::vector<Nanos> connect_samples_, transaction_samples_;
  std::optional<PortExhaustion> exhaustion_;
};

/// Name of an errno value for reports ("EADDRNOTAVAIL").
std::string errno_name(int err);

/// Why the first EADDRNOTAVAIL happened, in sentences (ports × TIME_WAIT arithmetic
/// with the namespace's real settings).
std::vector<std::string> explain_port_exhaustion(const PortExhaustion& exhaustion,
                                                 const PortSettings& settings,
                                                 const TransactionConfig& config,
                                                 const std::string& server);
/// What to do about it, most effective first, with the values in effect.
std::vector<std::string> port_exhaustion_fixes(const PortSettings& settings);

struct StartCommon {
  std::string version;
  std::string host;
  std::uint16_t port = 0;
  std::int64_t timestamp_unix_s = 0;
};

struct ChurnResult {
  StartCommon start;
  TransactionConfig config;
  PortSettings settings;
  std::vector<ChurnInterval> intervals;
  ChurnTotals totals;
  std::optional<PortExhaustion> exhaustion;
  std::optional<std::string> error;
};

}  // namespace longhaul::measure

#pragma once
// What a request/response (`bench rr`) or connection churn (`bench churn`) test
// does. The client builds it from flags and sends it in its control hello; the
// server checks it against the same bounds, because it sizes what the server
// answers and how long the server waits.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string_view>

#include "core/units.hh"
#include "measure/bench_config.hh"

namespace longhaul::measure {

/// rr: one connection, many transactions back to back. churn: a new connection per
/// transaction at a target rate (or a pool of reused ones with --reuse).
enum class TransactionKind { rr, churn };

std::string_view kind_name(TransactionKind kind);

/// Bounds every transaction test obeys (both sides check them).
inline constexpr std::uint32_t kMaxMessageSize = 1U << 20;  ///< request or response: 1 MiB
/// Every latency is kept for exact percentiles: 10^6 of them is 8 MB per series.
inline constexpr std::uint64_t kMaxTransactions = 1'000'000;
inline constexpr double kMaxConnectionRate = 100'000;  ///< churn arrivals per second
inline constexpr double kMinConnectionRate = 0.1;
inline constexpr std::uint32_t kMaxConcurrency = 4096;

struct TransactionConfig {
  TransactionKind kind = TransactionKind::rr;
  std::uint32_t request_bytes = 64;   ///< --request-size
  std::uint32_t response_bytes = 64;  ///< --response-size
  /// -n/--count: transactions (rr) or connections (churn) at most; the time bound holds too.
  std::optional<std::uint64_t> count;
  Nanos duration = std::chrono::seconds(10);  ///< -t: how long transactions are started
  double rate_per_s = 100;                    ///< churn: --rate-connections, arrivals per second
  bool reuse = false;                         ///< churn: --reuse, keep-alive connections
  std::uint32_t concurrency = 100;            ///< churn: at most this many connections open
  Nanos interval = std::chrono::seconds(1);   ///< churn: sampling interval

  friend bool operator==(const TransactionConfig&, const TransactionConfig&) = default;
};

/// How many transactions the test starts at most: --count, else (churn) rate × duration,
/// else (rr) kMaxTransactions.
std::uint64_t planned_transactions(const TransactionConfig& config);

/// Empty when within bounds, else a sentence naming the flag.
std::string validate(const TransactionConfig& config);

/// As sent in the control hello and reported (units in key names).
nlohmann::json to_json(const TransactionConfig& config);
/// Parses and validates what to_json wrote; the error names the key.
core::Parsed<TransactionConfig> transaction_config_from_json(const nlohmann::json& json);

}  // namespace longhaul::measure

#include "measure/transactions/transaction_config.hh"

#include <fmt/format.h>

#include <cmath>

namespace longhaul::measure {

std::string_view kind_name(TransactionKind kind) {
  return kind == TransactionKind::rr ? "rr" : "churn";
}

std::uint64_t planned_transactions(const TransactionConfig& config) {
  if (config.count) return *config.count;
  if (config.kind == TransactionKind::churn) {
    return static_cast<std::uint64_t>(std::ceil(config.rate_per_s * to_seconds(config.duration)));
  }
  return kMaxTransactions;
}

std::string validate(const TransactionConfig& config) {
  for (const auto& [flag, size] : {std::pair{"--request-size", config.request_bytes},
                                   std::pair{"--response-size", config.response_bytes}}) {
    if (size < 1 || size > kMaxMessageSize) {
      return fmt::format("{}: {} bytes; use 1 byte to {} bytes (1 MiB)", flag, size,
                         kMaxMessageSize);
    }
  }
  if (config.duration <= Nanos{0} || config.duration > kMaxDuration) {
    return fmt::format("-t/--time: {}; use more than 0 s and at most {}",
                       core::format_duration(config.duration), core::format_duration(kMaxDuration));
  }
  if (config.count && (*config.count < 1 || *config.count > kMaxTransactions)) {
    return fmt::format("-n/--count: {}; use 1 to {}", *config.count, kMaxTransactions);
  }
  if (config.kind == TransactionKind::churn) {
    if (!(config.rate_per_s >= kMinConnectionRate && config.rate_per_s <= kMaxConnectionRate)) {
      return fmt::format("--rate-connections: {}/s; use {}/s to {}/s", config.rate_per_s,
                         kMinConnectionRate, kMaxConnectionRate);
    }
    if (config.concurrency < 1 || config.concurrency > kMaxConcurrency) {
      return fmt::format("--concurrency: {}; use 1 to {}", config.concurrency, kMaxConcurrency);
    }
    if (planned_transactions(config) > kMaxTransactions) {
      return fmt::format(
          "--rate-connections {}/s for -t {} starts {} connections, more than {}; lower one of "
          "them or bound the test with -n/--count",
          config.rate_per_s, core::format_duration(config.duration), planned_transactions(config),
          kMaxTransactions);
    }
    if (config.interval < kMinInterval || config.interval > kMaxInterval) {
      return fmt::format("-i/--interval: {}; use {} to {}", core::format_duration(config.interval),
                         core::format_duration(kMinInterval), core::format_duration(kMaxInterval));
    }
  }
  return {};
}

nlohmann::json to_json(const TransactionConfig& config) {
  return {{"kind", kind_name(config.kind)},
          {"request_bytes", config.request_bytes},
          {"response_bytes", config.response_bytes},
          {"count", config.count ? nlohmann::json(*config.count) : nlohmann::json(nullptr)},
          {"planned", planned_transactions(config)},
          {"duration_s", to_seconds(config.duration)},
          {"duration_ns", config.duration.count()},
          {"rate_connections_per_s", config.rate_per_s},
          {"reuse", config.reuse},
          {"concurrency", config.concurrency},
          {"interval_ns", config.interval.count()}};
}

core::Parsed<TransactionConfig> transaction_config_from_json(const nlohmann::json& json) {
  core::Parsed<TransactionConfig> result;
  if (!json.is_object()) {
    result.error = "transaction configuration is not a JSON object";
    return result;
  }
  TransactionConfig config;
  const auto fail = [&](const char* key) {
    result.error = fmt::format("transaction configuration key '{}' is missing or not valid", key);
    return result;
  };
  const auto kind = json.find("kind");
  if (kind == json.end() || !kind->is_string()) return fail("kind");
  if (*kind == "rr") {
    config.kind = TransactionKind::rr;
  } else if (*kind == "churn") {
    config.kind = TransactionKind::churn;
  } else {
    return fail("kind");
  }
  // Unsigned integers within `max`; a missing optional key keeps the default.
  const auto read = [&](const char* key, std::uint64_t max, bool required,
                        std::uint64_t& out) -> bool {
    const auto it = json.find(key);
    if (it == json.end() || it->is_null()) return !required;
    // Parsed text gives unsigned numbers; a document built in memory may hold signed ones.
    const bool non_negative =
        it->is_number_unsigned() || (it->is_number_integer() && it->get<long long>() >= 0);
    if (!non_negative || it->get<std::uint64_t>() > max) return false;
    out = it->get<std::uint64_t>();
    return true;
  };
  std::uint64_t request = 0, response = 0, duration_ns = 0, concurrency = config.concurrency,
                interval_ns = static_cast<std::uint64_t>(config.interval.count()), count = 0;
  const auto max_ns = static_cast<std::uint64_t>(kMaxDuration.count()) * 2;
  if (!read("request_bytes", kMaxMessageSize, true, request)) return fail("request_bytes");
  if (!read("response_bytes", kMaxMessageSize, true, response)) return fail("response_bytes");
  if (!read("duration_ns", max_ns, true, duration_ns)) return fail("duration_ns");
  if (!read("concurrency", kMaxConcurrency, false, concurrency)) return fail("concurrency");
  if (!read("interval_ns", max_ns, false, interval_ns)) return fail("interval_ns");
  if (!read("count", kMaxTransactions, false, count)) return fail("count");
  if (const auto it = json.find("count"); it != json.end() && !it->is_null()) config.count = count;
  if (const auto it = json.find("rate_connections_per_s"); it != json.end()) {
    if (!it->is_number()) return fail("rate_connections_per_s");
    config.rate_per_s = it->get<double>();
  }
  if (const auto it = json.find("reuse"); it != json.end()) {
    if (!it->is_boolean()) return fail("reuse");
    config.reuse = it->get<bool>();
  }
  config.request_bytes = static_cast<std::uint32_t>(request);
  config.response_bytes = static_cast<std::uint32_t>(response);
  config.duration = Nanos{static_cast<Nanos::rep>(duration_ns)};
  config.concurrency = static_cast<std::uint32_t>(concurrency);
  config.interval = Nanos{static_cast<Nanos::rep>(interval_ns)};
  if (auto error = validate(config); !error.empty()) {
    result.error = std::move(error);
    return result;
  }
  result.value = config;
  return result;
}

}  // namespace longhaul::measure

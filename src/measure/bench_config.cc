#include "measure/bench_config.hh"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <type_traits>
#include <utility>
#include <vector>

namespace longhaul::measure {

std::string_view direction_name(Direction direction) {
  return direction == Direction::upload ? "upload" : "download";
}

std::string_view side_name(Side side) {
  return side == Side::client ? "client" : "server";
}

std::string_view role_name(Role role) {
  return role == Role::sender ? "sender" : "receiver";
}

Role role_of(Side side, Direction direction) {
  const bool client_sends = direction == Direction::upload;
  return (side == Side::client) == client_sends ? Role::sender : Role::receiver;
}

std::vector<Direction> directions(const BenchConfig& config) {
  if (config.bidir) return {Direction::upload, Direction::download};
  return {config.reverse ? Direction::download : Direction::upload};
}

std::uint32_t connection_count(const BenchConfig& config) {
  return config.streams * (config.bidir ? 2U : 1U);
}

Direction connection_direction(const BenchConfig& config, std::uint32_t index) {
  if (config.bidir) return index < config.streams ? Direction::upload : Direction::download;
  return config.reverse ? Direction::download : Direction::upload;
}

Nanos send_window(const BenchConfig& config) {
  return config.omit + (config.bytes ? kMaxDuration : config.duration);
}

std::string validate(const BenchConfig& config) {
  if (config.streams < 1 || config.streams > kMaxStreams) {
    return fmt::format("-P/--parallel: {} streams; use 1 to {}", config.streams, kMaxStreams);
  }
  if (!config.bytes && (config.duration <= Nanos{0} || config.duration > kMaxDuration)) {
    return fmt::format("-t/--time: {}; use more than 0 s and at most {}",
                       core::format_duration(config.duration), core::format_duration(kMaxDuration));
  }
  if (config.bytes && (*config.bytes == 0 || *config.bytes > kMaxBytes)) {
    return fmt::format("-n/--bytes: {} bytes; use 1 byte to {} bytes in total", *config.bytes,
                       kMaxBytes);
  }
  if (config.bytes && *config.bytes < config.streams) {
    return fmt::format("-n/--bytes: {} bytes cannot be split over {} streams", *config.bytes,
                       config.streams);
  }
  if (config.reverse && config.bidir) return "-R/--reverse and --bidir cannot be combined";
  if (config.interval < kMinInterval || config.interval > kMaxInterval) {
    return fmt::format("-i/--interval: {}; use {} to {}", core::format_duration(config.interval),
                       core::format_duration(kMinInterval), core::format_duration(kMaxInterval));
  }
  if (config.omit < Nanos{0} || config.omit > kMaxOmit) {
    return fmt::format("-O/--omit: {}; use 0 s to {}", core::format_duration(config.omit),
                       core::format_duration(kMaxOmit));
  }
  for (const auto& [name, value] : {std::pair{"--sndbuf/--window", config.sndbuf_bytes},
                                    std::pair{"--rcvbuf/--window", config.rcvbuf_bytes}}) {
    if (value && (*value == 0 || *value > kMaxBufferBytes)) {
      return fmt::format("{}: {} bytes; use 1 byte to {} bytes", name, *value, kMaxBufferBytes);
    }
  }
  if (config.pacing_rate_bps && *config.pacing_rate_bps < 8) {
    return "--pacing-rate: below 8 bit/s (the kernel paces in bytes per second)";
  }
  if (config.congestion) {
    const auto& name = *config.congestion;
    // TCP_CA_NAME_MAX is 16 including the terminating NUL.
    const bool plain =
        !name.empty() && name.size() < 16 && std::all_of(name.begin(), name.end(), [](char c) {
          return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '_' || c == '-';
        });
    if (!plain) return fmt::format("-C/--congestion: '{}' is not a congestion control name", name);
  }
  return {};
}

namespace {

template <class T>
nlohmann::json optional_json(const std::optional<T>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

}  // namespace

nlohmann::json to_json(const BenchConfig& config) {
  return {{"streams", config.streams},
          {"duration_s",
           config.bytes ? nlohmann::json(nullptr) : nlohmann::json(to_seconds(config.duration))},
          {"duration_ns",
           config.bytes ? nlohmann::json(nullptr) : nlohmann::json(config.duration.count())},
          {"bytes", optional_json(config.bytes)},
          {"reverse", config.reverse},
          {"bidir", config.bidir},
          {"congestion", optional_json(config.congestion)},
          {"sndbuf_bytes", optional_json(config.sndbuf_bytes)},
          {"rcvbuf_bytes", optional_json(config.rcvbuf_bytes)},
          {"pacing_rate_bps", optional_json(config.pacing_rate_bps)},
          {"interval_ns", config.interval.count()},
          {"omit_ns", config.omit.count()},
          {"path_rate_bps", optional_json(config.path_rate_bps)},
          {"seed", config.seed}};
}

core::Parsed<BenchConfig> config_from_json(const nlohmann::json& json) {
  core::Parsed<BenchConfig> result;
  if (!json.is_object()) {
    result.error = "configuration is not a JSON object";
    return result;
  }
  BenchConfig config;
  std::string failed_key;
  // Reads an unsigned integer key (missing or null leaves `target` alone when optional).
  const auto read_unsigned = [&](const char* key, auto& target, bool required) {
    const auto it = json.find(key);
    if (it == json.end() || it->is_null()) {
      if (required && failed_key.empty()) failed_key = key;
      return;
    }
    if (!it->is_number_unsigned() &&
        !(it->is_number_integer() && it->template get<long long>() >= 0)) {
      if (failed_key.empty()) failed_key = key;
      return;
    }
    using Target = std::remove_reference_t<decltype(target)>;
    if constexpr (std::is_same_v<Target, std::optional<std::uint64_t>>) {
      target = it->template get<std::uint64_t>();
    } else {
      const auto value = it->template get<std::uint64_t>();
      if (value > std::numeric_limits<Target>::max()) {
        if (failed_key.empty()) failed_key = key;
        return;
      }
      target = static_cast<Target>(value);
    }
  };
  const auto read_bool = [&](const char* key, bool& target) {
    const auto it = json.find(key);
    if (it == json.end()) return;
    if (!it->is_boolean()) {
      if (failed_key.empty()) failed_key = key;
      return;
    }
    target = it->get<bool>();
  };
  std::uint64_t duration_ns = 0, interval_ns = 0, omit_ns = 0;
  read_unsigned("streams", config.streams, true);
  read_unsigned("bytes", config.bytes, false);
  read_unsigned("duration_ns", duration_ns, !json.contains("bytes") || json["bytes"].is_null());
  read_unsigned("interval_ns", interval_ns, true);
  read_unsigned("omit_ns", omit_ns, false);
  read_unsigned("sndbuf_bytes", config.sndbuf_bytes, false);
  read_unsigned("rcvbuf_bytes", config.rcvbuf_bytes, false);
  read_unsigned("pacing_rate_bps", config.pacing_rate_bps, false);
  read_unsigned("path_rate_bps", config.path_rate_bps, false);
  read_unsigned("seed", config.seed, false);
  read_bool("reverse", config.reverse);
  read_bool("bidir", config.bidir);
  if (const auto it = json.find("congestion"); it != json.end() && !it->is_null()) {
    if (it->is_string()) {
      config.congestion = it->get<std::string>();
    } else if (failed_key.empty()) {
      failed_key = "congestion";
    }
  }
  if (!failed_key.empty()) {
    result.error = fmt::format("configuration key '{}' is missing or not valid", failed_key);
    return result;
  }
  // Bounds before converting, so no value overflows a duration.
  const auto max_ns = static_cast<std::uint64_t>(kMaxDuration.count()) * 2;
  if (duration_ns > max_ns || interval_ns > max_ns || omit_ns > max_ns) {
    result.error = "configuration: a duration is out of range";
    return result;
  }
  config.duration =
      config.bytes ? std::chrono::seconds(10) : Nanos{static_cast<Nanos::rep>(duration_ns)};
  config.interval = Nanos{static_cast<Nanos::rep>(interval_ns)};
  config.omit = Nanos{static_cast<Nanos::rep>(omit_ns)};
  if (auto error = validate(config); !error.empty()) {
    result.error = std::move(error);
    return result;
  }
  result.value = config;
  return result;
}

core::Parsed<Nanos> parse_seconds(std::string_view text) {
  const bool bare = !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= '0' && c <= '9') || c == '.';
  });
  if (bare) {
    auto parsed = core::parse_duration(std::string(text) + "s");
    if (!parsed) parsed.error = fmt::format("'{}' is not a number of seconds", text);
    return parsed;
  }
  return core::parse_duration(text);
}

}  // namespace longhaul::measure

#pragma once
// What a bench test does: streams, duration or byte count, direction, socket
// options. The client builds it from flags, sends it to the server as JSON, and
// both sides validate it against the same bounds, so a malformed or hostile
// request cannot make either side run forever or allocate without limit.
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/units.hh"

namespace longhaul::measure {

using core::Nanos;

/// Version of the JSON schema of results and of the control protocol's messages.
inline constexpr std::string_view kSchema = "longhaul.bench/1";
inline constexpr int kProtocolVersion = 1;
/// Default TCP port of `longhaul bench server` (not iperf3's 5201, so the two never meet).
inline constexpr std::uint16_t kDefaultPort = 5301;

/// Bounds every test obeys.
inline constexpr std::uint32_t kMaxStreams = 128;
inline constexpr Nanos kMaxDuration = std::chrono::seconds(3600);
inline constexpr Nanos kMaxOmit = std::chrono::seconds(600);
inline constexpr Nanos kMinInterval = std::chrono::milliseconds(100);
inline constexpr Nanos kMaxInterval = std::chrono::seconds(60);
inline constexpr std::uint64_t kMaxBytes = 1ULL << 50;        ///< 1 PiB in total
inline constexpr std::uint64_t kMaxBufferBytes = 1ULL << 31;  ///< socket buffers: 2 GiB
/// A stream that makes no progress for this long is given up (a vanished peer).
inline constexpr Nanos kIdleTimeout = std::chrono::seconds(60);

/// Who sends on a data connection: `upload` is client to server (the default),
/// `download` server to client (--reverse). --bidir runs both at once.
enum class Direction { upload, download };
/// Which end of the control connection a figure comes from.
enum class Side { client, server };
/// What a side does on one data connection.
enum class Role { sender, receiver };

std::string_view direction_name(Direction direction);
std::string_view side_name(Side side);
std::string_view role_name(Role role);
/// The role `side` plays on a stream of `direction`.
Role role_of(Side side, Direction direction);

struct BenchConfig {
  std::uint32_t streams = 1;  ///< -P: parallel streams per direction
  /// -t: how long each sender sends after the omitted period (when no byte count is given).
  Nanos duration = std::chrono::seconds(10);
  std::optional<std::uint64_t> bytes;     ///< -n: total bytes per direction instead of a duration
  bool reverse = false;                   ///< -R: the server sends
  bool bidir = false;                     ///< --bidir: both send at once
  std::optional<std::string> congestion;  ///< -C: TCP_CONGESTION on every data socket
  std::optional<std::uint64_t> sndbuf_bytes;     ///< SO_SNDBUF on every data socket
  std::optional<std::uint64_t> rcvbuf_bytes;     ///< SO_RCVBUF on every data socket
  std::optional<std::uint64_t> pacing_rate_bps;  ///< SO_MAX_PACING_RATE per sending stream
  Nanos interval = std::chrono::seconds(1);      ///< -i: sampling interval
  Nanos omit = Nanos{0};                         ///< -O: leading period left out of totals
  std::optional<std::uint64_t> path_rate_bps;    ///< --path-rate: for the time to fill
  std::uint64_t seed = 0;                        ///< payload contents; printed for replay

  friend bool operator==(const BenchConfig&, const BenchConfig&) = default;
};

/// The directions that carry data in this test (one, or two with --bidir).
std::vector<Direction> directions(const BenchConfig& config);
/// Total number of data connections (streams × directions).
std::uint32_t connection_count(const BenchConfig& config);
/// Direction of data connection `index` (0-based): with --bidir the first
/// `streams` connections upload and the rest download.
Direction connection_direction(const BenchConfig& config, std::uint32_t index);
/// The longest a sender may send: the byte count's time cap or the duration, plus the omit.
Nanos send_window(const BenchConfig& config);

/// Empty when the configuration is within bounds, else a sentence naming the flag.
std::string validate(const BenchConfig& config);

/// The full configuration as JSON (units in key names), as sent to the server and reported.
nlohmann::json to_json(const BenchConfig& config);
/// Parses and validates what to_json wrote; the error names the key.
core::Parsed<BenchConfig> config_from_json(const nlohmann::json& json);

/// A time in seconds as typed after -t, -i or -O: a bare number is seconds ("10", "0.5");
/// a number with a unit is a duration ("500ms", "1.5s").
core::Parsed<Nanos> parse_seconds(std::string_view text);

/// Seconds as a double, for display and JSON.
inline double to_seconds(Nanos d) {
  return std::chrono::duration<double>(d).count();
}

}  // namespace longhaul::measure

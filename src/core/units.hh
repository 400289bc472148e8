// Strict parsing and human formatting of the units used on the command line and in
// topology files: durations, rates, probabilities, byte sizes and queue limits.
//
// Why strict: a WAN emulator that silently reads "10mbps" as megabits, "0.1" as 10%
// or "80" as 80 seconds produces plausible but wrong experiments. Every parser here
// accepts one small documented grammar and otherwise returns an error sentence that
// names the text, says what is wrong and shows what would be accepted.
//
// Grammar shared by all parsers: DIGITS [ "." DIGITS ] UNIT, with no sign, no spaces,
// no exponent, no leading or trailing "." and nothing after the unit. Units are
// case-insensitive. The number is read as exact decimal (integer and fraction digits
// separately), never through a double, so "1.5s" is exactly 1500000000 ns.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace longhaul::core {

using Nanos = std::chrono::nanoseconds;

// Result of a parse: a value, or a user-facing error sentence (never both).
template <class T>
struct Parsed {
  std::optional<T> value;
  std::string error;

  // True when the text parsed; on false, `error` says why.
  explicit operator bool() const { return value.has_value(); }
  // The parsed value; precondition: the parse succeeded.
  const T& operator*() const { return *value; }
  // Member access to the parsed value; precondition: the parse succeeded.
  const T* operator->() const { return &*value; }
};

// A failed parse carrying `message`.
template <class T>
Parsed<T> parse_failure(std::string message) {
  Parsed<T> result;
  result.error = std::move(message);
  return result;
}

// What bounds a queue: a packet count, a byte count, or a sojourn time.
// Only the field named by `kind` is meaningful; the others are zero.
struct QueueLimit {
  enum class Kind { packets, bytes, time };
  Kind kind = Kind::packets;
  std::uint64_t packets = 0;
  std::uint64_t bytes = 0;
  Nanos time{0};

  friend bool operator==(const QueueLimit&, const QueueLimit&) = default;
};

// "80ms", "1.5s", "250us"/"250µs", "100ns", or bare "0"; sub-ns remainders round to
// the nearest ns (half up). No minutes or hours: "2m" could mean minutes or milli.
Parsed<Nanos> parse_duration(std::string_view text);

// "500mbit", "1.5Gbit", "100bit" (SI, 1000-based; "/s" suffix optional, so
// "500mbit/s" is accepted too); rounds to the nearest bit/s; zero and "*bps" rejected.
Parsed<std::uint64_t> parse_rate_bps(std::string_view text);

// "0.1%" -> 0.001; the "%" is required and the value must be within 0%..100%.
// Returns the double nearest the exact decimal (so "0.1%" == 0.001 exactly).
Parsed<double> parse_probability(std::string_view text);

// "1500B", "64kB" (1000), "1.5MiB" (1024), or a bare whole number of bytes ("9000").
// Units: B, kB, MB, GB, TB, KiB, MiB, GiB, TiB; the result must be a whole number of
// bytes; "k"/"m"/"g"/"t" alone are rejected as ambiguous.
Parsed<std::uint64_t> parse_bytes(std::string_view text);

// "1000p"/"1000pkt"/"1000packets", a byte size with a unit ("64KiB"), or a duration
// ("5ms"); must be greater than zero. A bare number is rejected: tc reads it as
// packets, people often mean bytes.
Parsed<QueueLimit> parse_queue_limit(std::string_view text);

// Three significant digits in the largest unit that keeps the number >= 1:
// "80 ms", "1.5 s", "12.3 us"; zero is "0 s"; negatives keep their "-". Dropping the
// space gives text parse_duration accepts (for non-negative values within range).
std::string format_duration(Nanos d);

// Three significant digits in bit/s, kbit/s, Mbit/s, Gbit/s or Tbit/s:
// "500 Mbit/s", "9.41 Gbit/s", "0 bit/s"; non-finite prints "inf bit/s"/"nan bit/s".
// Dropping the space gives text parse_rate_bps accepts (for rates >= 0.5 bit/s).
std::string format_rate(double bps);

// Three significant digits in SI bytes (B, kB, MB, GB, TB, PB): "21.6 MB", "0 B".
// SI because BDP = rate x time is 1000-based; whole byte counts parse back (sans space).
std::string format_bytes(double bytes);

}  // namespace longhaul::core

#include "core/units.hh"

#include <array>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <initializer_list>
#include <limits>
#include <span>
#include <system_error>
#include <utility>

namespace longhaul::core {
namespace {

constexpr std::uint64_t kU64Max = std::numeric_limits<std::uint64_t>::max();
constexpr std::uint64_t kNanosMax =
    static_cast<std::uint64_t>(std::numeric_limits<Nanos::rep>::max());

// How one parser talks about itself in error sentences.
struct Kind {
  std::string_view what;          // "duration", as in `invalid duration "x": ...`
  std::string_view a_what;        // "a duration", as in "a duration must not be negative"
  std::string_view accepted;      // clause listing accepted units: "use ns, us, ms or s"
  std::string_view example_unit;  // appended to the user's number to build an example
  std::string_view example;       // complete example when the user's number is unusable
};

constexpr Kind kDuration{"duration", "a duration", "use ns, us, ms or s", "ms", "80ms"};
constexpr Kind kRate{"rate", "a rate",
                     "use bit, kbit, mbit, gbit or tbit, optionally followed by \"/s\"", "mbit",
                     "500mbit"};
constexpr Kind kProbability{"probability", "a probability", "write a percentage with a \"%\" sign",
                            "%", "0.1%"};
constexpr Kind kBytes{"size", "a size",
                      "use B, kB, MB, GB, TB, PB (1000-based) or KiB, MiB, GiB, TiB, PiB "
                      "(1024-based)",
                      "KiB", "64KiB"};
constexpr Kind kQueueLimit{"queue limit", "a queue limit",
                           "use packets (e.g. \"1000p\"), a byte size (e.g. \"64KiB\") or a "
                           "duration (e.g. \"5ms\")",
                           "p", "1000p"};

// The lexed shape DIGITS [ "." DIGITS ] UNIT; views into the caller's text.
struct Number {
  std::string_view digits;    // the whole number portion, e.g. "1.5"
  std::string_view integer;   // digits before the point, never empty
  std::string_view fraction;  // digits after the point, empty if there is no point
  std::string_view unit;      // everything after the number, possibly empty

  bool is_zero() const {
    for (char c : digits) {
      if (c != '0' && c != '.') return false;
    }
    return true;
  }
};

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

// Units compare case-insensitively; only ASCII folds, so "µs" passes through intact.
std::string lower_ascii(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string quoted(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out += '"';
  out += s;
  out += '"';
  return out;
}

std::string concat(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (std::string_view p : parts) out += p;
  return out;
}

// Every error has the same frame so users can grep for it and see their own text.
std::string error_for(const Kind& kind, std::string_view text, std::string_view problem) {
  return concat({"invalid ", kind.what, " ", quoted(text), ": ", problem});
}

template <class T>
Parsed<T> fail(const Kind& kind, std::string_view text, std::string_view problem) {
  return Parsed<T>{std::nullopt, error_for(kind, text, problem)};
}

template <class T>
Parsed<T> ok(T value) {
  return Parsed<T>{std::move(value), {}};
}

// "(e.g. "80ms")" built from the user's own number when there is one.
std::string example_with(const Kind& kind, std::string_view digits) {
  if (digits.empty()) return concat({"(e.g. ", quoted(kind.example), ")"});
  return concat({"(e.g. ", quoted(concat({digits, kind.example_unit})), ")"});
}

// Checks the grammar shared by every parser. On failure returns nullopt and sets
// `problem` to the part of the sentence after `invalid X "text": `.
std::optional<Number> lex(const Kind& kind, std::string_view text, std::string& problem) {
  const std::string example = concat({"(e.g. ", quoted(kind.example), ")"});
  if (text.empty()) {
    problem = concat({"the text is empty; write a number followed by a unit ", example});
    return std::nullopt;
  }
  // Reject spaces anywhere rather than trimming: "80 ms" in a shell is two
  // arguments, and in a file it usually means a missing quote or comma.
  std::string squeezed;
  for (char c : text) {
    if (!is_space(c)) squeezed += c;
  }
  if (squeezed.size() != text.size()) {
    if (squeezed.empty()) {
      problem = concat({"the text is blank; write a number followed by a unit ", example});
    } else {
      problem = concat({"spaces are not allowed; write ", quoted(squeezed)});
    }
    return std::nullopt;
  }
  if (text.front() == '-') {
    problem = concat({kind.a_what, " must not be negative"});
    return std::nullopt;
  }
  if (text.front() == '+') {
    problem = concat({"a \"+\" sign is not accepted; write ", quoted(text.substr(1))});
    return std::nullopt;
  }
  const std::string lowered = lower_ascii(text.substr(0, 3));
  if (lowered == "nan" || lowered == "inf") {
    problem = concat({"not a finite number; write a plain decimal number ", example});
    return std::nullopt;
  }
  if (!is_digit(text.front()) && text.front() != '.') {
    problem = concat({"missing number; write a number followed by a unit ", example});
    return std::nullopt;
  }
  const std::string_view point_problem =
      "a decimal point needs digits on both sides (e.g. \"0.5\", not \".5\" or \"5.\")";
  std::size_t i = 0;
  while (i < text.size() && is_digit(text[i])) ++i;
  Number n;
  n.integer = text.substr(0, i);
  if (n.integer.empty()) {
    problem = point_problem;
    return std::nullopt;
  }
  if (i < text.size() && text[i] == '.') {
    const std::size_t start = ++i;
    while (i < text.size() && is_digit(text[i])) ++i;
    n.fraction = text.substr(start, i - start);
    if (n.fraction.empty()) {
      problem = point_problem;
      return std::nullopt;
    }
  }
  n.digits = text.substr(0, i);
  n.unit = text.substr(i);
  if (!n.unit.empty()) {
    const char c = n.unit.front();
    if (c == '.') {
      problem =
          concat({"the number has more than one decimal point; ", kind.accepted, " ", example});
      return std::nullopt;
    }
    if (c == ',') {
      problem = concat({"use \".\" as the decimal point, not \",\" ", example});
      return std::nullopt;
    }
    // "1e3ms" would otherwise be reported as the unknown unit "e3ms".
    if ((c == 'e' || c == 'E') && n.unit.size() > 1 &&
        (is_digit(n.unit[1]) || n.unit[1] == '+' || n.unit[1] == '-')) {
      problem = concat({"exponents are not accepted; write the number out in full ", example});
      return std::nullopt;
    }
  }
  return n;
}

// The exact value of n * multiplier, rounded to the nearest integer (halves up).
struct Scaled {
  std::uint64_t value = 0;
  bool overflow = false;  // the result exceeds `max`
  bool inexact = false;   // rounding discarded a nonzero remainder
};

// Decimal arithmetic without doubles so that "1.5s" is exactly 1500000000 ns and
// "1.1MiB" is exactly 1153433.6 bytes (then rounded or rejected by the caller).
// The fraction 0.d1d2...dn times M is evaluated by Horner's rule from the last digit:
// y_n = 0, y_{i-1} = (M*d_i + y_i) / 10. Keeping only floor(y) is exact because for an
// integer A and 0 <= f < 1, floor((A + f) / 10) == floor(A / 10); the discarded part is
// nonzero if any step left a remainder, and at least one half iff the last remainder
// digit is >= 5. So any number of fraction digits is handled exactly in 64 bits as
// long as 10*M fits, which holds for every multiplier used here (at most 2^50).
Scaled scale(const Number& n, std::uint64_t multiplier, std::uint64_t max) {
  Scaled out;
  std::uint64_t whole = 0;
  const auto [ptr, ec] =
      std::from_chars(n.integer.data(), n.integer.data() + n.integer.size(), whole);
  if (ec == std::errc::result_out_of_range || whole > max / multiplier) {
    out.overflow = true;
    return out;
  }
  std::uint64_t part = 0;
  unsigned last_remainder = 0;
  for (std::size_t i = n.fraction.size(); i-- > 0;) {
    const std::uint64_t a = multiplier * static_cast<std::uint64_t>(n.fraction[i] - '0') + part;
    last_remainder = static_cast<unsigned>(a % 10);
    out.inexact = out.inexact || last_remainder != 0;
    part = a / 10;
  }
  if (last_remainder >= 5) ++part;
  const std::uint64_t base = whole * multiplier;
  if (part > max - base) {
    out.overflow = true;
    return out;
  }
  out.value = base + part;
  return out;
}

struct UnitScale {
  std::string_view name;  // lower case
  std::uint64_t multiplier;
};

std::optional<std::uint64_t> lookup(std::span<const UnitScale> table, std::string_view unit) {
  for (const UnitScale& u : table) {
    if (u.name == unit) return u.multiplier;
  }
  return std::nullopt;
}

constexpr std::array<UnitScale, 6> kDurationUnits{{
    {"ns", 1},
    {"us", 1'000},
    {"\xc2\xb5s", 1'000},  // U+00B5 MICRO SIGN, what most keyboards produce
    {"\xce\xbcs", 1'000},  // U+03BC GREEK SMALL LETTER MU, what some fonts/IMEs produce
    {"ms", 1'000'000},
    {"s", 1'000'000'000},
}};

constexpr std::array<UnitScale, 5> kRateUnits{{
    {"bit", 1},
    {"kbit", 1'000},
    {"mbit", 1'000'000},
    {"gbit", 1'000'000'000},
    {"tbit", 1'000'000'000'000},
}};

constexpr std::array<UnitScale, 11> kByteUnits{{
    {"b", 1},
    {"kb", 1'000},
    {"mb", 1'000'000},
    {"gb", 1'000'000'000},
    {"tb", 1'000'000'000'000},
    {"pb", 1'000'000'000'000'000},
    {"kib", std::uint64_t{1} << 10},
    {"mib", std::uint64_t{1} << 20},
    {"gib", std::uint64_t{1} << 30},
    {"tib", std::uint64_t{1} << 40},
    {"pib", std::uint64_t{1} << 50},
}};

constexpr std::array<std::string_view, 5> kPacketUnits{"p", "pkt", "pkts", "packet", "packets"};

bool is_packet_unit(std::string_view unit) {
  for (std::string_view u : kPacketUnits) {
    if (u == unit) return true;
  }
  return false;
}

// "k" -> "kilo" for the "*bps" explanation; "?" when the prefix is not an SI one we use.
std::string_view si_prefix_name(std::string_view lower_prefix) {
  if (lower_prefix.empty()) return "";
  if (lower_prefix == "k") return "kilo";
  if (lower_prefix == "m") return "mega";
  if (lower_prefix == "g") return "giga";
  if (lower_prefix == "t") return "tera";
  return "?";
}

bool is_one_of(std::string_view s, std::initializer_list<std::string_view> options) {
  for (std::string_view o : options) {
    if (s == o) return true;
  }
  return false;
}

// Units people reach for that we refuse, so they get a specific explanation.
bool is_long_time_unit(std::string_view unit) {
  return is_one_of(unit, {"m", "min", "mins", "minute", "minutes", "h", "hr", "hrs", "hour",
                          "hours", "d", "day", "days"});
}

// Shared by parse_duration and parse_queue_limit; `unit` is already lower case.
Parsed<Nanos> duration_from(const Kind& kind, std::string_view text, const Number& n,
                            std::string_view unit) {
  const std::optional<std::uint64_t> multiplier = lookup(kDurationUnits, unit);
  if (!multiplier) {
    if (is_long_time_unit(unit)) {
      return fail<Nanos>(kind, text,
                         "minutes, hours and days are not accepted (\"m\" could also be read "
                         "as milli); use ns, us, ms or s (e.g. \"120s\" for two minutes)");
    }
    return fail<Nanos>(kind, text,
                       concat({"unknown unit ", quoted(n.unit), "; ", kDuration.accepted, " ",
                               example_with(kDuration, n.digits)}));
  }
  const Scaled s = scale(n, *multiplier, kNanosMax);
  if (s.overflow) {
    return fail<Nanos>(kind, text,
                       "the duration is too large; the maximum is 9223372036s (about 292 "
                       "years)");
  }
  return ok(Nanos{static_cast<Nanos::rep>(s.value)});
}

// Shared by parse_bytes and parse_queue_limit; `unit` is already lower case and non-empty.
Parsed<std::uint64_t> bytes_from(const Kind& kind, std::string_view text, const Number& n,
                                 std::string_view unit) {
  const std::optional<std::uint64_t> multiplier = lookup(kByteUnits, unit);
  if (!multiplier) {
    if (unit.size() == 1 && is_one_of(unit, {"k", "m", "g", "t", "p"})) {
      // Spell both readings so the user only has to pick one.
      const std::string upper(1, static_cast<char>(unit[0] - 'a' + 'A'));
      const std::string si = concat({unit == "k" ? "k" : upper, "B"});
      const std::string binary = concat({upper, "iB"});
      return fail<std::uint64_t>(
          kind, text,
          concat({quoted(n.unit), " alone is ambiguous; write ", quoted(concat({n.digits, si})),
                  " (1000-based) or ", quoted(concat({n.digits, binary})), " (1024-based)"}));
    }
    return fail<std::uint64_t>(kind, text,
                               concat({"unknown unit ", quoted(n.unit), "; ", kBytes.accepted, " ",
                                       example_with(kBytes, n.digits)}));
  }
  const Scaled s = scale(n, *multiplier, kU64Max);
  if (s.overflow) {
    return fail<std::uint64_t>(kind, text,
                               "the size is too large; the maximum is 18446744073709551615 "
                               "bytes (about 18.4 EB)");
  }
  // Bytes are indivisible and a silently rounded buffer size is surprising.
  if (s.inexact) {
    return fail<std::uint64_t>(kind, text,
                               "the size is not a whole number of bytes; adjust the number or "
                               "use a smaller unit (e.g. \"1500B\")");
  }
  return ok(s.value);
}

struct DisplayUnit {
  double scale;
  std::string_view name;
};

// Three significant digits, trailing zeros dropped, in the largest unit whose value is
// at least 1 (after rounding, so 999.96 us prints as "1 ms", not "1000 us"). Integer
// digits are never rounded away in the top unit ("3600 s").
std::string format_scaled(double x, std::span<const DisplayUnit> units, std::size_t zero_unit) {
  std::array<char, 64> buf{};
  if (!std::isfinite(x)) {
    const auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), x);
    return concat({std::string_view(buf.data(), static_cast<std::size_t>(end - buf.data())), " ",
                   units[zero_unit].name});
  }
  if (x == 0.0) return concat({"0 ", units[zero_unit].name});
  const double magnitude = std::fabs(x);
  std::size_t i = 0;
  while (i + 1 < units.size() && magnitude >= units[i + 1].scale) ++i;
  for (;;) {
    const double v = x / units[i].scale;
    const double av = std::fabs(v);
    const int decimals = av >= 100.0 ? 0 : av >= 10.0 ? 1 : 2;
    const double p10 = decimals == 0 ? 1.0 : decimals == 1 ? 10.0 : 100.0;
    const double rounded = std::round(v * p10) / p10;
    if (std::fabs(rounded) >= 1000.0 && i + 1 < units.size()) {
      ++i;
      continue;
    }
    const auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), rounded,
                                         std::chars_format::fixed, decimals);
    std::string number(buf.data(), static_cast<std::size_t>(end - buf.data()));
    if (number.find('.') != std::string::npos) {
      while (number.back() == '0') number.pop_back();
      if (number.back() == '.') number.pop_back();
    }
    if (number == "-0") number = "0";
    return concat({number, " ", units[i].name});
  }
}

}  // namespace

Parsed<Nanos> parse_duration(std::string_view text) {
  std::string problem;
  const std::optional<Number> n = lex(kDuration, text, problem);
  if (!n) return fail<Nanos>(kDuration, text, problem);
  if (n->unit.empty()) {
    // Zero is zero in every unit, and "delay: 0" is the natural way to say "none".
    if (n->is_zero()) return ok(Nanos{0});
    return fail<Nanos>(
        kDuration, text,
        concat({"missing unit; ", kDuration.accepted, " ", example_with(kDuration, n->digits)}));
  }
  return duration_from(kDuration, text, *n, lower_ascii(n->unit));
}

Parsed<std::uint64_t> parse_rate_bps(std::string_view text) {
  std::string problem;
  const std::optional<Number> n = lex(kRate, text, problem);
  if (!n) return fail<std::uint64_t>(kRate, text, problem);
  std::string unit = lower_ascii(n->unit);
  // "mbit/s" is what format_rate prints, so accept it as a synonym of "mbit".
  if (unit.size() > 2 && unit.ends_with("/s")) unit.resize(unit.size() - 2);
  if (unit.ends_with("bps")) {
    // tc reads "mbps" as megaBYTES per second while most people mean megabits; a
    // factor of 8 error is too costly to guess about, so refuse and explain.
    const std::string_view prefix = n->unit.substr(0, unit.size() - 3);
    const std::string_view si = si_prefix_name(unit.substr(0, unit.size() - 3));
    if (si != "?") {
      return fail<std::uint64_t>(
          kRate, text,
          concat({quoted(n->unit), " is not accepted: tc reads it as ", si,
                  "bytes per second (8 times ", quoted(concat({prefix, "bit"})),
                  "), but it is usually meant as ", si, "bits; write ",
                  quoted(concat({n->digits, prefix, "bit"})), " for ", si, "bits per second"}));
    }
  }
  // Zero would stall the shaper forever; "no rate limit" is expressed by omitting it.
  const std::string zero = concat({"rate must be greater than zero ", example_with(kRate, "500")});
  if (unit.empty()) {
    if (n->is_zero()) return fail<std::uint64_t>(kRate, text, zero);
    return fail<std::uint64_t>(
        kRate, text,
        concat({"missing unit; ", kRate.accepted, " ", example_with(kRate, n->digits)}));
  }
  const std::optional<std::uint64_t> multiplier = lookup(kRateUnits, unit);
  if (!multiplier) {
    if (is_one_of(unit, {"k", "m", "g", "t"})) {
      return fail<std::uint64_t>(
          kRate, text,
          concat({"missing \"bit\" after ", quoted(n->unit), "; write ",
                  quoted(concat({n->digits, n->unit.substr(0, 1), "bit"}))}));
    }
    return fail<std::uint64_t>(kRate, text,
                               concat({"unknown unit ", quoted(n->unit), "; ", kRate.accepted, " ",
                                       example_with(kRate, n->digits)}));
  }
  const Scaled s = scale(*n, *multiplier, kU64Max);
  if (s.overflow) {
    return fail<std::uint64_t>(kRate, text,
                               "the rate is too large; the maximum is 18446744073709551615 bit/s");
  }
  if (s.value == 0) return fail<std::uint64_t>(kRate, text, zero);
  return ok(s.value);
}

Parsed<double> parse_probability(std::string_view text) {
  std::string problem;
  const std::optional<Number> n = lex(kProbability, text, problem);
  if (!n) return fail<double>(kProbability, text, problem);
  if (n->unit.empty()) {
    return fail<double>(
        kProbability, text,
        concat({"missing \"%\" sign; write a percentage such as ", quoted(concat({n->digits, "%"})),
                " (a bare number could be a fraction or a percentage)"}));
  }
  if (n->unit != "%") {
    return fail<double>(kProbability, text,
                        concat({"unknown unit ", quoted(n->unit), "; ", kProbability.accepted, " ",
                                example_with(kProbability, n->digits)}));
  }
  // Compare as exact decimal so "100.0000000000000001%" is caught, which a double
  // comparison would round to 100% and accept.
  std::uint64_t whole = 0;
  const auto [ptr, ec] =
      std::from_chars(n->integer.data(), n->integer.data() + n->integer.size(), whole);
  const bool fraction_nonzero = n->fraction.find_first_not_of('0') != std::string_view::npos;
  if (ec == std::errc::result_out_of_range || whole > 100 || (whole == 100 && fraction_nonzero)) {
    return fail<double>(kProbability, text,
                        "a probability cannot exceed 100%; write a percentage from 0% to 100%");
  }
  // Let from_chars divide by 100 via the exponent: it rounds the exact decimal once,
  // so "0.1%" yields the same double as the literal 0.001 (x / 100.0 would round twice).
  const std::string scientific = concat({n->digits, "e-2"});
  double value = 0.0;
  const auto [end, status] =
      std::from_chars(scientific.data(), scientific.data() + scientific.size(), value,
                      std::chars_format::scientific);
  if (status != std::errc{}) {
    return fail<double>(kProbability, text,
                        "the probability is too small to represent; use \"0%\" for none");
  }
  return ok(value);
}

Parsed<std::uint64_t> parse_bytes(std::string_view text) {
  std::string problem;
  const std::optional<Number> n = lex(kBytes, text, problem);
  if (!n) return fail<std::uint64_t>(kBytes, text, problem);
  // A bare integer is a byte count: bytes are the base unit and "mtu: 9000" is how
  // everyone writes it. A bare fraction cannot be bytes, so it needs a unit.
  if (n->unit.empty()) {
    if (!n->fraction.empty()) {
      return fail<std::uint64_t>(kBytes, text,
                                 concat({"a number without a unit is a whole count of bytes; "
                                         "add a unit for fractions ",
                                         example_with(kBytes, n->digits)}));
    }
    const Scaled s = scale(*n, 1, kU64Max);
    if (s.overflow) {
      return fail<std::uint64_t>(kBytes, text,
                                 "the size is too large; the maximum is 18446744073709551615 "
                                 "bytes (about 18.4 EB)");
    }
    return ok(s.value);
  }
  return bytes_from(kBytes, text, *n, lower_ascii(n->unit));
}

Parsed<QueueLimit> parse_queue_limit(std::string_view text) {
  std::string problem;
  const std::optional<Number> n = lex(kQueueLimit, text, problem);
  if (!n) return fail<QueueLimit>(kQueueLimit, text, problem);
  if (n->unit.empty()) {
    return fail<QueueLimit>(
        kQueueLimit, text,
        concat({"a number without a unit is ambiguous (tc reads it as packets); write ",
                quoted(concat({n->digits, "p"})), " for packets, ",
                quoted(concat({n->digits, "B"})), " for bytes or ",
                quoted(concat({n->digits, "ms"})), " for a time"}));
  }
  const std::string unit = lower_ascii(n->unit);
  const std::string_view zero = "a queue limit must be greater than zero";
  QueueLimit limit;
  if (is_packet_unit(unit)) {
    if (!n->fraction.empty()) {
      return fail<QueueLimit>(kQueueLimit, text,
                              concat({"a packet count must be a whole number (e.g. ",
                                      quoted(concat({n->integer, n->unit})), ")"}));
    }
    const Scaled s = scale(*n, 1, kU64Max);
    if (s.overflow) {
      return fail<QueueLimit>(kQueueLimit, text,
                              "the packet count is too large; the maximum is "
                              "18446744073709551615");
    }
    if (s.value == 0) return fail<QueueLimit>(kQueueLimit, text, zero);
    limit.kind = QueueLimit::Kind::packets;
    limit.packets = s.value;
    return ok(limit);
  }
  // Single letters go to the byte parser, which explains the kB/KiB ambiguity.
  if (lookup(kByteUnits, unit) || is_one_of(unit, {"k", "m", "g", "t"})) {
    Parsed<std::uint64_t> b = bytes_from(kQueueLimit, text, *n, unit);
    if (!b) return Parsed<QueueLimit>{std::nullopt, std::move(b.error)};
    if (*b == 0) return fail<QueueLimit>(kQueueLimit, text, zero);
    limit.kind = QueueLimit::Kind::bytes;
    limit.bytes = *b;
    return ok(limit);
  }
  if (lookup(kDurationUnits, unit) || is_long_time_unit(unit)) {
    Parsed<Nanos> d = duration_from(kQueueLimit, text, *n, unit);
    if (!d) return Parsed<QueueLimit>{std::nullopt, std::move(d.error)};
    if (d->count() == 0) return fail<QueueLimit>(kQueueLimit, text, zero);
    limit.kind = QueueLimit::Kind::time;
    limit.time = *d;
    return ok(limit);
  }
  return fail<QueueLimit>(kQueueLimit, text,
                          concat({"unknown unit ", quoted(n->unit), "; ", kQueueLimit.accepted}));
}

std::string format_duration(Nanos d) {
  static constexpr std::array<DisplayUnit, 4> kUnits{{
      {1.0, "ns"},
      {1e3, "us"},
      {1e6, "ms"},
      {1e9, "s"},
  }};
  return format_scaled(static_cast<double>(d.count()), kUnits, 3);
}

std::string format_rate(double bps) {
  static constexpr std::array<DisplayUnit, 5> kUnits{{
      {1.0, "bit/s"},
      {1e3, "kbit/s"},
      {1e6, "Mbit/s"},
      {1e9, "Gbit/s"},
      {1e12, "Tbit/s"},
  }};
  return format_scaled(bps, kUnits, 0);
}

std::string format_bytes(double bytes) {
  static constexpr std::array<DisplayUnit, 6> kUnits{{
      {1.0, "B"},
      {1e3, "kB"},
      {1e6, "MB"},
      {1e9, "GB"},
      {1e12, "TB"},
      {1e15, "PB"},
  }};
  return format_scaled(bytes, kUnits, 0);
}

}  // namespace longhaul::core

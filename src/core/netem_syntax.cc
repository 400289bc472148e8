#include "core/netem_syntax.hh"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <system_error>
#include <utility>

namespace longhaul::core {

namespace {

constexpr std::int64_t kMaxTimeNs = 1'000'000'000'000;  // 1000 s

constexpr std::string_view kAccepted =
    "accepted: limit, delay (or latency), distribution, loss (or drop), ecn, corrupt, "
    "duplicate, reorder, gap, rate, seed";
constexpr std::string_view kTimeUnits =
    "use s, ms, us or ns (a bare number is microseconds, as in tc)";
constexpr std::string_view kPercentForm =
    "write a percentage such as 0.1% (the % is optional: tc reads a bare number as a percentage)";
constexpr std::string_view kRateUnits =
    "use bit, kbit, mbit, gbit, tbit (or kibit, mibit, gibit, tibit) for bits per second, or "
    "bps, kbps, mbps, gbps, tbps (or kibps, mibps, gibps, tibps) for BYTES per second, as in tc";

// tc's keywords in the order its parser tries them (abbreviations resolve to the first).
constexpr std::string_view kTcKeywords[] = {
    "limit",   "latency", "delay",     "loss",         "drop", "ecn",  "reorder",
    "corrupt", "gap",     "duplicate", "distribution", "rate", "slot", "seed"};

struct Token {
  std::string_view text;
  std::size_t line = 1;
  std::size_t column = 1;
};

bool is_space(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}
bool is_digit(char c) noexcept {
  return c >= '0' && c <= '9';
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string quoted(std::string_view text) {
  return "\"" + std::string(text) + "\"";
}

std::vector<Token> tokenize(std::string_view text) {
  std::vector<Token> tokens;
  std::size_t line = 1;
  std::size_t line_start = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    if (text[i] == '\n') {
      ++line;
      line_start = ++i;
      continue;
    }
    if (is_space(text[i])) {
      ++i;
      continue;
    }
    const std::size_t start = i;
    while (i < text.size() && !is_space(text[i])) ++i;
    tokens.push_back(Token{text.substr(start, i - start), line, start - line_start + 1});
  }
  return tokens;
}

// DIGITS [ "." DIGITS ] UNIT: the shape of every number tc takes here.
struct Decimal {
  std::string_view integer;
  std::string_view fraction;
  std::string_view unit;
  std::string_view number;  // integer [. fraction]
};

std::optional<Decimal> lex_decimal(std::string_view word) {
  std::size_t i = 0;
  while (i < word.size() && is_digit(word[i])) ++i;
  if (i == 0) return std::nullopt;
  Decimal decimal;
  decimal.integer = word.substr(0, i);
  if (i < word.size() && word[i] == '.') {
    const std::size_t start = ++i;
    while (i < word.size() && is_digit(word[i])) ++i;
    if (i == start) return std::nullopt;
    decimal.fraction = word.substr(start, i - start);
  }
  decimal.number = word.substr(0, i);
  decimal.unit = word.substr(i);
  return decimal;
}

// Exact decimal value times 10^shift, rounded half up; nullopt above `limit`.
std::optional<std::int64_t> shifted(const Decimal& decimal, std::size_t shift, std::int64_t limit) {
  std::int64_t value = 0;
  auto push = [&](char digit) {
    if (value > limit) return;
    value = value * 10 + (digit - '0');
  };
  for (char c : decimal.integer) push(c);
  for (std::size_t k = 0; k < shift; ++k)
    push(k < decimal.fraction.size() ? decimal.fraction[k] : '0');
  if (decimal.fraction.size() > shift && decimal.fraction[shift] >= '5') ++value;
  if (value > limit) return std::nullopt;
  return value;
}

std::string format_time(Nanos time) {
  const std::int64_t ns = time.count();
  if (ns == 0) return "0us";
  if (ns % 1'000'000'000 == 0) return std::to_string(ns / 1'000'000'000) + "s";
  if (ns % 1'000'000 == 0) return std::to_string(ns / 1'000'000) + "ms";
  if (ns % 1'000 == 0) return std::to_string(ns / 1'000) + "us";
  return std::to_string(ns) + "ns";
}

std::string format_percent(double fraction) {
  // Twelve significant digits (what survives the percent <-> fraction arithmetic), in fixed
  // notation: tc's grammar, and ours, has no exponents. Below netem's resolution (2^-32 of
  // 100 %) a value is 0.
  const double percent = fraction * 100.0;
  if (!(std::abs(percent) >= 1e-10)) return "0%";
  const int magnitude = static_cast<int>(std::floor(std::log10(std::abs(percent))));
  char buffer[512];
  const auto result = std::to_chars(buffer, buffer + sizeof(buffer), percent,
                                    std::chars_format::fixed, std::max(0, 11 - magnitude));
  std::string text(buffer, result.ptr);
  if (text.find('.') != std::string::npos) {
    text.erase(text.find_last_not_of('0') + 1);
    if (text.back() == '.') text.pop_back();
  }
  return text + "%";
}

std::string format_rate(std::uint64_t bps) {
  if (bps % 1'000'000'000 == 0) return std::to_string(bps / 1'000'000'000) + "gbit";
  if (bps % 1'000'000 == 0) return std::to_string(bps / 1'000'000) + "mbit";
  if (bps % 1'000 == 0) return std::to_string(bps / 1'000) + "kbit";
  return std::to_string(bps) + "bit";
}

class Parser {
 public:
  explicit Parser(std::string_view text) : tokens_(tokenize(text)) {}

  SyntaxResult<NetemSpec> run() {
    SyntaxResult<NetemSpec> result;
    if (parse_all()) {
      result.value = std::move(spec_);
    } else {
      result.error = std::move(error_);
    }
    return result;
  }

 private:
  // ---------------------------------------------------------------- errors
  bool fail(const Token& token, const std::string& problem) {
    error_.line = token.line;
    error_.column = token.column;
    error_.word = std::string(token.text);
    error_.message = "netem: " + quoted(token.text) + " at column " + std::to_string(token.column) +
                     (token.line > 1 ? " of line " + std::to_string(token.line) : "") + ": " +
                     problem;
    return false;
  }
  bool fail_end(const Token& after, const std::string& problem) {
    error_.line = after.line;
    error_.column = after.column + after.text.size();
    error_.word.clear();
    error_.message = "netem: the line ends after " + quoted(after.text) + " (column " +
                     std::to_string(after.column) + "): " + problem;
    return false;
  }

  // ---------------------------------------------------------------- cursor
  bool more() const noexcept { return pos_ < tokens_.size(); }
  bool next_is_number() const noexcept { return more() && is_digit(tokens_[pos_].text[0]); }
  bool next_is_signed_number() const noexcept {
    return more() && (is_digit(tokens_[pos_].text[0]) || tokens_[pos_].text[0] == '-');
  }
  // The required argument after `keyword`, or an error saying what was expected.
  const Token* required(const Token& keyword, std::string_view what) {
    if (!more()) {
      fail_end(keyword, quoted(keyword.text) + " needs " + std::string(what));
      return nullptr;
    }
    return &tokens_[pos_++];
  }
  bool once(const Token& keyword, std::string_view name) {
    for (const std::string& seen : seen_) {
      if (seen == name) return fail(keyword, std::string(name) + " is given twice; give it once");
    }
    seen_.emplace_back(name);
    return true;
  }

  // ---------------------------------------------------------------- values
  bool time(const Token& token, std::string_view what, Nanos& out) {
    const auto decimal = lex_decimal(token.text);
    if (!decimal) {
      return fail(token, "invalid " + std::string(what) +
                             ": not a number with a time unit (e.g. "
                             "100ms); " +
                             std::string(kTimeUnits));
    }
    const std::string unit = lower(decimal->unit);
    std::size_t shift = 0;
    if (unit == "s" || unit == "sec" || unit == "secs") {
      shift = 9;
    } else if (unit == "ms" || unit == "msec" || unit == "msecs") {
      shift = 6;
    } else if (unit == "us" || unit == "usec" || unit == "usecs" || unit.empty()) {
      shift = 3;
    } else if (unit == "ns" || unit == "nsec" || unit == "nsecs") {
      shift = 0;
    } else {
      return fail(token, "invalid " + std::string(what) + ": unknown time unit " +
                             quoted(decimal->unit) + "; " + std::string(kTimeUnits));
    }
    const auto ns = shifted(*decimal, shift, kMaxTimeNs);
    if (!ns) return fail(token, "invalid " + std::string(what) + ": longer than 1000 s");
    out = Nanos{*ns};
    return true;
  }

  bool percent(const Token& token, std::string_view what, double& out) {
    const auto decimal = lex_decimal(token.text);
    if (!decimal || (!decimal->unit.empty() && decimal->unit != "%")) {
      return fail(token, "invalid " + std::string(what) + "; " + std::string(kPercentForm));
    }
    // Parse "<number>e-2" so the result is the double nearest the exact decimal / 100.
    const std::string text = std::string(decimal->number) + "e-2";
    double value = 0.0;
    const auto parsed = std::from_chars(text.data(), text.data() + text.size(), value);
    if (parsed.ec != std::errc{} || value > 1.0) {
      return fail(token, "invalid " + std::string(what) + ": more than 100%");
    }
    out = value;
    return true;
  }

  bool unsigned_integer(const Token& token, std::string_view what, std::uint64_t max,
                        std::uint64_t& out) {
    for (char c : token.text) {
      if (!is_digit(c)) {
        return fail(token, "invalid " + std::string(what) + ": write a whole number (e.g. 1000)");
      }
    }
    std::uint64_t value = 0;
    const auto parsed =
        std::from_chars(token.text.data(), token.text.data() + token.text.size(), value);
    if (parsed.ec != std::errc{} || value > max) {
      return fail(token, "invalid " + std::string(what) + ": larger than " + std::to_string(max));
    }
    out = value;
    return true;
  }

  bool signed_integer(const Token& token, std::string_view what, std::int32_t& out) {
    std::int32_t value = 0;
    const auto parsed =
        std::from_chars(token.text.data(), token.text.data() + token.text.size(), value);
    if (parsed.ec != std::errc{} || parsed.ptr != token.text.data() + token.text.size()) {
      return fail(token, "invalid " + std::string(what) +
                             ": write a whole number of bytes, possibly negative (e.g. -4)");
    }
    out = value;
    return true;
  }

  bool rate(const Token& token, std::uint64_t& out) {
    if (token.text.find('%') != std::string_view::npos) {
      return fail(token,
                  "a rate as a percentage of the device speed is not supported (there is no "
                  "device here); give an absolute rate such as 100mbit");
    }
    const auto decimal = lex_decimal(token.text);
    if (!decimal)
      return fail(token, "invalid RATE: not a number with a unit; " + std::string(kRateUnits));
    struct Unit {
      std::string_view name;
      double bits_per_second;
    };
    static constexpr Unit kUnits[] = {
        {"", 1.0},
        {"bit", 1.0},
        {"kbit", 1e3},
        {"mbit", 1e6},
        {"gbit", 1e9},
        {"tbit", 1e12},
        {"kibit", 1024.0},
        {"mibit", 1024.0 * 1024},
        {"gibit", 1024.0 * 1024 * 1024},
        {"tibit", 1024.0 * 1024 * 1024 * 1024},
        {"bps", 8.0},
        {"kbps", 8e3},
        {"mbps", 8e6},
        {"gbps", 8e9},
        {"tbps", 8e12},
        {"kibps", 8.0 * 1024},
        {"mibps", 8.0 * 1024 * 1024},
        {"gibps", 8.0 * 1024 * 1024 * 1024},
        {"tibps", 8.0 * 1024 * 1024 * 1024 * 1024},
    };
    const std::string unit = lower(decimal->unit);
    const Unit* found = nullptr;
    for (const Unit& candidate : kUnits) {
      if (candidate.name == unit) found = &candidate;
    }
    if (found == nullptr) {
      return fail(token, "invalid RATE: unknown unit " + quoted(decimal->unit) + "; " +
                             std::string(kRateUnits));
    }
    double number = 0.0;
    std::from_chars(decimal->number.data(), decimal->number.data() + decimal->number.size(),
                    number);
    const double bps = std::round(number * found->bits_per_second);
    if (!(bps >= 1.0)) return fail(token, "invalid RATE: must be at least 1 bit per second");
    if (!(bps < 9e18)) return fail(token, "invalid RATE: too large");
    out = static_cast<std::uint64_t>(bps);
    return true;
  }

  // Optional "[CORRELATION]" after a percentage.
  bool optional_correlation(std::string_view what, double& out) {
    if (!next_is_number()) return true;
    return percent(tokens_[pos_++], what, out);
  }

  // -------------------------------------------------------------- keywords
  bool parse_all() {
    skip_prefix();
    if (!error_.message.empty()) return false;
    while (more()) {
      const Token& keyword = tokens_[pos_++];
      const std::string word(keyword.text);
      bool ok = true;
      if (word == "limit") {
        ok = parse_limit(keyword);
      } else if (word == "delay" || word == "latency") {
        ok = parse_delay(keyword);
      } else if (word == "distribution") {
        ok = parse_distribution(keyword);
      } else if (word == "loss" || word == "drop") {
        ok = parse_loss(keyword);
      } else if (word == "ecn") {
        ok = once(keyword, "ecn");
        spec_.ecn = true;
      } else if (word == "corrupt") {
        ok = parse_probability(keyword, "corrupt", spec_.corrupt, spec_.corrupt_correlation);
      } else if (word == "duplicate") {
        ok = parse_probability(keyword, "duplicate", spec_.duplicate, spec_.duplicate_correlation);
      } else if (word == "reorder") {
        ok = parse_probability(keyword, "reorder", spec_.reorder, spec_.reorder_correlation);
      } else if (word == "gap") {
        ok = parse_gap(keyword);
      } else if (word == "rate") {
        ok = parse_rate(keyword);
      } else if (word == "seed") {
        ok = parse_seed(keyword);
      } else if (word == "slot") {
        ok = fail(keyword,
                  "slot (MAC-layer transmission slots, as on Wi-Fi or DOCSIS) is not supported by "
                  "longhaul; remove it");
      } else if (word == "help") {
        ok = fail(keyword, "not a parameter; " + std::string(kAccepted));
      } else {
        ok = unknown(keyword);
      }
      if (!ok) return false;
    }
    return check_combinations();
  }

  // `tc qdisc add dev eth0 root netem ...` or `netem ...`: keep what follows "netem".
  void skip_prefix() {
    if (tokens_.empty()) return;
    if (tokens_[0].text == "netem") {
      pos_ = 1;
      return;
    }
    if (tokens_[0].text != "tc") return;
    for (std::size_t i = 1; i < tokens_.size(); ++i) {
      if (tokens_[i].text == "netem") {
        pos_ = i + 1;
        return;
      }
    }
    fail(tokens_[0], "a tc command line must name the netem qdisc (\"... netem delay 100ms\")");
  }

  bool unknown(const Token& keyword) {
    for (std::string_view candidate : kTcKeywords) {
      if (keyword.text.size() < candidate.size() &&
          candidate.substr(0, keyword.text.size()) == keyword.text) {
        return fail(keyword, "unknown parameter; tc would read it as " + quoted(candidate) +
                                 " (an abbreviation): write it in full; " + std::string(kAccepted));
      }
    }
    if (next_word_was_optional(keyword)) {
      return fail(keyword,
                  "unexpected number: no parameter takes it here (optional numbers must "
                  "follow their keyword directly); " +
                      std::string(kAccepted));
    }
    return fail(keyword, "unknown parameter; " + std::string(kAccepted));
  }
  static bool next_word_was_optional(const Token& keyword) {
    return is_digit(keyword.text[0]) || keyword.text[0] == '-' || keyword.text[0] == '.';
  }

  bool parse_limit(const Token& keyword) {
    if (!once(keyword, "limit")) return false;
    const Token* value = required(keyword, "a number of PACKETS (e.g. limit 1000)");
    std::uint64_t packets = 0;
    if (value == nullptr || !unsigned_integer(*value, "limit PACKETS",
                                              std::numeric_limits<std::uint32_t>::max(), packets)) {
      return false;
    }
    if (packets == 0) return fail(*value, "invalid limit PACKETS: must be at least 1");
    spec_.limit_packets = static_cast<std::uint32_t>(packets);
    return true;
  }

  bool parse_delay(const Token& keyword) {
    if (!once(keyword, "delay")) return false;
    const Token* value = required(keyword, "a TIME (e.g. delay 100ms)");
    if (value == nullptr) return false;
    if (value->text == "trace") return fail(*value, "delay traces are not supported");
    if (!time(*value, "delay TIME", spec_.delay)) return false;
    if (!next_is_number()) return true;
    if (!time(tokens_[pos_++], "delay JITTER", spec_.jitter)) return false;
    return optional_correlation("delay CORRELATION", spec_.delay_correlation);
  }

  bool parse_distribution(const Token& keyword) {
    if (!once(keyword, "distribution")) return false;
    const Token* value = required(
        keyword, "a NAME: uniform, normal, pareto, paretonormal or the name of a .dist table");
    if (value == nullptr) return false;
    for (char c : value->text) {
      const bool fine = is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        c == '_' || c == '-' || c == '.';
      if (!fine || value->text[0] == '.') {
        return fail(*value,
                    "invalid distribution NAME: use uniform, normal, pareto, paretonormal or the "
                    "name of a table NAME.dist (letters, digits, \"_\", \"-\", \".\")");
      }
    }
    spec_.distribution_name = std::string(value->text);
    spec_.distribution = builtin_jitter_shape(value->text).value_or(JitterShape::table);
    return true;
  }

  bool parse_probability(const Token& keyword, std::string_view name, double& probability,
                         double& correlation) {
    if (!once(keyword, name)) return false;
    const Token* value = required(keyword, "a PERCENT (e.g. " + std::string(name) + " 1%)");
    if (value == nullptr || !percent(*value, std::string(name) + " PERCENT", probability)) {
      return false;
    }
    return optional_correlation(std::string(name) + " CORRELATION", correlation);
  }

  bool parse_loss(const Token& keyword) {
    if (!once(keyword, "loss")) return false;
    const Token* model = required(
        keyword, "a PERCENT or a model: random PERCENT, state P13 ..., gemodel PERCENT ...");
    if (model == nullptr) return false;
    if (is_digit(model->text[0])) {
      --pos_;  // tc's old syntax: "loss 1%" is "loss random 1%"
      return parse_random_loss(keyword);
    }
    if (model->text == "random") return parse_random_loss(*model);
    if (model->text == "state") return parse_state_loss(*model);
    if (model->text == "gemodel") return parse_gemodel_loss(*model);
    if (model->text == "trace") return fail(*model, "loss traces are not supported");
    return fail(*model,
                "unknown loss model; accepted: random PERCENT [CORRELATION], state P13 "
                "[P31 [P32 [P23 [P14]]]], gemodel PERCENT [R [1-H [1-K]]], or a PERCENT");
  }

  bool parse_random_loss(const Token& keyword) {
    RandomLossConfig config;
    const Token* value = required(keyword, "a PERCENT (e.g. loss random 0.1%)");
    if (value == nullptr || !percent(*value, "loss PERCENT", config.probability)) return false;
    if (!optional_correlation("loss CORRELATION", config.correlation)) return false;
    spec_.loss = config;
    return true;
  }

  bool parse_state_loss(const Token& keyword) {
    const Token* value = required(keyword, "P13 (e.g. loss state 1%)");
    double p13 = 0.0;
    if (value == nullptr || !percent(*value, "loss state P13", p13)) return false;
    MarkovLossConfig config = MarkovLossConfig::netem_defaults(p13);
    double* const rest[] = {&config.p31, &config.p32, &config.p23, &config.p14};
    const char* const names[] = {"loss state P31", "loss state P32", "loss state P23",
                                 "loss state P14"};
    for (std::size_t i = 0; i < 4 && next_is_number(); ++i) {
      if (!percent(tokens_[pos_++], names[i], *rest[i])) return false;
    }
    spec_.loss = config;
    return true;
  }

  bool parse_gemodel_loss(const Token& keyword) {
    const Token* value = required(keyword, "a PERCENT (e.g. loss gemodel 1% 10%)");
    double p = 0.0;
    if (value == nullptr || !percent(*value, "loss gemodel PERCENT", p)) return false;
    GilbertElliottConfig config = GilbertElliottConfig::netem_defaults(p);
    double* const rest[] = {&config.r, &config.one_minus_h, &config.one_minus_k};
    const char* const names[] = {"loss gemodel R", "loss gemodel 1-H", "loss gemodel 1-K"};
    for (std::size_t i = 0; i < 3 && next_is_number(); ++i) {
      if (!percent(tokens_[pos_++], names[i], *rest[i])) return false;
    }
    spec_.loss = config;
    return true;
  }

  bool parse_gap(const Token& keyword) {
    if (!once(keyword, "gap")) return false;
    const Token* value = required(keyword, "a DISTANCE in packets (e.g. gap 5)");
    std::uint64_t gap = 0;
    if (value == nullptr ||
        !unsigned_integer(*value, "gap DISTANCE", std::numeric_limits<std::uint32_t>::max(), gap)) {
      return false;
    }
    spec_.gap = static_cast<std::uint32_t>(gap);
    return true;
  }

  bool parse_rate(const Token& keyword) {
    if (!once(keyword, "rate")) return false;
    const Token* value = required(keyword, "a RATE (e.g. rate 100mbit)");
    std::uint64_t bps = 0;
    if (value == nullptr || !rate(*value, bps)) return false;
    spec_.rate_bps = bps;
    if (next_is_signed_number()) {
      std::int32_t overhead = 0;
      if (!signed_integer(tokens_[pos_++], "rate PACKETOVERHEAD", overhead)) return false;
      spec_.packet_overhead = overhead;
    }
    if (next_is_number()) {
      const Token& cell = tokens_[pos_++];
      std::uint64_t cell_size = 0;
      if (!unsigned_integer(cell, "rate CELLSIZE", std::numeric_limits<std::uint32_t>::max(),
                            cell_size)) {
        return false;
      }
      if (cell_size != 0) {
        return fail(cell, "rate CELLSIZE (ATM-style cell framing) is not supported; remove it");
      }
    }
    if (next_is_signed_number()) {
      const Token& cell_overhead = tokens_[pos_++];
      std::int32_t bytes = 0;
      if (!signed_integer(cell_overhead, "rate CELLOVERHEAD", bytes)) return false;
      if (bytes != 0) {
        return fail(cell_overhead,
                    "rate CELLOVERHEAD (ATM-style cell framing) is not supported; remove it");
      }
    }
    return true;
  }

  bool parse_seed(const Token& keyword) {
    if (!once(keyword, "seed")) return false;
    const Token* value = required(keyword, "a NUMBER (e.g. seed 42)");
    std::uint64_t seed = 0;
    if (value == nullptr ||
        !unsigned_integer(*value, "seed NUMBER", std::numeric_limits<std::uint64_t>::max(), seed)) {
      return false;
    }
    spec_.seed = seed;
    return true;
  }

  // The checks tc makes after reading the whole line.
  bool check_combinations() {
    auto fail_combination = [&](const std::string& problem) {
      error_.line = 0;
      error_.column = 0;
      error_.word.clear();
      error_.message = "netem: " + problem;
      return false;
    };
    if (spec_.reorder > 0.0) {
      if (spec_.delay.count() == 0) {
        return fail_combination(
            "reorder needs a delay (reordered packets are those sent without it); add e.g. "
            "\"delay 10ms\"");
      }
      if (spec_.gap == 0) spec_.gap = 1;
    } else if (spec_.gap > 0) {
      return fail_combination("gap needs a reorder probability; add e.g. \"reorder 25%\"");
    }
    if (spec_.ecn && std::holds_alternative<std::monostate>(spec_.loss)) {
      return fail_combination(
          "ecn needs a loss model (it marks instead of dropping); add e.g. "
          "\"loss 1%\"");
    }
    if (!spec_.distribution_name.empty() &&
        (spec_.delay.count() == 0 || spec_.jitter.count() == 0)) {
      return fail_combination(
          "distribution needs a delay and a jitter; write e.g. \"delay 100ms 10ms distribution " +
          spec_.distribution_name + "\"");
    }
    return true;
  }

  std::vector<Token> tokens_;
  std::size_t pos_ = 0;
  NetemSpec spec_;
  SyntaxError error_;
  std::vector<std::string> seen_;
};

}  // namespace

SyntaxResult<NetemSpec> parse_netem(std::string_view text) {
  return Parser(text).run();
}

std::string format_netem(const NetemSpec& spec) {
  std::string out;
  auto add = [&out](const std::string& words) {
    if (!out.empty()) out += ' ';
    out += words;
  };
  if (spec.limit_packets) add("limit " + std::to_string(*spec.limit_packets));
  if (spec.delay.count() != 0 || spec.jitter.count() != 0 || spec.delay_correlation != 0.0) {
    std::string words = "delay " + format_time(spec.delay);
    if (spec.jitter.count() != 0 || spec.delay_correlation != 0.0) {
      words += " " + format_time(spec.jitter);
      if (spec.delay_correlation != 0.0) words += " " + format_percent(spec.delay_correlation);
    }
    add(words);
  }
  if (!spec.distribution_name.empty()) add("distribution " + spec.distribution_name);
  if (const auto* random_loss = std::get_if<RandomLossConfig>(&spec.loss)) {
    std::string words = "loss random " + format_percent(random_loss->probability);
    if (random_loss->correlation != 0.0) words += " " + format_percent(random_loss->correlation);
    add(words);
  } else if (const auto* markov = std::get_if<MarkovLossConfig>(&spec.loss)) {
    add("loss state " + format_percent(markov->p13) + " " + format_percent(markov->p31) + " " +
        format_percent(markov->p32) + " " + format_percent(markov->p23) + " " +
        format_percent(markov->p14));
  } else if (const auto* ge = std::get_if<GilbertElliottConfig>(&spec.loss)) {
    add("loss gemodel " + format_percent(ge->p) + " " + format_percent(ge->r) + " " +
        format_percent(ge->one_minus_h) + " " + format_percent(ge->one_minus_k));
  }
  if (spec.ecn) add("ecn");
  auto probability = [&](std::string_view name, double p, double correlation) {
    if (p == 0.0) return;
    std::string words = std::string(name) + " " + format_percent(p);
    if (correlation != 0.0) words += " " + format_percent(correlation);
    add(words);
  };
  probability("corrupt", spec.corrupt, spec.corrupt_correlation);
  probability("duplicate", spec.duplicate, spec.duplicate_correlation);
  probability("reorder", spec.reorder, spec.reorder_correlation);
  if (spec.reorder > 0.0 && spec.gap > 1) add("gap " + std::to_string(spec.gap));
  if (spec.rate_bps) {
    std::string words = "rate " + format_rate(*spec.rate_bps);
    if (spec.packet_overhead) words += " " + std::to_string(*spec.packet_overhead);
    add(words);
  }
  if (spec.seed) add("seed " + std::to_string(*spec.seed));
  return out;
}

JitterConfig netem_jitter_config(const NetemSpec& spec, std::vector<std::int16_t> table,
                                 CorrelationModel model) {
  JitterConfig config;
  config.delay = spec.delay;
  config.jitter = spec.jitter;
  config.correlation = spec.delay_correlation;
  config.shape = spec.distribution;
  if (spec.distribution == JitterShape::table) config.table = std::move(table);
  config.correlation_model = model;
  return config;
}

LossStageConfig netem_loss_config(const NetemSpec& spec, CorrelationModel model) {
  LossStageConfig config;
  config.model = spec.loss;
  config.correlation_model = model;
  config.ecn = spec.ecn;
  return config;
}

DuplicateConfig netem_duplicate_config(const NetemSpec& spec, CorrelationModel model) {
  return DuplicateConfig{spec.duplicate, spec.duplicate_correlation, model};
}

CorruptConfig netem_corrupt_config(const NetemSpec& spec, CorrelationModel model) {
  CorruptConfig config;
  config.probability = spec.corrupt;
  config.correlation = spec.corrupt_correlation;
  config.correlation_model = model;
  return config;
}

ReorderConfig netem_reorder_config(const NetemSpec& spec, CorrelationModel model) {
  return ReorderConfig{spec.reorder, spec.reorder_correlation, spec.gap == 0 ? 1 : spec.gap, model};
}

}  // namespace longhaul::core

#include "core/distribution.hh"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <string>

namespace longhaul::core {

namespace {

constexpr std::int64_t kMaxSigmaNs = 1'000'000'000'000;  // 1000 s keeps sigma * t in range
constexpr double kTwoTo32 = 4294967296.0;

double clamp01(double value) noexcept {
  if (!(value > 0.0)) return 0.0;  // also maps NaN to 0
  return value < 1.0 ? value : 1.0;
}

std::int16_t clamp_short(int value) noexcept {
  return static_cast<std::int16_t>(std::clamp(value, -32768, 32767));
}

// iproute2 netem/normal.c and paretonormal.c: table[i] is the largest x on a
// 0.00005 grid with rint(16384 * Phi(x)) == i. The loop and its floating-point
// accumulation are kept as written so the result is bit-identical.
std::vector<double> normal_grid() {
  std::vector<double> table(16385, 0.0);
  for (double x = -10.0; x < 10.05; x += .00005) {
    const double cdf = .5 + .5 * std::erf((x - 0.0) / (std::sqrt(2.0) * 1.0));
    const auto i = static_cast<std::size_t>(std::rint(16384 * cdf));
    table[i] = x;
  }
  return table;
}

// iproute2 netem/pareto.c / paretovalue() in paretonormal.c, for i = 65536, 65520, ..., 16.
int pareto_value(int i) noexcept {
  double value = static_cast<double>(i) / 65536.0;
  value = 1.0 / std::pow(value, 1.0 / 3.0);
  value -= 1.5;
  value *= (4.0 / 3.0) * 8192.0;
  if (value > 32767) value = 32767;
  return static_cast<int>(std::rint(value));
}

std::vector<std::int16_t> make_normal() {
  const std::vector<double> grid = normal_grid();
  std::vector<std::int16_t> table;
  for (std::size_t i = 0; i < 16384; i += 4) {
    table.push_back(clamp_short(static_cast<int>(std::rint(grid[i] * 8192))));
  }
  return table;
}

std::vector<std::int16_t> make_pareto() {
  std::vector<std::int16_t> table;
  for (int i = 65536; i > 0; i -= 16) table.push_back(clamp_short(pareto_value(i)));
  return table;
}

std::vector<std::int16_t> make_paretonormal() {
  const std::vector<double> grid = normal_grid();
  std::vector<std::int16_t> table;
  for (int i = 0; i < 16384; i += 4) {
    // The normal value is not clamped before mixing (as in paretonormal.c).
    const int normal = static_cast<int>(std::rint(grid[static_cast<std::size_t>(i)] * 8192));
    const int pareto = pareto_value(65536 - 4 * i);
    table.push_back(clamp_short((normal + 3 * pareto) / 4));
  }
  return table;
}

bool is_space(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

}  // namespace

const char* jitter_shape_name(JitterShape shape) noexcept {
  switch (shape) {
    case JitterShape::uniform:
      return "uniform";
    case JitterShape::normal:
      return "normal";
    case JitterShape::pareto:
      return "pareto";
    case JitterShape::paretonormal:
      return "paretonormal";
    case JitterShape::table:
      return "table";
  }
  return "?";
}

std::optional<JitterShape> builtin_jitter_shape(std::string_view name) noexcept {
  if (name == "uniform") return JitterShape::uniform;
  if (name == "normal") return JitterShape::normal;
  if (name == "pareto") return JitterShape::pareto;
  if (name == "paretonormal") return JitterShape::paretonormal;
  return std::nullopt;
}

std::span<const std::int16_t> netem_normal_table() {
  static const std::vector<std::int16_t> table = make_normal();
  return table;
}

std::span<const std::int16_t> netem_pareto_table() {
  static const std::vector<std::int16_t> table = make_pareto();
  return table;
}

std::span<const std::int16_t> netem_paretonormal_table() {
  static const std::vector<std::int16_t> table = make_paretonormal();
  return table;
}

SyntaxResult<std::vector<std::int16_t>> parse_dist_table(std::string_view text) {
  constexpr std::string_view kAccepted =
      "a distribution table holds integers from -32768 to 32767 (units of sigma/8192) "
      "separated by whitespace, with \"#\" starting a comment";
  SyntaxResult<std::vector<std::int16_t>> result;
  std::vector<std::int16_t> values;
  auto fail = [&](std::size_t line, std::size_t column, std::string_view word,
                  const std::string& problem) {
    result.error.line = line;
    result.error.column = column;
    result.error.word = std::string(word);
    result.error.message =
        "line " + std::to_string(line) + ", column " + std::to_string(column) + ": " + problem;
    return result;
  };
  std::size_t line = 1;
  std::size_t line_start = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c == '\n') {
      ++line;
      line_start = ++i;
      continue;
    }
    if (is_space(c)) {
      ++i;
      continue;
    }
    if (c == '#') {
      while (i < text.size() && text[i] != '\n') ++i;
      continue;
    }
    const std::size_t start = i;
    while (i < text.size() && !is_space(text[i]) && text[i] != '#') ++i;
    const std::string_view word = text.substr(start, i - start);
    const std::size_t column = start - line_start + 1;
    std::size_t digits_at = (word[0] == '-') ? 1 : 0;
    bool numeric = word.size() > digits_at;
    for (std::size_t k = digits_at; k < word.size(); ++k) {
      if (word[k] < '0' || word[k] > '9') numeric = false;
    }
    if (!numeric) {
      return fail(line, column, word,
                  "\"" + std::string(word) + "\" is not an integer; " + std::string(kAccepted));
    }
    long long value = 0;
    for (std::size_t k = digits_at; k < word.size(); ++k) {
      value = value * 10 + (word[k] - '0');
      if (value > 32768) break;
    }
    if (word[0] == '-') value = -value;
    if (value < -32768 || value > 32767) {
      return fail(line, column, word,
                  "\"" + std::string(word) + "\" is out of range; " + std::string(kAccepted));
    }
    if (values.size() == kNetemDistMaxEntries) {
      return fail(line, column, word,
                  "more than " + std::to_string(kNetemDistMaxEntries) +
                      " entries (netem's limit); shorten the table");
    }
    values.push_back(static_cast<std::int16_t>(value));
  }
  if (values.empty()) {
    return fail(line, 1, "", "the table has no entries; " + std::string(kAccepted));
  }
  result.value = std::move(values);
  return result;
}

std::uint32_t netem_fraction_u32(double fraction) noexcept {
  return static_cast<std::uint32_t>(std::rint(clamp01(fraction) * 4294967295.0));
}

// ------------------------------------------------------------ CorrelatedUniform

CorrelatedUniform::CorrelatedUniform(double correlation, CorrelationModel model) noexcept
    : rho_(clamp01(correlation)),
      model_(model),
      rho_u32_plus_one_(std::uint64_t{netem_fraction_u32(rho_)} + 1) {}

double CorrelatedUniform::standard_normal(Random& random) noexcept {
  // Box-Muller, both values used.
  if (has_spare_normal_) {
    has_spare_normal_ = false;
    return spare_normal_;
  }
  const double u1 = 1.0 - random.uniform();  // (0, 1]
  const double u2 = random.uniform();
  const double radius = std::sqrt(-2.0 * std::log(u1));
  const double angle = 2.0 * std::numbers::pi * u2;
  spare_normal_ = radius * std::sin(angle);
  has_spare_normal_ = true;
  return radius * std::cos(angle);
}

double CorrelatedUniform::next(Random& random) noexcept {
  if (rho_ <= 0.0) return random.uniform();
  if (model_ == CorrelationModel::netem) {
    // sch_netem.c get_crandom: answer = (value * (2^32 - rho) + last * rho) >> 32,
    // rho = scaled correlation + 1; `last` starts as a random value.
    if (!primed_) {
      last_u32_ = static_cast<std::uint32_t>(random.next() >> 32);
      primed_ = true;
    }
    const std::uint64_t value = random.next() >> 32;
    const std::uint64_t answer =
        (value * ((std::uint64_t{1} << 32) - rho_u32_plus_one_) + last_u32_ * rho_u32_plus_one_) >>
        32;
    last_u32_ = static_cast<std::uint32_t>(answer);
    return static_cast<double>(last_u32_) / kTwoTo32;
  }
  if (!primed_) {
    z_ = standard_normal(random);
    primed_ = true;
  } else {
    z_ = rho_ * z_ + std::sqrt(1.0 - rho_ * rho_) * standard_normal(random);
  }
  const double u = 0.5 * std::erfc(-z_ / std::numbers::sqrt2);
  return u < 1.0 ? u : std::nextafter(1.0, 0.0);
}

// ---------------------------------------------------------- CorrelatedBernoulli

CorrelatedBernoulli::CorrelatedBernoulli(double probability, double correlation,
                                         CorrelationModel model) noexcept
    : probability_(clamp01(probability)),
      rho_(clamp01(correlation)),
      model_(model),
      probability_u32_(netem_fraction_u32(probability_)),
      netem_source_(correlation, CorrelationModel::netem) {}

void CorrelatedBernoulli::set_probability(double probability) noexcept {
  probability_ = clamp01(probability);
  probability_u32_ = netem_fraction_u32(probability_);
}

bool CorrelatedBernoulli::next(Random& random) noexcept {
  if (rho_ <= 0.0) return random.uniform() < probability_;
  if (model_ == CorrelationModel::netem) {
    // sch_netem.c: event when p && p >= get_crandom(), both scaled to 2^32.
    const auto draw = static_cast<std::uint64_t>(netem_source_.next(random) * kTwoTo32);
    return probability_u32_ != 0 && probability_u32_ >= draw;
  }
  if (primed_ && random.uniform() < rho_) return last_;
  primed_ = true;
  last_ = random.uniform() < probability_;
  return last_;
}

// ----------------------------------------------------------- DelayDistribution

DelayDistribution::DelayDistribution(const JitterConfig& config)
    : mu_(config.delay.count()),
      sigma_(std::clamp<std::int64_t>(config.jitter.count(), 0, kMaxSigmaNs)),
      uniform_(config.shape == JitterShape::uniform) {
  const auto mu = static_cast<double>(mu_);
  const auto sigma = static_cast<double>(sigma_);
  if (!uniform_) {
    std::span<const std::int16_t> source;
    switch (config.shape) {
      case JitterShape::normal:
        source = netem_normal_table();
        break;
      case JitterShape::pareto:
        source = netem_pareto_table();
        break;
      case JitterShape::paretonormal:
        source = netem_paretonormal_table();
        break;
      case JitterShape::table:
      case JitterShape::uniform:
        source = config.table;
        break;
    }
    sorted_.assign(source.begin(), source.end());
    std::sort(sorted_.begin(), sorted_.end());
    if (sorted_.empty()) sigma_ = 0;  // precondition violated: behave as a constant delay
  }
  if (sigma_ == 0) {
    mean_ns_ = mu;
    return;
  }
  if (uniform_) {
    mean_ns_ = mu;
    stddev_ns_ = sigma / std::sqrt(3.0);
    max_spread_ = sigma / 2.0;  // quantile' = 2 sigma, u(1-u) <= 1/4
    return;
  }
  const auto n = static_cast<double>(sorted_.size());
  double sum = 0.0;
  for (const std::int16_t t : sorted_) sum += t;
  const double table_mean = sum / n;
  double squares = 0.0;
  for (const std::int16_t t : sorted_) squares += (t - table_mean) * (t - table_mean);
  mean_ns_ = mu + sigma * table_mean / kNetemDistScale;
  stddev_ns_ = sigma * std::sqrt(squares / n) / kNetemDistScale;
  // Segment i runs from u = (i + 0.5)/N to (i + 1.5)/N with slope N * step.
  for (std::size_t i = 0; i + 1 < sorted_.size(); ++i) {
    const double a = (static_cast<double>(i) + 0.5) / n;
    const double b = (static_cast<double>(i) + 1.5) / n;
    const double peak = (a <= 0.5 && b >= 0.5) ? 0.25 : std::max(a * (1.0 - a), b * (1.0 - b));
    const double slope = n * (sorted_[i + 1] - sorted_[i]) * sigma / kNetemDistScale;
    max_spread_ = std::max(max_spread_, slope * peak);
  }
}

Nanos DelayDistribution::at(double u) const noexcept {
  std::int64_t value = mu_;
  if (sigma_ != 0) {
    if (uniform_) {
      const auto offset = static_cast<std::int64_t>(u * static_cast<double>(2 * sigma_));
      value = mu_ - sigma_ + std::min(offset, 2 * sigma_ - 1);
    } else {
      const auto n = sorted_.size();
      const auto index = std::min(n - 1, static_cast<std::size_t>(u * static_cast<double>(n)));
      const std::int64_t t = sorted_[index];
      // sch_netem.c tabledist: split sigma so sigma * t cannot overflow, round half away.
      std::int64_t x = (sigma_ % kNetemDistScale) * t;
      x += x >= 0 ? kNetemDistScale / 2 : -kNetemDistScale / 2;
      value = x / kNetemDistScale + (sigma_ / kNetemDistScale) * t + mu_;
    }
  }
  return Nanos{std::max<std::int64_t>(value, 0)};
}

double DelayDistribution::quantile(double u) const noexcept {
  const auto mu = static_cast<double>(mu_);
  const auto sigma = static_cast<double>(sigma_);
  if (sigma_ == 0) return mu;
  if (uniform_) return mu - sigma + 2.0 * sigma * u;
  const auto n = sorted_.size();
  const double position = u * static_cast<double>(n) - 0.5;
  double t = 0.0;
  if (position <= 0.0) {
    t = sorted_.front();
  } else if (position >= static_cast<double>(n - 1)) {
    t = sorted_.back();
  } else {
    const auto i = static_cast<std::size_t>(position);
    const double f = position - static_cast<double>(i);
    t = sorted_[i] + f * (sorted_[i + 1] - sorted_[i]);
  }
  return mu + sigma * t / kNetemDistScale;
}

// ---------------------------------------------------------------- JitterSampler

JitterSampler::JitterSampler(const JitterConfig& config, std::uint64_t seed)
    : distribution_(config), source_(config.correlation, config.correlation_model), random_(seed) {}

Nanos JitterSampler::next() noexcept {
  if (distribution_.constant()) return distribution_.at(0.0);
  return distribution_.at(source_.next(random_));
}

}  // namespace longhaul::core

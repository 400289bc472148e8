#pragma once
// Delay-jitter distributions and correlated random sources, defined as netem
// defines them so that pasted `tc ... netem` lines mean the same thing here.
//
// Distributions. netem draws a delay as mu + sigma * t / 8192, where t is an
// entry of a table of int16 values (NETEM_DIST_SCALE = 8192 = one sigma)
// chosen by a uniform random index. The built-in tables are regenerated here
// with the arithmetic of iproute2's netem/normal.c, pareto.c and
// paretonormal.c (bit-identical to the shipped .dist files), user tables use
// the same .dist text format, and "uniform" (netem's default when no
// distribution is named) is uniform on [mu - sigma, mu + sigma): sigma is its
// half-width, so its standard deviation is sigma / sqrt(3), exactly as in netem.
//
// The tables are not all normalised: measured over their 4096 entries,
//   normal        mean -0.0008 sigma, standard deviation 1.0001 sigma
//   pareto        mean -0.0335 sigma, standard deviation 0.8197 sigma
//   paretonormal  mean -0.0253 sigma, standard deviation 0.8339 sigma
// (pareto is iproute2's alpha = 3 Pareto, shifted by 1.5, scaled by 4/3 and
// clipped at 4 sigma). We keep netem's definitions rather than renormalise, so
// a tc line gives the same delays here as under netem; docs/impairments.md
// lists these moments. Negative draws (mu < 4 sigma) are clamped to zero delay.
//
// Correlation. netem's get_crandom mixes each new 32-bit uniform with the
// previous output, next = (1-rho)*random + rho*last. That is a weighted
// average, so its output is no longer uniform: for uniform jitter the standard
// deviation shrinks by sqrt((1-rho)/(1+rho)) (25% correlation: -23%), table
// distributions are squeezed towards their median, and a correlated loss
// probability is not the configured one (netem's "loss 1% 25%" loses far fewer
// than 1%). Two models are offered:
//   - CorrelationModel::preserving (the default): the marginal distribution is
//     exactly the configured one. Delays use a Gaussian copula, an AR(1)
//     process z' = rho*z + sqrt(1-rho^2)*e mapped to a uniform through the
//     normal CDF (lag-1 correlation of z is rho; of the delays, about rho).
//     Bernoulli events (loss, duplication, corruption, reordering) repeat the
//     previous outcome with probability rho and are drawn afresh otherwise: a
//     two-state Markov chain whose stationary probability is exactly p and
//     whose lag-1 correlation is exactly rho.
//   - CorrelationModel::netem: netem's arithmetic, distortion included, for
//     reproducing experiments done with netem.
// With rho = 0 both are plain independent draws.
//
// User tables are sorted once: netem indexes the table in file order, which
// gives the same distribution without correlation, but correlating the index
// of an unsorted table correlates nothing useful. Sorted, the table is a
// quantile function, so nearby uniforms give nearby delays.
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "core/random.hh"
#include "core/syntax_error.hh"
#include "core/time.hh"

namespace longhaul::core {

/// One sigma in table units (netem's NETEM_DIST_SCALE).
inline constexpr std::int32_t kNetemDistScale = 8192;
/// Largest table netem accepts (MAX_DIST in iproute2).
inline constexpr std::size_t kNetemDistMaxEntries = 16384;

enum class JitterShape : std::uint8_t { uniform, normal, pareto, paretonormal, table };

/// "uniform", "normal", "pareto", "paretonormal" or "table".
const char* jitter_shape_name(JitterShape shape) noexcept;
/// The built-in shape of that name; nullopt for any other name (a user table).
std::optional<JitterShape> builtin_jitter_shape(std::string_view name) noexcept;

/// iproute2's tables (4096 entries each), computed once on first use.
std::span<const std::int16_t> netem_normal_table();
std::span<const std::int16_t> netem_pareto_table();
std::span<const std::int16_t> netem_paretonormal_table();

/// Parses netem's .dist text: integers in -32768..32767 separated by
/// whitespace, `#` starting a comment to the end of the line, 1 to 16384
/// entries. Errors carry line and column.
SyntaxResult<std::vector<std::int16_t>> parse_dist_table(std::string_view text);

enum class CorrelationModel : std::uint8_t {
  preserving,  ///< exact configured marginal (Gaussian copula / Markov repeat)
  netem,       ///< netem's get_crandom weighted average (distorts the marginal)
};

/// tc's encoding of a fraction 0..1 as a 32-bit integer (rint(p * UINT32_MAX)).
std::uint32_t netem_fraction_u32(double fraction) noexcept;

/// A stream of uniforms in [0, 1) whose successive values are correlated.
class CorrelatedUniform {
 public:
  /// correlation in 0..1 (clamped).
  CorrelatedUniform(double correlation, CorrelationModel model) noexcept;
  /// Next value, drawing from `random`.
  double next(Random& random) noexcept;

 private:
  double standard_normal(Random& random) noexcept;

  double rho_;
  CorrelationModel model_;
  std::uint64_t rho_u32_plus_one_;  // netem: rho scaled to 2^32, plus one
  bool primed_ = false;
  double z_ = 0.0;              // preserving: the AR(1) state
  std::uint32_t last_u32_ = 0;  // netem: the last output
  bool has_spare_normal_ = false;
  double spare_normal_ = 0.0;
};

/// A stream of yes/no events with probability p and correlation rho.
class CorrelatedBernoulli {
 public:
  /// probability and correlation in 0..1 (clamped).
  CorrelatedBernoulli(double probability, double correlation, CorrelationModel model) noexcept;
  /// Next event. With correlation 0 this is exactly random.bernoulli(p): one
  /// uniform per call, so a schedule that moves p keeps the stream of draws.
  bool next(Random& random) noexcept;
  double probability() const noexcept { return probability_; }
  /// Changes the probability from the next event on (a schedule); the correlation state stays.
  void set_probability(double probability) noexcept;

 private:
  double probability_;
  double rho_;
  CorrelationModel model_;
  std::uint32_t probability_u32_;
  CorrelatedUniform netem_source_;
  bool primed_ = false;
  bool last_ = false;
};

/// What delay each packet gets: mu, sigma, shape, correlation.
struct JitterConfig {
  Nanos delay{0};            ///< mu, one way (for uniform the centre, else the table's origin)
  Nanos jitter{0};           ///< sigma (uniform: half-width, as netem); at most 1000 s
  double correlation = 0.0;  ///< 0..1 between successive draws
  JitterShape shape = JitterShape::uniform;
  std::vector<std::int16_t> table;  ///< entries for JitterShape::table (netem .dist units)
  CorrelationModel correlation_model = CorrelationModel::preserving;
};

/// The configured delay distribution, both as netem's discrete draw and as a
/// continuous quantile function (for the order-preserving time process).
class DelayDistribution {
 public:
  explicit DelayDistribution(const JitterConfig& config);

  /// The delay netem would give for uniform u in [0,1): mu - sigma + floor(2 sigma u)
  /// for uniform, else mu + sigma * t / 8192 (netem's rounding) with t the entry
  /// at floor(u * N) of the sorted table; clamped at 0.
  Nanos at(double u) const noexcept;
  /// Continuous quantile in ns (not clamped): uniform mu - sigma + 2 sigma u;
  /// for tables linear interpolation between entries placed at (i + 0.5) / N,
  /// flat beyond the first and last. Its mean equals the table's mean exactly.
  double quantile(double u) const noexcept;
  /// max over u of quantile'(u) * u * (1 - u), in ns: how fast the
  /// order-preserving process may move (see jitter_delay.hh).
  double max_quantile_spread() const noexcept { return max_spread_; }
  /// Mean and standard deviation of the discrete distribution before the clamp at 0, in ns.
  double mean_ns() const noexcept { return mean_ns_; }
  double stddev_ns() const noexcept { return stddev_ns_; }
  bool constant() const noexcept { return sigma_ == 0; }
  Nanos delay() const noexcept { return Nanos{mu_}; }

 private:
  std::int64_t mu_;
  std::int64_t sigma_;
  bool uniform_;
  std::vector<std::int16_t> sorted_;
  double max_spread_ = 0.0;
  double mean_ns_ = 0.0;
  double stddev_ns_ = 0.0;
};

/// Independent (or correlated) per-packet delays: netem's per-packet draw.
class JitterSampler {
 public:
  JitterSampler(const JitterConfig& config, std::uint64_t seed);
  /// The next packet's delay (>= 0).
  Nanos next() noexcept;
  const DelayDistribution& distribution() const noexcept { return distribution_; }

 private:
  DelayDistribution distribution_;
  CorrelatedUniform source_;
  Random random_;
};

}  // namespace longhaul::core

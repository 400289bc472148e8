// Loss models on a virtual timeline with fixed seeds: correlated Bernoulli,
// Gilbert-Elliott, netem's 4-state Markov model, scheduled outages, ECN marking
// and the LossStage around them.
//
// Expected values come from closed forms derived here (stationary
// distributions, geometric burst lengths) or from an independent reference
// computed here (netem's correlated loss). Tolerances are kSigmas standard
// errors of the estimate, the standard errors derived from the model (the
// asymptotic variance of a Markov chain's mean, ChainMean below; binomial and
// geometric counts), never measured from the implementation. With normal
// tails a correct model fails one check for 1 in 1.7 million seeds.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <utility>
#include <vector>

#include "core/ecn.hh"
#include "core/loss_models.hh"
#include "support/stage_sink.hh"

namespace longhaul::core {
namespace {

using namespace std::chrono_literals;

using Sink = test_support::StageSink;

Packet MakePacket(Nanos ts, std::uint64_t seq, std::uint16_t segments = 1) {
  Packet packet;
  packet.ts = ts;
  packet.seq = seq;
  packet.buffer = static_cast<BufferHandle>(seq);
  packet.frame_bytes = 1514;
  packet.wire_bytes = 1538u * segments;
  packet.l2_bytes = 1514u * segments;
  packet.segments = segments;
  return packet;
}

// Loss pattern of `n` decisions of a model.
template <class Model>
std::vector<bool> Pattern(Model& model, std::uint64_t seed, std::size_t n) {
  Random random(seed);
  std::vector<bool> lost(n);
  for (std::size_t i = 0; i < n; ++i) lost[i] = model.lose(random);
  return lost;
}

struct Runs {
  double loss_rate = 0.0;
  double mean_burst = 0.0;     // consecutive losses
  double mean_gap = 0.0;       // consecutive deliveries between bursts
  double single_bursts = 0.0;  // fraction of bursts of length 1
  double lag1 = 0.0;           // P(lost | previous lost)
};

Runs Measure(const std::vector<bool>& lost) {
  Runs runs;
  std::size_t losses = 0, bursts = 0, gaps = 0, gap_total = 0, singles = 0, both = 0;
  std::size_t run = 0;
  for (std::size_t i = 0; i < lost.size(); ++i) {
    if (lost[i]) {
      ++losses;
      if (i > 0 && lost[i - 1]) ++both;
    }
    const bool ends = i + 1 == lost.size() || lost[i + 1] != lost[i];
    ++run;
    if (ends) {
      if (lost[i]) {
        ++bursts;
        if (run == 1) ++singles;
      } else {
        ++gaps;
        gap_total += run;
      }
      run = 0;
    }
  }
  runs.loss_rate = static_cast<double>(losses) / static_cast<double>(lost.size());
  runs.mean_burst = static_cast<double>(losses) / static_cast<double>(bursts);
  runs.mean_gap = static_cast<double>(gap_total) / static_cast<double>(gaps);
  runs.single_bursts = static_cast<double>(singles) / static_cast<double>(bursts);
  runs.lag1 = static_cast<double>(both) / static_cast<double>(losses);
  return runs;
}

// Standard errors per tolerance: two-sided false-failure probability 5.7e-7.
constexpr double kSigmas = 5.0;

// The stationary mean of f(X) over a Markov chain with transition matrix P and the asymptotic
// variance of its sample mean: Var(mean of n steps) ~ sigma2 / n with
// sigma2 = Var(f) + 2 sum_k>=1 Cov(f(X_0), f(X_k)). The stationary distribution by iterating
// P; the covariances by propagating f - mean through P until they vanish (these chains forget
// their state within a few hundred steps; 20000 is far beyond).
struct ChainMean {
  std::vector<double> pi;
  double mean = 0.0;
  double sigma2 = 0.0;
  double standard_error(double n) const { return std::sqrt(sigma2 / n); }
};

ChainMean Chain(const std::vector<std::vector<double>>& p, const std::vector<double>& f) {
  const std::size_t states = f.size();
  ChainMean chain;
  chain.pi.assign(states, 0.0);
  chain.pi[0] = 1.0;
  for (int step = 0; step < 200000; ++step) {
    std::vector<double> next(states, 0.0);
    for (std::size_t i = 0; i < states; ++i)
      for (std::size_t j = 0; j < states; ++j) next[j] += chain.pi[i] * p[i][j];
    chain.pi = next;
  }
  for (std::size_t i = 0; i < states; ++i) chain.mean += chain.pi[i] * f[i];
  std::vector<double> g(states), h(states);
  for (std::size_t i = 0; i < states; ++i) h[i] = g[i] = f[i] - chain.mean;
  for (std::size_t i = 0; i < states; ++i) chain.sigma2 += chain.pi[i] * g[i] * g[i];
  for (int k = 0; k < 20000; ++k) {
    std::vector<double> next(states, 0.0);  // E[g(X_k) | X_0 = i]
    for (std::size_t i = 0; i < states; ++i)
      for (std::size_t j = 0; j < states; ++j) next[i] += p[i][j] * h[j];
    h = next;
    for (std::size_t i = 0; i < states; ++i) chain.sigma2 += 2 * chain.pi[i] * g[i] * h[i];
  }
  return chain;
}

// Standard error of the mean of `count` geometric lengths with success probability q
// (mean 1/q, variance (1 - q) / q^2).
double GeometricMeanError(double q, double count) {
  return std::sqrt((1 - q) / (q * q) / count);
}

struct BernoulliModel {
  CorrelatedBernoulli source;
  bool lose(Random& random) { return source.next(random); }
};

// ------------------------------------------------------------ random loss

// 2e6 decisions at 1%: standard error of the rate 7e-5. Tolerance 3.5e-4.
TEST(RandomLoss, LossRateMatches) {
  BernoulliModel model{CorrelatedBernoulli(0.01, 0.0, CorrelationModel::preserving)};
  const Runs runs = Measure(Pattern(model, 1, 2'000'000));
  EXPECT_NEAR(runs.loss_rate, 0.01, 3.5e-4);
  EXPECT_NEAR(runs.lag1, 0.01, 0.004);  // independent: P(lost | lost) = p
}

// Resolution: 1e-5 and 1e-6 over 2e7 decisions: 200 +- 14 and 20 +- 4.5 losses.
// Tolerances: 5 standard errors.
TEST(RandomLoss, ResolvesOneInAMillion) {
  for (const double p : {1e-5, 1e-6}) {
    CorrelatedBernoulli source(p, 0.0, CorrelationModel::preserving);
    Random random(2);
    std::size_t losses = 0;
    constexpr std::size_t kDecisions = 20'000'000;
    for (std::size_t i = 0; i < kDecisions; ++i) losses += source.next(random) ? 1U : 0U;
    const double expected = p * kDecisions;
    EXPECT_NEAR(static_cast<double>(losses), expected, 5 * std::sqrt(expected)) << p;
  }
}

// Preserving correlation: the chain repeats the last outcome with probability
// rho, so the rate stays p, P(lost | lost) = p + rho (1 - p) and bursts are
// geometric with mean 1 / (1 - P(lost | lost)). 4e6 decisions, p = 2%,
// rho = 30%. The outcomes are a two-state chain (P(lost | delivered) =
// p (1 - rho)): the rate's standard error is its ChainMean's (9.5e-5);
// P(lost | lost) is the share of ~n p steps out of "lost" that stay, binomial
// (1.6e-3); bursts number ~n p (1 - repeat), geometric (3.5e-3).
TEST(RandomLoss, PreservingCorrelationKeepsTheRateAndCorrelates) {
  const double p = 0.02;
  const double rho = 0.3;
  constexpr double kDecisions = 4'000'000;
  BernoulliModel model{CorrelatedBernoulli(p, rho, CorrelationModel::preserving)};
  const Runs runs = Measure(Pattern(model, 3, 4'000'000));
  const double repeat = p + rho * (1 - p);
  const double start = p * (1 - rho);
  const ChainMean chain = Chain({{1 - start, start}, {1 - repeat, repeat}}, {0, 1});
  EXPECT_NEAR(chain.mean, p, 1e-12);
  EXPECT_NEAR(runs.loss_rate, p, kSigmas * chain.standard_error(kDecisions));
  EXPECT_NEAR(runs.lag1, repeat, kSigmas * std::sqrt(repeat * (1 - repeat) / (kDecisions * p)));
  EXPECT_NEAR(runs.mean_burst, 1.0 / (1.0 - repeat),
              kSigmas * GeometricMeanError(1 - repeat, kDecisions * p * (1 - repeat)));
}

// netem's correlated loss averages uniforms, so a correlated loss loses far
// fewer packets than configured ("loss 10% 25%" loses 1.75%, "loss 1% 25%"
// 0.0002%): documented, and reproduced on purpose by the netem model.
//
// The reference is computed here from netem's recursion, not from longhaul: each draw is
// X' = rho X + (1 - rho) U (get_crandom's weighted average, U uniform), lost when X' <= p.
// Its stationary distribution F solves F(t) = E[clamp((t - rho X) / (1 - rho), 0, 1)], iterated
// on a grid from the uniform (rho^20 ~ 1e-12: converged). The sample's standard error comes
// from batch means over 100 batches of 20000 draws, far longer than the draws' memory
// (rho^k); the tolerance is kSigmas of it plus the grid's error.
double NetemCorrelatedLossRate(double p, double rho) {
  constexpr std::size_t kCells = 2000;
  std::vector<double> mass(kCells, 1.0 / kCells);  // of X in each cell, at its midpoint
  const auto cdf_at = [&](double t) {
    double below = 0.0;
    for (std::size_t j = 0; j < kCells; ++j) {
      const double x = (static_cast<double>(j) + 0.5) / kCells;
      below += mass[j] * std::clamp((t - rho * x) / (1 - rho), 0.0, 1.0);
    }
    return below;
  };
  for (int iteration = 0; iteration < 20; ++iteration) {
    std::vector<double> next(kCells);
    double previous = 0.0;
    for (std::size_t j = 0; j < kCells; ++j) {
      const double upper = cdf_at(static_cast<double>(j + 1) / kCells);
      next[j] = upper - previous;
      previous = upper;
    }
    mass = next;
  }
  return cdf_at(p);
}

TEST(RandomLoss, NetemCorrelationLosesLessThanConfigured) {
  const double reference = NetemCorrelatedLossRate(0.10, 0.25);
  EXPECT_NEAR(reference, 0.0175, 5e-4);  // the documented figure
  BernoulliModel model{CorrelatedBernoulli(0.10, 0.25, CorrelationModel::netem)};
  const std::vector<bool> lost = Pattern(model, 4, 2'000'000);
  constexpr std::size_t kBatches = 100;
  const std::size_t batch = lost.size() / kBatches;
  std::vector<double> rates(kBatches, 0.0);
  for (std::size_t i = 0; i < lost.size(); ++i) rates[i / batch] += lost[i] ? 1.0 : 0.0;
  double mean = 0.0, squares = 0.0;
  for (double& rate : rates) mean += (rate /= static_cast<double>(batch)) / kBatches;
  for (const double rate : rates) squares += (rate - mean) * (rate - mean);
  const double standard_error = std::sqrt(squares / (kBatches - 1) / kBatches);
  EXPECT_NEAR(mean, reference, kSigmas * standard_error + 1e-4);
}

TEST(RandomLoss, ZeroAndCertainLoss) {
  for (CorrelationModel model : {CorrelationModel::preserving, CorrelationModel::netem}) {
    CorrelatedBernoulli never(0.0, 0.5, model);
    CorrelatedBernoulli always(1.0, 0.5, model);
    Random random(5);
    for (int i = 0; i < 10000; ++i) {
      ASSERT_FALSE(never.next(random));
      ASSERT_TRUE(always.next(random));
    }
  }
}

// ------------------------------------------------------- Gilbert-Elliott

// Simple Gilbert (1-h = 100%, 1-k = 0): p = 1%, r = 10%. Bad periods are
// geometric: mean burst 1/r = 10 with P(length 1) = r; good periods mean
// 1/p = 100; loss rate p/(p+r) = 1/11. 4e6 decisions hold ~36000 bursts
// (n pi_good p); standard errors: geometric means over that many bursts and
// gaps (0.050, 0.52), binomial P(length 1) (0.0016), the state chain's mean
// for the rate (6.0e-4).
TEST(GilbertElliott, SimpleGilbertBurstsAreGeometricWithMeanOneOverR) {
  const double p = 0.01, r = 0.10;
  constexpr double kDecisions = 4'000'000;
  GilbertElliottLoss model({p, r, 1.0, 0.0});
  const Runs runs = Measure(Pattern(model, 6, 4'000'000));
  const ChainMean chain = Chain({{1 - p, p}, {r, 1 - r}}, {0, 1});
  const double bursts = kDecisions * chain.pi[0] * p;
  EXPECT_NEAR(runs.mean_burst, 1 / r, kSigmas * GeometricMeanError(r, bursts));
  EXPECT_NEAR(runs.mean_gap, 1 / p, kSigmas * GeometricMeanError(p, bursts));
  EXPECT_NEAR(runs.single_bursts, r, kSigmas * std::sqrt(r * (1 - r) / bursts));
  EXPECT_NEAR(runs.loss_rate, 1.0 / 11.0, kSigmas * chain.standard_error(kDecisions));
  EXPECT_NEAR(GilbertElliottConfig({0.01, 0.10, 1.0, 0.0}).loss_rate(), 1.0 / 11.0, 1e-12);
}

// Full model: p = 5%, r = 30%, 1-h = 70%, 1-k = 1%: rate
// (r (1-k) + p (1-h)) / (p + r) = 0.038 / 0.35 = 0.10857. 4e6 decisions. A
// decision is Bernoulli(q(state)) given the state chain, so the rate's
// variance is the chain's for q plus the mean Bernoulli variance E[q (1-q)]
// (standard error 2.8e-4).
TEST(GilbertElliott, LossRateMatchesTheStationaryMix) {
  const GilbertElliottConfig config{0.05, 0.30, 0.70, 0.01};
  constexpr double kDecisions = 4'000'000;
  EXPECT_NEAR(config.loss_rate(), 0.038 / 0.35, 1e-12);
  GilbertElliottLoss model(config);
  const Runs runs = Measure(Pattern(model, 7, 4'000'000));
  const std::vector<double> q{0.01, 0.70};
  const ChainMean chain = Chain({{0.95, 0.05}, {0.30, 0.70}}, q);
  double bernoulli = 0.0;
  for (std::size_t s = 0; s < 2; ++s) bernoulli += chain.pi[s] * q[s] * (1 - q[s]);
  const double standard_error = std::sqrt((chain.sigma2 + bernoulli) / kDecisions);
  EXPECT_NEAR(runs.loss_rate, 0.038 / 0.35, kSigmas * standard_error);
}

// netem's defaults for `gemodel p`: r = 1-p, 1-h = 1, 1-k = 0, which makes
// successive states independent: Bernoulli loss with probability p.
TEST(GilbertElliott, NetemDefaultsAreBernoulli) {
  const GilbertElliottConfig config = GilbertElliottConfig::netem_defaults(0.02);
  EXPECT_DOUBLE_EQ(config.r, 0.98);
  EXPECT_DOUBLE_EQ(config.one_minus_h, 1.0);
  EXPECT_DOUBLE_EQ(config.one_minus_k, 0.0);
  GilbertElliottLoss model(config);
  const Runs runs = Measure(Pattern(model, 8, 2'000'000));
  EXPECT_NEAR(runs.loss_rate, 0.02, 5e-4);
  EXPECT_NEAR(runs.lag1, 0.02, 0.005);
}

TEST(GilbertElliott, StartsGoodAndIsReproducible) {
  GilbertElliottLoss a({0.2, 0.3, 0.9, 0.05});
  EXPECT_FALSE(a.in_bad_state());
  GilbertElliottLoss b({0.2, 0.3, 0.9, 0.05});
  GilbertElliottLoss c({0.2, 0.3, 0.9, 0.05});
  const auto pa = Pattern(a, 9, 10000);
  EXPECT_EQ(pa, Pattern(b, 9, 10000));
  EXPECT_NE(pa, Pattern(c, 10, 10000));
}

// --------------------------------------------------------- 4-state Markov

// Stationary distribution by iterating the transition matrix (independent of
// the implementation's closed form).
std::array<double, 4> Stationary(const MarkovLossConfig& c) {
  const double m[4][4] = {{1 - c.p13 - c.p14, 0, c.p13, c.p14},
                          {0, 1 - c.p23, c.p23, 0},
                          {c.p31, c.p32, 1 - c.p31 - c.p32, 0},
                          {1, 0, 0, 0}};
  std::array<double, 4> pi{1, 0, 0, 0};
  for (int step = 0; step < 200000; ++step) {
    std::array<double, 4> next{};
    for (int i = 0; i < 4; ++i) {
      for (int j = 0; j < 4; ++j)
        next[static_cast<std::size_t>(j)] += pi[static_cast<std::size_t>(i)] * m[i][j];
    }
    pi = next;
  }
  return pi;
}

// p13 = 1%, p31 = 30%, p32 = 5%, p23 = 20%, p14 = 0.5%. 4e6 decisions; the
// standard errors of the rate and of each state's share are their ChainMean's.
TEST(MarkovLoss, LossRateAndIsolatedLossesMatchTheStationaryDistribution) {
  const MarkovLossConfig config{0.01, 0.30, 0.05, 0.20, 0.005};
  const auto pi = Stationary(config);
  EXPECT_NEAR(config.loss_rate(), pi[2] + pi[3], 1e-9);
  MarkovLoss model(config);
  Random random(11);
  std::size_t lost = 0;
  std::array<std::size_t, 4> visits{};
  constexpr std::size_t kDecisions = 4'000'000;
  for (std::size_t i = 0; i < kDecisions; ++i) {
    lost += model.lose(random) ? 1U : 0U;
    ++visits[static_cast<std::size_t>(model.state() - 1)];
  }
  const std::vector<std::vector<double>> matrix = {
      {1 - config.p13 - config.p14, 0, config.p13, config.p14},
      {0, 1 - config.p23, config.p23, 0},
      {config.p31, config.p32, 1 - config.p31 - config.p32, 0},
      {1, 0, 0, 0}};
  const ChainMean loss = Chain(matrix, {0, 0, 1, 1});
  EXPECT_NEAR(static_cast<double>(lost) / kDecisions, pi[2] + pi[3],
              kSigmas * loss.standard_error(kDecisions));
  for (std::size_t s = 0; s < 4; ++s) {
    std::vector<double> in_state(4, 0.0);
    in_state[s] = 1.0;
    EXPECT_NEAR(static_cast<double>(visits[s]) / kDecisions, pi[s],
                kSigmas * Chain(matrix, in_state).standard_error(kDecisions))
        << "state " << s + 1;
  }
}

TEST(MarkovLoss, LostExactlyWhenEnteringStateThreeOrFour) {
  MarkovLoss model({0.1, 0.3, 0.2, 0.4, 0.1});
  Random random(12);
  for (int i = 0; i < 100000; ++i) {
    const bool lost = model.lose(random);
    ASSERT_EQ(lost, model.state() == 3 || model.state() == 4);
  }
}

// netem's defaults for `state p13`: p31 = 1 - p13, p32 = 0, p23 = 1, p14 = 0:
// Bernoulli loss with probability p13.
TEST(MarkovLoss, NetemDefaultsAreBernoulli) {
  const MarkovLossConfig config = MarkovLossConfig::netem_defaults(0.03);
  EXPECT_DOUBLE_EQ(config.p31, 0.97);
  EXPECT_DOUBLE_EQ(config.p32, 0.0);
  EXPECT_DOUBLE_EQ(config.p23, 1.0);
  EXPECT_DOUBLE_EQ(config.p14, 0.0);
  EXPECT_NEAR(config.loss_rate(), 0.03, 1e-12);
  MarkovLoss model(config);
  const Runs runs = Measure(Pattern(model, 13, 2'000'000));
  EXPECT_NEAR(runs.loss_rate, 0.03, 6e-4);
  EXPECT_NEAR(runs.lag1, 0.03, 0.006);
}

// Two-parameter use (p13, p31) is the simple Gilbert model: bursts mean
// 1/p31, rate p13 / (p13 + p31). Standard errors: the geometric mean over the
// ~n pi_1 p13 bursts, and the two-state chain's mean.
TEST(MarkovLoss, TwoParametersGiveGilbertBursts) {
  constexpr double kDecisions = 4'000'000;
  MarkovLoss model({0.01, 0.25, 0.0, 1.0, 0.0});
  const Runs runs = Measure(Pattern(model, 14, 4'000'000));
  const ChainMean chain = Chain({{0.99, 0.01}, {0.25, 0.75}}, {0, 1});
  EXPECT_NEAR(runs.mean_burst, 4.0,
              kSigmas * GeometricMeanError(0.25, kDecisions * chain.pi[0] * 0.01));
  EXPECT_NEAR(runs.loss_rate, 0.01 / 0.26, kSigmas * chain.standard_error(kDecisions));
}

TEST(MarkovLoss, ReducibleChainsHaveTheirLongRunRate) {
  EXPECT_DOUBLE_EQ(MarkovLossConfig({0.0, 1.0, 0.0, 1.0, 0.0}).loss_rate(), 0.0);
  EXPECT_DOUBLE_EQ(MarkovLossConfig({0.1, 0.0, 0.0, 1.0, 0.0}).loss_rate(), 1.0);
  EXPECT_DOUBLE_EQ(MarkovLossConfig({0.1, 0.0, 0.3, 0.1, 0.0}).loss_rate(), 0.25);
  EXPECT_DOUBLE_EQ(MarkovLossConfig({0.1, 0.2, 0.3, 0.0, 0.0}).loss_rate(), 0.0);
}

// -------------------------------------------------------- scheduled loss

TEST(ScheduledLoss, WindowsAreHalfOpenRelativeToTheOrigin) {
  LossScheduleConfig config;
  config.windows = {{2s, 3s}, {1s, 1500ms}, {1400ms, 1600ms}};  // unsorted, two overlap
  ScheduledLoss schedule(config, 100s);
  EXPECT_FALSE(schedule.lose(100s + 999ms));
  EXPECT_TRUE(schedule.lose(101s));
  EXPECT_TRUE(schedule.lose(101s + 599ms));  // merged [1 s, 1.6 s)
  EXPECT_FALSE(schedule.lose(101s + 600ms));
  EXPECT_FALSE(schedule.lose(102s - Nanos{1}));
  EXPECT_TRUE(schedule.lose(102s));
  EXPECT_TRUE(schedule.lose(103s - Nanos{1}));
  EXPECT_FALSE(schedule.lose(103s));
  EXPECT_FALSE(schedule.lose(1000s));
}

TEST(ScheduledLoss, PeriodicOutages) {
  LossScheduleConfig config;
  config.period = 1s;
  config.down = 100ms;
  config.phase = 500ms;
  ScheduledLoss schedule(config, 0s);
  EXPECT_FALSE(schedule.lose(0ms));
  EXPECT_FALSE(schedule.lose(499ms));
  EXPECT_TRUE(schedule.lose(500ms));
  EXPECT_TRUE(schedule.lose(600ms - Nanos{1}));
  EXPECT_FALSE(schedule.lose(600ms));
  EXPECT_TRUE(schedule.lose(3s + 550ms));
  EXPECT_FALSE(schedule.lose(3s + 650ms));
  // Over a long run exactly down/period of uniformly spaced packets are lost.
  ScheduledLoss counting(config, 0s);
  std::size_t lost = 0;
  for (std::int64_t i = 0; i < 1'000'000; ++i) lost += counting.lose(Nanos{i * 10'000}) ? 1U : 0U;
  EXPECT_EQ(lost, 100'000u);
}

TEST(LossStage, ScheduleDropsEverythingInsideAndDoesNotShiftRandomDecisions) {
  LossStageConfig random_only;
  random_only.model = GilbertElliottConfig{0.05, 0.3, 0.8, 0.01};
  LossStageConfig with_outage = random_only;
  with_outage.schedule.windows = {{1ms, 2ms}};
  with_outage.schedule_origin = 10ms;
  Sink a;
  Sink b;
  LossStage plain(random_only, 5);
  LossStage outage(with_outage, 5);
  plain.connect(a, a);
  outage.connect(b, b);
  for (std::uint64_t i = 0; i < 5000; ++i) {
    const Nanos ts = 10ms + Nanos{static_cast<std::int64_t>(i) * 1000};  // 5 ms of packets
    plain.accept(MakePacket(ts, i));
    outage.accept(MakePacket(ts, i));
  }
  // Outside [11 ms, 12 ms) the outcomes are identical, inside everything is lost.
  std::vector<std::uint64_t> expected;
  for (const Packet& p : a.out) {
    if (p.ts < 11ms || p.ts >= 12ms) expected.push_back(p.seq);
  }
  std::vector<std::uint64_t> got;
  for (const Packet& p : b.out) got.push_back(p.seq);
  EXPECT_EQ(got, expected);
  EXPECT_EQ(outage.scheduled_drops(), 1000u);
  for (const auto& [packet, cause] : b.dropped) EXPECT_EQ(cause, DropCause::loss);
}

TEST(LossStage, SuperFramesStepTheModelPerSegmentAndDropWhole) {
  LossStageConfig config;
  config.model = RandomLossConfig{0.05, 0.0};
  Sink sink;
  LossStage stage(config, 15);
  stage.connect(sink, sink);
  for (std::uint64_t i = 0; i < 2000; ++i) stage.accept(MakePacket(Nanos{0}, i, 10));
  // P(a 10-segment frame survives) = 0.95^10 = 0.599.
  EXPECT_NEAR(static_cast<double>(sink.out.size()) / 2000.0, std::pow(0.95, 10), 0.06);
  EXPECT_GT(stage.partial_super_frames(), 0u);
  EXPECT_TRUE(config.needs_wire_packets());
  EXPECT_FALSE(LossStageConfig{}.needs_wire_packets());
}

TEST(LossStage, SameSeedSameOutcomePacketByPacketForEveryModel) {
  const LossModelConfig models[] = {RandomLossConfig{0.1, 0.3},
                                    GilbertElliottConfig{0.05, 0.2, 0.9, 0.01},
                                    MarkovLossConfig{0.05, 0.3, 0.1, 0.4, 0.02}};
  for (const LossModelConfig& model : models) {
    SCOPED_TRACE(model.index());
    auto run = [&model](std::uint64_t seed) {
      LossStageConfig config;
      config.model = model;
      Sink sink;
      LossStage stage(config, seed);
      stage.connect(sink, sink);
      for (std::uint64_t i = 0; i < 20000; ++i) stage.accept(MakePacket(Nanos{0}, i));
      std::vector<std::uint64_t> delivered;
      for (const Packet& p : sink.out) delivered.push_back(p.seq);
      return delivered;
    };
    EXPECT_EQ(run(31), run(31));
    EXPECT_NE(run(31), run(32));
  }
}

TEST(LossStage, NoModelPassesEverything) {
  Sink sink;
  LossStage stage(LossStageConfig{}, 1);
  stage.connect(sink, sink);
  for (std::uint64_t i = 0; i < 100; ++i) stage.accept(MakePacket(Nanos{0}, i));
  EXPECT_EQ(sink.out.size(), 100u);
  EXPECT_EQ(stage.next_wakeup(), kNever);
}

// ------------------------------------------------------------------ ECN

std::uint16_t Ipv4HeaderChecksum(const std::vector<std::byte>& frame, std::size_t at) {
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i < 20; i += 2) {
    sum += (std::to_integer<std::uint32_t>(frame[at + i]) << 8) |
           std::to_integer<std::uint32_t>(frame[at + i + 1]);
  }
  while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
  return static_cast<std::uint16_t>(sum);  // 0xFFFF when the stored checksum is right
}

std::vector<std::byte> Ipv4Frame(unsigned tos) {
  std::vector<std::byte> frame(14 + 20 + 8 + 32, std::byte{0});
  frame[12] = std::byte{0x08};
  frame[14] = std::byte{0x45};
  frame[15] = static_cast<std::byte>(tos);
  frame[17] = std::byte{60};
  frame[22] = std::byte{64};
  frame[23] = std::byte{17};
  for (int i = 26; i < 34; ++i) frame[static_cast<std::size_t>(i)] = static_cast<std::byte>(i * 7);
  // Header checksum.
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i < 20; i += 2) {
    sum += (std::to_integer<std::uint32_t>(frame[14 + i]) << 8) |
           std::to_integer<std::uint32_t>(frame[14 + i + 1]);
  }
  while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
  const auto checksum = static_cast<std::uint16_t>(~sum);
  frame[24] = static_cast<std::byte>(checksum >> 8);
  frame[25] = static_cast<std::byte>(checksum & 0xFF);
  return frame;
}

TEST(Ecn, MarksEctIpv4AndKeepsTheHeaderChecksumValid) {
  for (unsigned tos : {0x01u, 0x02u, 0xB9u, 0xBAu}) {  // ECT(1), ECT(0), with DSCP bits
    auto frame = Ipv4Frame(tos);
    ASSERT_EQ(Ipv4HeaderChecksum(frame, 14), 0xFFFF);
    EXPECT_TRUE(mark_ecn_ce(frame));
    EXPECT_EQ(std::to_integer<unsigned>(frame[15]), tos | 0x03u);
    EXPECT_EQ(Ipv4HeaderChecksum(frame, 14), 0xFFFF) << tos;
  }
  auto not_ect = Ipv4Frame(0xB8);
  const auto before = not_ect;
  EXPECT_FALSE(mark_ecn_ce(not_ect));
  EXPECT_EQ(not_ect, before);
  auto ce = Ipv4Frame(0x03);
  EXPECT_TRUE(mark_ecn_ce(ce));
}

TEST(Ecn, MarksEctIpv6BehindAVlanTag) {
  std::vector<std::byte> frame(14 + 4 + 40, std::byte{0});
  frame[12] = std::byte{0x81};
  frame[13] = std::byte{0x00};
  frame[16] = std::byte{0x86};
  frame[17] = std::byte{0xDD};
  frame[18] = std::byte{0x6A};  // version 6, traffic class high nibble 0xA
  frame[19] = std::byte{0x1F};  // traffic class low nibble 0x1 (ECT(1)), flow label 0xF...
  EXPECT_TRUE(mark_ecn_ce(frame));
  EXPECT_EQ(std::to_integer<unsigned>(frame[19]), 0x3Fu);
  EXPECT_EQ(std::to_integer<unsigned>(frame[18]), 0x6Au);
  frame[19] = std::byte{0x0F};  // Not-ECT
  EXPECT_FALSE(mark_ecn_ce(frame));
  std::vector<std::byte> arp(60, std::byte{0});
  arp[12] = std::byte{0x08};
  arp[13] = std::byte{0x06};
  EXPECT_FALSE(mark_ecn_ce(arp));
  EXPECT_FALSE(mark_ecn_ce(std::span<std::byte>{}));
}

class FrameStore final : public PacketBytes {
 public:
  std::span<std::byte> bytes(const Packet& packet) noexcept override {
    return frames[packet.buffer];
  }
  std::vector<std::vector<std::byte>> frames;
};

TEST(LossStage, EcnMarksCapablePacketsInsteadOfDroppingThem) {
  FrameStore store;
  for (int i = 0; i < 1000; ++i) store.frames.push_back(Ipv4Frame(i % 2 == 0 ? 0x02 : 0x00));
  LossStageConfig config;
  config.model = RandomLossConfig{1.0, 0.0};
  config.ecn = true;
  Sink sink;
  LossStage stage(config, 16, &store);
  stage.connect(sink, sink);
  for (std::uint64_t i = 0; i < 1000; ++i) stage.accept(MakePacket(Nanos{0}, i));
  EXPECT_EQ(stage.ecn_marked(), 500u);
  EXPECT_EQ(stage.random_drops(), 500u);
  ASSERT_EQ(sink.out.size(), 500u);
  for (const Packet& p : sink.out) {
    EXPECT_EQ(p.seq % 2, 0u);
    EXPECT_EQ(std::to_integer<unsigned>(store.frames[p.buffer][15]), 0x03u);
  }
}

}  // namespace
}  // namespace longhaul::core

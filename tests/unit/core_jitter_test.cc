// Delay jitter: netem's distribution tables, the correlated sources, the
// order-preserving path-delay process and the JitterDelay stage, on a virtual
// timeline with fixed seeds.
//
// Statistical checks compare the measured mean and standard deviation of the
// per-packet delays with the configuration. Each tolerance is stated next to
// the check, derived from the standard error of the estimate (about 5 standard
// errors, so a fixed seed is not merely lucky): closed forms where samples are
// independent, batch means where the order-preserving process correlates them.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "core/distribution.hh"
#include "core/jitter_delay.hh"
#include "support/stage_sink.hh"

namespace longhaul::core {
namespace {

using namespace std::chrono_literals;

using Sink = test_support::StageSink;

Packet MakePacket(Nanos ts, std::uint64_t seq) {
  Packet packet;
  packet.ts = ts;
  packet.seq = seq;
  packet.buffer = static_cast<BufferHandle>(seq);
  packet.frame_bytes = 1514;
  packet.wire_bytes = 1538;
  packet.l2_bytes = 1514;
  return packet;
}

struct Moments {
  double mean = 0.0;
  double stddev = 0.0;
};

Moments MomentsOf(const std::vector<double>& values) {
  double sum = 0.0;
  for (double v : values) sum += v;
  const double mean = sum / static_cast<double>(values.size());
  double squares = 0.0;
  for (double v : values) squares += (v - mean) * (v - mean);
  return {mean, std::sqrt(squares / static_cast<double>(values.size()))};
}

double Lag1Correlation(const std::vector<double>& values) {
  const Moments m = MomentsOf(values);
  double sum = 0.0;
  for (std::size_t i = 1; i < values.size(); ++i) {
    sum += (values[i] - m.mean) * (values[i - 1] - m.mean);
  }
  return sum / static_cast<double>(values.size() - 1) / (m.stddev * m.stddev);
}

JitterConfig Jitter(Nanos delay, Nanos jitter, JitterShape shape, double correlation = 0.0,
                    CorrelationModel model = CorrelationModel::preserving) {
  JitterConfig config;
  config.delay = delay;
  config.jitter = jitter;
  config.shape = shape;
  config.correlation = correlation;
  config.correlation_model = model;
  return config;
}

// Moments of iproute2's shipped tables in units of sigma, computed from the
// .dist files (python: mean and population standard deviation of value/8192).
struct TableMoments {
  JitterShape shape;
  double mean;
  double stddev;
};
constexpr TableMoments kTableMoments[] = {
    {JitterShape::normal, -0.00077972, 1.00005271},
    {JitterShape::pareto, -0.03349143, 0.81967722},
    {JitterShape::paretonormal, -0.02530122, 0.83394453},
};

// ------------------------------------------------------------------ tables

TEST(DistributionTable, BuiltInTablesHaveIproute2sSizeAndValues) {
  ASSERT_EQ(netem_normal_table().size(), 4096u);
  ASSERT_EQ(netem_pareto_table().size(), 4096u);
  ASSERT_EQ(netem_paretonormal_table().size(), 4096u);
  // First line of iproute2's normal.dist, pareto.dist and paretonormal.dist.
  const std::vector<std::int16_t> normal_head{-32768, -28307, -26871, -25967,
                                              -25298, -24765, -24320, -23937};
  const std::vector<std::int16_t> pareto_head{-5461, -5460, -5460, -5459,
                                              -5458, -5457, -5456, -5455};
  const auto normal = netem_normal_table();
  const auto pareto = netem_pareto_table();
  EXPECT_EQ(std::vector<std::int16_t>(normal.begin(), normal.begin() + 8), normal_head);
  EXPECT_EQ(std::vector<std::int16_t>(pareto.begin(), pareto.begin() + 8), pareto_head);
  EXPECT_EQ(normal.back(), 28858);
  EXPECT_EQ(pareto.back(), 32767);  // clipped at 4 sigma
  EXPECT_EQ(netem_paretonormal_table().front(), -12305);
  EXPECT_EQ(netem_paretonormal_table().back(), 31789);
  EXPECT_TRUE(std::is_sorted(normal.begin(), normal.end()));
}

// When iproute2 is installed, the regenerated tables must equal its files exactly.
TEST(DistributionTable, RegeneratedTablesEqualInstalledDistFiles) {
  const char* const dirs[] = {"/usr/lib/x86_64-linux-gnu/tc", "/usr/lib/tc", "/usr/lib64/tc"};
  const std::pair<const char*, std::span<const std::int16_t>> tables[] = {
      {"normal", netem_normal_table()},
      {"pareto", netem_pareto_table()},
      {"paretonormal", netem_paretonormal_table()}};
  int compared = 0;
  for (const char* dir : dirs) {
    for (const auto& [name, table] : tables) {
      std::ifstream file(std::string(dir) + "/" + name + ".dist");
      if (!file) continue;
      std::stringstream text;
      text << file.rdbuf();
      const auto parsed = parse_dist_table(text.str());
      ASSERT_TRUE(parsed) << parsed.error.message;
      EXPECT_EQ(*parsed, std::vector<std::int16_t>(table.begin(), table.end())) << name;
      ++compared;
    }
    if (compared != 0) break;
  }
  if (compared == 0) GTEST_SKIP() << "iproute2's .dist files are not installed";
}

TEST(DistributionTable, MomentsOfTheBuiltInTablesAreNetems) {
  // mu = 1 s, sigma = 10 ms; the table moments scale with sigma.
  for (const TableMoments& expected : kTableMoments) {
    SCOPED_TRACE(jitter_shape_name(expected.shape));
    const DelayDistribution d(Jitter(1s, 10ms, expected.shape));
    EXPECT_NEAR(d.mean_ns(), 1e9 + expected.mean * 1e7, 1.0);
    EXPECT_NEAR(d.stddev_ns(), expected.stddev * 1e7, 1.0);
  }
  const DelayDistribution uniform(Jitter(1s, 10ms, JitterShape::uniform));
  EXPECT_DOUBLE_EQ(uniform.mean_ns(), 1e9);
  EXPECT_NEAR(uniform.stddev_ns(), 1e7 / std::sqrt(3.0), 1e-6);
}

TEST(DistributionTable, ParsesNetemDistTextWithComments) {
  const auto parsed = parse_dist_table(
      "# a table\n"
      " -8192 0 8192   # one sigma either side\n"
      "\t16384\n"
      "\n"
      "-32768 32767\n");
  ASSERT_TRUE(parsed) << parsed.error.message;
  EXPECT_EQ(*parsed, (std::vector<std::int16_t>{-8192, 0, 8192, 16384, -32768, 32767}));
}

TEST(DistributionTable, ErrorsNameLineAndColumn) {
  auto parsed = parse_dist_table("1 2 3\n4 x5 6\n");
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error.line, 2u);
  EXPECT_EQ(parsed.error.column, 3u);
  EXPECT_EQ(parsed.error.word, "x5");
  EXPECT_NE(parsed.error.message.find("line 2, column 3"), std::string::npos)
      << parsed.error.message;
  EXPECT_NE(parsed.error.message.find("-32768 to 32767"), std::string::npos);

  parsed = parse_dist_table("1\n  32768\n");
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error.line, 2u);
  EXPECT_EQ(parsed.error.column, 3u);
  EXPECT_NE(parsed.error.message.find("out of range"), std::string::npos);

  EXPECT_FALSE(parse_dist_table("-32769"));
  EXPECT_FALSE(parse_dist_table("1.5"));
  EXPECT_FALSE(parse_dist_table("0x10"));
  EXPECT_FALSE(parse_dist_table("-"));
  parsed = parse_dist_table("# only a comment\n\n");
  ASSERT_FALSE(parsed);
  EXPECT_NE(parsed.error.message.find("no entries"), std::string::npos);

  std::string big;
  for (int i = 0; i <= 16384; ++i) big += "1 ";
  parsed = parse_dist_table(big);
  ASSERT_FALSE(parsed);
  EXPECT_NE(parsed.error.message.find("16384"), std::string::npos);
}

TEST(DistributionTable, BuiltinShapeNames) {
  EXPECT_EQ(builtin_jitter_shape("normal"), JitterShape::normal);
  EXPECT_EQ(builtin_jitter_shape("uniform"), JitterShape::uniform);
  EXPECT_EQ(builtin_jitter_shape("pareto"), JitterShape::pareto);
  EXPECT_EQ(builtin_jitter_shape("paretonormal"), JitterShape::paretonormal);
  EXPECT_FALSE(builtin_jitter_shape("experimental"));
  EXPECT_STREQ(jitter_shape_name(JitterShape::paretonormal), "paretonormal");
}

// ------------------------------------------------------- DelayDistribution

TEST(DelayDistribution, NetemArithmeticForUniformAndTables) {
  // Uniform: mu - sigma + floor(2 sigma u), in [mu - sigma, mu + sigma).
  const DelayDistribution uniform(Jitter(100ms, 10ms, JitterShape::uniform));
  EXPECT_EQ(uniform.at(0.0), 90ms);
  EXPECT_EQ(uniform.at(0.5), 100ms);
  EXPECT_EQ(uniform.at(std::nextafter(1.0, 0.0)), 110ms - Nanos{1});
  // A table: mu + sigma * t / 8192, netem's rounding (half away from zero).
  JitterConfig config = Jitter(1ms, Nanos{8193}, JitterShape::table);
  config.table = {8192, -3, 3, 4096};  // sorted: -3 3 4096 8192
  const DelayDistribution table(config);
  EXPECT_EQ(table.at(0.0), 1ms + Nanos{-3});     // 8193 * -3 / 8192 = -3.0004 -> -3
  EXPECT_EQ(table.at(0.25), 1ms + Nanos{3});     // index 1
  EXPECT_EQ(table.at(0.5), 1ms + Nanos{4097});   // 8193 / 2 = 4096.5 -> 4097
  EXPECT_EQ(table.at(0.99), 1ms + Nanos{8193});  // index 3
  // Negative draws are clamped to zero delay.
  const DelayDistribution negative(Jitter(1ms, 10ms, JitterShape::uniform));
  EXPECT_EQ(negative.at(0.0), Nanos{0});
}

TEST(DelayDistribution, ContinuousQuantileInterpolatesAndKeepsTheMean) {
  JitterConfig config = Jitter(0ms, Nanos{8192}, JitterShape::table);
  config.table = {0, 100, 300};  // entries at u = 1/6, 1/2, 5/6
  const DelayDistribution d(config);
  EXPECT_DOUBLE_EQ(d.quantile(0.0), 0.0);
  EXPECT_DOUBLE_EQ(d.quantile(1.0 / 6.0), 0.0);
  EXPECT_NEAR(d.quantile(1.0 / 3.0), 50.0, 1e-9);
  EXPECT_NEAR(d.quantile(2.0 / 3.0), 200.0, 1e-9);
  EXPECT_DOUBLE_EQ(d.quantile(0.99), 300.0);
  // The integral of the quantile (its mean) equals the table mean, 400/3.
  double integral = 0.0;
  constexpr int kSteps = 600000;
  for (int i = 0; i < kSteps; ++i) integral += d.quantile((i + 0.5) / kSteps);
  EXPECT_NEAR(integral / kSteps, 400.0 / 3.0, 1e-3);
  // Steepest segment: slope 3 * 200 = 600 per unit u over u in [1/2, 5/6], u(1-u) <= 1/4.
  EXPECT_NEAR(d.max_quantile_spread(), 600.0 * 0.25, 1e-9);
}

TEST(DelayDistribution, UnsortedUserTablesAreSorted) {
  JitterConfig config = Jitter(0ms, Nanos{8192}, JitterShape::table);
  config.table = {5, 1, 3};
  const DelayDistribution d(config);
  EXPECT_EQ(d.at(0.0), Nanos{1});
  EXPECT_EQ(d.at(0.5), Nanos{3});
  EXPECT_EQ(d.at(0.9), Nanos{5});
}

// ------------------------------------------------- per-packet draws (netem)

// 200000 independent draws: the standard error of the mean is stddev/447
// (0.22%), of the standard deviation about 0.16% (normal) to 0.5% (pareto's
// heavier tail). Tolerances: mean within 1% of sigma, stddev within 1.5%.
TEST(JitterSampler, MeanAndStddevMatchTheConfiguration) {
  constexpr int kDraws = 200000;
  struct Case {
    JitterShape shape;
    double mean_sigmas;
    double stddev_sigmas;
  };
  std::vector<Case> cases{{JitterShape::uniform, 0.0, 1.0 / std::sqrt(3.0)}};
  for (const TableMoments& m : kTableMoments) cases.push_back({m.shape, m.mean, m.stddev});
  for (const Case& c : cases) {
    SCOPED_TRACE(jitter_shape_name(c.shape));
    JitterSampler sampler(Jitter(100ms, 10ms, c.shape), 42);
    std::vector<double> delays;
    for (int i = 0; i < kDraws; ++i) delays.push_back(static_cast<double>(sampler.next().count()));
    const Moments m = MomentsOf(delays);
    EXPECT_NEAR(m.mean, 1e8 + c.mean_sigmas * 1e7, 0.01 * 1e7);
    EXPECT_NEAR(m.stddev, c.stddev_sigmas * 1e7, 0.015 * c.stddev_sigmas * 1e7);
  }
}

TEST(JitterSampler, SameSeedSameDelaysOtherSeedOtherDelays) {
  const JitterConfig config = Jitter(100ms, 10ms, JitterShape::normal, 0.3);
  JitterSampler a(config, 7);
  JitterSampler b(config, 7);
  JitterSampler c(config, 8);
  int differ = 0;
  for (int i = 0; i < 1000; ++i) {
    const Nanos x = a.next();
    EXPECT_EQ(x, b.next());
    differ += x != c.next() ? 1 : 0;
  }
  EXPECT_GT(differ, 990);
}

// Correlated draws are autocorrelated, so the estimates are noisier: with lag-1
// correlation rho the effective sample size is about n (1-rho)/(1+rho) (n/3
// for rho = 0.5). 400000 draws; tolerances: mean within 1.5% of sigma, stddev
// within 1.5%, lag-1 correlation within 0.01.
TEST(CorrelatedUniform, PreservingModelKeepsTheDistributionAndCorrelates) {
  constexpr int kDraws = 400000;
  {
    JitterSampler sampler(Jitter(100ms, 10ms, JitterShape::normal, 0.5), 3);
    std::vector<double> delays;
    for (int i = 0; i < kDraws; ++i) delays.push_back(static_cast<double>(sampler.next().count()));
    const Moments m = MomentsOf(delays);
    EXPECT_NEAR(m.mean, 1e8 - 0.00078 * 1e7, 0.015 * 1e7);
    EXPECT_NEAR(m.stddev, 1.00005 * 1e7, 0.015 * 1e7);
    // Gaussian copula with a normal marginal: the delays' correlation is rho.
    EXPECT_NEAR(Lag1Correlation(delays), 0.5, 0.01);
  }
  {
    JitterSampler sampler(Jitter(100ms, 10ms, JitterShape::uniform, 0.25), 3);
    std::vector<double> delays;
    for (int i = 0; i < kDraws; ++i) delays.push_back(static_cast<double>(sampler.next().count()));
    const Moments m = MomentsOf(delays);
    EXPECT_NEAR(m.mean, 1e8, 0.015 * 1e7);
    EXPECT_NEAR(m.stddev, 1e7 / std::sqrt(3.0), 0.015 * 1e7 / std::sqrt(3.0));
    // Uniform marginal: Pearson correlation (6/pi) asin(rho/2) = 0.2394 for rho = 0.25.
    EXPECT_NEAR(Lag1Correlation(delays), 6.0 / std::numbers::pi * std::asin(0.125), 0.01);
  }
}

// netem's weighted average shrinks the spread: for uniform jitter the standard
// deviation becomes sigma/sqrt(3) * sqrt((1-rho)/(1+rho)). This documents the
// distortion the netem model reproduces on purpose (tolerance 1.5%).
TEST(CorrelatedUniform, NetemModelReproducesNetemsShrinkingSpread) {
  constexpr int kDraws = 400000;
  const double rho = 0.25;
  JitterSampler sampler(Jitter(100ms, 10ms, JitterShape::uniform, rho, CorrelationModel::netem), 3);
  std::vector<double> delays;
  for (int i = 0; i < kDraws; ++i) delays.push_back(static_cast<double>(sampler.next().count()));
  const Moments m = MomentsOf(delays);
  const double expected = 1e7 / std::sqrt(3.0) * std::sqrt((1 - rho) / (1 + rho));
  EXPECT_NEAR(m.mean, 1e8, 0.015 * 1e7);
  EXPECT_NEAR(m.stddev, expected, 0.015 * expected);
  EXPECT_NEAR(Lag1Correlation(delays), rho, 0.01);
}

TEST(CorrelatedUniform, NetemArithmeticIsGetCrandom) {
  // Recompute get_crandom from the same raw 32-bit draws.
  const double rho = 0.4;
  CorrelatedUniform source(rho, CorrelationModel::netem);
  Random random(99);
  Random mirror(99);
  const std::uint64_t r = std::uint64_t{netem_fraction_u32(rho)} + 1;
  std::uint64_t last = mirror.next() >> 32;  // init_crandom: last = random
  for (int i = 0; i < 1000; ++i) {
    const std::uint64_t value = mirror.next() >> 32;
    last = (value * ((std::uint64_t{1} << 32) - r) + last * r) >> 32;
    ASSERT_EQ(source.next(random), static_cast<double>(last) / 4294967296.0) << i;
  }
  EXPECT_EQ(netem_fraction_u32(0.25), 1073741824u);  // rint(0.25 * UINT32_MAX)
  EXPECT_EQ(netem_fraction_u32(1.0), 4294967295u);
}

TEST(CorrelatedUniform, FullCorrelationFreezesAndZeroIsIndependent) {
  for (CorrelationModel model : {CorrelationModel::preserving, CorrelationModel::netem}) {
    CorrelatedUniform frozen(1.0, model);
    Random random(5);
    const double first = frozen.next(random);
    for (int i = 0; i < 100; ++i) EXPECT_EQ(frozen.next(random), first);
  }
  CorrelatedUniform independent(0.0, CorrelationModel::preserving);
  Random a(5);
  Random b(5);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(independent.next(a), b.uniform());
}

// ------------------------------------------------------- PathDelayProcess

TEST(PathDelayProcess, TimeScaleFollowsSigmaAndCorrelation) {
  // Uniform: max quantile' u(1-u) = sigma/2, so lambda = slope * 2 / sigma.
  const PathDelayProcess uniform(Jitter(50ms, 1ms, JitterShape::uniform), 0.5, 1);
  EXPECT_NEAR(uniform.rate_hz(), 1000.0, 1e-6);
  const PathDelayProcess slower(Jitter(50ms, 1ms, JitterShape::uniform, 0.75), 0.5, 1);
  EXPECT_NEAR(slower.rate_hz(), 250.0, 1e-6);
  const PathDelayProcess constant(Jitter(50ms, 0ms, JitterShape::normal), 0.5, 1);
  EXPECT_EQ(constant.rate_hz(), 0.0);
}

// Checks and measures what an order-preserving stage releases, without storing
// it: packet i (seq i) arrived at (i + 1) * spacing.
class OrderChecker final : public PacketOutlet, public DropOutlet {
 public:
  OrderChecker(Nanos spacing, double max_slope, std::uint64_t batch_packets)
      : spacing_(spacing), max_slope_(max_slope), batch_packets_(batch_packets) {}
  void accept(const Packet& packet) noexcept override {
    if (packet.seq != count_) ++out_of_order_;
    const Nanos arrival = spacing_ * static_cast<std::int64_t>(packet.seq + 1);
    const auto delay = static_cast<double>((packet.ts - arrival).count());
    if (count_ > 0) {
      // Never backwards, and at most 1/(1-s) times closer than the arrivals (+1 ns rounding).
      const auto gap = static_cast<double>((packet.ts - last_ts_).count());
      if (gap < 0.0 || gap + 1.0 < (1.0 - max_slope_) * static_cast<double>(spacing_.count())) {
        ++too_close_;
      }
      lag_sum_ += delay * last_delay_;
    }
    sum_ += delay;
    squares_ += delay * delay;
    last_ts_ = packet.ts;
    last_delay_ = delay;
    if (count_ < 2000) first_delays_.push_back(delay);
    if (count_ % batch_packets_ == 0) batches_.push_back({});
    batches_.back().sum += delay;
    batches_.back().squares += delay * delay;
    ++batches_.back().count;
    ++count_;
  }
  void drop(const Packet&, DropCause) noexcept override { ++dropped_; }

  std::uint64_t count() const { return count_; }
  std::uint64_t out_of_order() const { return out_of_order_; }
  std::uint64_t too_close() const { return too_close_; }
  std::uint64_t dropped() const { return dropped_; }
  Moments moments() const {
    const double n = static_cast<double>(count_);
    const double mean = sum_ / n;
    return {mean, std::sqrt(squares_ / n - mean * mean)};
  }
  double lag1() const {
    const Moments m = moments();
    const double n = static_cast<double>(count_);
    return (lag_sum_ / (n - 1) - m.mean * m.mean) / (m.stddev * m.stddev);
  }
  const std::vector<double>& first_delays() const { return first_delays_; }

  // Standard errors of moments() by batch means: the packets are cut into runs of
  // batch_packets consecutive ones, each far longer than the delay process's memory, so the
  // runs' estimates are nearly independent and their spread gives the standard error without
  // a model of the process: sd(batch means) / sqrt(batches), and for the standard deviation
  // sd(batch variances) / sqrt(batches) / (2 sd). With 50 batches the estimated error is
  // itself within about 10 % (chi-square with 49 degrees of freedom).
  Moments standard_errors() const {
    std::vector<double> means, variances;
    for (const Batch& b : batches_) {
      if (b.count == 0) continue;
      const double n = static_cast<double>(b.count);
      means.push_back(b.sum / n);
      variances.push_back(b.squares / n - (b.sum / n) * (b.sum / n));
    }
    const auto spread = [](const std::vector<double>& values) {
      double mean = 0.0, squares = 0.0;
      for (const double v : values) mean += v / static_cast<double>(values.size());
      for (const double v : values) squares += (v - mean) * (v - mean);
      return std::sqrt(squares / static_cast<double>(values.size() - 1) /
                       static_cast<double>(values.size()));
    };
    return {spread(means), spread(variances) / (2 * moments().stddev)};
  }

 private:
  struct Batch {
    double sum = 0.0, squares = 0.0;
    std::uint64_t count = 0;
  };
  Nanos spacing_;
  double max_slope_;
  std::uint64_t batch_packets_;
  std::uint64_t count_ = 0, out_of_order_ = 0, too_close_ = 0, dropped_ = 0;
  double sum_ = 0.0, squares_ = 0.0, lag_sum_ = 0.0, last_delay_ = 0.0;
  Nanos last_ts_{0};
  std::vector<double> first_delays_;
  std::vector<Batch> batches_;
};

// Runs `packets` packets, one every `spacing`, through an order-preserving
// stage and checks order, the slope bound and that nothing was dropped.
OrderChecker RunOrderPreserving(const JitterConfig& jitter, Nanos spacing, std::int64_t packets,
                                std::uint64_t seed, double max_slope = 0.5) {
  OrderChecker checker(spacing, max_slope,
                       std::max<std::uint64_t>(static_cast<std::uint64_t>(packets) / 50, 1));
  JitterDelay stage({jitter, JitterMode::order_preserving, max_slope}, 100'000, seed);
  stage.connect(checker, checker);
  for (std::int64_t i = 0; i < packets; ++i) {
    const Nanos now = spacing * (i + 1);
    stage.accept(MakePacket(now, static_cast<std::uint64_t>(i)));
    if (i % 64 == 0) stage.advance(now);
  }
  stage.advance(kNever - Nanos{1});
  EXPECT_EQ(checker.dropped(), 0u);
  EXPECT_EQ(checker.count(), static_cast<std::uint64_t>(packets));
  EXPECT_EQ(checker.out_of_order(), 0u);
  EXPECT_EQ(checker.too_close(), 0u);
  return checker;
}

// High rate: packets every 0.1 sigma (where the naive hold-back scheme is off
// by +1.2 sigma), 6 million over 600 s. The delay process forgets its state
// over a few 1/lambda (lambda ~ 610/s for normal, sigma 1 ms), so successive
// delays are strongly correlated and the estimates are noisier than the
// packet count suggests. Tolerances: 5 standard errors by batch means (50
// runs of 120000 packets, 12 s each, against a memory of a few ms), so a
// correct process fails about 1 seed in 10^5 (the estimated error's own
// spread included).
TEST(JitterDelay, OrderPreservingMatchesMeanAndStddevAtHighRate) {
  std::vector<TableMoments> cases(std::begin(kTableMoments), std::end(kTableMoments));
  cases.push_back({JitterShape::uniform, 0.0, 1.0 / std::sqrt(3.0)});
  for (const TableMoments& m : cases) {
    SCOPED_TRACE(jitter_shape_name(m.shape));
    const OrderChecker got =
        RunOrderPreserving(Jitter(50ms, 1ms, m.shape), Nanos{100'000}, 6'000'000, 11);
    EXPECT_NEAR(got.moments().mean, 5e7 + m.mean * 1e6, 5 * got.standard_errors().mean);
    EXPECT_NEAR(got.moments().stddev, m.stddev * 1e6, 5 * got.standard_errors().stddev);
  }
}

// Low rate: packets every 20 sigma (far apart compared with the process's time
// scale), 20000 of them: nearly independent samples. Tolerances: 5 standard
// errors by batch means (50 runs of 400), as above.
TEST(JitterDelay, OrderPreservingMatchesMeanAndStddevAtLowRate) {
  for (const TableMoments& m : kTableMoments) {
    SCOPED_TRACE(jitter_shape_name(m.shape));
    const OrderChecker got = RunOrderPreserving(Jitter(50ms, 1ms, m.shape), 20ms, 20'000, 12);
    EXPECT_NEAR(got.moments().mean, 5e7 + m.mean * 1e6, 5 * got.standard_errors().mean);
    EXPECT_NEAR(got.moments().stddev, m.stddev * 1e6, 5 * got.standard_errors().stddev);
  }
}

// The delays of nearby packets are close (that is what keeps order), far
// apart ones independent.
TEST(JitterDelay, OrderPreservingDelaysAreCorrelatedOnlyOverTheProcessTimeScale) {
  const OrderChecker dense =
      RunOrderPreserving(Jitter(50ms, 1ms, JitterShape::normal), Nanos{10'000}, 200'000, 13);
  EXPECT_GT(dense.lag1(), 0.99);
  const OrderChecker sparse =
      RunOrderPreserving(Jitter(50ms, 1ms, JitterShape::normal), 50ms, 20'000, 13);
  EXPECT_NEAR(sparse.lag1(), 0.0, 0.04);
}

TEST(JitterDelay, SlopeBoundIsConfigurable) {
  // Any slope in (0, 1] keeps order; 0.9 lets packets bunch up to 10x and
  // makes the process faster (less correlated at the same spacing).
  const OrderChecker fast =
      RunOrderPreserving(Jitter(50ms, 1ms, JitterShape::normal), Nanos{5'000}, 400'000, 14, 0.9);
  const OrderChecker slow =
      RunOrderPreserving(Jitter(50ms, 1ms, JitterShape::normal), Nanos{5'000}, 400'000, 14, 0.1);
  EXPECT_LT(fast.lag1(), slow.lag1());
  EXPECT_NEAR(fast.moments().mean, 5e7, 0.05 * 1e6);
}

TEST(JitterDelay, OrderPreservingIsReproducible) {
  const JitterConfig jitter = Jitter(50ms, 1ms, JitterShape::paretonormal);
  const auto a = RunOrderPreserving(jitter, Nanos{30'000}, 100'000, 21).first_delays();
  const auto b = RunOrderPreserving(jitter, Nanos{30'000}, 100'000, 21).first_delays();
  const auto c = RunOrderPreserving(jitter, Nanos{30'000}, 100'000, 22).first_delays();
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
}

TEST(JitterDelay, ZeroJitterIsExactAndTenSecondsAreExactToTheNanosecond) {
  for (JitterMode mode : {JitterMode::order_preserving, JitterMode::reordering}) {
    Sink sink;
    JitterDelay stage({Jitter(10s + Nanos{1}, 0ms, JitterShape::normal), mode, 0.5}, 8, 1);
    stage.connect(sink, sink);
    stage.accept(MakePacket(Nanos{7}, 0));
    EXPECT_EQ(stage.next_wakeup(), 10s + Nanos{8});
    stage.advance(10s + Nanos{7});
    EXPECT_TRUE(sink.out.empty());
    stage.advance(10s + Nanos{8});
    ASSERT_EQ(sink.out.size(), 1u);
    EXPECT_EQ(sink.out[0].ts, 10s + Nanos{8});
  }
}

TEST(JitterDelay, TenSecondDelayWithJitterHasNanosecondResolution) {
  // 10 s +- 1 us uniform: every delay in [10 s - 1 us, 10 s + 1 us), not all equal.
  for (JitterMode mode : {JitterMode::order_preserving, JitterMode::reordering}) {
    Sink sink;
    JitterDelay stage({Jitter(10s, 1us, JitterShape::uniform), mode, 0.5}, 4096, 2);
    stage.connect(sink, sink);
    for (int i = 0; i < 2000; ++i)
      stage.accept(MakePacket(Nanos{i * 3000}, static_cast<std::uint64_t>(i)));
    stage.advance(20s);
    ASSERT_EQ(sink.out.size(), 2000u);
    std::vector<std::int64_t> delays;
    for (const Packet& p : sink.out) {
      const std::int64_t d = (p.ts - Nanos{static_cast<std::int64_t>(p.seq) * 3000}).count();
      EXPECT_GE(d, 10'000'000'000 - 1000);
      EXPECT_LE(d, 10'000'000'000 + 1000);
      delays.push_back(d);
    }
    std::sort(delays.begin(), delays.end());
    EXPECT_GT(std::unique(delays.begin(), delays.end()) - delays.begin(), 100);
  }
}

TEST(JitterDelay, LateAdvanceStampsIntendedTimes) {
  for (JitterMode mode : {JitterMode::order_preserving, JitterMode::reordering}) {
    Sink sink;
    JitterDelay stage({Jitter(5ms, 1ms, JitterShape::normal), mode, 0.5}, 16, 3);
    stage.connect(sink, sink);
    for (int i = 0; i < 10; ++i)
      stage.accept(MakePacket(Nanos{i * 1000}, static_cast<std::uint64_t>(i)));
    const Nanos first_due = stage.next_wakeup();
    stage.advance(60s);
    ASSERT_EQ(sink.out.size(), 10u);
    EXPECT_EQ(sink.out[0].ts, first_due);
    for (std::size_t i = 1; i < 10; ++i) EXPECT_GE(sink.out[i].ts, sink.out[i - 1].ts);
    EXPECT_EQ(stage.next_wakeup(), kNever);
  }
}

TEST(JitterDelay, FullStageDropsAsBufferExhausted) {
  for (JitterMode mode : {JitterMode::order_preserving, JitterMode::reordering}) {
    Sink sink;
    JitterDelay stage({Jitter(5ms, 1ms, JitterShape::normal), mode, 0.5}, 2, 3);
    stage.connect(sink, sink);
    for (std::uint64_t i = 0; i < 3; ++i) stage.accept(MakePacket(Nanos{0}, i));
    ASSERT_EQ(sink.dropped.size(), 1u);
    EXPECT_EQ(sink.dropped[0].first.seq, 2u);
    EXPECT_EQ(sink.dropped[0].first.ts, Nanos{0});  // dropped as it arrived
    EXPECT_EQ(sink.dropped[0].second, DropCause::buffer_exhausted);
    EXPECT_EQ(stage.frames_in_flight(), 2u);
  }
}

// Reordering mode: each packet's delay is an independent draw (netem), so the
// per-packet statistics are the distribution's, packets overtake each other,
// and releases come out in time order. 200000 packets: tolerances as for
// JitterSampler (mean within 1% of sigma, stddev within 1.5%).
TEST(JitterDelay, ReorderingModeReleasesInTimeOrderWithTheConfiguredDistribution) {
  Sink sink;
  constexpr int kPackets = 200000;
  JitterDelay stage({Jitter(20ms, 1ms, JitterShape::normal), JitterMode::reordering, 0.5}, kPackets,
                    4);
  stage.connect(sink, sink);
  const Nanos spacing{10'000};  // 0.01 sigma: plenty of overtaking
  for (int i = 0; i < kPackets; ++i) {
    const Nanos now = spacing * (i + 1);
    stage.accept(MakePacket(now, static_cast<std::uint64_t>(i)));
    if (i % 128 == 0) stage.advance(now);
  }
  stage.advance(10s);
  ASSERT_EQ(sink.out.size(), static_cast<std::size_t>(kPackets));
  std::vector<double> delays;
  std::size_t overtaken = 0;
  std::uint64_t max_seq = 0;
  for (std::size_t i = 0; i < sink.out.size(); ++i) {
    const Packet& p = sink.out[i];
    if (i > 0) {
      ASSERT_GE(p.ts, sink.out[i - 1].ts);
    }
    if (p.seq < max_seq) ++overtaken;
    max_seq = std::max(max_seq, p.seq);
    delays.push_back(
        static_cast<double>((p.ts - spacing * static_cast<std::int64_t>(p.seq + 1)).count()));
  }
  const Moments got = MomentsOf(delays);
  EXPECT_NEAR(got.mean, 2e7 - 0.00078 * 1e6, 0.01 * 1e6);
  EXPECT_NEAR(got.stddev, 1.00005e6, 0.015e6);
  EXPECT_GT(overtaken, static_cast<std::size_t>(kPackets) / 2);
}

TEST(JitterDelay, ReorderingModeReleasesEqualTimesInArrivalOrder) {
  Sink sink;
  // A two-entry table with equal values: every packet gets the same delay.
  JitterConfig jitter = Jitter(1ms, Nanos{8192}, JitterShape::table);
  jitter.table = {100, 100};
  JitterDelay stage({jitter, JitterMode::reordering, 0.5}, 64, 5);
  stage.connect(sink, sink);
  for (std::uint64_t i = 0; i < 20; ++i) stage.accept(MakePacket(Nanos{0}, i));
  stage.advance(2ms);
  ASSERT_EQ(sink.out.size(), 20u);
  for (std::uint64_t i = 0; i < 20; ++i) {
    EXPECT_EQ(sink.out[i].seq, i);
    EXPECT_EQ(sink.out[i].ts, 1ms + Nanos{100});
  }
}

TEST(JitterDelay, ReorderingModeIsReproducible) {
  auto run = [](std::uint64_t seed) {
    Sink sink;
    JitterDelay stage({Jitter(20ms, 5ms, JitterShape::pareto, 0.2), JitterMode::reordering, 0.5},
                      10000, seed);
    stage.connect(sink, sink);
    for (int i = 0; i < 10000; ++i)
      stage.accept(MakePacket(Nanos{i * 1000}, static_cast<std::uint64_t>(i)));
    stage.advance(10s);
    std::vector<std::pair<std::uint64_t, Nanos>> order;
    for (const Packet& p : sink.out) order.emplace_back(p.seq, p.ts);
    return order;
  };
  EXPECT_EQ(run(9), run(9));
  EXPECT_NE(run(9), run(10));
}

}  // namespace
}  // namespace longhaul::core

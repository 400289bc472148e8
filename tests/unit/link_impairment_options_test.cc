// link::resolve_link with the impairment flags (--jitter, --distribution,
// --jitter-mode, --correlation-model, --duplicate, --corrupt, --ber, --outage,
// --netem/--netem-up/--netem-down): what each sets in which direction, and
// errors that name the flag (both flags for a conflict).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/random.hh"
#include "link/link_options.hh"
#include "support/link_flags.hh"

namespace longhaul::link {
namespace {

using namespace std::chrono_literals;
using core::Nanos;

using test_support::FailsNaming;
using test_support::Resolve;

// A direction nobody configured: no delay, jitter or impairment at all.
void ExpectUntouched(const core::DirectionConfig& c) {
  EXPECT_EQ(c.delay, Nanos{0});
  EXPECT_EQ(c.jitter, Nanos{0});
  EXPECT_FALSE(c.has_jitter());
  EXPECT_EQ(c.rate_bps, 0u);
  EXPECT_EQ(c.loss, 0.0);
  EXPECT_TRUE(std::holds_alternative<std::monostate>(c.loss_model.model));
  EXPECT_TRUE(c.loss_model.schedule.empty());
  EXPECT_EQ(c.duplicate.probability, 0.0);
  EXPECT_EQ(c.corrupt.probability, 0.0);
  EXPECT_EQ(c.corrupt.bit_error_rate, 0.0);
  EXPECT_EQ(c.reorder.probability, 0.0);
  EXPECT_EQ(c.overhead_bytes, 24u);
  EXPECT_EQ(c.queue.max_packets, 0u);
  EXPECT_EQ(c.queue.max_bytes, 0u);
  EXPECT_FALSE(c.needs_wire_packets());
}

// ------------------------------------------------------------------ jitter

TEST(ImpairmentOptions, JitterSetsBothDirectionsWithOrderPreservingUniformDefaults) {
  LinkFlags flags;
  flags.rtt = "40ms";
  flags.jitter = "4ms";
  const auto spec = Resolve(flags);
  ASSERT_TRUE(spec) << spec.error;
  for (const core::DirectionConfig* c : {&spec->up, &spec->down}) {
    EXPECT_EQ(c->delay, 20ms);
    EXPECT_EQ(c->jitter, 4ms);
    EXPECT_TRUE(c->has_jitter());
    EXPECT_EQ(c->jitter_shape, core::JitterShape::uniform);  // netem's default
    EXPECT_EQ(c->jitter_mode, core::JitterMode::order_preserving);
    EXPECT_EQ(c->correlation_model, core::CorrelationModel::preserving);
    EXPECT_EQ(c->jitter_correlation, 0.0);
  }
}

TEST(ImpairmentOptions, JitterWithoutADelayIsRefusedNamingTheFlagAndTheFix) {
  // Jitter around no delay could only add delay: not the distribution asked for.
  LinkFlags flags;
  flags.jitter = "5ms";
  EXPECT_TRUE(FailsNaming(flags, {"--jitter", "5ms", "has none", "--rtt"}));
  // Per direction: the direction without a delay is the one named.
  LinkFlags down_only;
  down_only.delay_up = "10ms";
  down_only.jitter = "2ms";
  EXPECT_TRUE(FailsNaming(down_only, {"--jitter", "has none"}));
  down_only.delay_down = "10ms";
  EXPECT_TRUE(Resolve(down_only)) << Resolve(down_only).error;
  // Zero jitter is no jitter, with or without a delay.
  LinkFlags zero;
  zero.jitter = "0ms";
  EXPECT_TRUE(Resolve(zero)) << Resolve(zero).error;
}

TEST(ImpairmentOptions, PerDirectionJitterOverridesTheSharedOne) {
  LinkFlags flags;
  flags.rtt = "40ms";  // jitter varies a delay
  flags.jitter = "4ms";
  flags.jitter_down = "250us";
  auto spec = Resolve(flags);
  ASSERT_TRUE(spec) << spec.error;
  EXPECT_EQ(spec->up.jitter, 4ms);
  EXPECT_EQ(spec->down.jitter, 250us);

  LinkFlags up_only;
  up_only.rtt = "40ms";
  up_only.jitter_up = "3ms";
  spec = Resolve(up_only);
  ASSERT_TRUE(spec) << spec.error;
  EXPECT_EQ(spec->up.jitter, 3ms);
  EXPECT_EQ(spec->down.jitter, Nanos{0});
  EXPECT_FALSE(spec->down.has_jitter());
}

TEST(ImpairmentOptions, BadJitterIsRefusedNamingTheFlag) {
  for (const char* text : {"4", "4msx", "-1ms", "fast"}) {
    SCOPED_TRACE(text);
    LinkFlags flags;
    flags.jitter = text;
    EXPECT_TRUE(FailsNaming(flags, {"--jitter"}));
    LinkFlags down;
    down.jitter_down = text;
    EXPECT_TRUE(FailsNaming(down, {"--jitter"}));
  }
}

TEST(ImpairmentOptions, DistributionNormalShapesBothDirections) {
  LinkFlags flags;
  flags.rtt = "40ms";
  flags.jitter = "4ms";
  flags.distribution = "normal";
  const auto spec = Resolve(flags);
  ASSERT_TRUE(spec) << spec.error;
  for (const core::DirectionConfig* c : {&spec->up, &spec->down}) {
    EXPECT_EQ(c->jitter_shape, core::JitterShape::normal);
    EXPECT_EQ(c->jitter, 4ms);
    EXPECT_TRUE(c->jitter_table.empty());
  }
  for (const char* name : {"uniform", "pareto", "paretonormal"}) {
    SCOPED_TRACE(name);
    flags.distribution = name;
    const auto other = Resolve(flags);
    ASSERT_TRUE(other) << other.error;
    EXPECT_EQ(core::jitter_shape_name(other->up.jitter_shape), std::string(name));
    EXPECT_EQ(core::jitter_shape_name(other->down.jitter_shape), std::string(name));
  }
}

TEST(ImpairmentOptions, UnknownDistributionNamesThePlacesSearched) {
  LinkFlags flags;
  flags.jitter = "4ms";
  flags.distribution = "longhaul-no-such-shape";
  EXPECT_TRUE(FailsNaming(
      flags, {"--distribution", "longhaul-no-such-shape", "/usr/lib/tc/longhaul-no-such-shape.dist",
              "/usr/lib/x86_64-linux-gnu/tc/longhaul-no-such-shape.dist",
              "/usr/local/lib/tc/longhaul-no-such-shape.dist"}));

  // A path is looked up as given, and only there.
  flags.distribution = "/nonexistent/longhaul/shape.dist";
  EXPECT_TRUE(
      FailsNaming(flags, {"--distribution", "/nonexistent/longhaul/shape.dist", "looked at"}));
}

TEST(ImpairmentOptions, DistributionFromATableFile) {
  const auto path = std::filesystem::path(testing::TempDir()) / "longhaul-impairment-test.dist";
  {
    std::ofstream out(path);
    out << "# a tiny table\n-8192 0 8192\n4096 -4096\n";
  }
  LinkFlags flags;
  flags.rtt = "40ms";  // jitter varies a delay
  flags.jitter = "2ms";
  flags.distribution = path.string();
  const auto spec = Resolve(flags);
  std::filesystem::remove(path);
  ASSERT_TRUE(spec) << spec.error;
  const std::vector<std::int16_t> expected{-8192, 0, 8192, 4096, -4096};
  for (const core::DirectionConfig* c : {&spec->up, &spec->down}) {
    EXPECT_EQ(c->jitter_shape, core::JitterShape::table);
    EXPECT_EQ(c->jitter_table, expected);
  }
}

TEST(ImpairmentOptions, MalformedTableNamesTheFileAndWhere) {
  const auto path = std::filesystem::path(testing::TempDir()) / "longhaul-impairment-bad.dist";
  {
    std::ofstream out(path);
    out << "1 2 3\n4 banana\n";
  }
  LinkFlags flags;
  flags.jitter = "2ms";
  flags.distribution = path.string();
  const bool named = FailsNaming(flags, {"--distribution", path.string()});
  std::filesystem::remove(path);
  EXPECT_TRUE(named);
}

TEST(ImpairmentOptions, DistributionWithoutJitterIsAnError) {
  LinkFlags flags;
  flags.rtt = "40ms";
  flags.distribution = "normal";
  EXPECT_TRUE(FailsNaming(flags, {"--distribution", "--jitter"}));
}

TEST(ImpairmentOptions, JitterModeValues) {
  LinkFlags flags;
  flags.rtt = "40ms";  // jitter varies a delay
  flags.jitter = "1ms";
  flags.jitter_mode = "order";
  auto spec = Resolve(flags);
  ASSERT_TRUE(spec) << spec.error;
  EXPECT_EQ(spec->up.jitter_mode, core::JitterMode::order_preserving);
  EXPECT_EQ(spec->down.jitter_mode, core::JitterMode::order_preserving);

  flags.jitter_mode = "reorder";
  spec = Resolve(flags);
  ASSERT_TRUE(spec) << spec.error;
  EXPECT_EQ(spec->up.jitter_mode, core::JitterMode::reordering);
  EXPECT_EQ(spec->down.jitter_mode, core::JitterMode::reordering);
}

TEST(ImpairmentOptions, BadJitterModeNamesTheFlagValueAndChoices) {
  for (const char* text : {"sideways", "ORDER ", "", "reordering"}) {
    SCOPED_TRACE(text);
    LinkFlags flags;
    flags.jitter = "1ms";
    flags.jitter_mode = text;
    EXPECT_TRUE(FailsNaming(flags, {"--jitter-mode", text, "\"order\"", "\"reorder\""}));
  }
}

TEST(ImpairmentOptions, CorrelationModelValuesReachEveryRandomStage) {
  LinkFlags flags;
  flags.rtt = "40ms";  // jitter varies a delay
  flags.jitter = "1ms";
  flags.duplicate = "1%";
  flags.corrupt = "1%";
  flags.correlation_model = "netem";
  auto spec = Resolve(flags);
  ASSERT_TRUE(spec) << spec.error;
  for (const core::DirectionConfig* c : {&spec->up, &spec->down}) {
    EXPECT_EQ(c->correlation_model, core::CorrelationModel::netem);
    EXPECT_EQ(c->duplicate.correlation_model, core::CorrelationModel::netem);
    EXPECT_EQ(c->corrupt.correlation_model, core::CorrelationModel::netem);
    EXPECT_EQ(c->jitter_config().jitter.correlation_model, core::CorrelationModel::netem);
  }

  flags.correlation_model = "preserving";
  spec = Resolve(flags);
  ASSERT_TRUE(spec) << spec.error;
  for (const core::DirectionConfig* c : {&spec->up, &spec->down}) {
    EXPECT_EQ(c->correlation_model, core::CorrelationModel::preserving);
    EXPECT_EQ(c->duplicate.correlation_model, core::CorrelationModel::preserving);
    EXPECT_EQ(c->corrupt.correlation_model, core::CorrelationModel::preserving);
  }
}

TEST(ImpairmentOptions, CorrelationModelAppliesToANetemLine) {
  LinkFlags flags;
  flags.netem = "delay 10ms 2ms 50% loss 1% 25%";
  flags.correlation_model = "netem";
  const auto spec = Resolve(flags);
  ASSERT_TRUE(spec) << spec.error;
  for (const core::DirectionConfig* c : {&spec->up, &spec->down}) {
    EXPECT_EQ(c->jitter_config().jitter.correlation_model, core::CorrelationModel::netem);
    EXPECT_EQ(c->loss_model.correlation_model, core::CorrelationModel::netem);
    EXPECT_DOUBLE_EQ(c->jitter_correlation, 0.5);
  }
}

TEST(ImpairmentOptions, BadCorrelationModelNamesTheFlagValueAndChoices) {
  for (const char* text : {"gaussian", "Netem", ""}) {
    SCOPED_TRACE(text);
    LinkFlags flags;
    flags.correlation_model = text;
    EXPECT_TRUE(FailsNaming(flags, {"--correlation-model", text, "\"preserving\"", "\"netem\""}));
  }
}

// ------------------------------------------------- duplicate, corrupt, BER

TEST(ImpairmentOptions, DuplicateAndCorruptAreProbabilitiesInBothDirections) {
  LinkFlags flags;
  flags.duplicate = "10%";
  flags.corrupt = "0.5%";
  const auto spec = Resolve(flags);
  ASSERT_TRUE(spec) << spec.error;
  for (const core::DirectionConfig* c : {&spec->up, &spec->down}) {
    EXPECT_DOUBLE_EQ(c->duplicate.probability, 0.10);
    EXPECT_EQ(c->duplicate.correlation, 0.0);
    EXPECT_DOUBLE_EQ(c->corrupt.probability, 0.005);
    EXPECT_EQ(c->corrupt.bit_error_rate, 0.0);
    // Neither adds loss, delay or a rate.
    EXPECT_EQ(c->loss, 0.0);
    EXPECT_EQ(c->delay, Nanos{0});
    EXPECT_EQ(c->rate_bps, 0u);
  }
}

TEST(ImpairmentOptions, BadDuplicateOrCorruptNamesTheFlag) {
  for (const char* text : {"10", "150%", "-1%", "%", "10%x", "ten%"}) {
    SCOPED_TRACE(text);
    LinkFlags duplicate;
    duplicate.duplicate = text;
    EXPECT_TRUE(FailsNaming(duplicate, {"--duplicate"}));
    LinkFlags corrupt;
    corrupt.corrupt = text;
    EXPECT_TRUE(FailsNaming(corrupt, {"--corrupt"}));
  }
}

TEST(ImpairmentOptions, BitErrorRateIsAPlainFraction) {
  struct Case {
    const char* text;
    double value;
  };
  for (const Case& c : {Case{"1e-9", 1e-9}, Case{"0.000001", 1e-6}, Case{"1e-12", 1e-12},
                        Case{"1", 1.0}, Case{"0", 0.0}}) {
    SCOPED_TRACE(c.text);
    LinkFlags flags;
    flags.ber = c.text;
    const auto spec = Resolve(flags);
    ASSERT_TRUE(spec) << spec.error;
    EXPECT_DOUBLE_EQ(spec->up.corrupt.bit_error_rate, c.value);
    EXPECT_DOUBLE_EQ(spec->down.corrupt.bit_error_rate, c.value);
    EXPECT_EQ(spec->up.corrupt.probability, 0.0);
  }
}

TEST(ImpairmentOptions, BadBitErrorRateNamesTheFlagAndTheForm) {
  for (const char* text : {"2", "-1e-9", "1e-9x", "1e-9%", "abc", "", "nan", "inf"}) {
    SCOPED_TRACE(text);
    LinkFlags flags;
    flags.ber = text;
    EXPECT_TRUE(FailsNaming(flags, {"--ber", "fraction"}));
  }
}

// ------------------------------------------------------------------ outages

TEST(ImpairmentOptions, OutagesBecomeScheduleWindowsInBothDirections) {
  LinkFlags flags;
  flags.outages = {"2s+2s", "500ms+1.5s", "10s+250ms"};
  const auto spec = Resolve(flags);
  ASSERT_TRUE(spec) << spec.error;
  for (const core::DirectionConfig* c : {&spec->up, &spec->down}) {
    const auto& schedule = c->loss_model.schedule;
    ASSERT_EQ(schedule.windows.size(), 3u);
    EXPECT_EQ(schedule.windows[0].start, 2s);
    EXPECT_EQ(schedule.windows[0].end, 4s);
    EXPECT_EQ(schedule.windows[1].start, 500ms);
    EXPECT_EQ(schedule.windows[1].end, 2s);
    EXPECT_EQ(schedule.windows[2].start, 10s);
    EXPECT_EQ(schedule.windows[2].end, 10250ms);
    EXPECT_EQ(schedule.period, Nanos{0});
    EXPECT_FALSE(schedule.empty());
    // An outage is no random model, and random loss stays off.
    EXPECT_TRUE(std::holds_alternative<std::monostate>(c->loss_model.model));
    EXPECT_EQ(c->loss, 0.0);
  }
}

TEST(ImpairmentOptions, OutageKeepsARandomLossModelAlongside) {
  LinkFlags flags;
  flags.outages = {"1s+1s"};
  flags.netem = "loss gemodel 1% 30%";
  const auto spec = Resolve(flags);
  ASSERT_TRUE(spec) << spec.error;
  for (const core::DirectionConfig* c : {&spec->up, &spec->down}) {
    ASSERT_EQ(c->loss_model.schedule.windows.size(), 1u);
    EXPECT_EQ(c->loss_model.schedule.windows[0].start, 1s);
    EXPECT_EQ(c->loss_model.schedule.windows[0].end, 2s);
    EXPECT_TRUE(std::holds_alternative<core::GilbertElliottConfig>(c->loss_model.model));
  }
}

TEST(ImpairmentOptions, BadOutageNamesTheFlagAndTheForm) {
  for (const char* text : {"2s", "2s-2s", ""}) {
    SCOPED_TRACE(text);
    LinkFlags flags;
    flags.outages = {text};
    EXPECT_TRUE(FailsNaming(flags, {"--outage", "START+LENGTH"}));
  }
  for (const char* text : {"+2s", "2s+", "2+2s", "2s+2", "2s+x", "x+2s", "2s+2s+2s", "-1s+2s"}) {
    SCOPED_TRACE(text);
    LinkFlags flags;
    flags.outages = {"1s+1s", text};  // the bad one is named, not the good one
    EXPECT_TRUE(FailsNaming(flags, {"--outage", text}));
  }
}

// ------------------------------------------------------------------ --netem

TEST(ImpairmentOptions, NetemLineAppliesEveryParameterToBothDirections) {
  LinkFlags flags;
  flags.netem =
      "delay 30ms 4ms 25% distribution normal loss 5% duplicate 1% 10% corrupt 2% "
      "reorder 10% 50% gap 3 rate 10mbit 20 limit 100 seed 7";
  const auto spec = Resolve(flags, /*random_seed=*/99);
  ASSERT_TRUE(spec) << spec.error;
  EXPECT_EQ(spec->seed, 7u);
  EXPECT_TRUE(spec->seed_given);
  EXPECT_EQ(spec->up.seed, core::derive_seed(7, 1));
  EXPECT_EQ(spec->down.seed, core::derive_seed(7, 2));
  EXPECT_NE(spec->up.seed, spec->down.seed);
  for (const core::DirectionConfig* c : {&spec->up, &spec->down}) {
    EXPECT_EQ(c->delay, 30ms);
    EXPECT_EQ(c->jitter, 4ms);
    EXPECT_DOUBLE_EQ(c->jitter_correlation, 0.25);
    EXPECT_EQ(c->jitter_shape, core::JitterShape::normal);
    EXPECT_EQ(c->loss, 0.0);  // the loss is the netem model's, not --loss
    const auto* random = std::get_if<core::RandomLossConfig>(&c->loss_model.model);
    ASSERT_NE(random, nullptr);
    EXPECT_DOUBLE_EQ(random->probability, 0.05);
    EXPECT_EQ(random->correlation, 0.0);
    EXPECT_DOUBLE_EQ(c->duplicate.probability, 0.01);
    EXPECT_DOUBLE_EQ(c->duplicate.correlation, 0.10);
    EXPECT_DOUBLE_EQ(c->corrupt.probability, 0.02);
    EXPECT_DOUBLE_EQ(c->reorder.probability, 0.10);
    EXPECT_DOUBLE_EQ(c->reorder.correlation, 0.50);
    EXPECT_EQ(c->reorder.gap, 3u);
    EXPECT_EQ(c->rate_bps, 10'000'000u);
    EXPECT_EQ(c->overhead_bytes, 20u);  // netem's overhead, not --overhead's 24 B
    EXPECT_EQ(c->queue.max_packets, 100u);
    EXPECT_EQ(c->queue.max_bytes, 0u);
    EXPECT_EQ(c->queue.max_delay, Nanos{0});
  }
}

TEST(ImpairmentOptions, NetemUsesTcsUnits) {
  LinkFlags flags;
  flags.netem = "delay 100 10 loss 1 rate 1mbps";  // µs, µs, percent, bytes per second
  const auto spec = Resolve(flags);
  ASSERT_TRUE(spec) << spec.error;
  EXPECT_EQ(spec->up.delay, 100us);
  EXPECT_EQ(spec->up.jitter, 10us);
  const auto* random = std::get_if<core::RandomLossConfig>(&spec->up.loss_model.model);
  ASSERT_NE(random, nullptr);
  EXPECT_DOUBLE_EQ(random->probability, 0.01);
  EXPECT_EQ(spec->up.rate_bps, 8'000'000u);
  EXPECT_EQ(spec->up.overhead_bytes, 0u);  // netem's default overhead
  EXPECT_EQ(spec->down.delay, 100us);
}

// The default queue is one bandwidth-delay product of the round trip, so a
// symmetric line gives both directions the same queue, whichever direction is
// resolved first (the round trip includes the other direction's netem delay).
TEST(ImpairmentOptions, NetemRateGetsTheRoundTripDefaultQueueInBothDirections) {
  LinkFlags flags;
  flags.netem = "delay 10ms rate 100mbit";
  auto spec = Resolve(flags);
  ASSERT_TRUE(spec) << spec.error;
  const auto expected = default_queue(100'000'000, 20ms).max_bytes;  // 250 kB
  EXPECT_EQ(expected, 250'000u);
  EXPECT_EQ(spec->up.queue.max_bytes, expected);
  EXPECT_EQ(spec->down.queue.max_bytes, expected);

  // Delay in one line, rate in the other: still the whole round trip.
  flags.netem = std::nullopt;
  flags.netem_up = "rate 100mbit";
  flags.netem_down = "delay 40ms";
  spec = Resolve(flags);
  ASSERT_TRUE(spec) << spec.error;
  EXPECT_EQ(spec->up.queue.max_bytes, default_queue(100'000'000, 40ms).max_bytes);
  EXPECT_EQ(spec->down.queue.max_bytes, 0u);  // no rate down, so no queue
}

TEST(ImpairmentOptions, NetemLossModelsAreKept) {
  LinkFlags flags;
  flags.netem = "loss gemodel 1% 30%";
  auto spec = Resolve(flags);
  ASSERT_TRUE(spec) << spec.error;
  const auto* ge = std::get_if<core::GilbertElliottConfig>(&spec->up.loss_model.model);
  ASSERT_NE(ge, nullptr);
  EXPECT_DOUBLE_EQ(ge->p, 0.01);
  EXPECT_DOUBLE_EQ(ge->r, 0.30);
  EXPECT_DOUBLE_EQ(ge->one_minus_h, 1.0);  // netem's defaults
  EXPECT_DOUBLE_EQ(ge->one_minus_k, 0.0);
  EXPECT_NEAR(ge->loss_rate(), 0.01 / 0.31, 1e-12);

  flags.netem = "loss state 1% 30%";
  spec = Resolve(flags);
  ASSERT_TRUE(spec) << spec.error;
  const auto* markov = std::get_if<core::MarkovLossConfig>(&spec->down.loss_model.model);
  ASSERT_NE(markov, nullptr);
  EXPECT_DOUBLE_EQ(markov->p13, 0.01);
  EXPECT_DOUBLE_EQ(markov->p31, 0.30);

  flags.netem = "loss 2% ecn";
  spec = Resolve(flags);
  ASSERT_TRUE(spec) << spec.error;
  EXPECT_TRUE(spec->up.loss_model.ecn);
  EXPECT_TRUE(spec->down.loss_model.ecn);
}

TEST(ImpairmentOptions, NetemUpAffectsOnlyUp) {
  LinkFlags flags;
  flags.netem_up = "delay 30ms 3ms loss gemodel 1% 30% duplicate 10% corrupt 1% rate 5mbit";
  const auto spec = Resolve(flags);
  ASSERT_TRUE(spec) << spec.error;
  EXPECT_EQ(spec->up.delay, 30ms);
  EXPECT_EQ(spec->up.jitter, 3ms);
  EXPECT_TRUE(std::holds_alternative<core::GilbertElliottConfig>(spec->up.loss_model.model));
  EXPECT_DOUBLE_EQ(spec->up.duplicate.probability, 0.10);
  EXPECT_DOUBLE_EQ(spec->up.corrupt.probability, 0.01);
  EXPECT_EQ(spec->up.rate_bps, 5'000'000u);
  ExpectUntouched(spec->down);
}

TEST(ImpairmentOptions, NetemDownAffectsOnlyDownAndOverridesTheSharedLine) {
  LinkFlags flags;
  flags.netem = "delay 10ms";
  flags.netem_down = "delay 40ms duplicate 5%";
  const auto spec = Resolve(flags);
  ASSERT_TRUE(spec) << spec.error;
  EXPECT_EQ(spec->up.delay, 10ms);
  EXPECT_EQ(spec->up.duplicate.probability, 0.0);
  EXPECT_EQ(spec->down.delay, 40ms);
  EXPECT_DOUBLE_EQ(spec->down.duplicate.probability, 0.05);
}

TEST(ImpairmentOptions, NetemUpDelayCombinesWithADownDelayFlag) {
  LinkFlags flags;
  flags.netem_up = "delay 10ms";
  flags.delay_down = "30ms";
  const auto spec = Resolve(flags);
  ASSERT_TRUE(spec) << spec.error;
  EXPECT_EQ(spec->up.delay, 10ms);
  EXPECT_EQ(spec->down.delay, 30ms);
}

TEST(ImpairmentOptions, BadNetemWordIsNamedWithTheFlag) {
  LinkFlags flags;
  flags.netem = "delay 30ms wobble 5%";
  EXPECT_TRUE(FailsNaming(flags, {"--netem", "wobble"}));
  LinkFlags up;
  up.netem_up = "delay 30ms slot 1ms";
  EXPECT_TRUE(FailsNaming(up, {"--netem-up", "slot"}));
  LinkFlags down;
  down.netem_down = "loss trace foo";
  EXPECT_TRUE(FailsNaming(down, {"--netem-down"}));
}

// ----------------------------------------------------------------- conflicts

TEST(ImpairmentOptions, NetemDelayWithRttOrDelayIsAnErrorNamingBoth) {
  LinkFlags rtt;
  rtt.netem = "delay 30ms";
  rtt.rtt = "20ms";
  EXPECT_TRUE(FailsNaming(rtt, {"--netem", "--rtt"}));

  LinkFlags delay;
  delay.netem_up = "delay 30ms";
  delay.delay_up = "5ms";
  EXPECT_TRUE(FailsNaming(delay, {"--netem-up", "--delay"}));

  // Jitter alone in the line counts as setting the delay too.
  LinkFlags jitter_only;
  jitter_only.netem = "delay 0 1ms";
  jitter_only.delay = "5ms";
  EXPECT_TRUE(FailsNaming(jitter_only, {"--netem", "--delay"}));
}

TEST(ImpairmentOptions, NetemJitterWithJitterFlagIsAnErrorNamingBoth) {
  LinkFlags flags;
  flags.netem = "delay 30ms 2ms";
  flags.jitter = "1ms";
  EXPECT_TRUE(FailsNaming(flags, {"--netem", "--jitter"}));
}

TEST(ImpairmentOptions, NetemLossWithLossIsAnErrorNamingBoth) {
  LinkFlags flags;
  flags.netem = "loss 5%";
  flags.loss = "1%";
  EXPECT_TRUE(FailsNaming(flags, {"--netem", "--loss"}));

  LinkFlags gemodel;
  gemodel.netem_down = "loss gemodel 1% 30%";
  gemodel.loss_down = "1%";
  EXPECT_TRUE(FailsNaming(gemodel, {"--netem-down", "--loss"}));

  // Different directions do not conflict.
  LinkFlags split;
  split.netem_up = "loss gemodel 1% 30%";
  split.loss_down = "1%";
  const auto spec = Resolve(split);
  ASSERT_TRUE(spec) << spec.error;
  EXPECT_TRUE(std::holds_alternative<core::GilbertElliottConfig>(spec->up.loss_model.model));
  EXPECT_EQ(spec->up.loss, 0.0);
  EXPECT_DOUBLE_EQ(spec->down.loss, 0.01);
}

TEST(ImpairmentOptions, NetemRateWithRateIsAnErrorNamingBoth) {
  LinkFlags flags;
  flags.netem = "rate 10mbit";
  flags.rate = "20mbit";
  EXPECT_TRUE(FailsNaming(flags, {"--netem", "--rate"}));

  LinkFlags up;
  up.netem_up = "rate 10mbit";
  up.rate_up = "20mbit";
  EXPECT_TRUE(FailsNaming(up, {"--netem-up", "--rate"}));
}

TEST(ImpairmentOptions, NetemLimitWithQueueIsAnErrorNamingBoth) {
  LinkFlags flags;
  flags.rate_down = "20mbit";
  flags.queue_down = "100p";
  flags.netem_down = "limit 50";
  EXPECT_TRUE(FailsNaming(flags, {"--netem-down", "--queue"}));

  // Alone, the limit bounds the bottleneck queue in packets.
  flags.queue_down = std::nullopt;
  const auto spec = Resolve(flags);
  ASSERT_TRUE(spec) << spec.error;
  EXPECT_EQ(spec->down.queue.max_packets, 50u);
  EXPECT_EQ(spec->down.queue.max_bytes, 0u);
}

TEST(ImpairmentOptions, NetemDuplicateOrCorruptWithTheFlagIsAnErrorNamingBoth) {
  LinkFlags duplicate;
  duplicate.netem = "duplicate 1%";
  duplicate.duplicate = "2%";
  EXPECT_TRUE(FailsNaming(duplicate, {"--netem", "--duplicate"}));

  LinkFlags corrupt;
  corrupt.netem = "corrupt 1%";
  corrupt.corrupt = "2%";
  EXPECT_TRUE(FailsNaming(corrupt, {"--netem", "--corrupt"}));
}

TEST(ImpairmentOptions, NetemSeedAgainstADifferentSeedIsAnErrorNamingBoth) {
  LinkFlags flags;
  flags.netem = "loss 1% seed 5";
  flags.seed = 6;
  EXPECT_TRUE(FailsNaming(flags, {"--netem", "--seed"}));

  // The same seed twice is no conflict.
  flags.seed = 5;
  const auto spec = Resolve(flags);
  ASSERT_TRUE(spec) << spec.error;
  EXPECT_EQ(spec->seed, 5u);
  EXPECT_EQ(spec->up.seed, core::derive_seed(5, 1));
  EXPECT_EQ(spec->down.seed, core::derive_seed(5, 2));
}

TEST(ImpairmentOptions, NetemSeedReplacesTheRandomSeed) {
  LinkFlags flags;
  flags.netem_up = "loss 1% seed 5";
  const auto a = Resolve(flags, 1);
  const auto b = Resolve(flags, 2);
  ASSERT_TRUE(a) << a.error;
  ASSERT_TRUE(b) << b.error;
  EXPECT_EQ(a->seed, 5u);
  EXPECT_EQ(b->seed, 5u);
  EXPECT_EQ(a->up.seed, b->up.seed);
  EXPECT_EQ(a->down.seed, b->down.seed);
}

TEST(ImpairmentOptions, ReorderWithoutDelayIsAnError) {
  LinkFlags flags;
  flags.netem = "reorder 10%";
  EXPECT_TRUE(FailsNaming(flags, {"--netem", "reorder", "delay"}));

  LinkFlags up;
  up.netem_up = "reorder 25% gap 5";
  EXPECT_TRUE(FailsNaming(up, {"--netem-up", "delay"}));

  // With a delay in the line it is fine.
  LinkFlags with_delay;
  with_delay.netem = "delay 10ms reorder 10% gap 2";
  const auto spec = Resolve(with_delay);
  ASSERT_TRUE(spec) << spec.error;
  EXPECT_EQ(spec->up.delay, 10ms);
  EXPECT_DOUBLE_EQ(spec->up.reorder.probability, 0.10);
  EXPECT_EQ(spec->up.reorder.gap, 2u);
}

// ------------------------------------------------------- needs_wire_packets

TEST(ImpairmentOptions, PerPacketRandomDecisionsNeedWirePackets) {
  struct Case {
    const char* what;
    LinkFlags flags;
  };
  std::vector<Case> cases;
  cases.push_back({"--loss", {}});
  cases.back().flags.loss = "1%";
  cases.push_back({"netem loss", {}});
  cases.back().flags.netem = "loss 1%";
  cases.push_back({"netem gemodel", {}});
  cases.back().flags.netem = "loss gemodel 1% 30%";
  cases.push_back({"--duplicate", {}});
  cases.back().flags.duplicate = "1%";
  cases.push_back({"--corrupt", {}});
  cases.back().flags.corrupt = "1%";
  cases.push_back({"netem reorder", {}});
  cases.back().flags.netem = "delay 10ms reorder 5%";
  cases.push_back({"reordering jitter", {}});
  cases.back().flags.rtt = "40ms";  // jitter varies a delay
  cases.back().flags.jitter = "2ms";
  cases.back().flags.jitter_mode = "reorder";
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    const auto spec = Resolve(c.flags);
    ASSERT_TRUE(spec) << spec.error;
    EXPECT_TRUE(spec->up.needs_wire_packets());
    EXPECT_TRUE(spec->down.needs_wire_packets());
  }
}

TEST(ImpairmentOptions, BitErrorRateAndOrderPreservingJitterKeepSuperFrames) {
  struct Case {
    const char* what;
    LinkFlags flags;
  };
  std::vector<Case> cases;
  cases.push_back({"--ber", {}});
  cases.back().flags.ber = "1e-9";
  cases.push_back({"order-preserving jitter", {}});
  cases.back().flags.rtt = "40ms";
  cases.back().flags.jitter = "4ms";
  cases.back().flags.distribution = "normal";
  cases.push_back({"explicit order mode", {}});
  cases.back().flags.rtt = "40ms";  // jitter varies a delay
  cases.back().flags.jitter = "4ms";
  cases.back().flags.jitter_mode = "order";
  cases.push_back({"netem delay and jitter", {}});
  cases.back().flags.netem = "delay 20ms 2ms distribution pareto";
  cases.push_back({"delay and rate", {}});
  cases.back().flags.rtt = "40ms";
  cases.back().flags.rate = "100mbit";
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    const auto spec = Resolve(c.flags);
    ASSERT_TRUE(spec) << spec.error;
    EXPECT_FALSE(spec->up.needs_wire_packets());
    EXPECT_FALSE(spec->down.needs_wire_packets());
  }
}

TEST(ImpairmentOptions, WirePacketsOnlyInTheImpairedDirection) {
  LinkFlags flags;
  flags.netem_up = "duplicate 10%";
  const auto spec = Resolve(flags);
  ASSERT_TRUE(spec) << spec.error;
  EXPECT_TRUE(spec->up.needs_wire_packets());
  EXPECT_FALSE(spec->down.needs_wire_packets());
}

// ------------------------------------------------------------------ describe

TEST(ImpairmentOptions, DescribeMentionsTheImpairments) {
  LinkFlags flags;
  flags.netem_up = "delay 20ms 2ms distribution normal duplicate 10% corrupt 1% reorder 5%";
  flags.ber = "1e-9";
  flags.outages = {"2s+2s"};
  flags.jitter_mode = "reorder";
  const auto spec = Resolve(flags);
  ASSERT_TRUE(spec) << spec.error;
  const std::string up = describe(spec->up);
  for (const char* phrase : {"normal", "reordering", "duplicate 10%", "corrupt 1%",
                             "bit error rate 1e-09", "1 outage", "reorder 5%"}) {
    EXPECT_NE(up.find(phrase), std::string::npos) << phrase << " not in: " << up;
  }
  const std::string down = describe(spec->down);
  EXPECT_EQ(down.find("duplicate"), std::string::npos) << down;
  EXPECT_NE(down.find("1 outage"), std::string::npos) << down;
}

}  // namespace
}  // namespace longhaul::link

// The tc-netem grammar: real lines from the tc-netem(8) man page, tc's units
// (bare times are microseconds, bare percentages are percent, "mbps" is
// megabytes), tc's own consistency checks, and errors that name the word,
// its column and what is accepted.
#include <gtest/gtest.h>

#include <string>
#include <variant>

#include "core/netem_syntax.hh"

namespace longhaul::core {
namespace {

using namespace std::chrono_literals;

NetemSpec Parse(std::string_view text) {
  const auto parsed = parse_netem(text);
  EXPECT_TRUE(parsed) << text << "\n  " << parsed.error.message;
  return parsed ? *parsed : NetemSpec{};
}

SyntaxError Error(std::string_view text) {
  const auto parsed = parse_netem(text);
  EXPECT_FALSE(parsed) << text << " parsed";
  return parsed.error;
}

bool Contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

// ------------------------------------------------------ the man page's lines

TEST(NetemSyntax, ManPageDelayExamples) {
  NetemSpec s = Parse("tc qdisc add dev eth0 root netem delay 100ms");
  EXPECT_EQ(s.delay, 100ms);
  EXPECT_EQ(s.jitter, 0ms);

  s = Parse("tc qdisc change dev eth0 root netem delay 100ms 10ms");
  EXPECT_EQ(s.delay, 100ms);
  EXPECT_EQ(s.jitter, 10ms);
  EXPECT_EQ(s.distribution, JitterShape::uniform);

  s = Parse("tc qdisc change dev eth0 root netem delay 100ms 10ms 25%");
  EXPECT_EQ(s.jitter, 10ms);
  EXPECT_DOUBLE_EQ(s.delay_correlation, 0.25);

  s = Parse("tc qdisc change dev eth0 root netem delay 100ms 20ms distribution normal");
  EXPECT_EQ(s.jitter, 20ms);
  EXPECT_EQ(s.distribution, JitterShape::normal);
  EXPECT_EQ(s.distribution_name, "normal");
}

TEST(NetemSyntax, ManPageLossDuplicateCorruptExamples) {
  NetemSpec s = Parse("tc qdisc change dev eth0 root netem loss 0.1%");
  ASSERT_TRUE(std::holds_alternative<RandomLossConfig>(s.loss));
  EXPECT_DOUBLE_EQ(std::get<RandomLossConfig>(s.loss).probability, 0.001);

  s = Parse("tc qdisc change dev eth0 root netem loss 0.3% 25%");
  EXPECT_DOUBLE_EQ(std::get<RandomLossConfig>(s.loss).probability, 0.003);
  EXPECT_DOUBLE_EQ(std::get<RandomLossConfig>(s.loss).correlation, 0.25);

  s = Parse("tc qdisc change dev eth0 root netem duplicate 1%");
  EXPECT_DOUBLE_EQ(s.duplicate, 0.01);

  s = Parse("tc qdisc change dev eth0 root netem corrupt 0.1%");
  EXPECT_DOUBLE_EQ(s.corrupt, 0.001);
}

TEST(NetemSyntax, ManPageReorderExamples) {
  NetemSpec s = Parse("tc qdisc change dev eth0 root netem delay 10ms reorder 25% 50%");
  EXPECT_EQ(s.delay, 10ms);
  EXPECT_DOUBLE_EQ(s.reorder, 0.25);
  EXPECT_DOUBLE_EQ(s.reorder_correlation, 0.5);
  EXPECT_EQ(s.gap, 1u);  // tc's default with reorder

  s = Parse("tc qdisc change dev eth0 root netem gap 5 delay 10ms reorder 100%");
  EXPECT_EQ(s.gap, 5u);
  EXPECT_DOUBLE_EQ(s.reorder, 1.0);
  const ReorderConfig config = netem_reorder_config(s);
  EXPECT_EQ(config.gap, 5u);
  EXPECT_DOUBLE_EQ(config.probability, 1.0);
}

TEST(NetemSyntax, ManPageRateExamples) {
  NetemSpec s = Parse("tc qdisc add dev eth0 root netem rate 5kbit 20");
  EXPECT_EQ(s.rate_bps, 5000u);
  EXPECT_EQ(s.packet_overhead, 20);
  // The man page's full example adds ATM cells, which longhaul does not model.
  const SyntaxError error = Error("tc qdisc add dev eth0 root netem rate 5kbit 20 100 5");
  EXPECT_EQ(error.word, "100");
  EXPECT_EQ(error.column, 48u);
  EXPECT_TRUE(Contains(error.message, "CELLSIZE")) << error.message;
  // Zero cell size and overhead mean "no cells" and are accepted.
  s = Parse("rate 1gbit -4 0 0");
  EXPECT_EQ(s.rate_bps, 1'000'000'000u);
  EXPECT_EQ(s.packet_overhead, -4);
}

TEST(NetemSyntax, IssueExampleAndLossModels) {
  NetemSpec s = Parse("delay 100ms 10ms 25% distribution normal loss 0.1% duplicate 1%");
  EXPECT_EQ(s.delay, 100ms);
  EXPECT_EQ(s.jitter, 10ms);
  EXPECT_DOUBLE_EQ(s.delay_correlation, 0.25);
  EXPECT_EQ(s.distribution, JitterShape::normal);
  EXPECT_DOUBLE_EQ(std::get<RandomLossConfig>(s.loss).probability, 0.001);
  EXPECT_DOUBLE_EQ(s.duplicate, 0.01);

  s = Parse("loss random 1% 10%");
  EXPECT_DOUBLE_EQ(std::get<RandomLossConfig>(s.loss).probability, 0.01);
  EXPECT_DOUBLE_EQ(std::get<RandomLossConfig>(s.loss).correlation, 0.1);

  s = Parse("drop 2%");  // tc's synonym
  EXPECT_DOUBLE_EQ(std::get<RandomLossConfig>(s.loss).probability, 0.02);

  s = Parse("loss gemodel 1% 10% 70% 0.1%");
  const auto& ge = std::get<GilbertElliottConfig>(s.loss);
  EXPECT_DOUBLE_EQ(ge.p, 0.01);
  EXPECT_DOUBLE_EQ(ge.r, 0.1);
  EXPECT_DOUBLE_EQ(ge.one_minus_h, 0.7);  // the third number is 1-h, loss in the bad state
  EXPECT_DOUBLE_EQ(ge.one_minus_k, 0.001);

  s = Parse("loss gemodel 2%");  // netem's defaults: r = 1-p, 1-h = 100%, 1-k = 0
  const auto& ge_defaults = std::get<GilbertElliottConfig>(s.loss);
  EXPECT_DOUBLE_EQ(ge_defaults.r, 0.98);
  EXPECT_DOUBLE_EQ(ge_defaults.one_minus_h, 1.0);
  EXPECT_DOUBLE_EQ(ge_defaults.one_minus_k, 0.0);

  s = Parse("loss state 1% 30% 5% 20% 0.5%");
  const auto& markov = std::get<MarkovLossConfig>(s.loss);
  EXPECT_DOUBLE_EQ(markov.p13, 0.01);
  EXPECT_DOUBLE_EQ(markov.p31, 0.3);
  EXPECT_DOUBLE_EQ(markov.p32, 0.05);
  EXPECT_DOUBLE_EQ(markov.p23, 0.2);
  EXPECT_DOUBLE_EQ(markov.p14, 0.005);

  s = Parse("loss state 3% 40%");  // defaults for the rest: p32 = 0, p23 = 100%, p14 = 0
  const auto& partial = std::get<MarkovLossConfig>(s.loss);
  EXPECT_DOUBLE_EQ(partial.p31, 0.4);
  EXPECT_DOUBLE_EQ(partial.p32, 0.0);
  EXPECT_DOUBLE_EQ(partial.p23, 1.0);
  EXPECT_DOUBLE_EQ(partial.p14, 0.0);
  EXPECT_DOUBLE_EQ(std::get<MarkovLossConfig>(Parse("loss state 3%").loss).p31, 0.97);
}

TEST(NetemSyntax, LimitEcnSeedAndPrefixes) {
  NetemSpec s = Parse("netem limit 5000 delay 20ms loss 1% ecn seed 18446744073709551615");
  EXPECT_EQ(s.limit_packets, 5000u);
  EXPECT_TRUE(s.ecn);
  EXPECT_EQ(s.seed, 18446744073709551615u);
  EXPECT_TRUE(netem_loss_config(s).ecn);

  s = Parse("tc qdisc replace dev lh-0 parent 1:1 handle 10: netem latency 5ms");
  EXPECT_EQ(s.delay, 5ms);
  s = Parse("");
  EXPECT_EQ(s.delay, 0ms);
  s = Parse("  delay\t1ms \n loss 1%  ");
  EXPECT_EQ(s.delay, 1ms);
}

// ------------------------------------------------------------------ units

TEST(NetemSyntax, TimeUnitsAreTcsAndBareNumbersAreMicroseconds) {
  EXPECT_EQ(Parse("delay 100").delay, 100us);  // tc: a bare time is microseconds
  EXPECT_EQ(Parse("delay 1.5").delay, Nanos{1500});
  EXPECT_EQ(Parse("delay 2s").delay, 2s);
  EXPECT_EQ(Parse("delay 2sec").delay, 2s);
  EXPECT_EQ(Parse("delay 2secs").delay, 2s);
  EXPECT_EQ(Parse("delay 1.25ms").delay, 1250us);
  EXPECT_EQ(Parse("delay 7msec").delay, 7ms);
  EXPECT_EQ(Parse("delay 7MS").delay, 7ms);
  EXPECT_EQ(Parse("delay 10usecs").delay, 10us);
  EXPECT_EQ(Parse("delay 250ns").delay, Nanos{250});
  EXPECT_EQ(Parse("delay 10.000000001s").delay, 10s + Nanos{1});
  EXPECT_EQ(Parse("delay 0.0000000005s").delay, Nanos{1});  // rounds half up to the ns
  EXPECT_EQ(Parse("delay 1000s").delay, 1000s);
  EXPECT_EQ(Parse("delay 100ms 0.5ms").jitter, 500us);

  SyntaxError e = Error("delay 1001s");
  EXPECT_TRUE(Contains(e.message, "1000 s")) << e.message;
  e = Error("delay 10 minutes");
  EXPECT_EQ(e.word, "minutes");
  e = Error("delay 10min");
  EXPECT_EQ(e.word, "10min");
  EXPECT_TRUE(Contains(e.message, "unknown time unit \"min\"")) << e.message;
  EXPECT_TRUE(Contains(e.message, "a bare number is microseconds")) << e.message;
  e = Error("delay -5ms");
  EXPECT_EQ(e.word, "-5ms");
  e = Error("delay .5ms");
  EXPECT_EQ(e.word, ".5ms");
  e = Error("delay 1e3us");
  EXPECT_EQ(e.word, "1e3us");
}

TEST(NetemSyntax, PercentagesAreTcsAndTheSignIsOptional) {
  EXPECT_DOUBLE_EQ(std::get<RandomLossConfig>(Parse("loss 1").loss).probability, 0.01);
  EXPECT_DOUBLE_EQ(std::get<RandomLossConfig>(Parse("loss 0.1").loss).probability, 0.001);
  // 1e-6 resolution: the nearest double to the exact decimal.
  EXPECT_EQ(std::get<RandomLossConfig>(Parse("loss 0.0001%").loss).probability, 1e-6);
  EXPECT_EQ(std::get<RandomLossConfig>(Parse("loss 100%").loss).probability, 1.0);
  EXPECT_EQ(std::get<RandomLossConfig>(Parse("loss 0%").loss).probability, 0.0);

  SyntaxError e = Error("loss 101%");
  EXPECT_TRUE(Contains(e.message, "more than 100%")) << e.message;
  e = Error("loss 1%%");
  EXPECT_EQ(e.word, "1%%");
  e = Error("duplicate 5 percent");
  EXPECT_EQ(e.word, "percent");
}

TEST(NetemSyntax, RatesAreTcsIncludingBytesPerSecond) {
  EXPECT_EQ(Parse("rate 100mbit").rate_bps, 100'000'000u);
  EXPECT_EQ(Parse("rate 1.5Gbit").rate_bps, 1'500'000'000u);
  EXPECT_EQ(Parse("rate 1000").rate_bps, 1000u);  // a bare number is bits per second
  EXPECT_EQ(Parse("rate 64kbit").rate_bps, 64'000u);
  EXPECT_EQ(Parse("rate 1kibit").rate_bps, 1024u);
  EXPECT_EQ(Parse("rate 1mibit").rate_bps, 1'048'576u);
  EXPECT_EQ(Parse("rate 1bps").rate_bps, 8u);
  EXPECT_EQ(Parse("rate 100mbps").rate_bps, 800'000'000u);  // megaBYTES, as in tc
  EXPECT_EQ(Parse("rate 1MBps").rate_bps, 8'000'000u);
  EXPECT_EQ(Parse("rate 1kibps").rate_bps, 8192u);
  EXPECT_EQ(Parse("rate 10tbit").rate_bps, 10'000'000'000'000u);

  SyntaxError e = Error("rate 50%");
  EXPECT_TRUE(Contains(e.message, "percentage of the device speed")) << e.message;
  e = Error("rate 10mb");
  EXPECT_TRUE(Contains(e.message, "unknown unit \"mb\"")) << e.message;
  EXPECT_TRUE(Contains(e.message, "BYTES per second")) << e.message;
  e = Error("rate 0bit");
  EXPECT_TRUE(Contains(e.message, "at least 1 bit")) << e.message;
}

// ------------------------------------------------------------ tc's checks

TEST(NetemSyntax, TcsConsistencyChecks) {
  SyntaxError e = Error("reorder 25%");
  EXPECT_TRUE(Contains(e.message, "reorder needs a delay")) << e.message;
  e = Error("delay 10ms gap 5");
  EXPECT_TRUE(Contains(e.message, "gap needs a reorder")) << e.message;
  e = Error("delay 10ms ecn");
  EXPECT_TRUE(Contains(e.message, "ecn needs a loss model")) << e.message;
  e = Error("delay 10ms distribution normal");
  EXPECT_TRUE(Contains(e.message, "distribution needs a delay and a jitter")) << e.message;
  e = Error("distribution pareto");
  EXPECT_TRUE(Contains(e.message, "distribution needs")) << e.message;
}

// ----------------------------------------------------------------- errors

TEST(NetemSyntax, UnknownWordsAreNamedWithTheirColumnAndTheAcceptedList) {
  SyntaxError e = Error("delay 100ms jitter 10ms");
  EXPECT_EQ(e.word, "jitter");
  EXPECT_EQ(e.line, 1u);
  EXPECT_EQ(e.column, 13u);
  EXPECT_TRUE(Contains(e.message, "\"jitter\" at column 13")) << e.message;
  EXPECT_TRUE(Contains(e.message, "accepted: limit, delay")) << e.message;

  e = Error("delay 100ms 10ms dist normal");
  EXPECT_EQ(e.word, "dist");
  EXPECT_TRUE(Contains(e.message, "\"distribution\"")) << e.message;
  EXPECT_TRUE(Contains(e.message, "write it in full")) << e.message;

  e = Error("delay 100ms\nloss 5x");
  EXPECT_EQ(e.word, "5x");
  EXPECT_EQ(e.line, 2u);
  EXPECT_EQ(e.column, 6u);

  e = Error("delay 4ms 1ms slot 800us 1ms packets 42");
  EXPECT_EQ(e.word, "slot");
  EXPECT_TRUE(Contains(e.message, "not supported")) << e.message;

  e = Error("help");
  EXPECT_EQ(e.word, "help");
  e = Error("loss trace /tmp/x");
  EXPECT_EQ(e.word, "trace");
  e = Error("loss bursty 5%");
  EXPECT_EQ(e.word, "bursty");
  EXPECT_TRUE(Contains(e.message, "gemodel")) << e.message;

  e = Error("delay 100ms 10ms 25% 3%");  // a fourth number belongs to nothing
  EXPECT_EQ(e.word, "3%");
  EXPECT_TRUE(Contains(e.message, "unexpected number")) << e.message;
}

TEST(NetemSyntax, MissingArgumentsAndRepeatedKeywords) {
  SyntaxError e = Error("loss 1% delay");
  EXPECT_TRUE(Contains(e.message, "ends after \"delay\"")) << e.message;
  EXPECT_TRUE(Contains(e.message, "TIME")) << e.message;
  EXPECT_EQ(e.column, 14u);
  e = Error("delay 1ms delay 2ms");
  EXPECT_EQ(e.column, 11u);
  EXPECT_TRUE(Contains(e.message, "given twice")) << e.message;
  e = Error("loss 1% drop 2%");
  EXPECT_TRUE(Contains(e.message, "loss is given twice")) << e.message;
  e = Error("limit 0");
  EXPECT_TRUE(Contains(e.message, "at least 1")) << e.message;
  e = Error("limit 4294967296");
  EXPECT_TRUE(Contains(e.message, "larger than")) << e.message;
  e = Error("seed x");
  EXPECT_TRUE(Contains(e.message, "whole number")) << e.message;
  e = Error("tc qdisc add dev eth0 root pfifo");
  EXPECT_EQ(e.word, "tc");
  e = Error("delay 10ms 5ms distribution ../etc/passwd");
  EXPECT_EQ(e.word, "../etc/passwd");
}

TEST(NetemSyntax, UserDistributionNamesAreTables) {
  const NetemSpec s = Parse("delay 50ms 5ms distribution experimental");
  EXPECT_EQ(s.distribution, JitterShape::table);
  EXPECT_EQ(s.distribution_name, "experimental");
  const JitterConfig config = netem_jitter_config(s, {-100, 0, 100});
  EXPECT_EQ(config.shape, JitterShape::table);
  EXPECT_EQ(config.table.size(), 3u);
  EXPECT_EQ(config.delay, 50ms);
  EXPECT_EQ(config.jitter, 5ms);
}

// --------------------------------------------------- formatting and configs

TEST(NetemSyntax, FormatIsCanonicalAndParsesBack) {
  const char* const lines[] = {
      "delay 100ms 10ms 25% distribution normal loss random 0.1% duplicate 1%",
      "limit 1000 delay 10ms reorder 25% 50% gap 5",
      "loss gemodel 1% 10% 70% 0.1% ecn",
      "loss state 1% 30% 5% 20% 0.5%",
      "delay 1500ns rate 1500kbit -4 seed 7",
      "corrupt 0.0001% duplicate 12.5% 3%",
  };
  for (const char* line : lines) {
    const NetemSpec spec = Parse(line);
    const std::string formatted = format_netem(spec);
    EXPECT_EQ(formatted, line);
    EXPECT_EQ(format_netem(Parse(formatted)), formatted);
  }
  // tc's bare units come back with their unit written out.
  EXPECT_EQ(format_netem(Parse("delay 100 loss 1")), "delay 100us loss random 1%");
  EXPECT_EQ(format_netem(Parse("delay 100ms reorder 5")), "delay 100ms reorder 5%");
  // Small probabilities are written in fixed notation, which the grammar reads back (an
  // exponent, "1e-05%", is not in it: found by tests/fuzz/netem_fuzz).
  EXPECT_EQ(format_netem(Parse("loss random 0.00001%")), "loss random 0.00001%");
  EXPECT_EQ(format_netem(Parse("duplicate 99.9999% 0.0000001")), "duplicate 99.9999% 0.0000001%");
  EXPECT_EQ(format_netem(Parse("loss gemodel 0.0000001%")),
            format_netem(Parse(format_netem(Parse("loss gemodel 0.0000001%")))));
}

TEST(NetemSyntax, ConfigsForTheStages) {
  const NetemSpec s = Parse(
      "delay 80ms 4ms 10% distribution pareto loss 1% 20% corrupt 0.5% 5% duplicate 2% reorder 3% "
      "gap 4");
  const JitterConfig jitter = netem_jitter_config(s, {}, CorrelationModel::netem);
  EXPECT_EQ(jitter.delay, 80ms);
  EXPECT_EQ(jitter.jitter, 4ms);
  EXPECT_DOUBLE_EQ(jitter.correlation, 0.1);
  EXPECT_EQ(jitter.shape, JitterShape::pareto);
  EXPECT_EQ(jitter.correlation_model, CorrelationModel::netem);
  const LossStageConfig loss = netem_loss_config(s);
  EXPECT_DOUBLE_EQ(std::get<RandomLossConfig>(loss.model).correlation, 0.2);
  EXPECT_TRUE(loss.needs_wire_packets());
  const CorruptConfig corrupt = netem_corrupt_config(s);
  EXPECT_DOUBLE_EQ(corrupt.probability, 0.005);
  EXPECT_DOUBLE_EQ(corrupt.correlation, 0.05);
  EXPECT_EQ(corrupt.bit_error_rate, 0.0);
  const DuplicateConfig duplicate = netem_duplicate_config(s);
  EXPECT_DOUBLE_EQ(duplicate.probability, 0.02);
  const ReorderConfig reorder = netem_reorder_config(s);
  EXPECT_DOUBLE_EQ(reorder.probability, 0.03);
  EXPECT_EQ(reorder.gap, 4u);
}

}  // namespace
}  // namespace longhaul::core

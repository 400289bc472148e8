#include "core/units.hh"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

namespace longhaul::core {
namespace {

using namespace std::chrono_literals;

// Passes when the parse failed and its error mentions `phrase`; prints the error otherwise.
template <class T>
testing::AssertionResult RejectedWith(const Parsed<T>& p, std::string_view phrase) {
  if (p) return testing::AssertionFailure() << "parse unexpectedly succeeded";
  if (p.error.find(phrase) == std::string::npos) {
    return testing::AssertionFailure() << "error \"" << p.error << "\" lacks \"" << phrase << "\"";
  }
  return testing::AssertionSuccess();
}

// Formatters print "80 ms"; the parsers want "80ms".
std::string WithoutSpaces(std::string s) {
  std::erase(s, ' ');
  return s;
}

constexpr std::uint64_t kU64Max = std::numeric_limits<std::uint64_t>::max();
constexpr Nanos kNanosMax = Nanos::max();

// ---------------------------------------------------------------- durations

TEST(UnitsDuration, AcceptsEveryUnit) {
  EXPECT_EQ(*parse_duration("100ns"), 100ns);
  EXPECT_EQ(*parse_duration("250us"), 250us);
  EXPECT_EQ(*parse_duration("250\xc2\xb5s"), 250us);  // U+00B5 micro sign
  EXPECT_EQ(*parse_duration("250\xce\xbcs"), 250us);  // U+03BC greek mu
  EXPECT_EQ(*parse_duration("80ms"), 80ms);
  EXPECT_EQ(*parse_duration("2s"), 2s);
}

TEST(UnitsDuration, UnitsAreCaseInsensitive) {
  EXPECT_EQ(*parse_duration("100NS"), 100ns);
  EXPECT_EQ(*parse_duration("250Us"), 250us);
  EXPECT_EQ(*parse_duration("250\xc2\xb5S"), 250us);
  EXPECT_EQ(*parse_duration("80MS"), 80ms);
  EXPECT_EQ(*parse_duration("1.5S"), 1500ms);
}

TEST(UnitsDuration, ZeroNeedsNoUnit) {
  EXPECT_EQ(*parse_duration("0"), 0ns);
  EXPECT_EQ(*parse_duration("0.0"), 0ns);
  EXPECT_EQ(*parse_duration("000"), 0ns);
  EXPECT_EQ(*parse_duration("0ms"), 0ns);
  EXPECT_EQ(*parse_duration("0s"), 0ns);
}

TEST(UnitsDuration, FractionsAreExact) {
  EXPECT_EQ(parse_duration("1.5s")->count(), 1'500'000'000);
  EXPECT_EQ(parse_duration("0.1s")->count(), 100'000'000);
  EXPECT_EQ(parse_duration("12.345678ms")->count(), 12'345'678);
  EXPECT_EQ(parse_duration("0.000000001s")->count(), 1);
  EXPECT_EQ(parse_duration("2.5us")->count(), 2'500);
  EXPECT_EQ(parse_duration("007ms")->count(), 7'000'000);
  EXPECT_EQ(parse_duration("1.000000000000000000000000000001s")->count(), 1'000'000'000);
}

TEST(UnitsDuration, SubNanosecondRoundsToNearestHalfUp) {
  EXPECT_EQ(parse_duration("0.5ns")->count(), 1);
  EXPECT_EQ(parse_duration("0.4999999ns")->count(), 0);
  EXPECT_EQ(parse_duration("1.0000000005s")->count(), 1'000'000'001);
  EXPECT_EQ(parse_duration("1.0000000004999s")->count(), 1'000'000'000);
  EXPECT_EQ(parse_duration("0.0015us")->count(), 2);
  EXPECT_EQ(parse_duration("0.0014us")->count(), 1);
}

TEST(UnitsDuration, AcceptsTheLargestRepresentableValue) {
  EXPECT_EQ(*parse_duration("9223372036854775807ns"), kNanosMax);
  EXPECT_EQ(*parse_duration("9223372036.854775807s"), kNanosMax);
  EXPECT_EQ(*parse_duration("9223372036.8547758074s"), kNanosMax);
}

TEST(UnitsDuration, RejectsOverflow) {
  EXPECT_TRUE(RejectedWith(parse_duration("9223372036854775808ns"), "too large"));
  EXPECT_TRUE(RejectedWith(parse_duration("9223372036.8547758075s"), "too large"));
  EXPECT_TRUE(RejectedWith(parse_duration("9223372037s"), "too large"));
  EXPECT_TRUE(RejectedWith(parse_duration("99999999999999999999999s"), "too large"));
  EXPECT_TRUE(RejectedWith(parse_duration("18446744073709551616ns"), "too large"));
}

TEST(UnitsDuration, MissingUnitMessageIsExact) {
  EXPECT_EQ(parse_duration("80").error,
            "invalid duration \"80\": missing unit; use ns, us, ms or s (e.g. \"80ms\")");
  EXPECT_TRUE(RejectedWith(parse_duration("1.5"), "missing unit"));
}

TEST(UnitsDuration, RejectsSpacesWithAHint) {
  EXPECT_EQ(parse_duration("80 ms").error,
            "invalid duration \"80 ms\": spaces are not allowed; write \"80ms\"");
  EXPECT_TRUE(RejectedWith(parse_duration(" 80ms"), "write \"80ms\""));
  EXPECT_TRUE(RejectedWith(parse_duration("80ms "), "spaces are not allowed"));
  EXPECT_TRUE(RejectedWith(parse_duration("80\tms"), "spaces are not allowed"));
  EXPECT_TRUE(RejectedWith(parse_duration("   "), "blank"));
}

TEST(UnitsDuration, RejectsMalformedNumbers) {
  EXPECT_TRUE(RejectedWith(parse_duration(""), "empty"));
  EXPECT_TRUE(RejectedWith(parse_duration("ms"), "missing number"));
  EXPECT_TRUE(RejectedWith(parse_duration("abc"), "missing number"));
  EXPECT_TRUE(RejectedWith(parse_duration("-5ms"), "must not be negative"));
  EXPECT_TRUE(RejectedWith(parse_duration("-0"), "must not be negative"));
  EXPECT_TRUE(RejectedWith(parse_duration("+5ms"), "\"+\" sign is not accepted"));
  EXPECT_TRUE(RejectedWith(parse_duration(".5s"), "digits on both sides"));
  EXPECT_TRUE(RejectedWith(parse_duration("5.s"), "digits on both sides"));
  EXPECT_TRUE(RejectedWith(parse_duration("1.2.3s"), "more than one decimal point"));
  EXPECT_TRUE(RejectedWith(parse_duration("1,5s"), "use \".\" as the decimal point"));
  EXPECT_TRUE(RejectedWith(parse_duration("1e3ms"), "exponents are not accepted"));
  EXPECT_TRUE(RejectedWith(parse_duration("1E-3s"), "exponents are not accepted"));
  EXPECT_TRUE(RejectedWith(parse_duration("1e+3s"), "exponents are not accepted"));
  EXPECT_TRUE(RejectedWith(parse_duration("nan"), "not a finite number"));
  EXPECT_TRUE(RejectedWith(parse_duration("inf"), "not a finite number"));
  EXPECT_TRUE(RejectedWith(parse_duration("INFms"), "not a finite number"));
  EXPECT_TRUE(RejectedWith(parse_duration("-inf"), "must not be negative"));
}

TEST(UnitsDuration, RejectsUnknownUnitsAndTrailingGarbage) {
  EXPECT_EQ(parse_duration("80msx").error,
            "invalid duration \"80msx\": unknown unit \"msx\"; use ns, us, ms or s (e.g. "
            "\"80ms\")");
  EXPECT_TRUE(RejectedWith(parse_duration("80ms5"), "unknown unit \"ms5\""));
  EXPECT_TRUE(RejectedWith(parse_duration("80msec"), "unknown unit"));
  EXPECT_TRUE(RejectedWith(parse_duration("0x10ms"), "unknown unit"));
  EXPECT_TRUE(RejectedWith(parse_duration("10sec"), "use ns, us, ms or s"));
  EXPECT_TRUE(RejectedWith(parse_duration("0ms!"), "unknown unit \"ms!\""));
}

TEST(UnitsDuration, RejectsMinutesAndHours) {
  EXPECT_TRUE(RejectedWith(parse_duration("2m"), "minutes, hours and days are not accepted"));
  EXPECT_TRUE(RejectedWith(parse_duration("2m"), "milli"));
  EXPECT_TRUE(RejectedWith(parse_duration("5min"), "\"120s\""));
  EXPECT_TRUE(RejectedWith(parse_duration("1h"), "not accepted"));
  EXPECT_TRUE(RejectedWith(parse_duration("1d"), "not accepted"));
}

TEST(UnitsDuration, ErrorsNameTheText) {
  const Parsed<Nanos> p = parse_duration("8O ms");
  EXPECT_EQ(p.error.rfind("invalid duration \"8O ms\": ", 0), 0u) << p.error;
}

// ---------------------------------------------------------------- rates

TEST(UnitsRate, AcceptsEveryUnit) {
  EXPECT_EQ(*parse_rate_bps("100bit"), 100u);
  EXPECT_EQ(*parse_rate_bps("64kbit"), 64'000u);
  EXPECT_EQ(*parse_rate_bps("500mbit"), 500'000'000u);
  EXPECT_EQ(*parse_rate_bps("10gbit"), 10'000'000'000u);
  EXPECT_EQ(*parse_rate_bps("2tbit"), 2'000'000'000'000u);
}

TEST(UnitsRate, UnitsAreCaseInsensitive) {
  EXPECT_EQ(*parse_rate_bps("800Mbit"), 800'000'000u);
  EXPECT_EQ(*parse_rate_bps("1.5Gbit"), 1'500'000'000u);
  EXPECT_EQ(*parse_rate_bps("100BIT"), 100u);
  EXPECT_EQ(*parse_rate_bps("64KBIT"), 64'000u);
}

TEST(UnitsRate, AcceptsPerSecondSuffix) {
  EXPECT_EQ(*parse_rate_bps("500mbit/s"), 500'000'000u);
  EXPECT_EQ(*parse_rate_bps("9.41Gbit/s"), 9'410'000'000u);
  EXPECT_EQ(*parse_rate_bps("100bit/s"), 100u);
  EXPECT_EQ(*parse_rate_bps("1TBIT/S"), 1'000'000'000'000u);
}

TEST(UnitsRate, FractionsAreExactAndRoundToNearestBit) {
  EXPECT_EQ(*parse_rate_bps("0.001kbit"), 1u);
  EXPECT_EQ(*parse_rate_bps("1.234567891gbit"), 1'234'567'891u);
  EXPECT_EQ(*parse_rate_bps("0.5bit"), 1u);
  EXPECT_EQ(*parse_rate_bps("1.4bit"), 1u);
  EXPECT_EQ(*parse_rate_bps("1.0000001kbit"), 1'000u);
  EXPECT_EQ(*parse_rate_bps("1.0005kbit"), 1'001u);
}

TEST(UnitsRate, AcceptsTheLargestRepresentableValue) {
  EXPECT_EQ(*parse_rate_bps("18446744073709551615bit"), kU64Max);
  EXPECT_EQ(*parse_rate_bps("18446744.073709551615tbit"), kU64Max);
}

TEST(UnitsRate, RejectsOverflow) {
  EXPECT_TRUE(RejectedWith(parse_rate_bps("18446744073709551616bit"), "too large"));
  EXPECT_TRUE(RejectedWith(parse_rate_bps("18446744.073709551616tbit"), "too large"));
  EXPECT_TRUE(RejectedWith(parse_rate_bps("20000000tbit"), "too large"));
}

TEST(UnitsRate, RejectsZero) {
  EXPECT_TRUE(RejectedWith(parse_rate_bps("0mbit"), "rate must be greater than zero"));
  EXPECT_TRUE(RejectedWith(parse_rate_bps("0"), "rate must be greater than zero"));
  EXPECT_TRUE(RejectedWith(parse_rate_bps("0.0gbit/s"), "rate must be greater than zero"));
  EXPECT_TRUE(RejectedWith(parse_rate_bps("0.4bit"), "rate must be greater than zero"));
}

TEST(UnitsRate, RejectsBpsAndExplainsWhy) {
  const Parsed<std::uint64_t> p = parse_rate_bps("500mbps");
  EXPECT_TRUE(RejectedWith(p, "megabytes per second"));
  EXPECT_TRUE(RejectedWith(p, "write \"500mbit\""));
  EXPECT_TRUE(RejectedWith(parse_rate_bps("10Gbps"), "write \"10Gbit\""));
  EXPECT_TRUE(RejectedWith(parse_rate_bps("64kbps"), "kilobytes per second"));
  EXPECT_TRUE(RejectedWith(parse_rate_bps("100bps"), "write \"100bit\""));
  EXPECT_TRUE(RejectedWith(parse_rate_bps("1TBPS"), "terabytes per second"));
  EXPECT_TRUE(RejectedWith(parse_rate_bps("500MBPS/s"), "megabytes per second"));
}

TEST(UnitsRate, RejectsMissingAndUnknownUnits) {
  EXPECT_EQ(parse_rate_bps("500").error,
            "invalid rate \"500\": missing unit; use bit, kbit, mbit, gbit or tbit, optionally "
            "followed by \"/s\" (e.g. \"500mbit\")");
  EXPECT_TRUE(RejectedWith(parse_rate_bps("10g"), "missing \"bit\" after \"g\"; write \"10gbit\""));
  EXPECT_TRUE(RejectedWith(parse_rate_bps("10G/s"), "write \"10Gbit\""));
  EXPECT_TRUE(RejectedWith(parse_rate_bps("500mb"), "unknown unit \"mb\""));
  EXPECT_TRUE(RejectedWith(parse_rate_bps("500MB/s"), "unknown unit \"MB/s\""));
  EXPECT_TRUE(RejectedWith(parse_rate_bps("10mibit"), "unknown unit"));
  EXPECT_TRUE(RejectedWith(parse_rate_bps("10gbit/sx"), "unknown unit"));
  EXPECT_TRUE(RejectedWith(parse_rate_bps("10gbits"), "unknown unit"));
  EXPECT_TRUE(RejectedWith(parse_rate_bps("500/s"), "unknown unit \"/s\""));
  EXPECT_TRUE(RejectedWith(parse_rate_bps("xbps"), "missing number"));
}

TEST(UnitsRate, RejectsMalformedNumbers) {
  EXPECT_TRUE(RejectedWith(parse_rate_bps(""), "empty"));
  EXPECT_TRUE(RejectedWith(parse_rate_bps("500 mbit"), "write \"500mbit\""));
  EXPECT_TRUE(RejectedWith(parse_rate_bps("-1mbit"), "a rate must not be negative"));
  EXPECT_TRUE(RejectedWith(parse_rate_bps("1e9bit"), "exponents are not accepted"));
  EXPECT_TRUE(RejectedWith(parse_rate_bps("infgbit"), "not a finite number"));
  EXPECT_TRUE(RejectedWith(parse_rate_bps("NaN"), "not a finite number"));
  EXPECT_TRUE(RejectedWith(parse_rate_bps("gbit"), "missing number"));
  EXPECT_TRUE(RejectedWith(parse_rate_bps("1.gbit"), "digits on both sides"));
}

// ---------------------------------------------------------------- probabilities

TEST(UnitsProbability, AcceptsPercentagesExactly) {
  // Exact equality on purpose: each must be the double nearest the decimal value.
  EXPECT_EQ(*parse_probability("0.1%"), 0.001);
  EXPECT_EQ(*parse_probability("2%"), 0.02);
  EXPECT_EQ(*parse_probability("100%"), 1.0);
  EXPECT_EQ(*parse_probability("100.000%"), 1.0);
  EXPECT_EQ(*parse_probability("0.0001%"), 0.000001);
  EXPECT_EQ(*parse_probability("0%"), 0.0);
  EXPECT_EQ(*parse_probability("0.0%"), 0.0);
  EXPECT_EQ(*parse_probability("50%"), 0.5);
  EXPECT_EQ(*parse_probability("33.3333%"), 0.333333);
  EXPECT_EQ(*parse_probability("0.7%"), 0.007);
  EXPECT_EQ(*parse_probability("12.34%"), 0.1234);
  EXPECT_EQ(*parse_probability("99.9999999%"), 0.999999999);
  EXPECT_EQ(*parse_probability("0.000000000000000000000000000001%"), 1e-32);
}

TEST(UnitsProbability, RequiresThePercentSign) {
  EXPECT_EQ(parse_probability("0.1").error,
            "invalid probability \"0.1\": missing \"%\" sign; write a percentage such as "
            "\"0.1%\" (a bare number could be a fraction or a percentage)");
  EXPECT_TRUE(RejectedWith(parse_probability("1"), "missing \"%\" sign"));
  EXPECT_TRUE(RejectedWith(parse_probability("0"), "missing \"%\" sign"));
}

TEST(UnitsProbability, RejectsMoreThanAHundredPercent) {
  EXPECT_TRUE(RejectedWith(parse_probability("100.0001%"), "cannot exceed 100%"));
  EXPECT_TRUE(RejectedWith(parse_probability("100.0000000000000000001%"), "cannot exceed 100%"));
  EXPECT_TRUE(RejectedWith(parse_probability("101%"), "cannot exceed 100%"));
  EXPECT_TRUE(RejectedWith(parse_probability("99999999999999999999999%"), "cannot exceed 100%"));
}

TEST(UnitsProbability, RejectsMalformedInput) {
  EXPECT_TRUE(RejectedWith(parse_probability(""), "empty"));
  EXPECT_TRUE(RejectedWith(parse_probability("%"), "missing number"));
  EXPECT_TRUE(RejectedWith(parse_probability("-1%"), "a probability must not be negative"));
  EXPECT_TRUE(RejectedWith(parse_probability("0.1 %"), "write \"0.1%\""));
  EXPECT_TRUE(RejectedWith(parse_probability("0.1%%"), "unknown unit \"%%\""));
  EXPECT_TRUE(RejectedWith(parse_probability("0.1pct"), "unknown unit \"pct\""));
  EXPECT_TRUE(RejectedWith(parse_probability("1e-3%"), "exponents are not accepted"));
  EXPECT_TRUE(RejectedWith(parse_probability("nan%"), "not a finite number"));
  EXPECT_TRUE(RejectedWith(parse_probability(".1%"), "digits on both sides"));
  EXPECT_TRUE(RejectedWith(parse_probability("0,1%"), "use \".\" as the decimal point"));
}

TEST(UnitsProbability, RejectsValuesTooSmallToRepresent) {
  std::string tiny = "0." + std::string(400, '0') + "1%";
  EXPECT_TRUE(RejectedWith(parse_probability(tiny), "too small to represent"));
}

// ---------------------------------------------------------------- byte sizes

TEST(UnitsBytes, AcceptsSiUnits) {
  EXPECT_EQ(*parse_bytes("1500B"), 1'500u);
  EXPECT_EQ(*parse_bytes("1500b"), 1'500u);
  EXPECT_EQ(*parse_bytes("1kB"), 1'000u);
  EXPECT_EQ(*parse_bytes("1KB"), 1'000u);
  EXPECT_EQ(*parse_bytes("1kb"), 1'000u);
  EXPECT_EQ(*parse_bytes("2MB"), 2'000'000u);
  EXPECT_EQ(*parse_bytes("3GB"), 3'000'000'000u);
  EXPECT_EQ(*parse_bytes("4TB"), 4'000'000'000'000u);
  EXPECT_EQ(*parse_bytes("5PB"), 5'000'000'000'000'000u);
}

TEST(UnitsBytes, AcceptsBinaryUnits) {
  EXPECT_EQ(*parse_bytes("64KiB"), 65'536u);
  EXPECT_EQ(*parse_bytes("64kib"), 65'536u);
  EXPECT_EQ(*parse_bytes("1MiB"), 1'048'576u);
  EXPECT_EQ(*parse_bytes("1GIB"), 1'073'741'824u);
  EXPECT_EQ(*parse_bytes("1TiB"), 1'099'511'627'776u);
  EXPECT_EQ(*parse_bytes("1PiB"), 1'125'899'906'842'624u);
}

TEST(UnitsBytes, FractionsAreExact) {
  EXPECT_EQ(*parse_bytes("1.5MiB"), 1'572'864u);
  EXPECT_EQ(*parse_bytes("0.5KiB"), 512u);
  EXPECT_EQ(*parse_bytes("1.5kB"), 1'500u);
  EXPECT_EQ(*parse_bytes("21.6MB"), 21'600'000u);
  EXPECT_EQ(*parse_bytes("0.0009765625MiB"), 1'024u);
  EXPECT_EQ(*parse_bytes("1.000000000000000000000kB"), 1'000u);
}

TEST(UnitsBytes, BareIntegerIsBytes) {
  EXPECT_EQ(*parse_bytes("9000"), 9'000u);
  EXPECT_EQ(*parse_bytes("0"), 0u);
  EXPECT_EQ(*parse_bytes("0B"), 0u);
  EXPECT_EQ(*parse_bytes("18446744073709551615"), kU64Max);
}

TEST(UnitsBytes, RejectsFractionalBytes) {
  EXPECT_TRUE(RejectedWith(parse_bytes("1.5"), "a number without a unit is a whole count"));
  EXPECT_TRUE(RejectedWith(parse_bytes("1.5B"), "not a whole number of bytes"));
  EXPECT_TRUE(RejectedWith(parse_bytes("1.1KiB"), "not a whole number of bytes"));
  EXPECT_TRUE(RejectedWith(parse_bytes("1.0001kB"), "not a whole number of bytes"));
}

TEST(UnitsBytes, RejectsAmbiguousSingleLetterPrefixes) {
  EXPECT_EQ(parse_bytes("64k").error,
            "invalid size \"64k\": \"k\" alone is ambiguous; write \"64kB\" (1000-based) or "
            "\"64KiB\" (1024-based)");
  EXPECT_TRUE(RejectedWith(parse_bytes("2m"), "write \"2MB\" (1000-based) or \"2MiB\""));
  EXPECT_TRUE(RejectedWith(parse_bytes("2M"), "ambiguous"));
  EXPECT_TRUE(RejectedWith(parse_bytes("1g"), "\"1GiB\""));
  EXPECT_TRUE(RejectedWith(parse_bytes("1T"), "ambiguous"));
}

TEST(UnitsBytes, RejectsOverflow) {
  EXPECT_TRUE(RejectedWith(parse_bytes("18446744073709551616"), "too large"));
  EXPECT_TRUE(RejectedWith(parse_bytes("18446744073709551616B"), "too large"));
  EXPECT_TRUE(RejectedWith(parse_bytes("16384PiB"), "too large"));
  EXPECT_TRUE(RejectedWith(parse_bytes("18446744073709.551616MB"), "too large"));
}

TEST(UnitsBytes, RejectsMalformedInput) {
  EXPECT_TRUE(RejectedWith(parse_bytes(""), "empty"));
  EXPECT_TRUE(RejectedWith(parse_bytes("KiB"), "missing number"));
  EXPECT_TRUE(RejectedWith(parse_bytes("64 KiB"), "write \"64KiB\""));
  EXPECT_TRUE(RejectedWith(parse_bytes("-1B"), "a size must not be negative"));
  EXPECT_TRUE(RejectedWith(parse_bytes("1kbit"), "unknown unit \"kbit\""));
  EXPECT_TRUE(RejectedWith(parse_bytes("1EiB"), "unknown unit"));
  EXPECT_TRUE(RejectedWith(parse_bytes("64KiBx"), "unknown unit \"KiBx\""));
  EXPECT_TRUE(RejectedWith(parse_bytes("1e6"), "exponents are not accepted"));
  EXPECT_TRUE(RejectedWith(parse_bytes("inf"), "not a finite number"));
}

// ---------------------------------------------------------------- queue limits

QueueLimit Packets(std::uint64_t n) {
  QueueLimit q;
  q.kind = QueueLimit::Kind::packets;
  q.packets = n;
  return q;
}

QueueLimit Bytes(std::uint64_t n) {
  QueueLimit q;
  q.kind = QueueLimit::Kind::bytes;
  q.bytes = n;
  return q;
}

QueueLimit Time(Nanos t) {
  QueueLimit q;
  q.kind = QueueLimit::Kind::time;
  q.time = t;
  return q;
}

TEST(UnitsQueueLimit, AcceptsPacketCounts) {
  EXPECT_EQ(*parse_queue_limit("1000p"), Packets(1000));
  EXPECT_EQ(*parse_queue_limit("1000pkt"), Packets(1000));
  EXPECT_EQ(*parse_queue_limit("1000pkts"), Packets(1000));
  EXPECT_EQ(*parse_queue_limit("1000packet"), Packets(1000));
  EXPECT_EQ(*parse_queue_limit("1000packets"), Packets(1000));
  EXPECT_EQ(*parse_queue_limit("1000P"), Packets(1000));
  EXPECT_EQ(*parse_queue_limit("1PACKETS"), Packets(1));
}

TEST(UnitsQueueLimit, AcceptsByteSizes) {
  EXPECT_EQ(*parse_queue_limit("64KiB"), Bytes(65'536));
  EXPECT_EQ(*parse_queue_limit("1500B"), Bytes(1'500));
  EXPECT_EQ(*parse_queue_limit("1.5MB"), Bytes(1'500'000));
}

TEST(UnitsQueueLimit, AcceptsDurations) {
  EXPECT_EQ(*parse_queue_limit("5ms"), Time(5ms));
  EXPECT_EQ(*parse_queue_limit("1.5s"), Time(1500ms));
  EXPECT_EQ(*parse_queue_limit("250\xc2\xb5s"), Time(250us));
  EXPECT_EQ(parse_queue_limit("5ms")->kind, QueueLimit::Kind::time);
}

TEST(UnitsQueueLimit, RejectsBareNumbersAsAmbiguous) {
  EXPECT_EQ(parse_queue_limit("1000").error,
            "invalid queue limit \"1000\": a number without a unit is ambiguous (tc reads it as "
            "packets); write \"1000p\" for packets, \"1000B\" for bytes or \"1000ms\" for a time");
}

TEST(UnitsQueueLimit, RejectsZero) {
  EXPECT_TRUE(RejectedWith(parse_queue_limit("0p"), "must be greater than zero"));
  EXPECT_TRUE(RejectedWith(parse_queue_limit("0B"), "must be greater than zero"));
  EXPECT_TRUE(RejectedWith(parse_queue_limit("0ms"), "must be greater than zero"));
  EXPECT_TRUE(RejectedWith(parse_queue_limit("0.1ns"), "must be greater than zero"));
}

TEST(UnitsQueueLimit, RejectsBadValuesOfEachKind) {
  EXPECT_TRUE(RejectedWith(parse_queue_limit("1.5p"), "a packet count must be a whole number"));
  EXPECT_TRUE(RejectedWith(parse_queue_limit("18446744073709551616p"), "too large"));
  EXPECT_TRUE(RejectedWith(parse_queue_limit("1.5B"), "not a whole number of bytes"));
  EXPECT_TRUE(RejectedWith(parse_queue_limit("64k"), "ambiguous"));
  EXPECT_TRUE(RejectedWith(parse_queue_limit("5min"), "minutes, hours and days"));
  EXPECT_TRUE(RejectedWith(parse_queue_limit("9223372037s"), "too large"));
}

TEST(UnitsQueueLimit, RejectsUnknownUnitsAndMalformedInput) {
  EXPECT_EQ(parse_queue_limit("1000x").error,
            "invalid queue limit \"1000x\": unknown unit \"x\"; use packets (e.g. \"1000p\"), a "
            "byte size (e.g. \"64KiB\") or a duration (e.g. \"5ms\")");
  EXPECT_TRUE(RejectedWith(parse_queue_limit(""), "empty"));
  EXPECT_TRUE(RejectedWith(parse_queue_limit("-5p"), "a queue limit must not be negative"));
  EXPECT_TRUE(RejectedWith(parse_queue_limit("1000 p"), "write \"1000p\""));
  EXPECT_TRUE(RejectedWith(parse_queue_limit("1000pk"), "unknown unit"));
  EXPECT_TRUE(RejectedWith(parse_queue_limit("1000mbit"), "unknown unit"));
}

// ---------------------------------------------------------------- formatting

TEST(UnitsFormat, Durations) {
  EXPECT_EQ(format_duration(80ms), "80 ms");
  EXPECT_EQ(format_duration(1500ms), "1.5 s");
  EXPECT_EQ(format_duration(12300ns), "12.3 us");
  EXPECT_EQ(format_duration(0ns), "0 s");
  EXPECT_EQ(format_duration(1ns), "1 ns");
  EXPECT_EQ(format_duration(999ns), "999 ns");
  EXPECT_EQ(format_duration(1us), "1 us");
  EXPECT_EQ(format_duration(1234567ns), "1.23 ms");
  EXPECT_EQ(format_duration(999999ns), "1 ms");  // rounds up into the next unit
  EXPECT_EQ(format_duration(3600s), "3600 s");   // integer digits are never rounded away
  EXPECT_EQ(format_duration(-5ms), "-5 ms");
  EXPECT_EQ(format_duration(Nanos::max()), "9223372037 s");
}

TEST(UnitsFormat, Rates) {
  EXPECT_EQ(format_rate(500e6), "500 Mbit/s");
  EXPECT_EQ(format_rate(9.41e9), "9.41 Gbit/s");
  EXPECT_EQ(format_rate(9.4149e9), "9.41 Gbit/s");
  EXPECT_EQ(format_rate(0.0), "0 bit/s");
  EXPECT_EQ(format_rate(100.0), "100 bit/s");
  EXPECT_EQ(format_rate(1500.0), "1.5 kbit/s");
  EXPECT_EQ(format_rate(1e13), "10 Tbit/s");
  EXPECT_EQ(format_rate(999.9e6), "1 Gbit/s");
  EXPECT_EQ(format_rate(0.5), "0.5 bit/s");
  EXPECT_EQ(format_rate(0.001), "0 bit/s");
  EXPECT_EQ(format_rate(-0.001), "0 bit/s");
  EXPECT_EQ(format_rate(std::numeric_limits<double>::infinity()), "inf bit/s");
}

TEST(UnitsFormat, Bytes) {
  EXPECT_EQ(format_bytes(21.6e6), "21.6 MB");
  EXPECT_EQ(format_bytes(1500.0), "1.5 kB");
  EXPECT_EQ(format_bytes(0.0), "0 B");
  EXPECT_EQ(format_bytes(999.0), "999 B");
  EXPECT_EQ(format_bytes(1e15), "1 PB");
  EXPECT_EQ(format_bytes(65536.0), "65.5 kB");
  // Bandwidth-delay product of 1 Gbit/s over an 80 ms round trip.
  EXPECT_EQ(format_bytes(1e9 * 0.080 / 8.0), "10 MB");
}

TEST(UnitsRoundTrip, ParsedTextFormatsAndParsesBackUnchanged) {
  for (std::string_view text : {"80ms", "1.5s", "12.3us", "100ns", "250us", "2s"}) {
    const Parsed<Nanos> first = parse_duration(text);
    ASSERT_TRUE(first) << first.error;
    const Parsed<Nanos> second = parse_duration(WithoutSpaces(format_duration(*first)));
    ASSERT_TRUE(second) << second.error;
    EXPECT_EQ(*second, *first) << text;
  }
  for (std::string_view text : {"500mbit", "9.41gbit", "64kbit", "100bit", "1.5tbit"}) {
    const Parsed<std::uint64_t> first = parse_rate_bps(text);
    ASSERT_TRUE(first) << first.error;
    const Parsed<std::uint64_t> second =
        parse_rate_bps(WithoutSpaces(format_rate(static_cast<double>(*first))));
    ASSERT_TRUE(second) << second.error;
    EXPECT_EQ(*second, *first) << text;
  }
  for (std::string_view text : {"21.6MB", "1500B", "64kB", "999B", "3PB"}) {
    const Parsed<std::uint64_t> first = parse_bytes(text);
    ASSERT_TRUE(first) << first.error;
    const Parsed<std::uint64_t> second =
        parse_bytes(WithoutSpaces(format_bytes(static_cast<double>(*first))));
    ASSERT_TRUE(second) << second.error;
    EXPECT_EQ(*second, *first) << text;
  }
}

// Any value survives format -> parse within the formatter's three significant digits.
TEST(UnitsRoundTrip, FormattedValuesParseBackWithinThreeSignificantDigits) {
  for (std::int64_t ns = 1; ns < Nanos::max().count() / 7; ns = ns * 7 + 3) {
    const Parsed<Nanos> back = parse_duration(WithoutSpaces(format_duration(Nanos{ns})));
    ASSERT_TRUE(back) << back.error;
    const double want = static_cast<double>(ns);
    EXPECT_NEAR(static_cast<double>(back->count()), want, want * 0.005 + 0.5) << ns;
  }
  for (double bps = 1.0; bps < 1e16; bps = bps * 7.3 + 1.0) {
    const Parsed<std::uint64_t> back = parse_rate_bps(WithoutSpaces(format_rate(bps)));
    ASSERT_TRUE(back) << back.error;
    EXPECT_NEAR(static_cast<double>(*back), bps, bps * 0.005 + 0.5) << bps;
  }
  for (double bytes = 1.0; bytes < 1e17; bytes = bytes * 7.0 + 3.0) {
    const Parsed<std::uint64_t> back = parse_bytes(WithoutSpaces(format_bytes(bytes)));
    ASSERT_TRUE(back) << back.error;
    EXPECT_NEAR(static_cast<double>(*back), bytes, bytes * 0.005) << bytes;
  }
}

TEST(UnitsParsed, BoolAndAccessReflectTheValue) {
  const Parsed<Nanos> good = parse_duration("1ms");
  EXPECT_TRUE(static_cast<bool>(good));
  EXPECT_TRUE(good.error.empty());
  EXPECT_EQ(good->count(), 1'000'000);
  const Parsed<Nanos> bad = parse_duration("1");
  EXPECT_FALSE(static_cast<bool>(bad));
  EXPECT_FALSE(bad.value.has_value());
  EXPECT_FALSE(bad.error.empty());
}

}  // namespace
}  // namespace longhaul::core

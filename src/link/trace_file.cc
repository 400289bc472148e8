#include "link/trace_file.hh"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <fstream>
#include <sstream>
#include <vector>

#include "io/text_file.hh"

namespace longhaul::link {

namespace {

using core::Nanos;

struct Line {
  std::size_t number;
  std::vector<std::string_view> fields;
};

std::vector<Line> lines_of(std::string_view text) {
  std::vector<Line> result;
  std::size_t at = 0;
  std::size_t number = 0;
  while (at < text.size()) {
    std::size_t end = text.find('\n', at);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(at, end - at);
    at = end + 1;
    ++number;
    if (const auto hash = line.find('#'); hash != std::string_view::npos) {
      line = line.substr(0, hash);
    }
    Line parsed{number, {}};
    std::size_t i = 0;
    while (i < line.size()) {
      while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
      const std::size_t start = i;
      while (i < line.size() && line[i] != ' ' && line[i] != '\t' && line[i] != '\r') ++i;
      if (i > start) parsed.fields.push_back(line.substr(start, i - start));
    }
    if (!parsed.fields.empty()) result.push_back(std::move(parsed));
  }
  return result;
}

std::optional<std::uint64_t> whole_number(std::string_view text) {
  std::uint64_t value = 0;
  const auto* end = text.data() + text.size();
  const auto result = std::from_chars(text.data(), end, value);
  if (text.empty() || result.ec != std::errc() || result.ptr != end) return std::nullopt;
  return value;
}

void add_rate(core::ScheduleConfig& trace, Nanos at, std::uint64_t rate_bps) {
  // Consecutive equal rates are one step (a constant trace is a single step).
  if (!trace.steps.empty() && trace.steps.back().change.rate_bps == rate_bps) return;
  core::ConditionChange change;
  change.rate_bps = rate_bps;
  trace.steps.push_back({at, change});
}

core::Parsed<core::ScheduleConfig> parse_mahimahi(const std::vector<Line>& lines,
                                                  std::string_view name, bool loop,
                                                  std::uint32_t overhead_bytes) {
  // Distinct timestamps and their opportunity counts.
  std::vector<std::pair<std::uint64_t, std::uint64_t>> counts;
  for (const Line& line : lines) {
    const auto ms = line.fields.size() == 1 ? whole_number(line.fields[0]) : std::nullopt;
    if (!ms) {
      return core::parse_failure<core::ScheduleConfig>(fmt::format(
          "{}:{}: a Mahimahi trace line is one whole number of milliseconds (e.g. 12); mixed "
          "formats are not allowed",
          name, line.number));
    }
    if (*ms > 1'000'000'000ULL) {
      return core::parse_failure<core::ScheduleConfig>(fmt::format(
          "{}:{}: {} ms is beyond 11 days; check the unit (milliseconds)", name, line.number, *ms));
    }
    if (!counts.empty() && *ms < counts.back().first) {
      return core::parse_failure<core::ScheduleConfig>(
          fmt::format("{}:{}: {} ms comes before the previous line's {} ms; timestamps must not "
                      "decrease",
                      name, line.number, *ms, counts.back().first));
    }
    if (!counts.empty() && counts.back().first == *ms) {
      ++counts.back().second;
    } else {
      counts.emplace_back(*ms, 1);
    }
  }
  const std::uint64_t last_ms = counts.back().first;
  if (last_ms == 0) {
    return core::parse_failure<core::ScheduleConfig>(fmt::format(
        "{}: every opportunity is at 0 ms; a trace must last longer than 0 ms (as in Mahimahi)",
        name));
  }
  std::uint64_t at_zero = 0;
  if (counts.front().first == 0) {
    at_zero = counts.front().second;
    counts.erase(counts.begin());
  }
  // The loop point: time 0 of the next cycle is the last timestamp of this one.
  if (loop) counts.back().second += at_zero;
  const double bits_per_opportunity =
      8.0 * static_cast<double>(mahimahi_opportunity_wire_bytes(overhead_bytes));
  core::ScheduleConfig trace;
  std::uint64_t previous_ms = 0;
  for (const auto& [ms, count] : counts) {
    const double rate = static_cast<double>(count) * bits_per_opportunity * 1000.0 /
                        static_cast<double>(ms - previous_ms);
    add_rate(trace, std::chrono::milliseconds(previous_ms),
             static_cast<std::uint64_t>(std::llround(rate)));
    previous_ms = ms;
  }
  if (loop) trace.period = std::chrono::milliseconds(last_ms);
  return core::Parsed<core::ScheduleConfig>{trace, {}};
}

core::Parsed<core::ScheduleConfig> parse_native(const std::vector<Line>& lines,
                                                std::string_view name, bool loop) {
  core::ScheduleConfig trace;
  std::optional<std::uint64_t> previous_us;
  std::optional<std::uint64_t> end_us;
  for (const Line& line : lines) {
    const auto where = [&](const std::string& problem) {
      return core::parse_failure<core::ScheduleConfig>(
          fmt::format("{}:{}: {}", name, line.number, problem));
    };
    if (end_us) return where("nothing may follow the \"T_US end\" line");
    const auto us = line.fields.size() == 2 ? whole_number(line.fields[0]) : std::nullopt;
    if (!us) {
      return where(
          "a native trace line is \"T_US RATE\" (microseconds, then a rate with its unit, e.g. "
          "\"250000 9.5gbit\") or a last \"T_US end\"; mixed formats are not allowed");
    }
    if (*us > 1'000'000'000'000ULL) {
      return where(fmt::format("{} us is beyond 11 days; check the unit (microseconds)", *us));
    }
    if (!previous_us && *us != 0) {
      return where(
          fmt::format("the first line must be at 0 us (got {}): it gives the rate "
                      "from the start",
                      *us));
    }
    if (previous_us && *us <= *previous_us) {
      return where(fmt::format("{} us is not after the previous line's {} us; times must increase",
                               *us, *previous_us));
    }
    previous_us = *us;
    if (line.fields[1] == "end") {
      end_us = *us;
      continue;
    }
    auto rate = core::parse_rate_bps(line.fields[1]);
    if (!rate) return where(fmt::format("rate {}: {}", line.fields[1], rate.error));
    add_rate(trace, std::chrono::microseconds(*us), *rate);
  }
  if (trace.steps.empty()) {
    return core::parse_failure<core::ScheduleConfig>(
        fmt::format("{}: no rate lines; give \"T_US RATE\" lines starting at 0", name));
  }
  if (loop && end_us) trace.period = std::chrono::microseconds(*end_us);
  return core::Parsed<core::ScheduleConfig>{trace, {}};
}

}  // namespace

core::Parsed<core::ScheduleConfig> parse_capacity_trace(std::string_view text,
                                                        std::string_view name, bool loop,
                                                        std::uint32_t overhead_bytes) {
  const auto lines = lines_of(text);
  if (lines.empty()) {
    return core::parse_failure<core::ScheduleConfig>(fmt::format(
        "{}: no trace lines; give Mahimahi millisecond lines or native \"T_US RATE\" lines", name));
  }
  if (lines.front().fields.size() == 1) return parse_mahimahi(lines, name, loop, overhead_bytes);
  return parse_native(lines, name, loop);
}

core::Parsed<core::ScheduleConfig> load_capacity_trace(const std::string& path, bool loop,
                                                       std::uint32_t overhead_bytes) {
  const io::InputFile file = io::read_input_file(path, "trace", io::kTraceFileLimit);
  if (!file) return core::parse_failure<core::ScheduleConfig>(file.error);
  return parse_capacity_trace(file.text, path, loop, overhead_bytes);
}

}  // namespace longhaul::link

#include "measure/bench_result.hh"

#include <fmt/format.h>

#include <array>

namespace longhaul::measure {

std::string format_size(std::uint64_t bytes) {
  static constexpr std::array<const char*, 5> kUnits{"B", "KiB", "MiB", "GiB", "TiB"};
  std::size_t unit = 0;
  double value = static_cast<double>(bytes);
  while (unit + 1 < kUnits.size() && value >= 1024.0) {
    value /= 1024.0;
    ++unit;
  }
  if (unit == 0) return fmt::format("{} B", bytes);
  // Whole numbers print without decimals ("256 KiB"); others with up to three digits.
  if (value == static_cast<double>(static_cast<std::uint64_t>(value))) {
    return fmt::format("{} {}", static_cast<std::uint64_t>(value), kUnits[unit]);
  }
  return fmt::format("{:.3g} {}", value, kUnits[unit]);
}

std::string describe(const BufferReport& report) {
  if (!report.requested_bytes) {
    if (report.autotune_max_bytes) {
      return fmt::format("{}: autotuning (starts at {}, may grow to {})", report.option,
                         format_size(report.granted_bytes()),
                         format_size(*report.autotune_max_bytes));
    }
    return fmt::format("{}: autotuning (starts at {})", report.option,
                       format_size(report.granted_bytes()));
  }
  const std::string tail = "; setting a size disables autotuning";
  if (report.clamped()) {
    const std::string limit =
        report.limit_bytes ? fmt::format(" ({}={})", report.limit_sysctl, *report.limit_bytes)
                           : fmt::format(" (limit {})", report.limit_sysctl);
    return fmt::format("{}: kernel clamped {} to {}{}{}", report.option,
                       format_size(*report.requested_bytes), format_size(report.granted_bytes()),
                       limit, tail);
  }
  if (report.granted_bytes() > *report.requested_bytes) {
    return fmt::format("{}: kernel raised {} to its minimum of {}{}", report.option,
                       format_size(*report.requested_bytes), format_size(report.granted_bytes()),
                       tail);
  }
  return fmt::format("{}: {} (the kernel reserves {} including its overhead){}", report.option,
                     format_size(*report.requested_bytes), format_size(report.kernel_bytes), tail);
}

std::optional<Totals> stream_totals(std::span<const SideInterval> intervals, std::uint32_t id,
                                    Direction direction, Role role) {
  std::vector<SideInterval> only;
  only.reserve(intervals.size());
  for (const SideInterval& interval : intervals) {
    SideInterval copy{interval.index, interval.start, interval.end, interval.omitted, {}};
    for (const StreamInterval& s : interval.streams) {
      if (s.id == id) copy.streams.push_back(s);
    }
    only.push_back(std::move(copy));
  }
  return summarize(only, direction, role);
}

void finish_result(BenchResult& result) {
  result.directions.clear();
  for (const Direction direction : directions(result.start.config)) {
    DirectionResult out;
    out.direction = direction;
    out.sent = summarize(result.intervals, direction, Role::sender);
    out.received = summarize(result.intervals, direction, Role::receiver);
    // The receiver's goodput says when the pipe was full; the sender's acknowledged bytes
    // stand in when the receiver's intervals are missing (a failed test).
    const Role role = out.received ? Role::receiver : Role::sender;
    std::vector<GoodputPoint> points;
    for (const SideInterval& interval : result.intervals) {
      if (const auto sum = sum_interval(interval.streams, direction, role)) {
        points.push_back({sum->start, sum->end, sum->bytes, sum->bits_per_second});
      }
    }
    out.fill = time_to_fill(points, result.start.config.path_rate_bps);
    result.directions.push_back(std::move(out));
  }
}

}  // namespace longhaul::measure

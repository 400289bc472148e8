#include "measure/transactions/latency_stats.hh"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace longhaul::measure {

Nanos percentile(std::span<const Nanos> sorted, double p) {
  if (sorted.empty()) return Nanos{0};
  const auto n = static_cast<double>(sorted.size());
  // Rank = ceil(p/100 × n), 1-based; the small epsilon keeps 99.9 % of 1000 at rank 999
  // although 0.999 × 1000 is 998.9999… in binary floating point.
  const double rank = std::ceil(p / 100.0 * n - 1e-9);
  const auto index = static_cast<std::size_t>(std::clamp(rank, 1.0, n)) - 1;
  return sorted[index];
}

LatencySummary summarize_latencies(std::vector<Nanos>& samples) {
  LatencySummary out;
  if (samples.empty()) return out;
  std::sort(samples.begin(), samples.end());
  out.samples = samples.size();
  out.min = samples.front();
  out.max = samples.back();
  // An exact integer sum: samples are bounded (kMaxTransactions, each under a minute's
  // timeout), so it stays far below 2^63 ns.
  Nanos::rep sum = 0;
  for (const Nanos s : samples) sum += s.count();
  out.mean = Nanos{sum / static_cast<Nanos::rep>(samples.size())};
  out.p50 = percentile(samples, 50);
  out.p90 = percentile(samples, 90);
  out.p99 = percentile(samples, 99);
  out.p999 = percentile(samples, 99.9);
  return out;
}

nlohmann::json to_json(const LatencySummary& summary) {
  const auto us = [](Nanos d) { return static_cast<double>(d.count()) / 1000.0; };
  return {{"samples", summary.samples},   {"min_us", us(summary.min)},
          {"mean_us", us(summary.mean)},  {"p50_us", us(summary.p50)},
          {"p90_us", us(summary.p90)},    {"p99_us", us(summary.p99)},
          {"p99_9_us", us(summary.p999)}, {"max_us", us(summary.max)}};
}

std::string format_latency(Nanos latency) {
  const double ns = static_cast<double>(latency.count());
  if (ns < 1e6) return fmt::format("{:.0f} µs", ns / 1e3);
  if (ns < 1e9) return fmt::format("{:.{}f} ms", ns / 1e6, ns < 1e8 ? 2 : 1);
  return fmt::format("{:.2f} s", ns / 1e9);
}

std::string format_latency_line(const LatencySummary& summary) {
  if (summary.samples == 0) return "no samples";
  return fmt::format("p50 {}  p90 {}  p99 {}  p99.9 {}  max {}", format_latency(summary.p50),
                     format_latency(summary.p90), format_latency(summary.p99),
                     format_latency(summary.p999), format_latency(summary.max));
}

}  // namespace longhaul::measure

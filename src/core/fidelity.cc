#include "core/fidelity.hh"

#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstdio>

namespace longhaul::core {

namespace {

using namespace std::chrono_literals;

constexpr Nanos kLateP99Floor = 100us;
constexpr Nanos kLateP999Floor = 1ms;
constexpr Nanos kThresholdCeiling = 100ms;  // the lateness histogram's range
constexpr double kAllowedShareP99 = 0.01;
constexpr double kAllowedShareP999 = 0.001;

// core links only the standard library, so no fmt here.
[[gnu::format(printf, 1, 2)]] std::string format(const char* pattern, ...) {
  char buffer[512];
  va_list args;
  va_start(args, pattern);
  std::vsnprintf(buffer, sizeof buffer, pattern, args);
  va_end(args);
  return buffer;
}

Nanos scaled(Nanos delay, double fraction, Nanos floor) {
  const auto value =
      Nanos{static_cast<std::int64_t>(static_cast<double>(delay.count()) * fraction)};
  return std::min(std::max(value, floor), kThresholdCeiling);
}

std::string percent(double share) {
  const double value = share * 100.0;
  return value >= 10 ? format("%.0f %%", value) : format("%.2g %%", value);
}

void add_finding(FidelityVerdict& verdict, FidelityCause cause, std::string text,
                 std::string advice) {
  verdict.findings.push_back({cause, std::move(text), std::move(advice)});
}

}  // namespace

FidelityThresholds fidelity_thresholds(Nanos one_way_delay) noexcept {
  return {scaled(one_way_delay, 0.01, kLateP99Floor), scaled(one_way_delay, 0.05, kLateP999Floor)};
}

Nanos fidelity_delay(const DirectionConfig& config) noexcept {
  Nanos delay = config.delay;
  for (const auto& step : config.schedule.steps) {
    if (step.change.delay) delay = std::min(delay, *step.change.delay);
  }
  return delay;
}

bool late_share_exceeded(std::uint64_t late, std::uint64_t total, double allowed_share) noexcept {
  if (total == 0 || late == 0) return false;
  const double n = static_cast<double>(total);
  const double q = std::min(1.0, static_cast<double>(late) / n);
  const double p = allowed_share;
  if (q <= p) return false;
  // Kullback-Leibler divergence of Bernoulli(q) from Bernoulli(p); the 0 * log 0 term is 0.
  double divergence = q * std::log(q / p);
  if (q < 1.0) divergence += (1.0 - q) * std::log((1.0 - q) / (1.0 - p));
  return n * divergence > -std::log(1.0 - kFidelityConfidence);
}

FidelityEvidence evidence_between(const FidelityEvidence& later, const FidelityEvidence& earlier) {
  const auto minus = [](std::uint64_t a, std::uint64_t b) { return a >= b ? a - b : 0; };
  FidelityEvidence span;
  span.thresholds = later.thresholds;
  span.frames_released = minus(later.frames_released, earlier.frames_released);
  span.late_over_p99 = minus(later.late_over_p99, earlier.late_over_p99);
  span.late_over_p999 = minus(later.late_over_p999, earlier.late_over_p999);
  span.lost_before_ingress = minus(later.lost_before_ingress, earlier.lost_before_ingress);
  span.buffer_exhausted = minus(later.buffer_exhausted, earlier.buffer_exhausted);
  span.tx_error = minus(later.tx_error, earlier.tx_error);
  span.cpu_measured = later.cpu_measured;
  span.cpu_running = std::max(Nanos{0}, later.cpu_running - earlier.cpu_running);
  span.cpu_waiting = std::max(Nanos{0}, later.cpu_waiting - earlier.cpu_waiting);
  return span;
}

std::string describe_duration(Nanos duration) {
  const double us = static_cast<double>(duration.count()) / 1e3;
  if (us < 1000) return format("%.0f us", us);
  if (us < 10'000) return format("%.2g ms", us / 1e3);
  if (us < 10'000'000) return format("%.0f ms", us / 1e3);
  return format("%.0f s", us / 1e6);
}

FidelityVerdict judge_fidelity(const FidelityEvidence& evidence) {
  FidelityVerdict verdict;
  const auto released = evidence.frames_released;
  if (released != 0) {
    verdict.late_share_p99 =
        static_cast<double>(evidence.late_over_p99) / static_cast<double>(released);
    verdict.late_share_p999 =
        static_cast<double>(evidence.late_over_p999) / static_cast<double>(released);
  }
  const Nanos cpu_wanted = evidence.cpu_running + evidence.cpu_waiting;
  if (evidence.cpu_measured && cpu_wanted.count() > 0) {
    verdict.cpu_wait_share =
        static_cast<double>(evidence.cpu_waiting.count()) / static_cast<double>(cpu_wanted.count());
  }

  bool late = false;
  const auto judge_share = [&](std::uint64_t count, double share, double allowed, Nanos threshold,
                               const char* percentile, Nanos observed) {
    if (!late_share_exceeded(count, released, allowed)) return;
    late = true;
    std::string reason =
        format("%s of frames released > %s late (allowed %s", percent(share).c_str(),
               describe_duration(threshold).c_str(), percent(allowed).c_str());
    if (observed.count() > 0) {
      reason += format("; %s %s", percentile, describe_duration(observed).c_str());
    }
    verdict.reasons.push_back(reason + ")");
  };
  judge_share(evidence.late_over_p999, verdict.late_share_p999, kAllowedShareP999,
              evidence.thresholds.late_p999, "p99.9", evidence.lateness_p999);
  judge_share(evidence.late_over_p99, verdict.late_share_p99, kAllowedShareP99,
              evidence.thresholds.late_p99, "p99", evidence.lateness_p99);
  if (evidence.lost_before_ingress != 0) {
    verdict.reasons.push_back(
        format("%llu frames lost before the engine read them",
               static_cast<unsigned long long>(evidence.lost_before_ingress)));
  }
  if (evidence.buffer_exhausted != 0) {
    verdict.reasons.push_back(format("%llu packets dropped for want of a packet buffer",
                                     static_cast<unsigned long long>(evidence.buffer_exhausted)));
  }
  if (evidence.tx_error != 0) {
    verdict.reasons.push_back(format("%llu packets refused by the egress interface",
                                     static_cast<unsigned long long>(evidence.tx_error)));
  }
  verdict.degraded = !verdict.reasons.empty();
  if (!verdict.degraded) return verdict;

  // Causes, the most telling first. A thread that waited for a CPU explains lateness and
  // socket overflows alike.
  const bool cpu_starved = evidence.cpu_measured && verdict.cpu_wait_share >= kCpuWaitCauseShare;
  const std::string cpu_figures = format(
      "%s of the time it had work (%s of %s)", percent(verdict.cpu_wait_share).c_str(),
      describe_duration(evidence.cpu_waiting).c_str(), describe_duration(cpu_wanted).c_str());
  if (cpu_starved) {
    std::string text = "the engine's thread waited for a CPU " + cpu_figures;
    if (evidence.ingress_wait_p999 > evidence.thresholds.late_p999) {
      text += format("; frames waited up to %s (p99.9) in the receive socket",
                     describe_duration(evidence.ingress_wait_p999).c_str());
    }
    add_finding(verdict, FidelityCause::cpu, text,
                "give it cores of its own with --cpus (away from the traffic), lower --rate below "
                "what the machine carries, or put fewer lanes per core");
  }
  if (evidence.lost_before_ingress != 0) {
    add_finding(verdict, FidelityCause::ingress_overflow,
                "the kernel's receive socket overflowed before the engine read it",
                "for small packets use --port xdp; otherwise give the engine a core with --cpus "
                "or lower --rate");
  }
  if (evidence.buffer_exhausted != 0) {
    add_finding(verdict, FidelityCause::buffer_exhausted,
                "the engine's packet buffer (sized from rate x delay) ran out",
                "give --rate the path's real rate, or lower it");
  }
  if (evidence.tx_error != 0) {
    add_finding(verdict, FidelityCause::egress_refused,
                "the egress interface refused frames (down, or frames larger than its MTU)",
                "check the interface and its MTU");
  }
  if (late && !cpu_starved) {
    add_finding(verdict, FidelityCause::machine,
                evidence.cpu_measured
                    ? "the engine's thread waited for a CPU only " + cpu_figures +
                          ", so the pauses came from the machine itself (its timer floor, "
                          "docs/performance.md)"
                    : std::string("the engine could not read its thread's scheduler statistics: "
                                  "a busy CPU or the machine's timer floor"),
                "run on a quieter machine, or give the engine cores of its own (--cpus, "
                "--realtime)");
  }
  return verdict;
}

const char* fidelity_cause_name(FidelityCause cause) noexcept {
  switch (cause) {
    case FidelityCause::cpu:
      return "cpu";
    case FidelityCause::ingress_overflow:
      return "ingress_overflow";
    case FidelityCause::buffer_exhausted:
      return "buffer_exhausted";
    case FidelityCause::egress_refused:
      return "egress_refused";
    case FidelityCause::machine:
      return "machine";
  }
  return "unknown";
}

std::string fidelity_explanation(const FidelityVerdict& verdict) {
  std::string line;
  for (std::size_t i = 0; i < verdict.reasons.size(); ++i) {
    line += (i == 0 ? "" : "; ") + verdict.reasons[i];
  }
  for (std::size_t i = 0; i < verdict.findings.size(); ++i) {
    line += (i == 0 ? " \u2014 " : "; ") + verdict.findings[i].text;
  }
  if (!verdict.findings.empty()) line += "; " + verdict.findings.front().advice;
  return line;
}

std::string fidelity_summary_line(const std::string& direction, const FidelityVerdict& verdict) {
  return "FIDELITY DEGRADED on " + direction + ": " + fidelity_explanation(verdict);
}

}  // namespace longhaul::core

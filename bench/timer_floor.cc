// The machine's floor for release accuracy: how late could a perfect user-space
// release loop be on this machine?
//
// One thread per CPU, pinned, reads CLOCK_MONOTONIC in a tight loop for the given
// time and keeps every gap between two reads that is longer than kMinGap: time
// the thread did not run (an interrupt, a kernel thread that would not yield,
// the hypervisor taking the vCPU). A release due inside a gap of length g goes
// out when the gap ends, so for release times spread evenly over the run the
// fraction later than x is sum(max(0, g - x)) / run time. The quantiles of
// that distribution are the lateness a loop that never sleeps and never waits
// for anything else would see: the baseline for the engine's release_lateness
// in `make bench` (bench/README.md).
//
// Usage: longhaul_timer_floor SECONDS [CPU ...]  -> one JSON object on stdout.
// Without CPUs, every CPU the process may use spins at once.
#include <pthread.h>
#include <sched.h>
#include <time.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

namespace {

using Nanos = std::int64_t;
constexpr Nanos kMinGap = 2'000;             // below this, a gap is the loop itself
constexpr std::size_t kMaxGaps = 4'000'000;  // bounded memory whatever happens
constexpr double kMaxSeconds = 600.0;

Nanos now_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return Nanos{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

struct CpuFloor {
  int cpu = 0;
  Nanos run_ns = 0;
  std::vector<Nanos> gaps;
};

void spin(CpuFloor& floor, double seconds) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(static_cast<std::size_t>(floor.cpu), &set);
  ::pthread_setaffinity_np(::pthread_self(), sizeof set, &set);
  floor.gaps.reserve(kMaxGaps);
  const Nanos start = now_ns();
  const Nanos end = start + static_cast<Nanos>(seconds * 1e9);
  Nanos previous = start;
  for (;;) {
    const Nanos t = now_ns();
    if (t >= end) break;
    if (t - previous > kMinGap && floor.gaps.size() < kMaxGaps) floor.gaps.push_back(t - previous);
    previous = t;
  }
  floor.run_ns = previous - start;
}

/// Fraction of evenly spread release times that would go out later than `x`.
double fraction_later(const std::vector<Nanos>& gaps, Nanos run_ns, Nanos x) {
  double late = 0;
  for (const Nanos g : gaps) late += static_cast<double>(std::max<Nanos>(0, g - x));
  return run_ns > 0 ? late / static_cast<double>(run_ns) : 0.0;
}

/// The lateness that a fraction `1 - q` of releases exceeds (bisection: the
/// fraction falls as x grows).
Nanos quantile(const std::vector<Nanos>& gaps, Nanos run_ns, double q) {
  Nanos low = 0;
  Nanos high = gaps.empty() ? 0 : *std::max_element(gaps.begin(), gaps.end());
  while (high - low > 100) {
    const Nanos mid = low + (high - low) / 2;
    if (fraction_later(gaps, run_ns, mid) > 1.0 - q) {
      low = mid;
    } else {
      high = mid;
    }
  }
  return high;
}

}  // namespace

int main(int argc, char** argv) {
  const double seconds = argc >= 2 ? std::atof(argv[1]) : 0.0;
  if (seconds <= 0.0 || seconds > kMaxSeconds) {
    std::fprintf(stderr, "usage: longhaul_timer_floor SECONDS [CPU ...] (0 < SECONDS <= %.0f)\n",
                 kMaxSeconds);
    return 2;
  }
  cpu_set_t allowed;
  ::sched_getaffinity(0, sizeof allowed, &allowed);
  std::vector<CpuFloor> floors;
  for (int i = 2; i < argc; ++i) {
    char* end = nullptr;
    const long cpu = std::strtol(argv[i], &end, 10);
    if (end == argv[i] || *end != '\0' || cpu < 0 || cpu >= CPU_SETSIZE ||
        !CPU_ISSET(static_cast<std::size_t>(cpu), &allowed)) {
      std::fprintf(stderr, "longhaul_timer_floor: '%s' is not a CPU this process may use\n",
                   argv[i]);
      return 2;
    }
    floors.push_back(CpuFloor{static_cast<int>(cpu), 0, {}});
  }
  for (std::size_t cpu = 0; argc == 2 && cpu < CPU_SETSIZE; ++cpu) {
    if (CPU_ISSET(cpu, &allowed)) floors.push_back(CpuFloor{static_cast<int>(cpu), 0, {}});
  }
  std::vector<std::thread> threads;
  for (auto& floor : floors) threads.emplace_back(spin, std::ref(floor), seconds);
  for (auto& thread : threads) thread.join();

  nlohmann::json report{{"seconds", seconds}, {"cpus", nlohmann::json::array()}};
  for (const CpuFloor& f : floors) {
    const auto over = [&](Nanos limit) {
      return std::count_if(f.gaps.begin(), f.gaps.end(), [&](Nanos g) { return g > limit; });
    };
    report["cpus"].push_back({
        {"cpu", f.cpu},
        {"p50_ns", quantile(f.gaps, f.run_ns, 0.5)},
        {"p99_ns", quantile(f.gaps, f.run_ns, 0.99)},
        {"p999_ns", quantile(f.gaps, f.run_ns, 0.999)},
        {"max_gap_ns", f.gaps.empty() ? 0 : *std::max_element(f.gaps.begin(), f.gaps.end())},
        {"gaps_over_50us", over(50'000)},
        {"gaps_over_1ms", over(1'000'000)},
    });
  }
  std::printf("%s\n", report.dump().c_str());
  return 0;
}

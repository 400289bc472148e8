#!/usr/bin/python3
"""`make bench-soak`: the emulator's resident memory over one long bulk transfer.

One iperf3 stream through `longhaul run --rtt 80ms --rate 2gbit` with tuned TCP
buffers (as bench/run.py's long-RTT figure), SOAK_SECONDS long (default 600),
the emulator's RSS sampled once a second. Prints the peak, the RSS at 10 %,
50 % and 100 % of the run and the growth over the second half, against the
bound 1.2 x bytes in flight + 64 MiB; writes soak-results.json. A figure, not
pass/fail. See bench/README.md.
"""
import json
import os
import statistics
import sys

sys.dont_write_bytecode = True  # run as root from the source tree: leave no __pycache__
import run as bench  # noqa: E402  (bench/run.py: the helpers of `make bench`)

SOAK_SECONDS = int(os.environ.get("SOAK_SECONDS", "600"))
RTT_S = 0.080
RATE = "2gbit"


def rss_at(times, samples, fraction, seconds):
    """The last sample taken at or before `fraction` of the run (times from the start)."""
    at = [rss for t, rss in zip(times, samples) if t <= fraction * seconds]
    return at[-1] if at else samples[0]


def slope_mib_per_min(times, samples):
    """Least-squares slope of RSS over time, in MiB per minute."""
    if len(samples) < 2:
        return 0.0
    mt, ms = statistics.fmean(times), statistics.fmean(samples)
    var = sum((t - mt) ** 2 for t in times)
    cov = sum((t - mt) * (s - ms) for t, s in zip(times, samples))
    return cov / var * 60 / 2**20 if var else 0.0


def main():
    seconds = SOAK_SECONDS
    samples, times = [], []
    with bench.TunedBuffers():
        def soak(port):
            out, js = bench.through_longhaul(
                ["--rtt", f"{RTT_S * 1000:.0f}ms", "--rate", RATE],
                bench.NS_TUNE + f"iperf3 -J -c $LONGHAUL_REMOTE -p {port} -t {seconds}",
                "/tmp/lh-bench-soak.json", samples, seconds=seconds, rss_times=times)
            return bench.iperf_gbps(out), js
        gbps, run_json = bench.with_host_server(soak)
    if not samples:
        raise RuntimeError("no RSS samples: the run ended at once")

    # The transfer starts within a second of the emulator; samples after
    # `seconds` are teardown and left out of the 100 % point.
    in_run = [(t, s) for t, s in zip(times, samples) if t <= seconds]
    run_times, run_samples = [t for t, _ in in_run], [s for _, s in in_run]
    peak = max(run_json["max_rss_bytes"], max(samples))
    at10 = rss_at(run_times, run_samples, 0.10, seconds)
    at50 = rss_at(run_times, run_samples, 0.50, seconds)
    at100 = run_samples[-1]
    second_half = [(t, s) for t, s in in_run if t >= 0.5 * seconds]
    slope = slope_mib_per_min([t for t, _ in second_half], [s for _, s in second_half])
    # In flight: what the measured goodput keeps on the round trip (as run.py).
    in_flight = gbps * 1e9 / 8 * RTT_S
    bound = 1.2 * in_flight + 64 * 2**20
    unasked = bench.unconfigured_drops(run_json)  # lost before ingress included

    mib = 2**20
    rows = [
        (f"goodput, one iperf3 stream, --rtt 80ms --rate {RATE}", f"{gbps:.2f} Gbit/s",
         f"{len(run_samples)} RSS samples"),
        ("peak RSS", f"{peak / mib:.0f} MiB",
         f"bound 1.2 x {in_flight / mib:.0f} MiB in flight + 64 MiB = {bound / mib:.0f} MiB"),
        ("RSS at 10 % of the run", f"{at10 / mib:.1f} MiB", ""),
        ("RSS at 50 % of the run", f"{at50 / mib:.1f} MiB", ""),
        ("RSS at 100 % of the run", f"{at100 / mib:.1f} MiB", ""),
        ("RSS growth over the second half", f"{(at100 - at50) / mib:+.1f} MiB",
         "target: no growth"),
        ("  least-squares slope, second half", f"{slope:+.2f} MiB/min", "target: 0"),
        ("unconfigured drops", str(unasked), "target 0"),
        ("emulator CPU (both threads)",
         f"{run_json['cpu_seconds'] / run_json['duration_s']:.0%} of a core", ""),
    ]
    print(f"\nlonghaul soak on {os.cpu_count()} cores, kernel {os.uname().release}, "
          f"{seconds} s bulk transfer")
    print(f"{'figure':<56} {'measured':>14}  baseline / bound")
    for name, value, base in rows:
        print(f"{name:<56} {value:>14}  {base}")
    print(f"peak RSS is {peak / bound:.0%} of the bound")
    results = {
        "machine": {"cores": os.cpu_count(), "kernel": os.uname().release},
        "seconds": seconds, "rtt_s": RTT_S, "rate": RATE, "gbps": gbps,
        "in_flight_bytes": in_flight, "bound_bytes": bound, "peak_rss_bytes": peak,
        "rss_at_10_bytes": at10, "rss_at_50_bytes": at50, "rss_at_100_bytes": at100,
        "second_half_growth_bytes": at100 - at50, "second_half_slope_mib_per_min": slope,
        "unconfigured_drops": unasked, "cpu_seconds": run_json["cpu_seconds"],
        "duration_s": run_json["duration_s"],
        "rss_samples": [{"t": round(t, 2), "rss_bytes": s} for t, s in zip(times, samples)],
    }
    with open("soak-results.json", "w") as f:
        json.dump(results, f, indent=2)
    print("\nJSON: soak-results.json")


if __name__ == "__main__":
    bench.use_build(sys.argv[1] if len(sys.argv) > 1 else "build")
    main()

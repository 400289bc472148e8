#!/usr/bin/python3
"""`make bench`: figures, never pass/fail.

Each figure is printed beside a baseline measured in the same run on the same
machine, and the ratio. Results go to stdout as a table and to
bench-results.json. See bench/README.md.

Baselines and figures:
  1. throughput: iperf3 directly over a veth pair between two namespaces (the
     kernel's own path) vs. through `longhaul run` with no impairments;
  2. 80 ms RTT with a rate above what the machine carries, tuned TCP buffers;
  3. ping RTT error at 50 ms RTT (median, p99) vs. the configured RTT;
  4. release accuracy from the engine's own timestamps at about 50 % load;
  5. engine alone (synthetic ports) packets per second;
  6. peak resident memory of the emulator vs. bytes in flight.
"""
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import time

BUILD = sys.argv[1] if len(sys.argv) > 1 else "build"
LONGHAUL = os.path.join(BUILD, "longhaul")
ENGINE_BENCH = os.path.join(BUILD, "bench", "longhaul_engine_bench")
PKTGEN = os.path.join(BUILD, "bench", "longhaul_pktgen")
SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
NS_A, NS_B = "lhbench-a", "lhbench-b"


def sh(*args, check=True, **kw):
    return subprocess.run(list(args), check=check, capture_output=True, text=True, **kw)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, netns=None, deadline=5.0):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        prefix = ["ip", "netns", "exec", netns] if netns else []
        out = sh(*prefix, "ss", "-Hltn", f"sport = :{port}", check=False).stdout
        if out.strip():
            return
        time.sleep(0.02)  # polling a condition with a deadline
    raise RuntimeError(f"iperf3 server on port {port} did not come up")


def iperf_gbps(result_json):
    return json.loads(result_json)["end"]["sum_received"]["bits_per_second"] / 1e9


class VethPair:
    """Two namespaces joined by a veth pair: the kernel's own path, the baseline."""

    def __enter__(self):
        sh("ip", "netns", "add", NS_A)
        sh("ip", "netns", "add", NS_B)
        try:
            sh("ip", "link", "add", "bench0", "netns", NS_A, "type", "veth", "peer", "bench1",
               "netns", NS_B)
            sh("ip", "-n", NS_A, "addr", "add", "198.19.250.1/24", "dev", "bench0")
            sh("ip", "-n", NS_B, "addr", "add", "198.19.250.2/24", "dev", "bench1")
            for ns, dev in ((NS_A, "bench0"), (NS_B, "bench1")):
                sh("ip", "-n", ns, "link", "set", dev, "up")
                sh("ip", "-n", ns, "link", "set", "lo", "up")
        except Exception:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc):
        sh("ip", "netns", "del", NS_A, check=False)
        sh("ip", "netns", "del", NS_B, check=False)


def direct_veth():
    with VethPair():
        port = free_port()
        server = subprocess.Popen(["ip", "netns", "exec", NS_B, "iperf3", "-s", "-1", "-p",
                                   str(port)], stdout=subprocess.DEVNULL)
        try:
            wait_port(port, NS_B)
            out = sh("ip", "netns", "exec", NS_A, "iperf3", "-J", "-c", "198.19.250.2", "-p",
                     str(port), "-t", str(SECONDS), timeout=SECONDS + 30)
            return iperf_gbps(out.stdout)
        finally:
            server.kill()
            server.wait()


def direct_veth_pps():
    """64-byte frames from longhaul_pktgen over a direct veth: packets received per second."""
    with VethPair():
        mac = json.loads(sh("ip", "-j", "-n", NS_B, "link", "show", "bench1").stdout)[0]["address"]
        out = sh("ip", "netns", "exec", NS_A, PKTGEN, "bench0", mac, "198.19.250.1",
                 "198.19.250.2", str(SECONDS), "200000000", timeout=SECONDS + 30)
        seconds = json.loads(out.stdout)["seconds"]
        stats = json.loads(sh("ip", "-j", "-s", "-n", NS_B, "link", "show", "bench1").stdout)
        return stats[0]["stats64"]["rx"]["packets"] / seconds


def through_longhaul(flags, inner, json_path, rss_samples=None):
    """Runs `inner` through `longhaul run`; optionally samples the emulator's RSS once a second."""
    cmd = [LONGHAUL, "run", "-q", "--seed", "1", "--json", json_path] + flags + ["--", "sh", "-c",
                                                                             inner]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if rss_samples is not None:
        deadline = time.monotonic() + SECONDS * 4 + 120
        while proc.poll() is None and time.monotonic() < deadline:
            try:
                with open(f"/proc/{proc.pid}/status") as f:
                    rss = re.search(r"VmRSS:\s+(\d+) kB", f.read())
                if rss:
                    rss_samples.append(int(rss.group(1)) * 1024)
            except OSError:
                pass
            time.sleep(1.0)  # a sampling period, not synchronisation
    out, err = proc.communicate(timeout=SECONDS * 4 + 120)
    if proc.returncode != 0:
        raise RuntimeError(f"longhaul run failed ({proc.returncode}): {err}")
    with open(json_path) as f:
        return out, json.load(f)


def with_host_server(fn):
    port = free_port()
    server = subprocess.Popen(["iperf3", "-s", "-p", str(port)], stdout=subprocess.DEVNULL)
    try:
        wait_port(port)
        return fn(port)
    finally:
        server.kill()
        server.wait()


class TunedBuffers:
    """Raises TCP buffer limits on the host for the long-RTT figure; restores them after."""
    KEYS = ["net.core.rmem_max", "net.core.wmem_max", "net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem"]

    def __enter__(self):
        self.saved = {k: sh("sysctl", "-n", k).stdout.strip() for k in self.KEYS}
        big = str(256 << 20)
        sh("sysctl", "-q", f"net.core.rmem_max={big}", f"net.core.wmem_max={big}",
           f"net.ipv4.tcp_rmem=4096 131072 {big}", f"net.ipv4.tcp_wmem=4096 65536 {big}")
        return self

    def __exit__(self, *exc):
        for key, value in self.saved.items():
            sh("sysctl", "-q", f"{key}={value}", check=False)


def main():
    results = {"machine": {"cores": os.cpu_count(), "kernel": os.uname().release},
               "seconds": SECONDS}
    rows = []

    direct = direct_veth()
    results["direct_veth_gbps"] = direct
    # Namespaces of the run get the same tuned per-namespace defaults as the host.
    tune = ("sysctl -q net.ipv4.tcp_rmem='4096 131072 268435456' "
            "net.ipv4.tcp_wmem='4096 65536 268435456' 2>/dev/null; ")

    def clean(port):
        out, js = through_longhaul([], f"iperf3 -J -c $LONGHAUL_REMOTE -p {port} -t {SECONDS}",
                                   "/tmp/lh-bench-clean.json")
        return iperf_gbps(out), js
    clean_gbps, clean_json = with_host_server(clean)
    rows.append(("throughput, no impairments", f"{clean_gbps:.2f} Gbit/s",
                 f"direct veth {direct:.2f} Gbit/s", clean_gbps / direct))

    rate = os.environ.get("BENCH_LONG_RATE", "40gbit")
    rss_samples = []
    with TunedBuffers():
        def long_rtt(port):
            out, js = through_longhaul(
                ["--rtt", "80ms", "--rate", rate],
                tune + f"iperf3 -J -c $LONGHAUL_REMOTE -p {port} -t {SECONDS * 2} -O {SECONDS}",
                "/tmp/lh-bench-80ms.json", rss_samples)
            return iperf_gbps(out), js
        long_gbps, long_json = with_host_server(long_rtt)
    rows.append((f"throughput at 80 ms RTT, --rate {rate}, tuned buffers, after {SECONDS} s",
                 f"{long_gbps:.2f} Gbit/s", f"no-impairment {clean_gbps:.2f} Gbit/s",
                 long_gbps / clean_gbps))
    unasked = sum(v["packets"] for d in long_json["directions"].values()
                  for k, v in d["dropped"].items() if k not in ("queue_full", "loss"))
    results["long_rtt"] = {"gbps": long_gbps, "unconfigured_drops": unasked,
                           "max_rss_bytes": long_json["max_rss_bytes"],
                           "cpu_seconds": long_json["cpu_seconds"],
                           "duration_s": long_json["duration_s"], "rss_samples": rss_samples}
    rows.append(("  unconfigured drops in that run", str(unasked), "target 0", None))
    rows.append(("  emulator CPU in that run (both threads)",
                 f"{long_json['cpu_seconds'] / long_json['duration_s']:.0%} of a core", "", None))

    out, js = through_longhaul(["--rtt", "50ms"],
                               "ping -c 1 -w 5 $LONGHAUL_REMOTE >/dev/null; "
                               "ping -c 300 -i 0.01 $LONGHAUL_REMOTE", "/tmp/lh-bench-ping.json")
    samples = sorted(float(x) - 50.0 for x in re.findall(r"time=([\d.]+) ms", out))
    p50 = statistics.median(samples)
    p99 = samples[min(len(samples) - 1, int(0.99 * len(samples)))]
    rows.append(("ping RTT error at 50 ms (median / p99)", f"{p50 * 1000:.0f} / {p99 * 1000:.0f} us",
                 "target p99 <= 100 us", None))
    results["ping_error_us"] = {"p50": p50 * 1000, "p99": p99 * 1000}

    def half_load(port):
        return through_longhaul(["--rtt", "10ms", "--rate", "1gbit"],
                                f"iperf3 -J -c $LONGHAUL_REMOTE -p {port} -t {SECONDS} -b 500M",
                                "/tmp/lh-bench-half.json")[1]
    half = with_host_server(half_load)
    late = half["directions"]["up"]["release_lateness_ns"]
    rows.append(("release lateness at 50 % load (p50 / p99.9)",
                 f"{late['p50'] / 1000:.0f} / {late['p999'] / 1000:.0f} us",
                 "target 5 / 50 us", None))
    results["release_lateness_ns"] = late

    engine = json.loads(sh(ENGINE_BENCH, "--benchmark_format=json").stdout)
    for b in engine["benchmarks"]:
        mpps = b["items_per_second"] / 1e6
        rows.append((f"engine alone, {b['name']}", f"{mpps:.2f} Mpps", "target 5 Mpps/core", None))
        results.setdefault("engine_mpps", {})[b["name"]] = mpps

    direct_pps = direct_veth_pps()
    # The generator addresses the host's MAC, learnt by one ping across the link.
    out, js = through_longhaul([], "ping -c 1 -w 5 $LONGHAUL_REMOTE >/dev/null; "
                               "mac=$(ip neigh show $LONGHAUL_REMOTE | awk '{print $5}'); "
                               f"{os.path.abspath(PKTGEN)} eth0 $mac $LONGHAUL_LOCAL "
                               f"$LONGHAUL_REMOTE {SECONDS} 200000000", "/tmp/lh-bench-pps.json")
    lh_pps = js["directions"]["up"]["packets_out"] / json.loads(out)["seconds"]
    rows.append(("64-byte frames per second, one direction", f"{lh_pps / 1e6:.2f} Mpps",
                 f"direct veth {direct_pps / 1e6:.2f} Mpps", lh_pps / direct_pps))
    results["pps"] = {"direct": direct_pps, "longhaul": lh_pps,
                      "lost_before_ingress": js["directions"]["up"]["lost_before_ingress_frames"]}

    # Memory target: peak RSS <= 1.2 x bytes in flight + 64 MiB. In flight is
    # what the measured goodput keeps on the two 40 ms one-way delay lines.
    rss = long_json["max_rss_bytes"]
    in_flight = long_gbps * 1e9 / 8 * 0.040 * 2
    rows.append(("peak RSS during the 80 ms run", f"{rss / 2**20:.0f} MiB",
                 f"1.2 x {in_flight / 2**20:.0f} MiB in flight + 64 MiB",
                 rss / (1.2 * in_flight + 64 * 2**20)))
    half_way = rss_samples[len(rss_samples) // 2] if rss_samples else 0
    last = rss_samples[-2] if len(rss_samples) > 1 else 0
    rows.append(("RSS growth over the second half of the 80 ms run",
                 f"{(last - half_way) / 2**20:+.1f} MiB", "target: no growth", None))
    results["memory"] = {"max_rss_bytes": rss, "in_flight_bytes": in_flight}

    print(f"\nlonghaul bench on {os.cpu_count()} cores, kernel {os.uname().release}, {SECONDS} s runs")
    print(f"{'figure':<62} {'measured':>16}  {'baseline':<36} {'ratio':>6}")
    for name, value, base, ratio in rows:
        r = f"{ratio:.0%}" if ratio is not None else ""
        print(f"{name:<62} {value:>16}  {base:<36} {r:>6}")
    results["rows"] = [dict(zip(("figure", "measured", "baseline", "ratio"), r)) for r in rows]
    with open("bench-results.json", "w") as f:
        json.dump(results, f, indent=2)
    print("\nJSON: bench-results.json")


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""`make run`: bring up the reference four-site lab, measure it, take it down.

1. `longhaul up examples/four-sites.toml`: New York (the hub's local site), California
   (32 ms RTT to the hub), England (80 ms) and Japan (346 ms) on one flat subnet.
2. The RTT matrix between every pair of sites, measured with ping, beside the configured sum
   of the two lanes' round trips (California <-> England = 32 + 80 = 112 ms).
3. A short single-stream TCP test (`longhaul bench`) from each remote site to New York, with
   what limited it and what `longhaul tune` says the hosts would need to fill the lane.
4. `longhaul down`, also on error or Ctrl-C.

Traffic stays inside the lab's namespaces (198.18.0.0/15, 2001:2::/48).
"""
import itertools
import json
import os
import re
import subprocess
import sys
import time

TOPOLOGY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples",
                        "four-sites.toml")
LAB = "four-sites"
PING_COUNT = 10
BENCH_SECONDS = 5
RTT_LINE = re.compile(r"rtt min/avg/max/mdev = ([\d.]+)/([\d.]+)/([\d.]+)/([\d.]+) ms")


def run(binary, *args, check=True, timeout=120):
    result = subprocess.run([binary, *args], capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise SystemExit(f"longhaul {' '.join(args)} failed ({result.returncode}):\n"
                         f"{result.stdout}{result.stderr}")
    return result


def lane_rtts_ms(status):
    """Configured round trip of each site's lane (up + down one-way delay), from status JSON."""
    rtts = {}
    for lane in status["lab"]["lanes"]:
        config = lane["config"]
        rtts[lane["a"]] = (config["up"]["delay_ns"] + config["down"]["delay_ns"]) / 1e6
    return rtts


def ping_ms(binary, source, target):
    # One warm-up ping pays for ARP; the measured ones follow at 50 ms intervals.
    script = (f"ping -c 1 -W 3 {target} >/dev/null; "
              f"ping -q -c {PING_COUNT} -i 0.05 -W 3 {target}")
    result = run(binary, "exec", "--lab", LAB, source, "--", "sh", "-c", script, check=False)
    match = RTT_LINE.search(result.stdout)
    return float(match.group(2)) if match else None


def bench(binary, site, server_port):
    result = run(binary, "exec", "--lab", LAB, site, "--", binary, "bench", "client", "new-york",
                 "--port", str(server_port), "-t", str(BENCH_SECONDS), "--json", check=False,
                 timeout=BENCH_SECONDS + 60)
    try:
        return json.loads(result.stdout)
    except json.JSONDecodeError:
        return {"error": (result.stderr or result.stdout).strip()}


def main():
    binary = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build/longhaul")
    if os.geteuid() != 0:
        os.execvp("sudo", ["sudo", sys.executable, *sys.argv[:1], binary])
    if os.path.exists(f"/run/longhaul/labs/{LAB}.json"):
        run(binary, "down", LAB)
    up = run(binary, "up", TOPOLOGY)
    print(up.stdout)
    try:
        status = json.loads(run(binary, "status", LAB, "--json").stdout)[0]
        rtts = lane_rtts_ms(status)
        sites = [site["name"] for site in status["lab"]["sites"]]

        print(f"RTT matrix: ping (mean of {PING_COUNT}) against the configured sum of both "
              "lanes' round trips")
        print(f"{'from':<12} {'to':<12} {'configured':>11} {'measured':>10} {'error':>8}")
        for source, target in itertools.combinations(sites, 2):
            expected = rtts[source] + rtts[target]
            measured = ping_ms(binary, source, target)
            shown = f"{measured:.2f} ms" if measured is not None else "no reply"
            error = f"{measured - expected:+.2f}" if measured is not None else ""
            print(f"{source:<12} {target:<12} {expected:>8.1f} ms {shown:>10} {error:>8}")

        print(f"\nSingle TCP stream to new-york for {BENCH_SECONDS} s, host defaults "
              "(longhaul bench):")
        print(f"{'from':<12} {'lane RTT':>9} {'lane rate':>10} {'goodput':>12} "
              f"{'limited by':>11} {'retransmits':>12}")
        port = 5299
        server = subprocess.Popen([binary, "exec", "--lab", LAB, "new-york", "--", binary,
                                   "bench", "server", "--port", str(port)],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 10
            while run(binary, "exec", "--lab", LAB, "new-york", "--", "sh", "-c",
                      f"ss -ltn | grep -q :{port}", check=False).returncode != 0:
                if time.monotonic() > deadline:
                    raise SystemExit("the bench server did not start listening")
                time.sleep(0.05)  # polling a condition with a deadline
            for lane in status["lab"]["lanes"]:
                site = lane["a"]
                if site == "new-york":
                    continue
                rate = lane["config"]["up"].get("rate_bps") or 0
                result = bench(binary, site, port)
                if "error" in result:
                    print(f"{site:<12} bench failed: {result['error']}")
                    continue
                end = result["end"]
                goodput = end["sum_received"]["bits_per_second"]
                sent = end.get("sum_sent", {})
                limited = (sent.get("limited_by") or {}).get("dominant", "?")
                print(f"{site:<12} {rtts[site]:>6.0f} ms {rate / 1e6:>6.0f} Mb/s "
                      f"{goodput / 1e6:>7.1f} Mb/s {limited:>11} {sent.get('retransmits', 0):>12}")
        finally:
            server.terminate()
            server.wait(timeout=15)

        print("\nWhy the long lanes fall short: a window of W bytes carries at most W / RTT, "
              "and slow start\nneeds many round trips to open it. What the Japan site would "
              "need (longhaul tune --lab four-sites --site japan):")
        new_york = next(site for site in status["lab"]["sites"] if site["name"] == "new-york")
        tune = run(binary, "tune", "--lab", LAB, "--site", "japan", "--rate", "1gbit", "--rtt",
                   "346ms", "--peer", new_york["interfaces"][0]["ipv4"], check=False)
        print("\n".join("  " + line for line in tune.stdout.splitlines()[:14]))
    finally:
        down = run(binary, "down", LAB, check=False)
        print("\n" + down.stdout.strip())


if __name__ == "__main__":
    main()

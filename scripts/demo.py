#!/usr/bin/python3
"""`make run`: demonstrate `longhaul run` with ping and iperf3 at a few RTTs.

Starts one iperf3 server on the host (the remote side of every emulated link),
then for each configured RTT runs ping and a short iperf3 test through
`longhaul run` and prints configured versus measured RTT and throughput.
Traffic only crosses the emulated links (198.18.0.0/15 addresses).
"""
import json
import os
import re
import shlex
import socket
import subprocess
import sys
import time

CASES = [  # (rtt, rate) as a user would type them
    ("0ms", "500mbit"),
    ("20ms", "500mbit"),
    ("80ms", "500mbit"),
    ("80ms", "100mbit"),
]
IPERF_SECONDS = 6


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port, deadline_s=5.0):
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.02)  # polling a condition with a deadline, not synchronising by sleep
    raise SystemExit(f"iperf3 server did not start listening on port {port}")


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else "build/longhaul"
    prefix = [] if os.geteuid() == 0 else ["sudo"]
    port = free_port()
    server = subprocess.Popen(prefix + ["iperf3", "-s", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    rows = []
    try:
        wait_listening(port)
        for rtt, rate in CASES:
            # The first ping waits for address resolution across the link (one
            # extra round trip), so it is sent apart and not averaged.
            inner = (f"ping -q -c 1 -w 5 $LONGHAUL_REMOTE >/dev/null; ping -q -c 20 -i 0.05 -w 10 $LONGHAUL_REMOTE; "
                     f"iperf3 -J -c $LONGHAUL_REMOTE -p {port} -t {IPERF_SECONDS} -O 1")
            command = prefix + [binary, "run", "-q", "--seed", "1", "--rtt", rtt, "--rate", rate,
                                "--", "sh", "-c", inner]
            print(f"running: {' '.join(shlex.quote(c) for c in command[len(prefix):])}",
                  file=sys.stderr)
            out = subprocess.run(command, capture_output=True, text=True, timeout=120)
            ping = re.search(r"= [\d.]+/([\d.]+)/", out.stdout)
            start = out.stdout.find("{")
            goodput = None
            if start >= 0:
                try:
                    result = json.loads(out.stdout[start:])
                    goodput = result["end"]["sum_received"]["bits_per_second"]
                except (ValueError, KeyError):
                    goodput = None
            rows.append((rtt, rate, float(ping.group(1)) if ping else None, goodput))
    finally:
        server.terminate()
        server.wait(timeout=10)

    print()
    print("longhaul run: configured link vs what ping and iperf3 measured through it")
    print(f"{'RTT':>8} {'ping RTT':>10} {'rate':>10} {'TCP goodput':>14}  note")
    for rtt, rate, ping_ms, goodput in rows:
        ping_text = f"{ping_ms:.2f} ms" if ping_ms is not None else "failed"
        goodput_text = f"{goodput / 1e6:.0f} Mbit/s" if goodput else "failed"
        note = ""
        rtt_ms = float(rtt[:-2])
        if goodput and rtt_ms >= 40:
            note = "one stream, default buffers, slow start included: see `longhaul tune`"
        print(f"{rtt:>8} {ping_text:>10} {rate:>10} {goodput_text:>14}  {note}")
    print("\n(goodput tops out near 94 % of the rate: 1448 payload bytes per 1538 wire bytes)")
    return 0 if all(r[2] is not None and r[3] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())

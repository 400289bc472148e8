"""Integration tests of time-varying conditions and the MTU: a rate change by
schedule seen in iperf3's intervals, a Mahimahi capacity trace's average rate
seen as TCP goodput, and an MTU that answers with ICMP so ping reports it and
TCP's path MTU discovery still completes a transfer (root, real namespaces).

Tolerances are stated where they are used. TCP goodput over a rate R is at
most R x tcp_payload_per_wire() (conftest: payload per full-size wire packet
with timestamps, over its wire bytes with Ethernet framing); in a steady
window it is within GOODPUT_TOLERANCE of that.
"""

from __future__ import annotations

import json
import re

from conftest import (GOODPUT_TOLERANCE, IPERF3_BLOCK_BYTES, check_tcp_goodput, read_json,
                      tcp_payload_per_wire, tcp_ramp_seconds)

PAYLOAD_PER_WIRE = tcp_payload_per_wire()  # TCP payload per wire byte of a full-size packet


def window_bps(intervals: list[dict], start: float, end: float) -> float:
    """Receiver's goodput over the whole intervals inside [start, end) s."""
    inside = [i for i in intervals if i["sum"]["start"] >= start - 0.01 and
              i["sum"]["end"] <= end + 0.01]
    assert len(inside) >= 2, (start, end, intervals)
    seconds = sum(i["sum"]["seconds"] for i in inside)
    return sum(i["sum"]["bytes"] for i in inside) * 8 / seconds


def check_reconciles(stats: dict) -> None:
    for name in ("up", "down"):
        d = stats["directions"][name]
        dropped = sum(c["packets"] for c in d["dropped"].values())
        assert d["packets_in"] + d["packets_duplicated"] == \
            d["packets_out"] + dropped + d["packets_queued"], (name, d)
        assert d["reconciles"] is True, (name, d)


def iperf3_download(longhaul, server, json_path, *flags, seconds=8, timeout=90):
    """`iperf3 -R` (the command's side receives) through a run with `flags`; the report."""
    result = longhaul.run("run", "-q", *flags, "--seed", "5", "--json", str(json_path), "--",
                          "sh", "-c",
                          f'exec iperf3 -c "$LONGHAUL_REMOTE" -p {server.port} -t {seconds} -R -J',
                          timeout=timeout)
    assert result.returncode == 0, result.stderr + result.stdout[-3000:]
    report = json.loads(result.stdout)
    assert "error" not in report, report.get("error")
    return report


def test_schedule_rate_change_shows_in_iperf3_intervals(longhaul, iperf3_server, tmp_path):
    fast, slow = 200e6, 50e6
    server = iperf3_server()
    json_path = tmp_path / "run.json"
    report = iperf3_download(longhaul, server, json_path, "--rtt", "20ms", "--rate", "200mbit",
                             "--at", "4s:rate=50mbit")
    rates = [i["sum"]["bits_per_second"] for i in report["intervals"]]
    print("Mbit/s per interval:", [round(r / 1e6, 1) for r in rates])
    assert len(rates) >= 8, rates

    stats = read_json(json_path)
    for name in ("up", "down"):
        assert stats["link"][name]["schedule"]["steps"] == [
            {"at_ns": 4_000_000_000, "rate_bps": 50_000_000}]
        assert stats["directions"][name]["models"]["schedule_changes"] == 1
    check_reconciles(stats)

    # The step is at 4 s of link time; iperf3's clock starts a little later
    # (namespaces, its control connection: well under a second), so its
    # intervals [1 s, 3 s) are wholly before the change (after the ramp,
    # tcp_ramp_seconds) and [6 s, 8 s) after it (two seconds for the fast rate's
    # queue to drain at the slow one, TCP to settle, and the bytes the receiving
    # process has not read yet to leave its socket). Each window within
    # GOODPUT_TOLERANCE of the ceiling at its rate (the receiver's own intervals:
    # -R makes the command's side the receiver). Over the whole run the receiver
    # can have got at most the fast ceiling for the first 4 s (iperf3's clock
    # starts after the link's) and the slow one after, plus one iperf3 block.
    assert tcp_ramp_seconds(fast, 0.020) <= 1
    intervals = report["intervals"]
    total_bytes = sum(i["sum"]["bytes"] for i in intervals)
    total_seconds = sum(i["sum"]["seconds"] for i in intervals)
    most = (fast * 4 + slow * (total_seconds - 4)) * PAYLOAD_PER_WIRE / 8 + IPERF3_BLOCK_BYTES
    assert total_bytes <= most, (total_bytes, most, rates)
    for rate, start, end in ((fast, 1, 3), (slow, 6, 8)):
        ceiling = rate * PAYLOAD_PER_WIRE
        measured = window_bps(intervals, start, end)
        assert abs(measured / ceiling - 1) <= GOODPUT_TOLERANCE, (rate, measured, ceiling, rates)


def mahimahi_pattern_trace(path, cycles: int) -> float:
    """A trace whose milliseconds carry 1, 3, 2, 0 and 4 opportunities in turn; its rate in bit/s.

    2 opportunities per ms on average: 2000 full-size wire packets per second.
    """
    pattern = [1, 3, 2, 0, 4]
    lines = []
    for cycle in range(cycles):
        for offset, count in enumerate(pattern):
            lines += [str(cycle * len(pattern) + offset + 1)] * count
    path.write_text("\n".join(lines) + "\n")
    return 2000 * 1538 * 8


def test_mahimahi_trace_average_rate_is_the_tcp_ceiling(longhaul, iperf3_server, tmp_path):
    trace = tmp_path / "pattern.mahi"
    rate = mahimahi_pattern_trace(trace, cycles=20)  # a 100 ms trace, looped
    server = iperf3_server()
    json_path = tmp_path / "run.json"
    report = iperf3_download(longhaul, server, json_path, "--rtt", "20ms", "--trace-down",
                             str(trace))
    rates = [i["sum"]["bits_per_second"] for i in report["intervals"]]
    print("Mbit/s per interval:", [round(r / 1e6, 2) for r in rates], "trace", rate / 1e6)
    stats = read_json(json_path)
    assert stats["link"]["down"]["capacity_trace"]["period_ns"] == 100_000_000
    assert "capacity_trace" not in stats["link"]["up"]
    check_reconciles(stats)
    # After the ramp (tcp_ramp_seconds, rounded up to whole intervals), the
    # trace's average capacity is the ceiling. Opportunities are 1538 wire bytes,
    # so a full-size packet takes exactly one: goodput <= 2000 x 1448 x 8 =
    # 23.2 Mbit/s; within GOODPUT_TOLERANCE of it over the rest of the run (the
    # trace varies only within 5 ms, far below the 20 ms round trip, so TCP sees
    # its average).
    ceiling = rate * PAYLOAD_PER_WIRE
    ramp = tcp_ramp_seconds(rate, 0.020)
    average = window_bps(report["intervals"], ramp, 8)
    assert abs(average / ceiling - 1) <= GOODPUT_TOLERANCE, (average, ceiling, rates)


def test_mtu_icmp_makes_ping_report_frag_needed_and_tcp_still_completes(
        longhaul, iperf3_server, tmp_path):
    up_server, down_server = iperf3_server(), iperf3_server()
    json_path = tmp_path / "run.json"
    script = (
        # The download first: once the command's stack has learnt the path MTU
        # it advertises a smaller MSS, and the host would never send too big.
        # Each sender starts at 1500 bytes and must learn 1400 from the replies.
        f'iperf3 -c "$LONGHAUL_REMOTE" -p {down_server.port} -t 4 -R -J --get-server-output '
        f'> {tmp_path}/down.json; '
        'echo "download: $?"; '
        f'iperf3 -c "$LONGHAUL_REMOTE" -p {up_server.port} -t 4 -J --get-server-output '
        f'> {tmp_path}/up.json; '
        'echo "upload: $?"; '
        # 1472 + 8 + 20 = 1500 bytes of IP with DF: too big for 1400.
        'ping -M do -s 1472 -c 3 -i 0.2 -W 1 "$LONGHAUL_REMOTE"; echo "big ping: $?"; '
        # 1372 + 28 = 1400: fits exactly.
        'ping -M do -s 1372 -c 2 -i 0.2 -W 1 "$LONGHAUL_REMOTE"; echo "fitting ping: $?"')
    result = longhaul.run("run", "-q", "--rtt", "10ms", "--rate", "100mbit", "--mtu", "1400",
                          "--mtu-icmp", "--json", str(json_path), "--", "sh", "-c", script,
                          timeout=90)
    output = result.stdout + result.stderr
    print(output[-3000:])
    assert result.returncode == 0, output
    # iputils prints the router's message for the first probe, then its own
    # error once the route has learnt the MTU.
    assert re.search(r"Frag needed and DF set \(mtu = 1400\)|message too long, mtu=1400",
                     output), output
    assert re.search(r"big ping: [12]\b", output), output
    assert "fitting ping: 0" in output, output
    assert "upload: 0" in output and "download: 0" in output, output
    for name in ("up", "down"):
        report = json.loads((tmp_path / f"{name}.json").read_text())
        assert "error" not in report, report.get("error")
        # The path MTU learnt, the transfer fills the rate as full 1400-byte packets carry it.
        check_tcp_goodput(report, 100e6, 0.010, mtu=1400)

    stats = read_json(json_path)
    for name in ("up", "down"):
        assert stats["link"][name]["mtu_bytes"] == 1400
        d = stats["directions"][name]
        # Each direction's sender started at 1500 bytes: some packets were
        # dropped for the MTU and answered.
        assert d["dropped"]["mtu"]["packets"] > 0, (name, d["dropped"])
        assert d["icmp_too_big_sent"] > 0, (name, d)
    check_reconciles(stats)

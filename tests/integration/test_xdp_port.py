"""Integration tests of `longhaul run --port xdp` (AF_XDP ports; root, real namespaces, traffic).

The tests skip, saying why, only when the kernel cannot attach XDP to a veth at all (the run
fails at xsk_socket__create with "Operation not supported" or "Invalid argument", e.g. a
kernel built without CONFIG_XDP_SOCKETS); any other failure fails the test.
"""

from __future__ import annotations

import json
import re

import pytest

from test_run import assert_nothing_left, parse_ping, ping_script

UNSUPPORTED = re.compile(r"xsk_socket__create.*(Operation not supported|Invalid argument|"
                         r"Address family not supported)")


@pytest.fixture
def xdp_supported(longhaul):
    result = longhaul.run("run", "-q", "--port", "xdp", "--", "true", timeout=60)
    if result.returncode == 4 and UNSUPPORTED.search(result.stderr):
        pytest.skip(f"XDP cannot attach to a veth here: {result.stderr.strip()}")
    assert result.returncode == 0, result.stderr


def test_ping_rtt_through_xdp_ports(longhaul, xdp_supported, tmp_path):
    report_path = tmp_path / "run.json"
    result = longhaul.run("run", "-q", "--port", "xdp", "--rtt", "20ms", "--json",
                          str(report_path), "--",
                          "sh", "-c", ping_script("LONGHAUL_REMOTE", 40, "0.05"), timeout=60)
    assert result.returncode == 0, result.stderr + result.stdout
    report = json.loads(report_path.read_text())
    assert report["port"] == "xdp", report
    assert report["directions"]["up"]["reconciles"] and report["directions"]["down"]["reconciles"]
    ping = parse_ping(result.stdout)
    print(f"--port xdp, rtt 20 ms: ping {ping}")
    assert ping["received"] == ping["sent"] == 40
    # AF_XDP has no kernel receive stamp, so a frame's delay counts from when the engine thread
    # read it: allow the wake-up time on top of the 1 ms the AF_PACKET test allows.
    assert abs(ping["avg"] - 20) <= 1.5, ping
    assert ping["min"] >= 20 - 0.05, ping


def test_tcp_fills_a_rate_limited_link_through_xdp_ports(longhaul, xdp_supported, iperf3_server):
    server = iperf3_server()
    result = longhaul.run(
        "run", "-q", "--port", "xdp", "--rtt", "10ms", "--rate", "200mbit", "--",
        "sh", "-c", f'exec iperf3 -c "$LONGHAUL_REMOTE" -p {server.port} -t 3 -J',
        timeout=60)
    assert result.returncode == 0, result.stderr + result.stdout
    report = json.loads(result.stdout)
    assert "error" not in report, report.get("error")
    received = report["end"]["sum_received"]
    print(f"--port xdp: TCP goodput {received['bits_per_second'] / 1e6:.1f} Mbit/s")
    # TCP carries at most 1448/1538 of the rate (188 Mbit/s); slow start at 10 ms takes a
    # fraction of a second of the 3. A stalled transmit ring (frames left unsent until the next
    # arrival) showed up as 10-20 Mbit/s with retransmissions.
    assert received["bits_per_second"] >= 0.75 * 188e6, received


@pytest.mark.parametrize("flags, named", [
    (["--port", "afxdp"], "--port"),
    (["--port", "xdp", "--mtu", "9000"], "--mtu"),
], ids=["bad-port", "mtu-too-big"])
def test_port_usage_errors_exit_2_naming_the_flag(longhaul, flags, named):
    result = longhaul.run("run", *flags, "--", "true")
    assert result.returncode == 2, result.stderr
    assert named in result.stderr, result.stderr
    assert_nothing_left()

"""Integration tests of `--port xdp` (AF_XDP ports) in `longhaul run`, `longhaul bridge` and
`longhaul up` (root, real namespaces, traffic).

The tests skip, saying why, only when the kernel has no AF_XDP sockets (built without
CONFIG_XDP_SOCKETS), probed independently of longhaul; any failure of longhaul fails the test.
"""

from __future__ import annotations

import errno
import json
import socket
import statistics
import subprocess

import pytest

from conftest import RTT_EPSILON_MS, check_tcp_goodput
from test_capture_bridge import (bridged_iperf3, bridged_ping_times,  # noqa: F401 (fixture)
                                 in_switch, promiscuity, start_bridge, stop_bridge, switches)
from test_labs import LAB_STATE, labs, star, write_topology  # noqa: F401 (fixture)
from test_run import assert_nothing_left, iperf3_through_run, parse_ping, ping_script

AF_XDP = 44  # linux/socket.h


@pytest.fixture
def xdp_supported(longhaul):
    # The kernel's capability, probed without longhaul: an AF_XDP socket (CONFIG_XDP_SOCKETS).
    # Only its absence skips; longhaul failing where the kernel has AF_XDP (even with EINVAL
    # from xsk_socket__create) fails the test.
    try:
        socket.socket(AF_XDP, socket.SOCK_RAW, 0).close()
    except OSError as error:
        if error.errno in (errno.EAFNOSUPPORT, errno.EPROTONOSUPPORT):
            pytest.skip(f"this kernel has no AF_XDP sockets: {error}")
        raise
    result = longhaul.run("run", "-q", "--port", "xdp", "--", "true", timeout=60)
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
    assert ping["min"] >= 20 - RTT_EPSILON_MS, ping


def test_tcp_fills_a_rate_limited_link_through_xdp_ports(longhaul, xdp_supported, iperf3_server):
    report = iperf3_through_run(longhaul, iperf3_server(),
                                ["--port", "xdp", "--rtt", "10ms", "--rate", "200mbit"], "-t 4")
    # A stalled transmit ring (frames left unsent until the next arrival) showed up as
    # 10-20 Mbit/s with retransmissions.
    check_tcp_goodput(report, 200e6, 0.010)


@pytest.mark.parametrize("flags, named", [
    (["--port", "afxdp"], "--port"),
    (["--port", "xdp", "--mtu", "9000"], "--mtu"),
], ids=["bad-port", "mtu-too-big"])
def test_port_usage_errors_exit_2_naming_the_flag(longhaul, flags, named):
    result = longhaul.run("run", *flags, "--", "true")
    assert result.returncode == 2, result.stderr
    assert named in result.stderr, result.stderr
    assert_nothing_left()


# Appliance mode: `longhaul bridge --port xdp` between two "switch" namespaces
# --------------------------------------------------------------------------

def test_bridge_over_xdp_ports_delays_carries_tcp_and_restores_promiscuity(
        longhaul, xdp_supported, switches, tmp_path):
    # XDP hands the emulator finished frames, so the senders must fill in their checksums, as
    # a NIC does for a host on a real wire; a veth leaves them to offload unless told not to.
    for side in ("a", "b"):
        off = in_switch(side, "ethtool", "-K", "eth0", "tx", "off")
        assert off.returncode == 0, off.stderr
    bridge = start_bridge(longhaul, "--port", "xdp", "--rtt", "20ms", "--rate", "100mbit",
                          "--json", str(tmp_path / "bridge.json"))
    assert "AF_XDP ports" in bridge.stderr(), bridge.stderr()
    # The packet sockets that hold promiscuous mode for the XSKs.
    assert promiscuity("lh-bra") == 1 and promiscuity("lh-brb") == 1
    times = bridged_ping_times()
    # No kernel receive stamp with AF_XDP: a wake-up more than the AF_PACKET bridge allows.
    assert min(times) >= 20.0 - RTT_EPSILON_MS and statistics.median(times) <= 21.5, times
    # A bad checksum anywhere would stall the connection, not slow it.
    check_tcp_goodput(bridged_iperf3(5312), 100e6, 0.020)
    stop_bridge(bridge)
    assert promiscuity("lh-bra") == 0 and promiscuity("lh-brb") == 0
    report = json.loads((tmp_path / "bridge.json").read_text())
    assert report["port"] == "xdp", report
    for direction in ("up", "down"):
        assert report["lanes"][0]["directions"][direction]["reconciles"], report


def test_bridge_over_xdp_ports_refuses_an_mtu_it_cannot_carry(longhaul, switches):
    subprocess.run(["ip", "link", "set", "lh-brb", "mtu", "9000"], check=True, timeout=10)
    result = longhaul.run("bridge", "--port", "xdp", "--lane", "a=lh-bra,b=lh-brb")
    assert result.returncode == 3, result.stderr
    assert "lh-brb" in result.stderr and "MTU 9000" in result.stderr, result.stderr
    assert "ip link set lh-brb mtu 3506" in result.stderr, result.stderr
    assert promiscuity("lh-bra") == 0 and promiscuity("lh-brb") == 0


# Labs: `longhaul up --port xdp`
# --------------------------------------------------------------------------

def test_lab_over_xdp_ports_adds_lane_delays_and_carries_tcp_across_the_hub(
        labs, xdp_supported, tmp_path):
    """Site to site crosses two lanes and the hub switch, each lane on AF_XDP ports."""
    lab = labs(write_topology(tmp_path, star("xdplab", {
        "east": 'rtt = "6ms"', "west": 'rtt = "10ms"\nrate = "100mbit"'})), "--port", "xdp")
    status = lab.status()
    assert status["lab"]["port"] == "xdp", status
    assert "AF_XDP ports" in lab.longhaul.run("status", lab.name).stdout
    ping = lab.ping("east", "west", count=20)
    # No kernel receive stamp with AF_XDP: each of the four lane crossings may add a wake-up.
    assert ping["min"] >= 16.0 - RTT_EPSILON_MS and ping["median"] <= 17.5, ping
    # Checksums the senders left to offload would stall the connection, not slow it.
    check_tcp_goodput(lab.iperf3_report("east", "west", 5303), 100e6, 0.016)


def test_lab_over_xdp_ports_refuses_an_mtu_it_cannot_carry(longhaul, tmp_path):
    path = write_topology(tmp_path, star("xdpmtu", {"east": 'mtu = "9000B"', "west": ""}))
    result = longhaul.run("up", str(path), "--port", "xdp")
    assert result.returncode == 2, result.stderr
    assert "lane" in result.stderr and "mtu 9000" in result.stderr, result.stderr
    assert not (LAB_STATE / "xdpmtu.json").exists()

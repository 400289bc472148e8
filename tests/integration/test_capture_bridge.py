"""Integration tests of `longhaul capture` (pcap of a lab's lane) and `longhaul bridge` (appliance
mode over veth pairs whose far ends sit in namespaces playing two switches).

Traffic is real: pings and iperf3 through the engine; pcap files are read back with tshark.
Addresses: 198.18.0.0/15 only. The autouse `longhaul` fixture (conftest.py) fails a test that
leaves an lh-* namespace or link, a state file or a process behind.
"""

from __future__ import annotations

import ctypes
import fcntl
import json
import re
import socket
import struct
import signal
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Optional

import pytest

from conftest import (REPO_ROOT, RTT_EPSILON_MS, base_env, check_tcp_goodput, dropped_check, others_are_up,
                      wait_until)
from test_labs import PING_SUMMARY, labs, star, write_topology  # noqa: F401 (fixture)

# Nanosecond pcap, as written on a little-endian machine.
PCAP_NANO_MAGIC = bytes.fromhex("4d3cb2a1")


def tshark(path: Path, display_filter: str, *fields: str) -> list[list[str]]:
    """Rows of `fields` for the frames of `path` matching `display_filter`."""
    argv = ["tshark", "-r", str(path), "-Y", display_filter, "-T", "fields"]
    for field in fields:
        argv += ["-e", field]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=60, env=base_env())
    assert result.returncode == 0, f"tshark failed on {path}: {result.stderr}"
    return [line.split("\t") for line in result.stdout.splitlines() if line.strip()]


def count(path: Path, display_filter: str) -> int:
    return len(tshark(path, display_filter, "frame.number"))


class Capture:
    """`longhaul capture` running in the background until stopped (or its own limit)."""

    def __init__(self, longhaul, lab, lane: str, path: Path, *args: str):
        self.path = path
        self.process = longhaul.start("capture", lane, "--lab", lab.name, "-w", str(path), *args)
        wait_until(lambda: "capturing" in self.process.stderr() or self.process.poll() is not None,
                   timeout=10, what="the capture to start")
        assert self.process.poll() is None, self.process.output()

    def stop(self) -> str:
        self.process.send_signal(signal.SIGINT)
        assert self.process.wait(timeout=15) == 0, self.process.output()
        return self.process.stderr()


CAPTURE_LAB = {
    "hq": "",
    # up (branch -> hub) loses 30 %: some echo requests never leave the lane.
    "branch": 'rtt = "10ms"\nloss-up = "30%"',
}


def ping(lab, source: str, target: str, count_: int) -> dict:
    """Pings after a warm-up that pays for ARP, so the captures see ICMP only."""
    lab.exec(source, "ping", "-4", "-c", "3", "-i", "0.05", "-W", "2", target)
    result = lab.exec(source, "ping", "-4", "-c", str(count_), "-i", "0.05", "-W", "1", target)
    match = PING_SUMMARY.search(result.stdout) or re.search(
        r"(?P<sent>\d+) packets transmitted, (?P<received>\d+) received", result.stdout)
    assert match, result.stdout + result.stderr
    return {"sent": int(match["sent"]), "received": int(match["received"])}


def test_capture_before_and_after_impairment(labs, longhaul, tmp_path):
    """Before: every echo request that entered the lane; after: only those the lane delivered,
    each half the RTT later; replies come back on the down direction."""
    lab = labs(write_topology(tmp_path, star("cap", CAPTURE_LAB)))
    before = Capture(longhaul, lab, "branch", tmp_path / "before.pcap", "--before")
    after = Capture(longhaul, lab, "branch", tmp_path / "after.pcap")
    # Only pings from here on: the warm-up in ping() is captured too, so count from the seq.
    result = ping(lab, "branch", "hq", 40)
    summary_before = before.stop()
    summary_after = after.stop()

    for path in (before.path, after.path):
        assert path.read_bytes()[:4] == PCAP_NANO_MAGIC, path
    # The 40 measured pings are the second ping process: its own ICMP id.
    requests_before = tshark(before.path, "icmp.type == 8", "icmp.ident", "icmp.seq",
                             "frame.time_epoch")
    ident = requests_before[-1][0]
    measured_before = {int(r[1]): float(r[2]) for r in requests_before if r[0] == ident}
    assert len(measured_before) == result["sent"] == 40
    # Nothing went down before impairment that was not a reply to a request that arrived.
    replies_before = count(before.path, f"icmp.type == 0 && icmp.ident == {int(ident, 0)}")
    assert replies_before == result["received"]

    requests_after = {int(r[1]): float(r[2]) for r in tshark(
        after.path, "icmp.type == 8", "icmp.ident", "icmp.seq", "frame.time_epoch")
        if r[0] == ident}
    replies_after = count(after.path, f"icmp.type == 0 && icmp.ident == {int(ident, 0)}")
    # After impairment up: exactly the requests the lane delivered, which ping saw answered.
    assert len(requests_after) == result["received"]
    assert replies_after == result["received"]
    assert 0 < result["received"] < 40, result  # 30 % loss of 40: all or none is p < 1e-6
    # Timestamps on one clock: each request leaves the lane 5 ms (RTT/2) after it entered, never
    # earlier (but for the capture's whole microseconds); later only by the engine's wake-up and
    # the veth (tens of µs; more on a busy VM).
    delays = sorted(requests_after[seq] - measured_before[seq] for seq in requests_after)
    assert delays[0] >= 0.005 - RTT_EPSILON_MS / 1000, delays
    assert statistics.median(delays) <= 0.0055, delays

    assert re.search(r"\d+ frames written \(up \d+, down \d+\)", summary_after), summary_after
    assert "before" in summary_before and "after" in summary_after


def test_capture_direction_filter_and_count(labs, longhaul, tmp_path):
    lab = labs(write_topology(tmp_path, star("capd", {"hq": "", "branch": 'rtt = "4ms"'})))
    ping(lab, "branch", "hq", 2)  # ARP settled
    down = Capture(longhaul, lab, "branch", tmp_path / "down.pcap", "--direction", "down")
    up_count = Capture(longhaul, lab, "branch", tmp_path / "up.pcap", "--direction", "up",
                       "-c", "5")
    ping(lab, "branch", "hq", 10)
    # -c 5: the capture ends by itself after five frames.
    assert up_count.process.wait(timeout=15) == 0, up_count.process.output()
    assert "5 frames written (up 5)" in up_count.process.stderr(), up_count.process.output()
    down.stop()
    # Five frames, all going up: echo requests (and maybe the sites' own IPv6 neighbour
    # discovery, which a lab that just came up still sends), never a reply.
    assert count(up_count.path, "frame") == 5
    assert count(up_count.path, "icmp.type == 8") >= 3
    assert count(up_count.path, "icmp.type == 0") == 0
    # Down only: the replies (10 or more with the warm-up), no requests.
    assert count(down.path, "icmp.type == 0") >= 10
    assert count(down.path, "icmp.type == 8") == 0


def test_capture_time_limit_and_errors(labs, longhaul, tmp_path):
    if not others_are_up():  # another session's lab would be the one chosen
        no_lab = longhaul.run("capture", "x", "-w", str(tmp_path / "x.pcap"))
        assert no_lab.returncode != 0 and "no lab is up" in no_lab.stderr, no_lab.stderr
    else:
        dropped_check(f"`capture` without a lab: other labs are up ({others_are_up()})")
    lab = labs(write_topology(tmp_path, star("cape", {"hq": "", "branch": ""})))
    unknown = longhaul.run("capture", "nowhere", "--lab", lab.name, "-w",
                           str(tmp_path / "x.pcap"))
    assert unknown.returncode != 0, unknown.stderr
    assert "no lane 'nowhere'" in unknown.stderr and "branch" in unknown.stderr, unknown.stderr
    unwritable = longhaul.run("capture", "branch", "--lab", lab.name, "-w",
                              str(tmp_path / "missing" / "x.pcap"))
    assert unwritable.returncode != 0, unwritable.stderr
    assert "missing/x.pcap" in unwritable.stderr, unwritable.stderr
    bad_time = longhaul.run("capture", "branch", "--lab", lab.name, "-w", str(tmp_path / "x.pcap"),
                            "-t", "soon")
    assert bad_time.returncode == 2, bad_time.stderr
    timed = longhaul.run("capture", "branch", "--lab", lab.name, "-w", str(tmp_path / "t.pcap"),
                         "-t", "0.5", timeout=20)
    assert timed.returncode == 0 and "stopped by the time limit" in timed.stderr, timed.stderr
    assert (tmp_path / "t.pcap").read_bytes()[:4] == PCAP_NANO_MAGIC


# --------------------------------------------------------------------------
# Appliance mode
# --------------------------------------------------------------------------

SWITCHES = {"a": ("lh-sw1", "lh-bra", "198.18.250.1"), "b": ("lh-sw2", "lh-brb", "198.18.250.2")}


def ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=10, env=base_env())


def in_switch(side: str, *argv: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", "netns", "exec", SWITCHES[side][0], *argv], capture_output=True,
                          text=True, timeout=timeout, env=base_env())


def promiscuity(link: str) -> int:
    out = subprocess.run(["ip", "-d", "link", "show", link], capture_output=True, text=True,
                         check=True, timeout=10, env=base_env()).stdout
    return int(re.search(r"promiscuity (\d+)", out).group(1))


@pytest.fixture
def switches():
    """Two namespaces playing switches, each with eth0 wired by a veth to lh-bra / lh-brb here."""
    try:
        for namespace, link, address in SWITCHES.values():
            ip("netns", "add", namespace)
            ip("link", "add", link, "type", "veth", "peer", "name", "eth0", "netns", namespace)
            # The bridge's ports carry frames only: nothing of the host's own goes out on them.
            subprocess.run(["sysctl", "-qw", f"net.ipv6.conf.{link}.disable_ipv6=1"], check=True,
                           timeout=10, env=base_env())
            ip("link", "set", link, "up")
            ip("-n", namespace, "addr", "add", f"{address}/24", "dev", "eth0")
            ip("-n", namespace, "link", "set", "eth0", "up")
            ip("-n", namespace, "link", "set", "lo", "up")
        yield SWITCHES
    finally:
        for namespace, link, _ in SWITCHES.values():
            subprocess.run(["ip", "link", "del", link], capture_output=True, timeout=10)
            subprocess.run(["ip", "netns", "del", namespace], capture_output=True, timeout=10)


def start_bridge(longhaul, *args: str, lanes=("--lane", "a=lh-bra,b=lh-brb")):
    bridge = longhaul.start("bridge", *lanes, *args)
    wait_until(lambda: "bridging" in bridge.stderr() or bridge.poll() is not None, timeout=10,
               what="the bridge to start")
    assert bridge.poll() is None, bridge.output()
    return bridge


def stop_bridge(bridge) -> str:
    bridge.send_signal(signal.SIGINT)
    assert bridge.wait(timeout=15) == 0, bridge.output()
    return bridge.stderr()


def bridged_ping_times(count: int = 20) -> list[float]:
    """RTTs in ms of `count` pings from switch a to switch b across the bridge (after ARP)."""
    in_switch("a", "ping", "-c", "2", "-i", "0.05", "-W", "3", "198.18.250.2")  # ARP
    result = in_switch("a", "ping", "-c", str(count), "-i", "0.05", "-W", "2", "198.18.250.2")
    assert result.returncode == 0, result.stdout + result.stderr
    match = PING_SUMMARY.search(result.stdout)
    assert match and int(match["received"]) == count, result.stdout
    return [float(t) for t in re.findall(r"time=([\d.]+) ms", result.stdout)]


def bridged_iperf3(port: int, *extra: str) -> dict:
    """The report (-J --get-server-output) of a 4 s iperf3 run from switch a to a server in
    switch b."""
    server = subprocess.Popen(["ip", "netns", "exec", "lh-sw2", "iperf3", "-s", "-1", "-J", "-p",
                               str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              env=base_env())
    try:
        wait_until(lambda: str(port) in in_switch("b", "ss", "-Hltn").stdout, timeout=10,
                   what="the iperf3 server to listen")
        run = in_switch("a", "iperf3", "-c", "198.18.250.2", "-p", str(port), "-t", "4", "-J",
                        "--get-server-output", *extra)
    finally:
        server.kill()
        server.wait(timeout=10)
    assert run.returncode == 0, run.stdout + run.stderr
    return json.loads(run.stdout)


def test_bridge_delays_both_directions_and_restores_promiscuity(longhaul, switches, tmp_path):
    bridge = start_bridge(longhaul, "--rtt", "20ms", "--json", str(tmp_path / "bridge.json"))
    assert promiscuity("lh-bra") == 1 and promiscuity("lh-brb") == 1
    # 10 ms each way, never less; the veths and the engine add tens of microseconds. The median,
    # not the mean: on a loaded 2-core VM a few late wake-ups (the engine's "late p99") would
    # move the mean by more than the emulator's own error.
    times = bridged_ping_times()
    assert min(times) >= 20.0 - RTT_EPSILON_MS, times
    assert statistics.median(times) <= 21.0, times
    summary = stop_bridge(bridge)
    assert "bridge stopped" in summary and "up" in summary and "down" in summary, summary
    # The kernel dropped the promiscuous memberships with the sockets.
    assert promiscuity("lh-bra") == 0 and promiscuity("lh-brb") == 0
    report = json.loads((tmp_path / "bridge.json").read_text())
    assert report["schema"] == "longhaul.bridge/1"
    lane = report["lanes"][0]
    assert (lane["a"], lane["b"]) == ("lh-bra", "lh-brb")
    for direction in ("up", "down"):
        assert lane["directions"][direction]["packets_out"] >= 22, lane["directions"][direction]


def test_bridge_asymmetric_rates(longhaul, switches):
    bridge = start_bridge(longhaul, "--rate-up", "20mbit", "--rate-down", "60mbit", "--rtt",
                          "4ms")
    up, down = bridged_iperf3(5311), bridged_iperf3(5311, "-R")
    stop_bridge(bridge)
    check_tcp_goodput(up, 20e6, 0.004)
    check_tcp_goodput(down, 60e6, 0.004)


def gro(ifname: str, enable: Optional[bool] = None) -> bool:
    """GRO of a root-namespace interface via the ethtool ioctl (no ethtool binary needed)."""
    ethtool_ggro, ethtool_sgro, siocethtool = 0x2b, 0x2c, 0x8946
    request = bytearray(struct.pack("II", ethtool_ggro if enable is None else ethtool_sgro,
                                    int(bool(enable))))
    address = ctypes.addressof((ctypes.c_char * len(request)).from_buffer(request))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as control:
        fcntl.ioctl(control, siocethtool, struct.pack("16sP", ifname.encode(), address))
    return bool(struct.unpack("II", bytes(request))[1])


def test_bridge_turns_gro_off_for_wire_packets_and_restores_it(longhaul, switches):
    gro("lh-bra", True)
    assert gro("lh-bra") and not gro("lh-brb")
    # Loss up only: a -> b needs wire-sized packets, so lh-bra (where up is received) must not
    # merge them; b -> a does not, so lh-brb is left alone.
    bridge = start_bridge(longhaul, "--loss-up", "1%")
    assert not gro("lh-bra") and not gro("lh-brb")
    stop_bridge(bridge)
    assert gro("lh-bra") and not gro("lh-brb")


def test_bridge_errors(longhaul, switches):
    missing = longhaul.run("bridge", "--lane", "a=lh-bra,b=lh-nothere")
    assert missing.returncode == 3, missing.stderr
    assert "no interface 'lh-nothere'" in missing.stderr and "lh-bra" in missing.stderr
    twice = longhaul.run("bridge", "--lane", "a=lh-bra,b=lh-bra")
    assert twice.returncode == 2 and "used twice" in twice.stderr, twice.stderr
    syntax = longhaul.run("bridge", "--lane", "lh-bra,lh-brb")
    assert syntax.returncode == 2 and "a=INTERFACE,b=INTERFACE" in syntax.stderr, syntax.stderr
    no_netns = longhaul.run("bridge", "--netns", "lh-nowhere", "--lane", "a=x,b=y")
    assert no_netns.returncode == 3 and "lh-nowhere" in no_netns.stderr, no_netns.stderr
    assert promiscuity("lh-bra") == 0


def test_bridge_from_a_topology_file_uses_each_lanes_own_impairments(longhaul, switches,
                                                                    tmp_path):
    path = tmp_path / "appliance.toml"
    path.write_text('[[site]]\nname = "left"\ninterface = "lh-bra"\n'
                    '[[site]]\nname = "right"\ninterface = "lh-brb"\n'
                    '[[lane]]\na = "left"\nb = "right"\ndelay-up = "4ms"\ndelay-down = "12ms"\n')
    path.chmod(0o644)
    # A lab cannot take a file whose sites are interfaces, and flags cannot override the file.
    up = longhaul.run("up", str(path))
    assert up.returncode == 2 and "longhaul bridge --topology" in up.stderr, up.stderr
    mixed = longhaul.run("bridge", "--topology", str(path), "--rtt", "5ms")
    assert mixed.returncode == 2 and "--rtt cannot be combined with --topology" in mixed.stderr

    bridge = start_bridge(longhaul, lanes=("--topology", str(path)))
    in_switch("a", "ping", "-c", "2", "-i", "0.05", "-W", "3", "198.18.250.2")  # ARP
    result = in_switch("a", "ping", "-c", "20", "-i", "0.05", "-W", "2", "198.18.250.2")
    times = [float(t) for t in re.findall(r"time=([\d.]+) ms", result.stdout)]
    assert len(times) == 20 and min(times) >= 16.0 - RTT_EPSILON_MS, result.stdout
    assert statistics.median(times) <= 17.0, result.stdout
    stop_bridge(bridge)


def test_a_bridge_serves_the_control_api_under_its_name(longhaul, switches):
    sys.path.insert(0, str(REPO_ROOT / "python"))
    from longhaul_client import ApiError, Engine

    bridge = start_bridge(longhaul, "--rtt", "20ms", "--rate", "100mbit", "--name", "lhwan")
    socket_path = "/run/longhaul/bridges/lhwan.sock"
    assert f"control API: {socket_path}" in bridge.stderr(), bridge.stderr()
    engine = Engine.of_bridge("lhwan")
    info = engine.info()
    assert info["kind"] == "bridge" and info["name"] == "lhwan", info
    assert [lane["name"] for lane in engine.request("GET", "/v1/lanes")["lanes"]] == ["0"]
    # A second bridge of that name is refused before it touches an interface.
    second = longhaul.run("bridge", "--lane", "a=lh-bra,b=lh-brb", "--name", "lhwan")
    assert second.returncode == 3 and "already running" in second.stderr, second.stderr
    bad_name = longhaul.run("bridge", "--lane", "a=lh-bra,b=lh-brb", "--name", "Bad/Name")
    assert bad_name.returncode == 2 and "--name 'Bad/Name'" in bad_name.stderr, bad_name.stderr

    # `longhaul set` reaches the bridge by its name; the lane is its number.
    assert statistics.median(bridged_ping_times()) <= 21.0
    changed = longhaul.run("set", "lhwan", "0", "--rtt", "60ms")
    assert changed.returncode == 0, changed.stderr
    times = bridged_ping_times()
    assert min(times) >= 60.0 - RTT_EPSILON_MS and statistics.median(times) <= 61.5, times
    watched = longhaul.run("watch", "lhwan", "--count", "1")
    assert watched.returncode == 0, watched.stderr
    assert watched.stdout.startswith("bridge lhwan: 1 lanes"), watched.stdout
    assert re.search(r"^0 +60 ms +up ", watched.stdout, re.M), watched.stdout
    with pytest.raises(ApiError) as refused:
        engine.set("0", rtt="fast")
    assert refused.value.status == 400 and "rtt" in refused.value.message

    stop_bridge(bridge)
    assert not Path(socket_path).exists()
    gone = longhaul.run("set", "lhwan", "0", "--rtt", "20ms")
    assert gone.returncode == 4 and "no lab named 'lhwan' is up" in gone.stderr, gone.stderr

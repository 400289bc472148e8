"""Integration tests of `longhaul run` and `longhaul down` (root, real namespaces, real traffic).

Traffic goes only to the addresses longhaul creates (198.18.0.0/15, 2001:2::/48)
or loopback. The autouse `longhaul` fixture (conftest.py) fails any test that
leaves a namespace, link, run state file, iperf3 or command process behind.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import statistics
import struct
import subprocess
import sys
import threading
import time

import pytest

from conftest import (
    RTT_EPSILON_MS,
    binomial_interval,
    check_tcp_goodput,
    command_netns,
    is_alive,
    lh_links,
    lh_netns,
    netns_inode_of_pid,
    read_json,
    skip_if_others_are_up,
    state_files,
    wait_until,
)

PING_SUMMARY = re.compile(
    r"(?P<sent>\d+) packets transmitted, (?P<received>\d+) received.*?"
    r"rtt min/avg/max/mdev = (?P<min>[\d.]+)/(?P<avg>[\d.]+)/(?P<max>[\d.]+)/(?P<mdev>[\d.]+) ms",
    re.S)
SEED_HEADER = re.compile(r"longhaul: link r\d+ up \(seed (\d+)\)")


def parse_ping(output: str) -> dict:
    match = PING_SUMMARY.search(output)
    assert match, f"no ping summary in:\n{output}"
    return {k: (int(v) if k in ("sent", "received") else float(v))
            for k, v in match.groupdict().items()}


def assert_nothing_left() -> None:
    """Checks, right when longhaul has returned, that its resources are gone."""
    assert lh_netns() == [], "namespaces left"
    assert lh_links() == [], "links left"
    assert state_files() == [], "run state left"


def ping_script(remote_var: str, count: int, interval: str, family: str = "") -> str:
    """Shell: one warm-up ping (it pays for ARP / neighbour discovery), then the measured ones."""
    return (f'ping {family} -c 1 -W 2 "${remote_var}" >/dev/null; '
            f'ping {family} -q -c {count} -i {interval} -W 1 "${remote_var}"')


# --------------------------------------------------------------------------
# 1, 2: delay
# --------------------------------------------------------------------------


def lateness(json_path) -> dict:
    """The emulator's release lateness per direction (for failure messages)."""
    directions = read_json(json_path)["directions"]
    return {d: directions[d]["release_lateness_ns"] for d in ("up", "down")}


def check_ping_rtt(longhaul, json_path, rtt_ms: int, family: str = "") -> None:
    remote_var = "LONGHAUL_REMOTE6" if family == "-6" else "LONGHAUL_REMOTE"
    result = longhaul.run("run", "-q", "--rtt", f"{rtt_ms}ms", "--json", str(json_path), "--",
                          "sh", "-c", ping_script(remote_var, 40, "0.05", family), timeout=60)
    assert result.returncode == 0, result.stderr + result.stdout
    expected_remote = "2001:2:" if family == "-6" else "198.18."
    assert f"PING {expected_remote}" in result.stdout, "pinged something other than the remote"
    ping = parse_ping(result.stdout)
    print(f"rtt {rtt_ms} ms {family}: ping {ping}")
    assert ping["received"] == ping["sent"] == 40
    # The mean of 40 probes (after a warm-up probe that pays for ARP / ND) is
    # within 1 ms, and no probe is early: the emulator may release late when it
    # is not scheduled in time, but never ahead of time.
    assert abs(ping["avg"] - rtt_ms) <= 1.0, f"{ping}; emulator lateness {lateness(json_path)}"
    assert ping["min"] >= rtt_ms - RTT_EPSILON_MS, ping


@pytest.mark.parametrize("rtt_ms", [20, 100])
def test_ping_rtt_matches_configured_rtt(longhaul, tmp_path, rtt_ms):
    check_ping_rtt(longhaul, tmp_path / "run.json", rtt_ms)


def test_ping6_rtt_matches_configured_rtt(longhaul, tmp_path):
    check_ping_rtt(longhaul, tmp_path / "run.json", 40, "-6")


# One-way delay probe, run inside the command's namespace. The host side echoes
# each datagram with its receive and send times. Both ends read CLOCK_MONOTONIC,
# which network namespaces share, so the two one-way delays are measurable.
ONE_WAY_CLIENT = r"""
import json, os, socket, struct, sys, time
remote, port, count = os.environ["LONGHAUL_REMOTE"], int(sys.argv[1]), int(sys.argv[2])
now = lambda: time.clock_gettime_ns(time.CLOCK_MONOTONIC)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2.0)
s.connect((remote, port))
samples = []
for seq in range(count):
    s.send(struct.pack("!Iq", seq, now()))
    try:
        data = s.recv(64)
    except socket.timeout:
        continue
    t3 = now()
    rseq, t0, t1, t2 = struct.unpack("!Iqqq", data)
    samples.append({"seq": rseq, "up_ns": t1 - t0, "down_ns": t3 - t2})
print(json.dumps(samples))
"""


class UdpTimestampEcho:
    """Root-namespace UDP echo that stamps receive and send times (CLOCK_MONOTONIC)."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("0.0.0.0", 0))
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self):
        while not self.stop.is_set():
            try:
                data, peer = self.sock.recvfrom(64)
            except socket.timeout:
                continue
            t1 = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
            if len(data) != 12 or not peer[0].startswith("198.18."):
                continue
            seq, t0 = struct.unpack("!Iq", data)
            t2 = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
            self.sock.sendto(struct.pack("!Iqqq", seq, t0, t1, t2), peer)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(timeout=5)
        self.sock.close()


def test_asymmetric_delays_add_up_and_apply_per_direction(longhaul, tmp_path):
    up_ms, down_ms, probes = 10, 30, 21
    json_path = tmp_path / "run.json"
    with UdpTimestampEcho() as echo:
        # Ping first, then the one-way probe given as the script's arguments.
        script = ping_script("LONGHAUL_REMOTE", 40, "0.05") + ' && exec "$@"'
        result = longhaul.run("run", "-q", "--delay-up", f"{up_ms}ms", "--delay-down",
                              f"{down_ms}ms", "--json", str(json_path), "--",
                              "sh", "-c", script, "sh", sys.executable, "-c", ONE_WAY_CLIENT,
                              str(echo.port), str(probes), timeout=90)
    assert result.returncode == 0, result.stderr + result.stdout
    ping = parse_ping(result.stdout)
    assert ping["received"] == ping["sent"] == 40
    assert abs(ping["avg"] - (up_ms + down_ms)) <= 1.0, f"{ping}; lateness {lateness(json_path)}"

    samples = json.loads(result.stdout.strip().splitlines()[-1])
    # The first probe pays for neighbour resolution; judge the rest.
    samples = [s for s in samples if s["seq"] > 0]
    assert len(samples) == probes - 1, "UDP probes were lost on a link without loss"
    up = [s["up_ns"] / 1e6 for s in samples]
    down = [s["down_ns"] / 1e6 for s in samples]
    print(f"ping {ping}; one-way median up {statistics.median(up):.3f} ms, "
          f"down {statistics.median(down):.3f} ms")
    assert abs(statistics.median(up) - up_ms) <= 1.0, up
    assert abs(statistics.median(down) - down_ms) <= 1.0, down
    assert min(up) >= up_ms - RTT_EPSILON_MS, up
    assert min(down) >= down_ms - RTT_EPSILON_MS, down

    link = read_json(json_path)["link"]
    assert link["up"]["delay_ns"] == up_ms * 1_000_000
    assert link["down"]["delay_ns"] == down_ms * 1_000_000


# --------------------------------------------------------------------------
# 3: rate
# --------------------------------------------------------------------------

# Per full-sized TCP segment: 1448 payload bytes (MSS with timestamps) travel as
# 1448 + 32 (TCP) + 20 (IP) + 14 (Ethernet) + 24 (preamble, FCS, gap) = 1538
# bytes on the emulated wire, so goodput cannot exceed 1448/1538 = 94.1 % of the rate.
def iperf3_through_run(longhaul, server, link_flags: list[str], iperf3_flags: str) -> dict:
    """The report of one iperf3 client run (-J --get-server-output plus `iperf3_flags`)
    toward `server` through `longhaul run -q LINK_FLAGS`."""
    result = longhaul.run(
        "run", "-q", *link_flags, "--",
        "sh", "-c",
        f'exec iperf3 -c "$LONGHAUL_REMOTE" -p {server.port} -J --get-server-output '
        f'{iperf3_flags}',
        timeout=60)
    assert result.returncode == 0, result.stderr + result.stdout
    report = json.loads(result.stdout)
    assert "error" not in report, report.get("error")
    return report


@pytest.mark.parametrize("direction", ["up", "down"])
def test_tcp_goodput_fills_the_configured_rate(longhaul, iperf3_server, direction):
    reverse = " -R" if direction == "down" else ""
    report = iperf3_through_run(longhaul, iperf3_server(), ["--rate", "200mbit", "--rtt", "20ms"],
                                "-t 6" + reverse)
    check_tcp_goodput(report, 200e6, 0.020)


# --------------------------------------------------------------------------
# 4: loss
# --------------------------------------------------------------------------


def test_loss_rate_matches_configured_probability(longhaul, tmp_path):
    loss, probes, seed = 0.02, 1500, 42
    json_path = tmp_path / "run.json"
    result = longhaul.run("run", "--loss", "2%", "--seed", str(seed), "--json", str(json_path),
                          "--", "sh", "-c", ping_script("LONGHAUL_REMOTE", probes, "0.002"),
                          timeout=60)
    # ping exits 1 when some replies are missing, 0 when none are.
    assert result.returncode in (0, 1), result.stderr + result.stdout
    ping = parse_ping(result.stdout)
    assert ping["sent"] == probes
    lost = probes - ping["received"]

    # A probe survives only if the request (up) and the reply (down) both do.
    p_round_trip_loss = 1 - (1 - loss) ** 2
    lo, hi = binomial_interval(probes, p_round_trip_loss, 0.999)
    print(f"{lost} of {probes} probes lost; 99.9% interval [{lo}, {hi}]")
    assert lo <= lost <= hi, (f"{lost} of {probes} probes lost; 99.9% interval for "
                              f"p={p_round_trip_loss:.4f} is [{lo}, {hi}]")

    # The emulator's own counters agree: every lost probe is a counted loss
    # drop (the rest are the warm-up ping or neighbour discovery), and nothing
    # else was dropped on a link without a rate.
    stats = read_json(json_path)
    assert stats["seed"] == seed
    up, down = stats["directions"]["up"], stats["directions"]["down"]
    up_drops, down_drops = up["dropped"]["loss"]["packets"], down["dropped"]["loss"]["packets"]
    # Packets other than probes and replies: up carried every request once,
    # down at most one reply per request that got through.
    others = (up["packets_in"] - probes) + (down["packets_in"] - (probes - up_drops))
    assert lost <= up_drops + down_drops <= lost + others, (lost, up_drops, down_drops, others)
    for name in ("up", "down"):
        direction = stats["directions"][name]
        for cause, count in direction["dropped"].items():
            if cause != "loss":
                assert count["packets"] == 0, (name, cause, count)
        assert direction["reconciles"] is True


# --------------------------------------------------------------------------
# 5: teardown on normal exit, signals, crash + `longhaul down`
# --------------------------------------------------------------------------


def wait_for_command(marker, timeout=15):
    """Waits until the marked command runs inside lh-rN-cmd; returns (pid, namespace)."""
    def ready():
        pids = marker.pids()
        names = command_netns()
        return (pids[0], names[0]) if pids and names else None

    pid, name = wait_until(ready, timeout, "the command to run in its namespace")
    assert netns_inode_of_pid(pid) == os.stat(f"/run/netns/{name}").st_ino, \
        "the command does not run in longhaul's command namespace"
    return pid, name


def test_normal_run_leaves_nothing(longhaul):
    result = longhaul.run("run", "--rtt", "10ms", "--rate", "50mbit", "--loss", "1%", "--",
                          "sh", "-c", 'ping -c 3 -i 0.05 -W 1 "$LONGHAUL_REMOTE" >/dev/null; true')
    assert result.returncode == 0, result.stderr
    assert_nothing_left()


@pytest.mark.parametrize("signum, expected_status", [
    pytest.param(signal.SIGTERM, 143, id="SIGTERM"),
    pytest.param(signal.SIGINT, 130, id="SIGINT"),
    pytest.param(signal.SIGHUP, 129, id="SIGHUP"),
])
def test_signal_stops_run_and_leaves_nothing(longhaul, signum, expected_status):
    marker = longhaul.marker()
    process = longhaul.start("run", "--rtt", "10ms", "--", *marker.argv)
    pid, _ = wait_for_command(marker)
    started = time.monotonic()
    process.send_signal(signum)
    assert process.wait(timeout=20) == expected_status, process.output()
    # The command ends at once: it was signalled, not waited for.
    assert time.monotonic() - started < 5, "longhaul waited for the command to finish"
    assert_nothing_left()
    assert not is_alive(pid), "the command outlived longhaul"


def test_sigterm_escalates_to_sigkill_for_a_command_that_ignores_it(longhaul):
    marker = longhaul.marker()
    command = f"trap '' TERM; {' '.join(marker.argv)}; true"
    process = longhaul.start("run", "--", "sh", "-c", command)
    pid, _ = wait_for_command(marker)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 143, process.output()
    assert_nothing_left()
    # The sleep (a grandchild) was killed with the namespace; it may take a moment to exit.
    wait_until(lambda: not is_alive(pid), timeout=5, what="the command's child to exit")


def test_sigkill_then_down_removes_the_stale_run(longhaul):
    marker = longhaul.marker()
    process = longhaul.start("run", "--rtt", "10ms", "--", *marker.argv)
    pid, name = wait_for_command(marker)
    run_id = re.fullmatch(r"lh-(r\d+)-cmd", name).group(1)
    process.send_signal(signal.SIGKILL)
    assert process.wait(timeout=10) == -signal.SIGKILL
    # A killed longhaul cannot clean up: the run is still there.
    assert name in lh_netns()
    assert f"lh-{run_id}" in lh_links()
    assert f"/run/longhaul/runs/{run_id}.json" in state_files()

    # --stale: the same sweep as plain `down`, which would also take down a lab that is up.
    result = longhaul.down("--stale")
    assert result.returncode == 0, result.stderr
    assert f"removed stale run {run_id} (pid {process.pid} is gone)" in result.stdout, \
        result.stdout
    assert_nothing_left()
    wait_until(lambda: not is_alive(pid), timeout=5, what="the orphaned command to exit")

    again = longhaul.down("--stale")
    assert again.returncode == 0
    assert "nothing to remove" in again.stdout


def test_down_leaves_live_runs_unless_all(longhaul):
    skip_if_others_are_up("`longhaul down` and `down --all`")
    marker = longhaul.marker()
    process = longhaul.start("run", "--", *marker.argv)
    pid, name = wait_for_command(marker)
    run_id = re.fullmatch(r"lh-(r\d+)-cmd", name).group(1)

    result = longhaul.down()
    assert result.returncode == 0, result.stderr
    assert f"left live run {run_id} (pid {process.pid})" in result.stdout, result.stdout
    assert name in lh_netns() and process.poll() is None and is_alive(pid)

    result = longhaul.down("--all")
    assert result.returncode == 0, result.stderr
    assert f"removed run {run_id} (pid {process.pid})" in result.stdout, result.stdout
    # The run's command was killed, so the run ends with its status.
    assert process.wait(timeout=20) == 128 + signal.SIGKILL, process.output()
    assert_nothing_left()


def test_packets_in_flight_when_the_command_exits_are_delivered(longhaul):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as receiver:
        receiver.bind(("0.0.0.0", 0))
        port = receiver.getsockname()[1]
        sender = ("import os, socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM)"
                  f".sendto(b'last words', (os.environ['LONGHAUL_REMOTE'], {port}))")
        # The warm-up ping resolves the neighbours; the datagram is the last thing sent.
        result = longhaul.run("run", "-q", "--delay", "200ms", "--", "sh", "-c",
                              'ping -c 1 -W 2 "$LONGHAUL_REMOTE" >/dev/null && exec "$@"',
                              "sh", sys.executable, "-c", sender)
        assert result.returncode == 0, result.stderr
        receiver.settimeout(2.0)  # bounded: ten times the one-way delay
        try:
            data, _ = receiver.recvfrom(64)
        except socket.timeout:
            data = None
    assert data == b"last words", "the datagram sent just before the command exited was lost"


# --------------------------------------------------------------------------
# 6: exit status, not found, usage errors, not root
# --------------------------------------------------------------------------


@pytest.mark.parametrize("script, expected", [
    ("exit 0", 0),
    ("exit 7", 7),
    ("exit 255", 255),
    ("kill -TERM $$", 143),
])
def test_command_exit_status_passes_through(longhaul, script, expected):
    result = longhaul.run("run", "-q", "--", "sh", "-c", script)
    assert result.returncode == expected, result.stderr
    assert_nothing_left()


def test_command_not_found_exits_127(longhaul):
    result = longhaul.run("run", "--", "/nonexistent/longhaul-no-such-command", "arg")
    assert result.returncode == 127, result.stderr
    assert "not found" in result.stderr and "longhaul-no-such-command" in result.stderr, \
        result.stderr
    assert_nothing_left()


def test_command_not_executable_exits_126(longhaul, tmp_path):
    script = tmp_path / "not-executable.sh"
    script.write_text("#!/bin/sh\nexit 0\n")
    script.chmod(0o644)
    result = longhaul.run("run", "--", str(script))
    assert result.returncode == 126, result.stderr
    assert "not-executable.sh" in result.stderr, result.stderr
    assert_nothing_left()


USAGE_ERRORS = [
    (["--rate", "0mbit"], ["--rate"]),
    (["--rate", "10mbitx"], ["--rate"]),
    (["--loss", "150%"], ["--loss"]),
    (["--delay", "-5ms"], ["--delay"]),
    (["--rtt", "20"], ["--rtt"]),
    (["--queue", "0p", "--rate", "10mbit"], ["--queue"]),
    (["--rtt", "20ms", "--delay", "5ms"], ["--rtt", "--delay"]),
    (["--seed", "abc"], ["--seed"]),
    (["--no-such-flag"], ["--no-such-flag"]),
]


@pytest.mark.parametrize("flags, named", [pytest.param(f, n, id=" ".join(f))
                                          for f, n in USAGE_ERRORS])
def test_usage_errors_exit_2_naming_the_flag(longhaul, flags, named):
    result = longhaul.run("run", *flags, "--", "true")
    assert result.returncode == 2, result.stderr
    for flag in named:
        assert flag in result.stderr, result.stderr
    assert SEED_HEADER.search(result.stderr) is None, "the run started despite the usage error"
    assert_nothing_left()


# Labs work without root (test_rootless.py); run and bridge need the host's own namespace.
@pytest.mark.parametrize("args", [["run", "--", "true"],
                                  ["bridge", "--lane", "a=lo,b=lo", "--rtt", "1ms"]],
                         ids=["run", "bridge"])
def test_not_root_exits_3(longhaul, args):
    result = longhaul.run(*args, prefix=["setpriv", "--reuid=65534", "--regid=65534",
                                         "--clear-groups", "--"])
    assert result.returncode == 3, result.stderr
    assert "root" in result.stderr, result.stderr
    assert_nothing_left()


# --------------------------------------------------------------------------
# 7: JSON counters and seed
# --------------------------------------------------------------------------


def test_json_counters_reconcile_after_lossy_transfer(longhaul, iperf3_server, tmp_path):
    seed, loss = 424242, 0.01
    server = iperf3_server()
    json_path = tmp_path / "run.json"
    argv = ["sh", "-c", f'exec iperf3 -c "$LONGHAUL_REMOTE" -p {server.port} -t 3 --bidir -J']
    result = longhaul.run("run", "--rate", "100mbit", "--rtt", "10ms", "--loss", "1%",
                          "--seed", str(seed), "--json", str(json_path), "--", *argv,
                          timeout=60)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert "error" not in report, report.get("error")

    header = SEED_HEADER.search(result.stderr)
    assert header and int(header.group(1)) == seed, result.stderr

    stats = read_json(json_path)
    assert stats["schema"]
    assert stats["seed"] == seed
    assert stats["port"] == "packet"
    assert stats["exit_status"] == 0
    assert stats["command"] == argv
    for name in ("up", "down"):
        link = stats["link"][name]
        assert link["rate_bps"] == 100_000_000
        assert link["delay_ns"] == 5_000_000
        assert link["loss_probability"] == pytest.approx(loss)

        d = stats["directions"][name]
        dropped_packets = sum(c["packets"] for c in d["dropped"].values())
        dropped_bytes = sum(c["bytes"] for c in d["dropped"].values())
        assert d["packets_in"] == d["packets_out"] + dropped_packets + d["packets_queued"], d
        assert d["bytes_in"] == d["bytes_out"] + dropped_bytes + d["bytes_queued"], d
        assert d["reconciles"] is True
        # Both directions carried a bulk stream.
        assert d["packets_in"] > 5000, d
        assert d["bytes_in"] > d["packets_in"] * 500, d
        # Loss is the first stage: every packet that entered faced it.
        faced = d["packets_in"] - d["dropped"]["malformed"]["packets"] \
            - d["dropped"]["buffer_exhausted"]["packets"]
        lo, hi = binomial_interval(faced, loss, 0.999)
        print(f"{name}: {d['dropped']['loss']['packets']} of {faced} lost; "
              f"99.9% interval [{lo}, {hi}]")
        assert lo <= d["dropped"]["loss"]["packets"] <= hi, \
            f"{name}: {d['dropped']['loss']['packets']} of {faced} lost; 99.9% interval [{lo}, {hi}]"
        assert d["dropped"]["buffer_exhausted"]["packets"] == 0, d
        assert d["dropped"]["tx_error"]["packets"] == 0, d


def test_random_seed_is_printed_and_recorded(longhaul, tmp_path):
    json_path = tmp_path / "run.json"
    result = longhaul.run("run", "--loss", "1%", "--json", str(json_path), "--", "true")
    assert result.returncode == 0, result.stderr
    header = SEED_HEADER.search(result.stderr)
    assert header, result.stderr
    assert read_json(json_path)["seed"] == int(header.group(1))


# --------------------------------------------------------------------------
# 8: the command runs as the invoking user under sudo
# --------------------------------------------------------------------------


def test_command_runs_as_sudo_invoker(longhaul):
    result = longhaul.run("run", "-q", "--", "sh", "-c", "id -u; id -g",
                          env={"SUDO_UID": "65534", "SUDO_GID": "65534"}, keep_sudo=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["65534", "65534"], result.stdout
    assert_nothing_left()


def test_command_runs_as_root_without_sudo(longhaul):
    result = longhaul.run("run", "-q", "--", "id", "-u")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "0", result.stdout

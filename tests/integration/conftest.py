"""Shared helpers for longhaul's privileged integration tests.

These tests create real network namespaces, veths and traffic, so they need
root. Every test is wrapped by an autouse fixture that checks the host is
left exactly as found: no new lh-* namespace, no new lh-* link, no new run or
lab state file, no stray iperf3 and no process of a command a test started.
What existed before the test (another session's live run or lab on a shared
machine) is not the test's: the helpers below leave it out, and cleanup never
touches it. When something is left, the fixture removes what the test made
(`longhaul down --stale`, `longhaul down LAB` for its labs) and fails the test
that left it.

Synchronisation is by polling a condition with a bounded deadline
(`wait_until`), never by sleeping for a guessed time.
"""

from __future__ import annotations

import json
import math
import os
import re
import secrets
import signal
import socket
import subprocess
import tempfile
import time
import warnings
from pathlib import Path
from typing import Callable, Iterable, Optional, TypeVar

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
NETNS_DIR = Path("/run/netns")
STATE_DIR = Path("/run/longhaul/runs")
LAB_STATE_DIR = Path("/run/longhaul/labs")
ETC_NETNS_DIR = Path("/etc/netns")
# Variables that make longhaul drop the command to the invoking user; a test
# suite started under sudo must not pass them on by accident.
SUDO_VARIABLES = ("SUDO_UID", "SUDO_GID", "SUDO_USER", "SUDO_COMMAND")

T = TypeVar("T")


# --------------------------------------------------------------------------
# Binary and environment
# --------------------------------------------------------------------------


def longhaul_binary() -> Path:
    """Path of the longhaul binary: $LONGHAUL_BIN, else build/longhaul in the repo."""
    configured = os.environ.get("LONGHAUL_BIN")
    return Path(configured) if configured else REPO_ROOT / "build" / "longhaul"


def base_env(keep_sudo: bool = False) -> dict:
    """The environment longhaul runs with: ours, C locale, no sudo identity."""
    env = dict(os.environ)
    if not keep_sudo:
        for name in SUDO_VARIABLES:
            env.pop(name, None)
    env["LC_ALL"] = "C"
    path = env.get("PATH", "")
    for extra in ("/usr/sbin", "/sbin", "/usr/bin", "/bin"):
        if extra not in path.split(":"):
            path = f"{path}:{extra}" if path else extra
    env["PATH"] = path
    return env


def wait_until(condition: Callable[[], T], timeout: float, what: str,
               interval: float = 0.01) -> T:
    """Polls `condition` until it returns something truthy; fails after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


# --------------------------------------------------------------------------
# Host state: namespaces, links, run state, processes
# --------------------------------------------------------------------------


# What was there before the current test began, by kind; set by the `longhaul` fixture.
_PREEXISTING: dict[str, frozenset[str]] = {}


def _new(kind: str, names: Iterable[str]) -> list[str]:
    return sorted(n for n in names if n not in _PREEXISTING.get(kind, frozenset()))


def others_are_up() -> list[str]:
    """State files of runs and labs that were up before the current test (not its own)."""
    return sorted(_PREEXISTING.get("state files", frozenset()))


# Skips and dropped checks are visible in `make test` (pytest -rs in tests/CMakeLists.txt).
# Under LONGHAUL_NO_SKIP=1 (.ci/run sets it: a clean CI machine needs none of them) a skip
# fails its test unless its reason starts with one of these, each a condition a CI machine
# legitimately has. CI runs as root on a Debian 12 kernel with AF_XDP, and no other session's
# runs or labs are up there; but it is a VM whose host can take its vCPUs away (docs/
# performance.md, "Release tails"), so a fidelity test that asks for an ok verdict may find
# only verdicts that rightly blame the machine (any other cause still fails it).
SKIPS_ALLOWED_WITHOUT_SKIPPING: dict[str, str] = {
    "the machine was too busy for an ok verdict": "test_fidelity: the VM's vCPUs were taken",
}


def no_skip_wanted() -> bool:
    return os.environ.get("LONGHAUL_NO_SKIP") == "1"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if not (report.skipped and no_skip_wanted()) or hasattr(report, "wasxfail"):
        return
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    reason = reason.removeprefix("Skipped: ")
    if not any(reason.startswith(allowed) for allowed in SKIPS_ALLOWED_WITHOUT_SKIPPING):
        report.outcome = "failed"
        report.longrepr = (f"skipped under LONGHAUL_NO_SKIP=1, and not an allowed skip "
                           f"(conftest.SKIPS_ALLOWED_WITHOUT_SKIPPING): {reason}")


def dropped_check(reason: str) -> None:
    """A test leaves out one of its checks for `reason`: a warning in the summary, and a
    failure under LONGHAUL_NO_SKIP=1, like a skip."""
    if no_skip_wanted():
        pytest.fail(f"check dropped under LONGHAUL_NO_SKIP=1: {reason}")
    warnings.warn(f"check dropped: {reason}")


def skip_if_others_are_up(what: str) -> None:
    """Skips a test of `what` (a command that acts on every run or lab) when runs or labs that
    are not the test's own are up: it would end them."""
    if others_are_up():
        pytest.skip(f"{what} would end runs or labs this test did not start: {others_are_up()}")


def _all_lh_netns() -> list[str]:
    try:
        return [n for n in os.listdir(NETNS_DIR) if n.startswith("lh-")]
    except FileNotFoundError:
        return []


def lh_netns() -> list[str]:
    """Names of longhaul namespaces under /run/netns that the current test made."""
    return _new("namespaces", _all_lh_netns())


def command_netns() -> list[str]:
    return [n for n in lh_netns() if re.fullmatch(r"lh-r\d+-cmd", n)]


def _all_lh_links() -> list[str]:
    out = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True,
                         check=True, timeout=10, env=base_env()).stdout
    names = []
    for line in out.splitlines():
        # "7: lh-r1@if2: <BROADCAST,...>"
        fields = line.split(":", 2)
        if len(fields) >= 2:
            name = fields[1].strip().split("@", 1)[0]
            if name.startswith("lh-"):
                names.append(name)
    return names


def lh_links() -> list[str]:
    """Names of lh-* links in the root namespace that the current test made."""
    return _new("links", _all_lh_links())


def _all_state_files() -> list[str]:
    found = []
    for directory, pattern in ((STATE_DIR, "*.json"), (STATE_DIR, "*.fidelity"),
                               (LAB_STATE_DIR, "*.json"),
                               (LAB_STATE_DIR, "*.log"), (ETC_NETNS_DIR, "lh-*")):
        try:
            found += [str(p) for p in directory.glob(pattern)]
        except FileNotFoundError:
            pass
    return found


def state_files() -> list[str]:
    """Run and lab state files, and the per-namespace /etc directories labs write, that the
    current test made."""
    return _new("state files", _all_state_files())


def _proc_cmdline(pid: int) -> Optional[list[str]]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    return [part.decode(errors="replace") for part in raw.split(b"\0")[:-1]]


def process_state(pid: int) -> Optional[str]:
    """One-letter state of a process (R, S, Z, ...), None when it no longer exists."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat[stat.rfind(")") + 2:].split()[0]


def is_alive(pid: int) -> bool:
    """True while the process exists and is not a zombie waiting to be reaped."""
    state = process_state(pid)
    return state is not None and state != "Z"


def live_processes(match: Callable[[list[str]], bool]) -> list[int]:
    """Pids of live (non-zombie) processes whose argv satisfies `match`."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        pid = int(entry)
        argv = _proc_cmdline(pid)
        if argv and match(argv) and is_alive(pid):
            pids.append(pid)
    return sorted(pids)


def iperf3_pids() -> set[int]:
    return set(live_processes(lambda argv: os.path.basename(argv[0]) == "iperf3"))


def netns_inode_of_pid(pid: int) -> Optional[int]:
    try:
        return os.stat(f"/proc/{pid}/ns/net").st_ino
    except OSError:
        return None


class Marker:
    """A unique `sleep` command whose processes can be found again in /proc."""

    def __init__(self, seconds: int = 30):
        self.argv = ["sleep", f"{seconds}.{secrets.randbelow(10**6):06d}"]

    def pids(self) -> list[int]:
        return live_processes(lambda argv: argv == self.argv)


# --------------------------------------------------------------------------
# Running longhaul
# --------------------------------------------------------------------------


class Process:
    """A process (longhaul, usually) whose output goes to files.

    Files, not pipes: a command that outlives longhaul (after SIGKILL) keeps
    the inherited descriptors open, and a pipe would then never see EOF.
    """

    def __init__(self, argv: list[str], env: dict, cwd: str):
        self.argv = argv
        self._stdout = tempfile.TemporaryFile(mode="w+")
        self._stderr = tempfile.TemporaryFile(mode="w+")
        self.process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self._stdout,
                                        stderr=self._stderr, text=True, env=env, cwd=cwd)
        self.pid = self.process.pid

    def send_signal(self, signum: int) -> None:
        self.process.send_signal(signum)

    def poll(self) -> Optional[int]:
        return self.process.poll()

    def wait(self, timeout: float) -> int:
        return self.process.wait(timeout=timeout)

    def stdout(self) -> str:
        self._stdout.seek(0)
        return self._stdout.read()

    def stderr(self) -> str:
        self._stderr.seek(0)
        return self._stderr.read()

    def output(self) -> str:
        return f"stdout:\n{self.stdout()}\nstderr:\n{self.stderr()}"

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after a grace period, if still running."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)

    def close(self) -> None:
        self._stdout.close()
        self._stderr.close()


class Longhaul:
    """Runs the longhaul binary with a timeout and tracks what the test started."""

    def __init__(self, binary: Path):
        self.binary = binary
        self.markers: list[Marker] = []
        self.started: list[Process] = []

    def marker(self, seconds: int = 30) -> Marker:
        """A unique command (`sleep`) whose processes the leftovers check also looks for."""
        marker = Marker(seconds)
        self.markers.append(marker)
        return marker

    def start(self, *args: str, keep_sudo: bool = False, env: Optional[dict] = None,
              prefix: Iterable[str] = (), cwd: str = "/") -> Process:
        """Starts `[PREFIX] longhaul ARGS`; the fixture stops it if the test does not."""
        full_env = base_env(keep_sudo)
        full_env.update(env or {})
        process = Process([*prefix, str(self.binary), *args], full_env, cwd)
        self.started.append(process)
        return process

    def run(self, *args: str, timeout: float = 60, **kwargs) -> subprocess.CompletedProcess:
        """Runs `longhaul ARGS` to completion; stops it and fails after `timeout` s."""
        process = self.start(*args, **kwargs)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.stop()
            raise AssertionError(
                f"{process.argv} did not finish within {timeout} s\n{process.output()}")
        return subprocess.CompletedProcess(process.argv, process.process.returncode,
                                           process.stdout(), process.stderr())

    def down(self, *args: str, timeout: float = 30) -> subprocess.CompletedProcess:
        return self.run("down", *args, timeout=timeout)

    def stop_all(self) -> None:
        for process in self.started:
            process.stop()
            process.close()


def read_json(path: Path) -> dict:
    with open(path, encoding="utf-8") as stream:
        return json.load(stream)


# --------------------------------------------------------------------------
# Statistics
# --------------------------------------------------------------------------


def binomial_interval(n: int, p: float, confidence: float) -> tuple[int, int]:
    """Central interval [lo, hi] holding a Binomial(n, p) count with at least `confidence`.

    Exact: each tail outside the interval has probability at most (1 - confidence) / 2.
    """
    tail = (1.0 - confidence) / 2.0
    log_p, log_q = math.log(p), math.log1p(-p)

    def pmf(k: int) -> float:
        return math.exp(math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)
                        + k * log_p + (n - k) * log_q)

    below = 0.0
    lo = 0
    while below + pmf(lo) <= tail:  # P(X < lo) stays within the lower tail
        below += pmf(lo)
        lo += 1
    above = 0.0
    hi = n
    while above + pmf(hi) <= tail:  # P(X > hi) stays within the upper tail
        above += pmf(hi)
        hi -= 1
    return lo, hi


# --------------------------------------------------------------------------
# Models: the smallest round trip, TCP's goodput at a rate
# --------------------------------------------------------------------------

# How far below the configured round trip a measured one may be: none in theory, since
# longhaul releases a frame no earlier than its kernel arrival stamp plus the delay
# (engine/stamp_clock.hh), and ping and TCP time each probe from before it is sent to after
# its answer arrives. What is left is the clocks' granularity: ping and TCP count whole
# microseconds (gettimeofday, tcp_clock_us), so a difference of two floors can lose one.
# Every "not early" check is `measured >= configured - RTT_EPSILON_MS`.
RTT_EPSILON_MS = 0.001

ETHERNET_HEADER_BYTES = 14
# Per wire packet, as longhaul's rate queue counts it by default (core/pipeline.hh
# overhead_bytes): preamble and start delimiter 8, frame check sequence 4, inter-frame gap 12.
WIRE_OVERHEAD_BYTES = 24
# TCP's header with the timestamp option Linux negotiates by default (12 bytes padded).
TCP_HEADER_BYTES = 20 + 12
IP_HEADER_BYTES = {4: 20, 6: 40}
# iperf3's TCP read size (its default block): what a receiver can count at once.
IPERF3_BLOCK_BYTES = 128 * 1024
# The steady window's allowance below the ceiling, see check_tcp_goodput.
GOODPUT_TOLERANCE = 0.05
# Linux's smallest retransmission timeout (TCP_RTO_MIN).
TCP_RTO_MIN_S = 0.2


def tcp_payload_per_wire(mtu: int = 1500, ip_version: int = 4) -> float:
    """TCP payload bytes per byte the shaper counts, for full-size packets.

    longhaul's rate queue serialises each wire packet's Ethernet frame (at least 60 bytes)
    plus WIRE_OVERHEAD_BYTES. A full-size TCP segment is an IP packet of `mtu` bytes carrying
    mtu - IP header - TCP header (with timestamps) of payload, so at 1500 bytes over IPv4
    1448 payload bytes ride in 1500 + 14 + 24 = 1538 counted bytes (94.15 %); over IPv6
    1428 of 1538 (92.85 %). Smaller segments carry less per counted byte, so a bulk
    transfer's goodput is at most rate x this ratio: TCP's ceiling at that rate.
    """
    payload = mtu - IP_HEADER_BYTES[ip_version] - TCP_HEADER_BYTES
    return payload / (mtu + ETHERNET_HEADER_BYTES + WIRE_OVERHEAD_BYTES)


def tcp_ramp_seconds(rate_bps: float, rtt_s: float, mtu: int = 1500) -> int:
    """Whole seconds after which a bulk TCP transfer is in its steady state.

    Slow start doubles the window each round trip from 10 segments to the pipe plus
    longhaul's default queue (one bandwidth-delay product each): log2(2 x BDP / 10) round
    trips. Its overshoot can cost a retransmission timeout (at least TCP_RTO_MIN_S plus a
    round trip) and a second slow start; a few round trips of recovery follow. Rounded up to
    whole iperf3 intervals, and at least one.
    """
    bdp_packets = max(rate_bps * rtt_s / 8 / mtu, 10.0)
    slow_start = rtt_s * math.log2(2 * bdp_packets / 10 + 1)
    return max(1, math.ceil(2 * slow_start + TCP_RTO_MIN_S + 5 * rtt_s))


def _receiver_and_sender_intervals(report: dict) -> tuple[list, list]:
    """iperf3 -J --get-server-output: (receiver's intervals, sender's intervals)."""
    server = report.get("server_output_json")
    assert server is not None, ("the receiver's intervals need a client with --get-server-output "
                                "and a server with -J")
    reverse = report["start"]["test_start"]["reverse"] == 1
    client, remote = report["intervals"], server["intervals"]
    return (client, remote) if reverse else (remote, client)


def check_tcp_goodput(report: dict, rate_bps: float, rtt_s: float, mtu: int = 1500) -> dict:
    """Bounds an iperf3 TCP transfer through a `rate_bps` bottleneck on both sides.

    `report` is `iperf3 -J --get-server-output` (either direction), run long enough for a
    steady window of at least two intervals after tcp_ramp_seconds. Bytes are counted at the
    receiver, interval by interval (the client's end.sum_received divides the receiver's
    bytes by the sender's duration, which misses the queue's drain).

    Upper bound, over the whole transfer: the shaper lets out at most rate bytes per second
    after the first packet, and the receiver's clock starts before any data arrives, so its
    total is at most ceiling x its duration, plus one iperf3 block for what may already wait
    in the socket at the client's first read (-R). A shaper too fast by 10 % breaks this
    after a ramp shorter than 9 % of the run.

    Steady window (intervals from the ramp's end to before the last, which may be partial):
    within +-GOODPUT_TOLERANCE of the ceiling, less the payload the sender retransmitted in
    it. The default queue holds one bandwidth-delay product, more than Cubic's backoff to 0.7
    of the window needs to keep the bottleneck busy, so the link delivers its ceiling; the
    5 % is the allowance for when the receiving process's reads happen on a loaded CPU (its
    socket holds what it has not read yet, which moves bytes across the window's edges), and
    it is what a shaper 10 % too slow or too fast fails. Returns the figures for printing.
    """
    ip_version = 6 if ":" in report["start"]["connected"][0]["remote_host"] else 4
    ceiling = rate_bps * tcp_payload_per_wire(mtu, ip_version)
    receiver, sender = _receiver_and_sender_intervals(report)
    total_bytes = sum(i["sum"]["bytes"] for i in receiver)
    total_seconds = sum(i["sum"]["seconds"] for i in receiver)
    whole = total_bytes * 8 / total_seconds
    whole_limit = ceiling + IPERF3_BLOCK_BYTES * 8 / total_seconds

    ramp = tcp_ramp_seconds(rate_bps, rtt_s, mtu)
    steady = [i for i in receiver[:-1] if i["sum"]["start"] >= ramp - 0.01]
    assert len(steady) >= 2, (f"the run leaves {len(steady)} steady intervals after a "
                              f"{ramp} s ramp: run iperf3 longer")
    start, end = steady[0]["sum"]["start"], steady[-1]["sum"]["end"]
    steady_bytes = sum(i["sum"]["bytes"] for i in steady)
    steady_bps = steady_bytes * 8 / (end - start)
    mss = mtu - IP_HEADER_BYTES[ip_version] - TCP_HEADER_BYTES
    retransmits = sum(i["sum"].get("retransmits", 0) for i in sender
                      if start - 0.5 <= i["sum"]["start"] < end)
    retransmitted_bps = retransmits * mss * 8 / (end - start)
    low = (1 - GOODPUT_TOLERANCE) * ceiling - retransmitted_bps
    high = (1 + GOODPUT_TOLERANCE) * ceiling
    figures = {"ceiling_mbps": round(ceiling / 1e6, 2), "whole_mbps": round(whole / 1e6, 2),
               "steady_mbps": round(steady_bps / 1e6, 2),
               "steady_window_s": (round(start, 2), round(end, 2)),
               "retransmits": retransmits,
               "intervals_mbps": [round(i["sum"]["bits_per_second"] / 1e6, 1) for i in receiver]}
    print("TCP goodput:", figures)
    assert whole <= whole_limit, (f"whole transfer {whole / 1e6:.2f} Mbit/s exceeds TCP's "
                                  f"ceiling {ceiling / 1e6:.2f} Mbit/s at the rate", figures)
    assert low <= steady_bps <= high, (f"steady goodput {steady_bps / 1e6:.2f} Mbit/s outside "
                                       f"[{low / 1e6:.2f}, {high / 1e6:.2f}]", figures)
    return figures


# --------------------------------------------------------------------------
# Fixtures
# --------------------------------------------------------------------------


@pytest.fixture(scope="session")
def longhaul_bin() -> Path:
    binary = longhaul_binary()
    if not (binary.is_file() and os.access(binary, os.X_OK)):
        pytest.fail(f"longhaul binary not found at {binary}; build it or set LONGHAUL_BIN")
    if os.geteuid() != 0:
        pytest.skip("integration tests create namespaces and links and need root")
    return binary


def _leftovers(baseline_iperf3: set[int], markers: Iterable[Marker]) -> dict:
    found = {
        "namespaces": lh_netns(),
        "links": lh_links(),
        "run state files": state_files(),
        "iperf3 processes": sorted(iperf3_pids() - baseline_iperf3),
        "command processes": sorted(pid for m in markers for pid in m.pids()),
    }
    return {what: items for what, items in found.items() if items}


@pytest.fixture(autouse=True)
def longhaul(longhaul_bin: Path):
    """A Longhaul runner; asserts the test left nothing behind."""
    runner = Longhaul(longhaul_bin)
    runner.down("--stale")  # what dead runs and labs left; nothing live is ours to end
    _PREEXISTING.clear()
    _PREEXISTING.update({"namespaces": frozenset(_all_lh_netns()),
                         "links": frozenset(_all_lh_links()),
                         "state files": frozenset(_all_state_files())})
    baseline_iperf3 = iperf3_pids()

    yield runner

    runner.stop_all()
    left = {}
    try:
        # Processes killed with SIGKILL take a moment to exit: poll, bounded.
        wait_until(lambda: not _leftovers(baseline_iperf3, runner.markers), timeout=5,
                   what="the run's resources and processes to go away")
    except AssertionError:
        left = _leftovers(baseline_iperf3, runner.markers)
    if left:
        # Only what this test made: its dead runs, then its labs by name.
        runner.down("--stale")
        for path in left.get("run state files", []):
            if path.startswith(str(LAB_STATE_DIR)) and path.endswith(".json") and \
                    not path.endswith(".counters.json"):
                runner.down(Path(path).name.removesuffix(".json"))
        for pid in left.get("iperf3 processes", []):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        pytest.fail(f"the test left things behind: {left}")


class Iperf3Server:
    """A one-off (`-1`) iperf3 server in the root namespace on a unique port."""

    def __init__(self, port: int, process: subprocess.Popen):
        self.port = port
        self.process = process

    def wait(self, timeout: float = 15) -> int:
        return self.process.wait(timeout=timeout)


def _free_tcp_port() -> int:
    with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
        probe.bind(("::", 0))
        return probe.getsockname()[1]


def _listening(port: int) -> bool:
    out = subprocess.run(["ss", "-Hltn", f"sport = :{port}"], capture_output=True, text=True,
                         timeout=10, env=base_env()).stdout
    return bool(out.strip())


@pytest.fixture
def iperf3_server():
    """Factory: starts an iperf3 server and waits until its port accepts connections."""
    servers: list[Iperf3Server] = []
    logs = []

    def start() -> Iperf3Server:
        port = _free_tcp_port()
        log = tempfile.TemporaryFile(mode="w+")
        logs.append(log)
        # -J: a client's --get-server-output then carries the server's intervals as JSON.
        process = subprocess.Popen(["iperf3", "-s", "-1", "-J", "-p", str(port)],
                                   stdin=subprocess.DEVNULL, stdout=log, stderr=log, text=True,
                                   env=base_env())
        server = Iperf3Server(port, process)
        servers.append(server)
        wait_until(lambda: process.poll() is not None or _listening(port), timeout=10,
                   what=f"iperf3 server to listen on port {port}")
        if process.poll() is not None:
            log.seek(0)
            raise AssertionError(f"iperf3 server exited: {log.read()}")
        return server

    yield start

    # Killed, not awaited: a one-off server may wait forever for a client that
    # vanished with its namespace (see test_packets_in_flight_...).
    for server in servers:
        if server.process.poll() is None:
            server.process.kill()
        server.process.wait(timeout=10)
    for log in logs:
        log.close()


# --------------------------------------------------------------------------
# Clients of the control API (python/longhaul_client.py)
# --------------------------------------------------------------------------


@pytest.fixture
def client_env(monkeypatch):
    """The environment the Python client's `longhaul` calls run with: this build's binary, C
    locale, no sudo identity. Files of API tests use it with
    `pytestmark = pytest.mark.usefixtures("client_env")`."""
    monkeypatch.setenv("LONGHAUL_BIN", str(longhaul_binary()))
    for key, value in base_env().items():
        monkeypatch.setenv(key, value)


def free_port() -> int:
    """A TCP port on loopback that was free a moment ago (for --listen / --web)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]

"""Integration tests of labs: `longhaul up / status / exec / down` with real namespaces and traffic.

Each test writes a small topology, brings it up, measures through it and takes it down. Traffic
stays inside the lab's namespaces (198.18.0.0/15, 2001:2::/48). The autouse `longhaul` fixture
(conftest.py) fails a test that leaves a namespace, state file or process behind.
"""

from __future__ import annotations

import json
import os
import re
import signal
import statistics
from pathlib import Path

import pytest

from conftest import (RTT_EPSILON_MS, check_tcp_goodput, is_alive, lh_netns, read_json,
                      state_files, wait_until)

PING_SUMMARY = re.compile(
    r"(?P<sent>\d+) packets transmitted, (?P<received>\d+) received.*?"
    r"rtt min/avg/max/mdev = (?P<min>[\d.]+)/(?P<avg>[\d.]+)/(?P<max>[\d.]+)/(?P<mdev>[\d.]+) ms",
    re.S)
LAB_STATE = Path("/run/longhaul/labs")


def write_topology(tmp_path: Path, text: str, name: str = "lab.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    path.chmod(0o644)
    return path


def star(name: str, lanes: dict[str, str], extra: str = "") -> str:
    """A star: a hub switch and one site per lane, `lanes` = {site: lane keys as TOML lines}."""
    text = f'name = "{name}"\n'
    for site in lanes:
        text += f'[[site]]\nname = "{site}"\n'
    text += '[[switch]]\nname = "hub"\n'
    for site, keys in lanes.items():
        text += f'[[lane]]\na = "{site}"\nb = "hub"\n{keys}\n'
    return text + extra


class Lab:
    """A lab brought up for one test; always taken down at the end."""

    def __init__(self, longhaul, path: Path, *args: str):
        self.longhaul = longhaul
        result = longhaul.run("up", str(path), *args, timeout=60)
        assert result.returncode == 0, result.stdout + result.stderr
        self.up_output = result.stdout
        self.name = re.search(r"^lab (\S+) from", result.stdout, re.M).group(1)

    def exec(self, site: str, *command: str, timeout: float = 60):
        return self.longhaul.run("exec", "--lab", self.name, site, "--", *command,
                                 timeout=timeout)

    def ping(self, source: str, target: str, count: int = 10, interval: str = "0.05",
             family: str = "-4", lossless: bool = True) -> dict:
        """Mean RTT after a warm-up ping that pays for ARP / neighbour discovery."""
        script = (f"ping {family} -c 1 -W 3 {target} >/dev/null; "
                  f"ping {family} -c {count} -i {interval} -W 2 {target}")
        result = self.exec(source, "sh", "-c", script)
        assert result.returncode == 0, result.stdout + result.stderr
        match = PING_SUMMARY.search(result.stdout)
        assert match, result.stdout
        values = match.groupdict()
        assert int(values["received"]) == count or not lossless, result.stdout
        summary = {k: float(v) for k, v in values.items()}
        summary["median"] = statistics.median(
            float(t) for t in re.findall(r"time=([\d.]+) ms", result.stdout)) if \
            summary["received"] else float("inf")
        return summary

    def iperf3_server(self, site: str, port: int):
        """A one-shot iperf3 server in `site`, listening when this returns."""
        server = self.longhaul.start("exec", "--lab", self.name, site, "--",
                                     "iperf3", "-s", "-1", "-J", "-p", str(port))
        wait_until(lambda: self.exec(site, "sh", "-c", f"ss -ltn | grep -q :{port}").returncode
                   == 0, timeout=10, what="the iperf3 server to listen")
        return server

    def iperf3_report(self, client: str, server: str, port: int, *extra: str) -> dict:
        """The report (-J --get-server-output) of a 4 s iperf3 run from `client` to `server`."""
        listener = self.iperf3_server(server, port)
        run = self.exec(client, "iperf3", "-c", server, "-p", str(port), "-t", "4", "-J",
                        "--get-server-output", *extra)
        assert run.returncode == 0, run.stdout + run.stderr
        listener.wait(timeout=10)
        return json.loads(run.stdout)

    def status(self) -> dict:
        result = self.longhaul.run("status", self.name, "--json")
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)[0]

    def down(self) -> None:
        result = self.longhaul.run("down", self.name)
        assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture
def labs(longhaul):
    """Brings labs up; takes down whatever the test did not."""
    started: list[Lab] = []

    def up(path: Path, *args: str) -> Lab:
        lab = Lab(longhaul, path, *args)
        started.append(lab)
        return lab

    yield up
    for lab in started:
        if (LAB_STATE / f"{lab.name}.json").exists():
            longhaul.run("down", lab.name)


def test_rtt_matrix_is_the_sum_of_lane_delays(labs, tmp_path):
    """Remote to remote crosses two lanes: the RTT is the sum of both lanes' round trips."""
    rtts = {"hq": 0.0, "east": 10.0, "west": 24.0, "far": 40.0}
    keys = {site: (f'rtt = "{int(rtt)}ms"' if rtt else "") for site, rtt in rtts.items()}
    lab = labs(write_topology(tmp_path, star("matrix", keys)))
    sites = list(rtts)
    for i, source in enumerate(sites):
        for target in sites[i + 1:]:
            expected = rtts[source] + rtts[target]
            measured = lab.ping(source, target, count=20)["avg"]
            # Within 1 ms of the configured sum: the veths and the engine add tens of µs.
            assert expected <= measured + 0.05 and measured <= expected + 1.0, \
                f"{source} -> {target}: {measured} ms, expected {expected} ms"


def test_names_resolve_and_ipv6_works_in_every_site(labs, tmp_path):
    lab = labs(write_topology(tmp_path, star("six", {"a": 'rtt = "6ms"', "b": 'rtt = "4ms"'})))
    result = lab.exec("a", "getent", "ahostsv4", "b")
    assert result.returncode == 0 and result.stdout.split()[0].startswith("198.19."), \
        result.stdout
    measured = lab.ping("a", "b", family="-6")["avg"]
    assert 10.0 - RTT_EPSILON_MS <= measured <= 11.0, measured
    status = lab.status()
    assert status["schema"] == "longhaul.lab/1" and status["alive"]
    # The engine rewrites its counters every second: the 11 pings appear within a few.
    wait_until(lambda: lab.status().get("counters", {}).get("lanes", {}).get("a", {})
               .get("up", {}).get("packets_out", 0) >= 11, timeout=5,
               what="the live counters to show the pings")


def test_status_json_shows_the_models_counts_live(labs, tmp_path):
    """status --json's counters carry `models` as run --json's directions do: two scheduled
    changes per direction are counted while the lab runs (the threads publish them with their
    CPU sample, every 100 ms)."""
    lab = labs(write_topology(tmp_path, star("models", {
        "a": 'rtt = "4ms"\nat = ["0.1s:rate=50mbit", "0.2s:loss=0%"]', "b": ""})))
    def models():
        lane = lab.status().get("counters", {}).get("lanes", {}).get("a", {})
        return {d: lane.get(d, {}).get("models", {}) for d in ("up", "down")}
    wait_until(lambda: all(m.get("schedule_changes") == 2 for m in models().values()),
               timeout=5, what="two schedule changes per direction in status --json")
    for direction in models().values():
        assert set(direction) == {"ecn_marked_frames", "aqm_dropped_frames",
                                  "outage_dropped_frames", "schedule_changes"}, direction
        assert direction["outage_dropped_frames"] == 0, direction


def test_asymmetric_rates_per_direction(labs, tmp_path):
    """rate-up applies a -> b (site to hub), rate-down the way back."""
    lab = labs(write_topology(tmp_path, star("asym", {
        "server": "",
        "client": 'rate-up = "20mbit"\nrate-down = "80mbit"\nrtt = "4ms"',
    })))
    check_tcp_goodput(lab.iperf3_report("client", "server", 5301), 20e6, 0.004)
    check_tcp_goodput(lab.iperf3_report("client", "server", 5302, "-R"), 80e6, 0.004)


def test_a_full_queue_on_one_lane_does_not_delay_another(labs, tmp_path):
    """Isolation: bulk traffic fills lane `busy`'s queue; pings over lane `quiet` keep their RTT."""
    lab = labs(write_topology(tmp_path, star("iso", {
        "sink": "",
        "busy": 'rate = "10mbit"\nqueue = "200ms"\nrtt = "2ms"',
        "quiet": 'rtt = "8ms"',
    })))
    server = lab.iperf3_server("sink", 5303)
    # UDP at twice the lane's rate: the queue fills whatever TCP's window would have been.
    bulk = lab.longhaul.start("exec", "--lab", lab.name, "busy", "--",
                              "iperf3", "-c", "sink", "-p", "5303", "-t", "6", "-u", "-b", "20M")
    # The busy lane's queue is full once its RTT shows the queueing delay.
    wait_until(lambda: lab.ping("busy", "sink", count=3, interval="0.1",
                                        lossless=False)["avg"] > 50,
               timeout=10, what="the busy lane's queue to fill")
    quiet = lab.ping("quiet", "sink", count=20, interval="0.05")
    # Sharing the busy lane's queue would add up to 200 ms; a CPU shared with the flood adds
    # far less than half of that to any one ping.
    assert quiet["median"] <= 8.0 + 1.0 and quiet["max"] < 8.0 + 100.0, quiet
    assert bulk.wait(timeout=20) == 0, bulk.output()
    server.wait(timeout=10)


# Three sites in a row: the middle one forwards (docs/topology.md, the chain example).
CHAIN = """
name = "chain"
[[site]]
name = "left"
[[site]]
name = "middle"
[[site]]
name = "right"
[[lane]]
a = "left"
b = "middle"
rtt = "6ms"
[[lane]]
a = "middle"
b = "right"
rtt = "10ms"
"""


def test_routed_chain_through_a_forwarding_site(labs, tmp_path):
    lab = labs(write_topology(tmp_path, CHAIN))
    # Routing is what this checks: every ping arrives, the path takes both lanes (never less
    # than 16 ms) and the typical ping adds little (the median: the middle site forwards in its
    # kernel and four engine threads share the cores, so single late pings are expected).
    for family in ("-4", "-6"):
        result = lab.ping("left", "right", count=20, family=family)
        assert result["min"] >= 16.0 - RTT_EPSILON_MS and result["median"] <= 17.0, result


def test_two_labs_at_once_and_exec_status_passes_through(labs, tmp_path):
    first = labs(write_topology(tmp_path, star("one", {"a": "", "b": ""}), "one.toml"))
    second = labs(write_topology(tmp_path, star("two", {"a": "", "b": ""}), "two.toml"))
    assert first.exec("a", "sh", "-c", "exit 7").returncode == 7
    assert second.ping("a", "b", count=5)["median"] < 1.0
    # Without --lab, exec cannot know which lab is meant.
    ambiguous = first.longhaul.run("exec", "a", "--", "true")
    # Another session's lab may be up too: the names listed include both of ours.
    listed = re.search(r"several labs are up \(([^)]*)\)", ambiguous.stderr)
    assert ambiguous.returncode != 0 and listed, ambiguous.stderr
    assert {"one", "two"} <= set(listed.group(1).split(", ")), ambiguous.stderr
    unknown = first.exec("nowhere", "true")
    assert unknown.returncode != 0 and "has no site 'nowhere' (sites: a, b)" in unknown.stderr
    same_name = first.longhaul.run("up", str(tmp_path / "one.toml"))
    assert same_name.returncode != 0 and "a lab named 'one' is already up" in same_name.stderr


def test_down_after_the_engine_is_killed_leaves_nothing(longhaul, tmp_path):
    """`down --stale` removes a lab whose engine died and leaves a live one alone."""
    path = write_topology(tmp_path, star("crash", {"a": 'rtt = "2ms"', "b": ""}))
    assert longhaul.run("up", "-q", str(path)).returncode == 0
    live = write_topology(tmp_path, star("keep", {"a": "", "b": ""}), "keep.toml")
    assert longhaul.run("up", "-q", str(live)).returncode == 0
    marker = longhaul.marker()
    sleeper = longhaul.start("exec", "--lab", "crash", "a", "--", *marker.argv)
    wait_until(marker.pids, timeout=10, what="the command in the lab to start")
    engine = read_json(LAB_STATE / "crash.json")["pid"]
    os.kill(engine, signal.SIGKILL)
    wait_until(lambda: "ENGINE GONE" in longhaul.run("status").stdout, timeout=5,
               what="status to see the engine gone")
    result = longhaul.down("--stale")
    assert result.returncode == 0, result.stderr
    assert f"removed lab crash (its engine, pid {engine}, was gone)" in result.stdout
    assert [n for n in lh_netns() if n.startswith("lh-crash")] == []
    assert not any("crash" in f for f in state_files()), state_files()
    wait_until(lambda: not marker.pids(), timeout=5, what="the command in the lab to be killed")
    sleeper.wait(timeout=10)
    status = json.loads(longhaul.run("status", "keep", "--json").stdout)[0]
    assert status["alive"], status
    assert longhaul.down("keep").returncode == 0
    assert lh_netns() == [] and state_files() == []


def test_sigterm_to_the_engine_takes_the_lab_down(longhaul, tmp_path):
    path = write_topology(tmp_path, star("term", {"a": "", "b": ""}))
    assert longhaul.run("up", "-q", str(path)).returncode == 0
    engine = read_json(LAB_STATE / "term.json")["pid"]
    os.kill(engine, signal.SIGTERM)
    wait_until(lambda: not is_alive(engine) and not state_files() and not lh_netns(),
               timeout=10, what="the engine to remove the lab")


@pytest.mark.parametrize("text, message", [
    ('[[site]]\nname = "a"\n[[site]]\nname = "b"\n[[lane]]\na = "a"\nb = "mars"\n',
     "bad.toml:5:1: lane 'a': b = 'mars' names no site or switch (known: a, b)"),
    ('[[site]]\nname = "a"\n[[site]]\nname = "b"\n[[lane]]\na = "a"\nb = "b"\nrtt = 30\n',
     "bad.toml:8:1: [[lane]]: rtt = 30 has no unit"),
    ('[[site]]\nname = "a"\n[[site]]\nname = "a"\n', "duplicate name 'a'"),
    ('[[site]]\nname = "a"\n[[site]]\nname = "b"\n[[lane]]\na = "a"\nb = "b"\n'
     'rate = "40gbit"\nrtt = "20s"\n', "cannot be buffered"),
])
def test_bad_topology_is_a_usage_error_that_creates_nothing(longhaul, tmp_path, text, message):
    path = write_topology(tmp_path, text, "bad.toml")
    result = longhaul.run("up", str(path))
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr, result.stderr
    assert lh_netns() == [] and state_files() == []

"""Integration tests of the fidelity verdict: does longhaul say when it could not keep the link
it was asked for (docs/run.md, "Fidelity")?

- An overloaded run (no rate limit, a long path, four bulk TCP streams on a 2-core machine)
  must report `degraded`, name the CPU as the cause (its threads waited for a CPU), print the
  line above the table, and `--strict` must turn the command's 0 into exit status 5.
- A quiet ping run and a run rate-limited far below what the machine carries must report `ok`.
  Other work on a shared machine can legitimately make even those late (the verdict is then
  right to say degraded, and it says the engine waited for a CPU): each gets up to three
  attempts and one ok attempt passes; when none is ok and every reason is the machine's, the
  test is skipped with the measured CPU wait, and any other reason (a drop) fails. A verdict
  that always said degraded, or judged a ping run by its single worst sample, fails on a quiet
  machine.
- An overloaded bridge stopped by Ctrl-C exits 5 with `--strict`.
- A lab lane shows the verdict in `status --json`, since its start and over the last interval.
- `longhaul bench client` through a degraded run link warns.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
from pathlib import Path

import pytest

from conftest import base_env, read_json, wait_until
from test_capture_bridge import in_switch, start_bridge, switches  # noqa: F401 (a fixture)
from test_bench import BenchServer, client_through_link

ATTEMPTS = 3


def fidelity(json_path: Path) -> dict:
    report = read_json(json_path)
    return {"overall": report["fidelity"],
            "up": report["directions"]["up"]["fidelity"],
            "down": report["directions"]["down"]["fidelity"]}


def check_consistent(direction: dict) -> None:
    """A verdict is degraded exactly when it gives reasons, and then it names a cause."""
    assert direction["verdict"] in ("ok", "degraded"), direction
    assert (direction["verdict"] == "degraded") == bool(direction["reasons"]), direction
    if direction["verdict"] == "degraded":
        assert direction["causes"], direction
        assert direction["explanation"], direction


def bulk_tcp(port: int, streams: int, seconds: int) -> str:
    return (f'exec iperf3 -c "$LONGHAUL_REMOTE" -p {port} -P {streams} -t {seconds} '
            f'-J >/dev/null')


def test_overloaded_run_is_degraded_by_cpu_and_strict_exits_5(longhaul, iperf3_server, tmp_path):
    # No rate limit, 40 ms round trip, four streams: iperf3, the kernel's receive work and
    # both engine threads want more than the two cores there are, so releases run late.
    server = iperf3_server()
    json_path = tmp_path / "run.json"
    result = longhaul.run("run", "--rtt", "40ms", "--strict", "--json", str(json_path), "--",
                          "sh", "-c", bulk_tcp(server.port, 4, 6), timeout=90)
    verdicts = fidelity(json_path)
    print(json.dumps(verdicts, indent=1))
    assert read_json(json_path)["exit_status"] == 0, result.stderr  # iperf3 itself succeeded
    assert result.returncode == 5, result.stderr
    assert verdicts["overall"]["verdict"] == "degraded"
    assert verdicts["up"]["verdict"] == "degraded", verdicts["up"]
    for name in ("up", "down"):
        check_consistent(verdicts[name])
    up = verdicts["up"]
    assert up["cpu"]["measured"] and up["cpu_wait_share"] >= 0.05, up
    assert "cpu" in [cause["cause"] for cause in up["causes"]], up["causes"]
    assert up["late_over_p999_frames"] > 0.001 * up["frames_released"], up
    # The line comes before the table, and says what to do.
    lines = result.stderr.splitlines()
    degraded = [i for i, line in enumerate(lines)
                if line.startswith("longhaul: FIDELITY DEGRADED on up: ")]
    table = [i for i, line in enumerate(lines) if line.startswith("dir ")]
    assert degraded and table and degraded[0] < table[0], result.stderr
    assert "waited for a CPU" in lines[degraded[0]] and "--cpus" in lines[degraded[0]]


def test_strict_keeps_a_failing_commands_own_status(longhaul, tmp_path):
    # Nothing to judge but the command's failure: its own status wins over --strict.
    result = longhaul.run("run", "-q", "--strict", "--", "sh", "-c", "exit 3", timeout=30)
    assert result.returncode == 3, result.stderr


def expect_ok_unless_the_machine_is_busy(run_once) -> None:
    """Runs `run_once` (returning its fidelity) until a run is ok, at most ATTEMPTS times.

    When no attempt is ok, every degraded direction must blame the machine (its threads waited
    for a CPU, or its timer floor), never a drop: then other work on this shared machine took
    the engine's CPU, the verdict was right to say so, and the test is skipped with the
    figures. Any other reason fails."""
    seen = []
    for _ in range(ATTEMPTS):
        verdicts = run_once()
        for name in ("up", "down"):
            check_consistent(verdicts[name])
        seen.append(verdicts)
        if verdicts["overall"]["verdict"] == "ok":
            return
    waits = []
    for verdicts in seen:
        for name in ("up", "down"):
            direction = verdicts[name]
            if direction["verdict"] != "degraded":
                continue
            causes = {cause["cause"] for cause in direction["causes"]}
            assert causes <= {"cpu", "machine"}, json.dumps(seen, indent=1)
            waits.append(round(direction["cpu_wait_share"], 2))
    pytest.skip(f"the machine was too busy for an ok verdict in {ATTEMPTS} attempts: the "
                f"engine's threads waited for a CPU {waits} of their time; rerun when it is quiet")


def test_quiet_ping_run_is_ok(longhaul, tmp_path):
    def run_once() -> dict:
        json_path = tmp_path / "ping.json"
        script = ('ping -c 1 -W 2 "$LONGHAUL_REMOTE" >/dev/null; '
                  'ping -q -c 50 -i 0.05 -W 1 "$LONGHAUL_REMOTE"')
        result = longhaul.run("run", "-q", "--rtt", "80ms", "--strict", "--json",
                              str(json_path), "--", "sh", "-c", script, timeout=60)
        verdicts = fidelity(json_path)
        # --strict agrees with the verdict.
        assert result.returncode == (0 if verdicts["overall"]["verdict"] == "ok" else 5), \
            result.stderr
        assert verdicts["up"]["frames_released"] >= 50, verdicts["up"]
        return verdicts

    expect_ok_unless_the_machine_is_busy(run_once)


def test_rate_limited_run_far_below_capacity_is_ok(longhaul, iperf3_server, tmp_path):
    def run_once() -> dict:
        json_path = tmp_path / "rate.json"
        server = iperf3_server()
        result = longhaul.run("run", "-q", "--rtt", "80ms", "--rate", "20mbit", "--json",
                              str(json_path), "--", "sh", "-c", bulk_tcp(server.port, 1, 4),
                              timeout=60)
        assert result.returncode == 0, result.stderr
        verdicts = fidelity(json_path)
        # The bottleneck's own drops are what the link was asked for, never a reason.
        assert verdicts["up"]["frames_released"] > 100, verdicts["up"]
        return verdicts

    expect_ok_unless_the_machine_is_busy(run_once)


def test_bench_client_through_an_overloaded_run_warns(longhaul, tmp_path):
    server = BenchServer(longhaul)
    result = client_through_link(longhaul, ["--rtt", "40ms"], server.port, "-P", "4", "-t", "5",
                                 "--no-progress")
    server.wait(timeout=30)
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"^longhaul: bench: warning: FIDELITY DEGRADED on (up|down): ",
                     result.stderr, re.M), result.stderr
    assert "machine's limits" in result.stderr


def test_lab_lane_shows_the_verdict_in_status(longhaul, tmp_path):
    path = tmp_path / "fid.toml"
    path.write_text('name = "fid"\n[[site]]\nname = "a"\n[[site]]\nname = "b"\n'
                    '[[lane]]\na = "a"\nb = "b"\nrtt = "20ms"\n')
    path.chmod(0o644)
    up = longhaul.run("up", str(path), timeout=60)
    assert up.returncode == 0, up.stdout + up.stderr
    try:
        ping = longhaul.run("exec", "--lab", "fid", "a", "--", "sh", "-c",
                            "ping -c 1 -W 3 b >/dev/null; ping -q -c 20 -i 0.05 b", timeout=60)
        assert ping.returncode == 0, ping.stdout + ping.stderr

        def lane_fidelity():
            result = longhaul.run("status", "fid", "--json")
            status = json.loads(result.stdout)[0]
            lane = status.get("counters", {}).get("lanes", {}).get("a-b") or \
                next(iter(status.get("counters", {}).get("lanes", {}).values()), None)
            if not lane or lane["up"]["fidelity"]["since_start"]["frames_released"] < 20:
                return None
            return lane

        lane = wait_until(lane_fidelity, timeout=10, what="status to show the pings' verdict")
        for direction in ("up", "down"):
            for span in ("since_start", "last_interval"):
                check_consistent(lane[direction]["fidelity"][span])
            since = lane[direction]["fidelity"]["since_start"]
            assert since["thresholds"] == {"late_p99_ns": 100_000, "late_p999_ns": 1_000_000}
        text = longhaul.run("status", "fid").stdout
        assert re.search(r"fidelity: up (ok|DEGRADED), down (ok|DEGRADED) since start", text), text
    finally:
        assert longhaul.run("down", "fid").returncode == 0


def test_overloaded_bridge_with_strict_exits_5(longhaul, switches, tmp_path):
    json_path = tmp_path / "bridge.json"
    bridge = start_bridge(longhaul, "--rtt", "40ms", "--strict", "--json", str(json_path))
    server = subprocess.Popen(["ip", "netns", "exec", "lh-sw2", "iperf3", "-s", "-1", "-p",
                               "5322"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              env=base_env())
    try:
        wait_until(lambda: "5322" in in_switch("b", "ss", "-Hltn").stdout, timeout=10,
                   what="the iperf3 server to listen")
        # The load is the point, not iperf3's report: what crossed is checked below.
        in_switch("a", "iperf3", "-c", "198.18.250.2", "-p", "5322", "-P", "4", "-t", "5",
                  timeout=60)
    finally:
        server.kill()
        server.wait(timeout=10)
    bridge.send_signal(signal.SIGINT)
    status = bridge.wait(timeout=15)
    report = read_json(json_path)
    print(json.dumps(report["fidelity"], indent=1))
    assert report["lanes"][0]["directions"]["up"]["frames_out"] > 10_000, report["lanes"][0]
    assert report["fidelity"]["verdict"] == "degraded", report["fidelity"]
    assert status == 5, bridge.output()
    assert re.search(r"^longhaul: FIDELITY DEGRADED on lane 0 (up|down): ", bridge.stderr(),
                     re.M), bridge.stderr()
    for direction in ("up", "down"):
        check_consistent(report["lanes"][0]["directions"][direction]["fidelity"])

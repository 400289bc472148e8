"""--cpus and --realtime place the engine's lane-direction threads (run and labs)."""

from __future__ import annotations

import json
import os
import re


def engine_threads(pid: int) -> list[dict]:
    """Threads of process `pid` with their allowed CPUs and scheduling policy."""
    threads = []
    for tid in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{tid}/status") as status:
            allowed = re.search(r"^Cpus_allowed_list:\s*(\S+)", status.read(), re.M).group(1)
        with open(f"/proc/{pid}/task/{tid}/sched") as sched:
            policy = int(re.search(r"^policy\s*:\s*(\d+)", sched.read(), re.M).group(1))
        threads.append({"tid": int(tid), "cpus": allowed, "policy": policy})
    return threads


def test_run_pins_both_directions_and_makes_them_realtime(longhaul):
    # The command reads longhaul's threads while the link is up: its parent is longhaul.
    script = ('for t in /proc/$PPID/task/*; do '
              'echo "$(grep Cpus_allowed_list $t/status | cut -f2) '
              '$(grep ^policy $t/sched | tr -d " " | cut -d: -f2)"; done')
    result = longhaul.run("run", "--cpus", "0", "--realtime", "--quiet", "--", "sh", "-c",
                          script)
    assert result.returncode == 0, result.stderr
    rows = [line.split() for line in result.stdout.splitlines()]
    pinned_fifo = [row for row in rows if row == ["0", "1"]]  # CPU 0, SCHED_FIFO (1)
    assert len(pinned_fifo) == 2, rows  # exactly the two direction threads


def test_bad_cpu_list_is_a_usage_error(longhaul):
    result = longhaul.run("run", "--cpus", "3-1", "--", "true")
    assert result.returncode == 2
    assert "--cpus: '3-1' is not a CPU list" in result.stderr


def test_lab_threads_go_round_robin_over_the_list(longhaul, tmp_path):
    path = tmp_path / "pin.toml"
    path.write_text('name = "pin"\n[[site]]\nname = "a"\n[[site]]\nname = "b"\n'
                    '[[lane]]\na = "a"\nb = "b"\n')
    assert longhaul.run("up", "-q", "--cpus", "1,0", str(path)).returncode == 0
    try:
        with open("/run/longhaul/labs/pin.json") as state:
            engine = json.load(state)["pid"]
        cpus = sorted(t["cpus"] for t in engine_threads(engine) if t["cpus"] in ("0", "1"))
        assert cpus == ["0", "1"], engine_threads(engine)
    finally:
        assert longhaul.run("down", "pin").returncode == 0

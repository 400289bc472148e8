"""Hostile inputs and crashes (issue 15): bounded files, checks before side effects, state files
read defensively, and `kill -9` of `up` and `run` at random points followed by `status` and
`down --stale`.

Every refusal is checked for its message and exit status, and for leaving nothing behind (the
autouse `longhaul` fixture fails a test that leaves a namespace, link, state file or process).
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import time
from pathlib import Path

import pytest

from conftest import (LAB_STATE_DIR, STATE_DIR, is_alive, lh_links, lh_netns, state_files,
                      wait_until)

EXIT_USAGE = 2
EXIT_ENVIRONMENT = 3


def star(name: str, sites: list[str], lane: str = "") -> str:
    text = f'name = "{name}"\n'
    for site in sites:
        text += f'[[site]]\nname = "{site}"\n'
    text += '[[switch]]\nname = "hub"\n'
    for site in sites:
        text += f'[[lane]]\na = "{site}"\nb = "hub"\n{lane}\n'
    return text


def write(tmp_path: Path, name: str, content) -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    path.chmod(0o644)
    return path


def others_live() -> tuple[set[str], set[str]]:
    """State files and name prefixes of runs and labs that started during the test but belong
    to a live process that is not ours (other sessions share this machine)."""
    files, prefixes = set(), set()
    for path in state_files():
        if not path.endswith(".json") or path.endswith(".counters.json"):
            continue
        try:
            state = json.loads(Path(path).read_text())
        except (OSError, ValueError):
            continue
        if isinstance(state, dict) and isinstance(state.get("pid"), int) and \
                is_alive(state["pid"]):
            stem = Path(path).stem
            files.add(path)
            files.add(str(Path(path).with_suffix(".log")))
            prefixes.add(f"lh-{stem}-" if path.startswith(str(STATE_DIR)) is False else
                         f"lh-{stem}")
    return files, prefixes


def assert_nothing_created() -> None:
    files, prefixes = others_live()

    def ours(names):
        return [n for n in names if n not in files and
                not any(n == p or n.startswith(p) for p in prefixes)]
    left = (ours(lh_netns()), ours(lh_links()), ours(state_files()))
    assert left == ([], [], []), left


def assert_printable(text: str) -> None:
    """No raw control byte (but newline and tab) reaches the terminal."""
    bad = [c for c in text if (ord(c) < 0x20 and c not in "\n\t") or ord(c) == 0x7f
           or c == "\ufffd"]
    assert not bad, repr(text)


# ---------------------------------------------------------------------------------------------
# Finding 1: run's buffers are checked against memory before anything is built.
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("flags", [
    ["--delay", "60s"],
    ["--delay", "60s", "--rate", "1gbit"],
    ["--rtt", "120s", "--rate", "10gbit"],
    ["--netem", "delay 1000s"],
    ["--queue", "1TB", "--rate", "10gbit"],
])
def test_run_refuses_buffers_beyond_memory_before_building(longhaul, flags):
    result = longhaul.run("run", *flags, "--", "true")
    assert result.returncode == EXIT_USAGE, result.stderr
    assert "cannot be buffered" in result.stderr and "fits" in result.stderr, result.stderr
    assert "bad_alloc" not in result.stderr and "fork" not in result.stderr
    assert_nothing_created()


def test_run_that_fits_starts_its_command_even_with_gigabytes_of_buffers(longhaul):
    """Buffers that pass the memory check never stop the command from starting: `--delay 2s`
    (16 GB reserved for 10 Gbit/s each way) used to fail `fork` with ENOMEM, as the child was
    charged for the engine's buffers; and the rate a refusal suggests is one that runs."""
    check = longhaul.run("run", "--check", "--delay", "2s", "--", "true")
    if check.returncode == 0:  # this machine has the memory for it
        result = longhaul.run("run", "-q", "--delay", "2s", "--", "sh", "-c", "echo ran")
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == "ran" and "fork" not in result.stderr, result.stderr
    refused = longhaul.run("run", "--delay", "20s", "--", "true")
    assert refused.returncode == EXIT_USAGE, refused.stderr
    suggested = re.search(r"give --rate (\S+) or lower", refused.stderr)
    assert suggested, refused.stderr
    result = longhaul.run("run", "-q", "--delay", "20s", "--rate", suggested.group(1), "--",
                          "sh", "-c", "echo ran")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ran", result.stdout
    assert_nothing_created()


def test_run_check_prints_the_plan_and_creates_nothing(longhaul):
    result = longhaul.run("run", "--check", "--rtt", "80ms", "--rate", "500mbit", "--", "true")
    assert result.returncode == 0, result.stderr
    assert "valid (nothing was created)" in result.stdout
    assert "up   (command -> remote): delay 40 ms" in result.stdout, result.stdout
    assert "buffers: up" in result.stdout and "available" in result.stdout, result.stdout
    assert_nothing_created()
    bad = longhaul.run("run", "--check", "--delay", "60s", "--", "true")
    assert bad.returncode == EXIT_USAGE and "cannot be buffered" in bad.stderr
    missing = longhaul.run("run", "--check", "--", "no-such-command-longhaul")
    assert missing.returncode == 127 and "command not found" in missing.stderr
    assert_nothing_created()


def test_bridge_check_prints_the_plan_and_touches_nothing(longhaul):
    result = longhaul.run("bridge", "--check", "--lane", "a=lhx0,b=lhx1", "--rtt", "20ms",
                          "--rate", "1gbit")
    assert result.returncode == 0, result.stderr
    assert "lane lhx0 <-> lhx1" in result.stdout and "a -> b: delay 10 ms" in result.stdout
    assert "buffers: a -> b" in result.stdout, result.stdout
    bad = longhaul.run("bridge", "--check", "--lane", "a=lhx0,b=lhx0")
    assert bad.returncode == EXIT_USAGE, bad.stderr
    huge = longhaul.run("bridge", "--check", "--lane", "a=lhx0,b=lhx1", "--delay", "60s")
    assert huge.returncode == EXIT_USAGE and "cannot be buffered" in huge.stderr
    assert_nothing_created()


# ---------------------------------------------------------------------------------------------
# Finding 2: state files read defensively; status never breaks; down --stale cleans them.
# ---------------------------------------------------------------------------------------------

BROKEN_LABS = {
    # A lab whose `up` was killed before the description was written (the reproducer).
    "lhzrepro": '{"description":null,"file":"x","name":"lhzrepro","namespaces":["lh-lhzrepro-a"],'
                '"pid":999999999,"slot":3,"start_time":1}',
    "lhztrunc": '{"name": "lhztrunc", "slot": 4, "pi',
    "lhzother": '{"schema": "longhaul.lab-state/99", "name": "lhzother"}',
    "lhznulls": '{"name": null, "slot": null, "pid": null, "start_time": null, "namespaces": null}',
    "lhzempty": "",
}


def test_broken_state_files_never_break_status_and_down_stale_removes_them(longhaul):
    LAB_STATE_DIR.mkdir(parents=True, exist_ok=True)
    STATE_DIR.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in BROKEN_LABS.items():
        path = LAB_STATE_DIR / f"{name}.json"
        path.write_text(text)
        written.append(path)
    run_file = next(STATE_DIR / f"r{i}.json" for i in range(250, 1, -1)
                    if not (STATE_DIR / f"r{i}.json").exists())
    run_file.write_text("null")
    written.append(run_file)
    leftover = LAB_STATE_DIR / "lhzrepro.json.4194304.tmp"  # a killed writer's temporary
    leftover.write_text("{")
    old_leftover = LAB_STATE_DIR / "lhzrepro.json.tmp"  # the older form, without a pid
    old_leftover.write_text("{")
    os.utime(old_leftover, (time.time() - 60, time.time() - 60))  # abandoned a minute ago
    written += [leftover, old_leftover]
    try:
        status = longhaul.run("status")
        assert status.returncode == 0, status.stderr
        assert "lab lhzrepro from x: ENGINE GONE" in status.stdout, status.stdout
        assert "killed while being set up" in status.stdout
        for name in ("lhztrunc", "lhzother", "lhznulls", "lhzempty"):
            assert f"{name}.json" in status.stderr, status.stderr
        assert "another version of longhaul" in status.stderr
        assert f"{run_file}" in status.stderr
        assert "down --stale" in status.stderr
        one = longhaul.run("status", "lhzrepro")
        assert one.returncode == 0, one.stderr
        as_json = longhaul.run("status", "--json")
        assert as_json.returncode == 0 and json.loads(as_json.stdout) is not None
        down = longhaul.down("--stale")
        assert down.returncode == 0, down.stderr
        for path in written:
            assert not path.exists(), (path, down.stdout)
        assert "removed lab lhzrepro" in down.stdout, down.stdout
        assert "another version of longhaul" in down.stdout
    finally:
        for path in written:
            path.unlink(missing_ok=True)


# ---------------------------------------------------------------------------------------------
# Finding 3: file inputs are bounded, regular files, refused with the reason and at once.
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("args", [
    ["up", "--check", "/dev/zero"],
    ["run", "--trace-down", "/dev/zero", "--", "true"],
    ["bridge", "--check", "--topology", "/dev/zero"],
])
def test_endless_files_are_refused_at_once(longhaul, args):
    result = longhaul.run(*args, timeout=10)
    assert result.returncode == EXIT_USAGE, result.stderr
    assert "/dev/zero: is a character device; give a regular" in result.stderr, result.stderr
    assert_nothing_created()


def test_huge_sparse_files_are_refused_from_their_size(longhaul, tmp_path):
    sparse = tmp_path / "huge.toml"
    with open(sparse, "wb") as stream:
        stream.truncate(1 << 30)
    started = time.monotonic()
    result = longhaul.run("up", "--check", str(sparse), timeout=10)
    assert result.returncode == EXIT_USAGE
    assert "1073741824 bytes, more than 4 MiB, the limit for a topology file" in result.stderr
    trace = longhaul.run("run", "--trace-down", str(sparse), "--", "true", timeout=10)
    assert trace.returncode == EXIT_USAGE and "the limit for a trace file" in trace.stderr
    # Refused from the size alone: nothing near a second, let alone the 11 s of reading it.
    assert time.monotonic() - started < 10


@pytest.mark.parametrize("args", [
    ["up", "--check", "{dir}"],
    ["run", "--trace-down", "{dir}", "--", "true"],
    ["run", "--trace-up", "{dir}", "--", "true"],
    ["run", "--schedule", "{dir}", "--", "true"],
    ["run", "--delay", "10ms", "--jitter", "1ms", "--distribution", "{dir}", "--", "true"],
])
def test_a_directory_given_as_a_file_is_a_directory(longhaul, tmp_path, args):
    result = longhaul.run(*[a.format(dir=tmp_path) for a in args])
    assert result.returncode == EXIT_USAGE, result.stderr
    assert f"{tmp_path}: is a directory" in result.stderr, result.stderr
    assert_nothing_created()


def test_binary_bytes_in_files_are_never_echoed_raw(longhaul, tmp_path):
    junk = write(tmp_path, "junk", b"\x00\x1b[2J\xff\xfe\x07 100mbit\n")
    for args in (["run", "--schedule", str(junk), "--", "true"],
                 ["run", "--trace-down", str(junk), "--", "true"],
                 ["run", "--distribution", str(junk), "--delay", "10ms", "--jitter", "1ms",
                  "--", "true"],
                 ["up", "--check", str(junk)]):
        result = longhaul.run(*args)
        assert result.returncode == EXIT_USAGE, (args, result.stderr)
        assert_printable(result.stderr)
    assert_nothing_created()


# ---------------------------------------------------------------------------------------------
# Finding 4: `down LAB` of a lab whose engine died.
# ---------------------------------------------------------------------------------------------

def test_down_of_a_lab_whose_engine_died_exits_0_with_one_message(longhaul, tmp_path):
    path = write(tmp_path, "lab.toml", star("lhzdead", ["a", "b"]))
    assert longhaul.run("up", "-q", str(path)).returncode == 0
    engine = json.loads((LAB_STATE_DIR / "lhzdead.json").read_text())["pid"]
    os.kill(engine, signal.SIGKILL)
    wait_until(lambda: "ENGINE GONE" in longhaul.run("status", "lhzdead").stdout, timeout=5,
               what="status to see the engine gone")
    result = longhaul.down("lhzdead")
    assert result.returncode == 0, result.stdout + result.stderr
    # One message (runs of other sessions may add "left live run" lines), no error after it.
    assert result.stdout.splitlines()[0] == \
        f"removed lab lhzdead (its engine, pid {engine}, was gone)", result.stdout
    assert result.stdout.count("lhzdead") == 1, result.stdout
    assert result.stderr == ""
    assert_nothing_created()


# ---------------------------------------------------------------------------------------------
# Finding 5: output paths are checked before the command runs.
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("target", ["/nonexistent/x.json", "/dev/full", "{dir}"])
def test_run_json_path_is_checked_before_the_command_runs(longhaul, tmp_path, target):
    target = target.format(dir=tmp_path)
    result = longhaul.run("run", "-q", "--json", target, "--", "sh", "-c", "echo ran")
    assert result.returncode == EXIT_USAGE, result.stderr
    assert "ran" not in result.stdout
    assert result.stderr.startswith(f"longhaul: --json {target}: "), result.stderr
    assert_nothing_created()


def test_capture_path_is_checked_before_anything(longhaul, tmp_path):
    result = longhaul.run("capture", "nolane", "-w", str(tmp_path))
    assert result.returncode == EXIT_USAGE and "is a directory" in result.stderr, result.stderr


# ---------------------------------------------------------------------------------------------
# Finding 6: the smaller ones.
# ---------------------------------------------------------------------------------------------

def test_a_killed_run_is_not_live_while_it_is_a_zombie(longhaul):
    marker = longhaul.marker()
    run = longhaul.start("run", "-q", "--", *marker.argv)
    wait_until(marker.pids, timeout=20, what="the command to start")
    os.kill(run.pid, signal.SIGKILL)
    # Not reaped: the run's process is a zombie until we poll it.
    wait_until(lambda: Path(f"/proc/{run.pid}/stat").read_text().split(") ")[1][0] == "Z",
               timeout=5, what="the run to become a zombie")
    status = longhaul.run("status")
    assert "PROCESS GONE" in status.stdout, status.stdout
    down = longhaul.down("--stale")
    assert f"(pid {run.pid} is gone)" in down.stdout, down.stdout
    assert f"(pid {run.pid}); use --all" not in down.stdout, down.stdout
    wait_until(lambda: not marker.pids(), timeout=5, what="the command to be killed")
    run.poll()
    assert_nothing_created()


def test_an_empty_command_names_what_is_wrong(longhaul):
    result = longhaul.run("run", "--", "")
    assert result.returncode == EXIT_USAGE, result.stderr
    assert "the command after -- is an empty string" in result.stderr, result.stderr
    assert_nothing_created()


def test_a_missing_command_is_found_missing_before_the_link_is_built(longhaul):
    result = longhaul.run("run", "--", "no-such-command-longhaul")
    assert result.returncode == 127, result.stderr
    assert "command not found" in result.stderr and "no-such-command-longhaul" in result.stderr
    assert_nothing_created()


@pytest.mark.parametrize("cpus, message", [("", "--cpus: "), ("4000", "CPU 4000 is not one"),
                                           (",", "--cpus: ")])
def test_cpu_lists_are_checked_before_building(longhaul, cpus, message):
    result = longhaul.run("run", "--cpus", cpus, "--", "true")
    assert result.returncode == EXIT_USAGE, result.stderr
    assert message in result.stderr, result.stderr
    assert_nothing_created()


def test_non_root_is_told_what_root_is_needed_for(longhaul_bin, tmp_path):
    import subprocess

    def as_nobody(*args):
        return subprocess.run([str(longhaul_bin), *args], capture_output=True, text=True,
                              timeout=30, user=65534, group=65534, extra_groups=[],
                              env={"PATH": "/usr/bin:/bin", "LC_ALL": "C"}, cwd="/")

    if as_nobody("--version").returncode != 0:
        pytest.skip("the binary is not reachable for the nobody user")
    # Labs work without root (docs/rootless.md); run and bridge say why they need it.
    run = as_nobody("run", "--rtt", "10ms", "--", "true")
    assert run.returncode == EXIT_ENVIRONMENT, run.stderr
    assert "run needs root" in run.stderr and "sudo" in run.stderr, run.stderr
    bridge = as_nobody("bridge", "--lane", "a=lh-x,b=lh-y")
    assert bridge.returncode == EXIT_ENVIRONMENT, bridge.stderr
    assert "bridge needs root" in bridge.stderr, bridge.stderr
    assert_nothing_created()


# ---------------------------------------------------------------------------------------------
# Fault tests: `kill -9` of `up` and of `run` at random points in their setup, then `status`
# (works, and shows every other lab) and `down --stale` (leaves nothing of the killed one).
# ---------------------------------------------------------------------------------------------

FAULT_TRIES = 8           # per command; each try is bounded by the deadlines below
FAULT_BUDGET_S = 120      # and all tries of one test by this


def root_sysctls() -> dict[str, str]:
    """The root namespace's interface-wide and forwarding settings (setup changes only those
    of namespaces and of the links it creates, which go with them)."""
    values = {}
    for directory in ("/proc/sys/net/ipv4/conf/all", "/proc/sys/net/ipv4/conf/default",
                      "/proc/sys/net/ipv6/conf/all", "/proc/sys/net/ipv6/conf/default"):
        for entry in sorted(Path(directory).iterdir()):
            try:
                values[str(entry)] = entry.read_text()
            except OSError:
                pass  # write-only or refused entries say nothing about us
    values["ip_forward"] = Path("/proc/sys/net/ipv4/ip_forward").read_text()
    return values


def processes_with_argv(argv: list[str]) -> list[int]:
    from conftest import live_processes
    return live_processes(lambda found: found == argv)


def kill_at(process, seconds: float) -> None:
    """SIGKILL `process` `seconds` after it started (a random point in its setup: the delay is
    the fault injected, not a synchronisation), unless it finished already."""
    deadline = time.monotonic() + seconds
    while process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.001)
    if process.poll() is None:
        os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


def test_kill_9_of_up_at_random_points_leaves_nothing_after_down_stale(longhaul, tmp_path):
    rng = random.Random(int.from_bytes(os.urandom(8), "little"))
    keep = write(tmp_path, "keep.toml", star("lhzkeep", ["a", "b"]))
    assert longhaul.run("up", "-q", str(keep)).returncode == 0
    before = root_sysctls()
    path = write(tmp_path, "victim.toml", star("lhzvict", ["a", "b", "c"], 'rtt = "10ms"'))
    argv = [str(longhaul.binary), "up", "-q", str(path)]
    # How long a whole `up` takes here: the kill points are spread over it.
    started = time.monotonic()
    assert longhaul.run("up", "-q", str(path)).returncode == 0
    setup_s = time.monotonic() - started
    assert longhaul.down("lhzvict").returncode == 0
    budget = time.monotonic() + FAULT_BUDGET_S
    outcomes = []
    for _ in range(FAULT_TRIES):
        if time.monotonic() > budget:
            break
        point = rng.uniform(0, setup_s * 1.1)
        kill_at(longhaul.start("up", "-q", str(path)), point)
        # The engine dies with `up` until the lab is up; after that it is a live lab.
        state = LAB_STATE_DIR / "lhzvict.json"

        def settled() -> bool:
            live = processes_with_argv(argv)
            if not live:
                return True
            try:
                return json.loads(state.read_text())["pid"] in live and len(live) == 1
            except (OSError, ValueError, KeyError):
                return False
        wait_until(settled, timeout=10, what="the killed up's engine to die or be the lab's")
        status = longhaul.run("status")
        assert status.returncode == 0, (point, status.stderr)
        assert "lab lhzkeep from" in status.stdout and "up (engine pid" in status.stdout
        down = longhaul.down("--stale")
        assert down.returncode == 0, (point, down.stdout, down.stderr)
        if state.exists():
            outcomes.append("completed")
            assert "lhzvict" in longhaul.run("status", "lhzvict").stdout
            assert longhaul.down("lhzvict").returncode == 0
        else:
            outcomes.append("killed")
        assert [n for n in lh_netns() if n.startswith("lh-lhzvict")] == [], (point, lh_netns())
        assert not any("lhzvict" in f for f in state_files()), (point, state_files())
        assert not list(LAB_STATE_DIR.glob("lhzvict*")), (point, list(LAB_STATE_DIR.iterdir()))
        assert processes_with_argv(argv) == [], point
    assert "killed" in outcomes, outcomes
    assert root_sysctls() == before
    assert longhaul.down("lhzkeep").returncode == 0


def test_kill_9_of_run_at_random_points_leaves_nothing_after_down_stale(longhaul):
    rng = random.Random(int.from_bytes(os.urandom(8), "little"))
    before = root_sysctls()
    marker = longhaul.marker()
    started = time.monotonic()
    first = longhaul.start("run", "-q", "--rtt", "10ms", "--", *marker.argv)
    wait_until(marker.pids, timeout=20, what="the command to start")
    setup_s = time.monotonic() - started
    first.stop()
    budget = time.monotonic() + FAULT_BUDGET_S
    for _ in range(FAULT_TRIES):
        if time.monotonic() > budget:
            break
        point = rng.uniform(0, setup_s * 1.1)
        kill_at(longhaul.start("run", "-q", "--rtt", "10ms", "--", *marker.argv), point)
        status = longhaul.run("status")
        assert status.returncode == 0, (point, status.stderr)
        down = longhaul.down("--stale")
        assert down.returncode == 0, (point, down.stdout, down.stderr)
        wait_until(lambda: not marker.pids(), timeout=5, what="the orphaned command to be killed")
        assert_nothing_created()
        assert not list(STATE_DIR.glob("*.tmp")), list(STATE_DIR.iterdir())
    assert root_sysctls() == before

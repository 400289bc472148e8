"""`longhaul set` and `longhaul watch` against a running lab (docs/api.md, "From the command
line"): a live RTT change that ping sees, refusals that change nothing, the watch table, and
watch noticing that the lab's engine went away."""
from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import select
import signal
import statistics
import struct
import sys
import termios
import time

import pytest

from conftest import LAB_STATE_DIR, REPO_ROOT, RTT_EPSILON_MS, base_env, longhaul_binary, \
    wait_until

sys.path.insert(0, str(REPO_ROOT / "python"))
from longhaul_client import ApiError, Lab  # noqa: E402

pytest_plugins = ["longhaul_pytest"]

LAB = {"name": "setwatch", "site": [{"name": "hq"}, {"name": "east"}, {"name": "west"}],
       "switch": [{"name": "hub"}],
       "lane": [{"a": "hq", "b": "hub", "name": "hq"},
                {"a": "east", "b": "hub", "name": "east", "rtt": "40ms", "rate": "100mbit"},
                {"a": "west", "b": "hub", "name": "west", "rtt": "20ms", "rate": "100mbit",
                 "loss": "0.1%"}]}


pytestmark = pytest.mark.usefixtures("client_env")


def ping_rtts(lab: Lab, source: str, target: str, count: int) -> list[float]:
    result = lab.exec(source, "ping", "-n", "-c", str(count), "-i", "0.05", "-W", "2", target)
    assert result.returncode == 0, result.stdout + result.stderr
    return [float(m) for m in re.findall(r"time=([\d.]+) ms", result.stdout)]


def configs(lab: Lab) -> dict:
    return {name: (lane["up"]["config"], lane["down"]["config"])
            for name, lane in lab.lanes().items()}


def test_set_changes_the_rtt_that_ping_sees(longhaul, longhaul_lab):
    lab = longhaul_lab(LAB)
    before = ping_rtts(lab, "hq", "east", 5)
    assert 40.0 - RTT_EPSILON_MS <= min(before) <= 41.5, before
    # Lower (a longer delay at this rate could need more buffer than `up` reserved).
    result = longhaul.run("set", lab.name, "east", "--rtt", "10ms")
    assert result.returncode == 0, result.stdout + result.stderr
    line = result.stdout.strip()
    assert re.fullmatch(r"lab setwatch lane east: change \d+, rtt 10ms, at [\d.]+ s of lab time",
                        line), line
    # `set` returns once the change is in force: every ping after it has the new round trip.
    # (None has the old one; a late wake-up on a loaded 2-vCPU VM may add a few ms to one.)
    after = ping_rtts(lab, "hq", "east", 10)
    assert all(10.0 - RTT_EPSILON_MS <= rtt < 40.0 - RTT_EPSILON_MS for rtt in after), after
    assert statistics.median(after) <= 11.5, after
    east = lab.lane("east")
    assert east["up"]["config"]["delay_s"] == pytest.approx(0.005)
    assert east["down"]["config"]["delay_s"] == pytest.approx(0.005)
    # `status` asks the engine: the configuration in force, and counters of this instant.
    status = longhaul.run("status", lab.name)
    assert status.returncode == 0, status.stderr
    assert re.search(r"^ +now \(changed live\): up 5 ?ms, .*; down 5 ?ms, ", status.stdout,
                     re.M), status.stdout
    live = json.loads(longhaul.run("status", lab.name, "--json").stdout)[0]["live"]
    assert live["east"]["up"]["config"]["delay_s"] == pytest.approx(0.005), live["east"]
    assert live["east"]["up"]["counters"]["packets_out"] >= 15, live["east"]
    assert status.stdout.count("now (changed live)") == 1, status.stdout  # east's, no other


def test_set_one_direction_loss_and_json_answer(longhaul, longhaul_lab):
    lab = longhaul_lab(LAB)
    result = longhaul.run("set", lab.name, "west", "--down", "--loss", "2%", "--rate", "50mbit",
                          "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    answer = json.loads(result.stdout)
    assert answer["changes"][0]["lane"] == "west" and answer["change"] >= 1, answer
    west = lab.lane("west")
    assert west["down"]["config"]["loss"] == pytest.approx(0.02)
    assert west["down"]["config"]["rate_bps"] == 50_000_000
    assert west["up"]["config"]["loss"] == pytest.approx(0.001)  # the other direction kept
    assert west["up"]["config"]["rate_bps"] == 100_000_000


def test_set_without_the_lab_name_takes_the_only_lab(longhaul, longhaul_lab):
    lab = longhaul_lab(LAB)
    result = longhaul.run("set", "east", "--rtt", "20ms")
    if "several labs are up" in result.stderr:
        # Another session's lab is up on this machine (they come and go): the choice is not
        # clear, and the message names the labs and how to name one.
        assert result.returncode == 4, result.stderr
        assert lab.name in result.stderr and "longhaul set LAB LANE" in result.stderr, \
            result.stderr
        assert lab.lane("east")["up"]["config"]["delay_s"] == pytest.approx(0.020)
        return
    assert result.returncode == 0, result.stdout + result.stderr
    assert lab.lane("east")["up"]["config"]["delay_s"] == pytest.approx(0.010)


@pytest.mark.parametrize("flags,words", [
    (["east", "--jitter", "5ms"], ["--jitter cannot change while the lab runs", "restart"]),
    (["east", "--qdisc", "codel"], ["--qdisc cannot change while the lab runs"]),
    (["east", "--speed", "1mbit"], ["unknown option or argument: ", "--speed",
                                    "longhaul set --help"]),
    (["east", "--rtt", "fast"], ["--rtt 'fast'"]),
    (["east", "--up", "--rtt", "5ms"], ["--rtt is for both directions", "--delay"]),
    (["east", "--rtt", "5ms", "--delay-up", "1ms"], ["--rtt and --delay-up both set"]),
    (["east"], ["nothing to change on lane 'east'"]),
    (["mars", "--rtt", "5ms"], ["no lane named \"mars\"", "east"]),  # the server's 404
    (["hq", "--loss", "1%"], ["without independent loss"]),  # the server's 409
])
def test_a_refused_set_exits_2_with_the_reason_and_changes_nothing(longhaul, longhaul_lab,
                                                                   flags, words):
    lab = longhaul_lab(LAB)
    before = configs(lab)
    result = longhaul.run("set", lab.name, *flags)
    assert result.returncode == 2, result.stdout + result.stderr
    for word in words:
        assert word in result.stderr, result.stderr
    assert result.stdout == "", result.stdout
    assert configs(lab) == before


def test_a_change_the_buffers_cannot_hold_is_refused_with_the_servers_words(longhaul,
                                                                            longhaul_lab):
    lab = longhaul_lab(LAB)
    before = configs(lab)
    with pytest.raises(ApiError) as error:
        lab.request("PATCH", "/v1/lanes/east", {"rtt": "30s"})
    assert error.value.status == 409, error.value
    result = longhaul.run("set", lab.name, "east", "--rtt", "30s")
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"lab setwatch refused (HTTP 409): {error.value.message}" in result.stderr, \
        (result.stderr, error.value.message)
    assert configs(lab) == before


def test_set_names_a_lab_that_is_not_up(longhaul):
    result = longhaul.run("set", "no-such-lab", "east", "--rtt", "5ms")
    assert result.returncode == 4, result.stdout + result.stderr
    assert "no lab named 'no-such-lab' is up" in result.stderr, result.stderr


def test_an_outage_from_the_command_line(longhaul, longhaul_lab):
    lab = longhaul_lab(LAB)
    result = longhaul.run("set", lab.name, "east", "--outage", "30s", "--up")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "outage of 30s (up only)" in result.stdout, result.stdout
    east = lab.lane("east")
    assert east["up"]["config"]["outage_until_s"] > 0, east["up"]["config"]
    assert east["down"]["config"]["outage_until_s"] == 0, east["down"]["config"]
    # hq -> east is the hub's down direction into east's lane (b -> a): it still passes, the
    # answers come back up through east's lane and are lost.
    ping = lab.exec("hq", "ping", "-n", "-c", "2", "-i", "0.2", "-W", "1", "east")
    assert ping.returncode != 0 and " 100% packet loss" in ping.stdout, ping.stdout


def test_watch_prints_blocks_with_the_lanes_and_their_configuration(longhaul, longhaul_lab):
    lab = longhaul_lab(LAB)
    assert longhaul.run("set", lab.name, "east", "--rtt", "30ms").returncode == 0
    ping_rtts(lab, "hq", "east", 3)
    result = longhaul.run("watch", lab.name, "--count", "2", "--interval", "200ms")
    assert result.returncode == 0, result.stdout + result.stderr
    blocks = [b for b in result.stdout.split("\n\n") if b.strip()]
    assert len(blocks) == 2, result.stdout
    assert "from the next refresh" in blocks[0] and "over the last 0.2" in blocks[1], blocks
    for block in blocks:
        lines = block.splitlines()
        assert lines[1].split()[:3] == ["LANE", "RTT", "DIR"], lines
        rows = {line.split()[0]: line for line in lines[2:] if not line.startswith(" ")}
        assert set(rows) == {"hq", "east", "west"}, lines
        assert re.match(r"east +30 ms +up +", rows["east"]), rows["east"]
        assert re.match(r"west +20 ms +up +", rows["west"]), rows["west"]
        assert "100 Mbit/s" in rows["east"] and "15 ms" in rows["east"], rows["east"]
        assert "0.1%" in rows["west"] and "unlimited" in rows["hq"], rows
    assert "\x1b" not in result.stdout  # not a terminal: plain lines


def test_watch_says_when_the_engine_goes_away(longhaul, longhaul_lab):
    lab = longhaul_lab(LAB)
    watch = longhaul.start("watch", lab.name, "--interval", "100ms")
    wait_until(lambda: "over the last" in watch.stdout(), timeout=15,
               what="watch to print a block with rates")
    assert watch.poll() is None, watch.output()
    lab.down()
    assert watch.wait(timeout=15) == 4, watch.output()
    assert "lab setwatch: its engine is gone" in watch.stderr(), watch.output()
    # Started afterwards, it finds no such lab.
    again = longhaul.run("watch", lab.name, "--count", "1")
    assert again.returncode == 4 and "no lab named 'setwatch' is up" in again.stderr, \
        again.stderr


TERMINAL_COLUMNS = 60


def run_in_terminal(lab: Lab, keys: bytes) -> str:
    """`watch` on a pseudo-terminal, then `stty -a` on the same terminal; `keys` typed once the
    first refresh is on screen. Returns everything the terminal showed."""
    script = (f"trap '' INT; {longhaul_binary()} watch {lab.name} --interval 200ms; "
              "echo watch-exit=$?; stty -a")
    pid, fd = pty.fork()
    if pid == 0:  # the child: a shell on the terminal
        # Narrower than the table (rows, columns), before anything is drawn: lines must be cut,
        # not wrapped.
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 24, TERMINAL_COLUMNS, 0, 0))
        os.execve("/bin/sh", ["sh", "-c", script], base_env())
    shown = b""
    deadline = time.monotonic() + 30
    typed = False
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # the terminal closed: everything ran
                break
            if not chunk:
                break
            shown += chunk
        if not typed and b"q quits" in shown:
            os.write(fd, keys)
            typed = True
    os.close(fd)
    _, status = os.waitpid(pid, 0)
    assert typed and os.waitstatus_to_exitcode(status) == 0, shown
    return shown.decode(errors="replace")


@pytest.mark.parametrize("keys", [b"q", b"\x03"], ids=["q", "ctrl-c"])
def test_watch_on_a_terminal_redraws_in_place_and_gives_the_terminal_back(longhaul_lab, keys):
    lab = longhaul_lab(LAB)
    shown = run_in_terminal(lab, keys)
    assert "\x1b[H" in shown and "east" in shown, shown  # redrawn from the top left
    assert "watch-exit=0" in shown, shown
    screen = shown.split("watch-exit=0", 1)[0]
    lines = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", screen).replace("\r", "").split("\n")
    assert any(line.startswith("east ") for line in lines), lines
    assert max(len(line) for line in lines) <= TERMINAL_COLUMNS, lines
    # The terminal is back in the mode it was in: line editing and echo on.
    settings = shown.split("watch-exit=0", 1)[1]
    assert re.search(r"(^|\s)icanon(\s|$)", settings) and re.search(r"(^|\s)echo(\s|$)",
                                                                     settings), settings


def test_watch_says_when_the_engine_crashed(longhaul, longhaul_lab):
    lab = longhaul_lab(LAB)
    watch = longhaul.start("watch", lab.name, "--interval", "100ms")
    wait_until(lambda: "over the last" in watch.stdout(), timeout=15,
               what="watch to print a block with rates")
    engine = json.loads((LAB_STATE_DIR / f"{lab.name}.json").read_text())["pid"]
    os.kill(engine, signal.SIGKILL)
    assert watch.wait(timeout=15) == 4, watch.output()
    assert re.search(rf"lab setwatch: its engine \(pid {engine}\) is gone .*"
                     r"`longhaul down --stale` removes what it left", watch.stderr()), \
        watch.output()
    # `set` on the same lab says the same.
    result = longhaul.run("set", lab.name, "east", "--rtt", "5ms")
    assert result.returncode == 4 and f"its engine (pid {engine}) is gone" in result.stderr, \
        result.stderr


def test_set_reaches_a_run_by_its_id(longhaul, tmp_path):
    # The run's command waits (bounded) for the change, then pings through the run's link.
    go = tmp_path / "go"
    script = (f"i=0; while [ ! -e {go} ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i+1)); done; "
              'ping -n -c 5 -i 0.05 -W 2 "$LONGHAUL_REMOTE"')
    run = longhaul.start("run", "--rtt", "20ms", "--rate", "100mbit", "--", "sh", "-c", script)
    wait_until(lambda: re.search(r"control API: \S+/(r\d+)\.sock", run.stderr())
               or run.poll() is not None, timeout=20, what="the run's control API")
    run_id = re.search(r"control API: \S+/(r\d+)\.sock", run.stderr()).group(1)
    changed = longhaul.run("set", run_id, "link", "--rtt", "60ms")
    go.touch()
    assert changed.returncode == 0, changed.stderr
    assert changed.stdout.startswith(f"run {run_id} lane link: change"), changed.stdout
    assert run.wait(timeout=60) == 0, run.output()
    rtts = [float(m) for m in re.findall(r"time=([\d.]+) ms", run.stdout())]
    assert len(rtts) == 5 and min(rtts) >= 60.0 - RTT_EPSILON_MS, run.stdout()

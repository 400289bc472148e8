"""Every `longhaul ...` example in README.md and docs/*.md runs as written.

The examples are extracted from the code blocks (indented or fenced), joined across trailing
backslashes and run with bash, in a scratch directory, with `longhaul` on PATH. Only the
substitutions in SUBSTITUTIONS are applied (names and durations, so the suite stays within a
couple of minutes); examples that need real NICs, a person at a terminal, or that are a
synopsis rather than a command are listed in EXEMPT with the reason. A new example that is in
neither list runs; one that fails breaks this test with its file, line and output.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import REPO_ROOT, base_env, longhaul_binary

DOCS = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]

# (pattern, replacement), applied in order to each example's text. Reviewed: each keeps what
# the example shows and only shortens it or gives it a peer.
SUBSTITUTIONS = [
    (r" -t (20|30|60)\b", " -t 1"),  # test durations: one second shows the form works
    (r" -O 5\b", " -O 0"),
    (r"-- bash$", "-- true"),  # an interactive shell: a command that exits
    (r"-- \./(my-replication-test|test\.sh)$", "-- true"),  # the user's own program
    (r"exec japan -- ping california", "exec japan -- ping -c 1 california"),  # ping runs forever
    (r"capture japan -w japan\.pcap$", "capture japan -w japan.pcap -t 1"),  # until Ctrl-C
    (r"capture japan -w japan\.pcap -c 200$", "capture japan -w japan.pcap -c 200 -t 1"),  # idle
    (r" -t 10$", " -t 1"),
    # A live view until q or Ctrl-C: two refreshes show it works.
    (r"(longhaul watch four-sites)$", r"\1 --count 2 --interval 200ms"),
]

# Examples not run, by a substring of their text, with the reason.
EXEMPT = {
    "bridge --lane a=enp1s0f0": "needs two real NICs",
    "longhaul set wan 0": "needs the bridge on two real NICs above (test_capture_bridge.py "
                          "sets and watches a bridge by its name)",
    "longhaul web four-sites --listen 8091": "serves until Ctrl-C (test_dashboard.py drives "
                                             "`longhaul web` in a browser)",
    "longhaul watch wan": "needs the bridge on two real NICs above (test_capture_bridge.py)",
    "longhaul shell england": "an interactive shell",
    "bench client A ": "host A is another machine",
    "longhaul bench server                       # on host A": "runs until stopped (host A)",
    "--netns lh-r1-cmd": "needs a live run r1 (test_tune.py applies and reverts in a run)",
    "--lab four-sites --site japan": "applies host settings in a lab site (test_tune.py)",
    "--token-file ~/.longhaul-token": "listens on every address, and tests listen on loopback "
                                      "only (test_dashboard.py tests the token on 127.0.0.1)",
}

# Examples that need a live lab (examples/four-sites.toml) or a server on this host.
NEEDS_LAB = ("longhaul status", "longhaul exec", "longhaul capture", "longhaul down\n",
             "up examples/four-sites.toml", "longhaul set ", "longhaul watch ")
NEEDS_IPERF3_SERVER = ("iperf3 -c {remote}",)
NEEDS_BENCH_SERVER = ("bench client {remote}", "bench rr {remote}", "bench churn {remote}")


def examples() -> list[tuple[str, str]]:
    """(file:line, command text) of every longhaul example in a code block."""
    found = []
    for doc in DOCS:
        lines = doc.read_text().splitlines()
        fenced = False
        i = 0
        while i < len(lines):
            line = lines[i]
            if line.startswith("```"):
                fenced = not fenced
                i += 1
                continue
            in_block = fenced or line.startswith("    ")
            text = line.strip()
            start = i
            while in_block and text.endswith("\\") and i + 1 < len(lines):
                i += 1
                text += "\n" + lines[i].rstrip()
            i += 1
            if not in_block or not re.match(r"(sudo )?longhaul [a-z]", text):
                continue
            if re.match(r"(sudo )?longhaul [a-z]+( [a-z]+)?:", text):
                continue  # a line of output, not a command
            if re.search(r"\[[^\]]*\]|[A-Z]{3,}(?![a-z])", text.split("#")[0].replace(
                    "SECONDS", "").replace("JSON", "")) and "=" not in text.split(" ")[2:3]:
                if re.search(r" \[(-|[A-Z])", text) or " HOST " in text or text.endswith(" HOST"):
                    continue  # a synopsis
            found.append((f"{doc.relative_to(REPO_ROOT)}:{start + 1}", text))
    return found


def runnable(text: str) -> str:
    """The example with its trailing comment removed and SUBSTITUTIONS applied."""
    text = re.sub(r"\s+# [^'\"]*$", "", text)
    for pattern, replacement in SUBSTITUTIONS:
        text = re.sub(pattern, replacement, text, flags=re.M)
    return text.replace("sudo ", "")


def exemption(text: str):
    return next((why for key, why in EXEMPT.items() if key in text), None)


ALL = examples()


def needs_lab(text: str) -> bool:
    return any(key in text + "\n" for key in NEEDS_LAB)


def test_the_extraction_finds_the_examples():
    texts = [text for _, text in ALL]
    assert len(ALL) >= 25, ALL
    assert any("iperf3 -c {remote} -t 20" in text for text in texts)
    assert any(text.startswith("longhaul tune") for text in texts)
    assert not any("HOST [-p PORT]" in text for text in texts)
    for key in EXEMPT:  # an exemption whose example is gone is stale
        assert any(key in text for text in texts), f"EXEMPT entry matches no example: {key}"


def run_example(text: str, tmp_path: Path, bindir: Path, timeout: float = 90):
    env = base_env()
    env["PATH"] = f"{bindir}:{env['PATH']}"
    script = runnable(text)
    if text.endswith("&"):
        return None  # a server started in the background: each example below starts its own
    prologue = ""
    if any(key in script for key in NEEDS_IPERF3_SERVER):
        prologue = "iperf3 -s -1 >/dev/null 2>&1 & server=$!; sleep 0.3; "
    if any(key in script for key in NEEDS_BENCH_SERVER):
        prologue = "longhaul bench server --once >/dev/null 2>&1 & server=$!; sleep 0.3; "
    full = prologue + script + ("; status=$?; kill $server 2>/dev/null; exit $status"
                                if prologue else "")
    return subprocess.run(["bash", "-c", full], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture
def bindir(tmp_path):
    directory = tmp_path / "bin"
    directory.mkdir()
    (directory / "longhaul").symlink_to(longhaul_binary())
    return directory


STANDALONE = [(where, text) for where, text in ALL
              if not exemption(text) and not needs_lab(text)]
IN_LAB = [(where, text) for where, text in ALL
          if not exemption(text) and needs_lab(text)]


@pytest.mark.parametrize("where,text", STANDALONE, ids=[where for where, _ in STANDALONE])
def test_example_runs(where, text, tmp_path, bindir):
    result = run_example(text, tmp_path, bindir)
    if result is None:
        return
    assert result.returncode == 0, (f"{where}: `{runnable(text)}` exited {result.returncode}\n"
                                    f"{result.stdout[-2000:]}\n{result.stderr[-2000:]}")


def test_lab_examples_run_in_order(tmp_path, bindir):
    """The lab examples, in document order, against one four-site lab at a time."""
    shutil.copytree(REPO_ROOT / "examples", tmp_path / "examples")
    failures = []
    lab_up = False
    for where, text in IN_LAB:
        script = runnable(text)
        if lab_up and "up examples/four-sites.toml" in script:
            subprocess.run([str(longhaul_binary()), "down", "four-sites"], env=base_env(),
                           capture_output=True, timeout=60)
        if not lab_up and "up examples/four-sites.toml" not in script:
            continue  # needs the lab the previous block took down; that form ran already
        if "iperf3 -c new-york" in script or "iperf3 -c california" in script:
            server = "new-york" if "new-york" in script else "california"
            script = f"longhaul exec {server} -- iperf3 -s -1 -D; " + script
        result = run_example(text if script == runnable(text) else script, tmp_path, bindir)
        if result is None:
            continue
        if result.returncode != 0:
            failures.append(f"{where}: `{script}` exited {result.returncode}\n"
                            f"{result.stdout[-1000:]}\n{result.stderr[-1000:]}")
        lab_up = "up examples/four-sites.toml" in script or (lab_up and "longhaul down" not in
                                                                 script)
        if "longhaul down" in script:
            lab_up = False
    if lab_up:
        subprocess.run([str(longhaul_binary()), "down", "four-sites"], env=base_env(),
                       capture_output=True, timeout=60)
    assert not failures, "\n".join(failures)


def test_the_schedule_file_in_impairments_md_is_accepted(tmp_path):
    """docs/impairments.md's schedule file (`day.sched`) and its flag lines, as written."""
    text = (REPO_ROOT / "docs" / "impairments.md").read_text()
    section = text.split("## Schedules", 1)[1]
    blocks = re.findall(r"((?:^    .*\n)+)", section, re.M)
    flags, schedule = blocks[0], blocks[1]
    (tmp_path / "day.sched").write_text("\n".join(line[4:] for line in schedule.splitlines()))
    assert "repeat" in schedule, schedule
    for flag_line in flags.splitlines():
        result = subprocess.run([str(longhaul_binary()), "run", *flag_line.split(), "--", "true"],
                                cwd=tmp_path, env=base_env(), capture_output=True, text=True,
                                timeout=60)
        assert result.returncode == 0, f"`{flag_line.strip()}`: {result.stderr}"

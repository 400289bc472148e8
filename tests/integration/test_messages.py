"""Messages say what the docs say: prefixes, flag names, counts and plurals."""

from __future__ import annotations

import re

from test_labs import labs, write_topology  # noqa: F401 (labs is a fixture)

ONE_SWITCH = """
name = "msgs"
[[site]]
name = "a"
[[site]]
name = "b"
[[switch]]
name = "s"
[[lane]]
a = "a"
b = "s"
[[lane]]
a = "b"
b = "s"
"""


def test_a_missing_required_flag_has_the_prefix_and_both_names(longhaul):
    result = longhaul.run("capture", "japan")
    assert result.returncode == 2
    assert result.stderr.startswith("longhaul: -w,--write is required"), result.stderr


def test_up_check_counts_in_the_singular(longhaul, tmp_path):
    result = longhaul.run("up", "--check", str(write_topology(tmp_path, ONE_SWITCH)))
    assert result.returncode == 0, result.stderr
    assert "is valid: 2 sites, 1 switch, 2 lanes" in result.stdout, result.stdout


def test_capture_summary_states_the_lost_count(labs, longhaul, tmp_path):  # noqa: F811
    lab = labs(write_topology(tmp_path, ONE_SWITCH))
    result = longhaul.run("capture", "--lab", lab.name, "a", "-w", str(tmp_path / "a.pcap"),
                          "-t", "0.3")
    assert result.returncode == 0, result.stderr
    assert re.search(r"stopped by .*; \d+ lost by the kernel's capture buffer", result.stderr), \
        result.stderr


def test_version_is_printed_and_documented(longhaul):
    from conftest import REPO_ROOT
    result = longhaul.run("--version")
    assert result.returncode == 0 and re.match(r"longhaul \d+\.\d+\.\d+", result.stdout), result
    for doc in ("README.md", "docs/longhaul.1"):
        text = (REPO_ROOT / doc).read_text().replace("\\-", "-")
        assert "longhaul --version" in text, doc


def test_down_removes_the_tune_state_of_the_labs_sites(labs, longhaul, tmp_path):  # noqa: F811
    from pathlib import Path
    lab = labs(write_topology(tmp_path, ONE_SWITCH))
    applied = longhaul.run("tune", "--rate", "1gbit", "--rtt", "80ms", "--lab", lab.name,
                           "--site", "a", "--apply")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    state = Path("/run/longhaul/tune") / f"netns-lh-{lab.name}-a.json"
    assert state.exists(), applied.stdout
    lab.down()
    assert not state.exists()

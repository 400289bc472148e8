"""The counters table reconciles visibly and --stats percentiles never exceed their max."""

from __future__ import annotations

import re


def test_duplicates_column_reconciles_and_percentiles_stay_below_max(longhaul):
    result = longhaul.run("run", "--rtt", "2ms", "--duplicate", "30%", "--seed", "7", "--stats",
                          "--", "ping", "-c", "40", "-i", "0.01", "-q", "{remote}", timeout=60)
    assert result.returncode == 0, result.stderr
    header = next(line for line in result.stderr.splitlines() if line.startswith("dir "))
    assert header.split()[:4] == ["dir", "packets", "in", "dup"], header
    rows = re.findall(r"^(up|down) +(\d+) +(\d+) +(\d+) +(\d+) +(\d+) +(\d+) +(\d+) ",
                      result.stderr, re.M)
    assert len(rows) == 2, result.stderr
    duplicated_total = 0
    for direction, *numbers in rows:
        packets_in, dup, packets_out, queue, loss, other, queued = map(int, numbers)
        assert packets_in + dup == packets_out + queue + loss + other + queued, (direction,
                                                                                  numbers)
        duplicated_total += dup
    # 30 % of about 80 packets each way: P(no duplicate at all) = 0.7^160, never.
    assert duplicated_total > 0, result.stderr
    percentile_lines = re.findall(
        r"p50 (\d+) us, p99 (\d+) us, p99\.9 (\d+) us, max (\d+) us", result.stderr)
    assert len(percentile_lines) == 4, result.stderr
    for p50, p99, p999, largest in percentile_lines:
        assert int(p50) <= int(p99) <= int(p999) <= int(largest), result.stderr


def test_run_json_belongs_to_the_sudo_invoker(longhaul, tmp_path):
    path = tmp_path / "run.json"
    result = longhaul.run("run", "-q", "--json", str(path), "--", "true",
                          env={"SUDO_UID": "65534", "SUDO_GID": "65534"}, keep_sudo=True)
    assert result.returncode == 0, result.stderr
    assert (path.stat().st_uid, path.stat().st_gid) == (65534, 65534)


def json_keys(value) -> set[str]:
    if isinstance(value, dict):
        return set(value) | set().union(*(json_keys(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(json_keys(v) for v in value)) if value else set()
    return set()


def test_every_run_json_field_is_documented(longhaul, tmp_path):
    from conftest import REPO_ROOT
    path = tmp_path / "run.json"
    result = longhaul.run("run", "-q", "--rate", "10mbit", "--queue", "20ms", "--duplicate", "1%",
                          "--json", str(path), "--", "true")
    assert result.returncode == 0, result.stderr
    import json
    keys = json_keys(json.loads(path.read_text()))
    doc = (REPO_ROOT / "docs" / "run.md").read_text()
    undocumented = sorted(key for key in keys if f'"{key}"' not in doc and f"`{key}`" not in doc)
    assert not undocumented, f"docs/run.md never names these run --json fields: {undocumented}"

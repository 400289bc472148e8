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

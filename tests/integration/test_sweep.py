"""Integration tests of `longhaul bench sweep` and `longhaul tune --lab/--site` (root).

A sweep brings up a two-site lab (named sw-PID, or --name) per RTT and takes it down again; the autouse
`longhaul` fixture fails a test that leaves a namespace or lab state behind, and each test
here also checks that no tune state file is left for the sweep's sites.
"""

from __future__ import annotations

import json
from pathlib import Path

from conftest import read_json
from test_labs import Lab, write_topology
from test_tune import TUNE_STATE_DIR, network_snapshot, sysctl_snapshot

TOLERANCE = 0.10


def no_sweep_tune_state(lab: str = "sw-*") -> bool:
    """No tune state is left for the sites (lh-LAB-client, lh-LAB-server) of the sweep's labs."""
    return not list(TUNE_STATE_DIR.glob(f"netns-lh-{lab}-*.json"))


def cells(document: dict) -> list[dict]:
    return [cell for row in document["rows"] for cell in row["cells"].values()]


def check_explanation(cell: dict, document: dict) -> None:
    """A cell outside the tolerance must carry a diagnosis whose premise its own figures show:
    any text would do for a check of presence, so each kind of explanation is held to the
    numbers it cites, and one that names no cause fails."""
    text = cell["explanation"] or ""
    measured, predicted = cell["measured_bps"], cell["predicted_bps"]
    prediction, observed = cell["prediction"], cell["measured"]
    above = measured > predicted
    if text.startswith("above the model: the receiver advertised"):
        assert above and prediction["limit"] == "window", cell
        assert observed["mean_peer_window_bytes"] > prediction["window_bytes"] * (1 + TOLERANCE), \
            cell
    elif text.startswith("above the Mathis bound"):
        assert above and prediction["limit"] == "loss", cell
    elif text.startswith("above the model ("):
        assert above, cell
    elif text.startswith("CPU-bound"):
        # The most any cell of this sweep carried is the machine's capacity.
        capacity = max(c["measured_bps"] or 0 for c in cells(document))
        assert not above and measured >= (1 - TOLERANCE) * capacity, (cell, capacity)
        assert predicted > (1 + TOLERANCE) * capacity, (cell, capacity)
    elif text.startswith("slow start not finished"):
        assert not above, cell
        assert observed["fill_time_s"] is None or observed["fill_time_s"] > observed["omit_s"], cell
    elif "retransmitted segments: losses" in text:
        assert not above and observed["retransmits"] > 0, cell
        assert text.startswith(f"{observed['retransmits']} retransmitted"), cell
    elif "the sender was mostly limited by" in text:
        assert not above and observed["limited_by"] and text.endswith(
            f"limited by {observed['limited_by']} (TCP_INFO)"), cell
    else:
        raise AssertionError(f"outside the tolerance with no diagnosed cause: {cell}")


def test_short_sweep_has_every_cell_within_tolerance_or_explained(longhaul, tmp_path):
    out = tmp_path / "sweep.json"
    plot = tmp_path / "sweep.svg"
    result = longhaul.run("bench", "sweep", "--rate", "200mbit", "--rtt", "0,20,80ms", "-t", "4",
                          "-O", "2", "--profile", "default,tuned", "--json", str(out),
                          "--plot", str(plot), "--no-progress", "--name", "swtest", timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr
    document = read_json(out)
    assert document["schema"] == "longhaul.sweep/1"
    assert document["config"]["rate_bps"] == 200_000_000
    assert document["config"]["rtts_ms"] == [0, 20, 80]
    assert [row["rtt_ms"] for row in document["rows"]] == [0, 20, 80]
    for row in document["rows"]:
        assert set(row["cells"]) == {"default", "tuned"}, row
    for cell in cells(document):
        assert cell["error"] is None, cell
        measured, predicted = cell["measured_bps"], cell["predicted_bps"]
        assert measured and measured > 0, cell
        within = abs(measured / predicted - 1) <= TOLERANCE
        assert cell["within_tolerance"] == within, cell
        if not within:
            check_explanation(cell, document)
        # 200 Mbit/s goodput is 200 x 1448 / 1538 (wire bytes per full segment).
        assert abs(cell["prediction"]["link_goodput_bps"] - 200e6 * 1448 / 1538) < 1e3
    # The table has a row per RTT and the model beside each profile.
    assert "default" in result.stdout and "tuned" in result.stdout and "80 ms" in result.stdout
    # Link-limited cells on a short path are where the model is plain rate arithmetic.
    short = document["rows"][1]["cells"]["default"]
    assert short["prediction"]["limit"] == "link"
    assert short["within_tolerance"], short
    assert plot.read_text().lstrip().startswith("<?xml") or "<svg" in plot.read_text()
    assert no_sweep_tune_state("swtest")


def test_window_limited_regime_matches_window_over_rtt(longhaul, tmp_path):
    """Small buffers at a long RTT: goodput = window / RTT within 10 %."""
    out = tmp_path / "window.json"
    result = longhaul.run("bench", "sweep", "--rate", "200mbit", "--rtt", "100ms", "-t", "4",
                          "-O", "2", "--profile", "default", "--window", "1MiB",
                          "--json", str(out), "--no-progress", timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    (cell,) = cells(read_json(out))
    prediction = cell["prediction"]
    assert prediction["limit"] == "window", cell
    assert prediction["rmem_max_bytes"] == 1 << 20 and prediction["wmem_max_bytes"] == 1 << 20
    window_over_rtt = prediction["window_bytes"] * 8 / 0.100
    assert abs(cell["predicted_bps"] - window_over_rtt) < 1
    assert abs(cell["measured_bps"] / window_over_rtt - 1) <= TOLERANCE, cell
    assert no_sweep_tune_state()


def test_sweep_rejects_bad_flags_and_creates_nothing(longhaul):
    for args, message in (
        (["--rtt", "0,x,8ms"], "--rtt"),
        (["--rtt", "10ms", "--profile", "fast"], "unknown profile"),
        (["--rtt", "10ms", "--plot", "out.pdf"], "--plot"),
    ):
        result = longhaul.run("bench", "sweep", "--rate", "100mbit", *args, timeout=30)
        assert result.returncode == 2, result.stderr
        assert message in result.stderr


TWO_SITES = """name = "tlab"
[[site]]
name = "alpha"
[[site]]
name = "beta"
[[lane]]
a = "alpha"
b = "beta"
rtt = "40ms"
rate = "500mbit"
"""


def test_tune_lab_site_apply_then_revert_restores_every_value(longhaul, tmp_path):
    lab = Lab(longhaul, write_topology(tmp_path, TWO_SITES))
    netns = "lh-tlab-beta"
    try:
        before_sysctls = sysctl_snapshot(netns)
        before_network = network_snapshot(netns)
        # A wrong site is a usage error naming the lab's sites.
        wrong = longhaul.run("tune", "--rate", "1gbit", "--rtt", "80ms", "--lab", "tlab",
                             "--site", "gamma", "--apply")
        assert wrong.returncode == 2 and "alpha, beta" in wrong.stderr, wrong.stderr
        # Toward alpha: the route the lab's traffic uses (sites have no default route).
        alpha = lab.status()["lab"]["sites"][0]["interfaces"][0]["ipv4"]
        applied = longhaul.run("tune", "--rate", "1gbit", "--rtt", "346ms", "--lab", "tlab",
                               "--site", "beta", "--peer", alpha, "--apply", "--format", "json",
                               timeout=60)
        assert applied.returncode == 0, applied.stderr
        document = json.loads(applied.stdout)
        assert document["request"]["netns"] == netns
        changed = {change["setting"] for change in document["apply"]["changed"]}
        assert "net.ipv4.tcp_rmem" in changed or "net.ipv4.tcp_wmem" in changed, changed
        assert sysctl_snapshot(netns) != before_sysctls
        reverted = longhaul.run("tune", "--lab", "tlab", "--site", "beta", "--revert")
        assert reverted.returncode == 0, reverted.stderr
        assert sysctl_snapshot(netns) == before_sysctls
        assert network_snapshot(netns) == before_network
        assert not (TUNE_STATE_DIR / f"netns-{netns}.json").exists()
    finally:
        lab.down()

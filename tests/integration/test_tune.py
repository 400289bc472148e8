"""Integration tests of `longhaul tune` (root, real namespaces; the host is never changed).

Each test that applies settings does so in a namespace of its own, named
"lhtune-<random>" (never "lh-", which belongs to `longhaul run`), which the
`lab_netns` fixture deletes whatever happens, together with any tune state
file left for it. The host's own values are compared before and after to
prove a namespace apply leaves them alone.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
from pathlib import Path

import pytest

from conftest import base_env, command_netns, wait_until

TUNE_STATE_DIR = Path("/run/longhaul/tune")
# Host values a namespace apply must never touch (host-global ones included).
HOST_KEYS = (
    "net.core.rmem_max", "net.core.wmem_max", "net.core.default_qdisc",
    "net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem", "net.ipv4.tcp_congestion_control",
    "net.ipv4.tcp_mtu_probing", "net.ipv4.ip_local_port_range", "net.ipv4.tcp_tw_reuse",
    "net.ipv4.tcp_slow_start_after_idle", "net.ipv4.conf.all.rp_filter",
)
# Sysctls whose values change by themselves and say nothing about tuning.
VOLATILE = re.compile(r"(random|_count$|\.stat|inode|dentry|file-nr|ns_last_pid|uptime|"
                      r"entropy|boot_id|tcp_fastopen_key|base_reachable_time|stable_secret|"
                      r"neigh\..*\.(ucast|mcast)_solicit$)")


def sh(*argv: str, netns: str | None = None, check: bool = True) -> str:
    prefix = ["ip", "netns", "exec", netns] if netns else []
    result = subprocess.run([*prefix, *argv], capture_output=True, text=True, timeout=30,
                            env=base_env())
    if check and result.returncode != 0:
        raise AssertionError(f"{argv} failed: {result.stderr}")
    return result.stdout


def sysctl_snapshot(netns: str | None = None) -> dict[str, str]:
    """Every sysctl readable in the namespace (or on the host), minus the volatile ones."""
    out = sh("sysctl", "-a", netns=netns, check=False)
    values = {}
    for line in out.splitlines():
        key, sep, value = line.partition(" = ")
        if sep and not VOLATILE.search(key):
            values[key] = value
    # An unreadable namespace or a failed `sysctl -a` would give two equal empty snapshots.
    assert len(values) > 100 and "net.ipv4.tcp_wmem" in values, \
        f"sysctl -a read {len(values)} settings in {netns or 'the host'}"
    return values


def host_values() -> dict[str, str]:
    return {key: sh("sysctl", "-n", key).strip() for key in HOST_KEYS}


def network_snapshot(netns: str) -> dict[str, str]:
    """Routes with their metrics, links without counters, qdiscs: what tune may change."""
    links = sh("ip", "-n", netns, "-d", "-o", "link", "show")
    return {
        "routes4": sh("ip", "-n", netns, "-d", "route", "show", "table", "all"),
        "routes6": sh("ip", "-n", netns, "-6", "-d", "route", "show", "table", "all"),
        "links": re.sub(r"\\\s+", " ", links),
        "qdiscs": sh("tc", "-n", netns, "qdisc", "show"),
    }


def state_file(netns: str) -> Path:
    return TUNE_STATE_DIR / f"netns-{netns}.json"


@pytest.fixture
def lab_netns():
    """A namespace shaped like a lab site: a veth with an address, a default route with a
    metric and an MTU lock, a queueing qdisc with a short txqueuelen, strict rp_filter and Reno.
    Deleted afterwards, with any tune state left for it."""
    name = f"lhtune-{secrets.token_hex(4)}"
    sh("ip", "netns", "add", name)
    try:
        for command in (
            ["ip", "-n", name, "link", "set", "lo", "up"],
            ["ip", "-n", name, "link", "add", "lhta", "type", "veth", "peer", "name", "lhtb"],
            ["ip", "-n", name, "link", "set", "lhta", "up", "txqueuelen", "500"],
            ["ip", "-n", name, "link", "set", "lhtb", "up"],
            ["ip", "-n", name, "addr", "add", "198.18.250.2/24", "dev", "lhta"],
            ["ip", "-n", name, "route", "add", "default", "via", "198.18.250.1", "dev", "lhta",
             "metric", "50", "mtu", "lock", "1400"],
            ["tc", "-n", name, "qdisc", "replace", "dev", "lhta", "root", "pfifo_fast"],
            ["sysctl", "-q", "-w", "net.ipv4.conf.all.rp_filter=1"],
            ["sysctl", "-q", "-w", "net.ipv4.tcp_congestion_control=reno"],
            # Kernel defaults, whatever the host was tuned to (a namespace inherits its values).
            ["sysctl", "-q", "-w", "net.ipv4.tcp_rmem=4096 131072 6291456"],
            ["sysctl", "-q", "-w", "net.ipv4.tcp_wmem=4096 16384 4194304"],
        ):
            sh(*command, netns=name if command[0] == "sysctl" else None)
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], capture_output=True, timeout=30)
        state_file(name).unlink(missing_ok=True)


def tune_json(longhaul, *args: str) -> dict:
    result = longhaul.run("tune", *args, "--format", "json", timeout=60)
    document = json.loads(result.stdout)  # parses even on failure
    assert result.returncode == 0, f"{result.stderr}\n{result.stdout}"
    assert document["schema"] == "longhaul.tune/1"
    assert document["error"] is None
    return document


def changed_settings(document: dict) -> set[str]:
    return {change["setting"] for change in document["apply"]["changed"]}


def test_apply_then_revert_restores_every_value_in_a_namespace(longhaul, lab_netns):
    before_sysctls = sysctl_snapshot(lab_netns)
    assert len(before_sysctls) > 100, "sysctl -a read almost nothing in the namespace"
    before_network = network_snapshot(lab_netns)
    before_host = host_values()

    applied = tune_json(longhaul, "--rate", "10gbit", "--rtt", "346ms", "--churn", "3000",
                        "--netns", lab_netns, "--apply")
    changed = changed_settings(applied)
    assert {"net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem", "net.ipv4.tcp_congestion_control",
            "net.ipv4.tcp_mtu_probing", "net.ipv4.ip_local_port_range", "net.ipv4.tcp_tw_reuse",
            "net.ipv4.conf.all.rp_filter", "txqueuelen", "initcwnd", "initrwnd"} <= changed
    # Host-global settings are refused for a namespace, with the reason.
    refused = {r["setting"]: r["reason"] for r in applied["apply"]["refused"]}
    assert "host-global" in refused["net.core.rmem_max"]
    assert "net.core.rmem_max" not in changed
    assert state_file(lab_netns).exists()

    # The namespace now has the recommended values...
    assert sh("sysctl", "-n", "net.ipv4.tcp_rmem", netns=lab_netns).split() == \
        ["4096", "131072", "1073741824"]
    assert sh("sysctl", "-n", "net.ipv4.tcp_congestion_control", netns=lab_netns).strip() == "bbr"
    route = sh("ip", "-n", lab_netns, "route", "show", "default")
    assert "initcwnd 20" in route and "initrwnd 20" in route, route
    # ...and the route kept its other attributes through the replace.
    assert "metric 50" in route and "mtu lock 1400" in route, route
    assert "qlen 10000" in sh("ip", "-n", lab_netns, "link", "show", "lhta")
    # The host is untouched.
    assert host_values() == before_host

    reverted = tune_json(longhaul, "--netns", lab_netns, "--revert")
    assert reverted["revert"]["problems"] == []
    assert len(reverted["revert"]["restored"]) == len(applied["apply"]["changed"])
    assert not state_file(lab_netns).exists()

    after_sysctls = sysctl_snapshot(lab_netns)
    differences = {k: (before_sysctls.get(k), after_sysctls.get(k))
                   for k in before_sysctls.keys() | after_sysctls.keys()
                   if before_sysctls.get(k) != after_sysctls.get(k)}
    assert differences == {}
    assert network_snapshot(lab_netns) == before_network
    assert host_values() == before_host

    # A second revert has nothing to do.
    again = tune_json(longhaul, "--netns", lab_netns, "--revert")
    assert "nothing to revert" in again["revert"]["message"]


def test_two_applies_then_one_revert_restore_the_original(longhaul, lab_netns):
    original = sh("sysctl", "-n", "net.ipv4.tcp_rmem", netns=lab_netns)
    first = tune_json(longhaul, "--rate", "1gbit", "--rtt", "54ms", "--netns", lab_netns,
                      "--apply")
    assert "net.ipv4.tcp_rmem" in changed_settings(first)
    assert sh("sysctl", "-n", "net.ipv4.tcp_rmem", netns=lab_netns).split()[2] == "16777216"
    second = tune_json(longhaul, "--rate", "10gbit", "--rtt", "346ms", "--netns", lab_netns,
                       "--apply")
    assert "net.ipv4.tcp_rmem" in changed_settings(second)
    assert sh("sysctl", "-n", "net.ipv4.tcp_rmem", netns=lab_netns).split()[2] == "1073741824"
    saved = json.loads(state_file(lab_netns).read_text())
    rmem = [c for c in saved["changes"] if c["setting"] == "net.ipv4.tcp_rmem"]
    assert len(rmem) == 1 and rmem[0]["previous"] == original.strip("\n")

    tune_json(longhaul, "--netns", lab_netns, "--revert")
    assert sh("sysctl", "-n", "net.ipv4.tcp_rmem", netns=lab_netns) == original


def test_apply_needs_an_explicit_target(longhaul):
    before = host_values()
    result = longhaul.run("tune", "--rate", "10gbit", "--rtt", "346ms", "--apply")
    assert result.returncode == 2
    assert "--host" in result.stderr and "--netns" in result.stderr, result.stderr
    assert host_values() == before
    assert not (TUNE_STATE_DIR / "host.json").exists()


def test_bad_flags_exit_2_naming_the_flag(longhaul):
    for args, flag in ((["--rate", "10mbps", "--rtt", "80ms"], "--rate"),
                       (["--rate", "1gbit", "--rtt", "80"], "--rtt"),
                       (["--rate", "1gbit", "--rtt", "80ms", "--loss", "0.1"], "--loss"),
                       (["--rate", "1gbit", "--rtt", "80ms", "--streams", "0"], "--streams"),
                       (["--rate", "1gbit", "--rtt", "80ms", "--netns", "lhtune-missing"], "--netns")):
        result = longhaul.run("tune", *args)
        assert result.returncode == 2, (args, result.stderr)
        assert flag in result.stderr, (args, result.stderr)


def test_revert_after_the_namespace_is_gone_drops_the_state(longhaul, lab_netns):
    tune_json(longhaul, "--rate", "1gbit", "--rtt", "80ms", "--netns", lab_netns, "--apply")
    assert state_file(lab_netns).exists()
    sh("ip", "netns", "del", lab_netns)
    reverted = tune_json(longhaul, "--netns", lab_netns, "--revert")
    assert "no longer exists" in reverted["revert"]["message"]
    assert not state_file(lab_netns).exists()


def test_host_inspection_and_sysctl_snippet(longhaul):
    document = tune_json(longhaul, "--rate", "10gbit", "--rtt", "346ms", "--streams", "4")
    assert document["request"]["target"] == "host"
    assert document["path"]["bdp_bytes"] == 432_500_000
    assert document["kernel"]["release"] == os.uname().release
    settings = {row["setting"] for row in document["recommendations"]}
    assert {"net.ipv4.tcp_rmem", "net.core.rmem_max", "net.ipv4.ip_local_port_range"} <= settings
    for row in document["recommendations"]:
        assert row["setting"] != "net.ipv4.tcp_tw_recycle" or row["recommended"] == "0"

    snippet = longhaul.run("tune", "--rate", "10gbit", "--rtt", "346ms", "--format", "sysctl")
    assert snippet.returncode == 0, snippet.stderr
    for line in snippet.stdout.splitlines():
        if not line or line.startswith("#"):
            continue
        key, sep, _ = line.partition(" = ")
        assert sep, line
        assert Path("/proc/sys", key.replace(".", "/")).exists(), f"no such sysctl: {key}"


def test_apply_and_revert_in_a_running_links_namespace(longhaul):
    marker = longhaul.marker()
    process = longhaul.start("run", "--rtt", "10ms", "--", *marker.argv)
    name = wait_until(lambda: (command_netns() or [None])[0] if marker.pids() else None,
                      timeout=15, what="the run's command namespace")
    remote = re.fullmatch(r"lh-r(\d+)-cmd", name).group(1)
    peer = f"198.18.{remote}.1"
    before = sysctl_snapshot(name)
    before_routes = sh("ip", "-n", name, "-d", "route", "show", "table", "all")

    applied = tune_json(longhaul, "--rate", "1gbit", "--rtt", "80ms", "--peer", peer,
                        "--netns", name, "--apply")
    assert "net.ipv4.tcp_wmem" in changed_settings(applied)
    assert "initcwnd" in changed_settings(applied)
    assert "initcwnd 20" in sh("ip", "-n", name, "route", "get", peer, "fibmatch")

    reverted = tune_json(longhaul, "--netns", name, "--revert")
    assert reverted["revert"]["problems"] == []
    assert sysctl_snapshot(name) == before
    assert sh("ip", "-n", name, "-d", "route", "show", "table", "all") == before_routes

    process.stop()
    assert not state_file(name).exists()

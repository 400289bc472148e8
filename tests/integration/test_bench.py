"""Integration tests of the built-in TCP tester, `longhaul bench` (root, real traffic).

The server runs on the host, listening on every address on a port of its own
choosing (`-p 0`, read back from its first line), with `--once`. Clients run
either on loopback or inside `longhaul run`, reaching the host at
$LONGHAUL_REMOTE (198.18.0.0/15). The autouse `longhaul` fixture (conftest.py)
stops every process a test started and fails a test that leaves anything behind.
"""

from __future__ import annotations

import json
import re
import signal
from pathlib import Path

import pytest

from conftest import (GOODPUT_TOLERANCE, RTT_EPSILON_MS, tcp_payload_per_wire, tcp_ramp_seconds,
                      wait_until)

# Per full-size TCP segment: 1448 payload bytes cross the emulated wire as 1538
# bytes (TCP/IP headers with timestamps, Ethernet header, preamble, FCS, gap).
WIRE_GOODPUT_CAP = tcp_payload_per_wire()
LISTENING = re.compile(r"listening on port (\d+)")


class BenchServer:
    """`longhaul bench server -p 0 --once` on the host; knows its port once listening."""

    def __init__(self, longhaul, *extra: str):
        self.process = longhaul.start("bench", "server", "-p", "0", "--once", *extra)

        def port():
            if self.process.poll() is not None:
                return -1
            match = LISTENING.search(self.process.stderr())
            return int(match.group(1)) if match else None

        self.port = wait_until(port, timeout=10, what="the bench server to listen")
        assert self.port > 0, f"bench server exited:\n{self.process.output()}"

    def wait(self, timeout: float = 30) -> int:
        """The server's exit status (it exits by itself after one test)."""
        return self.process.wait(timeout=timeout)


def client_through_link(longhaul, run_flags: list[str], port: int, *client_args: str,
                        timeout: float = 90,
                        script: str = 'exec "$0" bench client "$LONGHAUL_REMOTE" "$@"'):
    """Runs `longhaul bench client $LONGHAUL_REMOTE` (or `script`) behind an emulated link."""
    return longhaul.run("run", "-q", *run_flags, "--", "sh", "-c", script,
                        str(longhaul.binary), "-p", str(port), *client_args, timeout=timeout)


def parse_document(result) -> dict:
    assert result.stdout.strip(), f"no output; stderr:\n{result.stderr}"
    doc = json.loads(result.stdout)
    assert doc["schema"] == "longhaul.bench/1"
    return doc


def sender_totals(doc: dict) -> dict:
    return doc["end"]["sum_sent"]


# --------------------------------------------------------------------------
# Goodput at a known rate and RTT
# --------------------------------------------------------------------------


@pytest.mark.parametrize("direction", ["upload", "download"])
def test_goodput_through_the_link_matches_the_rate(longhaul, direction):
    rate_bps = 100_000_000
    server = BenchServer(longhaul)
    reverse = ["-R"] if direction == "download" else []
    result = client_through_link(
        longhaul, ["--rate", "100mbit", "--rtt", "20ms"], server.port,
        "-t", "6", "-O", "2", "--path-rate", "100mbit", "--seed", "7", "--json", *reverse)
    assert result.returncode == 0, result.stderr + result.stdout
    assert server.wait() == 0, server.process.output()
    doc = parse_document(result)
    assert "error" not in doc, doc["error"]

    start = doc["start"]
    assert start["seed"] == 7 and start["config"]["seed"] == 7
    assert start["config"]["reverse"] == (direction == "download")
    assert start["connecting_to"]["host"].startswith("198.18.")
    assert start["socket_options"]["client"]["sndbuf"]["autotuning"] is True

    received = doc["end"]["sum_received"]
    # The omitted 2 s of slow start are left out: about 6 s measured (plus the tail).
    assert 5.9 <= received["seconds"] <= 8.0, received
    # TCP's ceiling at the rate (conftest.tcp_payload_per_wire), over the steady window after
    # the omitted ramp (tcp_ramp_seconds is 1 s here): within +-GOODPUT_TOLERANCE of it.
    assert tcp_ramp_seconds(rate_bps, 0.020) <= 2
    prediction = rate_bps * tcp_payload_per_wire()
    ratio = received["bits_per_second"] / prediction
    print(f"{direction}: goodput {received['bits_per_second'] / 1e6:.2f} Mbit/s "
          f"= {ratio:.1%} of {prediction / 1e6:.2f} Mbit/s")
    assert abs(ratio - 1) <= GOODPUT_TOLERANCE, \
        f"goodput {ratio:.1%} of {prediction / 1e6:.2f} Mbit/s"

    # The sender's acknowledged bytes tell the same story as the receiver's reads.
    sent = sender_totals(doc)
    assert abs(sent["bytes"] - received["bytes"]) <= 0.02 * received["bytes"], (sent, received)
    assert sent["mean_rtt_us"] >= 20_000, sent

    # Intervals carry both sides; the omitted ones are marked.
    intervals = doc["intervals"]
    assert len(intervals) >= 8, len(intervals)
    assert [i["omitted"] for i in intervals[:2]] == [True, True]
    sides = {(s["side"], s["role"]) for i in intervals[2:-1] for s in i["streams"]}
    sender_side = "client" if direction == "upload" else "server"
    receiver_side = "server" if direction == "upload" else "client"
    assert sides == {(sender_side, "sender"), (receiver_side, "receiver")}, sides

    # At 20 ms the pipe fills within a few intervals.
    fill = doc["end"]["time_to_fill"]
    assert fill["path_rate_bps"] == rate_bps
    assert fill["reached"] is True and fill["seconds"] <= 4.0, fill


# --------------------------------------------------------------------------
# The window-limited regime: goodput = window / RTT
# --------------------------------------------------------------------------


def test_window_limited_goodput_is_window_over_rtt(longhaul):
    """A 256 KiB receive buffer at 100 ms RTT on a 200 Mbit/s path.

    Prediction: Linux stores twice the SO_RCVBUF a program asks for (half for
    its own overhead) and advertises a share of that as the receive window
    (tcp_adv_win_scale before Linux 6.5; a measured payload-to-truesize ratio
    since), so the window is known only once the kernel grants it. The sender
    sees it in TCP_INFO as tcpi_snd_wnd, which the tester reports per interval
    (snd_wnd_bytes) and on average (end.sum_sent.mean_snd_wnd_bytes). A flow
    limited by that window delivers one window per round trip:
    goodput = window / RTT, here ~0.35 MB / 0.1 s, about 28 Mbit/s, far below the
    200 Mbit/s path. The send buffer autotunes (only SO_RCVBUF is set) and cubic
    is used so the sender is neither buffer- nor pacing-limited.
    """
    rtt_s = 0.100
    rate_bps = 200_000_000
    requested = 256 * 1024
    server = BenchServer(longhaul)
    result = client_through_link(
        longhaul, ["--rate", "200mbit", "--rtt", "100ms"], server.port,
        "-t", "6", "-O", "3", "--rcvbuf", "256KiB", "-C", "cubic", "--json")
    assert result.returncode == 0, result.stderr + result.stdout
    assert server.wait() == 0, server.process.output()
    doc = parse_document(result)
    assert "error" not in doc, doc["error"]

    server_rcvbuf = doc["start"]["socket_options"]["server"]["rcvbuf"]
    assert server_rcvbuf["requested_bytes"] == requested
    assert server_rcvbuf["autotuning"] is False
    # SO_RCVBUF: the kernel caps the request at net.core.rmem_max and doubles it (its
    # bookkeeping share), so what it grants depends on this host's sysctl.
    rmem_max = int(Path("/proc/sys/net/core/rmem_max").read_text())
    granted = 2 * min(requested, rmem_max)
    assert server_rcvbuf["kernel_bytes"] == granted, (server_rcvbuf, rmem_max)
    assert doc["start"]["socket_options"]["server"]["congestion"] == "cubic"

    sent = sender_totals(doc)
    window = sent["mean_snd_wnd_bytes"]
    # What the kernel advertises from the granted buffer: a share of it, never more.
    assert 0.25 * granted <= window <= granted, (window, granted)
    prediction = window * 8 / rtt_s
    goodput = doc["end"]["sum_received"]["bits_per_second"]
    print(f"window {window / 1024:.0f} KiB / {rtt_s * 1000:.0f} ms = {prediction / 1e6:.2f} "
          f"Mbit/s predicted, {goodput / 1e6:.2f} Mbit/s measured "
          f"({goodput / prediction:.1%})")
    assert prediction < 0.5 * rate_bps * WIRE_GOODPUT_CAP, "the setup is not window-limited"
    assert abs(goodput / prediction - 1) <= 0.10, \
        f"goodput {goodput / 1e6:.2f} Mbit/s vs window/RTT {prediction / 1e6:.2f} Mbit/s"
    # ... and the tester says so.
    assert sent["limited_by"]["dominant"] == "rwnd", sent["limited_by"]
    assert sent["limited_by"]["rwnd_utilization"] >= 0.9, sent["limited_by"]


# --------------------------------------------------------------------------
# Standalone on loopback: parallel, bidirectional, streaming JSON, clamping
# --------------------------------------------------------------------------


def test_bidir_parallel_json_stream_on_loopback(longhaul):
    server = BenchServer(longhaul)
    # 1 GiB is above net.core.{w,r}mem_max on any ordinary host: the kernel clamps it.
    result = longhaul.run("bench", "client", "127.0.0.1", "-p", str(server.port), "-t", "2",
                          "-P", "2", "--bidir", "-i", "0.5", "-w", "1GiB", "--json-stream",
                          timeout=60)
    assert result.returncode == 0, result.stderr + result.stdout
    assert server.wait() == 0, server.process.output()
    events = [json.loads(line) for line in result.stdout.splitlines()]
    kinds = [e["event"] for e in events]
    assert kinds[0] == "start" and kinds[-1] == "end", kinds
    assert set(kinds[1:-1]) == {"interval"} and len(kinds) >= 5, kinds

    start = events[0]["data"]
    assert len(start["connected"]) == 4
    assert [c["direction"] for c in start["connected"]] == ["upload"] * 2 + ["download"] * 2
    clamp = [w for w in start["warnings"] if "kernel clamped 1 GiB to" in w]
    assert len(clamp) == 4, start["warnings"]  # both buffers on both sides
    assert any("net.core.wmem_max=" in w and "disables autotuning" in w for w in clamp), clamp
    sndbuf = start["socket_options"]["client"]["sndbuf"]
    assert sndbuf["clamped"] is True and sndbuf["granted_bytes"] == sndbuf["limit_bytes"], sndbuf

    end = events[-1]["data"]
    for key in ("sum_sent", "sum_received", "sum_sent_bidir_reverse", "sum_received_bidir_reverse"):
        assert end[key] and end[key]["bytes"] > 0, (key, end[key])
    assert len(end["streams"]) == 4
    interval = events[1]["data"]
    assert {s["side"] for s in interval["streams"]} == {"client", "server"}, interval


def test_byte_count_test_ends_after_the_bytes(longhaul):
    server = BenchServer(longhaul)
    result = longhaul.run("bench", "client", "127.0.0.1", "-p", str(server.port), "-n", "50MB",
                          "-P", "3", "--json", timeout=60)
    assert result.returncode == 0, result.stderr + result.stdout
    assert server.wait() == 0, server.process.output()
    doc = parse_document(result)
    assert doc["end"]["sum_received"]["bytes"] == 50_000_000
    assert doc["start"]["config"]["bytes"] == 50_000_000


# --------------------------------------------------------------------------
# Errors and stopping
# --------------------------------------------------------------------------


def test_no_server_is_a_failed_test_with_parseable_json(longhaul):
    server = BenchServer(longhaul)
    port = server.port
    server.process.send_signal(signal.SIGTERM)  # stopping a server is normal: status 0
    assert server.wait(timeout=10) == 0, server.process.output()
    result = longhaul.run("bench", "client", "127.0.0.1", "-p", str(port), "-t", "1", "--json")
    assert result.returncode == 1, result.stderr
    doc = parse_document(result)
    assert "Connection refused" in doc["error"], doc["error"]
    assert doc["end"]["sum_received"] is None


def test_unknown_congestion_control_names_the_available_ones(longhaul):
    result = longhaul.run("bench", "client", "127.0.0.1", "-p", "9", "-C", "no-such-cc", "-t", "1")
    assert result.returncode == 1, result.stderr
    assert "no-such-cc" in result.stderr and "tcp_available_congestion_control" in result.stderr, \
        result.stderr
    assert "cubic" in result.stderr or "reno" in result.stderr, result.stderr


@pytest.mark.parametrize("flags, named", [
    (["-t", "0"], "-t/--time"),
    (["-t", "3601"], "-t/--time"),
    (["-P", "0"], "-P/--parallel"),
    (["-P", "129"], "-P/--parallel"),
    (["-w", "256k"], "-w/--window"),
    (["-i", "0.01"], "-i/--interval"),
    (["-t", "5", "-n", "1MB"], "-n/--bytes"),
    (["-R", "--bidir"], "--bidir"),
    (["--pacing-rate", "10mbps"], "--pacing-rate"),
])
def test_usage_errors_exit_2_naming_the_flag(longhaul, flags, named):
    result = longhaul.run("bench", "client", "127.0.0.1", "-p", "9", *flags)
    assert result.returncode == 2, result.stderr
    assert named in result.stderr, result.stderr


def test_interrupted_client_stops_both_sides(longhaul):
    server = BenchServer(longhaul)
    client = longhaul.start("bench", "client", "127.0.0.1", "-p", str(server.port), "-t", "60",
                            "-i", "0.2")
    # The first interval line means the test is running.
    wait_until(lambda: client.poll() is not None or "[  1]" in client.stdout(), timeout=15,
               what="the first interval")
    client.send_signal(signal.SIGINT)
    assert client.wait(timeout=10) == 130, client.output()
    assert "interrupted" in client.stderr(), client.output()
    # The server hears of it and, with --once, exits reporting the failed test.
    assert server.wait(timeout=10) == 1, server.process.output()
    assert "client aborted the test" in server.process.stdout(), server.process.output()


# --------------------------------------------------------------------------
# Request/response latency (bench rr)
# --------------------------------------------------------------------------


def test_rr_latency_alone_is_the_round_trip(longhaul):
    """64-byte requests and responses through --rtt 20ms: each transaction is one round trip.

    Tolerance: the emulator holds each packet for its configured delay and releases it
    within a fraction of a millisecond (docs/performance.md), and both ends add tens of
    microseconds; so the median lies between 20 ms and 20 ms + 3 ms, and never below.
    """
    server = BenchServer(longhaul)
    result = client_through_link(longhaul, ["--rtt", "20ms"], server.port, "-t", "3", "--json",
                                 script='exec "$0" bench rr "$LONGHAUL_REMOTE" "$@"')
    assert result.returncode == 0, result.stderr + result.stdout
    assert server.wait() == 0, server.process.output()
    doc = parse_document(result)
    assert doc["kind"] == "rr" and "error" not in doc, doc.get("error")
    alone = doc["end"]["alone"]
    latency = alone["latency"]
    print(f"rr at 20 ms: {alone['transactions']} transactions, p50 {latency['p50_us']:.0f} us, "
          f"p99 {latency['p99_us']:.0f} us, max {latency['max_us']:.0f} us")
    # No transaction faster than the round trip (conftest.RTT_EPSILON_MS).
    never_below_us = 20_000 - RTT_EPSILON_MS * 1000
    assert never_below_us <= latency["min_us"], latency
    assert never_below_us <= latency["p50_us"] <= 23_000, latency
    assert latency["p50_us"] <= latency["p90_us"] <= latency["p99_us"] <= latency["p99_9_us"] \
        <= latency["max_us"], latency
    # Back to back for 3 s at ~20 ms each: about 150 transactions.
    assert 110 <= alone["transactions"] <= 151, alone
    assert abs(alone["transactions_per_second"] - alone["transactions"] / alone["seconds"]) < 1e-6
    assert doc["end"]["under_load"] is None


def test_rr_under_load_shows_the_queue(longhaul):
    """A bulk upload fills the 20 Mbit/s bottleneck's queue: the same transactions then wait
    behind it, so latency under load exceeds latency alone (bufferbloat)."""
    server = BenchServer(longhaul)
    result = client_through_link(
        longhaul, ["--rtt", "20ms", "--rate", "20mbit"], server.port, "-t", "3",
        "--under-load", "--load-ramp", "2", "--json",
        script='exec "$0" bench rr "$LONGHAUL_REMOTE" "$@"')
    assert result.returncode == 0, result.stderr + result.stdout
    assert server.wait() == 0, server.process.output()
    doc = parse_document(result)
    assert "error" not in doc, doc["error"]
    alone = doc["end"]["alone"]["latency"]
    loaded = doc["end"]["under_load"]["latency"]
    load = doc["end"]["load"]
    print(f"p50 alone {alone['p50_us']:.0f} us, under load {loaded['p50_us']:.0f} us; load "
          f"{load['sum_received']['bits_per_second'] / 1e6:.1f} Mbit/s")
    assert doc["start"]["config"]["under_load"] is True
    assert doc["end"]["under_load"]["transactions"] >= 10
    # The load really ran on the path (a precondition: it shares the path with the
    # transactions and ramps for 2 s of 3), and never above TCP's ceiling at the rate.
    ceiling = 20e6 * WIRE_GOODPUT_CAP
    assert 0.7 * ceiling <= load["sum_received"]["bits_per_second"] <= \
        (1 + GOODPUT_TOLERANCE) * ceiling, load
    # A queue of at least a few ms builds at the bottleneck (each 1538-byte packet ahead
    # of a request costs 0.6 ms at 20 Mbit/s).
    assert loaded["p50_us"] >= alone["p50_us"] + 3_000, (alone, loaded)
    increase = doc["end"]["latency_increase_us"]["p50"]
    assert abs(increase - (loaded["p50_us"] - alone["p50_us"])) < 1e-3


# --------------------------------------------------------------------------
# Connection churn (bench churn)
# --------------------------------------------------------------------------

NARROW_PORTS = 'sysctl -q -w net.ipv4.ip_local_port_range="40000 40049" && '


def test_churn_exhausts_a_narrowed_port_range(longhaul):
    """50 ephemeral ports in the client's own namespace, 200 new connections/s: each closed
    connection keeps its port in TIME_WAIT for 60 s, so about the 50th attempt fails with
    EADDRNOTAVAIL (the control connection holds one port too)."""
    server = BenchServer(longhaul)
    result = client_through_link(
        longhaul, ["--rtt", "2ms"], server.port, "--rate-connections", "200", "-t", "1.5",
        "--json", script=NARROW_PORTS + 'exec "$0" bench churn "$LONGHAUL_REMOTE" "$@"')
    assert result.returncode == 0, result.stderr + result.stdout
    assert server.wait() == 0, server.process.output()
    doc = parse_document(result)
    assert doc["kind"] == "churn" and "error" not in doc, doc.get("error")
    namespace = doc["start"]["client_namespace"]
    assert namespace["ip_local_port_range"] == [40000, 40049], namespace
    assert namespace["ephemeral_ports"] == 50
    end = doc["end"]
    first = end["first_eaddrnotavail"]
    assert first is not None, end
    print(f"first EADDRNOTAVAIL: attempt {first['attempt']} at {first['at_s']:.3f} s; "
          f"{end['connected']} connected, failures {end['failures']}")
    assert 45 <= first["attempt"] <= 50, first
    assert first["connected_before"] == first["attempt"] - 1, first
    assert first["sockets"]["time_wait_to_server"] >= 40, first
    assert first["sockets"]["ephemeral_ports_in_use"] == 50, first
    assert end["connected"] <= 49 and end["failures"]["EADDRNOTAVAIL"] >= 200, end
    assert end["attempted"] == end["connected"] + end["failed"], end
    explanation = " ".join(first["explanation"])
    assert "40000-40049 (50 ports)" in explanation and "TIME_WAIT" in explanation, explanation
    assert "50 ports / 60 s" in explanation, explanation
    assert "tcp_tw_reuse = 2 (loopback only)" in explanation, explanation
    fixes = " ".join(first["fixes"])
    for fix in ("--reuse", "net.ipv4.tcp_tw_reuse=1", "ip_local_port_range", "tcp_tw_recycle"):
        assert fix in fixes, (fix, fixes)


def test_churn_with_reuse_does_not_exhaust_ports(longhaul):
    """The same load over kept-alive connections uses a handful of ports: no failure."""
    server = BenchServer(longhaul)
    result = client_through_link(
        longhaul, ["--rtt", "2ms"], server.port, "--rate-connections", "200", "-t", "1.5",
        "--reuse", "--json",
        script=NARROW_PORTS + 'exec "$0" bench churn "$LONGHAUL_REMOTE" "$@"')
    assert result.returncode == 0, result.stderr + result.stdout
    assert server.wait() == 0, server.process.output()
    end = parse_document(result)["end"]
    assert end["first_eaddrnotavail"] is None and end["failed"] == 0, end
    assert end["attempted"] == end["completed"] == 300, end
    assert 1 <= end["connections_opened"] <= 10, end
    assert end["transaction_latency"]["p50_us"] >= 2_000, end


def test_churn_human_report_on_loopback(longhaul):
    server = BenchServer(longhaul)
    result = longhaul.run("bench", "churn", "127.0.0.1", "-p", str(server.port),
                          "--rate-connections", "300", "-n", "150", "-t", "2", timeout=30)
    assert result.returncode == 0, result.stderr + result.stdout
    assert server.wait() == 0, server.process.output()
    out = result.stdout
    assert "client namespace: net.ipv4.ip_local_port_range" in out, out
    assert "150 opened, 150 established, 150 transactions completed, 0 failed" in out, out
    assert "connect latency:" in out and "TIME_WAIT sockets: at most" in out, out
    assert "cannot assign" not in out, out
    assert "churn test from 127.0.0.1: 150 connections, 150 transactions" in \
        server.process.stdout(), server.process.output()


def test_churn_and_rr_json_stream_on_loopback(longhaul):
    """--json-stream: one event per line, churn's intervals as they close; the same data as
    --json's document."""
    server = BenchServer(longhaul)
    churn = longhaul.run("bench", "churn", "127.0.0.1", "-p", str(server.port),
                         "--rate-connections", "200", "-n", "300", "-t", "3", "-i", "0.5",
                         "--json-stream", timeout=30)
    assert churn.returncode == 0, churn.stderr + churn.stdout
    assert server.wait() == 0, server.process.output()
    events = [json.loads(line) for line in churn.stdout.splitlines()]
    kinds = [e["event"] for e in events]
    # 300 connections at 200/s take 1.5 s: three intervals of 0.5 s (and perhaps a short last
    # one); -t 3 bounds a slow machine at six and a partial seventh.
    assert kinds[0] == "start" and kinds[-1] == "end", kinds
    assert set(kinds[1:-1]) == {"interval"} and 3 <= len(kinds) - 2 <= 7, kinds
    start = events[0]["data"]
    assert start["schema"] == "longhaul.bench/1" and start["kind"] == "churn", start
    assert start["config"]["rate_connections_per_s"] == 200, start["config"]
    intervals = [e["data"] for e in events[1:-1]]
    assert sum(i["connected"] for i in intervals) == 300, intervals
    end = events[-1]["data"]
    assert end["connected"] == end["completed"] == 300 and end["failed"] == 0, end

    server = BenchServer(longhaul)
    rr = longhaul.run("bench", "rr", "127.0.0.1", "-p", str(server.port), "-n", "50",
                      "--json-stream", timeout=30)
    assert rr.returncode == 0, rr.stderr + rr.stdout
    assert server.wait() == 0, server.process.output()
    events = [json.loads(line) for line in rr.stdout.splitlines()]
    assert [e["event"] for e in events] == ["start", "end"], events
    assert events[0]["data"]["kind"] == "rr"
    assert events[1]["data"]["alone"]["transactions"] == 50, events[1]

    both = longhaul.run("bench", "rr", "127.0.0.1", "--json", "--json-stream")
    assert both.returncode == 2 and "--json" in both.stderr, both.stderr


# --------------------------------------------------------------------------
# Plots
# --------------------------------------------------------------------------


@pytest.mark.parametrize("extension", ["svg", "png"])
def test_client_plot_writes_a_valid_image(longhaul, tmp_path, extension):
    import struct
    import xml.etree.ElementTree as ElementTree

    server = BenchServer(longhaul)
    output = tmp_path / f"plot.{extension}"
    result = longhaul.run("bench", "client", "127.0.0.1", "-p", str(server.port), "-t", "2",
                          "-i", "0.5", "-O", "0.5", "--plot", str(output), timeout=60)
    assert result.returncode == 0, result.stderr + result.stdout
    assert server.wait() == 0, server.process.output()
    data = output.read_bytes()
    if extension == "svg":
        root = ElementTree.fromstring(data)
        assert root.tag.endswith("svg"), root.tag
        text = "".join(root.itertext())
        for label in ("Goodput", "Congestion window", "Smoothed RTT (ms)", "Time since start (s)",
                      "upload, as received", "127.0.0.1"):
            assert label in text, (label, text[:500])
    else:
        assert data[:8] == b"\x89PNG\r\n\x1a\n", data[:8]
        width, height = struct.unpack(">II", data[16:24])
        assert width == 1100 and height >= 800, (width, height)


def test_plot_with_a_wrong_extension_is_a_usage_error(longhaul):
    result = longhaul.run("bench", "client", "127.0.0.1", "-p", "9", "--plot", "out.pdf")
    assert result.returncode == 2, result.stderr
    assert "--plot" in result.stderr and ".svg or .png" in result.stderr, result.stderr

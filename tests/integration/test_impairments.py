"""Integration tests of longhaul's impairments: jitter, burst loss, outages,
--netem lines, duplication and corruption (root, real namespaces, real traffic).

Traffic goes only to the addresses longhaul creates (198.18.0.0/15). Every
random model has a fixed seed; every statistical bound is a stated interval
(binomial, or the model's own distribution), not a guessed slack. The autouse
`longhaul` fixture (conftest.py) fails any test that leaves a namespace, link,
run state file, iperf3 or command process behind.
"""

from __future__ import annotations

import json
import math
import random
import re
import socket
import statistics
import sys

import pytest

from conftest import RTT_EPSILON_MS, binomial_interval, read_json, wait_until

SEED_HEADER = re.compile(r"longhaul: link r\d+ up \(seed (\d+)\)")
PING_REPLY = re.compile(r"icmp_seq=(\d+) ttl=\d+ time=([\d.]+) ms( \(DUP!\))?")
PING_SUMMARY = re.compile(
    r"(?P<sent>\d+) packets transmitted, (?P<received>\d+) received,"
    r"(?: \+(?P<duplicates>\d+) duplicates,)?")


def warm_up(remote_var: str = "LONGHAUL_REMOTE") -> str:
    """Shell: up to five single pings until one is answered.

    It pays for ARP on both sides before the measured probes; several tries
    because the link may be lossy (the ARP exchange or the probe may be lost).
    """
    return (f'for i in 1 2 3 4 5; do ping -c 1 -W 1 "${remote_var}" >/dev/null && break; done; ')


def ping_command(count: int, interval: str, quiet: bool = False,
                 timestamps: bool = False) -> list[str]:
    """A shell command line: warm-up, then `count` probes every `interval` s, printed
    (with `timestamps`, each reply line starts with ping's clock: `ping -D`)."""
    q = "-q " if quiet else ""
    d = "-D " if timestamps else ""
    return ["sh", "-c", warm_up() +
            f'exec ping {q}{d}-c {count} -i {interval} -W 1 "$LONGHAUL_REMOTE"']


PING_TIMED_REPLY = re.compile(
    r"\[(\d+\.\d+)\] \d+ bytes from .*?icmp_seq=(\d+) .*?time=([\d.]+) ms")


def send_times(output: str) -> dict[int, float]:
    """icmp_seq -> when ping sent that probe (s, its clock), for each answered probe of
    `ping -D`: the time ping printed the reply (just after it arrived) less its round trip.
    Never earlier than the true send time; later by ping's printing delay."""
    return {int(seq): float(stamp) - float(rtt) / 1000
            for stamp, seq, rtt in PING_TIMED_REPLY.findall(output)}


def parse_replies(output: str) -> list[tuple[int, float, bool]]:
    """(icmp_seq, rtt_ms, duplicate) of each reply, in the order ping printed them (arrival)."""
    return [(int(seq), float(rtt), bool(dup)) for seq, rtt, dup in PING_REPLY.findall(output)]


def parse_summary(output: str) -> dict:
    match = PING_SUMMARY.search(output)
    assert match, f"no ping summary in:\n{output[-2000:]}"
    return {k: int(v or 0) for k, v in match.groupdict().items()}


def inversions(seqs: list[int]) -> int:
    """Replies that arrived after a reply to a later probe."""
    return sum(1 for before, after in zip(seqs, seqs[1:]) if after <= before)


def loss_runs(received: set[int], count: int) -> list[int]:
    """Lengths of the runs of consecutive missing sequence numbers among 1..count."""
    runs, current = [], 0
    for seq in range(1, count + 1):
        if seq in received:
            if current:
                runs.append(current)
            current = 0
        else:
            current += 1
    if current:
        runs.append(current)
    return runs


def check_reconciles(stats: dict) -> None:
    """packets in + duplicated = out + dropped + queued, and bytes likewise, per direction."""
    for name in ("up", "down"):
        d = stats["directions"][name]
        dropped = sum(c["packets"] for c in d["dropped"].values())
        dropped_bytes = sum(c["bytes"] for c in d["dropped"].values())
        assert d["packets_in"] + d["packets_duplicated"] == \
            d["packets_out"] + dropped + d["packets_queued"], (name, d)
        assert d["bytes_in"] + d["bytes_duplicated"] == \
            d["bytes_out"] + dropped_bytes + d["bytes_queued"], (name, d)
        assert d["reconciles"] is True, (name, d)


def unexpected_drops(stats: dict, allowed: tuple[str, ...] = ()) -> dict:
    """Drops (and kernel ingress losses) other than the causes the configuration asked for."""
    found = {}
    for name in ("up", "down"):
        d = stats["directions"][name]
        for cause, count in d["dropped"].items():
            if cause not in allowed and count["packets"]:
                found[f"{name} {cause}"] = count["packets"]
        if d["lost_before_ingress_frames"]:
            found[f"{name} lost before ingress"] = d["lost_before_ingress_frames"]
    return found


def lateness(stats: dict) -> dict:
    return {d: stats["directions"][d]["release_lateness_ns"] for d in ("up", "down")}


# --------------------------------------------------------------------------
# a. Jitter without reordering
# --------------------------------------------------------------------------


def test_order_preserving_jitter_keeps_ping_order_and_the_distribution(longhaul, tmp_path):
    # ping -i 0.005 sends a probe every 5-10 ms (iputils waits up to 10 ms
    # while replies are outstanding), so successive probes' round trips differ
    # by ~8 ms (sqrt(2) x 5.66 ms): per-packet jitter would reorder about one
    # reply in ten (the contrast run below shows it does).
    probes, rtt_ms, jitter_ms = 1000, 40.0, 4.0
    json_path = tmp_path / "run.json"
    result = longhaul.run("run", "--rtt", "40ms", "--jitter", "4ms", "--distribution", "normal",
                          "--seed", "11", "--json", str(json_path), "--",
                          *ping_command(probes, "0.005"), timeout=90)
    assert result.returncode == 0, result.stderr + result.stdout[-2000:]
    stats = read_json(json_path)
    for name in ("up", "down"):
        jitter = stats["link"][name]["jitter"]
        assert jitter["jitter_ns"] == 4_000_000, jitter
        assert jitter["distribution"] == "normal", jitter
        assert jitter["order_preserving"] is True, jitter

    replies = parse_replies(result.stdout)
    seqs = [seq for seq, _, _ in replies]
    assert len(replies) == probes, f"{len(replies)} replies to {probes} probes on a lossless link"
    assert inversions(seqs) == 0, \
        f"{inversions(seqs)} replies arrived out of order: {seqs[:50]}..."
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)

    rtts = [rtt for _, rtt, _ in replies]
    mean, sd = statistics.fmean(rtts), statistics.stdev(rtts)
    # Each direction's delay is N(20 ms, 4 ms) (netem's normal table: mean
    # -0.0008 sigma, sd 1.0001 sigma), independent of the other direction: the
    # round trip has mean 40 ms and sd sqrt(2) x 4 = 5.66 ms. Standard error of
    # the mean of 1000 probes ~0.2 ms (probes ~10 ms apart, the delay process
    # forgets its state in a few 6.4 ms), so 1 ms leaves room for the engine's
    # release lateness, which only adds.
    expected_sd = math.sqrt(2) * jitter_ms
    print(f"rtt mean {mean:.3f} ms, sd {sd:.3f} ms (expected {rtt_ms}, {expected_sd:.3f}); "
          f"lateness {lateness(stats)}")
    assert abs(mean - rtt_ms) <= 1.0, f"mean {mean:.3f} ms; lateness {lateness(stats)}"
    assert 0.75 * expected_sd <= sd <= 1.25 * expected_sd, \
        f"sd {sd:.3f} ms, expected {expected_sd:.3f} ms +-25%; lateness {lateness(stats)}"
    check_reconciles(stats)


def test_reordering_jitter_reorders_ping_replies(longhaul):
    # The contrast: the same link with netem's per-packet delays reorders, so
    # the order check above can fail.
    probes, rtt_ms, jitter_ms = 300, 40.0, 4.0
    result = longhaul.run("run", "-q", "--rtt", "40ms", "--jitter", "4ms", "--distribution",
                          "normal", "--jitter-mode", "reorder", "--seed", "11", "--",
                          *ping_command(probes, "0.005", timestamps=True), timeout=60)
    assert result.returncode == 0, result.stderr + result.stdout[-2000:]
    seqs = [seq for seq, _, _ in parse_replies(result.stdout)]
    assert len(seqs) == probes
    sent = send_times(result.stdout)
    assert len(sent) == probes, "ping -D printed fewer timed replies than replies"
    lo, hi, mean = reordered_inversion_interval([sent[seq] for seq in sorted(sent)], rtt_ms,
                                                jitter_ms, confidence=0.999)
    found = inversions(seqs)
    print(f"{found} of {probes} replies out of order; the model expects {mean:.1f}, "
          f"99.9 % interval [{lo}, {hi}]")
    assert lo <= found <= hi, f"{found} inversions, 99.9 % interval [{lo}, {hi}]: {seqs[:50]}"


def reordered_inversion_interval(sent: list[float], rtt_ms: float, jitter_ms: float,
                                 confidence: float, trials: int = 4000) -> tuple[int, int, float]:
    """Interval holding the inversion count of replies to probes sent at `sent` (s) when each
    direction's delay is an independent N(rtt/2, jitter) draw: a reference model, simulated
    here with its own generator (not longhaul's), on the probes' real send times (ping's
    spacing varies with the load and the replies outstanding).

    Each adjacent pair of replies is inverted with probability p = mean / (n - 1) (the
    simulated mean); the interval is the binomial one for that p, widened to the normal
    interval of the simulated mean and spread if the pairs' dependence makes that wider.
    A false failure: 1 - confidence.
    """
    rng = random.Random(20261205)
    sd = jitter_ms / 1000
    half = rtt_ms / 2000
    seqs = list(range(len(sent)))
    counts = []
    for _ in range(trials):
        arrival = [t + rng.gauss(half, sd) + rng.gauss(half, sd) for t in sent]
        order = sorted(seqs, key=arrival.__getitem__)
        counts.append(inversions(order))
    mean, spread = statistics.fmean(counts), statistics.stdev(counts)
    lo, hi = binomial_interval(len(sent) - 1, mean / (len(sent) - 1), confidence)
    z = statistics.NormalDist().inv_cdf(1 - (1 - confidence) / 2)
    return min(lo, math.floor(mean - z * spread)), max(hi, math.ceil(mean + z * spread)), mean


# Inside the command's namespace (fresh, so its counters are its own): the
# receiver's count of segments put in the out-of-order queue, around a
# download (-R: the host sends, the command receives).
OFO_SCRIPT = r"""
ofo() { nstat -asz TcpExtTCPOFOQueue | awk '$1 == "TcpExtTCPOFOQueue" { print $2 }'; }
echo "ofo-before $(ofo)"
iperf3 -c "$LONGHAUL_REMOTE" -p "$1" -t 4 -R -b 40M -J > "$2"
status=$?
echo "ofo-after $(ofo)"
exit $status
"""


def run_download_counting_ofo(longhaul, iperf3_server, tmp_path, mode: str) -> tuple[int, dict]:
    server = iperf3_server()
    json_path = tmp_path / f"run-{mode}.json"
    report_path = tmp_path / f"iperf3-{mode}.json"
    # 40 Mbit/s of paced sending through a 100 Mbit/s bottleneck with a
    # one-BDP queue: no queue drops, so any out-of-order arrival is the
    # jitter's doing.
    result = longhaul.run("run", "-q", "--rtt", "40ms", "--rate", "100mbit", "--jitter", "4ms",
                          "--distribution", "normal", "--jitter-mode", mode, "--seed", "12",
                          "--json", str(json_path), "--", "sh", "-c", OFO_SCRIPT, "sh",
                          str(server.port), str(report_path),
                          env={"NSTAT_HISTORY": str(tmp_path / "nstat.history")}, timeout=60)
    assert result.returncode == 0, result.stderr + result.stdout
    report = json.loads(report_path.read_text())
    assert "error" not in report, report.get("error")
    before = re.search(r"ofo-before (\d+)", result.stdout)
    after = re.search(r"ofo-after (\d+)", result.stdout)
    assert before and after, f"nstat gave no TcpExtTCPOFOQueue:\n{result.stdout}"
    received = report["end"]["sum_received"]["bits_per_second"]
    stats = read_json(json_path)
    print(f"{mode}: TCPOFOQueue {before.group(1)} -> {after.group(1)}, "
          f"{received / 1e6:.1f} Mbit/s, drops {unexpected_drops(stats)}")
    return int(after.group(1)) - int(before.group(1)), stats


def test_order_preserving_jitter_does_not_reorder_tcp(longhaul, iperf3_server, tmp_path):
    ofo, stats = run_download_counting_ofo(longhaul, iperf3_server, tmp_path, "order")
    # Precondition: nothing was dropped, so nothing arrived out of order for
    # that reason.
    assert unexpected_drops(stats) == {}, unexpected_drops(stats)
    assert stats["directions"]["down"]["packets_out"] > 10_000, stats["directions"]["down"]
    assert ofo == 0, f"{ofo} segments were queued out of order behind order-preserving jitter"
    check_reconciles(stats)


def test_reordering_jitter_reorders_tcp(longhaul, iperf3_server, tmp_path):
    ofo, stats = run_download_counting_ofo(longhaul, iperf3_server, tmp_path, "reorder")
    assert ofo > 0, "no out-of-order segments with per-packet jitter: the counter shows nothing"
    check_reconciles(stats)


# --------------------------------------------------------------------------
# b. Gilbert-Elliott burst loss
# --------------------------------------------------------------------------


def gilbert_loss_count_interval(n: int, p: float, r: float, confidence: float) -> tuple[int, int]:
    """Central interval of the number of losses in n packets of a simple Gilbert chain.

    Exact distribution by dynamic programming (good state: received, bad:
    lost; good->bad p, bad->good r), starting from the stationary state.
    """
    limit = n + 1
    pi_bad = p / (p + r)
    good = [0.0] * limit  # good[k]: P(k losses so far, now in the good state)
    bad = [0.0] * limit
    good[0], bad[0] = 1 - pi_bad, pi_bad
    top = 0  # highest count with non-negligible probability
    for _ in range(n):
        new_good = [0.0] * limit
        new_bad = [0.0] * limit
        for k in range(top + 1):
            g, b = good[k], bad[k]
            # This packet is received (good) or lost (bad); then the state moves.
            new_good[k] += g * (1 - p)
            new_bad[k] += g * p
            if k + 1 < limit:
                new_good[k + 1] += b * r
                new_bad[k + 1] += b * (1 - r)
        good, bad = new_good, new_bad
        top = min(top + 1, n)
        while top > 0 and good[top] + bad[top] < 1e-30:  # far beyond any tail we ask for
            top -= 1
    tail = (1 - confidence) / 2
    cdf, lo, hi = 0.0, None, None
    for k in range(limit):
        cdf += good[k] + bad[k]
        if lo is None and cdf > tail:
            lo = k
        if hi is None and cdf >= 1 - tail:
            hi = k
            break
    return lo, hi


def run_lossy_pings(longhaul, tmp_path, netem_up: str, seed: int, probes: int):
    json_path = tmp_path / f"run-{seed}.json"
    result = longhaul.run("run", "-q", "--netem-up", netem_up, "--seed", str(seed),
                          "--json", str(json_path), "--", *ping_command(probes, "0.002"),
                          timeout=90)
    # ping exits 1 when replies are missing.
    assert result.returncode in (0, 1), result.stderr + result.stdout[-2000:]
    summary = parse_summary(result.stdout)
    assert summary["sent"] == probes, summary
    received = {seq for seq, _, dup in parse_replies(result.stdout) if not dup}
    assert len(received) == summary["received"], (len(received), summary)
    stats = read_json(json_path)
    # Down is clean: every missing reply is a request lost on the way up.
    assert unexpected_drops(stats, allowed=("loss",)) == {}, unexpected_drops(stats)
    assert stats["directions"]["down"]["dropped"]["loss"]["packets"] == 0
    up = stats["directions"]["up"]
    lost = probes - len(received)
    others = up["packets_in"] - probes  # warm-up pings and ARP also face the model
    assert lost <= up["dropped"]["loss"]["packets"] <= lost + others, (lost, up)
    check_reconciles(stats)
    return received, stats


def test_gilbert_elliott_losses_come_in_bursts(longhaul, tmp_path):
    probes, p, r = 3000, 0.01, 0.30
    received, _ = run_lossy_pings(longhaul, tmp_path, "loss gemodel 1% 30%", 21, probes)
    runs = loss_runs(received, probes)
    lost = sum(runs)
    # netem's `gemodel p r` with its defaults 1-h = 100%, 1-k = 0: the loss
    # rate is (r(1-k) + p(1-h)) / (p + r) = p / (p + r) = 3.23 %, bursts are
    # geometric with mean 1/r = 3.33 packets.
    rate = p / (p + r)
    lo, hi = gilbert_loss_count_interval(probes, p, r, 0.999)
    mean_burst = statistics.fmean(runs) if runs else 0.0
    print(f"gemodel: {lost} of {probes} lost ({lost / probes:.2%}, model {rate:.2%}, 99.9% "
          f"interval [{lo}, {hi}]); {len(runs)} bursts, mean {mean_burst:.2f}, "
          f"longest {max(runs, default=0)}")
    assert lo <= lost <= hi, f"{lost} lost, 99.9% interval [{lo}, {hi}]"
    # With ~30 bursts of mean 3.33 (sd 2.8), the mean burst is below 1.9 with
    # probability < 0.05 % (simulated); Bernoulli loss gives ~1.03 (next test).
    assert mean_burst >= 1.9, f"mean burst {mean_burst:.2f}: {runs}"


def test_bernoulli_loss_at_the_same_rate_has_no_bursts(longhaul, tmp_path):
    probes = 3000
    rate = 0.01 / 0.31
    received, _ = run_lossy_pings(longhaul, tmp_path, f"loss {rate * 100:.4f}%", 22, probes)
    runs = loss_runs(received, probes)
    lost = sum(runs)
    lo, hi = binomial_interval(probes, rate, 0.999)
    mean_burst = statistics.fmean(runs) if runs else 0.0
    print(f"bernoulli: {lost} of {probes} lost, 99.9% interval [{lo}, {hi}]; "
          f"{len(runs)} bursts, mean {mean_burst:.2f}")
    assert lo <= lost <= hi, f"{lost} lost, 99.9% interval [{lo}, {hi}]"
    # Expected 1 / (1 - 0.032) = 1.03; above 1.15 with probability < 0.05 % (simulated).
    assert mean_burst <= 1.2, f"mean burst {mean_burst:.2f}: {runs}"


# --------------------------------------------------------------------------
# c. An outage TCP survives
# --------------------------------------------------------------------------


def test_tcp_survives_an_outage_and_recovers(longhaul, iperf3_server, tmp_path):
    rate_bps = 50_000_000
    server = iperf3_server()
    json_path = tmp_path / "run.json"
    # -R: the command's side receives, so iperf3's intervals are what arrived.
    result = longhaul.run("run", "-q", "--rtt", "20ms", "--rate", "50mbit", "--outage", "2s+2s",
                          "--seed", "31", "--json", str(json_path), "--",
                          "sh", "-c",
                          f'exec iperf3 -c "$LONGHAUL_REMOTE" -p {server.port} -t 8 -R -J',
                          timeout=60)
    assert result.returncode == 0, result.stderr + result.stdout
    report = json.loads(result.stdout)
    assert "error" not in report, report.get("error")
    intervals = [i["sum"] for i in report["intervals"]]
    rates = [round(i["bits_per_second"] / 1e6, 2) for i in intervals]
    print(f"Mbit/s per interval: {rates}")
    assert len(intervals) >= 8, rates

    stats = read_json(json_path)
    for name in ("up", "down"):
        assert stats["link"][name]["outages"] == [{"start_ns": 2_000_000_000,
                                                   "end_ns": 4_000_000_000}]
    assert stats["directions"]["down"]["dropped"]["loss"]["packets"] > 0
    check_reconciles(stats)

    # The outage covers run time [2 s, 4 s); iperf3's clock starts a little
    # after the run's (namespaces, connection set-up: well under a second),
    # so its interval [2 s, 3 s) lies inside the outage. What was in flight
    # when it began drains within the queue (~25 ms) plus the delay (10 ms).
    assert intervals[2]["bits_per_second"] < 0.05 * rate_bps, rates
    # Before: the link was full.
    assert intervals[1]["bits_per_second"] > 0.5 * rate_bps, rates
    # After: TCP's retransmission timer (RTO r = srtt + 200 ms, about 0.25 s)
    # backs off during the outage, retransmitting at r, 3r, 7r, 15r... after
    # it began; the first one past its 2 s end comes at most ~2.3 s after it
    # (15r for r just under 2/7 s), so from iperf3's 6 s on the transfer is
    # back above half the rate.
    for later in intervals[6:8]:
        assert later["bits_per_second"] > 0.5 * rate_bps, rates


# --------------------------------------------------------------------------
# d. --netem pass-through
# --------------------------------------------------------------------------


def test_netem_line_delay_and_loss(longhaul, tmp_path):
    probes, loss = 1000, 0.05
    json_path = tmp_path / "run.json"
    result = longhaul.run("run", "--netem", "delay 30ms loss 5%", "--seed", "41",
                          "--json", str(json_path), "--", *ping_command(probes, "0.01"),
                          timeout=90)
    assert result.returncode in (0, 1), result.stderr + result.stdout[-2000:]
    header = SEED_HEADER.search(result.stderr)
    assert header and int(header.group(1)) == 41, result.stderr
    summary = parse_summary(result.stdout)
    assert summary["sent"] == probes
    replies = parse_replies(result.stdout)
    rtts = [rtt for _, rtt, _ in replies]
    lost = probes - summary["received"]
    # A probe survives when the request and the reply both do.
    p_lost = 1 - (1 - loss) ** 2
    lo, hi = binomial_interval(probes, p_lost, 0.999)
    stats = read_json(json_path)
    mean = statistics.fmean(rtts)
    print(f"{lost} of {probes} lost (99.9% interval [{lo}, {hi}]); mean rtt {mean:.3f} ms; "
          f"lateness {lateness(stats)}")
    # 30 ms each way: 60 ms round trip (netem's delay is one way).
    assert abs(mean - 60.0) <= 1.0, f"mean {mean:.3f} ms; lateness {lateness(stats)}"
    # No probe early: a frame never leaves before its kernel arrival stamp plus the delay.
    assert min(rtts) >= 60.0 - RTT_EPSILON_MS, min(rtts)
    assert lo <= lost <= hi, f"{lost} of {probes} lost, 99.9% interval [{lo}, {hi}]"
    for name in ("up", "down"):
        assert stats["link"][name]["delay_ns"] == 30_000_000
    assert unexpected_drops(stats, allowed=("loss",)) == {}, unexpected_drops(stats)
    check_reconciles(stats)


IMPAIRMENT_USAGE_ERRORS = [
    (["--netem", "delay 30ms wobble 5%"], ["--netem", "wobble"]),
    (["--netem-up", "delay 30ms slot 1ms"], ["--netem-up", "slot"]),
    (["--netem", "delay 10ms", "--rtt", "20ms"], ["--netem", "--rtt"]),
    (["--netem", "loss 1%", "--loss", "1%"], ["--netem", "--loss"]),
    (["--netem", "rate 10mbit", "--rate", "20mbit"], ["--netem", "--rate"]),
    (["--netem", "seed 5", "--seed", "6"], ["--netem", "--seed"]),
    (["--netem", "reorder 10%"], ["--netem", "delay"]),
    (["--jitter", "4"], ["--jitter"]),
    (["--jitter", "4ms", "--distribution", "longhaul-no-such"], ["--distribution",
                                                                  "longhaul-no-such"]),
    (["--jitter", "4ms", "--jitter-mode", "sideways"], ["--jitter-mode", "sideways"]),
    (["--correlation-model", "gaussian"], ["--correlation-model", "gaussian"]),
    (["--duplicate", "10"], ["--duplicate"]),
    (["--corrupt", "101%"], ["--corrupt"]),
    (["--ber", "2"], ["--ber"]),
    (["--outage", "2s"], ["--outage"]),
]


@pytest.mark.parametrize("flags, named", [pytest.param(f, n, id=" ".join(f))
                                          for f, n in IMPAIRMENT_USAGE_ERRORS])
def test_impairment_usage_errors_exit_2_naming_the_flags(longhaul, flags, named):
    result = longhaul.run("run", *flags, "--", "true")
    assert result.returncode == 2, result.stderr
    for word in named:
        assert word in result.stderr, result.stderr
    assert SEED_HEADER.search(result.stderr) is None, "the run started despite the usage error"


# --------------------------------------------------------------------------
# e. Duplication
# --------------------------------------------------------------------------


def test_duplication_up_only_shows_in_ping_and_counters(longhaul, tmp_path):
    probes, p = 1000, 0.10
    json_path = tmp_path / "run.json"
    result = longhaul.run("run", "-q", "--netem-up", "duplicate 10%", "--seed", "51",
                          "--json", str(json_path), "--", *ping_command(probes, "0.002"),
                          timeout=60)
    assert result.returncode == 0, result.stderr + result.stdout[-2000:]
    summary = parse_summary(result.stdout)
    assert summary["sent"] == summary["received"] == probes, summary
    dups = summary["duplicates"]
    marked = sum(1 for _, _, dup in parse_replies(result.stdout) if dup)
    assert marked == dups, (marked, summary)
    # Each duplicated request is answered twice.
    lo, hi = binomial_interval(probes, p, 0.999)
    print(f"{dups} duplicates of {probes} probes; 99.9% interval [{lo}, {hi}]")
    assert lo <= dups <= hi, f"{dups} duplicates, 99.9% interval [{lo}, {hi}]"

    stats = read_json(json_path)
    assert stats["link"]["up"]["duplicate_probability"] == pytest.approx(p)
    assert "duplicate_probability" not in stats["link"]["down"]
    up, down = stats["directions"]["up"], stats["directions"]["down"]
    others = up["packets_in"] - probes  # warm-up ping and ARP can be duplicated too
    assert dups <= up["packets_duplicated"] <= dups + others, (dups, up)
    assert down["packets_duplicated"] == 0, down
    # Every copy was delivered: the host saw them all and answered them.
    assert up["packets_out"] == up["packets_in"] + up["packets_duplicated"], up
    assert down["packets_in"] >= probes + dups, down
    assert unexpected_drops(stats) == {}, unexpected_drops(stats)
    check_reconciles(stats)


# --------------------------------------------------------------------------
# f. Corruption caught by checksums
# --------------------------------------------------------------------------

# Runs in the command's namespace (fresh: its UDP counters are its own). Binds,
# prints its port, and receives until an intact "END" or a 10 s bound. Then
# prints what arrived and the namespace's UDP counters (/proc/net/snmp, as nstat reads).
UDP_RECEIVER = r"""
import json, os, socket, sys
def udp_counters():
    lines = [l.split() for l in open("/proc/net/snmp") if l.startswith("Udp:")]
    return dict(zip(lines[0][1:], map(int, lines[1][1:])))
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, getattr(socket, "SO_RCVBUFFORCE", 33), 8 << 20)
s.bind((os.environ["LONGHAUL_LOCAL"], 0))
before = udp_counters()
print("ready", *s.getsockname(), flush=True)
s.settimeout(10.0)
good, bad = set(), 0
try:
    while True:
        data, _ = s.recvfrom(2048)
        if data.startswith(b"END"):
            if data == b"END" * 10:
                break
            bad += 1
            continue
        seq = int.from_bytes(data[:4], "big")
        if data == seq.to_bytes(4, "big") + bytes((seq + i) % 251 for i in range(len(data) - 4)):
            good.add(seq)
        else:
            bad += 1
except socket.timeout:
    pass
after = udp_counters()
print(json.dumps({"good": sorted(good), "bad": bad,
                  "delta": {k: after[k] - before[k] for k in after}}), flush=True)
"""


def test_corruption_is_caught_by_udp_checksums(longhaul, tmp_path):
    datagrams, size, p = 2000, 512, 0.20
    json_path = tmp_path / "run.json"
    process = longhaul.start("run", "-q", "--corrupt", "20%", "--seed", "61",
                             "--json", str(json_path), "--", "sh", "-c",
                             warm_up() + 'exec "$@"', "sh", sys.executable, "-c", UDP_RECEIVER)

    def ready():
        if process.poll() is not None:
            raise AssertionError(f"the receiver ended early:\n{process.output()}")
        match = re.search(r"ready (198\.18\.\d+\.\d+) (\d+)", process.stdout())
        return match and (match.group(1), int(match.group(2)))

    address, port = wait_until(ready, timeout=20, what="the receiver in the command namespace")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
        for seq in range(datagrams):
            payload = seq.to_bytes(4, "big") + bytes((seq + i) % 251 for i in range(size - 4))
            sender.sendto(payload, (address, port))
        # The end mark, repeated: each copy survives corruption with 80 %.
        for _ in range(20):
            sender.sendto(b"END" * 10, (address, port))
    assert process.wait(timeout=30) == 0, process.output()
    report = json.loads(process.stdout().strip().splitlines()[-1])
    stats = read_json(json_path)
    delivered = len(report["good"])
    missing = datagrams - delivered
    errors = report["delta"]["InCsumErrors"]
    lo, hi = binomial_interval(datagrams, p, 0.999)
    print(f"{delivered} of {datagrams} delivered intact, {report['bad']} delivered damaged, "
          f"{errors} checksum errors (99.9% interval [{lo}, {hi}]); udp {report['delta']}")
    # Nothing damaged reached the application...
    assert report["bad"] == 0, report["bad"]
    # ...because the kernel dropped every corrupted datagram on its checksum.
    assert report["delta"]["RcvbufErrors"] == 0, report["delta"]
    assert unexpected_drops(stats) == {}, unexpected_drops(stats)
    assert lo <= missing <= hi, f"{missing} missing, 99.9% interval [{lo}, {hi}]"
    # Every missing datagram is a checksum error (plus corrupted END marks).
    assert missing <= errors <= missing + 20, (missing, errors)
    assert stats["link"]["down"]["corrupt_probability"] == pytest.approx(p)
    check_reconciles(stats)


def test_outage_drops_are_reported_as_such_in_the_model_counters(longhaul, tmp_path):
    # Nothing but an outage can lose packets here, so every loss drop in each
    # direction must be an outage drop in that direction's model counters.
    interval_s, outage_s, one_way_s = 0.01, 0.5, 0.005
    json_path = tmp_path / "run.json"
    result = longhaul.run("run", "-q", "--rtt", "10ms", "--outage", "1s+500ms", "--json",
                          str(json_path), "--", *ping_command(300, "0.01", timestamps=True),
                          timeout=60)
    assert result.returncode in (0, 1), result.stderr + result.stdout[-2000:]
    summary = parse_summary(result.stdout)
    lost_probes = summary["sent"] - summary["received"]
    stats = read_json(json_path)
    total_outage = 0
    for name in ("up", "down"):
        direction = stats["directions"][name]
        models = direction["models"]
        assert models["outage_dropped_frames"] == direction["dropped"]["loss"]["packets"], direction
        assert models["aqm_dropped_frames"] == 0 and models["ecn_marked_frames"] == 0, models
        total_outage += models["outage_dropped_frames"]
    # Each lost probe was dropped going up or its reply coming down.
    assert lost_probes <= total_outage, (lost_probes, total_outage)
    check_reconciles(stats)

    # The outage's length, seen by the probes. The lost ones are one run of sequence numbers,
    # between two answered probes a and b. a's reply entered the engine before the outage
    # began (T0), so a was sent before T0 - one_way; b's request entered after it ended (T1),
    # so b was sent after T1 less the time from ping's clock read to the frame's kernel
    # arrival stamp (allowed: one probe interval). Hence b - a >= outage + one_way - interval.
    # And every lost probe was sent within [T0 - one_way - turnaround, T1), at most one per
    # interval (ping's pacing never catches up): at most (outage + one_way + interval) /
    # interval + 1 of them, the peer's turnaround allowed one interval. A 10 ms outage fails
    # the first bound, a 1 s one the second.
    sent = send_times(result.stdout)
    lost = sorted(set(range(1, summary["sent"] + 1)) - set(sent))
    assert lost, summary
    assert lost == list(range(lost[0], lost[-1] + 1)), f"losses not in one run: {lost}"
    before, after = lost[0] - 1, lost[-1] + 1
    assert before in sent and after in sent, f"the outage was not inside the ping run: {lost}"
    span = sent[after] - sent[before]
    most = math.floor((outage_s + one_way_s + interval_s) / interval_s) + 1
    print(f"{len(lost)} probes lost (at most {most}); answered probes {span * 1000:.1f} ms apart "
          f"around them (at least {(outage_s + one_way_s - interval_s) * 1000:.0f} ms)")
    assert span >= outage_s + one_way_s - interval_s, (span, lost)
    assert len(lost) <= most, (len(lost), most)

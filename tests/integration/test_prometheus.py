"""A real Prometheus (Debian's `prometheus` package) scrapes a lab's /metrics over TCP, with the
scrape configurations of docs/api.md ("Scraping with Prometheus") as written but for ports and
paths: the target is up, the series carry the configured delay and the lab/lane/direction
labels, the packet counters follow a ping and the delay gauge a live change; with a token, the
authorised job is up and one without the token is down with 401.

Each test runs its own server, on a free loopback port, with its own configuration and
storage in the test's temporary directory, so a system Prometheus (Debian's service on :9090)
is neither needed nor disturbed. Synchronisation is by polling Prometheus' API with a bounded
deadline."""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request

import pytest

from conftest import REPO_ROOT, Process, base_env, free_port, wait_until

sys.path.insert(0, str(REPO_ROOT / "python"))
pytest_plugins = ["longhaul_pytest"]

# One lane with a different delay each way, so a label mix-up shows in the values.
LAB = {"name": "prom", "site": [{"name": "a"}, {"name": "b"}],
       "lane": [{"a": "a", "b": "b", "name": "wan", "delay-up": "7ms", "delay-down": "13ms",
                 "rate": "100mbit"}]}
# Prometheus starts in a few seconds and scrapes each second once up; on a loaded 2-vCPU
# machine give it ample room.
SCRAPE_TIMEOUT_S = 30


pytestmark = pytest.mark.usefixtures("client_env")




def docs_scrape_configs() -> list[str]:
    """The ```yaml blocks of docs/api.md's "Scraping with Prometheus", in order."""
    text = (REPO_ROOT / "docs" / "api.md").read_text()
    section = text.split("## Scraping with Prometheus\n", 1)[1].split("\n## ", 1)[0]
    blocks = [block.split("```", 1)[0] for block in section.split("```yaml\n")[1:]]
    assert len(blocks) == 2, blocks
    return blocks


def replace_once(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, (old, text)
    return text.replace(old, new)


class Prometheus:
    """A prometheus server of the test's own: its config, storage and loopback port."""

    def __init__(self, process: Process, port: int):
        self.process = process
        self.url = f"http://127.0.0.1:{port}"

    def api(self, path: str, **params: str):
        """`data` of a GET on the HTTP API; None while the server does not answer yet."""
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        try:
            with urllib.request.urlopen(self.url + path + query, timeout=5) as response:
                body = json.load(response)
        except (urllib.error.URLError, ConnectionError, socket.timeout):
            assert self.process.poll() is None, f"prometheus exited:\n{self.process.output()}"
            return None
        assert body["status"] == "success", body
        return body["data"]

    def targets(self) -> dict:
        """Active targets by job: {"job": target} (health, lastError, labels, ...)."""
        data = self.api("/api/v1/targets") or {"activeTargets": []}
        return {t["labels"]["job"]: t for t in data["activeTargets"]}

    def query(self, expression: str) -> list[tuple[dict, float]]:
        data = self.api("/api/v1/query", query=expression)
        if data is None:
            return []
        assert data["resultType"] == "vector", data
        return [(r["metric"], float(r["value"][1])) for r in data["result"]]

    def value(self, expression: str) -> float | None:
        """The one sample of `expression`, None while there is none."""
        result = self.query(expression)
        assert len(result) <= 1, result
        return result[0][1] if result else None

    def wait_for_scrape(self, job: str, health: str = "up") -> dict:
        """Waits until `job`'s target has been scraped with `health`; returns the target."""
        def scraped():
            target = self.targets().get(job)
            return target if target and target["health"] == health else None
        try:
            return wait_until(scraped, timeout=SCRAPE_TIMEOUT_S, interval=0.2,
                              what=f"prometheus to scrape job {job} with health {health}")
        except AssertionError as error:
            raise AssertionError(f"{error}: targets {self.targets()}\n"
                                 f"{self.process.output()[-3000:]}") from None


@pytest.fixture
def prometheus(tmp_path):
    """Factory: starts prometheus on a configuration text; stopped (SIGTERM) after the test."""
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.skip("prometheus is not installed (scripts/install-deps.sh installs it)")
    started: list[Process] = []

    def start(config: str) -> Prometheus:
        directory = tmp_path / f"prometheus{len(started)}"
        directory.mkdir()
        (directory / "prometheus.yml").write_text(config)
        port = free_port()
        process = Process([binary, f"--config.file={directory / 'prometheus.yml'}",
                           f"--storage.tsdb.path={directory / 'data'}",
                           f"--web.listen-address=127.0.0.1:{port}"],
                          base_env(), str(directory))
        started.append(process)
        return Prometheus(process, port)

    yield start
    for process in started:
        process.stop()
        process.close()


def test_prometheus_scrapes_a_lab_with_the_config_of_docs_api_md(longhaul_lab, prometheus):
    port = free_port()
    lab = longhaul_lab(LAB, "--listen", f"127.0.0.1:{port}")
    # Prometheus' own linter on the exposition (the server also parses it when it scrapes).
    lint = subprocess.run(["promtool", "check", "metrics"], input=lab.metrics(),
                          capture_output=True, text=True, timeout=30)
    assert lint.returncode == 0 and not lint.stdout.strip(), lint.stdout + lint.stderr

    config = replace_once(docs_scrape_configs()[0], "127.0.0.1:9550", f"127.0.0.1:{port}")
    server = prometheus(config)
    target = server.wait_for_scrape("longhaul")
    assert target["lastError"] == "", target
    assert target["scrapeUrl"] == f"http://127.0.0.1:{port}/metrics", target

    # The configured delay, per direction, with the labels docs/api.md names.
    delays = {m["direction"]: (m, v) for m, v in
              server.query('longhaul_configured_delay_seconds{job="longhaul"}')}
    assert set(delays) == {"up", "down"}, delays
    for direction, expected in (("up", 0.007), ("down", 0.013)):
        labels, value = delays[direction]
        assert value == pytest.approx(expected), (direction, labels, value)
        assert labels["lab"] == "prom" and labels["lane"] == "wan", labels
        assert labels["instance"] == f"127.0.0.1:{port}", labels
    rates = server.query("longhaul_configured_rate_bps")
    assert [v for _, v in rates] == [100e6, 100e6], rates
    causes = {m["cause"] for m, _ in server.query('longhaul_dropped_packets_total'
                                                  '{direction="up"}')}
    assert {"queue_full", "loss", "mtu"} <= causes, causes

    # Pings from a to b: requests go up, replies come down; Prometheus sees both counters grow.
    series = 'longhaul_packets_out_total{{lab="prom",lane="wan",direction="{}"}}'
    before = {d: server.value(series.format(d)) for d in ("up", "down")}
    assert None not in before.values(), before
    count = 5
    result = lab.exec("a", "ping", "-n", "-c", str(count), "-i", "0.05", "-W", "2", "b")
    assert result.returncode == 0, result.stdout + result.stderr
    for direction in ("up", "down"):
        wait_until(lambda: (server.value(series.format(direction)) or 0)
                   >= before[direction] + count, timeout=SCRAPE_TIMEOUT_S, interval=0.2,
                   what=f"prometheus to see {count} more packets {direction} than "
                        f"{before[direction]}")
    # What Prometheus has is what the lab counted (at most what it counts now).
    now = lab.lane("wan")
    for direction in ("up", "down"):
        assert server.value(series.format(direction)) <= \
            now[direction]["counters"]["packets_out"], now[direction]["counters"]

    # The docs' PromQL for the p99 queue sojourn: pings on an idle link wait nothing, so it is
    # inside the first bucket (below 1 us) once two scrapes saw them.
    text = (REPO_ROOT / "docs" / "api.md").read_text()
    expression = next(line.strip() for line in text.splitlines()
                      if line.strip().startswith("histogram_quantile("))
    def sojourn_p99():
        values = {m["direction"]: v for m, v in server.query(expression)}
        return values if len(values) == 2 and all(v == v for v in values.values()) else None
    p99 = wait_until(sojourn_p99, timeout=SCRAPE_TIMEOUT_S, interval=0.2,
                     what=f"prometheus to answer {expression}")
    assert all(0 <= v <= 1e-6 for v in p99.values()), p99

    # A live change reaches the gauge at the next scrape.
    lab.set("wan", up={"delay": "3ms"})
    wait_until(lambda: server.value('longhaul_configured_delay_seconds{direction="up"}')
               == pytest.approx(0.003), timeout=SCRAPE_TIMEOUT_S, interval=0.2,
               what="prometheus to see the up delay changed to 3 ms")
    assert server.value('longhaul_configured_delay_seconds{direction="down"}') == \
        pytest.approx(0.013)


def test_with_a_token_the_authorised_scrape_is_up_and_one_without_it_is_401(
        longhaul_lab, prometheus, tmp_path):
    token_file = tmp_path / "longhaul-token"
    token_file.write_text("s3cret-" + os.urandom(12).hex() + "\n")
    token_file.chmod(0o600)
    port = free_port()
    longhaul_lab(LAB, "--listen", f"127.0.0.1:{port}", "--token-file", str(token_file))

    # The docs' second block (the authorised job), plus a 1 s interval and a job without it.
    authorised = docs_scrape_configs()[1]
    authorised = replace_once(authorised, "lab-host:9550", f"127.0.0.1:{port}")
    authorised = replace_once(authorised, "/etc/prometheus/longhaul.token", str(token_file))
    config = (f"global:\n  scrape_interval: 1s\n{authorised}"
              f"  - job_name: anonymous\n    static_configs:\n"
              f"      - targets: [\"127.0.0.1:{port}\"]\n")
    server = prometheus(config)
    target = server.wait_for_scrape("longhaul")
    assert target["lastError"] == "", target
    anonymous = server.wait_for_scrape("anonymous", health="down")
    assert "401" in anonymous["lastError"], anonymous
    delays = server.query('longhaul_configured_delay_seconds{job="longhaul"}')
    assert sorted(v for _, v in delays) == pytest.approx([0.007, 0.013]), delays
    assert server.query('longhaul_configured_delay_seconds{job="anonymous"}') == []
    assert server.value('up{job="anonymous"}') == 0

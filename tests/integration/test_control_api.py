"""The control API of a running lab (docs/api.md), through the repository's Python client
(python/longhaul_client.py) and its pytest fixture: live changes seen by real traffic, the
schema, the metrics text, every error status, and the socket's permissions."""
from __future__ import annotations

import json
import re
import statistics
import subprocess
import sys

import pytest

from conftest import REPO_ROOT, RTT_EPSILON_MS, base_env, longhaul_binary

sys.path.insert(0, str(REPO_ROOT / "python"))
from longhaul_client import ApiError, Lab, topology_text  # noqa: E402

pytest_plugins = ["longhaul_pytest"]

TWO_LANES = {"name": "api", "site": [{"name": "hq"}, {"name": "east"}, {"name": "west"}],
             "switch": [{"name": "hub"}],
             "lane": [{"a": "hq", "b": "hub", "name": "hq"},
                      {"a": "east", "b": "hub", "name": "east", "rtt": "20ms",
                       "rate": "200mbit"},
                      {"a": "west", "b": "hub", "name": "west", "rtt": "40ms",
                       "rate": "200mbit"}]}


pytestmark = pytest.mark.usefixtures("client_env")


def ping_rtts(lab: Lab, source: str, target: str, count: int) -> list[float]:
    result = lab.exec(source, "ping", "-n", "-c", str(count), "-i", "0.05", "-W", "2", target)
    assert result.returncode == 0, result.stdout + result.stderr
    return [float(m) for m in re.findall(r"time=([\d.]+) ms", result.stdout)]


def test_topology_text_from_a_dict_is_a_topology_file(tmp_path):
    path = tmp_path / "api.toml"
    path.write_text(topology_text(TWO_LANES))
    result = subprocess.run([str(longhaul_binary()), "up", "--check", str(path)],
                            capture_output=True, text=True, env=base_env())
    assert result.returncode == 0, result.stderr
    assert "3 sites, 1 switch, 3 lanes" in result.stdout, result.stdout


def test_a_live_rtt_change_is_what_ping_sees(longhaul_lab):
    lab = longhaul_lab(TWO_LANES)
    before = ping_rtts(lab, "hq", "east", 5)
    assert 20.0 - RTT_EPSILON_MS <= min(before) <= 21.0, before
    # Lower the RTT (a delay decrease needs no more buffer than the lab reserved).
    response = lab.set("east", rtt="10ms")
    assert response["changes"][0]["lane"] == "east", response
    after = ping_rtts(lab, "hq", "east", 10)
    # Every ping sent after the change (the call returns once it is applied) has the new RTT:
    # none is below it, none has the old one (a late wake-up on a loaded 2-vCPU VM may add a few
    # milliseconds to one ping, never 10), and the median is the new RTT.
    assert all(10.0 - RTT_EPSILON_MS <= rtt < 20.0 - RTT_EPSILON_MS for rtt in after), after
    assert statistics.median(after) <= 11.0, after
    config = lab.lane("east")
    assert config["up"]["config"]["delay_s"] == pytest.approx(0.005)
    assert config["down"]["config"]["delay_s"] == pytest.approx(0.005)
    assert config["up"]["live_changes_applied"] == 1, config["up"]


def test_one_direction_and_two_lanes_at_one_instant(longhaul_lab):
    lab = longhaul_lab(TWO_LANES)
    lab.set("west", up={"delay": "5ms"})
    west = lab.lane("west")
    assert west["up"]["config"]["delay_s"] == pytest.approx(0.005)
    assert west["down"]["config"]["delay_s"] == pytest.approx(0.020)
    response = lab.changes([{"lane": "east", "rate": "50mbit"},
                            {"lane": "west", "rate": "50mbit"}])
    # One request, one engine instant (at_s) for both lanes.
    assert [change["lane"] for change in response["changes"]] == ["east", "west"], response
    assert response["at_s"] > 0, response
    for name in ("east", "west"):
        for direction in ("up", "down"):
            assert lab.lane(name)[direction]["config"]["rate_bps"] == 50_000_000


def test_params_are_the_schema_longhaul_params_prints(longhaul_lab):
    lab = longhaul_lab(TWO_LANES)
    printed = json.loads(subprocess.run([str(longhaul_binary()), "params", "--json"],
                                        capture_output=True, text=True, check=True).stdout)
    served = lab.params()
    assert [p["key"] for p in served] == [p["key"] for p in printed["params"]]
    api_live = {p["key"] for p in served if p["api_live"]}
    assert api_live == {"rtt", "delay", "rate", "loss", "queue"}, api_live


def test_metrics_are_prometheus_text_with_a_line_per_lane_direction(longhaul_lab):
    lab = longhaul_lab(TWO_LANES)
    ping_rtts(lab, "hq", "east", 3)
    text = lab.metrics()
    samples = {}
    for line in text.splitlines():
        if line.startswith("#"):
            assert re.match(r"# (HELP|TYPE) longhaul_[a-z_]+ ", line), line
            continue
        match = re.fullmatch(r'(longhaul_[a-z_]+)\{([^}]*)\} (\d+(\.\d+)?(e[-+]\d+)?)', line)
        assert match, line
        samples.setdefault(match.group(1), []).append((match.group(2), float(match.group(3))))
    lines = samples["longhaul_packets_out_total"]
    assert len(lines) == 6, lines  # 3 lanes x 2 directions
    east_up = [v for labels, v in lines if 'lane="east"' in labels and 'direction="up"' in labels]
    assert east_up and east_up[0] >= 3, lines


@pytest.mark.parametrize("method,path,body,status,words", [
    ("PATCH", "/v1/lanes/east", {"jitter": "1ms"}, 409, ["jitter", "not live"]),
    ("PATCH", "/v1/lanes/east", {"speed": "1mbit"}, 400, ["speed", "live keys"]),
    ("PATCH", "/v1/lanes/east", {"rate": "fast"}, 400, ["fast"]),
    ("PATCH", "/v1/lanes/mars", {"rate": "1mbit"}, 404, ["mars", "east"]),
    ("DELETE", "/v1/lanes/east", None, 405, ["DELETE"]),
    ("GET", "/v1/nothing", None, 404, ["/v1/lanes"]),
    ("POST", "/v1/changes", {"changes": [{"lane": "east", "rate": "1mbit"},
                                         {"lane": "west", "rate": "x"}]}, 400, ["x"]),
])
def test_errors_name_what_is_wrong_and_change_nothing(longhaul_lab, method, path, body, status,
                                                      words):
    lab = longhaul_lab(TWO_LANES)
    before = lab.lanes()
    with pytest.raises(ApiError) as error:
        lab.request(method, path, body)
    assert error.value.status == status, error.value
    for word in words:
        assert word in error.value.message, error.value.message
    after = lab.lanes()
    for name in before:  # nothing changed, in any lane (a bad second change stops the first)
        for direction in ("up", "down"):
            assert after[name][direction]["config"] == before[name][direction]["config"]


def test_a_body_over_the_limit_is_413(longhaul_lab):
    lab = longhaul_lab(TWO_LANES)
    with pytest.raises(ApiError) as error:
        lab.request("PATCH", "/v1/lanes/east", {"rate": "1mbit", "pad": "x" * 70_000})
    assert error.value.status == 413, error.value


def test_a_user_outside_the_group_cannot_open_the_socket(longhaul_lab):
    lab = longhaul_lab(TWO_LANES)
    probe = ("import socket,sys\ns=socket.socket(socket.AF_UNIX)\n"
             f"try:\n s.connect({lab.socket_path!r})\nexcept PermissionError:\n sys.exit(13)\n")
    result = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                             sys.executable, "-c", probe], capture_output=True, text=True)
    assert result.returncode == 13, result.stdout + result.stderr
    # Root (the owner) can.
    assert lab.info()["kind"] == "lab"


def test_the_examples_of_docs_api_md_work_as_written(tmp_path):
    """Every `curl` line and the first Python block of docs/api.md, against the four-site lab
    they name (sudo dropped: the tests run as root)."""
    text = (REPO_ROOT / "docs" / "api.md").read_text()
    curls = [line.strip().removeprefix("sudo ") for line in text.splitlines()
             if line.startswith("    sudo curl ")]
    assert len(curls) == 3, curls
    python_block = text.split("```python\n")[1].split("```")[0]
    with Lab.up(REPO_ROOT / "examples" / "four-sites.toml"):
        for command in curls:
            result = subprocess.run(["bash", "-c", command + " --fail --silent --show-error"],
                                    capture_output=True, text=True, timeout=30)
            assert result.returncode == 0, (command, result.stderr)
            if "/metrics" not in command:
                json.loads(result.stdout)
    # The Python example brings the same lab up itself.
    result = subprocess.run([sys.executable, "-c", python_block], cwd=REPO_ROOT,
                            capture_output=True, text=True, timeout=120, env=base_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "150 ms" in result.stdout and " 0% packet loss" in result.stdout, result.stdout

"""A client for longhaul's control API, for test suites: standard library only.

    from longhaul_client import Lab

    with Lab.up("examples/four-sites.toml") as lab:          # or Lab.up({...}) from a dict
        print(lab.exec("japan", "ping", "-c", "3", "california").stdout)
        lab.set("japan", rtt="400ms")                         # PATCH /v1/lanes/japan
        lab.set("japan", up={"loss": "1%"})                   # one direction
        lab.changes([{"lane": "japan", "rate": "100mbit"},    # POST /v1/changes: both lanes
                     {"lane": "england", "rate": "100mbit"}])  # switch at one engine instant
        print(lab.lane("japan")["up"]["counters"]["packets_out"])
    # the lab is down here, whatever happened inside

`Lab.up` runs `longhaul up` (the binary on PATH, or $LONGHAUL_BIN), `Lab.attach(NAME)` talks to a
lab that is already up; `Engine.of_run("r1")` and `Engine.of_bridge("wan")` reach the API of a
`longhaul run` and of a `longhaul bridge --name wan` (every request method is Engine's). Errors from the API raise ApiError with its HTTP status and the
engine's message. See docs/api.md.
"""
from __future__ import annotations

import http.client
import json
import os
import re
import socket
import subprocess
import tempfile
from pathlib import Path
from typing import Iterator, Any, Optional, Union

STATE_DIRS = (Path("/run/longhaul/labs"),)


class ApiError(RuntimeError):
    """The API refused a request: `status` (400, 404, 405, 409, 413) and the engine's message."""

    def __init__(self, status: int, message: str):
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


class _UnixConnection(http.client.HTTPConnection):
    """HTTP/1.1 over the lab's unix socket."""

    def __init__(self, path: str, timeout: float):
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self._path)


def _binary() -> str:
    return os.environ.get("LONGHAUL_BIN", "longhaul")


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(str(value))  # a TOML basic string is a JSON string


def topology_text(lab: dict) -> str:
    """A topology file from a dict: {"name": ..., "site": [{...}], "switch": [...],
    "lane": [{"a": ..., "b": ..., "rtt": "80ms"}], "defaults": {...}} (docs/topology.md)."""
    lines = [f"{key} = {_toml_value(value)}" for key, value in lab.items()
             if not isinstance(value, (dict, list)) or key == "description"]
    if "defaults" in lab:
        lines.append("[defaults]")
        lines += [f"{k} = {_toml_value(v)}" for k, v in lab["defaults"].items()]
    for table in ("site", "switch", "lane"):
        for entry in lab.get(table, []):
            lines.append(f"[[{table}]]")
            lines += [f"{k} = {_toml_value(v)}" for k, v in entry.items()]
    return "\n".join(lines) + "\n"


class Engine:
    """Any engine's control API: a lab's, a run's (`Engine.of_run("r1")`, lane "link") or a
    bridge's (`Engine.of_bridge("wan")`, lanes "0", "1", ... or the topology's names)."""

    def __init__(self, socket_path: str, timeout: float = 10.0):
        self.socket_path = socket_path
        self.timeout = timeout

    @classmethod
    def of_run(cls, run: str, timeout: float = 10.0) -> "Engine":
        """The engine of `longhaul run` number `run` ("r1"); inside the run's command,
        $LONGHAUL_API names the socket."""
        return cls(f"/run/longhaul/runs/{run}.sock", timeout)

    @classmethod
    def of_bridge(cls, name: str = "bridge", timeout: float = 10.0) -> "Engine":
        """The engine of `longhaul bridge --name NAME`."""
        return cls(f"/run/longhaul/bridges/{name}.sock", timeout)

    # -- the API -----------------------------------------------------------------------------

    def request(self, method: str, path: str, body: Any = None) -> Any:
        """One API request; the decoded JSON (or text for /metrics). Raises ApiError."""
        connection = _UnixConnection(self.socket_path, self.timeout)
        try:
            payload = None if body is None else json.dumps(body)
            headers = {} if payload is None else {"Content-Type": "application/json"}
            connection.request(method, path, body=payload, headers=headers)
            response = connection.getresponse()
            text = response.read().decode()
        finally:
            connection.close()
        if response.status >= 400:
            try:
                message = json.loads(text).get("error", text)
            except ValueError:
                message = text
            raise ApiError(response.status, message)
        if response.getheader("Content-Type", "").startswith("application/json"):
            return json.loads(text)
        return text

    def info(self) -> dict:
        return self.request("GET", "/v1/")

    def params(self) -> list:
        return self.request("GET", "/v1/params")["params"]

    def lanes(self) -> dict:
        return {lane["name"]: lane for lane in self.request("GET", "/v1/lanes")["lanes"]}

    def lane(self, name: str) -> dict:
        return self.request("GET", f"/v1/lanes/{name}")

    def set(self, lane: str, at: Optional[str] = None, up: Optional[dict] = None,
            down: Optional[dict] = None, **keys: str) -> dict:
        """Changes one lane: set("japan", rtt="400ms"), set("japan", up={"delay": "60ms"}).
        Keys are the parameter table's (`longhaul params`); `rate_up` may be written for
        rate-up. `at`: "+5s" (from now) or "30s" (from the lab's start)."""
        body = {key.replace("_", "-"): value for key, value in keys.items()}
        if up:
            body["up"] = up
        if down:
            body["down"] = down
        if at:
            body["at"] = at
        return self.request("PATCH", f"/v1/lanes/{lane}", body)

    def changes(self, changes: list, at: Optional[str] = None) -> dict:
        """Several lanes at one engine instant (all or nothing)."""
        body: dict = {"changes": changes}
        if at:
            body["at"] = at
        return self.request("POST", "/v1/changes", body)

    def outage(self, lane: str, length: str, direction: str = "both") -> dict:
        return self.request("POST", f"/v1/lanes/{lane}/outage",
                            {"for": length, "direction": direction})

    def metrics(self) -> str:
        """The Prometheus text exposition of every lane direction."""
        return self.request("GET", "/metrics")

    def events(self, interval: str = "1s", timeout: Optional[float] = None) -> Iterator[dict]:
        """The engine's event stream (GET /v1/events): yields {"event": NAME, "data": {...}}
        as they come: hello, then samples every `interval`, changes and applied directions.
        `timeout` bounds the wait for each event (default: the lab's). Close the generator to
        close the stream."""
        connection = _UnixConnection(self.socket_path, timeout or self.timeout)
        try:
            connection.request("GET", f"/v1/events?interval={interval}")
            response = connection.getresponse()
            if response.status >= 400:
                raise ApiError(response.status, json.loads(response.read()).get("error", ""))
            name, data = None, None
            while True:
                line = response.readline()
                if not line:
                    return  # the engine closed the stream
                line = line.decode().rstrip("\n")
                if line.startswith("event: "):
                    name = line[len("event: "):]
                elif line.startswith("data: "):
                    data = json.loads(line[len("data: "):])
                elif line == "" and name is not None:
                    yield {"event": name, "data": data}
                    name, data = None, None
        finally:
            connection.close()


class Lab(Engine):
    """A running lab: its API on /run/longhaul/labs/NAME.sock, and its sites through `exec`."""

    def __init__(self, name: str, owned: bool = False, timeout: float = 10.0):
        super().__init__(str(STATE_DIRS[0] / f"{name}.sock"), timeout)
        self.name = name
        self.owned = owned

    # -- lifetime ----------------------------------------------------------------------------

    @classmethod
    def up(cls, topology: Union[str, os.PathLike, dict], *args: str,
           timeout: float = 120.0) -> "Lab":
        """`longhaul up` on a file, or on a dict written to a temporary file; returns the lab,
        which `down()` (or leaving the `with` block) takes down."""
        if isinstance(topology, dict):
            with tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False) as file:
                file.write(topology_text(topology))
            path = file.name
        else:
            path = os.fspath(topology)
        try:
            result = subprocess.run([_binary(), "up", path, *args], capture_output=True,
                                    text=True, timeout=timeout)
        finally:
            if isinstance(topology, dict):
                os.unlink(path)
        if result.returncode != 0:
            raise RuntimeError(f"longhaul up failed ({result.returncode}): {result.stderr}")
        found = re.search(r"^lab (\S+) from", result.stdout, re.M)
        if not found:
            raise RuntimeError(f"longhaul up did not name its lab: {result.stdout}")
        return cls(found.group(1), owned=True)

    @classmethod
    def attach(cls, name: str) -> "Lab":
        """A lab that is already up (not taken down by this object)."""
        return cls(name, owned=False)

    def down(self) -> None:
        subprocess.run([_binary(), "down", self.name], capture_output=True, text=True,
                       timeout=60, check=True)
        self.owned = False

    def __enter__(self) -> "Lab":
        return self

    def __exit__(self, *exc) -> None:
        if self.owned:
            self.down()

    # -- sites -------------------------------------------------------------------------------

    def exec(self, site: str, *command: str, timeout: float = 60.0,
             check: bool = False) -> subprocess.CompletedProcess:
        """Runs `command` in `site` (`longhaul exec`), returning its output."""
        return subprocess.run([_binary(), "exec", "--lab", self.name, site, "--", *command],
                              capture_output=True, text=True, timeout=timeout, check=check)

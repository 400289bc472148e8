"""docs/openapi.json is true to the server. The document is OpenAPI 3.0.3, its references
resolve and every operation has an operationId; every route the source registers is in it (and
every path in it is routed), as is every endpoint the running server lists. Against one running
lab, served on its unix socket and on a TCP dashboard listener with a token, every operation is
called with valid requests and with each error the document lists for it: the status must be
one the operation documents (and each documented status must be seen), the body must validate
against the documented schema, valid request bodies against the documented request schema, and
the events of the stream against their schemas. A small validator below implements the part of
JSON Schema the document uses, and the document may use no other keyword."""
from __future__ import annotations

import http.client
import json
import re
import secrets
import socket
import sys
import time
import urllib.parse
from dataclasses import dataclass
from typing import Any, Optional

import pytest

from conftest import REPO_ROOT, base_env, free_port, longhaul_binary, wait_until

sys.path.insert(0, str(REPO_ROOT / "python"))
from longhaul_client import Lab, _UnixConnection  # noqa: E402

DOC = json.loads((REPO_ROOT / "docs" / "openapi.json").read_text())
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
OPERATIONS = {operation["operationId"]: (method, path, operation)
              for path, item in DOC["paths"].items()
              for method, operation in item.items() if method in HTTP_METHODS}

LAB = {"name": "openapi", "site": [{"name": "a"}, {"name": "b"}],
       "lane": [{"a": "a", "b": "b", "name": "wire", "rtt": "20ms", "rate": "100mbit",
                 "loss": "0.1%"}]}
OVERSIZED = {"rate": "1mbit", "pad": "x" * 70_000}  # the limit is 64 KiB
MAX_EVENT_STREAMS = 16  # event_stream.hh kMaxEventStreams


# -------------------------------------------------------------------------------------------
# The subset of JSON Schema (OpenAPI 3.0 flavour) the document uses.

SCHEMA_KEYWORDS = {"type", "properties", "required", "items", "enum", "additionalProperties",
                   "$ref", "nullable", "minItems"}
ANNOTATIONS = {"description", "format", "example", "default", "title"}
JSON_TYPES = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
}


def resolve(ref: str) -> Any:
    """The node a local reference ("#/components/schemas/Lane") points at; KeyError if none."""
    assert ref.startswith("#/"), f"only local references: {ref}"
    node = DOC
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def schema_errors(value: Any, schema: dict, where: str = "$") -> list[str]:
    """Why `value` does not validate against `schema` (empty: it does)."""
    unknown = set(schema) - SCHEMA_KEYWORDS - ANNOTATIONS
    if unknown:
        raise ValueError(f"{where}: the test's validator does not implement {sorted(unknown)}")
    if "$ref" in schema:
        return schema_errors(value, resolve(schema["$ref"]), where)
    if value is None:
        return [] if schema.get("nullable") else [f"{where}: null, and it is not nullable"]
    if "type" in schema and not JSON_TYPES[schema["type"]](value):
        return [f"{where}: {json.dumps(value)[:80]} is not of type {schema['type']}"]
    found = []
    if "enum" in schema and value not in schema["enum"]:
        found.append(f"{where}: {value!r} is not one of {schema['enum']}")
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0):
            found.append(f"{where}: {len(value)} items, fewer than {schema['minItems']}")
        for index, item in enumerate(value):
            found += schema_errors(item, schema.get("items", {}), f"{where}[{index}]")
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        found += [f"{where}: lacks {name!r}" for name in schema.get("required", [])
                  if name not in value]
        extra = schema.get("additionalProperties", True)
        for name, item in value.items():
            if name in properties:
                found += schema_errors(item, properties[name], f"{where}.{name}")
            elif extra is False:
                found.append(f"{where}: {name!r} is not in the schema")
            elif isinstance(extra, dict):
                found += schema_errors(item, extra, f"{where}.{name}")
    return found


def test_the_validator_refuses_what_it_should():
    lane = {"$ref": "#/components/schemas/DirectionConfig"}
    good = {"rate_bps": 0, "rate": "unlimited", "delay_s": 0.0, "delay": "0 s", "loss": 0,
            "queue": {}, "outage_until_s": 0.0}
    assert schema_errors(good, lane) == []
    assert schema_errors({**good, "rate_bps": 1.5}, lane)  # not an integer
    assert schema_errors({**good, "rate_bps": True}, lane)  # a bool is no integer
    assert schema_errors({**good, "extra": 1}, lane)  # additionalProperties: false
    assert schema_errors({k: v for k, v in good.items() if k != "loss"}, lane)  # required
    assert schema_errors({**good, "queue": {"max_bytes": "1"}}, lane)  # nested, via $ref
    outage = {"$ref": "#/components/schemas/Outage"}
    assert schema_errors({"for": "1s", "direction": "sideways"}, outage)  # enum
    assert schema_errors({"changes": []}, {"$ref": "#/components/schemas/ChangeSet"})  # minItems
    assert schema_errors(None, {"type": "string"})
    assert schema_errors(None, {"type": "string", "nullable": True}) == []
    with pytest.raises(ValueError):
        schema_errors(1, {"type": "integer", "minimum": 0})  # a keyword it does not implement


# -------------------------------------------------------------------------------------------
# The document by itself, and the routes in the source.

def walk(node: Any, where: str = "#"):
    """Every (location, dict) in the document, depth first."""
    if isinstance(node, dict):
        yield where, node
        for key, value in node.items():
            yield from walk(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from walk(value, f"{where}/{index}")


def schemas_in(node: Any, where: str):
    """Every schema object in a schema, through properties, items and additionalProperties."""
    yield where, node
    for name, value in node.get("properties", {}).items():
        yield from schemas_in(value, f"{where}/properties/{name}")
    for key in ("items", "additionalProperties"):
        if isinstance(node.get(key), dict):
            yield from schemas_in(node[key], f"{where}/{key}")


def test_the_document_is_openapi_3_0_3_and_whole():
    assert DOC["openapi"] == "3.0.3"
    version = re.search(r"project\(longhaul VERSION (\S+)",
                        (REPO_ROOT / "CMakeLists.txt").read_text()).group(1)
    assert DOC["info"]["version"] == version, "info.version is the project's (CMakeLists.txt)"
    unresolved = []
    for where, node in walk(DOC):
        if "$ref" in node:
            try:
                resolve(node["$ref"])
            except KeyError:
                unresolved.append(f"{where}: {node['$ref']}")
    assert not unresolved, unresolved
    ids = [op.get("operationId") for item in DOC["paths"].values()
           for method, op in item.items() if method in HTTP_METHODS]
    assert all(ids) and len(set(ids)) == len(ids), f"missing or repeated operationIds: {ids}"
    roots = [(f"#/components/schemas/{name}", s)
             for name, s in DOC["components"]["schemas"].items()]
    roots += [(f"{where}/schema", node["schema"]) for where, node in walk(DOC)
              if isinstance(node.get("schema"), dict)]
    roots += [(where, schema) for where, node in walk(DOC, "#") if where.endswith("/x-events")
              for schema in node.values()]
    for root_where, root in roots:
        for where, schema in schemas_in(root, root_where):
            unknown = set(schema) - SCHEMA_KEYWORDS - ANNOTATIONS
            assert not unknown, f"{where} uses {unknown}, which the test cannot check"
    for path, item in DOC["paths"].items():
        for name in re.findall(r"\{(\w+)\}", path):
            declared = [p["name"] for p in item.get("parameters", []) if p["in"] == "path"]
            assert name in declared, f"{path}: {{{name}}} is not a declared path parameter"
        for method, operation in item.items():
            if method in HTTP_METHODS:
                for status in operation["responses"]:
                    assert re.fullmatch(r"[1-5]\d\d", status), (path, method, status)


def routes_in_the_source() -> dict[str, set[str]]:
    """Path -> methods, from the route registrations of src/control/*.cc (ControlApi's endpoint
    table, the paths its router compares, the HTTP server's own routes) and the dashboard's
    assets (CMakeLists.txt). A compared path with no entry in the endpoint table maps to no
    method: the document must have it, with whatever methods."""
    source = "".join(p.read_text() for p in sorted((REPO_ROOT / "src" / "control").glob("*.cc")))
    cmake = (REPO_ROOT / "CMakeLists.txt").read_text()
    routes: dict[str, set[str]] = {}
    for path, methods in re.findall(r'Endpoint\{"([^"]+)", "([^"]+)"\}', source):
        routes.setdefault(path, set()).update(m.strip() for m in methods.split(","))
    for path in re.findall(r'path == "([^"]+)"', source):
        routes.setdefault(path, set())
    for method, path in re.findall(r'server_->(Get|Post|Patch|Put|Delete|Options)\("([^"]+)"',
                                   source):
        routes.setdefault(path, set()).add(method.upper())
    assets = cmake.split("set(DASHBOARD_ASSETS", 1)[1].split(")", 1)[0]
    for path in re.findall(r'"(/[^|"]*)\|', assets):
        routes.setdefault(path, set()).add("GET")
    return routes


def test_every_route_in_the_source_is_documented_and_nothing_else():
    routes = routes_in_the_source()
    assert {"/v1/", "/v1/lanes/{lane}", "/v1/events", "/metrics", "/"} <= set(routes), \
        f"the parse of the source found too little: {routes}"
    documented = {path: {m.upper() for m in item if m in HTTP_METHODS}
                  for path, item in DOC["paths"].items()}
    assert set(routes) - set(documented) == set(), "routed but not in docs/openapi.json"
    assert set(documented) - set(routes) == set(), "in docs/openapi.json but not routed"
    for path, methods in routes.items():
        assert methods <= documented[path], f"{path}: {methods - documented[path]} undocumented"
        if methods:
            assert documented[path] <= methods, f"{path}: {documented[path] - methods} unrouted"


# -------------------------------------------------------------------------------------------
# The running lab.

@dataclass
class Served:
    lab: Lab
    port: int
    token: str


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes
    event: Optional[tuple[str, Any]] = None  # a stream's first event: (name, data)

    @property
    def media_type(self) -> str:
        return self.headers.get("Content-Type", "").split(";")[0].strip()




@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """One lab for the module: its unix socket, and `--web` on loopback with a token."""
    token = secrets.token_urlsafe(24)
    token_file = tmp_path_factory.mktemp("openapi") / "token"
    token_file.write_text(token + "\n")
    token_file.chmod(0o600)
    port = free_port()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LONGHAUL_BIN", str(longhaul_binary()))
        for key, value in base_env().items():
            patch.setenv(key, value)
        lab = Lab.up(LAB, "--web", f"127.0.0.1:{port}", "--token-file", str(token_file))
        try:
            yield Served(lab, port, token)
        finally:
            lab.down()


def read_event(response: http.client.HTTPResponse) -> tuple[str, Any]:
    """The next event of a stream: its name and decoded data."""
    name, data = None, None
    while True:
        line = response.readline()
        assert line, "the stream ended"
        line = line.decode().rstrip("\n")
        if line.startswith("event: "):
            name = line[len("event: "):]
        elif line.startswith("data: "):
            data = json.loads(line[len("data: "):])
        elif line == "" and name is not None:
            return name, data


def connect(served: Served, via: str) -> http.client.HTTPConnection:
    if via == "unix":
        return _UnixConnection(served.lab.socket_path, 10)
    return http.client.HTTPConnection("127.0.0.1", served.port, timeout=10)


def send(served: Served, method: str, path: str, body: Any = None, via: str = "unix") -> Answer:
    """One request. via: unix (the socket), tcp (bearer token), cookie (the token's cookie),
    anonymous (TCP, no token)."""
    headers = {"Authorization": f"Bearer {served.token}"} if via == "tcp" else {}
    if via == "cookie":
        headers["Cookie"] = f"longhaul_token={served.token}"
    if body is not None and not isinstance(body, bytes):
        body = json.dumps(body).encode()
    if body is not None:
        headers["Content-Type"] = "application/json"
    connection = connect(served, via)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        if response.getheader("Content-Type", "").startswith("text/event-stream"):
            return Answer(response.status, response.headers, b"", read_event(response))
        return Answer(response.status, response.headers, response.read())
    finally:
        connection.close()


def response_errors(responses: dict, answer: Answer, what: str) -> list[str]:
    """Why `answer` is not one of `responses` (a responses object) as documented."""
    documented = responses.get(str(answer.status))
    if documented is None:
        return [f"{what}: status {answer.status} is not documented ({sorted(responses)}): "
                f"{answer.body[:300]!r}"]
    if "$ref" in documented:
        documented = resolve(documented["$ref"])
    problems = [f"{what}: no {name} header" for name in documented.get("headers", {})
                if name not in answer.headers]
    content = documented.get("content", {})
    if not content:
        if answer.body:
            problems.append(f"{what}: a body, and none is documented: {answer.body[:200]!r}")
        return problems
    if answer.media_type not in content:
        return problems + [f"{what}: {answer.media_type!r} is not in {sorted(content)}"]
    if answer.media_type == "application/json":
        problems += [f"{what}: {e}" for e in
                     schema_errors(json.loads(answer.body), content[answer.media_type]["schema"])]
    return problems


@dataclass
class Case:
    """A request for one operation and the status it must get. `schema_accepts`: whether the
    document's request schema takes the body (None: not checked); a valid request's must."""
    method: str
    path: str
    status: int
    body: Any = None
    via: str = "unix"
    schema_accepts: Optional[bool] = None
    hold_streams: int = 0  # event streams to hold open during the request

    def __post_init__(self):
        if self.schema_accepts is None and self.status < 300 and self.body is not None:
            self.schema_accepts = True


def gets(path: str, *more: Case) -> list[Case]:
    """GET `path` through the socket and with the token (200), without the token (401)."""
    return [Case("GET", path, 200), Case("GET", path, 200, via="tcp"),
            Case("GET", path, 401, via="anonymous"), *more]


def asset(path: str) -> list[Case]:
    return [Case("GET", path, 200, via="tcp"), Case("GET", path, 200, via="cookie"),
            Case("GET", path, 401, via="anonymous"),
            Case("GET", path, 404)]  # the socket serves no dashboard


LANE, MARS = "/v1/lanes/wire", "/v1/lanes/mars"
OUTAGE = LANE + "/outage"
CASES: dict[str, list[Case]] = {
    "getEngine": gets("/v1/"),
    "getEngineWithoutSlash": gets("/v1"),
    "getParams": gets("/v1/params"),
    "listLanes": gets("/v1/lanes"),
    "getLane": gets(LANE, Case("GET", MARS, 404), Case("GET", "/v1/lanes/", 404)),
    "changeLane": [
        Case("PATCH", LANE, 200, {"rtt": "16ms"}),
        Case("PATCH", LANE, 200, {"up": {"delay": "7ms"}, "down": {"rate": "80mbit"}}, via="tcp"),
        Case("PATCH", LANE, 200, {"rate-up": "90mbit", "loss": "0.2%", "at": "+5ms"}),
        Case("PATCH", LANE, 200, {"queue-down": "100kB"}),
        Case("PATCH", LANE, 400, {"speed": "1mbit"}, schema_accepts=False),
        Case("PATCH", LANE, 400, {"rtt-up": "10ms"}, schema_accepts=False),
        Case("PATCH", LANE, 400, {"rate": 5}, schema_accepts=False),
        Case("PATCH", LANE, 400, {"lane": "wire", "rtt": "10ms"}, schema_accepts=False),
        Case("PATCH", LANE, 400, {"rate": "fast"}, schema_accepts=True),
        Case("PATCH", LANE, 400, {}, schema_accepts=True),  # sets nothing
        Case("PATCH", LANE, 400, b"{not json"),
        Case("PATCH", LANE, 401, {"rtt": "16ms"}, via="anonymous"),
        Case("PATCH", MARS, 404, {"rtt": "16ms"}),
        Case("PATCH", LANE, 409, {"jitter": "1ms"}, schema_accepts=False),
        Case("PATCH", LANE, 409, {"rtt": "16ms", "at": "0s"}, schema_accepts=True),  # past
        Case("PATCH", LANE, 409, {"rtt": "110s"}, schema_accepts=True),  # buffers
        Case("PATCH", LANE, 413, OVERSIZED),
    ],
    "startOutage": [
        Case("POST", OUTAGE, 200, {"for": "100ms", "direction": "up"}),
        Case("POST", OUTAGE, 200, {"for": "50ms", "at": "+5ms"}, via="tcp"),
        Case("POST", OUTAGE, 400, {}, schema_accepts=False),
        Case("POST", OUTAGE, 400, {"for": "1s", "direction": "sideways"}, schema_accepts=False),
        Case("POST", OUTAGE, 400, {"for": "1s", "why": "test"}, schema_accepts=False),
        Case("POST", OUTAGE, 400, {"for": "soon"}, schema_accepts=True),
        Case("POST", OUTAGE, 401, {"for": "1s"}, via="anonymous"),
        Case("POST", MARS + "/outage", 404, {"for": "1s"}),
        Case("POST", OUTAGE, 409, {"for": "1s", "at": "0s"}, schema_accepts=True),
        Case("POST", OUTAGE, 413, OVERSIZED),
    ],
    "postChanges": [
        Case("POST", "/v1/changes", 200, {"changes": [{"lane": "wire", "rate": "70mbit"}]}),
        Case("POST", "/v1/changes", 200,
             {"changes": [{"lane": "wire", "up": {"loss": "0.1%"}}], "at": "+5ms"}, via="tcp"),
        Case("POST", "/v1/changes", 400, {"changes": []}, schema_accepts=False),
        Case("POST", "/v1/changes", 400, {"rtt": "10ms"}, schema_accepts=False),
        Case("POST", "/v1/changes", 400, {"changes": [{"lane": "wire", "outage": "1s"}]},
             schema_accepts=False),
        Case("POST", "/v1/changes", 400, {"changes": [{"lane": "wire", "rate": "1mbit"},
                                                      {"lane": "wire", "delay": "1ms"}]},
             schema_accepts=True),  # one lane twice
        Case("POST", "/v1/changes", 401, {"changes": [{"lane": "wire", "rate": "70mbit"}]},
             via="anonymous"),
        Case("POST", "/v1/changes", 404, {"changes": [{"lane": "mars", "rate": "1mbit"}]},
             schema_accepts=True),
        Case("POST", "/v1/changes", 409, {"changes": [{"lane": "wire", "jitter": "1ms"}]},
             schema_accepts=False),
        Case("POST", "/v1/changes", 413, {"changes": [OVERSIZED]}),
    ],
    "streamEvents": [
        Case("GET", "/v1/events?interval=100ms", 200),
        Case("GET", "/v1/events", 200, via="tcp"),
        Case("GET", "/v1/events?interval=5ms", 400),
        Case("GET", "/v1/events?interval=soon", 400),
        Case("GET", "/v1/events", 401, via="anonymous"),
        Case("GET", "/v1/events?interval=100ms", 503, hold_streams=MAX_EVENT_STREAMS),
    ],
    "getMetrics": gets("/metrics"),
    "getDashboard": [
        *asset("/"),
        Case("GET", "/?token=PLACEHOLDER", 302, via="anonymous"),  # the right token
        Case("GET", "/?token=" + "x" * 32, 401, via="anonymous"),
    ],
    "getDashboardScript": asset("/ui/dashboard.js"),
    "getDashboardStyle": asset("/ui/dashboard.css"),
}


def path_matches(template: str, path: str) -> bool:
    pattern = re.sub(r"\\\{\w+\\\}", "[^/]*", re.escape(template))
    return re.fullmatch(pattern, urllib.parse.urlsplit(path).path) is not None


class HeldStreams:
    """`count` event streams open on the lab's socket, each answered (so counted) before the
    block runs; closed after it, and the engine's count back down before it returns."""

    def __init__(self, served: Served, count: int):
        self.served = served
        self.count = count
        self.sockets: list[socket.socket] = []

    def open_one(self) -> bool:
        stream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        stream.settimeout(10)
        stream.connect(self.served.lab.socket_path)
        # A short interval, so the engine notices the close at its next write.
        stream.sendall(b"GET /v1/events?interval=100ms HTTP/1.1\r\nHost: lab\r\n\r\n")
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = stream.recv(4096)
            assert chunk, "an event stream closed before its headers"
            head += chunk
        if head.startswith(b"HTTP/1.1 503"):  # streams closed just before are not out yet
            stream.close()
            return False
        assert head.startswith(b"HTTP/1.1 200"), head[:200]
        self.sockets.append(stream)
        return True

    def __enter__(self) -> "HeldStreams":
        for _ in range(self.count):
            wait_until(self.open_one, timeout=10, what="the engine to take one more stream")
        return self

    def __exit__(self, *exc) -> None:
        for stream in self.sockets:
            stream.close()
        wait_until(lambda: send(self.served, "GET", "/v1/events?interval=100ms").status == 200,
                   timeout=10, what="the engine to count the closed event streams out")


@pytest.mark.parametrize("operation_id", sorted(OPERATIONS))
def test_each_operation_answers_as_documented(served, operation_id):
    method, template, operation = OPERATIONS[operation_id]
    cases = CASES.get(operation_id)
    assert cases, f"{operation_id} has no cases in CASES: add its valid requests and errors"
    request_schema = None
    if "requestBody" in operation:
        request_schema = operation["requestBody"]["content"]["application/json"]["schema"]
    problems = []
    for case in cases:
        what = f"{case.method} {case.path[:60]} via {case.via}"
        assert case.method == method.upper() and path_matches(template, case.path), what
        if case.schema_accepts is not None:
            refused = schema_errors(case.body, request_schema)
            if case.schema_accepts == bool(refused):
                problems.append(f"{what}: the request schema should "
                                f"{'take' if case.schema_accepts else 'refuse'} "
                                f"{case.body}: {refused}")
        path = case.path.replace("PLACEHOLDER", urllib.parse.quote(served.token, safe=""))
        if case.hold_streams:
            with HeldStreams(served, case.hold_streams):
                answer = send(served, case.method, path, case.body, case.via)
        else:
            answer = send(served, case.method, path, case.body, case.via)
        if answer.status != case.status:
            problems.append(f"{what}: {answer.status}, not the case's {case.status}: "
                            f"{answer.body[:300]!r}")
        problems += response_errors(operation["responses"], answer, what)
        if answer.event is not None:
            name, data = answer.event
            assert name == "hello", answer.event
            problems += [f"{what}: hello: {e}" for e in
                         schema_errors(data, operation["x-events"]["hello"])]
    assert not problems, "\n".join(problems)
    unexercised = set(operation["responses"]) - {str(case.status) for case in cases}
    assert not unexercised, f"documented but no case gets it: {sorted(unexercised)}"


def test_the_event_stream_s_events_are_as_documented(served):
    """hello, then change and applied for a PATCH, and samples: each against its schema."""
    documented = DOC["paths"]["/v1/events"]["get"]["x-events"]
    connection = _UnixConnection(served.lab.socket_path, 10)
    seen: dict[str, int] = {}
    problems = []
    try:
        connection.request("GET", "/v1/events?interval=100ms")
        response = connection.getresponse()
        assert response.status == 200
        deadline = time.monotonic() + 20
        while set(seen) != set(documented) and time.monotonic() < deadline:
            name, data = read_event(response)
            if name not in documented:
                problems.append(f"an undocumented event {name}: {data}")
                continue
            problems += [f"{name}: {e}" for e in schema_errors(data, documented[name])]
            seen[name] = seen.get(name, 0) + 1
            if name == "hello":
                served.lab.set("wire", rtt="18ms")  # a change, and two directions applying it
    finally:
        connection.close()
    assert not problems, "\n".join(problems)
    assert set(seen) == set(documented), f"events seen: {seen}"


def test_the_metric_families_are_the_documented_ones(served):
    documented = DOC["paths"]["/metrics"]["get"]["x-metric-families"]
    text = served.lab.metrics()
    families = dict(re.findall(r"^# TYPE (\S+) (\S+)$", text, re.M))
    assert families == documented


@pytest.mark.parametrize("path", sorted(DOC["paths"]))
def test_other_methods_get_what_the_path_documents(served, path):
    """A method the path does not take: its x-other-methods (405 with Allow for the API)."""
    item = DOC["paths"][path]
    assert "delete" not in item
    answer = send(served, "DELETE", path.replace("{lane}", "wire"), via="tcp")
    problems = response_errors(item["x-other-methods"], answer, f"DELETE {path}")
    assert not problems, "\n".join(problems)
    if answer.status == 405:
        allowed = {m.strip() for m in answer.headers["Allow"].split(",")}
        assert allowed == {m.upper() for m in item if m in HTTP_METHODS}, answer.headers["Allow"]


def test_an_unknown_path_is_404_and_every_endpoint_it_lists_is_documented(served):
    answer = send(served, "GET", "/v1/nothing")
    problems = response_errors(DOC["x-unknown-paths"], answer, "GET /v1/nothing")
    assert not problems, "\n".join(problems)
    listing = json.loads(answer.body)["error"].split("endpoints: ", 1)[1]
    listed = re.findall(r"((?:[A-Z]+, )*[A-Z]+) (/[^\s,]*)", listing)
    assert len(listed) >= 8, listing
    for methods, path in listed:
        assert path in DOC["paths"], f"the server lists {path}; docs/openapi.json lacks it"
        for method in methods.split(", "):
            assert method.lower() in DOC["paths"][path], f"{method} {path} is not documented"


# Requests the document refuses: the server refuses them too (both once slipped through).
def test_a_patch_with_the_outage_endpoint_s_keys_is_a_400(served):
    body = {"outage": 5}
    assert schema_errors(body, {"$ref": "#/components/schemas/LaneChange"})
    answer = send(served, "PATCH", LANE, body)
    assert answer.status == 400, answer.body


def test_an_at_inside_one_change_of_a_set_is_a_400(served):
    body = {"changes": [{"lane": "wire", "rate": "75mbit", "at": "+60s"}]}
    assert schema_errors(body, {"$ref": "#/components/schemas/ChangeSet"})
    answer = send(served, "POST", "/v1/changes", body)
    assert answer.status == 400, answer.body

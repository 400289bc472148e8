// The dashboard: a client of the engine's own API (docs/api.md, docs/dashboard.md). It reads
// the engine (/v1/), the parameter schema (/v1/params) and the lanes (/v1/lanes) once, then lives
// on the event stream (/v1/events). Plain DOM and SVG: no framework, nothing fetched from
// elsewhere. Every text from the engine (lane and site names are the user's) goes through
// textContent or setAttribute, never through HTML parsing.
"use strict";

const HISTORY_S = 300; // seconds of samples kept in the browser and drawn
const RETRY_MS = 2000; // how often a gone engine is probed again
const DIRS = ["up", "down"];
const ARROW = { up: "▲", down: "▼" };
const SVG_NS = "http://www.w3.org/2000/svg";

// ---------------------------------------------------------------------------------------------
// Formatting: SI units as the CLI prints them, three significant digits so columns stay narrow.

function scaled(value, units, base) {
  if (!Number.isFinite(value)) return "–";
  if (value === 0) return `0 ${units[0]}`;
  let i = 0;
  while (i + 1 < units.length && Math.abs(value) >= base ** (i + 1) * 0.9995) i++;
  const v = value / base ** i;
  const a = Math.abs(v);
  const digits = i === 0 ? (a < 10 && v % 1 ? 1 : 0) : a >= 100 ? 0 : a >= 10 ? 1 : 2;
  return `${v.toFixed(digits)} ${units[i]}`;
}
const fmtRate = (bps) => scaled(bps, ["bit/s", "kbit/s", "Mbit/s", "Gbit/s", "Tbit/s"], 1000);
const fmtBytes = (b) => scaled(b, ["B", "kB", "MB", "GB", "TB"], 1000);
const fmtCount = (n) => (n >= 1000 ? scaled(n, ["", "k", "M", "G"], 1000).replace(" ", "") : String(Math.round(n)));

function fmtSeconds(s) {
  if (!Number.isFinite(s)) return "–";
  const a = Math.abs(s);
  if (a === 0) return "0 ms";
  if (a < 1e-6) return `${(s * 1e9).toFixed(0)} ns`;
  if (a < 1e-3) return `${(s * 1e6).toFixed(a < 1e-5 ? 1 : 0)} µs`;
  if (a < 1) return `${(s * 1e3).toFixed(a < 0.01 ? 2 : a < 0.1 ? 1 : 0)} ms`;
  return `${s.toFixed(a < 10 ? 2 : 1)} s`;
}

function fmtClock(s) {
  s = Math.max(0, Math.floor(s));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}h${String(m).padStart(2, "0")}m${sec}s` : `${m}m${sec}s`;
}

const fmtLoss = (p) => (p === 0 ? "0%" : `${+(p * 100).toPrecision(3)}%`);

function fmtQueueLimit(q) {
  if (!q) return "–";
  const parts = [];
  if (q.max_bytes) parts.push(fmtBytes(q.max_bytes));
  if (q.max_packets) parts.push(`${q.max_packets} pkt`);
  if (q.max_delay_s) parts.push(fmtSeconds(q.max_delay_s));
  return parts.length ? parts.join(", ") : "none";
}

const fmtConfigRate = (c) => (c.rate_bps ? fmtRate(c.rate_bps) : "unlimited");

// ---------------------------------------------------------------------------------------------
// DOM helpers: elements built from data, text always as text.

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function svg(tag, attrs, parent) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "text") node.textContent = v;
    else node.setAttribute(k, v);
  }
  if (parent) parent.append(node);
  return node;
}

const $ = (id) => document.getElementById(id);

// ---------------------------------------------------------------------------------------------
// State.

const state = {
  engine: null, // GET /v1/
  identity: "", // kind/name/started: a new engine means new history
  params: [], // the api_live parameters of /v1/params
  lanes: new Map(), // name -> lane (below)
  order: [], // lane names in the engine's order
  selected: null,
  t: 0, // engine time of the last event, seconds from the lanes' start
  samples: 0,
  stream: null,
  retry: null,
  connected: false,
};

// A lane: {name, a, b, config: {up, down}, last: {up, down} (the latest sample's direction),
// history: [{t, up: {...}, down: {...}}], marks: [{t, text}]}.
function newLane(name, a, b) {
  return { name, a, b, config: { up: null, down: null }, last: { up: null, down: null }, history: [], marks: [] };
}

// ---------------------------------------------------------------------------------------------
// Connection: the three reads, then the stream; when it fails, probe /v1/ until the engine is back.

async function getJSON(path) {
  const response = await fetch(path, { cache: "no-store", credentials: "same-origin" });
  const text = await response.text();
  let body = {};
  try {
    body = JSON.parse(text);
  } catch {
    body = {};
  }
  // A seed is a 64-bit number, which a JavaScript number would round: keep its digits.
  const seed = /"seed"\s*:\s*(\d+)/.exec(text);
  if (seed && body && typeof body === "object") body.seed_text = seed[1];
  if (!response.ok) {
    const error = new Error(body.error || `${path}: HTTP ${response.status}`);
    error.status = response.status;
    throw error;
  }
  return body;
}

async function connect() {
  clearTimeout(state.retry);
  state.retry = null;
  try {
    const [engine, params, lanes] = await Promise.all([getJSON("/v1/"), getJSON("/v1/params"), getJSON("/v1/lanes")]);
    setUp(engine, params, lanes);
    openStream();
  } catch (error) {
    engineGone(error);
  }
}

function openStream() {
  if (state.stream) state.stream.close();
  const stream = new EventSource("/v1/events?interval=1s");
  state.stream = stream;
  const on = (name, handler) =>
    stream.addEventListener(name, (event) => {
      if (state.stream !== stream) return;
      let data;
      try {
        data = JSON.parse(event.data);
      } catch {
        return;
      }
      handler(data);
    });
  on("hello", onHello);
  on("sample", onSample);
  on("change", onChange);
  on("applied", onApplied);
  stream.onerror = () => {
    if (state.stream !== stream) return;
    // EventSource would retry on its own, but a stream that ended may mean the engine has gone
    // (or another took its port): ask /v1/, which says which, and start over from there.
    stream.close();
    state.stream = null;
    setConn("connecting", "reconnecting…");
    getJSON("/v1/")
      .then(() => {
        state.retry = setTimeout(connect, 500);
      })
      .catch(engineGone);
  };
}

function engineGone(error) {
  state.connected = false;
  if (state.stream) {
    state.stream.close();
    state.stream = null;
  }
  const unauthorised = error && error.status === 401;
  setConn("gone", unauthorised ? "token needed" : "engine gone");
  const banner = $("banner");
  banner.hidden = false;
  banner.dataset.kind = unauthorised ? "auth" : "gone";
  banner.textContent = unauthorised
    ? `The engine refuses this page without its token: open the address longhaul printed, /?token=…  (${error.message})`
    : `The engine has gone: /v1/ does not answer (${error && error.message ? error.message : "no answer"}). ` +
      `Retrying every ${RETRY_MS / 1000} s; the figures below are the last it sent.`;
  document.body.classList.add("gone");
  clearTimeout(state.retry);
  state.retry = setTimeout(connect, RETRY_MS);
}

function setConn(kind, text) {
  const conn = $("conn");
  conn.dataset.state = kind;
  conn.textContent = text;
}

// ---------------------------------------------------------------------------------------------
// Setting up from the reads (and again whenever the engine or its lanes change).

function setUp(engine, params, lanesBody) {
  const identity = `${engine.kind}/${engine.name}/${engine.started_unix}`;
  const names = (lanesBody.lanes || []).map((l) => l.name);
  const same = identity === state.identity && names.join("\n") === state.order.join("\n");
  state.engine = engine;
  state.params = (params.params || []).filter((p) => p.api_live);
  if (!same) {
    state.identity = identity;
    state.lanes = new Map();
    state.order = names;
    const ends = new Map(((engine.topology && engine.topology.lanes) || []).map((l) => [l.name, l]));
    for (const name of names) {
      const end = ends.get(name);
      state.lanes.set(name, newLane(name, end ? end.a : null, end ? end.b : null));
    }
    if (!state.lanes.has(state.selected)) state.selected = names[0] || null;
    state.samples = 0;
    document.body.dataset.samples = "0";
  }
  for (const lane of lanesBody.lanes || []) {
    const entry = state.lanes.get(lane.name);
    for (const d of DIRS) {
      entry.config[d] = lane[d].config;
      if (!entry.last[d]) entry.last[d] = { config: lane[d].config, queue: lane[d].queue, fidelity: lane[d].fidelity, release_lateness: lane[d].release_lateness, in_bps: 0, out_bps: 0, dropped: {} };
    }
  }
  state.connected = true;
  $("banner").hidden = true;
  document.body.classList.remove("gone");
  setConn("live", "live");
  $("title").textContent = `${engine.kind} ${engine.name}`;
  document.title = `${engine.name} · longhaul`;
  renderFacts();
  if (!same) {
    buildTopology();
    buildLaneRows();
    buildDetail();
  }
  refresh();
}

function renderFacts() {
  const e = state.engine;
  const facts = $("facts");
  facts.replaceChildren(
    el("span", { title: "engine time since the lanes came up" }, "t ", el("b", { id: "engine-time", text: fmtClock(state.t || e.engine_time_s || 0) })),
    el("span", {}, "lanes ", el("b", { text: String(state.order.length) })),
    el("span", {}, "seed ", el("b", { text: e.seed_text || String(e.seed) })),
    el("span", { class: "dim", text: `v${e.version}` })
  );
}

// ---------------------------------------------------------------------------------------------
// Events.

function onHello(hello) {
  state.t = hello.t_s;
  // A lane set that differs from what the page drew: the engine was replaced; read it all again.
  const names = (hello.lanes || []).map((l) => l.name);
  if (names.join("\n") !== state.order.join("\n")) {
    connect();
    return;
  }
  for (const lane of hello.lanes) {
    const entry = state.lanes.get(lane.name);
    for (const d of DIRS) entry.config[d] = lane[d];
  }
  refresh();
}

function onSample(sample) {
  state.t = sample.t_s;
  state.samples++;
  document.body.dataset.samples = String(state.samples);
  for (const lane of sample.lanes) {
    const entry = state.lanes.get(lane.name);
    if (!entry) continue;
    const point = { t: sample.t_s };
    for (const d of DIRS) {
      const s = lane[d];
      entry.last[d] = s;
      entry.config[d] = s.config;
      const dropped = Object.values(s.dropped || {}).reduce((a, b) => a + b, 0);
      point[d] = {
        in_bps: s.in_bps,
        out_bps: s.out_bps,
        backlog: backlog(s),
        wait: queueWait(s),
        dropped: s.dropped || {},
        drops: dropped / (sample.interval_s || 1),
        p99: intervalP99(s),
        degraded: s.fidelity && s.fidelity.verdict === "degraded",
      };
    }
    entry.history.push(point);
    while (entry.history.length && entry.history[0].t < sample.t_s - HISTORY_S) entry.history.shift();
    while (entry.marks.length && entry.marks[0].t < sample.t_s - HISTORY_S) entry.marks.shift();
  }
  refresh();
}

function onChange(change) {
  for (const c of change.changes || []) {
    const entry = state.lanes.get(c.lane);
    if (!entry) continue;
    const keys = Object.entries(c)
      .filter(([k]) => k !== "lane")
      .map(([k, v]) => (typeof v === "object" ? `${k} ${JSON.stringify(v)}` : `${k} ${v}`))
      .join(", ");
    addMark(entry, change.at_s, `change #${change.change}: ${keys}`, "change");
  }
}

function onApplied(applied) {
  const entry = state.lanes.get(applied.lane);
  if (!entry) return;
  entry.config[applied.direction] = applied.config;
  if (entry.last[applied.direction]) entry.last[applied.direction].config = applied.config;
  const c = applied.config;
  addMark(entry, applied.at_s, `${ARROW[applied.direction]} ${applied.direction} now ${fmtSeconds(c.delay_s)}, ${fmtConfigRate(c)}, loss ${fmtLoss(c.loss)}`, "applied");
  refresh();
}

function addMark(entry, t, text, kind) {
  entry.marks.push({ t, text, kind });
  entry.marks.sort((a, b) => a.t - b.t);
}

// The release lateness p99 of the sample's interval (the fidelity verdict's own evidence); NaN
// when the direction released nothing in it.
function intervalP99(s) {
  const f = s && s.fidelity;
  return f && f.frames_released > 0 && Number.isFinite(f.lateness_p99_ns) ? f.lateness_p99_ns / 1e9 : NaN;
}

// Wire bytes at the bottleneck now: waiting for the rate or on its wire (the engine's own count,
// not the delay line's).
function backlog(s) {
  return (s && s.queue && s.queue.bottleneck_bytes) || 0;
}

// The p99 of how long packets waited at the bottleneck, measured by the engine over the sample's
// interval (since the start before the first sample); NaN when none went through it.
function queueWait(s) {
  const w = s && s.queue && s.queue.sojourn;
  return w && w.count > 0 ? w.p99_s : NaN;
}

// What a direction is doing, for colours: worst first.
function directionState(s) {
  if (!s) return "idle";
  if (s.fidelity && s.fidelity.verdict === "degraded") return "degraded";
  const drops = Object.values(s.dropped || {}).reduce((a, b) => a + b, 0);
  if (drops > 0) return "dropping";
  const limit = s.config && s.config.queue && s.config.queue.max_bytes;
  const q = backlog(s);
  if (q > 0 && (limit ? q / limit > 0.1 : s.config && s.config.rate_bps && (q * 8) / s.config.rate_bps > 0.005)) return "queue";
  if ((s.out_bps || 0) + (s.in_bps || 0) > 0) return "carrying";
  return "idle";
}
const STATES = [
  ["idle", "idle"],
  ["carrying", "carrying"],
  ["queue", "queue building"],
  ["dropping", "dropping"],
  ["degraded", "fidelity degraded"],
];
const RANK = Object.fromEntries(STATES.map(([k], i) => [k, i]));
const worst = (a, b) => (RANK[a] >= RANK[b] ? a : b);

function queueFill(s) {
  const limit = s && s.config && s.config.queue && s.config.queue.max_bytes;
  return limit ? Math.min(1, backlog(s) / limit) : 0;
}

const dropsOf = (s) => Object.values((s && s.dropped) || {}).reduce((a, b) => a + b, 0);

// ---------------------------------------------------------------------------------------------
// Topology: sites and switches as nodes, each lane two parallel strokes (▲ up, ▼ down) coloured
// by what that direction is doing, and a label with its live figures.

const topo = { nodes: new Map(), lanes: new Map(), width: 1000, height: 320 };

function buildTopology() {
  const root = $("topology");
  root.replaceChildren();
  topo.nodes = new Map();
  topo.lanes = new Map();
  // Drawn at the element's own pixel size, so text is the page's size at any width.
  topo.width = Math.max(480, root.clientWidth || 1000);
  const W = topo.width;
  const H = topo.height;
  root.setAttribute("viewBox", `0 0 ${W} ${H}`);
  root.setAttribute("height", H);
  const t = state.engine.topology;
  let sites = [];
  let switches = [];
  let lanes = [];
  if (t && Array.isArray(t.lanes)) {
    sites = t.sites || [];
    switches = t.switches || [];
    lanes = t.lanes;
  } else {
    // An engine that does not describe its topology (run, bridge): each lane between its two
    // ends, named after it.
    for (const name of state.order) {
      sites.push(`${name} a`, `${name} b`);
      lanes.push({ name, a: `${name} a`, b: `${name} b` });
    }
  }
  // Layout: switches in the middle, sites on an ellipse around them, each site next to the
  // others on its switch; without switches, the sites alone on the ellipse.
  const cx = W / 2;
  const cy = H / 2;
  const place = (name, kind, x, y) => topo.nodes.set(name, { name, kind, x, y });
  switches.forEach((name, i) => {
    if (switches.length === 1) return place(name, "switch", cx, cy);
    const a = (2 * Math.PI * i) / switches.length - Math.PI / 2;
    place(name, "switch", cx + W * 0.16 * Math.cos(a), cy + H * 0.2 * Math.sin(a));
  });
  const firstSwitch = (site) => {
    for (const l of lanes) {
      if (l.a === site && switches.includes(l.b)) return switches.indexOf(l.b);
      if (l.b === site && switches.includes(l.a)) return switches.indexOf(l.a);
    }
    return switches.length;
  };
  const ordered = sites.map((name, i) => ({ name, i, s: firstSwitch(name) })).sort((p, q) => p.s - q.s || p.i - q.i);
  const start = switches.length ? -Math.PI / 2 : Math.PI;
  ordered.forEach((site, i) => {
    const a = start + (2 * Math.PI * i) / Math.max(1, ordered.length);
    place(site.name, "site", cx + W * 0.38 * Math.cos(a), cy + H * 0.38 * Math.sin(a));
  });

  // Stretch the drawing to the panel, each axis on its own (three sites on an ellipse leave its
  // lower half empty); an axis with no extent stays centred.
  const margin = { x: 90, y: 40 };
  const xs = [...topo.nodes.values()].map((n) => n.x);
  const ys = [...topo.nodes.values()].map((n) => n.y);
  const fit = (v, lo, hi, size, m) => (hi - lo < 1 ? size / 2 : m + ((v - lo) / (hi - lo)) * (size - 2 * m));
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  for (const n of topo.nodes.values()) {
    n.x = fit(n.x, x0, x1, W, margin.x);
    n.y = fit(n.y, y0, y1, H, margin.y);
  }

  const laneLayer = svg("g", { class: "lanes" }, root);
  const labelLayer = svg("g", { class: "labels" }, root);
  const nodeLayer = svg("g", { class: "nodes" }, root);
  for (const lane of lanes) {
    const a = topo.nodes.get(lane.a);
    const b = topo.nodes.get(lane.b);
    if (!a || !b || !state.lanes.has(lane.name)) continue;
    const dx = b.x - a.x;
    const dy = b.y - a.y;
    const len = Math.hypot(dx, dy) || 1;
    const nx = (-dy / len) * 3.5;
    const ny = (dx / len) * 3.5;
    const g = svg("g", { class: "lane", "data-lane": lane.name }, laneLayer);
    g.addEventListener("click", () => select(lane.name));
    svg("line", { class: "hit", x1: a.x, y1: a.y, x2: b.x, y2: b.y }, g);
    const up = svg("line", { class: "dir up", x1: a.x + nx, y1: a.y + ny, x2: b.x + nx, y2: b.y + ny }, g);
    const down = svg("line", { class: "dir down", x1: a.x - nx, y1: a.y - ny, x2: b.x - nx, y2: b.y - ny }, g);
    svg("title", { text: `${lane.name}: ▲ up ${lane.a} → ${lane.b}, ▼ down ${lane.b} → ${lane.a}` }, g);
    // The label sits beside its lane (right of a steep one, above a flat one), toward the site
    // end, away from the crowd around a switch, so the strokes stay visible.
    const towardB = b.kind === "site" && a.kind !== "site" ? 0.58 : a.kind === "site" && b.kind !== "site" ? 0.42 : 0.5;
    const mx = a.x + dx * towardB;
    const my = a.y + dy * towardB;
    const steep = Math.abs(dy) > Math.abs(dx);
    const lx = steep ? mx + 12 : mx - 84;
    const ly = steep ? my - 30 : my - 68;
    const label = svg("g", { class: "lane-label", "data-lane": lane.name, transform: `translate(${lx.toFixed(1)},${ly.toFixed(1)})` }, labelLayer);
    label.addEventListener("click", () => select(lane.name));
    svg("rect", { class: "label-box", width: 168, height: 60, rx: 6 }, label);
    svg("text", { class: "label-name", x: 8, y: 15, text: lane.name }, label);
    const upText = svg("text", { class: "label-fig", x: 8, y: 31 }, label);
    const downText = svg("text", { class: "label-fig", x: 8, y: 46 }, label);
    const qUp = svg("rect", { class: "qbar up", x: 128, y: 23, width: 0, height: 9 }, label);
    const qDown = svg("rect", { class: "qbar down", x: 128, y: 38, width: 0, height: 9 }, label);
    svg("rect", { class: "qframe", x: 128, y: 23, width: 32, height: 9 }, label);
    svg("rect", { class: "qframe", x: 128, y: 38, width: 32, height: 9 }, label);
    const dropText = svg("text", { class: "label-drop", x: 160, y: 15, "text-anchor": "end" }, label);
    topo.lanes.set(lane.name, { g, up, down, label, upText, downText, qUp, qDown, dropText });
  }
  for (const node of topo.nodes.values()) {
    const g = svg("g", { class: `node ${node.kind}`, transform: `translate(${node.x},${node.y})` }, nodeLayer);
    if (node.kind === "switch") {
      svg("rect", { x: -34, y: -14, width: 68, height: 28, rx: 4 }, g);
      svg("text", { y: 4.5, "text-anchor": "middle", text: node.name }, g);
    } else {
      const w = Math.max(70, node.name.length * 7.6 + 20);
      svg("rect", { x: -w / 2, y: -15, width: w, height: 30, rx: 15 }, g);
      svg("text", { y: 4.5, "text-anchor": "middle", text: node.name }, g);
    }
    svg("title", { text: `${node.kind} ${node.name}` }, g);
  }
  const legend = $("legend");
  legend.replaceChildren(...STATES.map(([k, text]) => el("li", {}, el("i", { class: `swatch s-${k}` }), text)));
}

function renderTopology() {
  for (const [name, t] of topo.lanes) {
    const lane = state.lanes.get(name);
    const up = lane.last.up;
    const down = lane.last.down;
    const su = directionState(up);
    const sd = directionState(down);
    t.up.setAttribute("class", `dir up s-${su}`);
    t.down.setAttribute("class", `dir down s-${sd}`);
    t.g.classList.toggle("selected", name === state.selected);
    t.label.classList.toggle("selected", name === state.selected);
    t.label.setAttribute("data-state", worst(su, sd));
    t.upText.textContent = `▲ ${fmtRate(up ? up.out_bps : 0)}`;
    t.downText.textContent = `▼ ${fmtRate(down ? down.out_bps : 0)}`;
    t.qUp.setAttribute("width", (32 * queueFill(up)).toFixed(1));
    t.qDown.setAttribute("width", (32 * queueFill(down)).toFixed(1));
    const drops = dropsOf(up) + dropsOf(down);
    t.dropText.textContent = drops ? `${fmtCount(drops)} ${drops === 1 ? "drop" : "drops"}` : "";
  }
}

// ---------------------------------------------------------------------------------------------
// The lanes table: one row per lane, the figures of the last sample.

const rows = new Map();

function buildLaneRows() {
  const body = $("lanes").tBodies[0];
  body.replaceChildren();
  rows.clear();
  for (const name of state.order) {
    const lane = state.lanes.get(name);
    const cells = {};
    const cell = (key, cls) => (cells[key] = el("td", { class: cls || "n" }));
    const tr = el(
      "tr",
      { "data-lane": name, tabindex: "0", onclick: () => select(name), onkeydown: (e) => e.key === "Enter" && select(name) },
      el("td", { class: "l name" }, el("i", { class: "swatch" }), el("span", { text: name })),
      el("td", { class: "l ends", text: lane.a ? `${lane.a} → ${lane.b}` : "" }),
      cell("upOut", "n up-out"),
      cell("downOut", "n down-out"),
      cell("upQ", "n up-q"),
      cell("downQ", "n down-q"),
      cell("upDrop"),
      cell("downDrop"),
      cell("upLate"),
      cell("downLate"),
      cell("fidelity", "l fid")
    );
    cells.swatch = tr.querySelector(".swatch");
    rows.set(name, { tr, cells });
    body.append(tr);
  }
}

function renderLaneRows() {
  for (const [name, row] of rows) {
    const lane = state.lanes.get(name);
    const c = row.cells;
    row.tr.classList.toggle("selected", name === state.selected);
    for (const d of DIRS) {
      const s = lane.last[d];
      const out = c[`${d}Out`];
      const bps = s ? s.out_bps : 0;
      out.textContent = fmtRate(bps);
      out.dataset.bps = String(bps);
      out.title = s ? `in ${fmtRate(s.in_bps)}, out ${fmtRate(s.out_bps)} (${fmtCount(s.out_pps || 0)} packets/s)` : "";
      const q = c[`${d}Q`];
      const wait = queueWait(s);
      q.dataset.wait = Number.isFinite(wait) ? String(wait) : "";
      q.textContent = s && backlog(s) > 0 ? `${fmtBytes(backlog(s))}${Number.isFinite(wait) ? ` · ${fmtSeconds(wait)}` : ""}` : "–";
      q.title = s && s.queue ? `at the bottleneck: ${fmtBytes(s.queue.bottleneck_bytes)} in ${s.queue.bottleneck_packets} packets (limit ${fmtQueueLimit(s.config.queue)}); waited p99 ${Number.isFinite(wait) ? fmtSeconds(wait) : "–"} in the last interval; inside the direction with the delay line: ${fmtBytes(s.queue.bytes)}` : "";
      const drops = dropsOf(s);
      const dc = c[`${d}Drop`];
      dc.textContent = drops ? fmtCount(drops) : "–";
      dc.title = drops ? Object.entries(s.dropped).map(([k, v]) => `${k}: ${v}`).join(", ") : "no drops in the last interval";
      dc.classList.toggle("bad", drops > 0);
      const late = c[`${d}Late`];
      const p99 = intervalP99(s);
      late.textContent = Number.isFinite(p99) ? fmtSeconds(p99) : "–";
      late.title = s && s.release_lateness && s.release_lateness.count ? `last second; since the start: p99 ${fmtSeconds(s.release_lateness.p99_s)}, max ${fmtSeconds(s.release_lateness.max_s)}` : "";
    }
    const verdicts = DIRS.map((d) => lane.last[d] && lane.last[d].fidelity && lane.last[d].fidelity.verdict).filter(Boolean);
    const degraded = verdicts.includes("degraded");
    c.fidelity.textContent = verdicts.length ? (degraded ? "degraded" : "ok") : "–";
    c.fidelity.className = `l fid ${degraded ? "bad" : verdicts.length ? "good" : ""}`;
    c.swatch.className = `swatch s-${worst(directionState(lane.last.up), directionState(lane.last.down))}`;
  }
}

// ---------------------------------------------------------------------------------------------
// The selected lane: charts, settings form, outage, fidelity, changes.

const CHARTS = [
  {
    key: "tput",
    title: "throughput delivered",
    fmt: fmtRate,
    series: [
      { name: "▲ up", cls: "up", get: (p) => p.up.out_bps },
      { name: "▼ down", cls: "down", get: (p) => p.down.out_bps },
    ],
  },
  {
    key: "queue",
    title: "queue at the bottleneck (bytes)",
    fmt: fmtBytes,
    series: [
      { name: "▲ up", cls: "up", get: (p) => p.up.backlog },
      { name: "▼ down", cls: "down", get: (p) => p.down.backlog },
    ],
  },
  {
    key: "wait",
    title: "queue wait p99 (each second, measured)",
    fmt: fmtSeconds,
    series: [
      { name: "▲ up", cls: "up", get: (p) => p.up.wait },
      { name: "▼ down", cls: "down", get: (p) => p.down.wait },
    ],
  },
  {
    key: "drops",
    title: "drops (packets/s, by cause)",
    fmt: (v) => `${fmtCount(v)}/s`,
    series: null, // one per cause seen
  },
  {
    key: "late",
    title: "release lateness p99 (each second)",
    fmt: fmtSeconds,
    series: [
      { name: "▲ up", cls: "up", get: (p) => p.up.p99 },
      { name: "▼ down", cls: "down", get: (p) => p.down.p99 },
    ],
  },
];

const detail = { charts: new Map() };
const CH = 140;
const PAD = { l: 74, r: 10, t: 8, b: 20 };

function buildDetail() {
  const charts = $("charts");
  charts.replaceChildren();
  detail.charts.clear();
  for (const spec of CHARTS) {
    const legend = el("span", { class: "chart-legend" });
    const root = document.createElementNS(SVG_NS, "svg");
    root.setAttribute("class", "chart");
    const box = el("figure", { class: "chart-box", "data-chart": spec.key }, el("figcaption", {}, el("span", { text: spec.title }), legend), root);
    charts.append(box);
    detail.charts.set(spec.key, { spec, root, legend });
  }
  buildForm();
  $("edit").onsubmit = submitEdit;
  $("outage").onsubmit = submitOutage;
}

function buildForm() {
  const body = $("edit-table").tBodies[0];
  body.replaceChildren();
  for (const p of state.params) {
    const input = (name, enabled) =>
      enabled
        ? el("input", { name, placeholder: name === p.key ? p.example || "" : "", title: `${name}: ${p.help}`, size: 9, spellcheck: "false" })
        : el("span", { class: "dim", text: "" });
    body.append(
      el(
        "tr",
        { "data-param": p.key },
        el("th", { class: "l", title: p.help }, el("span", { text: p.key }), el("small", { class: "dim", text: ` ${p.metavar || p.type || ""}` })),
        ...(p.per_direction
          ? [el("td", { class: "n now", "data-now": `${p.key}-up` }), el("td", { class: "n now", "data-now": `${p.key}-down` })]
          : [el("td", { class: "now both", colspan: 2, "data-now": p.key })]),
        el("td", {}, input(p.key, p.shared)),
        el("td", {}, input(`${p.key}-up`, p.per_direction)),
        el("td", {}, input(`${p.key}-down`, p.per_direction))
      )
    );
  }
}

// A parameter's value now, as the form shows it next to the inputs.
function configText(key, c, other) {
  if (!c) return "–";
  switch (key) {
    case "rtt":
      return other ? fmtSeconds(c.delay_s + other.delay_s) : "–";
    case "delay":
      return fmtSeconds(c.delay_s);
    case "rate":
      return fmtConfigRate(c);
    case "loss":
      return fmtLoss(c.loss);
    case "queue":
      return fmtQueueLimit(c.queue);
    default:
      return c[key] !== undefined ? String(c[key]) : "–";
  }
}

function renderForm(lane) {
  for (const tr of $("edit-table").tBodies[0].rows) {
    const key = tr.dataset.param;
    const [upCell, downCell] = tr.querySelectorAll("td.now");
    if (downCell) {
      upCell.textContent = configText(key, lane.config.up);
      downCell.textContent = configText(key, lane.config.down);
    } else {
      // A parameter of both directions (rtt): one value across both columns.
      upCell.textContent = configText(key, lane.config.up, lane.config.down);
    }
  }
}

function message(id, kind, text) {
  const node = $(id);
  node.dataset.kind = kind;
  node.textContent = text;
}

async function send(method, path, body) {
  const response = await fetch(path, {
    method,
    credentials: "same-origin",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  const answer = await response.json().catch(() => ({ error: `HTTP ${response.status}` }));
  if (!response.ok) throw new Error(answer.error || `HTTP ${response.status}`);
  return answer;
}

async function submitEdit(event) {
  event.preventDefault();
  const lane = state.selected;
  const body = {};
  for (const input of $("edit").querySelectorAll("input[name]")) {
    const value = input.value.trim();
    if (value) body[input.name] = value;
  }
  if (!Object.keys(body).length) {
    message("edit-message", "error", "Type a value in one of the fields first.");
    return;
  }
  message("edit-message", "busy", "applying…");
  $("apply").disabled = true;
  try {
    const answer = await send("PATCH", `/v1/lanes/${encodeURIComponent(lane)}`, body);
    message("edit-message", "ok", `Applied at t = ${answer.at_s.toFixed(3)} s (change #${answer.change}).`);
    for (const input of $("edit").querySelectorAll("input[name]")) input.value = "";
    // The answer comes once the directions have applied it: show the new values now rather
    // than at the next event.
    const fresh = await getJSON(`/v1/lanes/${encodeURIComponent(lane)}`);
    const entry = state.lanes.get(lane);
    if (entry) for (const d of DIRS) entry.config[d] = fresh[d].config;
    refresh();
  } catch (error) {
    message("edit-message", "error", error.message);
  } finally {
    $("apply").disabled = false;
  }
}

async function submitOutage(event) {
  event.preventDefault();
  const lane = state.selected;
  const body = { for: $("outage-for").value.trim(), direction: $("outage-direction").value };
  message("outage-message", "busy", "…");
  try {
    const answer = await send("POST", `/v1/lanes/${encodeURIComponent(lane)}/outage`, body);
    message("outage-message", "ok", `Outage of ${body.for} from t = ${answer.at_s.toFixed(3)} s.`);
  } catch (error) {
    message("outage-message", "error", error.message);
  }
}

function renderFidelity(lane) {
  const box = $("fidelity-body");
  const parts = [];
  for (const d of DIRS) {
    const s = lane.last[d];
    const f = (s && s.fidelity) || {};
    const late = (s && s.release_lateness) || {};
    const delay = (lane.config[d] && lane.config[d].delay_s) || 0;
    const degraded = f.verdict === "degraded";
    const share = delay > 0 && late.count ? ` · p99 is ${+((100 * late.p99_s) / delay).toPrecision(2)}% of the ${fmtSeconds(delay)} delay` : "";
    const th = f.thresholds || {};
    const interval = f.frames_released > 0
      ? `last second: p99 ${fmtSeconds(f.lateness_p99_ns / 1e9)} (limit ${fmtSeconds(th.late_p99_ns / 1e9)}) · p99.9 ${fmtSeconds(f.lateness_p999_ns / 1e9)} (limit ${fmtSeconds(th.late_p999_ns / 1e9)}) over ${fmtCount(f.frames_released)} frames`
      : "last second: nothing released";
    const reasons = (f.reasons || []).map((r) => el("li", { text: r }));
    parts.push(
      el(
        "div",
        { class: `fid-dir ${degraded ? "bad" : ""}`, "data-direction": d },
        el("div", {}, el("b", { text: `${ARROW[d]} ${d}` }), " ", el("span", { class: `badge ${degraded ? "bad" : f.verdict ? "good" : ""}`, text: f.verdict || "–" })),
        el("div", { class: "fid-nums" }, interval),
        el(
          "div",
          { class: "fid-nums" },
          late.count
            ? `since the start: p50 ${fmtSeconds(late.p50_s)} · p99 ${fmtSeconds(late.p99_s)} · max ${fmtSeconds(late.max_s)} over ${fmtCount(late.count)} packets${share}`
            : "no packets released yet"
        ),
        f.explanation ? el("div", { class: "fid-why", text: f.explanation }) : null,
        reasons.length ? el("ul", { class: "fid-reasons" }, ...reasons) : null
      )
    );
  }
  box.replaceChildren(...parts);
}

function renderMarks(lane) {
  const list = $("marks");
  const shown = lane.marks.slice(-12).reverse();
  list.replaceChildren(...shown.map((m) => el("li", { class: m.kind }, el("span", { class: "t", text: `${m.t.toFixed(3)} s` }), " ", el("span", { text: m.text }))));
  if (!shown.length) list.replaceChildren(el("li", { class: "dim", text: "none in the last five minutes" }));
}

// One chart: lines over [now - span, now], the y axis from 0 to a round maximum, changes as
// vertical marks.
function drawChart(chart, lane) {
  const { spec, root, legend } = chart;
  // Drawn at the element's pixel size (text stays the page's size); read again each time.
  const CW = Math.max(240, root.clientWidth || 480);
  root.setAttribute("viewBox", `0 0 ${CW} ${CH}`);
  root.setAttribute("height", CH);
  const history = lane.history;
  const now = state.t;
  const first = history.length ? history[0].t : now;
  const span = Math.min(HISTORY_S, Math.max(30, now - first));
  const t0 = now - span;
  let series = spec.series;
  if (!series) {
    const causes = new Set();
    for (const p of history) for (const d of DIRS) for (const k of Object.keys(p[d].dropped)) causes.add(k);
    series = [...causes].sort().map((cause, i) => ({
      name: cause,
      cls: `c${i % 6}`,
      get: (p) => ((p.up.dropped[cause] || 0) + (p.down.dropped[cause] || 0)) / 1,
    }));
  }
  let max = 0;
  for (const p of history) for (const s of series) {
    const v = s.get(p);
    if (Number.isFinite(v) && v > max) max = v;
  }
  const top = niceCeil(max);
  const x = (t) => PAD.l + ((t - t0) / span) * (CW - PAD.l - PAD.r);
  const y = (v) => CH - PAD.b - (v / top) * (CH - PAD.t - PAD.b);
  root.replaceChildren();
  for (let i = 0; i <= 2; i++) {
    const v = (top * i) / 2;
    svg("line", { class: "grid", x1: PAD.l, x2: CW - PAD.r, y1: y(v), y2: y(v) }, root);
    svg("text", { class: "axis", x: PAD.l - 6, y: y(v) + 4, "text-anchor": "end", text: max === 0 && i > 0 ? "" : spec.fmt(v) }, root);
  }
  const step = span > 120 ? 60 : span > 50 ? 20 : 10;
  for (let ago = 0; ago <= span; ago += step) {
    const tx = x(now - ago);
    svg("line", { class: "tick", x1: tx, x2: tx, y1: CH - PAD.b, y2: CH - PAD.b + 3 }, root);
    svg("text", { class: "axis", x: tx, y: CH - 5, "text-anchor": ago === 0 ? "end" : "middle", text: ago === 0 ? "now" : ago >= 60 && ago % 60 === 0 ? `-${ago / 60}m` : `-${ago}s` }, root);
  }
  for (const m of lane.marks) {
    if (m.t < t0 || m.t > now + 1) continue;
    const mx = x(Math.min(m.t, now));
    const line = svg("line", { class: `mark ${m.kind}`, x1: mx, x2: mx, y1: PAD.t, y2: CH - PAD.b }, root);
    svg("title", { text: `${m.t.toFixed(3)} s: ${m.text}` }, line);
  }
  const parts = [];
  for (const s of series) {
    let d = "";
    let pen = false;
    for (const p of history) {
      const v = s.get(p);
      if (p.t < t0 || !Number.isFinite(v)) {
        pen = false;
        continue;
      }
      d += `${pen ? "L" : "M"}${x(p.t).toFixed(1)},${y(v).toFixed(1)}`;
      pen = true;
    }
    if (d) svg("path", { class: `series ${s.cls}`, d }, root);
    const last = history.length ? s.get(history[history.length - 1]) : NaN;
    let text = Number.isFinite(last) ? spec.fmt(last) : "–";
    parts.push(el("span", { class: `key ${s.cls}` }, el("i"), `${s.name} `, el("b", { text })));
  }
  if (!series.length) parts.push(el("span", { class: "dim", text: "none" }));
  legend.replaceChildren(...parts);
}

function niceCeil(v) {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function select(name) {
  if (!state.lanes.has(name)) return;
  if (state.selected !== name) {
    state.selected = name;
    message("edit-message", "", "");
    message("outage-message", "", "");
    for (const input of $("edit").querySelectorAll("input[name]")) input.value = "";
  }
  refresh();
}

// ---------------------------------------------------------------------------------------------
// Drawing everything from state: cheap (a few lanes, one selected), so done whole on each event.

function refresh() {
  const e = $("engine-time");
  if (e) e.textContent = fmtClock(state.t);
  renderTopology();
  renderLaneRows();
  const lane = state.lanes.get(state.selected);
  $("detail").hidden = !lane;
  if (!lane) return;
  $("detail-name").textContent = lane.name;
  $("detail-ends").textContent = lane.a ? `▲ up ${lane.a} → ${lane.b} · ▼ down ${lane.b} → ${lane.a}` : "";
  for (const chart of detail.charts.values()) drawChart(chart, lane);
  renderForm(lane);
  renderFidelity(lane);
  renderMarks(lane);
}

// ---------------------------------------------------------------------------------------------
// Theme: the system's, unless the user picked one here.

function applyTheme(theme) {
  if (theme) document.documentElement.dataset.theme = theme;
  else delete document.documentElement.dataset.theme;
  const dark = theme ? theme === "dark" : matchMedia("(prefers-color-scheme: dark)").matches;
  $("theme").textContent = dark ? "☀ light" : "☾ dark";
}

$("theme").addEventListener("click", () => {
  const dark = document.documentElement.dataset.theme
    ? document.documentElement.dataset.theme === "dark"
    : matchMedia("(prefers-color-scheme: dark)").matches;
  const theme = dark ? "light" : "dark";
  try {
    localStorage.setItem("longhaul-theme", theme);
  } catch {
    // storage refused (private mode): the choice lasts this page
  }
  applyTheme(theme);
});

let savedTheme = null;
try {
  savedTheme = localStorage.getItem("longhaul-theme");
} catch {
  savedTheme = null;
}
applyTheme(savedTheme);

// A new width: the topology is laid out again (its text keeps its size); charts follow on the
// next sample.
let resizeTimer = null;
window.addEventListener("resize", () => {
  clearTimeout(resizeTimer);
  resizeTimer = setTimeout(() => {
    if (!state.engine) return;
    buildTopology();
    refresh();
  }, 150);
});
connect();

// The dashboard: reads the engine's API (/v1/) and its event stream (/v1/events).
"use strict";
fetch("/v1/").then((r) => r.json()).then((engine) => {
  document.getElementById("title").textContent = `longhaul ${engine.kind} ${engine.name}`;
});

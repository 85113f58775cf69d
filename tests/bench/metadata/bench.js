// The in-browser half of the document check benchmark (tests/examples/bench_metadata.rs,
// docs/BENCHMARKS.md). Not part of the product. It drives the report page's own
// metadata.js the way app.js does: `check` when a document is chosen (what it carries:
// the module's inspect), `prepare` when the report is sent (removing it: the module's
// clean, the result made into a File). Each is timed with performance.now(); the driver
// measures the renderer's memory meanwhile.

import { documentCheck, LIMITS } from "/static/metadata.js";

let current = null;

// The WebAssembly memories of the module instances metadata.js makes (WebAssembly tier
// only: the wasm2js translation's instances cannot be seen from here). A memory only
// grows, so its size after a call is the most the module held during it.
let memories = [];
if (typeof WebAssembly !== "undefined") {
  const instantiate = WebAssembly.instantiate.bind(WebAssembly);
  WebAssembly.instantiate = async (...args) => {
    const made = await instantiate(...args);
    const instance = made.instance || made;
    memories.push(instance.exports.memory);
    return made;
  };
}

// The largest module memory since the last call, in bytes (null without WebAssembly).
function moduleBytes() {
  const most = memories.length ? Math.max(...memories.map((m) => m.buffer.byteLength)) : null;
  memories = [];
  return most;
}

function file() {
  const f = document.getElementById("doc").files[0];
  if (!f) throw new Error("no document chosen");
  return f;
}

window.bench = {
  info() {
    return { webassembly: typeof WebAssembly !== "undefined", limits: LIMITS, userAgent: navigator.userAgent };
  },

  // What the page does when the reporter chooses the document: the module's detect and
  // inspect. `T`: the page's texts; `tier`: "wasm" or "js".
  async inspect(T, tier) {
    const old = document.getElementById("metadata");
    if (old) old.remove();
    const f = file();
    memories = [];
    const check = documentCheck(T, tier, document.getElementById("doc"));
    const t0 = performance.now();
    await check.check([f]);
    const ms = performance.now() - t0;
    const box = document.querySelector("#metadata-documents .document");
    current = { check, f, cleaned: null };
    return {
      ms,
      module_bytes: moduleBytes(),
      size: f.size,
      state: box.dataset.state,
      kinds: Array.from(box.querySelectorAll("li[data-kind]"), (li) => li.dataset.kind),
    };
  },

  // What the page does when the report is sent: the module's clean, with "remove"
  // chosen (the default).
  async clean() {
    const t0 = performance.now();
    const [prepared] = await current.check.prepare([current.f]);
    const ms = performance.now() - t0;
    current.cleaned = prepared.file;
    return { ms, module_bytes: moduleBytes(), size: prepared.file.size, removed: prepared.metadata.removed };
  },

  // Sends the cleaned copy to the driver, which checks it with exiftool.
  async upload(name) {
    const res = await fetch(`/result/${name}`, { method: "PUT", body: current.cleaned });
    if (!res.ok) throw new Error(`upload: HTTP ${res.status}`);
  },

  // Lets go of everything of the last document.
  forget() {
    current = null;
    const old = document.getElementById("metadata");
    if (old) old.remove();
  },
};

// Hidden data in documents: what each chosen document carries (author, last saved by,
// GPS position, tracked changes…), the reporter's choice (remove, the default, or keep
// the original), and the cleaned copies that are then encrypted instead of the originals.
// Loaded by app.js only when a document is chosen. It speaks the plain extern "C" ABI of
// client-metadata (client-metadata/src/abi.rs); the same calls work on the WebAssembly
// module and on its wasm2js translation.

const enc = new TextEncoder();
const dec = new TextDecoder();

// The format is told from the first bytes, so that a file that cannot be checked
// (a video, an unknown file) is never read whole.
const HEAD = 64 * 1024;
// Documents go into the module in slices, and cleaned copies come out in slices: the page
// never holds a whole copy itself.
const CHUNK = 4 * 1024 * 1024;
// The largest document checked. The module's memory grows to about two times the
// document while checking or cleaning it (measured: docs/BENCHMARKS.md, "the document check");
// without WebAssembly (wasm2js) it is slow as well.
export const LIMITS = { wasm: 256 * 1024 * 1024, js: 16 * 1024 * 1024 };
// Findings shown per document before "and N more".
const SHOWN = 12;
// People and places first: what names the reporter most directly.
const ORDER = [
  "author", "last_modified_by", "tracked_change_author", "comment_author", "people",
  "camera_owner", "gps_position", "company", "manager", "computer_name", "file_path",
  "template", "printer", "camera_serial", "document_id", "copyright", "title", "subject",
  "description", "keywords", "comment", "custom_property", "embedded_file", "camera_model",
];
const FORMAT_ADVICE = {
  email: "metadata_format_email", audio: "metadata_format_media", video: "metadata_format_media",
  tiff: "metadata_format_picture", heif: "metadata_format_picture", gif: "metadata_format_picture",
  legacy_office: "metadata_format_office", rtf: "metadata_format_office",
  markup: "metadata_format_markup", unknown: "metadata_format_unknown",
};

// The compiled module (WebAssembly.Module), or the wasm2js module's namespace.
let compiled = null;

// A fresh instance per call: its memory (up to about two times the document) is
// released when the call is done, and nothing of one document stays beside the next.
async function instance(tier) {
  if (tier === "wasm") {
    if (!compiled) compiled = await WebAssembly.compile(await (await fetch("/static/meldpunt-metadata.wasm")).arrayBuffer());
    return (await WebAssembly.instantiate(compiled, { env: {} })).exports;
  }
  if (!compiled) compiled = await import("/static/meldpunt-metadata-wasm2js.js");
  return compiled.instantiate({ env: {} });
}

function putBytes(ex, bytes) {
  if (bytes.length === 0) return [0, 0];
  const ptr = ex.mm_alloc(bytes.length);
  new Uint8Array(ex.memory.buffer, ptr, bytes.length).set(bytes);
  return [ptr, bytes.length];
}

// Copies `blob` (a File or part of one) into the module's memory, slice by slice, through
// one buffer of the page's own where the browser reads into a given buffer (a "byob"
// reader), so that no slice is left behind as garbage for the collector.
async function putBlob(ex, blob) {
  if (blob.size === 0) return [0, 0];
  const ptr = ex.mm_alloc(blob.size);
  let reader = null;
  try {
    reader = blob.stream().getReader({ mode: "byob" });
  } catch (e) {
    // No byte stream from this browser's Blob: slices, each its own buffer.
    for (let pos = 0; pos < blob.size; pos += CHUNK) {
      const slice = new Uint8Array(await blob.slice(pos, pos + CHUNK).arrayBuffer());
      new Uint8Array(ex.memory.buffer, ptr + pos, slice.length).set(slice);
      slice.fill(0);
    }
    return [ptr, blob.size];
  }
  let into = new Uint8Array(Math.min(CHUNK, blob.size));
  let pos = 0;
  try {
    while (pos < blob.size) {
      const { value, done } = await reader.read(into);
      if (done) break;
      new Uint8Array(ex.memory.buffer, ptr + pos, value.length).set(value);
      pos += value.length;
      value.fill(0);
      // The reader hands the buffer back (as a new view of the same memory).
      into = new Uint8Array(value.buffer, 0, Math.min(CHUNK, value.buffer.byteLength));
    }
  } finally {
    reader.cancel().catch(() => {});
  }
  if (pos !== blob.size) {
    ex.mm_free(ptr, blob.size);
    throw Object.assign(new Error("the document could not be read whole"), { kind: "read" });
  }
  return [ptr, blob.size];
}

// One call at a time, in the order asked. The wasm2js translation keeps the memory view
// its memory.copy and memory.fill use at module level, shared by all its instances: with
// two alive (two documents checked at once), one call writes into the other's memory.
// One at a time also holds one module memory at most.
let queue = Promise.resolve();

function run(...args) {
  const result = queue.then(() => runNow(...args));
  queue = result.catch(() => {});
  return result;
}

// The module's result as a Blob, made in parts: each part is handed to the browser (which
// keeps blobs outside the page's process) before the next is made, so the page never
// holds a whole second copy of the document beside the module's memory. Reading a byte
// of a part waits until the browser has all of it.
async function blobOut(bytes, type) {
  const parts = [];
  // Each slice goes through one buffer of the page's own: browsers take no views of the
  // wasm2js module's memory, a resizable buffer (scripts/build-wasm.sh), into a Blob.
  const through = new Uint8Array(Math.min(CHUNK, bytes.length));
  for (let pos = 0; pos < bytes.length; pos += CHUNK) {
    const slice = bytes.subarray(pos, pos + CHUNK);
    through.set(slice);
    const part = new Blob([through.subarray(0, slice.length)]);
    await part.slice(0, 1).arrayBuffer();
    parts.push(part);
  }
  through.fill(0);
  return new Blob(parts, { type });
}

// Runs one call on `blob` and returns {meta, result} (result: what `keep` made of the
// result bytes while they were valid; it may be async), or throws an Error with .kind.
async function runNow(tier, op, name, blob, keep) {
  const ex = await instance(tier);
  const n = putBytes(ex, enc.encode(name));
  const b = await putBlob(ex, blob);
  const status = ex[op](n[0], n[1], b[0], b[1]);
  const mem = new Uint8Array(ex.memory.buffer);
  const metaPtr = ex.mm_meta_ptr();
  // A copy, for the same reason as in blobOut (and TextDecoder): it is small.
  const meta = JSON.parse(dec.decode(mem.slice(metaPtr, metaPtr + ex.mm_meta_len())) || "null");
  let result = null;
  try {
    if (status === 0 && keep) result = await keep(mem.subarray(ex.mm_out_ptr(), ex.mm_out_ptr() + ex.mm_out_len()));
  } finally {
    ex.mm_out_clear();
  }
  if (status !== 0) throw Object.assign(new Error((meta && meta.message) || "metadata check failed"), { kind: (meta && meta.error) || "unknown" });
  return { meta, result };
}

function mib(bytes) {
  return `${Math.round(bytes / 1048576)} MiB`;
}

function el(tag, attrs = {}, text = null) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== null) e.textContent = text;
  return e;
}

// The check of the documents chosen in `input` (the file input). T: the page's texts;
// tier: "wasm" or "js".
export function documentCheck(T, tier, input) {
  const limit = LIMITS[tier] || LIMITS.js;
  const states = new Map(); // File -> {promise, state}
  let round = 0;

  const section = el("section", { id: "metadata", "aria-labelledby": "metadata-h" });
  section.append(
    el("h2", { id: "metadata-h" }, T.metadata_h2),
    el("p", { class: "help" }, T.metadata_intro),
    el("p", { id: "metadata-status", role: "status", "aria-live": "polite" }),
  );
  const list = el("div", { id: "metadata-documents" });
  const visible = el("p", { id: "metadata-visible", class: "warning" }, T.metadata_visible);
  section.append(list, visible);
  section.hidden = true;
  input.insertAdjacentElement("afterend", section);
  const status = section.querySelector("#metadata-status");

  function kindLabel(kind) {
    return T["metadata_kind_" + kind] || kind;
  }

  function findingsList(findings) {
    const rank = (k) => { const i = ORDER.indexOf(k); return i < 0 ? ORDER.length : i; };
    const sorted = findings.slice().sort((a, b) => rank(a.kind) - rank(b.kind));
    const ul = el("ul", { class: "findings" });
    for (const f of sorted.slice(0, SHOWN)) {
      const where = f.location ? ` (${T.metadata_in.replace("{place}", f.location)})` : "";
      ul.append(el("li", { "data-kind": f.kind }, `${kindLabel(f.kind)}: ${f.value}${where}`));
    }
    if (sorted.length > SHOWN) ul.append(el("li", {}, T.metadata_more.replace("{count}", String(sorted.length - SHOWN))));
    return ul;
  }

  function render(i, file, state) {
    const box = el("div", { class: "document", id: `metadata-doc-${i}`, "data-state": state.state, "data-format": state.format || "" });
    box.append(el("h3", {}, file.name));
    if (state.state === "too_large") box.append(el("p", { class: "warning" }, T.metadata_too_large.replace("{limit}", mib(limit))));
    if (state.state === "failed") box.append(el("p", { class: "warning" }, T.metadata_failed));
    const removable = state.findings.filter((f) => f.removable);
    const fixed = state.findings.filter((f) => !f.removable);
    if (state.state === "checked" && state.findings.length === 0) box.append(el("p", { class: "ok" }, T.metadata_none));
    if (removable.length > 0 && state.canClean) {
      box.append(el("p", {}, T.metadata_found), findingsList(removable));
      const fs = el("fieldset", { class: "metadata-choice" });
      fs.append(el("legend", {}, T.metadata_choice));
      const warn = el("p", { class: "warning", id: `metadata-keep-warning-${i}` }, T.metadata_keep_warning);
      warn.hidden = state.choice !== "keep";
      for (const [value, text] of [["remove", T.metadata_remove], ["keep", T.metadata_keep]]) {
        const label = el("label", { class: "choice" });
        const radio = el("input", { type: "radio", name: `metadata-choice-${i}`, id: `metadata-${value}-${i}`, value, autocomplete: "off" });
        radio.checked = state.choice === value;
        if (value === "keep") radio.setAttribute("aria-describedby", warn.id);
        radio.addEventListener("change", () => { state.choice = value; warn.hidden = value !== "keep"; });
        label.append(radio, document.createTextNode(" " + text));
        fs.append(label);
      }
      fs.append(warn);
      box.append(fs);
    } else if (removable.length > 0) {
      fixed.push(...removable);
    }
    if (fixed.length > 0) box.append(el("p", {}, T.metadata_not_removable), findingsList(fixed));
    if (state.state === "unsupported") {
      box.append(el("p", { class: "warning" }, T.metadata_cannot_clean));
      const advice = FORMAT_ADVICE[state.format];
      if (advice) box.append(el("p", { class: "help" }, T[advice]));
    }
    const notes = new Set();
    for (const w of state.warnings) {
      const text = T["metadata_warning_" + w.kind];
      if (text && !notes.has(text)) { notes.add(text); box.append(el("p", { class: "warning" }, text)); }
    }
    return box;
  }

  async function checkOne(file) {
    const state = { state: "checking", format: null, canClean: false, findings: [], warnings: [], removable: [], choice: "remove" };
    try {
      const head = await run(tier, "mm_detect", file.name, file.slice(0, HEAD));
      state.format = head.meta.format;
      const cleanable = head.meta.can_clean;
      // TIFF and HEIC are read (what they carry is shown), not cleaned.
      const readable = cleanable || state.format === "tiff" || state.format === "heif";
      if (state.format === "text") {
        state.state = "checked";
      } else if (!readable) {
        state.state = "unsupported";
      } else if (file.size > limit) {
        state.state = "too_large";
      } else {
        const { meta } = await run(tier, "mm_inspect", file.name, file);
        state.format = meta.format;
        state.canClean = meta.can_clean;
        state.findings = meta.findings;
        state.warnings = meta.warnings.filter((w) => w.kind !== "visible_content");
        state.removable = meta.removable;
        state.state = meta.can_clean ? "checked" : "unsupported";
      }
    } catch (e) {
      (window.__meldpuntLog = window.__meldpuntLog || []).push("metadata: " + String(e && (e.stack || e.message || e)));
      state.state = "failed";
    }
    return state;
  }

  // Checks the documents now chosen (called on every change of the input).
  async function check(files) {
    const mine = ++round;
    for (const f of Array.from(states.keys())) if (!files.includes(f)) states.delete(f);
    section.hidden = files.length === 0;
    section.dataset.done = "false";
    list.replaceChildren();
    if (files.length === 0) return;
    for (const file of files) {
      if (!states.has(file)) {
        const entry = { state: null, promise: null };
        entry.promise = checkOne(file).then((s) => { entry.state = s; return s; });
        states.set(file, entry);
      }
    }
    for (let i = 0; i < files.length; i++) {
      if (mine !== round) return;
      status.textContent = T.metadata_checking.replace("{name}", files[i].name);
      const state = await states.get(files[i]).promise;
      if (mine !== round) return;
      list.append(render(i, files[i], state));
    }
    status.textContent = T.metadata_checked.replace("{count}", String(files.length));
    section.dataset.done = "true";
  }

  // What to encrypt for each document: the cleaned copy where the reporter chose to
  // remove, else the original; and the record the signed report keeps (kinds only).
  async function prepare(files) {
    const out = [];
    for (const file of files) {
      let entry = states.get(file);
      if (!entry) { await check(files); entry = states.get(file); }
      const state = await entry.promise;
      const checked = state.state === "checked";
      if (!checked) { out.push({ file, metadata: { removed: [], kept_original: false, checked: false } }); continue; }
      if (state.removable.length === 0) { out.push({ file, metadata: { removed: [], kept_original: false, checked: true } }); continue; }
      if (state.choice === "keep") { out.push({ file, metadata: { removed: [], kept_original: true, checked: true } }); continue; }
      status.textContent = T.metadata_cleaning.replace("{name}", file.name);
      const { meta, result } = await run(tier, "mm_clean", file.name, file,
        async (bytes) => new File([await blobOut(bytes, file.type)], file.name, { type: file.type, lastModified: 0 }));
      out.push({ file: result, metadata: { removed: meta.removed, kept_original: false, checked: true } });
    }
    status.textContent = T.metadata_checked.replace("{count}", String(files.length));
    return out;
  }

  return { check, prepare };
}

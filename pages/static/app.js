// The reporter's pages. Everything is encrypted here, in the browser, by the crypto
// module; the server receives age files and the mailbox credential, nothing else.
// If the module cannot start, the forms stay disabled: nothing is ever sent in the clear.

import { loadJs, loadWasm } from "./crypto.js";

const $ = (id) => document.getElementById(id);
// The page's texts, for what the script says (a static file, gzipped and cached, loaded
// beside this script: see the page's preload). Without them nothing can be said, so the
// page offers the simple form instead.
const T = await fetch(`/static/texts-${document.body.dataset.lang}.json`)
  .then((r) => (r.ok ? r.json() : null))
  .catch(() => null);
if (!T) {
  $("engine-failed").hidden = false;
  throw new Error("the page's texts did not load");
}
const page = document.body.dataset.page;

// Upload chunks: large enough to be efficient, small enough that a dropped connection
// costs little and memory stays bounded (the current chunk is kept until it arrived).
const SLICE = 1024 * 1024;
// Without WebAssembly the same code runs as plain JavaScript at about 1.06 MiB/s with the
// hashing worker (measured in Firefox ESR with Tor Browser's "Safer" preferences, 0.8 in
// Chromium --jitless; docs/BENCHMARKS.md), so documents are limited to what encrypts in
// about two minutes in Firefox.
const JS_TIER_MAX = 128 * 1024 * 1024;
// Without WebAssembly, documents from this size on are hashed in a Worker (uploadFile): the
// second download of the module (about 570 KB gzipped) then costs less than it saves.
const JS_HASHER_MIN = 4 * 1024 * 1024;

function show(el, text) {
  el.textContent = text;
  el.hidden = false;
}

// A return code or fingerprint `XXXX-XXXX-…` in the one form every page uses (the same
// as the server's `grouped` filter): each group with its dash unbreakable, a line break
// only after a dash.
function groupedCode(el, text) {
  const groups = text.split("-");
  el.replaceChildren();
  groups.forEach((g, i) => {
    const span = document.createElement("span");
    span.className = "g";
    span.dataset.group = String(i + 1);
    span.textContent = i + 1 < groups.length ? `${g}-` : g;
    el.append(span);
    if (i + 1 < groups.length) el.append(document.createElement("wbr"));
  });
}

// Shows what is hidden until the script runs: without JavaScript none of it can work, so
// none of it is shown (the <noscript> notice leads to the simple form instead).
function scriptRuns() {
  for (const id of ["engine", "report-form", "code-form"]) {
    const el = $(id);
    if (el) el.hidden = false;
  }
}

function today() {
  return new Date().toISOString().slice(0, 10);
}

async function api(method, path, { mailbox, body, headers = {} } = {}) {
  const h = { ...headers };
  if (mailbox) h["Meldpunt-Mailbox"] = mailbox;
  const res = await fetch("/api/v1" + path, {
    method,
    headers: h,
    body,
    credentials: "omit",
    cache: "no-store",
    referrerPolicy: "no-referrer",
  });
  return res;
}

// Under load the drop box asks for a small proof of work (a puzzle) before it takes a
// request that costs it something (PROTOCOL.md §13). The crypto module solves it, in
// small batches so the page stays responsive; then the request is sent again.
async function solveAdmission(crypto, admission) {
  const note = $("admission");
  if (note) show(note, T.admission_working);
  try {
    let start = Math.floor(Math.random() * 2 ** 40);
    for (;;) {
      const nonce = crypto.solveAdmission(admission.challenge, admission.difficulty, start, 4);
      if (nonce !== null) return `${admission.challenge}.${nonce}`;
      start += 4;
      await new Promise((r) => setTimeout(r, 0));
    }
  } finally {
    if (note) note.hidden = true;
  }
}

// The puzzle in a 429 answer, if it carries one.
async function admissionOf(res) {
  if (res.status !== 429) return null;
  try { return (await res.clone().json()).admission || null; } catch (_) { return null; }
}

// `api`, but a request the drop box answers with a puzzle is solved and sent again.
async function admitted(crypto, method, path, opts = {}) {
  let res = await api(method, path, opts);
  // A few rounds: while a flood builds up, the difficulty may rise as a puzzle is solved.
  for (let round = 0; round < 8; round++) {
    const admission = await admissionOf(res);
    if (!admission) break;
    const header = await solveAdmission(crypto, admission);
    res = await api(method, path, { ...opts, headers: { ...(opts.headers || {}), "Meldpunt-Admission": header } });
  }
  return res;
}

// Stores the note to self (PUT /note), trying again with a growing pause; true when
// stored.
async function storeNote(mailbox, note, attempts = 6) {
  for (let attempt = 0; attempt < attempts; attempt++) {
    try {
      const res = await api("PUT", "/note", { mailbox, body: note, headers: { "Content-Type": "application/octet-stream" } });
      if (res.ok) return true;
    } catch (_) { /* tried again */ }
    await new Promise((r) => setTimeout(r, 500 * 2 ** Math.min(attempt, 5)));
  }
  return false;
}

async function json(res) {
  if (!res.ok) {
    const err = new Error(`HTTP ${res.status}`);
    err.status = res.status;
    try {
      const body = await res.json();
      err.detail = body.error;
      if (res.status === 410) err.gone = { closed: body.closed, deleted: body.deleted };
    } catch (_) { /* no body */ }
    throw err;
  }
  return res.json();
}

// Sizes in the units people know ("MB", "GB"), counted in binary units and rounded down,
// so a stated limit is never more than what is allowed.
function size(bytes) {
  return bytes >= 1073741824 ? `${Math.floor(bytes / 107374182.4) / 10} GB` : `${Math.floor(bytes / 1048576)} MB`;
}

// WebAssembly where the browser allows it; otherwise the same module as plain
// JavaScript. If neither starts, the forms stay disabled.
async function engine() {
  const status = $("engine");
  try {
    const wasm = typeof WebAssembly === "object";
    const crypto = wasm ? await loadWasm("/static/meldpunt.wasm") : await loadJs("/static/meldpunt-wasm2js.js");
    crypto.tier = wasm ? "wasm" : "js";
    status.textContent = wasm ? T.report_engine_wasm : T.report_engine_js;
    $("engine-tech").textContent = wasm ? T.tech_engine_wasm : T.tech_engine_js;
    $("engine-details").hidden = false;
    return crypto;
  } catch (e) {
    status.textContent = T.report_engine_failed;
    status.classList.add("error");
    const simple = $("engine-failed");
    if (simple) simple.hidden = false;
    return null;
  }
}

// --- making a report -------------------------------------------------------------------

function progress(label, done, total) {
  $("progress").hidden = false;
  $("progress-label").textContent = label;
  const pct = total > 0 ? Math.floor((done * 100) / total) : 100;
  $("progress-bar").value = pct;
  $("progress-text").textContent = `${label}: ${(done / 1048576).toFixed(1)} / ${(total / 1048576).toFixed(1)} MB (${pct}%)`;
}

// Sends ciphertext chunks through a Worker (upload-worker.js), replaced every
// RECYCLE bytes: Chromium holds fetch() request bodies for as long as the sending context
// lives, and ending the worker frees them, so memory stays bounded for any size.
const RECYCLE = 32 * 1024 * 1024;

class Uploader {
  constructor(crypto) {
    this.crypto = crypto;
    this.worker = null;
    this.sent = 0;
  }

  async send(mailbox, n, offset, bytes) {
    let admission = null;
    for (let round = 0; round < 8; round++) {
      if (this.worker === null || this.sent >= RECYCLE) {
        this.close();
        this.worker = new Worker("/static/upload-worker.js");
      }
      // A copy the worker owns (transferred, not cloned); the page reuses its buffer.
      const copy = bytes.slice();
      const result = await new Promise((resolve) => {
        this.worker.onmessage = (e) => resolve(e.data);
        this.worker.onerror = () => resolve({ ok: false, status: 0, message: "upload worker failed" });
        this.worker.postMessage({ mailbox, n, offset, bytes: copy, admission }, [copy.buffer]);
      });
      this.sent += bytes.length;
      if (result.ok) return;
      // Under load: solve the puzzle the drop box sent, and send the chunk again.
      if (result.admission) {
        admission = await solveAdmission(this.crypto, result.admission);
        continue;
      }
      throw Object.assign(new Error(result.message), { status: result.status });
    }
    throw new Error("upload not admitted");
  }

  close() {
    if (this.worker !== null) this.worker.terminate();
    this.worker = null;
    this.sent = 0;
  }
}

// Reads a File in slices into one reused buffer (a BYOB stream reader where the browser
// has one), so memory does not grow with the file.
function sliceReader(file) {
  let reader = null;
  try { reader = file.stream().getReader({ mode: "byob" }); } catch (_) { reader = null; }
  let buffer = new ArrayBuffer(SLICE);
  let pos = 0;
  return async function next() {
    if (reader) {
      const { value, done } = await reader.read(new Uint8Array(buffer, 0, SLICE));
      if (done) return null;
      buffer = value.buffer;
      return value;
    }
    if (pos >= file.size) return null;
    const slice = new Uint8Array(await file.slice(pos, pos + SLICE).arrayBuffer());
    pos += slice.length;
    return slice;
  };
}

async function uploadFile(crypto, uploader, mailbox, recipients, n, file, onProgress) {
  // A second instance in a Worker hashes the ciphertext on another core while this one
  // encrypts (where it cannot start, the hash is made here). Not at the first load: the
  // module is handed over compiled, but the plain-JavaScript one is downloaded again, which
  // pays only for larger documents.
  if (crypto.tier === "wasm" || file.size >= JS_HASHER_MIN) await crypto.startHasher(crypto.tier === "wasm" ? 10000 : 60000);
  const handle = crypto.attachmentBegin(recipients, file.size);
  // One reused upload buffer: ciphertext is appended by the module and sent in chunks.
  const sink = { buf: new Uint8Array(SLICE + 64 * 1024), len: 0 };
  let offset = 0;
  let read = 0;
  const flush = async (force) => {
    if (sink.len === 0 || (!force && sink.len < SLICE)) return;
    await uploader.send(mailbox, n, offset, sink.buf.subarray(0, sink.len));
    offset += sink.len;
    sink.len = 0;
  };
  const next = sliceReader(file);
  for (let plain = await next(); plain !== null; plain = await next()) {
    await crypto.attachmentPush(handle, plain, sink);
    read += plain.length;
    plain.fill(0);
    await flush(false);
    onProgress(read);
  }
  while (!(await crypto.attachmentPad(handle, sink))) await flush(false);
  const last = await crypto.attachmentFinish(handle, sink);
  // Where the manifest's hash was computed (for the tests): in the hashing worker, or here.
  $("progress").dataset.digest = last.meta.hashed_beside ? "beside" : "here";
  await flush(true);
  const digest = await json(await api("POST", `/uploads/${n}/finish`, { mailbox }));
  if (digest.sha256 !== last.meta.ciphertext_sha256 || digest.size !== last.meta.ciphertext_size) {
    throw new Error("the server stored something other than what was sent");
  }
  return {
    name: file.name,
    size: file.size,
    ciphertext_size: last.meta.ciphertext_size,
    ciphertext_sha256: last.meta.ciphertext_sha256,
  };
}

// The reporter types the whole code back from paper (a password field, with "show what
// I typed"). The module compares it with the session's code and names the groups that
// differ; they are marked in the code shown. Returns a check: true when the code was
// written down correctly; with `final`, also says what is missing.
function retypeCheck(crypto, session) {
  const retype = $("retype");
  const error = $("retype-error");
  const ok = $("retype-ok");
  $("retype-show").addEventListener("change", (e) => {
    retype.type = e.target.checked ? "text" : "password";
  });
  const mark = (groups) => {
    for (const span of $("code").querySelectorAll(".g")) {
      span.classList.toggle("differs", groups.includes(Number(span.dataset.group)));
    }
  };
  const check = (final) => {
    let groups;
    try {
      groups = crypto.compareCode(session, retype.value);
    } catch (err) {
      mark([]);
      ok.hidden = true;
      const found = retype.value.replace(/[\s\-.]/g, "").length;
      if (err.kind === "length" && (final || found > 28)) {
        show(error, T.report_code_incomplete.replace("{found}", String(found)));
      } else if (err.kind === "character") {
        const position = (err.message.match(/\d+/) || ["?"])[0];
        show(error, T.report_code_character.replace("{position}", position));
      } else {
        error.hidden = true;
      }
      retype.setAttribute("aria-invalid", error.hidden ? "false" : "true");
      return false;
    }
    mark(groups);
    if (groups.length === 0) {
      error.hidden = true;
      ok.hidden = false;
    } else {
      ok.hidden = true;
      const text = groups.length === 1
        ? T.report_code_group_differs.replace("{group}", String(groups[0]))
        : T.report_code_groups_differ.replace("{groups}", `${groups.slice(0, -1).join(", ")} ${T.and} ${groups[groups.length - 1]}`);
      show(error, text);
    }
    retype.setAttribute("aria-invalid", groups.length === 0 ? "false" : "true");
    return groups.length === 0;
  };
  retype.addEventListener("input", () => check(false));
  return check;
}

// The receipt: the case, the day, the documents the drop box confirmed (each one's hash
// was compared with what was sent), and the return code once more.
function showReceipt(receipt, attachments) {
  $("receipt-case").textContent = receipt.case;
  $("receipt-date").textContent = receipt.received;
  $("receipt-documents").textContent = attachments.length === 0
    ? T.receipt_no_documents
    : `${attachments.length}: ${attachments.map((a) => a.name).join(", ")}`;
  const code = $("receipt-code");
  code.replaceChildren(...Array.from($("code").childNodes, (n) => n.cloneNode(true)));
  for (const span of code.querySelectorAll(".g")) span.classList.remove("differs");
  $("receipt").hidden = false;
}

// --- hidden data in documents (metadata.js, loaded only once a document is chosen) -----

let documentCheck = null;

function watchDocuments(crypto) {
  const input = $("files");
  input.addEventListener("change", async () => {
    try {
      if (!documentCheck) documentCheck = (await import("./metadata.js")).documentCheck(T, crypto.tier, input);
      await documentCheck.check(Array.from(input.files));
    } catch (err) {
      (window.__meldpuntLog = window.__meldpuntLog || []).push("metadata: " + String(err && (err.stack || err.message || err)));
      show($("files-limit"), T.metadata_unavailable);
    }
  });
}

// Each document as it is to be encrypted (cleaned where the reporter chose so) and the
// record the signed report keeps about its hidden data.
async function documentsToSend(files) {
  if (!documentCheck || files.length === 0) return files.map((file) => ({ file, metadata: null }));
  return documentCheck.prepare(files);
}

function withMetadata(entry, metadata) {
  return metadata ? { ...entry, metadata } : entry;
}

async function reportPage() {
  const form = $("report-form");
  const send = $("send");
  const crypto = await engine();
  if (!crypto) return;

  if (crypto.tier === "js") show($("files-limit"), T.report_files_limit_js.replace("{limit}", size(JS_TIER_MAX)));
  watchDocuments(crypto);
  const destinations = await json(await api("GET", "/destinations"));
  const recipientsOf = (name) => (destinations.find((d) => d.name === name) || {}).recipients || [];
  const chosen = () => (form.querySelector('input[name="destination"]:checked') || {}).value;
  const showFingerprint = () => {
    const r = recipientsOf(chosen());
    if (r.length) groupedCode($("fingerprint"), crypto.fingerprint(r));
    else $("fingerprint").textContent = "—";
  };
  form.addEventListener("change", (e) => { if (e.target.name === "destination") showFingerprint(); });
  showFingerprint();

  const made = crypto.generateCode();
  const session = made.session;
  groupedCode($("code"), made.code);
  // From here only the page shows the code; the script keeps none (the module compares).
  made.code = null;
  $("code-section").hidden = false;
  const confirmed = retypeCheck(crypto, session);
  send.disabled = false;

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!confirmed(true)) {
      $("retype").focus();
      return;
    }
    send.disabled = true;
    $("report-error").hidden = true;
    const oldLabel = send.textContent;
    send.textContent = T.report_sending;
    try {
      const recipients = recipientsOf(chosen());
      const prepared = await documentsToSend(Array.from($("files").files));
      const files = prepared.map((p) => p.file);
      const total = files.reduce((a, f) => a + f.size, 0);
      const uploads = await json(await admitted(crypto, "POST", "/uploads", { mailbox: made.mailbox }));
      // Every limit is checked before a single byte of a document is sent.
      let limit = uploads.max_attachment_bytes;
      if (crypto.tier === "js") limit = Math.min(limit, JS_TIER_MAX);
      const tooLarge = files.find((f) => f.size > limit);
      if (tooLarge) {
        const err = new Error("too large");
        err.message_for_reporter = T.report_too_large.replace("{name}", tooLarge.name).replace("{limit}", size(limit));
        throw err;
      }
      const attachments = [];
      let before = 0;
      const uploader = new Uploader(crypto);
      for (let i = 0; i < files.length; i++) {
        attachments.push(withMetadata(await uploadFile(crypto, uploader, made.mailbox, recipients, i, files[i], (done) => {
          progress(`${T.report_progress_encrypt} / ${T.report_progress_upload}`, before + done, total);
          $("progress").dataset.moduleMemory = String(crypto.memoryBytes());
        }), prepared[i].metadata));
        before += files[i].size;
      }
      uploader.close();
      const value = (id) => $(id).value;
      const sealed = crypto.sealReport(session, {
        destination: { name: chosen(), recipients },
        content: {
          category: (form.querySelector('input[name="category"]:checked') || {}).value || "other",
          concerning: value("concerning"),
          description: value("description"),
          when_where: value("when_where"),
          contact: value("contact").trim() || null,
          attachments,
          date: today(),
        },
      });
      const receipt = await json(await admitted(crypto, "POST", "/reports", {
        mailbox: made.mailbox,
        body: sealed.bytes,
        headers: { "Content-Type": "application/octet-stream", "Meldpunt-Destination": chosen() },
      }));
      // The note to self records where the report went, for replies. It is tried
      // again and again; if it cannot be stored, the reporter is told (answering then
      // waits for the bureau's first verified message).
      const note = Uint8Array.from(atob(sealed.meta.note), (c) => c.charCodeAt(0));
      const noteStored = await storeNote(made.mailbox, note);
      showReceipt(receipt, attachments);
      crypto.closeSession(session);
      form.reset();
      form.hidden = true;
      if (!noteStored) {
        const warn = document.createElement("p");
        warn.className = "error";
        warn.setAttribute("role", "alert");
        warn.textContent = T.report_note_failed;
        $("receipt").append(warn);
        // Keep trying while the page is open.
        (async () => { while (!(await storeNote(made.mailbox, note, 5))) { /* again */ } warn.remove(); })();
      }
      $("receipt-h").focus();
    } catch (err) {
      // What went wrong, for tests and for a reporter's helper reading the console; no
      // content of the report is in it.
      (window.__meldpuntLog = window.__meldpuntLog || []).push(String(err && (err.stack || err.message || err)) + (err && err.status ? ` (HTTP ${err.status})` : ""));
      show($("report-error"), err.message_for_reporter || (err.kind === "contains_code" ? T.report_contains_code : T.report_failed));
      send.textContent = oldLabel;
      send.disabled = false;
    }
  });
}

// --- checking back ---------------------------------------------------------------------

async function checkPage() {
  const crypto = await engine();
  if (!crypto) return;
  const open = $("open");
  open.disabled = false;
  let session = null;
  let mailbox = null;

  async function load() {
    // The thread comes in pages (the server bounds what one request costs it).
    const thread = await json(await api("GET", "/thread", { mailbox }));
    const messages = thread.messages.map((m) => ({ direction: m.direction, ciphertext: m.ciphertext, day: m.day }));
    for (let next = thread.next; next; ) {
      const page = await json(await api("GET", `/thread?from=${next}`, { mailbox }));
      for (const m of page.messages) messages.push({ direction: m.direction, ciphertext: m.ciphertext, day: m.day });
      next = page.next;
    }
    const read = crypto.readThread(session, { note: thread.note, report_sha256: thread.report_sha256, messages });
    $("case").textContent = thread.case;
    // The status that counts is the one a verified bureau message announced; the
    // server's own record is only the server's word.
    $("status").textContent = read.status ? (T["status_" + read.status] || read.status) : T.check_no_status;
    const serverStatus = $("server-status");
    if (serverStatus) {
      serverStatus.hidden = read.status === thread.status;
      serverStatus.textContent = T.check_server_status.replace("{status}", T["status_" + thread.status] || thread.status);
    }
    const missing = $("missing");
    if (missing) {
      missing.replaceChildren();
      for (const day of read.missing || []) {
        const p = document.createElement("p");
        p.className = "error";
        p.textContent = T.check_missing.replace("{day}", day);
        missing.append(p);
      }
      missing.hidden = !(read.missing || []).length;
    }
    const list = $("messages");
    list.replaceChildren();
    if (read.messages.length === 0) {
      const li = document.createElement("li");
      li.textContent = T.check_no_messages;
      list.append(li);
    }
    for (const m of read.messages) {
      const li = document.createElement("li");
      const meta = document.createElement("span");
      meta.className = "meta";
      if (m.direction === "from_reporter" && m.verified === null) {
        li.className = "own";
        meta.textContent = m.day ? T.check_from_you_on.replace("{day}", m.day) : T.check_from_you;
        const seen = document.createElement("span");
        seen.className = m.acknowledged ? "ok" : "pending";
        seen.textContent = m.acknowledged ? T.check_seen : T.check_not_seen;
        li.append(meta, document.createTextNode(" "), seen);
      } else if (m.direction === "from_reporter") {
        li.className = "unverified";
        li.textContent = T.check_unverified;
      } else if (m.verified) {
        meta.textContent = `${T.check_from_bureau} · ${m.date}`;
        const text = document.createElement("p");
        text.className = "text";
        text.textContent = m.text;
        li.append(meta, text);
      } else {
        li.className = "unverified";
        li.textContent = T.check_unverified;
      }
      list.append(li);
    }
    $("reply-form").hidden = !read.can_reply;
    if (!read.can_reply) show($("reply-error"), T.check_cannot_reply);
    $("thread").hidden = false;
    return read;
  }

  $("code-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const err = $("code-error");
    err.hidden = true;
    try {
      const opened = crypto.openSession($("code-input").value);
      session = opened.session;
      mailbox = opened.mailbox;
      $("code-input").value = "";
      await load();
      $("code-form").hidden = true;
      $("thread-h").focus();
    } catch (ex) {
      if (session !== null) { crypto.closeSession(session); session = null; }
      const key = { typo: "check_typo", length: "check_length", character: "check_character" }[ex.kind];
      if (ex.status === 410 && ex.gone) {
        show(err, T.check_deleted.replace("{closed}", ex.gone.closed).replace("{deleted}", ex.gone.deleted));
        return;
      }
      show(err, key ? T[key] : ex.status === 404 || ex.status === 401 ? T.check_unknown : T.report_failed);
    }
  });

  $("reply-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const err = $("reply-error");
    err.hidden = true;
    $("reply-ok").hidden = true;
    try {
      const sealed = crypto.sealReply(session, $("reply").value, today());
      const res = await admitted(crypto, "POST", "/thread", {
        mailbox,
        body: sealed.bytes,
        headers: { "Content-Type": "application/octet-stream", "Meldpunt-Extends": sealed.meta.extends },
      });
      if (res.status === 409) { show(err, T.check_stale); await load(); return; }
      await json(res);
      // Record the answer in the note to self, so a later visit notices if the server
      // ever drops it (PROTOCOL.md §8.5).
      const note = crypto.noteAfter(session, sealed.bytes, today());
      if (note.length > 0 && !(await storeNote(mailbox, note))) show(err, T.check_note_failed);
      $("reply").value = "";
      $("reply-ok").hidden = false;
      await load();
    } catch (ex) {
      show(err, ex.kind === "contains_code" ? T.report_contains_code : T.report_failed);
    }
  });

  $("close").addEventListener("click", () => {
    if (session !== null) crypto.closeSession(session);
    session = null;
    mailbox = null;
    location.assign(`/${document.body.dataset.lang}/`);
  });
}

scriptRuns();
if (page === "report") reportPage();
if (page === "check") checkPage();

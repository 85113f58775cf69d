// The one loader for Meldpunt's crypto module. It speaks the plain extern "C" ABI of
// client-wasm (see client-wasm/src/abi.rs); the same calls work whether the module is
// WebAssembly or its wasm2js translation, so the pages have one crypto code base.

const enc = new TextEncoder();
const dec = new TextDecoder();

// Wraps a module instance's exports ({memory, mp_*}) into friendly calls. `source`
// ({kind: "wasm", module} or {kind: "js", url}) says what the module is, for a hashing
// worker.
export function wrap(exports, source) {
  const mem = () => new Uint8Array(exports.memory.buffer);
  let hasher = null;

  // Hands the ciphertext a call just made (appended to the sink from `from`, or
  // returned) to the hasher, if this attachment has one.
  async function beside(handle, bytes, sink, from) {
    if (hasher === null || !hasher.has(handle)) return;
    await hasher.push(handle, sink ? sink.buf.slice(from, sink.len) : bytes.slice());
  }

  function put(bytes) {
    if (bytes.length === 0) return [0, 0];
    const ptr = exports.mp_alloc(bytes.length);
    mem().set(bytes, ptr);
    return [ptr, bytes.length];
  }

  // Runs one call and returns {bytes, meta}, or throws an Error with .kind. With a
  // `sink` ({buf, len}), the bytes are appended to sink.buf instead of copied into a new
  // array, so large uploads reuse one buffer.
  function call(status, sink) {
    const m = mem();
    const meta = JSON.parse(dec.decode(m.subarray(exports.mp_meta_ptr(), exports.mp_meta_ptr() + exports.mp_meta_len())) || "null");
    const out = m.subarray(exports.mp_out_ptr(), exports.mp_out_ptr() + exports.mp_out_len());
    let bytes = null;
    if (sink && status === 0) {
      if (sink.len + out.length > sink.buf.length) {
        const bigger = new Uint8Array(Math.max(sink.buf.length * 2, sink.len + out.length));
        bigger.set(sink.buf.subarray(0, sink.len));
        sink.buf = bigger;
      }
      sink.buf.set(out, sink.len);
      sink.len += out.length;
    } else {
      bytes = out.slice();
    }
    exports.mp_out_clear();
    if (status !== 0) {
      const err = new Error(meta && meta.message ? meta.message : "encryption failed");
      err.kind = meta && meta.error ? meta.error : "unknown";
      throw err;
    }
    return { bytes, meta };
  }

  const json = (value) => put(enc.encode(JSON.stringify(value)));

  return {
    // The module's linear memory in bytes (not secret; the tests watch it stay bounded).
    memoryBytes: () => exports.memory.buffer.byteLength,
    generateCode: () => call(exports.mp_code_generate()).meta,
    openSession: (typed) => call(exports.mp_session_open(...put(enc.encode(typed)))).meta,
    closeSession: (session) => exports.mp_session_close(session),
    // The groups (from 1) in which a code typed back from paper differs from the
    // session's code; the page keeps no copy of the code to compare with.
    compareCode: (session, typed) => call(exports.mp_code_compare(session, ...put(enc.encode(typed)))).meta.groups,
    sealReport: (session, request) => call(exports.mp_report_seal(session, ...json(request))),
    fingerprint: (recipients) => call(exports.mp_fingerprint(...json({ recipients }))).meta.fingerprint,
    // An attachment: begin, push each slice (its ciphertext is appended to `sink`), pad
    // until done, finish. With a hasher beside (startHasher), the ciphertext's SHA-256 for
    // the manifest is computed by a second instance in a Worker, on another core, while
    // this one encrypts; without one, here. push and finish return promises.
    attachmentBegin: (recipients, size) => {
      const digestBeside = hasher !== null && hasher.ready;
      const handle = call(exports.mp_attachment_begin(...json({ recipients, size, digest_beside: digestBeside }))).meta.attachment;
      if (digestBeside) hasher.begin(handle);
      return handle;
    },
    attachmentPush: async (handle, plaintext, sink) => {
      const from = sink ? sink.len : 0;
      const bytes = call(exports.mp_attachment_push(handle, ...put(plaintext)), sink).bytes;
      await beside(handle, bytes, sink, from);
      return bytes;
    },
    attachmentPad: async (handle, sink) => {
      const from = sink ? sink.len : 0;
      const out = call(exports.mp_attachment_pad(handle), sink);
      await beside(handle, out.bytes, sink, from);
      return out.meta.done;
    },
    attachmentFinish: async (handle, sink) => {
      const from = sink ? sink.len : 0;
      let out;
      try {
        out = call(exports.mp_attachment_finish(handle), sink);
      } catch (err) {
        if (hasher !== null) hasher.forget(handle);
        throw err;
      }
      if (hasher === null || !hasher.has(handle)) return out;
      await beside(handle, out.bytes, sink, from);
      const digest = await hasher.finish(handle);
      if (digest.ciphertext_size !== out.meta.ciphertext_size) throw new Error("the hashing worker saw other bytes");
      out.meta.ciphertext_sha256 = digest.ciphertext_sha256;
      out.meta.hashed_beside = true;
      return out;
    },
    // Starts the hasher (once; the report page, before a document is encrypted) and
    // resolves to whether it is ready. Until it is, and wherever Workers are missing,
    // attachments are hashed here. The WebAssembly module is handed over compiled; the
    // wasm2js one is loaded again by the worker (downloaded again: nothing is cached).
    // A worker that has not said it is ready within `waitMs` is not waited for longer.
    startHasher: (waitMs = 30000) => {
      if (hasher === null) hasher = new Hasher(source);
      return Promise.race([hasher.started, new Promise((resolve) => setTimeout(() => resolve(false), waitMs))]);
    },
    // Hashes in the module: the hashing worker's side.
    hashBegin: () => call(exports.mp_hash_begin()).meta.hash,
    hashPush: (handle, bytes) => call(exports.mp_hash_push(handle, ...put(bytes))),
    hashFinish: (handle) => call(exports.mp_hash_finish(handle)).meta,
    readThread: (session, thread) => call(exports.mp_thread_read(session, ...json(thread))).meta,
    sealReply: (session, text, date) => call(exports.mp_reply_seal(session, ...json({ text, date }))),
    // The note to self with an answer just posted recorded in it (bytes; empty: none).
    noteAfter: (session, answer, date) => {
      const input = new Uint8Array(10 + answer.length);
      input.set(enc.encode(date), 0);
      input.set(answer, 10);
      return call(exports.mp_note_after(session, ...put(input))).bytes;
    },
    // One batch of an admission puzzle: the nonce (hex) or null.
    solveAdmission: (challenge, difficulty, start, tries) =>
      call(exports.mp_admission_solve(...json({ challenge, difficulty, start, tries }))).meta.nonce,
  };
}

// At most this many bytes of ciphertext wait for the hashing worker; the page then waits
// for it, so memory stays bounded whichever side is slower.
const HASH_BACKLOG = 8 * 1024 * 1024;

// The hashing worker (hash-worker.js): a second instance of the same module, which only
// ever sees ciphertext. Attachments are hashed one after another, in order.
class Hasher {
  constructor(source) {
    this.loaded = false;
    this.failed = false;
    this.handles = new Map(); // attachment handle -> this worker's hash handle (a promise)
    this.waiting = new Map(); // request number -> resolve/reject
    this.next = 0;
    this.backlog = 0;
    this.drained = [];
    try {
      this.worker = new Worker(new URL("./hash-worker.js", import.meta.url), { type: "module" });
    } catch (_) {
      this.worker = null;
      this.started = Promise.resolve(false);
      return;
    }
    this.worker.onmessage = (e) => this.answer(e.data);
    this.worker.onerror = () => this.fail(new Error("the hashing worker failed"));
    this.started = this.request({ load: source }).then(() => { this.loaded = true; return this.ready; }, () => false);
  }

  // Loaded, and not failed since.
  get ready() {
    return this.loaded && !this.failed;
  }

  request(message, transfer) {
    const id = ++this.next;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage({ id, ...message }, transfer || []);
    });
  }

  answer(m) {
    const w = this.waiting.get(m.id);
    if (!w) return;
    this.waiting.delete(m.id);
    if (m.error) w.reject(new Error(m.error));
    else w.resolve(m.value);
  }

  // A worker that failed is not used again; what waited on it fails, and the page tells
  // the reporter that sending failed (the next try hashes in the page's own module).
  fail(err) {
    this.failed = true;
    for (const w of this.waiting.values()) w.reject(err);
    this.waiting.clear();
    for (const d of this.drained) d();
    this.drained = [];
  }

  has(handle) {
    return this.handles.has(handle);
  }

  begin(handle) {
    const started = this.request({ begin: true });
    started.catch(() => {});
    this.handles.set(handle, started);
  }

  async push(handle, bytes) {
    if (this.failed) throw new Error("the hashing worker failed");
    const length = bytes.length; // the bytes are moved to the worker: detached here
    this.backlog += length;
    const done = this.request({ push: await this.handles.get(handle), bytes }, [bytes.buffer]);
    done.then(() => {
      this.backlog -= length;
      if (this.backlog <= HASH_BACKLOG) { for (const d of this.drained) d(); this.drained = []; }
    }, () => {});
    while (this.backlog > HASH_BACKLOG && !this.failed) await new Promise((r) => this.drained.push(r));
    if (this.failed) throw new Error("the hashing worker failed");
  }

  // An attachment that failed: its hash is not wanted.
  forget(handle) {
    this.handles.delete(handle);
  }

  async finish(handle) {
    const hash = await this.handles.get(handle);
    this.handles.delete(handle);
    return this.request({ finish: hash });
  }
}

// What the module imports: randomness from the browser's CSPRNG, and nothing else.
export function imports(getMemory) {
  return {
    env: {
      host_random(ptr, len) {
        const view = new Uint8Array(getMemory().buffer, ptr, len);
        // getRandomValues fills at most 65536 bytes per call.
        for (let off = 0; off < len; off += 65536) {
          crypto.getRandomValues(view.subarray(off, Math.min(len, off + 65536)));
        }
      },
    },
  };
}

// Loads the same module translated to plain JavaScript by wasm2js (for browsers where
// WebAssembly is disabled, such as Tor Browser "Safer"). Slower, same code.
export async function loadJs(url) {
  const mod = await import(url);
  let exports = null;
  exports = mod.instantiate(imports(() => exports.memory));
  return wrap(exports, { kind: "js", url: new URL(url, location.href).href });
}

// Loads the WebAssembly build from `url`.
export async function loadWasm(url) {
  const bytes = await (await fetch(url)).arrayBuffer();
  return instantiateWasm(await WebAssembly.compile(bytes));
}

// An instance of an already compiled module. The hashing worker gets the page's compiled
// module this way, so the module is not downloaded twice.
export async function instantiateWasm(module) {
  let memory = null;
  const instance = await WebAssembly.instantiate(module, imports(() => memory));
  memory = instance.exports.memory;
  return wrap(instance.exports, { kind: "wasm", module });
}

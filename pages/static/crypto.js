// The one loader for Meldpunt's crypto module. It speaks the plain extern "C" ABI of
// client-wasm (see client-wasm/src/abi.rs); the same calls work whether the module is
// WebAssembly or its wasm2js translation, so the pages have one crypto code base.

const enc = new TextEncoder();
const dec = new TextDecoder();

// Wraps a module instance's exports ({memory, mp_*}) into friendly calls.
export function wrap(exports) {
  const mem = () => new Uint8Array(exports.memory.buffer);

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
    attachmentBegin: (recipients, size) => call(exports.mp_attachment_begin(...json({ recipients, size }))).meta.attachment,
    attachmentPush: (handle, plaintext, sink) => call(exports.mp_attachment_push(handle, ...put(plaintext)), sink).bytes,
    attachmentPad: (handle, sink) => call(exports.mp_attachment_pad(handle), sink).meta.done,
    attachmentFinish: (handle, sink) => call(exports.mp_attachment_finish(handle), sink),
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
  return wrap(exports);
}

// Loads the WebAssembly build from `url`.
export async function loadWasm(url) {
  let memory = null;
  const bytes = await (await fetch(url)).arrayBuffer();
  const { instance } = await WebAssembly.instantiate(bytes, imports(() => memory));
  memory = instance.exports.memory;
  return wrap(instance.exports);
}

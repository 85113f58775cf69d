// Times (and, with node --cpu-prof, profiles) the reporter's crypto module in Node, driven
// through the pages' own crypto.js as app.js drives it: 1 MiB slices of one attachment.
// A profiling aid beside scripts/bench-encrypt.sh (which measures in the browsers), not a
// test. docs/BENCHMARKS.md says what it was used for.
//
//   node tests/bench/encrypt/node-profile.mjs MODULE.wasm [MiB=100] [runs=4]
//
// HASH=worker  (default) the ciphertext's SHA-256 in a second instance in a worker, as the page
// HASH=none    a worker that only counts the bytes: what the encryption alone costs
// HASH=here    no worker: the page's instance hashes too
import { isMainThread, parentPort, Worker as NodeWorker } from "node:worker_threads";
import { createHash, getRandomValues } from "node:crypto";
import fs from "node:fs";

const HASH = process.env.HASH || "worker";
const files = async (u) => ({ arrayBuffer: async () => fs.readFileSync(new URL(u)).buffer.slice(0) });

if (!isMainThread) {
  // The worker: the pages' hash-worker.js, or one that only counts.
  if (HASH === "none") {
    let total = 0;
    parentPort.on("message", (m) => {
      let value = null;
      if (m.load) value = true;
      else if (m.begin) (total = 0), (value = 1);
      else if (m.push) total += m.bytes.length;
      else if (m.finish) value = { ciphertext_size: total, ciphertext_sha256: null };
      parentPort.postMessage({ id: m.id, value });
    });
  } else {
    Object.assign(globalThis, { self: globalThis, location: { href: "file:///" }, fetch: files });
    globalThis.postMessage = (m) => parentPort.postMessage(m);
    const early = [];
    parentPort.on("message", (d) => (globalThis.onmessage ? globalThis.onmessage({ data: d }) : early.push(d)));
    await import(new URL("../../../pages/static/hash-worker.js", import.meta.url).href);
    for (const d of early) globalThis.onmessage({ data: d });
  }
} else {
  const [, , wasm, mib = "100", runs = "4"] = process.argv;
  if (!wasm) throw new Error("usage: node-profile.mjs MODULE.wasm [MiB] [runs]");
  Object.assign(globalThis, { location: { href: "file:///" }, fetch: files });
  // The browser's Worker, as crypto.js uses it, on Node's worker threads (this file again).
  globalThis.Worker = class {
    constructor() {
      this.w = new NodeWorker(new URL(import.meta.url));
      this.w.on("message", (data) => this.onmessage({ data }));
      this.w.on("error", (e) => this.onerror(e));
    }
    postMessage(m, transfer) {
      this.w.postMessage(m, transfer);
    }
  };
  const { loadWasm } = await import(new URL("../../../pages/static/crypto.js", import.meta.url).href);
  const c = await loadWasm(new URL(wasm, `file://${process.cwd()}/`).href);
  if (HASH !== "here" && !(await c.startHasher())) throw new Error("the hashing worker did not start");
  const recipient = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p";
  const size = Number(mib) * 1024 * 1024;
  const plain = new Uint8Array(size);
  for (let i = 0; i < size; i += 65536) getRandomValues(plain.subarray(i, Math.min(size, i + 65536)));
  const SLICE = 1 << 20;
  let out = new Uint8Array(Math.ceil(size * 1.02) + SLICE);
  for (let r = 1; r <= Number(runs); r++) {
    const sink = { buf: out, len: 0 };
    const t0 = performance.now();
    const h = c.attachmentBegin([recipient], size);
    for (let off = 0; off < size; off += SLICE) await c.attachmentPush(h, plain.subarray(off, Math.min(size, off + SLICE)), sink);
    while (!(await c.attachmentPad(h, sink)));
    const done = await c.attachmentFinish(h, sink);
    const ms = performance.now() - t0;
    out = sink.buf;
    if (HASH !== "none") {
      const sha = createHash("sha256").update(sink.buf.subarray(0, sink.len)).digest("hex");
      if (sha !== done.meta.ciphertext_sha256) throw new Error("the manifest's hash is not the ciphertext's");
    }
    const where = HASH === "none" ? "not hashed" : done.meta.hashed_beside ? "hashed in the worker" : "hashed here";
    console.log(`run ${r}: ${ms.toFixed(0)} ms for ${mib} MiB (HASH=${HASH}, ${where})`);
  }
  process.exit(0);
}

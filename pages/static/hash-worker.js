// Hashes attachments' ciphertext for the report page on a core of its own, while the
// page's module encrypts (crypto.js, "Hasher"): a second instance of the same module,
// WebAssembly or wasm2js as the page loaded it. It only ever sees ciphertext.

import { instantiateWasm, loadJs } from "./crypto.js";

let module = null;
// Requests are handled one after another, in the order they came.
let queue = Promise.resolve();

async function handle(m) {
  if (m.load) {
    module = m.load.kind === "wasm" ? await instantiateWasm(m.load.module) : await loadJs(m.load.url);
    return true;
  }
  if (m.begin) return module.hashBegin();
  if (m.push) {
    module.hashPush(m.push, m.bytes);
    return null;
  }
  if (m.finish) return module.hashFinish(m.finish);
  throw new Error("unknown request");
}

self.onmessage = (e) => {
  const m = e.data;
  queue = queue.then(() => handle(m)).then(
    (value) => self.postMessage({ id: m.id, value }),
    (err) => self.postMessage({ id: m.id, error: String((err && err.message) || err) }),
  );
};

// The in-browser half of the encryption benchmark (tests/examples/bench_encrypt.rs,
// docs/BENCHMARKS.md). Not part of the product. Each run encrypts the same in-memory
// plaintext and is timed with performance.now(); fetching the plaintext, loading an
// engine and checking its output happen outside the timing.
//
// The Meldpunt module is loaded by the reporter pages' own loader (crypto.js) and driven
// the way app.js encrypts a document: attachmentBegin, 1 MiB slices pushed into one
// reused sink, attachmentPad until done, attachmentFinish; the ciphertext's SHA-256 is
// made by the hashing worker (hash-worker.js), as on the report page.

import { loadJs, loadWasm } from "/crypto.js";

const SLICE = 1024 * 1024; // app.js's slice size

let plain = null;
const engines = {};

// Fetches the plaintext the driver also encrypts natively and with the age CLI.
async function prepare() {
  plain = new Uint8Array(await (await fetch("/plain.bin")).arrayBuffer());
  return {
    size: plain.length,
    webassembly: typeof WebAssembly !== "undefined",
    userAgent: navigator.userAgent,
  };
}

// The Meldpunt module (WebAssembly or its wasm2js translation) behind crypto.js.
function meldpunt(crypto, recipients) {
  // Room for the ciphertext: Padmé adds at most 12%, the header and tags a little more.
  let out = new Uint8Array(Math.ceil(plain.length * 1.13) + SLICE);
  let last = null;
  let digest = null;
  return {
    async run(size) {
      const sink = { buf: out, len: 0 };
      const t0 = performance.now();
      const handle = crypto.attachmentBegin(recipients, size);
      for (let off = 0; off < size; off += SLICE) {
        await crypto.attachmentPush(handle, plain.subarray(off, Math.min(size, off + SLICE)), sink);
      }
      while (!(await crypto.attachmentPad(handle, sink)));
      const done = await crypto.attachmentFinish(handle, sink);
      const ms = performance.now() - t0;
      if (done.meta.ciphertext_size !== sink.len) {
        throw new Error(`module says ${done.meta.ciphertext_size} bytes, sink holds ${sink.len}`);
      }
      out = sink.buf;
      last = sink.len;
      digest = done.meta;
      return { ms, ciphertext_size: sink.len };
    },
    // Sends the last ciphertext to the driver, which decrypts it with `age -d` and checks
    // the manifest's hash against it.
    async check(name) {
      const res = await fetch(`/result/${name}`, { method: "PUT", body: out.subarray(0, last) });
      if (!res.ok) throw new Error(`upload: HTTP ${res.status}`);
      return { uploaded: last, ciphertext_sha256: digest.ciphertext_sha256, hashed_beside: digest.hashed_beside === true };
    },
  };
}

// OpenPGP.js: a binary message to one Curve25519 key made here. `variant`:
//  - "legacy": generateKey's default v4 key (EdDSA-legacy primary, ECDH Curve25519
//    subkey) and encrypt's default: SEIPDv1 (AES-256 in CFB mode with an MDC);
//  - "aead": an RFC 9580 X25519 subkey on a key made with aeadProtect, so the message
//    is SEIPDv2 (AEAD).
async function openpgpEngine(variant) {
  const openpgp = await import("/openpgp.mjs");
  const options = {
    userIDs: [{ name: "Benchmark", email: "bench@example.org" }],
    format: "object",
  };
  if (variant === "legacy") {
    Object.assign(options, { type: "ecc", curve: "curve25519Legacy" });
  } else {
    Object.assign(options, { type: "curve25519", config: { aeadProtect: true } });
  }
  const { privateKey, publicKey } = await openpgp.generateKey(options);
  let last = null;
  let lastSize = 0;
  return {
    async run(size) {
      const t0 = performance.now();
      const message = await openpgp.createMessage({ binary: plain.subarray(0, size) });
      const ct = await openpgp.encrypt({ message, encryptionKeys: publicKey, format: "binary" });
      const ms = performance.now() - t0;
      last = ct;
      lastSize = size;
      return { ms, ciphertext_size: ct.length };
    },
    // Decrypts the last message with the private key and compares it with the plaintext.
    async check() {
      // Each call gets its own parsed message: decrypting consumes the parsed packets.
      const read = () => openpgp.readMessage({ binaryMessage: last });
      const message = await read();
      const [session] = await openpgp.decryptSessionKeys({ message: await read(), decryptionKeys: privateKey });
      const { data } = await openpgp.decrypt({ message, decryptionKeys: privateKey, format: "binary" });
      if (data.length !== lastSize) throw new Error(`decrypted ${data.length} bytes, expected ${lastSize}`);
      for (let i = 0; i < lastSize; i++) {
        if (data[i] !== plain[i]) throw new Error(`decrypted byte ${i} differs`);
      }
      const sub = publicKey.subkeys[0].keyPacket;
      return {
        version: openpgp.config.versionString,
        key_version: publicKey.keyPacket.version,
        subkey_algorithm: openpgp.enums.read(openpgp.enums.publicKey, sub.algorithm),
        subkey_curve: sub.publicParams.oid ? sub.publicParams.oid.getName() : null,
        packets: (await read()).packets.map((p) => {
          const name = `${openpgp.enums.read(openpgp.enums.packet, p.constructor.tag)} v${p.version}`;
          if (p.aeadAlgorithm === undefined || p.aeadAlgorithm === null) return name;
          const cipher = openpgp.enums.read(openpgp.enums.symmetric, p.cipherAlgorithm);
          const aead = openpgp.enums.read(openpgp.enums.aead, p.aeadAlgorithm);
          return `${name} (${cipher}, ${aead}, chunk size byte ${p.chunkSizeByte})`;
        }),
        session_algorithm: session.algorithm,
        session_aead: session.aeadAlgorithm || null,
        decrypted: data.length,
      };
    },
  };
}

// The Meldpunt engines start their hashing worker as the report page does, and wait for
// it, so that every timed run hashes beside (the check says so).
async function load(name, recipients) {
  const started = async (crypto) => { await crypto.startHasher(300000); return crypto; };
  if (name === "wasm") engines[name] = meldpunt(await started(await loadWasm("/meldpunt.wasm")), recipients);
  else if (name === "wasm2js") engines[name] = meldpunt(await started(await loadJs("/meldpunt.js")), recipients);
  // Without the hashing worker: the page's instance hashes (where no Worker can start).
  else if (name === "wasm2js-here") engines[name] = meldpunt(await loadJs("/meldpunt.js"), recipients);
  else if (name === "openpgp-legacy") engines[name] = await openpgpEngine("legacy");
  else if (name === "openpgp-aead") engines[name] = await openpgpEngine("aead");
  else throw new Error(`unknown engine ${name}`);
  return name;
}

const run = (name, size) => engines[name].run(size);
const check = (name) => engines[name].check(name);

window.bench = { prepare, load, run, check };

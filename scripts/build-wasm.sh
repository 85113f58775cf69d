#!/usr/bin/env bash
# Builds the reporter's in-browser modules, which the server embeds:
#  - client-wasm for wasm32 (the "browser" profile in Cargo.toml: small, for the first
#    load over Tor, with the cipher and hash crates at full speed): the crypto module;
#  - client-metadata for wasm32 (release): the metadata module (what a document carries,
#    and removing it), loaded only when the reporter picks a document;
#  - both translated to plain JavaScript by wasm2js (binaryen 132 from npm), for
#    browsers without WebAssembly (Tor Browser "Safer").
# Run by scripts/run.sh and scripts/test.sh; safe to run again (skips what is current).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  rustup target add wasm32-unknown-unknown
fi
# Reproducible: the same commit and Rust version give the same bytes wherever the tree
# and Cargo's home lie, so anyone can compare a site with their own build
# (scripts/check-bundle.sh). These flags replace .cargo/config.toml's for this build.
sep=$'\x1f'
CARGO_ENCODED_RUSTFLAGS="-Ctarget-cpu=mvp${sep}--remap-path-prefix=$PWD=/meldpunt${sep}--remap-path-prefix=${CARGO_HOME:-$HOME/.cargo}=/cargo" \
  cargo build --locked -p meldpunt-client-wasm --target wasm32-unknown-unknown --profile browser
# A cargo call of its own: built together, feature unification changed the crypto
# module's bytes (and so the published bundle hash).
CARGO_ENCODED_RUSTFLAGS="-Ctarget-cpu=mvp${sep}--remap-path-prefix=$PWD=/meldpunt${sep}--remap-path-prefix=${CARGO_HOME:-$HOME/.cargo}=/cargo" \
  cargo build --locked -p meldpunt-metadata-wasm --target wasm32-unknown-unknown --release

target_dir=$(cargo metadata --format-version 1 --no-deps | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).target_directory))')
# Debian's binaryen (108) produces broken output (docs/ARCHITECTURE.md, "Build facts"); npm's 132 works.
tools="$target_dir/tools"
wasm2js="$tools/node_modules/.bin/wasm2js"
if [ ! -x "$wasm2js" ] || [ "$("$wasm2js" --version | grep -o 'version_[0-9]*')" != "version_132" ]; then
  echo "== installing binaryen 132 (wasm2js) from npm into $tools"
  mkdir -p "$tools"
  npm install --no-audit --no-fund --silent --prefix "$tools" binaryen@132
fi

translate() {
  local wasm="$target_dir/wasm32-unknown-unknown/$3/$1.wasm" what="$2"
  local js="${wasm%.wasm}.js"
  # Also when this script changed: it shapes the translation.
  if [ ! -f "$js" ] || [ "$wasm" -nt "$js" ] || [ "$0" -nt "$js" ]; then
    echo "== translating the $what module to plain JavaScript (wasm2js)"
    # A temporary name of its own, so that two builds at once cannot mix their output.
    tmp=$(mktemp "$js.XXXXXX")
    trap 'rm -f "$tmp"' EXIT
    # The features rustc's wasm32 target enables (its std uses bulk memory): named here,
    # because the crypto module is built without the section that lists them (strip).
    "$wasm2js" -O2 --enable-bulk-memory --enable-bulk-memory-opt --enable-sign-ext \
      --enable-nontrapping-float-to-int --enable-mutable-globals --enable-multivalue \
      --enable-reference-types --enable-call-indirect-overlong "$wasm" -o "$tmp"
    # wasm2js emits `import * as env from 'env'`, which a browser cannot resolve. Turn the
    # module into a factory that takes the same imports as the WebAssembly build.
    node -e '
      const fs = require("fs");
      const f = process.argv[1];
      let s = fs.readFileSync(f, "utf8");
      const head = /^import \* as env from .env.;\n/;
      const tail = /\nvar retasmFunc = asmFunc\(\{[\s\S]*$/;
      // The metadata module imports nothing, so its translation has no such line.
      const imports = process.argv[2] === "crypto";
      if ((imports && !head.test(s)) || !tail.test(s)) { console.error("unexpected wasm2js output"); process.exit(1); }
      const title = "// The Meldpunt " + process.argv[2] + " module, translated from WebAssembly by wasm2js.\n";
      s = imports ? s.replace(head, title) : title + s;
      // wasm2js turns every 32-bit rotation into a call of a helper, and without a JIT (Tor
      // Browser at Safer) those calls were a third of the time (docs/BENCHMARKS.md). A
      // rotation of variables joined by bitwise or arithmetic operators (no calls, no
      // assignments: evaluating it twice gives the same value) by a constant is written
      // out in place.
      let rotations = 0;
      s = s.replace(/__wasm_rot([lr])_i32\(((?:\$?\w+)(?: [\^&|+-] \$?\w+)*), (\d+)\)/g, (m, dir, x, count) => {
        rotations++;
        const k = Number(count) & 31;
        if (k === 0) return "((" + x + ") | 0)";
        const [first, second] = dir === "l" ? ["<<", ">>>"] : [">>>", "<<"];
        return "((" + x + ") " + first + " " + k + " | (" + x + ") " + second + " " + (32 - k) + ")";
      });
      if (imports && rotations < 100) { console.error("expected the cipher rotations in the crypto module"); process.exit(1); }
      // The factory holds the whole translation, so that each instance has its own helper
      // state: wasm2js keeps the memory view that memory.copy and memory.fill write
      // through at module level, where a second instance in the same page would redirect
      // the copies of the first one into its own memory.
      s = s.replace(tail, "\n");
      const body = s.slice(title.length);
      s = title + "export function instantiate(imports) {\n" + body + "  return asmFunc(imports);\n}\n";
      // The metadata module holds whole documents: its memory grows in place where the
      // browser allows it (a resizable ArrayBuffer, up to 1 GiB) instead of into a new copy
      // at every growth, each old copy left behind as garbage (several times the document
      // while one was cleaned). Not the crypto module, which streams in small buffers:
      // browsers refuse views of a resizable buffer in TextDecoder, Blob and postMessage,
      // so the page copies out of this one (metadata.js).
      if (!imports) {
        const made = /\n var buffer = new ArrayBuffer\((\d+)\);\n/;
        const grow = "   var newBuffer = new ArrayBuffer(newPages << 16);\n   var newHEAP8 = new Int8Array(newBuffer);\n   newHEAP8.set(HEAP8);\n";
        if (!made.test(s) || s.split(grow).length !== 2) { console.error("unexpected wasm2js memory code"); process.exit(1); }
        s = s.replace(made, "\n var buffer = growableMemory($1);\n");
        s = s.replace(grow, "   var newBuffer = buffer;\n   if (buffer.resizable && newPages * 65536 <= buffer.maxByteLength) buffer.resize(newPages * 65536);\n   else { newBuffer = new ArrayBuffer(newPages * 65536); new Int8Array(newBuffer).set(HEAP8); }\n");
        if (!s.includes("\nfunction asmFunc(imports) {\n")) { console.error("unexpected wasm2js output"); process.exit(1); }
        s = s.replace("\nfunction asmFunc(imports) {\n", "\nfunction growableMemory(bytes) {\n  try { return new ArrayBuffer(bytes, { maxByteLength: 1 << 30 }); } catch (e) { return new ArrayBuffer(bytes); }\n}\n\nfunction asmFunc(imports) {\n");
      }
      fs.writeFileSync(f, s);
    ' "$tmp" "$what"
    chmod 0644 "$tmp"
    mv "$tmp" "$js"
  fi
  if ! head -n 1 "$js" | grep -q "^// The Meldpunt $what module"; then
    echo "build-wasm.sh: $js is not the finished translation; delete it and run again" >&2
    exit 1
  fi
}
translate meldpunt_client_wasm crypto browser
translate meldpunt_metadata_wasm metadata release

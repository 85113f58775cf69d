#!/usr/bin/env bash
# Benchmark: encrypting one 100 MiB attachment, side by side in one run
# (docs/BENCHMARKS.md): the crypto crate natively (release), the reporter's browser module
# as WebAssembly in headless Chromium, its wasm2js translation in Chromium without JIT
# (Tor Browser "Safer"), OpenPGP.js in the same Chromium, and the Go `age` CLI.
# A measurement, not a test: it fails only if an engine's output does not decrypt.
#
#   scripts/bench-encrypt.sh            build, install, wait for a quiet machine, measure
#   scripts/bench-encrypt.sh --build    only build and install (no lock needed for that)
#
# Measure under the shared lock, after building outside it:
#   scripts/bench-encrypt.sh --build && flock /tmp/meldpunt-measure.lock scripts/bench-encrypt.sh
#
# Environment:
#   BENCH_SIZE          plaintext size in bytes (default 104857600 = 100 MiB)
#   BENCH_RUNS          timed runs of each engine (default 5)
#   BENCH_JITLESS_RUNS  timed runs of wasm2js without JIT (default 3; each ~3 min at 100 MiB)
#   BENCH_FIREFOX_SIZE  bytes for Firefox ESR at Tor Browser's "Safer" (default 16 MiB)
#   BENCH_FIREFOX_RUNS  timed runs there, with and without the hashing worker (default 2)
#   BENCH_MAX_LOAD      wait until the 1-minute load average is below this (default 0.5)
#   BENCH_WAIT          give up waiting after this many seconds and measure anyway (default 120;
#                       the whole run then holds the lock for under 15 min)
set -euo pipefail

OPENPGP_VERSION=6.3.2
MAX_LOAD=${BENCH_MAX_LOAD:-0.5}
WAIT=${BENCH_WAIT:-120}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=lib/bench.sh
. "$ROOT/scripts/lib/bench.sh"
cd "$ROOT"

# --- tools ---
apt_install_missing age=age /usr/bin/chromium=chromium /usr/bin/chromedriver=chromium-driver \
  /usr/bin/firefox-esr=firefox-esr node=nodejs npm=npm
command -v cargo >/dev/null || { echo "cargo not found: install Rust (rustup.rs)" >&2; exit 1; }
# Firefox ESR (Tor Browser's engine) at "Safer" is driven through geckodriver, from crates.io.
if [ ! -x "${CARGO_HOME:-$HOME/.cargo}/bin/geckodriver" ]; then
  echo "Installing geckodriver (cargo install)" >&2
  cargo install --locked geckodriver || cargo install geckodriver
fi

echo "Building the browser module (WebAssembly and wasm2js)" >&2
bash scripts/build-wasm.sh >&2
echo "Building the benchmark driver (release)" >&2
cargo build --release --locked -p meldpunt-tests --example bench_encrypt
TARGET=$(target_dir)
TOOLS=$TARGET/tools
if [ "$(node -p "try { require('$TOOLS/node_modules/openpgp/package.json').version } catch { '' }")" != "$OPENPGP_VERSION" ]; then
  echo "Installing OpenPGP.js $OPENPGP_VERSION from npm into $TOOLS" >&2
  mkdir -p "$TOOLS"
  npm install --no-audit --no-fund --silent --prefix "$TOOLS" "openpgp@$OPENPGP_VERSION"
fi
[ "${1:-}" = --build ] && exit 0

# --- measure ---
wait_for_quiet "$MAX_LOAD" "$WAIT"
LOAD_BEFORE=$(loadavg)
echo "Measuring; load $LOAD_BEFORE" >&2
RESULTS=$("$TARGET/release/examples/bench_encrypt")
LOAD_AFTER=$(loadavg)

echo
echo "## encrypting $(( ${BENCH_SIZE:-104857600} / 1048576 )) MiB ($(date -u +%F))"
echo
echo "Machine: $(machine); $(rustc -V); $(chromium --version 2>/dev/null | head -1); $(firefox-esr --version 2>/dev/null | head -1);" \
  "OpenPGP.js $OPENPGP_VERSION; age $(age --version); node $(node --version)"
echo "Load average (1/5/15 min): before $LOAD_BEFORE, after $LOAD_AFTER"
echo
echo "$RESULTS"

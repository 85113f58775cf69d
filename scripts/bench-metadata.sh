#!/usr/bin/env bash
# Benchmark: the report page's document check on large documents (docs/BENCHMARKS.md): a
# 100 MiB PDF, DOCX and JPEG, made for the run, inspected and cleaned by the page's own
# metadata.js and the metadata module in headless Chromium, as WebAssembly and as its
# wasm2js translation in Chromium without JIT (Tor Browser "Safer"; there at the largest
# size the page checks in that tier). Prints the time of each step and the renderer's
# peak memory over its baseline, also as a multiple of the document's size.
# A measurement, not a test: it fails only if the page does not clean a document.
#
#   scripts/bench-metadata.sh            build, install, wait for a quiet machine, measure
#   scripts/bench-metadata.sh --build    only build and install (no lock needed for that)
#
# Measure under the shared lock, after building outside it:
#   scripts/bench-metadata.sh --build && flock /tmp/meldpunt-measure.lock scripts/bench-metadata.sh
#
# Environment:
#   BENCH_SIZE          document size at the WebAssembly tier (default 104857600 = 100 MiB)
#   BENCH_RUNS          timed runs per document, WebAssembly (default 3)
#   BENCH_JITLESS_RUNS  timed runs per document, wasm2js without JIT (default 1)
#   BENCH_MAX_LOAD      wait until the 1-minute load average is below this (default 0.5)
#   BENCH_WAIT          give up waiting after this many seconds and measure anyway (default 120)
set -euo pipefail

MAX_LOAD=${BENCH_MAX_LOAD:-0.5}
WAIT=${BENCH_WAIT:-120}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=lib/bench.sh
. "$ROOT/scripts/lib/bench.sh"
cd "$ROOT"

# --- tools ---
apt_install_missing /usr/bin/chromium=chromium /usr/bin/chromedriver=chromium-driver \
  cjpeg=libjpeg-turbo-progs exiftool=libimage-exiftool-perl node=nodejs npm=npm
command -v cargo >/dev/null || { echo "cargo not found: install Rust (rustup.rs)" >&2; exit 1; }

echo "Building the browser modules (release, WebAssembly and wasm2js)" >&2
bash scripts/build-wasm.sh >&2
echo "Building the benchmark driver (release)" >&2
cargo build --release --locked -p meldpunt-tests --example bench_metadata
TARGET=$(target_dir)
[ "${1:-}" = --build ] && exit 0

# --- measure ---
wait_for_quiet "$MAX_LOAD" "$WAIT"
LOAD_BEFORE=$(loadavg)
echo "Measuring; load $LOAD_BEFORE" >&2
RESULTS=$("$TARGET/release/examples/bench_metadata")
LOAD_AFTER=$(loadavg)

echo
echo "## the document check on $(( ${BENCH_SIZE:-104857600} / 1048576 )) MiB documents ($(date -u +%F))"
echo
echo "Machine: $(machine); $(rustc -V); $(chromium --version 2>/dev/null | head -1);" \
  "$(cjpeg -version 2>&1 | head -1); exiftool $(exiftool -ver)"
echo "Load average (1/5/15 min): before $LOAD_BEFORE, after $LOAD_AFTER"
echo
echo "$RESULTS"

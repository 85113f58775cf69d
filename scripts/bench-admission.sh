#!/usr/bin/env bash
# Benchmark: what an admission puzzle costs natively, as WebAssembly in Chromium, and as
# wasm2js in Chromium without JIT (Tor Browser "Safer"); the expected seconds per solve
# at each difficulty (docs/BENCHMARKS.md, "Admission"). A measurement, not a test.
#
#   scripts/bench-admission.sh
#
# Environment: BENCH_MAX_LOAD (default 0.5), BENCH_WAIT (default 120) as in the others.
set -euo pipefail
MAX_LOAD=${BENCH_MAX_LOAD:-0.5}
WAIT=${BENCH_WAIT:-120}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=lib/bench.sh
. "$ROOT/scripts/lib/bench.sh"
cd "$ROOT"
apt_install_missing /usr/bin/chromium=chromium /usr/bin/chromedriver=chromium-driver

bash scripts/build-wasm.sh >&2
# The example starts the server binary beside it (release).
# (Two commands: with --example, cargo builds only the example, not the server binary.)
cargo build --locked --release -p meldpunt-server --bin meldpunt-server >&2
cargo build --locked --release -p meldpunt-tests --example bench_admission >&2
TARGET=$(target_dir)
wait_for_quiet "$MAX_LOAD" "$WAIT"
echo "Machine: $(machine); load $(loadavg); $(date -u +%F)"
"$TARGET/release/examples/bench_admission"

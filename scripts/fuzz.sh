#!/usr/bin/env bash
# Fuzzes every Meldpunt parser that takes outside input (fuzz/fuzz_targets/*.rs):
#
#   return_code   ReturnCode::parse on any text a reporter types
#   envelopes     report, message and note-to-self openers (age layer, frame, JSON,
#                 authenticators), and seal→open round trips
#   age_header    check_header, the server's check of every uploaded age file
#   api_bodies    every server route (reporter API, investigator API, no-JavaScript
#                 forms) through Rocket's local client; any 5xx but 503/507 fails
#   bundle_index  what the investigator's tool reads: the case download (tar and
#                 names), case.json, bundle.json, the audit log and its hash chain
#
# Usage: scripts/fuzz.sh [RUNS] [TARGET...]     (RUNS defaults to 1000000; all targets)
#
# Not part of scripts/test.sh or .ci/run: a million runs per target take long and need
# a quiet machine. Each run holds /tmp/meldpunt-measure.lock (the lock benchmarks take
# too), one target at a time, so fuzzing never overlaps a measurement.
#
# Built with `--sanitizer none` and debug assertions (overflow checks) on: every crate
# of ours forbids unsafe code, so AddressSanitizer would mostly watch safe Rust while
# running the targets two to three times slower; what fuzzing finds here is panics,
# overflows and broken invariants (the targets assert them), which need no sanitizer.
#
# A crash stops the script with a non-zero status; the input is in
# fuzz/artifacts/<target>/ (minimise with `cargo +nightly fuzz tmin <target> <file>`).
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS="${1:-1000000}"
shift || true
ALL=(return_code envelopes age_header api_bodies bundle_index)
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=("${ALL[@]}")
LOCK="${MELDPUNT_MEASURE_LOCK:-/tmp/meldpunt-measure.lock}"
FLAGS=(--sanitizer none --debug-assertions)

if ! rustup toolchain list | grep -q '^nightly'; then
  echo "== installing the nightly Rust toolchain (cargo-fuzz needs it)"
  rustup toolchain install nightly --profile minimal
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  echo "== installing cargo-fuzz (cargo install)"
  cargo install cargo-fuzz
fi

# The largest input per target: a typed code is short; a header check reads at most
# 16 KiB + 16 bytes (a little more tests the edge); bodies and files get 64 KiB.
max_len() {
  case "$1" in
    return_code) echo 512 ;;
    age_header) echo 20000 ;;
    *) echo 65536 ;;
  esac
}

echo "== building the fuzz targets (fuzz/target, nightly)"
(cd fuzz && cargo +nightly fuzz build "${FLAGS[@]}")
BIN="target/$(rustc +nightly -vV | sed -n 's/^host: //p')/release"

mkdir -p fuzz/logs
# api_bodies keeps its server's data directory here (tmpfs: sled's flushes cost
# nothing), removed when the script ends.
scratch_base=/dev/shm; [ -d "$scratch_base" ] || scratch_base="${TMPDIR:-/tmp}"
MELDPUNT_FUZZ_DIR=$(mktemp -d "$scratch_base/meldpunt-fuzz.XXXXXX")
export MELDPUNT_FUZZ_DIR
trap 'rm -rf "$MELDPUNT_FUZZ_DIR"' EXIT
summary=()
for t in "${TARGETS[@]}"; do
  mkdir -p "fuzz/corpus/$t"
  corpora=("fuzz/corpus/$t")
  [ -d "fuzz/seeds/$t" ] && corpora+=("fuzz/seeds/$t")
  log="fuzz/logs/$t.log"
  echo "== $t: $RUNS runs (waiting for $LOCK)"
  status=0
  mkdir -p "fuzz/artifacts/$t"
  # The binary cargo-fuzz built, run directly (as `cargo fuzz run` would), so the lock
  # is held for the fuzzing only, never for a rebuild.
  # The load is noted once the lock is held (and again at the end), as the
  # benchmarks note theirs.
  (cd fuzz && flock "$LOCK" sh -c 'echo "load when the lock was taken: $(cut -d" " -f1-3 /proc/loadavg)"; exec "$@"' sh \
      "$BIN/$t" -artifact_prefix="artifacts/$t/" \
      -runs="$RUNS" -max_len="$(max_len "$t")" -rss_limit_mb=2048 -timeout=20 \
      -print_final_stats=1 "${corpora[@]#fuzz/}") >"$log" 2>&1 || status=$?
  load_after=$(cut -d' ' -f1-3 /proc/loadavg)
  load_before=$(sed -n 's/^load when the lock was taken: //p' "$log" | head -n1)
  done_line=$(grep -E '^Done [0-9]+ runs in [0-9]+ second' "$log" | tail -n1 || true)
  if [ "$status" -ne 0 ] || [ -z "$done_line" ]; then
    echo "!! $t FAILED (status $status); see $log and fuzz/artifacts/$t/"
    tail -n 40 "$log"
    exit 1
  fi
  runs=$(echo "$done_line" | awk '{print $2}')
  secs=$(echo "$done_line" | awk '{print $5}')
  rate=$(( runs / (secs > 0 ? secs : 1) ))
  line="$t: $done_line (~$rate exec/s; $(date -u +%F); load $load_before -> $load_after)"
  echo "   $line"
  summary+=("$line")
done

echo "== summary"
printf '   %s\n' "${summary[@]}"

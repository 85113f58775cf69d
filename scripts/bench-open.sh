#!/usr/bin/env bash
# Benchmark: `meldpunt open` of a case with one 1 GiB attachment, next to `age -d` on the
# same age file (docs/BENCHMARKS.md). A measurement, not a test: it never fails on speed.
#
#   scripts/bench-open.sh [RUNS]          RUNS timed runs of each tool (default 5)
#
# Environment:
#   BENCH_SIZE      attachment size in bytes (default 1073741824 = 1 GiB)
#   BENCH_MAX_LOAD  wait until the 1-minute load average is below this (default 0.5)
#   BENCH_WAIT      give up waiting after this many seconds and measure anyway (default 1200)
#   BENCH_DIR       where the fresh folder is made (default /tmp; /dev/shm keeps the
#                   bundle and both outputs in memory, so a shared disk's write-back
#                   does not decide the comparison)
#
# Everything is made in a fresh folder under BENCH_DIR and removed at the end. Both tools read
# the same ciphertext (warm in the page cache after a warm-up run) and write the
# plaintext to a file in the same folder; the output is removed and `sync`ed away
# between runs, outside the timing.
set -euo pipefail

RUNS=${1:-5}
SIZE=${BENCH_SIZE:-1073741824}
MAX_LOAD=${BENCH_MAX_LOAD:-0.5}
WAIT=${BENCH_WAIT:-1200}
CASE=MP-BENCH00001
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=lib/bench.sh
. "$ROOT/scripts/lib/bench.sh"

# --- tools (a fresh Debian machine has neither GNU time nor age) ---
apt_install_missing /usr/bin/time=time age=age
command -v cargo >/dev/null || { echo "cargo not found: install Rust (rustup.rs)" >&2; exit 1; }

echo "Building meldpunt (release) and the bundle maker" >&2
(cd "$ROOT" && cargo build --release --locked -p meldpunt --bins --example bench_bundle)
TARGET=$(cd "$ROOT" && target_dir)
MELDPUNT=$TARGET/release/meldpunt
MAKER=$TARGET/release/examples/bench_bundle

WORK=$(mktemp -d "${BENCH_DIR:-/tmp}/meldpunt-bench-open.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

echo "Making a bundle with a $SIZE-byte attachment in $WORK" >&2
"$MAKER" "$WORK" "$SIZE" >/dev/null
"$MELDPUNT" pin "$WORK/bundle" bureau "$(cat "$WORK/recipient.txt")" >/dev/null
KEY=$WORK/key.txt
AGEFILE=$WORK/bundle/cases/$CASE/attachments/000.age
OUT=$WORK/out

# --- wait for a quiet machine ---
wait_for_quiet "$MAX_LOAD" "$WAIT"

# One timed run: "wall_seconds max_rss_kib user_seconds sys_seconds" appended to $1.
# Each tool's earlier output is removed first (outside the timing).
timed() {
  local log=$1; shift
  sync
  /usr/bin/time -f '%e %M %U %S' -o "$WORK/time.txt" "$@"
  cat "$WORK/time.txt" >>"$log"
}
run_meldpunt() { rm -rf "$OUT"; timed "$1" "$MELDPUNT" open "$CASE" -i "$KEY" "$WORK/bundle" -o "$OUT" >/dev/null; }
run_age() { rm -f "$WORK/age.out"; timed "$1" age -d -i "$KEY" -o "$WORK/age.out" "$AGEFILE"; }

LOAD_BEFORE=$(loadavg)
echo "Warm-up (not counted); load $LOAD_BEFORE" >&2
run_meldpunt "$WORK/warmup"
# meldpunt exits 0 only if everything verified; check it saved exactly what age decrypts.
run_age "$WORK/warmup"
cmp -n "$SIZE" "$OUT/$CASE/attachments/data.bin" "$WORK/age.out"
[ "$(stat -c %s "$OUT/$CASE/attachments/data.bin")" = "$SIZE" ]

# Interleaved, so drift in the machine's load hits both tools alike.
for i in $(seq "$RUNS"); do
  echo "Run $i of $RUNS (load $(load1))" >&2
  run_meldpunt "$WORK/meldpunt"
  run_age "$WORK/age"
done
LOAD_AFTER=$(loadavg)

# min and median of column $2 of file $1
stat_col() {
  sort -g -k"$2","$2" "$1" | awk -v c="$2" '{ v[NR] = $c } END {
    m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
    printf "%s %s\n", v[1], m }'
}
summary() {
  local name=$1 log=$2 wmin wmed rmin rmed umed smed
  read -r wmin wmed < <(stat_col "$log" 1)
  read -r rmin rmed < <(stat_col "$log" 2)
  read -r _ umed < <(stat_col "$log" 3)
  read -r _ smed < <(stat_col "$log" 4)
  awk -v n="$name" -v wmin="$wmin" -v wmed="$wmed" -v rmin="$rmin" -v rmed="$rmed" \
      -v umed="$umed" -v smed="$smed" -v size="$SIZE" 'BEGIN {
    printf "| %s | %.2f | %.2f | %.0f | %.1f | %.1f | %.2f | %.2f |\n",
      n, wmin, wmed, size / 1048576 / wmed, rmin / 1024, rmed / 1024, umed, smed }'
}
read -r _ MELD_MED < <(stat_col "$WORK/meldpunt" 1)
read -r _ AGE_MED < <(stat_col "$WORK/age" 1)

echo
echo "## open of a $SIZE-byte attachment, $RUNS runs each ($(date -u +%F))"
echo
echo "Machine: $(machine); $(rustc -V); age $(age --version)"
echo "Load average (1/5/15 min): before $LOAD_BEFORE, after $LOAD_AFTER"
echo "Folder: ${BENCH_DIR:-/tmp} ($(stat -f -c %T "$WORK"))"
echo
echo "| command | wall min (s) | wall median (s) | MiB/s (median) | peak RSS min (MiB) | peak RSS median (MiB) | user median (s) | sys median (s) |"
echo "|---|---|---|---|---|---|---|---|"
summary "meldpunt open" "$WORK/meldpunt"
summary "age -d -o FILE" "$WORK/age"
echo
awk -v m="$MELD_MED" -v a="$AGE_MED" 'BEGIN { printf "meldpunt open / age -d (median wall time): %.2f\n", m / a }'
echo
echo "Raw runs (wall s, max RSS KiB, user s, sys s):"
for t in meldpunt age; do echo "$t:"; sed 's/^/  /' "$WORK/$t"; done

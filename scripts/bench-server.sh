#!/usr/bin/env bash
# Benchmark: the server's durable report submissions at 1, 16 and 64 concurrent clients
# on the embedded backend and on PostgreSQL + S3 (one and two instances; a real
# PostgreSQL and s3s-fs started here, as scripts/test.sh installs them), next to raw
# sled insert+flush, its memory while a 2 GiB attachment is uploaded, and its memory
# while 4 clients page through a thread of 2,000 messages of 1 MiB (docs/BENCHMARKS.md). A measurement, not a test: it never fails on speed, only when
# the server refuses or answers wrongly.
#
#   scripts/bench-server.sh [load|memory|threads|all]      (default all)
#
# Environment:
#   BENCH_LEVELS    CLIENTS:COUNT pairs for `load` (default "1:5000 16:25000 64:30000")
#   BENCH_POSTGRES  0 to leave out the PostgreSQL + S3 rows of `load` (default 1)
#
# Every row of `load` starts after a `sync` and 2 s of rest, so that no row pays for
# writing back what the rows before it wrote.
#   BENCH_UPLOAD    attachment plaintext bytes for `memory` (default 2147483648 = 2 GiB)
#   BENCH_CHUNK     bytes per PUT for `memory` (default 1048576, as the browser sends)
#   BENCH_THREAD_MESSAGES  messages of 1 MiB in the thread for `threads` (default 2000)
#   BENCH_READERS   concurrent readers for `threads` (default 4)
#   BENCH_MAX_LOAD  wait until the 1-minute load average is below this (default 0.5)
#   BENCH_WAIT      give up waiting after this many seconds and measure anyway (default 600)
#
# Hold the measurement lock while it runs (the whole run takes a few minutes):
#   flock /tmp/meldpunt-measure.lock scripts/bench-server.sh
#
# The server runs from target/release on 127.0.0.1 with a fresh data directory under
# $TMPDIR (else /tmp), removed at the end; so is the sled baseline's database.
set -euo pipefail

WHAT=${1:-all}
case "$WHAT" in load | memory | threads | all) ;; *) echo "usage: $0 [load|memory|threads|all]" >&2; exit 2 ;; esac
read -r -a LEVELS <<<"${BENCH_LEVELS:-1:5000 16:25000 64:30000}"
UPLOAD=${BENCH_UPLOAD:-2147483648}
CHUNK=${BENCH_CHUNK:-1048576}
THREAD_MESSAGES=${BENCH_THREAD_MESSAGES:-2000}
READERS=${BENCH_READERS:-4}
MAX_LOAD=${BENCH_MAX_LOAD:-0.5}
WAIT=${BENCH_WAIT:-600}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TMP=${TMPDIR:-/tmp}
# shellcheck source=lib/bench.sh
. "$ROOT/scripts/lib/bench.sh"

command -v cargo >/dev/null || { echo "cargo not found: install Rust (rustup.rs)" >&2; exit 1; }

echo "Building meldpunt-server (release) and the load generator" >&2
(cd "$ROOT" && cargo build --release --locked -p meldpunt-server --bin meldpunt-server \
  -p meldpunt-tests --example bench_server)
BENCH=$(cd "$ROOT" && target_dir)/release/examples/bench_server

need=0
if [ "$WHAT" = memory ] || [ "$WHAT" = all ]; then
  # The attachment file, plus room for sled and the age overhead.
  need=$((UPLOAD / 1024 + 512 * 1024))
fi
if [ "$WHAT" = threads ] || [ "$WHAT" = all ]; then
  # The thread's messages in texts/ and sled's records, plus room.
  need=$((need + THREAD_MESSAGES * 3 * 1024 + 512 * 1024))
fi
if [ "$need" -gt 0 ]; then
  free=$(df -Pk "$TMP" | awk 'NR == 2 { print $4 }')
  if [ "$free" -lt "$need" ]; then
    echo "Only $((free / 1024)) MiB free in $TMP; the run needs $((need / 1024)) MiB" >&2
    exit 1
  fi
fi

sled_version=$(awk '/^name = "sled"$/ { getline; gsub(/"/, "", $3); print $3 }' "$ROOT/Cargo.lock")
echo
echo "# meldpunt-server benchmarks ($(date -u +%F))"
echo
echo "Machine: $(machine); $(rustc -V); sled $sled_version"
echo "Data directory's file system: $(df -PT "$TMP" | awk 'NR == 2 { print $1 " (" $2 ")" }') at $TMP"

if [ "$WHAT" = load ] || [ "$WHAT" = all ]; then
  wait_for_quiet "$MAX_LOAD" "$WAIT"
  before=$(loadavg)
  echo
  echo "## Durable submissions (levels: ${LEVELS[*]})"
  echo
  "$BENCH" load "${LEVELS[@]}"
  echo
  echo "Load average (1/5/15 min): before $before, after $(loadavg)"
fi

if [ "$WHAT" = memory ] || [ "$WHAT" = all ]; then
  wait_for_quiet "$MAX_LOAD" "$WAIT"
  before=$(loadavg)
  echo
  echo "## Server memory during a $UPLOAD-byte upload"
  echo
  "$BENCH" memory "$UPLOAD" "$CHUNK"
  echo
  echo "Load average (1/5/15 min): before $before, after $(loadavg)"
fi

if [ "$WHAT" = threads ] || [ "$WHAT" = all ]; then
  # Memory figures do not need a quiet machine; the load is printed beside them.
  before=$(loadavg)
  echo
  echo "## Server memory while $READERS clients read a thread of $THREAD_MESSAGES messages"
  echo
  "$BENCH" threads "$THREAD_MESSAGES" "$READERS"
  echo
  echo "Load average (1/5/15 min): before $before, after $(loadavg)"
fi

#!/usr/bin/env bash
# Follows docs/FIRST-HOUR.md line for line, against a fresh demo drop box:
#  - runs every ```sh block of it, in order, in one shell (variables carry over, as in
#    the reader's terminal);
#  - checks each ```text block that follows a command block: every line of it must be in
#    what those commands printed, in order (`…` stands for anything within a line);
#  - checks every text the walk-through quotes in “…” under a heading that names a page
#    (`/en/…`) against that page as the server sends it.
# The `scripts/run.sh` block is started in the background, as in the reader's first
# terminal. What differs from a reader's first hour is only this: a free port instead of
# 8000, a new temporary folder instead of the checkout as the working folder (so the data
# directory, ./meldpunt-data, lies there too), and ./bin, which links to the checkout's
# bin — or, with MELDPUNT_FIRST_HOUR_BIN set, to binaries already built, which are then
# started instead of scripts/run.sh (tests/tests/first_hour.rs: nothing is built while
# cargo test runs). Needs bash, curl and python3.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
doc="$repo/docs/FIRST-HOUR.md"
helper="$repo/scripts/lib/first_hour.py"
for tool in curl python3; do
  command -v "$tool" >/dev/null 2>&1 || { echo "first-hour: $tool is needed (Debian: apt-get install $tool)" >&2; exit 1; }
done
# Nothing from the caller's configuration: the walk-through starts from the defaults.
unset MELDPUNT_CONFIG MELDPUNT_DATA_DIR MELDPUNT_PORT MELDPUNT_ADDRESS MELDPUNT_DEMO MELDPUNT_STORAGE

work="$(mktemp -d "${TMPDIR:-/tmp}/meldpunt-first-hour.XXXXXX")"
server_pid=""
current=""
finish() {
  status=$?
  if [ "$status" -ne 0 ] && [ -n "$current" ] && [ -f "$current" ]; then
    echo "first-hour: failed in $(basename "$current" .out); it printed:" >&2
    sed 's/^/  | /' "$current" >&2
  fi
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if [ -z "${MELDPUNT_FIRST_HOUR_KEEP:-}" ]; then rm -rf "$work"; else echo "first-hour: kept $work"; fi
  exit "$status"
}
trap finish EXIT

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
steps="$work/.first-hour"
python3 "$helper" split "$doc" "$steps"
if [ -n "${MELDPUNT_FIRST_HOUR_BIN:-}" ]; then
  ln -s "$MELDPUNT_FIRST_HOUR_BIN" "$work/bin"
else
  ln -s "$repo/bin" "$work/bin"
fi
cd "$work"

start_drop_box() {
  local log="$1"
  if [ -n "${MELDPUNT_FIRST_HOUR_BIN:-}" ]; then
    MELDPUNT_PORT="$port" bin/meldpunt-server serve --demo >"$log" 2>&1 &
  else
    MELDPUNT_PORT="$port" MELDPUNT_DATA_DIR="$work/meldpunt-data" "$repo/scripts/run.sh" >"$log" 2>&1 &
  fi
  server_pid=$!
  local waited=0
  until grep -q "listening on" "$log"; do
    if ! kill -0 "$server_pid" 2>/dev/null || [ "$waited" -gt 12000 ]; then
      echo "first-hour: the drop box did not start" >&2
      return 1
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
}

for block in "$steps"/*.sh; do
  n="$(basename "$block" .sh)"
  current="$steps/$n.out"
  echo "== block $n"
  sed 's/^/  $ /' "$block"
  if [ "$(grep -v '^\s*#' "$block" | grep -v '^\s*$')" = "scripts/run.sh" ]; then
    start_drop_box "$current"
  else
    sed "s/127\.0\.0\.1:8000/127.0.0.1:$port/g" "$block" >"$steps/$n.run"
    # shellcheck disable=SC1090
    source "$steps/$n.run" >"$current" 2>&1
  fi
  if [ -f "$steps/$n.expect" ]; then
    python3 "$helper" expect "$steps/$n.expect" "$current"
  fi
done
current=""

checked=0
while IFS=$'\t' read -r page text; do
  curl -fsS "http://127.0.0.1:$port$page" -o "$steps/page.html"
  python3 "$helper" page "$steps/page.html" "$text"
  checked=$((checked + 1))
done <"$steps/pages.tsv"
echo "first-hour: every command block ran and printed what the walk-through says; $checked quoted page texts are on their pages."

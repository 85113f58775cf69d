#!/usr/bin/env bash
# The slow tier: tests too long for every run. Today that is the crash test run many
# times over: 16 clients submit reports, attachments and messages to a real server
# process, which is killed with SIGKILL at a random moment while requests are in
# flight, restarted, and then every receipt it ever gave must return byte-identical
# ciphertext. The normal test command (scripts/test.sh) runs one such round; this runs
# MELDPUNT_FAULT_ROUNDS rounds (default 20) on one data directory, so receipts from early
# rounds must also survive every later kill.
#
# Run scripts/test.sh once first on a fresh machine (it installs what the tests need).
set -euo pipefail
cd "$(dirname "$0")/.."

rounds="${MELDPUNT_FAULT_ROUNDS:-20}"
echo "== crash test: $rounds rounds of SIGKILL and restart with 16 concurrent clients"
MELDPUNT_FAULT_ROUNDS="$rounds" cargo test --locked -p meldpunt-server --test process \
  every_receipt_survives_sigkill -- --exact --nocapture

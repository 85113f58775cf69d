#!/usr/bin/env bash
# Builds the reporter's in-browser crypto module (client-wasm for wasm32, release), which
# the server embeds. Run by scripts/run.sh and scripts/test.sh; safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  rustup target add wasm32-unknown-unknown
fi
cargo build --locked -p meldpunt-client-wasm --target wasm32-unknown-unknown --release

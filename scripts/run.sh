#!/usr/bin/env bash
# Builds both programs, links them into ./bin (meldpunt-server, the drop box, and
# meldpunt, the investigator's tool; put them on your PATH with
# `export PATH="$PWD/bin:$PATH"`), and starts the drop box at http://127.0.0.1:8000.
#
# Its data lives in ./meldpunt-data inside this checkout (git ignores it); set
# MELDPUNT_DATA_DIR for another place. Remove that folder to start afresh.
#
# With no destination configured (no Meldpunt.toml with [[destinations]], see
# docs/CONFIG.md) it makes a DEMO destination whose private key is written into the
# data directory, and says so loudly. Demo only: never for real reports.
#
# On a fresh Debian machine it installs what the build needs: a C compiler from apt
# (only if none is there) and the Rust toolchain through rustup.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

if ! command -v cargo >/dev/null 2>&1 && [ -f "$HOME/.cargo/env" ]; then
  # shellcheck disable=SC1091
  . "$HOME/.cargo/env"
fi
if ! command -v cargo >/dev/null 2>&1; then
  if command -v rustup >/dev/null 2>&1; then
    echo "== installing the stable Rust toolchain (rustup)"
    rustup toolchain install stable --profile minimal
  else
    echo "scripts/run.sh: Rust is needed; install it with rustup (https://rustup.rs) and run this again" >&2
    exit 1
  fi
fi
if ! command -v cc >/dev/null 2>&1; then
  echo "== installing a C compiler (Debian: gcc, libc6-dev)"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends gcc libc6-dev
fi

echo "== building the reporter's in-browser crypto module"
bash scripts/build-wasm.sh

echo "== building meldpunt-server (it embeds the pages and the module) and meldpunt"
cargo build --locked -p meldpunt-server -p meldpunt
target="$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')/debug"
mkdir -p bin
ln -sf "$target/meldpunt-server" bin/meldpunt-server
ln -sf "$target/meldpunt" bin/meldpunt
echo "== ./bin holds meldpunt-server and meldpunt; for the commands in README.md run:"
echo "   export PATH=\"$PWD/bin:\$PATH\""

export MELDPUNT_ADDRESS="${MELDPUNT_ADDRESS:-127.0.0.1}"
export MELDPUNT_PORT="${MELDPUNT_PORT:-8000}"
export MELDPUNT_DATA_DIR="${MELDPUNT_DATA_DIR:-meldpunt-data}"
echo "== starting the drop box with its data in $MELDPUNT_DATA_DIR (stop it with Ctrl-C)"
exec bin/meldpunt-server serve --demo

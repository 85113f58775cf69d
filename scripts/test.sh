#!/usr/bin/env bash
# Runs every Meldpunt test. On a fresh Debian machine it first installs what the tests
# need: Debian packages (the Go `age` CLI for interop tests, Chromium and its WebDriver
# and Firefox ESR for the reporter pages, PostgreSQL, exiftool), geckodriver and s3s-fs, and the
# wasm32 Rust target.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
command -v age >/dev/null 2>&1 || missing+=(age)
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/bin/chromedriver ] || missing+=(chromium-driver)
[ -x /usr/bin/firefox-esr ] || missing+=(firefox-esr)
# The PostgreSQL backend's tests run a real PostgreSQL (initdb in a temporary directory).
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
# Backups and restore statements are signed with SSH keys (scripts/backup.sh, restore.sh).
command -v ssh-keygen >/dev/null 2>&1 || missing+=(openssh-client)
# exiftool is the independent reader of documents' metadata (metadata/tests/fixtures.rs,
# tests/tests/metadata.rs); it reads Office and OpenDocument files only with Archive::Zip.
command -v exiftool >/dev/null 2>&1 || missing+=(libimage-exiftool-perl)
perl -MArchive::Zip -e 1 >/dev/null 2>&1 || missing+=(libarchive-zip-perl)
# The API contract run (schemathesis, in a venv) and docs/FIRST-HOUR.md's walk-through.
command -v curl >/dev/null 2>&1 || missing+=(curl)
python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || missing+=(python3 python3-venv)
if [ ${#missing[@]} -gt 0 ]; then
  echo "== installing Debian packages: ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Firefox ESR (Tor Browser's engine) is driven through geckodriver, from crates.io.
if [ ! -x "${CARGO_HOME:-$HOME/.cargo}/bin/geckodriver" ]; then
  echo "== installing geckodriver (cargo install)"
  cargo install --locked geckodriver || cargo install geckodriver
fi

# ...and a real S3-compatible object store over a folder, from crates.io (0.14.1 is the
# newest that builds with rustc 1.95; about 3 CPU-minutes to build).
if [ ! -x "${CARGO_HOME:-$HOME/.cargo}/bin/s3s-fs" ]; then
  echo "== installing s3s-fs (cargo install)"
  cargo install --locked s3s-fs --version 0.14.1 --features binary
fi

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  echo "== adding the wasm32-unknown-unknown Rust target"
  rustup target add wasm32-unknown-unknown
fi

# schemathesis (PyPI) checks docs/openapi.yaml against a running server
# (tests/tests/api_contract.rs looks for it here).
schemathesis_venv="${CARGO_TARGET_DIR:-target}/tools/schemathesis"
if [ ! -x "$schemathesis_venv/bin/schemathesis" ]; then
  echo "== installing schemathesis 4.32.5 (PyPI) into $schemathesis_venv"
  python3 -m venv "$schemathesis_venv"
  "$schemathesis_venv/bin/pip" install --quiet --disable-pip-version-check schemathesis==4.32.5
fi

echo "== the protocol crate builds for the browser (wasm32)"
cargo build --locked -p meldpunt-crypto --target wasm32-unknown-unknown

echo "== the browser module (embedded by the server)"
bash scripts/build-wasm.sh

# axe-core checks the reporter's pages for accessibility (tests/tests/accessibility.rs):
# from npm, pinned, next to wasm2js in <target>/tools.
target_dir=$(cargo metadata --format-version 1 --no-deps | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).target_directory))')
if [ ! -f "$target_dir/tools/node_modules/axe-core/axe.min.js" ] \
  || [ "$(node -p "require('$target_dir/tools/node_modules/axe-core/package.json').version")" != "4.11.0" ]; then
  echo "== installing axe-core 4.11.0 from npm into $target_dir/tools"
  mkdir -p "$target_dir/tools"
  npm install --no-audit --no-fund --silent --prefix "$target_dir/tools" axe-core@4.11.0
fi

echo "== all tests in the workspace (the server's API tests on the embedded backend)"
cargo test --locked --workspace

echo "== the server's API tests again, on PostgreSQL and an S3-compatible object store"
MELDPUNT_TEST_BACKEND=postgres cargo test --locked -p meldpunt-server --test api

#!/usr/bin/env bash
# Checks that a running Meldpunt site serves exactly the page bundle built from this
# source tree: the JavaScript, the WebAssembly crypto module, its wasm2js translation
# and the style sheet, which together decide what the reporter's browser runs.
#
#   scripts/check-bundle.sh                      build here; print the manifest and the
#                                                bundle hash (what the organisation publishes)
#   scripts/check-bundle.sh URL [CURL OPTIONS]   also fetch the site's files and pages and
#                                                compare them with this build
#
# For an onion address, give curl Tor's SOCKS port, e.g.
#   scripts/check-bundle.sh http://xxxx.onion --socks5-hostname 127.0.0.1:9050
#
# The build is reproducible from the same commit with the same Rust version (the manifest
# says which): build paths are remapped, binaryen is pinned, Cargo.lock is used as is.
set -euo pipefail
cd "$(dirname "$0")/.."

site="${1:-}"
[ $# -gt 0 ] && shift
curl_opts=("$@")

echo "== building the page bundle from this tree ($(git rev-parse --short HEAD 2>/dev/null || echo 'not a git checkout'), $(rustc --version))" >&2
bash scripts/build-wasm.sh >&2
cargo build --locked -q -p meldpunt-server >&2
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$target_dir/debug/meldpunt-server" bundle > "$work/bundle.txt"
grep -v '^bundle ' "$work/bundle.txt" > "$work/manifest"
local_hash=$(sha256sum < "$work/manifest" | cut -d' ' -f1)

echo "== the page bundle built here"
cat "$work/manifest"
echo "bundle $local_hash"

[ -n "$site" ] || exit 0
site="${site%/}"
fetch() { curl -fsS --max-time 120 --proto '=http,https' "${curl_opts[@]}" "$@"; }

echo "== the files $site serves"
mkdir -p "$work/site" "$work/pages"
differ=0
while read -r want name; do
  if ! fetch -o "$work/site/$name" "$site/static/$name"; then
    echo "  MISSING   $name (could not be fetched)"
    differ=1
    continue
  fi
  got=$(sha256sum < "$work/site/$name" | cut -d' ' -f1)
  if [ "$got" = "$want" ]; then
    echo "  same      $name"
  else
    echo "  DIFFERENT $name (site: $got)"
    differ=1
  fi
  echo "$got  $name" >> "$work/site-manifest"
done < "$work/manifest"
site_hash=$(sha256sum < "$work/site-manifest" | cut -d' ' -f1)
echo "bundle $site_hash (site)"

echo "== the pages load nothing else"
for lang in nl en; do
  for page in "" report check report-nojs check-nojs; do
    file="$work/pages/${lang}_${page:-start}"
    fetch -D "$file.headers" -o "$file.html" "$site/$lang/$page" || { echo "  could not fetch /$lang/$page"; differ=1; }
  done
done
python3 scripts/lib/check_pages.py "$work/pages" "$work/manifest" || differ=1

if [ "$differ" -eq 0 ] && [ "$site_hash" = "$local_hash" ]; then
  echo "OK: $site serves the page bundle $local_hash, and its pages load only that bundle."
else
  echo "NOT THE SAME: $site does not serve what this tree builds (see above)." >&2
  echo "Check that you built the commit and Rust version the organisation published." >&2
  exit 1
fi

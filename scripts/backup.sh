#!/usr/bin/env bash
# Backs up a Meldpunt data directory into one tar file, encrypted with age if you name
# recipients, and signed. Restore it with scripts/restore.sh.
#
#   scripts/backup.sh -s SIGNING_KEY [-r AGE_RECIPIENT]... [-R RECIPIENTS_FILE]... DATA_DIR OUT_FILE
#
# -s  the backup signing key (an SSH Ed25519 private key, kept on the server for this
#     job only; docs/DEPLOY.md). The signature goes beside the backup as OUT_FILE.sig.
#     age does not tell who encrypted a file: anyone who can write to where backups are
#     kept could put an archive of their own there, encrypted to the same recipient.
#     restore.sh restores only a backup this key signed.
#
# It works whether the server runs or not. While it runs (it holds the lock on the
# database, sled in DATA_DIR/db, which cannot be copied from outside while in use), the
# script asks it for a snapshot (`meldpunt-server snapshot DATA_DIR`, over a socket in
# DATA_DIR): the server holds changes back for a moment (reads go on; reports filed
# meanwhile wait and get their receipt after), copies its database and the segments
# holding reports, notes and messages, links the attachment files into
# DATA_DIR/snapshot-…, and lets changes go on; the script archives
# that and removes it. MELDPUNT_SERVER names the server binary if it is not
# meldpunt-server on the PATH. While the server is stopped, the script takes the
# database's lock, and those of the token and audit commands, until the archive is
# written, so neither the server nor a token command can change the directory halfway
# through. Files are read without changing their access times.
#
# Encrypt backups (-r or -R): the archive holds only ciphertext, but its records still
# tell how many cases there are, how many files and messages each has, and on which
# days things happened. Without a recipient the script writes a plain tar and says so.
set -euo pipefail
umask 077

usage() {
  echo "usage: $0 -s SIGNING_KEY [-r AGE_RECIPIENT]... [-R RECIPIENTS_FILE]... DATA_DIR OUT_FILE" >&2
  exit 2
}
fail() {
  echo "backup.sh: $*" >&2
  exit 1
}

age_args=()
signing_key=
while getopts "s:r:R:h" opt; do
  case $opt in
    s) signing_key=$OPTARG ;;
    r) age_args+=(-r "$OPTARG") ;;
    R) age_args+=(-R "$OPTARG") ;;
    *) usage ;;
  esac
done
shift $((OPTIND - 1))
[ $# -eq 2 ] || usage
data_dir=$1
out=$2

[ -f "$data_dir/db/db" ] || fail "$data_dir is not a Meldpunt data directory (it has no db/db)"
[ -n "$signing_key" ] || fail "name the backup signing key with -s KEY_FILE (docs/DEPLOY.md, section 6)"
[ -f "$signing_key" ] || fail "the signing key $signing_key is not a file"
command -v ssh-keygen >/dev/null 2>&1 || fail "ssh-keygen is not installed (Debian: apt-get install openssh-client)"
[ -e "$out" ] && fail "$out exists: choose a new name (a backup is never overwritten)"
[ -e "$out.sig" ] && fail "$out.sig exists: choose a new name (a backup is never overwritten)"
case "$(realpath -m -- "$out")" in
  "$(realpath -- "$data_dir")"/*) fail "the backup cannot be written inside the data directory" ;;
esac
if [ ${#age_args[@]} -gt 0 ] && ! command -v age >/dev/null 2>&1; then
  fail "age is not installed (Debian: apt-get install age)"
fi

tmp=$(mktemp "$out.XXXXXX.partial")
snapshot=
trap 'rm -f -- "$tmp" "$tmp.sig"; [ -z "$snapshot" ] || rm -rf -- "$snapshot"' EXIT

# The server holds an exclusive lock on db/db while it runs (sled allows one process).
exec 7<"$data_dir/db/db"
if flock --nonblock 7; then
  # Stopped. Token and audit commands work meanwhile; wait for one that is busy.
  for lock in tokens.lock audit.jsonl; do
    if [ -e "$data_dir/$lock" ]; then
      exec {fd}<"$data_dir/$lock"
      flock --wait 60 "$fd" || fail "$data_dir/$lock stays locked: is a token command hanging?"
    fi
  done
  source_dir=$data_dir
else
  exec 7<&-
  server=${MELDPUNT_SERVER:-meldpunt-server}
  command -v "$server" >/dev/null 2>&1 ||
    fail "the server is running on $data_dir and $server is not found to ask it for a snapshot: set MELDPUNT_SERVER to the meldpunt-server binary"
  # Removing the snapshot afterwards changes the directory's time: put it back.
  dir_time=$(stat -c %Y -- "$data_dir")
  snapshot=$("$server" snapshot "$data_dir") ||
    fail "the running server gave no snapshot of $data_dir (see above)"
  case "$(basename -- "$snapshot")" in
    snapshot-*) [ -d "$snapshot" ] || { snapshot=; fail "the server's snapshot is not at $snapshot"; } ;;
    *) snapshot=; fail "the server named an unexpected snapshot directory: $snapshot" ;;
  esac
  source_dir=$snapshot
fi

# GNU format: file times to the second (the day stamps the server set), no access or
# change times, no user names. Never the socket or a snapshot in the data directory.
archive=(tar --create --format=gnu --numeric-owner --atime-preserve=system
  --exclude=./snapshot.sock --exclude='./snapshot-*' --directory "$source_dir" --file - .)
if [ ${#age_args[@]} -gt 0 ]; then
  "${archive[@]}" | age --encrypt "${age_args[@]}" --output "$tmp"
  what="encrypted with age"
else
  "${archive[@]}" >"$tmp"
  what="NOT encrypted: it reveals how many cases there are and their days; use -r next time"
fi
ssh-keygen -q -Y sign -f "$signing_key" -n meldpunt-backup "$tmp" ||
  fail "signing with $signing_key failed"
sync -- "$tmp" "$tmp.sig"
mv -T -- "$tmp.sig" "$out.sig"
mv -T -- "$tmp" "$out"
trap - EXIT
sync -- "$(dirname -- "$out")"
if [ -n "$snapshot" ]; then
  rm -rf -- "$snapshot"
  snapshot=
  touch -c -d "@$dir_time" -- "$data_dir"
  what="$what; taken while the server ran"
fi
echo "backup.sh: $data_dir backed up to $out ($(stat -c %s -- "$out") bytes, $what), signed: $out.sig"

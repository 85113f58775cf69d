#!/usr/bin/env bash
# Restores a backup made by scripts/backup.sh into an empty (or new) data directory.
#
#   scripts/restore.sh [-i IDENTITY_FILE]... [-o OWNER[:GROUP]] BACKUP DATA_DIR
#
# -i  the age identity of an encrypted backup (age asks for its passphrase if it has one)
# -o  who owns the restored files (as root: the user the server runs as, e.g. meldpunt;
#     without a group, the user's own group); without it they belong to whoever runs this
#
# DATA_DIR must be empty or not exist: a restore never mixes with or overwrites live
# data. Move the old directory aside first (or, for a mount point, empty it). If
# anything fails, what was extracted is removed again. File modification times come
# back as they were (the day stamps the server set); access times are set to them too,
# so the restore leaves no time of its own on the files.
set -euo pipefail
umask 077

usage() {
  echo "usage: $0 [-i IDENTITY_FILE]... [-o OWNER[:GROUP]] BACKUP DATA_DIR" >&2
  exit 2
}
fail() {
  echo "restore.sh: $*" >&2
  exit 1
}

id_args=()
owner=
while getopts "i:o:h" opt; do
  case $opt in
    i) id_args+=(-i "$OPTARG") ;;
    o) owner=$OPTARG ;;
    *) usage ;;
  esac
done
shift $((OPTIND - 1))
[ $# -eq 2 ] || usage
backup=$1
data_dir=$2

[ -f "$backup" ] || fail "$backup is not a file"
if [ -e "$data_dir" ]; then
  [ -d "$data_dir" ] || fail "$data_dir exists and is not a directory"
  [ -z "$(ls -A -- "$data_dir")" ] ||
    fail "$data_dir is not empty: move it aside first (mv $data_dir $data_dir.old) and stop the server"
fi

encrypted=false
case "$(head -c 34 -- "$backup" | tr -d '\0')" in
  age-encryption.org/v1*|"-----BEGIN AGE ENCRYPTED FILE-----") encrypted=true ;;
esac
if $encrypted; then
  [ ${#id_args[@]} -gt 0 ] || fail "$backup is encrypted: name the backup key with -i KEY_FILE"
  command -v age >/dev/null 2>&1 || fail "age is not installed (Debian: apt-get install age)"
fi

created=false
if [ ! -e "$data_dir" ]; then
  mkdir -p -- "$data_dir"
  created=true
fi
cleanup() {
  find "$data_dir" -mindepth 1 -delete 2>/dev/null || true
  if $created; then rmdir -- "$data_dir" 2>/dev/null || true; fi
  echo "restore.sh: the restore failed; $data_dir is as it was" >&2
}
trap cleanup EXIT

extract=(tar --extract --same-permissions --no-same-owner --directory "$data_dir" --file -)
if $encrypted; then
  # age checks every chunk: a damaged or altered backup stops the restore here.
  age --decrypt "${id_args[@]}" -- "$backup" | "${extract[@]}"
else
  "${extract[@]}" <"$backup"
fi
[ -f "$data_dir/db/db" ] || fail "$backup holds no Meldpunt data directory (no db/db)"

chmod 700 -- "$data_dir"
if [ -n "$owner" ]; then
  case $owner in *:*) ;; *) owner="$owner:" ;; esac # "user:" is the user's own group
  chown -R -- "$owner" "$data_dir"
fi
# Extraction sets access times to now; put them back to the modification times.
# (-depth: a directory comes after its contents, once reading it is done.)
while IFS= read -r -d '' path; do
  touch -h -a -d "@$(stat -c %.9Y -- "$path")" -- "$path"
done < <(find "$data_dir" -depth -print0)

trap - EXIT
sync -f -- "$data_dir"
echo "restore.sh: $backup restored into $data_dir"
echo "restore.sh: check it with 'meldpunt-server audit verify', then start the server"

#!/usr/bin/env bash
# Restores a backup made by scripts/backup.sh into an empty (or new) data directory.
#
#   scripts/restore.sh -S SIGNER_PUBKEY -s RESTORE_KEY [-i IDENTITY_FILE]... [-o OWNER[:GROUP]] BACKUP DATA_DIR
#
# -S  the public half of the backup signing key (.pub): only a backup it signed
#     (BACKUP.sig beside BACKUP) is restored; anything else is refused before it is read
# -s  the operator's restore key (an SSH Ed25519 private key, kept offline): it signs the
#     restore statement, which tells every investigator's tool that the audit log was
#     taken back to the backup's state on purpose (docs/DEPLOY.md, section 6)
# -i  the age identity of an encrypted backup (age asks for its passphrase if it has one)
# -o  who owns the restored files (as root: the user the server runs as, e.g. meldpunt;
#     without a group, the user's own group); without it they belong to whoever runs this
#
# DATA_DIR must be empty or not exist: a restore never mixes with or overwrites live
# data. Move the old directory aside first (or, for a mount point, empty it). If
# anything fails, what was extracted is removed again. File modification times come
# back as they were (the day stamps the server set); access times are set to them too,
# so the restore leaves no time of its own on the files.
#
# On its next start the server writes the restore statement into the audit log and
# revokes every investigator token (the backup cannot know which were revoked after it
# was made): make new tokens then.
set -euo pipefail
umask 077

usage() {
  echo "usage: $0 -S SIGNER_PUBKEY -s RESTORE_KEY [-i IDENTITY_FILE]... [-o OWNER[:GROUP]] BACKUP DATA_DIR" >&2
  exit 2
}
fail() {
  echo "restore.sh: $*" >&2
  exit 1
}

id_args=()
owner=
signer=
restore_key=
while getopts "S:s:i:o:h" opt; do
  case $opt in
    S) signer=$OPTARG ;;
    s) restore_key=$OPTARG ;;
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
[ -n "$signer" ] || fail "name the backup signing key's public half with -S KEY.pub"
[ -n "$restore_key" ] || fail "name your restore key with -s KEY_FILE (it signs the restore statement)"
[ -f "$restore_key" ] || fail "the restore key $restore_key is not a file"
command -v ssh-keygen >/dev/null 2>&1 || fail "ssh-keygen is not installed (Debian: apt-get install openssh-client)"

# Only a backup the backup key signed: age does not tell who encrypted a file.
[ -f "$backup.sig" ] || fail "$backup.sig is missing: a backup without its signature is not restored"
read -r key_type key_data _ <"$signer" || fail "$signer is not an SSH public key"
allowed=$(mktemp)
trap 'rm -f -- "$allowed"' EXIT
printf 'backup namespaces="meldpunt-backup" %s %s\n' "$key_type" "$key_data" >"$allowed"
ssh-keygen -q -Y verify -f "$allowed" -I backup -n meldpunt-backup -s "$backup.sig" <"$backup" >/dev/null 2>&1 ||
  fail "$backup is NOT signed by the backup key in $signer: it is not restored (was it replaced?)"
rm -f -- "$allowed"
trap - EXIT
backup_sha256=$(sha256sum -- "$backup" | cut -d' ' -f1)
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

# The restore statement: the audit log goes back to the backup's head, on purpose.
entries=0
head=0000000000000000000000000000000000000000000000000000000000000000
if [ -s "$data_dir/audit.jsonl" ]; then
  entries=$(grep -c . -- "$data_dir/audit.jsonl")
  head=$(tail -n 1 -- "$data_dir/audit.jsonl" | grep -o '"hash":"[0-9a-f]\{64\}"' | cut -d'"' -f4)
  [ ${#head} -eq 64 ] || fail "the backup's audit log ends in a torn line: run 'meldpunt-server audit repair' on a copy, back it up again"
fi
statement="$data_dir/restore-statement.txt"
dir_time=$(stat -c %.9Y -- "$data_dir")
printf 'Meldpunt restore statement\nrestored: %s\nbackup-sha256: %s\naudit-entries: %s\naudit-head: %s\n' \
  "$(date -u +%F)" "$backup_sha256" "$entries" "$head" >"$statement"
ssh-keygen -q -Y sign -f "$restore_key" -n meldpunt-restore "$statement" ||
  fail "signing the restore statement with $restore_key failed"
# Day stamps, like everything the server writes.
touch -d "$(date -u +%F) 00:00:00 UTC" -- "$statement" "$statement.sig"
touch -m -d "@$dir_time" -- "$data_dir" # the directory keeps the backup's time

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
echo "restore.sh: the restore statement (audit entry $entries, head $head) is signed; the server"
echo "restore.sh: announces it at its next start and revokes every token: make new ones then."
echo "restore.sh: check it with 'meldpunt-server audit verify', then start the server"

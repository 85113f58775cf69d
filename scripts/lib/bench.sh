# Shared by the benchmark scripts (scripts/bench-*.sh): `source` it, then call these.
# Measurements, not tests: nothing here fails on speed.

# Runs a command as root (directly when already root, else through sudo).
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# apt_install_missing COMMAND=PACKAGE...: installs each PACKAGE from Debian whose COMMAND
# (a name on PATH or an absolute path) is missing, in one apt-get call.
apt_install_missing() {
  local pair missing=()
  for pair in "$@"; do
    local cmd=${pair%%=*} pkg=${pair#*=}
    if [ "${cmd#/}" != "$cmd" ]; then [ -x "$cmd" ] && continue
    else command -v "$cmd" >/dev/null && continue; fi
    missing+=("$pkg")
  done
  [ ${#missing[@]} -gt 0 ] || return 0
  echo "Installing ${missing[*]}" >&2
  as_root apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# The workspace's target folder (for a script run from anywhere in the repository).
target_dir() {
  cargo metadata --format-version 1 --no-deps |
    sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p'
}

# The 1-minute load average.
load1() { cut -d' ' -f1 /proc/loadavg; }

# The 1-, 5- and 15-minute load averages.
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

# wait_for_quiet MAX_LOAD WAIT_SECONDS: waits until the 1-minute load average is below
# MAX_LOAD, checking every 30 s; after WAIT_SECONDS it says so and returns anyway.
wait_for_quiet() {
  local max=$1 wait=$2 waited=0
  while awk -v l="$(load1)" -v m="$max" 'BEGIN { exit !(l >= m) }'; do
    if [ "$waited" -ge "$wait" ]; then
      echo "Load still $(load1) after ${wait}s: measuring anyway" >&2
      return 0
    fi
    echo "Load average $(load1) >= $max: waiting ($waited s so far)" >&2
    sleep 30
    waited=$((waited + 30))
  done
}

# The machine, for the results: cores, memory, CPU model.
machine() {
  echo "$(nproc) cores, $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) RAM," \
    "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
}

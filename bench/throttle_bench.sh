#!/usr/bin/env bash
# Does bandwidth_limit hold? Times a full scrub of a generated array with no
# limit and with LIMIT per disk, and reports the achieved read rate of each
# data disk against the limit.
#
# Usage: bench/throttle_bench.sh
#
# Environment:
#   DISKS=4          data disks (one parity level)
#   SIZE_MB=120      MB of data per disk (decimal), one file each
#   LIMIT=25MB/s     the bandwidth_limit to test (decimal units as in the
#                    config: 1 MB = 1000000 bytes)
#   ATLAS_BIN        the binary (default build/release/atlas-scrub, built with
#                    the release preset when it is missing)
#   BASE_DIR         where the array goes (default: a temporary directory
#                    under /dev/shm, so the media's own speed does not
#                    interfere; removed on exit)
#
# The rate of a disk is its data bytes over the scrub's wall time as the
# scrub reports it (`--json` seconds), all disks read at once. The limiter
# allows a burst of one second's worth before it paces, so a run reads at
# most LIMIT x (seconds + 1); the script prints that ceiling too. Parity
# reads are not paced (see atlas-scrub(1), BUGS). Exit status 1 when a
# limited run exceeded the ceiling.
set -euo pipefail
export LC_ALL=C

die() { printf 'throttle_bench: %s\n' "$*" >&2; exit 2; }

DISKS=${DISKS:-4}
SIZE_MB=${SIZE_MB:-120}
LIMIT=${LIMIT:-25MB/s}
[[ $DISKS =~ ^[1-9][0-9]*$ ]] || die "DISKS must be a positive integer, got '$DISKS'"
[[ $SIZE_MB =~ ^[1-9][0-9]*$ ]] || die "SIZE_MB must be a positive integer, got '$SIZE_MB'"
[[ $LIMIT =~ ^([0-9]+)MB/s$ ]] || die "LIMIT must be like 25MB/s (decimal MB), got '$LIMIT'"
limit_mb=${BASH_REMATCH[1]}
command -v python3 >/dev/null || die "python3 is missing (scripts/install-deps.sh installs it)"

. "$(dirname "$0")/lib.sh"
bin=$(atlas_binary build)

base=$(mktemp -d "${BASE_DIR:-/dev/shm}/atlas-throttle.XXXXXX")
trap 'rm -rf "$base"' EXIT
config=$base/atlas-scrub.toml
write_config() {
  atlas_config "$base" "$base/manifest" 256KiB "$DISKS" 1 "${1:+bandwidth_limit = \"$1\"}" >"$config"
}
mkdir -p "$base/p1"
for ((i = 1; i <= DISKS; i++)); do
  mkdir -p "$base/d$i"
  head -c $((SIZE_MB * 1000000)) /dev/urandom >"$base/d$i/file.bin"
done
write_config ""
"$bin" -c "$config" -q sync || die "sync failed"

# scrub_rate LIMIT: runs a full scrub and prints "seconds mb_per_disk_per_s".
scrub_rate() {
  write_config "$1"
  local out rc=0
  out=$("$bin" -c "$config" --json scrub --plan full) || rc=$?
  [[ $rc -eq 0 ]] || die "scrub exited $rc: $out"
  python3 -c '
import json, sys
doc = json.loads(sys.argv[1])
secs = doc["seconds"]
print(f"{secs:.2f} {int(sys.argv[2]) / secs:.1f}")' "$out" "$SIZE_MB"
}

host_cpus=$(nproc)
printf 'throttle_bench: %d data disks x %d MB on %s, %s CPUs, binary %s\n' "$DISKS" "$SIZE_MB" \
  "$(df --output=fstype "$base" | tail -1)" "$host_cpus" "$bin"
read -r free_s free_rate < <(scrub_rate "")
printf '%-16s %8s s  %8s MB/s per disk\n' "no limit" "$free_s" "$free_rate"
read -r lim_s lim_rate < <(scrub_rate "$LIMIT")
ceiling=$(python3 -c "print(f'{$limit_mb * ($lim_s + 1) / $lim_s:.1f}')")
printf '%-16s %8s s  %8s MB/s per disk (limit %d MB/s; with the 1 s burst at most %s)\n' \
  "limit $LIMIT" "$lim_s" "$lim_rate" "$limit_mb" "$ceiling"
python3 -c "import sys; sys.exit(0 if $lim_rate <= $ceiling else 1)" || {
  echo "throttle_bench: the limited scrub read faster than the limit allows" >&2
  exit 1
}

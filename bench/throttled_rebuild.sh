#!/usr/bin/env bash
# Rebuild of one data disk at hard-disk speed: atlas-scrub against Debian's
# snapraid, on real block devices whose reads are throttled.
#
# Usage: sudo bench/throttled_rebuild.sh [RESULTS_DIR]
#
# Environment:
#   RUNS=3        runs per tool (medians are reported)
#   DISK_MB=200   data per data disk, MB (10^6 B)
#   MBPS=120      read limit of every disk, MB/s (a 7200 rpm disk reads
#                 150-250 MB/s outer to inner; 120 keeps runs short)
#   ATLAS_BIN     binary under test (default build/release/atlas-scrub)
#
# The array: 4 data disks and 2 parity disks, each an ext4 file system on its
# own loop device (sparse image files under a temporary directory, loop
# devices with --direct-io=on so the images add no second page cache).
# SnapRAID's content files and atlas-scrub's manifest live on a tmpfs, which
# is not throttled, so that only disk reads are timed.
#
# Throttling. The read limit is set per loop device (major:minor) with the
# kernel's block throttle, in this order of preference:
#   1. cgroup v2 io.max ("MAJ:MIN rbps=N") when the unified hierarchy offers
#      the io controller;
#   2. cgroup v1 blkio.throttle.read_bps_device ("MAJ:MIN N"), the same
#      throttle (blk-throttle) through the v1 interface.
# Each timed command runs inside that cgroup. Both tools get exactly the same
# limit; atlas-scrub's own bandwidth_limit is not used, since snapraid has no
# equivalent. Without either cgroup interface the script stops (exit 2):
# device-mapper (dm-delay) is not available as a fallback on kernels built
# without CONFIG_MD.
#
# Every run starts cold: d2 is emptied, and every file system is unmounted
# and mounted again, which drops its page cache, so all reads reach the
# throttled devices. Each rebuild is verified byte for byte (xxh128sum),
# with size and mtime, against the listing taken when the data was made.
#
# Output: RESULTS_DIR/runs.tsv (tool, run, rc, wall_s, maxrss_kib),
# RESULTS_DIR/summary.txt, logs/. Exit 1 when a rebuild failed to verify or a
# command failed.
set -euo pipefail
export LC_ALL=C

die() { printf 'throttled_rebuild: %s\n' "$*" >&2; exit 2; }
say() { printf '%s\n' "$*"; }

RUNS=${RUNS:-3}
DISK_MB=${DISK_MB:-200}
MBPS=${MBPS:-120}
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive integer, got '$RUNS'"
[[ $DISK_MB =~ ^[1-9][0-9]*$ ]] || die "DISK_MB must be a positive integer, got '$DISK_MB'"
[[ $MBPS =~ ^[1-9][0-9]*$ ]] || die "MBPS must be a positive integer, got '$MBPS'"
[[ $(id -u) -eq 0 ]] || die "needs root (loop devices, mounts, cgroups)"

. "$(dirname "$0")/lib.sh"
results=$(abspath "${1:-$repo/build/bench/throttled_rebuild-$(date +%Y%m%d-%H%M%S)}")
cd "$repo"
for tool in snapraid xxh128sum python3 /usr/bin/time losetup mkfs.ext4; do
  command -v "$tool" >/dev/null || die "$tool is missing"
done
atlas=$(atlas_binary)

mkdir -p "$results/logs"
printf 'tool\trun\trc\twall_s\tmaxrss_kib\n' >"$results/runs.tsv"

# ---------------------------------------------------------------------------
# Cleanup of everything this script creates, also after an error or a signal.
base=$(mktemp -d -t atlas-throttled.XXXXXX)
disks=(d1 d2 d3 d4 p1 p2)
declare -A loopdev
cgroup_dir=
cleanup() {
  set +e
  local d
  for d in "${disks[@]}" meta; do
    mountpoint -q "$base/$d" && { umount "$base/$d" || umount -l "$base/$d"; }
  done
  for d in "${disks[@]}"; do
    [[ -n ${loopdev[$d]:-} ]] && losetup -d "${loopdev[$d]}"
  done
  [[ -n $cgroup_dir && -d $cgroup_dir ]] && rmdir "$cgroup_dir"
  rm -rf -- "$base"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------------------
# Block devices: one ext4 per disk on a loop device.
data_img_mb=$((DISK_MB * 14 / 10 + 64))
# Each parity disk holds a parity file of each tool.
parity_img_mb=$((DISK_MB * 27 / 10 + 64))
mkdir -p "$base/img" "$base/meta"
mount -t tmpfs -o size=256M atlas-throttled-meta "$base/meta"
for d in "${disks[@]}"; do
  case $d in d*) mb=$data_img_mb ;; *) mb=$parity_img_mb ;; esac
  truncate -s "${mb}M" "$base/img/$d.img"
  loopdev[$d]=$(losetup --find --show --direct-io=on "$base/img/$d.img")
  mkfs.ext4 -q -F -m 0 -E lazy_itable_init=0,lazy_journal_init=0 "${loopdev[$d]}"
  mkdir -p "$base/$d"
  mount "${loopdev[$d]}" "$base/$d"
  rmdir "$base/$d/lost+found" 2>/dev/null || true
done

remount_all() {
  local d
  sync
  for d in "${disks[@]}"; do
    umount "$base/$d"
    mount "${loopdev[$d]}" "$base/$d"
  done
}

# ---------------------------------------------------------------------------
# The throttle.
bps=$((MBPS * 1000000))
limits=()
for d in "${disks[@]}"; do limits+=("$(lsblk -dno MAJ:MIN "${loopdev[$d]}" | tr -d ' ')"); done
if [[ -f /sys/fs/cgroup/cgroup.controllers ]] && grep -qw io /sys/fs/cgroup/cgroup.controllers; then
  root=/sys/fs/cgroup
elif [[ -f /sys/fs/cgroup/unified/cgroup.controllers ]] && grep -qw io /sys/fs/cgroup/unified/cgroup.controllers; then
  root=/sys/fs/cgroup/unified
else
  root=
fi
if [[ -n $root ]]; then
  grep -qw io "$root/cgroup.subtree_control" || echo +io >"$root/cgroup.subtree_control"
  cgroup_dir=$root/atlas-throttled-$$
  mkdir "$cgroup_dir"
  for mm in "${limits[@]}"; do echo "$mm rbps=$bps" >"$cgroup_dir/io.max"; done
  throttle="cgroup v2 io.max rbps=$bps on each loop device"
elif [[ -f /sys/fs/cgroup/blkio/blkio.throttle.read_bps_device ]]; then
  cgroup_dir=/sys/fs/cgroup/blkio/atlas-throttled-$$
  mkdir "$cgroup_dir"
  for mm in "${limits[@]}"; do echo "$mm $bps" >"$cgroup_dir/blkio.throttle.read_bps_device"; done
  throttle="cgroup v1 blkio.throttle.read_bps_device $bps B/s on each loop device (cgroup v2 has no io controller here)"
else
  die "neither cgroup v2 io.max nor cgroup v1 blkio throttling is available"
fi

# throttled CMD...: runs CMD inside the throttled cgroup.
throttled() { bash -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$cgroup_dir" "$@"; }

# ---------------------------------------------------------------------------
# Data: on each data disk, two big files (40 % and 25 % of DISK_MB), four of
# 3-8 %, and small files up to 2 MB for the rest.
say "generating ${DISK_MB} MB on each of d1..d4 ..."
python3 - "$base" "$DISK_MB" <<'PY'
import os, random, sys
base, mb = sys.argv[1], int(sys.argv[2])
rng = random.Random(20240601)
epoch = 1717200000
for d in range(1, 5):
    total = mb * 10**6
    sizes = [int(total * 0.40), int(total * 0.25)] + [int(total * rng.uniform(0.03, 0.08)) for _ in range(4)]
    left = total - sum(sizes)
    while left > 0:
        s = min(left, rng.randint(4096, 2 * 10**6))
        sizes.append(s)
        left -= s
    for i, size in enumerate(sizes):
        path = os.path.join(base, f"d{d}", f"dir{i % 5}", f"file{i:04d}.bin")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(rng.randbytes(size))
        ns = (epoch - rng.randrange(0, 10**8)) * 10**9 + rng.randrange(1, 10**9)
        os.utime(path, ns=(ns, ns))
PY
(cd "$base/d2" && find . -type f -print0 | xargs -0 xxh128sum -q | sort) >"$results/d2.xxh128"
(cd "$base/d2" && find . -type f -printf '%p\t%s\t%T@\n' | sort) >"$results/d2.stat"
d2_bytes=$(find "$base/d2" -type f -printf '%s\n' | awk '{ s += $1 } END { printf "%.0f\n", s }')
d2_files=$(wc -l <"$results/d2.xxh128")

{
  atlas_config "$base" "$base/meta/atlas/manifest" 256KiB 4 2
  printf '\n[guards]\nmax_deletes_pct = 100\n'
} >"$base/meta/atlas-scrub.toml"
cat >"$base/meta/snapraid.conf" <<EOF
parity $base/p1/snapraid.parity
2-parity $base/p2/snapraid.2-parity
content $base/meta/snapraid.content
content $base/p1/snapraid.content
content $base/p2/snapraid.content
data d1 $base/d1/
data d2 $base/d2/
data d3 $base/d3/
data d4 $base/d4/
exclude *.unrecoverable
exclude /lost+found/
EOF
atlas_cmd=("$atlas" -c "$base/meta/atlas-scrub.toml" --json --no-progress)
snap_cmd=(snapraid -c "$base/meta/snapraid.conf")

say "syncing both tools (not throttled) ..."
"${atlas_cmd[@]}" sync >"$results/logs/sync.atlas.out" 2>&1 || die "atlas-scrub sync failed (logs/sync.atlas.out)"
snapraid -c "$base/meta/snapraid.conf" --test-skip-self sync >"$results/logs/sync.snapraid.out" 2>&1 </dev/null ||
  die "snapraid sync failed (logs/sync.snapraid.out)"

failures=()
verify_d2() {
  local label=$1 now ok total
  now=$(cd "$base/d2" && find . -type f -print0 | xargs -0 -r xxh128sum -q | sort)
  total=$(wc -l <"$results/d2.xxh128")
  ok=$(comm -12 "$results/d2.xxh128" <(printf '%s\n' "$now") | wc -l)
  local st_ok
  st_ok=$(comm -12 <(cut -f1-3 "$results/d2.stat") <(cd "$base/d2" && find . -type f -printf '%p\t%s\t%T@\n' | sort) | wc -l)
  say "  verify $label: $ok/$total files byte-identical, $st_ok/$total with size and mtime"
  ((ok == total && st_ok == total)) || failures+=("$label: rebuild not identical ($ok/$total content, $st_ok/$total size+mtime)")
}

run_one() {
  local tool=$1 r=$2 rc=0 wall rss log=$results/logs/fix_d2.$1.$2
  find "$base/d2" -mindepth 1 -delete
  remount_all
  if [[ $tool == atlas ]]; then
    throttled /usr/bin/time -f '%e %M' -o "$log.time" "${atlas_cmd[@]}" fix --disk d2 >"$log.out" 2>"$log.err" || rc=$?
  else
    throttled /usr/bin/time -f '%e %M' -o "$log.time" "${snap_cmd[@]}" -d d2 fix >"$log.out" 2>"$log.err" </dev/null || rc=$?
  fi
  read -r wall rss < <(tail -n 1 "$log.time")
  printf '%s\t%s\t%s\t%s\t%s\n' "$tool" "$r" "$rc" "$wall" "$rss" >>"$results/runs.tsv"
  printf '  %-9s run %s: %6.2f s %8d KiB  rc %s\n' "$tool" "$r" "$wall" "$rss" "$rc"
  ((rc == 0)) || failures+=("$tool run $r exited $rc (logs/fix_d2.$tool.$r.err)")
  verify_d2 "$tool.$r"
}

say "rebuild of d2 ($d2_files files, $d2_bytes B), reads limited to $MBPS MB/s per disk:"
for r in $(seq "$RUNS"); do
  run_one atlas "$r"
  run_one snapraid "$r"
done

{
  say ""
  say "throttled rebuild: RUNS=$RUNS DISK_MB=$DISK_MB MBPS=$MBPS"
  say "machine:  $(nproc) CPUs, kernel $(uname -r); load $(cut -d' ' -f1-3 /proc/loadavg)"
  say "array:    4 data + 2 parity, ext4 on loop devices (--direct-io=on); manifest/content on tmpfs"
  say "throttle: $throttle"
  python3 - "$results/runs.tsv" "$d2_bytes" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
d2 = int(sys.argv[2])
med = {t: (statistics.median(float(r["wall_s"]) for r in rows if r["tool"] == t),
           statistics.median(int(r["maxrss_kib"]) for r in rows if r["tool"] == t)) for t in ("atlas", "snapraid")}
(aw, ar), (sw, sr) = med["atlas"], med["snapraid"]
print(f"rebuild d2 ({d2 / 1e6:.0f} MB): atlas-scrub {aw:.2f} s ({d2 / 1e6 / aw:.0f} MB/s, {ar / 1024:.1f} MiB), "
      f"snapraid {sw:.2f} s ({d2 / 1e6 / sw:.0f} MB/s, {sr / 1024:.1f} MiB); speed x = {sw / aw:.2f}")
PY
  if ((${#failures[@]})); then
    say "FAILED (${#failures[@]}):"
    printf '  %s\n' "${failures[@]}"
  else
    say "all rebuilds verified byte-identical; every command exited 0"
  fi
} | tee "$results/summary.txt"
((${#failures[@]} == 0)) || exit 1

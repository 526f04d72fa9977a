#!/usr/bin/env bash
# Scale benchmark: does memory stay flat when the array grows 10x, and does
# `status` answer in well under a second?
#
# Usage: bench/scale_bench.sh [RESULTS_DIR]
#
# Environment:
#   SMALL=100000 LARGE=1000000   files in the small and the large array
#   BLOCK=4KiB                   block_size (each file is 0..4 KiB: one block)
#   ATLAS_BIN                    the binary (default build/release/atlas-scrub)
#   HEAPTRACK=1                  also record sync/diff/scrub under heaptrack
#                                (heaptrack files land in RESULTS_DIR)
#
# For each size it mounts four tmpfs data disks, one for the parity and one
# for the manifest (root is needed; everything is unmounted on exit),
# generates FILES small files (bench/scale_gen.py: 0..4096 random bytes each,
# 1000 per directory, round-robin over the disks), and times under
# /usr/bin/time -v:
#   sync_first   the first sync (every file is new)
#   sync_noop    a sync with nothing to do
#   status       the default status (drift walk bounded to 0.3 s)
#   status_nodrift  status --no-drift (manifest only)
#   status_full  status --full-drift (every file stat'ed)
#   diff         diff of the unchanged array (every file stat'ed)
#   scrub_new    scrub --plan new (every position: reads the whole array)
#   sync_touch   a sync after 1% of the files were rewritten
# and prints wall seconds, peak RSS and the LARGE/SMALL ratio of both.
#
# The sparse multi-TB half is bench/scale_sparse.sh.
set -euo pipefail
export LC_ALL=C

die() { printf 'scale_bench: %s\n' "$*" >&2; exit 2; }

SMALL=${SMALL:-100000}
LARGE=${LARGE:-1000000}
BLOCK=${BLOCK:-4KiB}
[[ $(id -u) -eq 0 ]] || die "needs root (it mounts tmpfs)"
for tool in python3 /usr/bin/time; do command -v "$tool" >/dev/null || die "$tool is missing"; done

. "$(dirname "$0")/lib.sh"
results=$(abspath "${1:-$repo/build/bench/scale-$(date +%Y%m%d-%H%M%S)}")
atlas=$(atlas_binary)
mkdir -p "$results"
tsv=$results/runs.tsv
printf 'files\tstep\trc\twall_s\tmaxrss_kib\n' >"$tsv"

base=
mounted=()
cleanup() {
  set +e
  local m
  for m in "${mounted[@]}"; do umount "$m" 2>/dev/null || umount -l "$m"; done
  mounted=()
  [[ -n $base && -d $base ]] && rm -rf -- "$base"
  base=
}
trap cleanup EXIT
trap 'exit 130' INT

# run FILES STEP ARGS...: one timed run, appended to runs.tsv.
run() {
  local files=$1 step=$2
  shift 2
  local log=$results/$files-$step
  local rc=0
  /usr/bin/time -v -o "$log.time" "$atlas" -c "$base/c/atlas-scrub.toml" --no-progress "$@" \
    >"$log.out" 2>"$log.err" || rc=$?
  local wall rss
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, t, ":"); s = 0;
    for (i = 1; i <= n; i++) s = s * 60 + t[i]; printf "%.2f", s }' "$log.time")
  rss=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$log.time")
  printf '%s\t%s\t%s\t%s\t%s\n' "$files" "$step" "$rc" "$wall" "$rss" | tee -a "$tsv"
}

heap() {
  local files=$1 step=$2
  shift 2
  [[ ${HEAPTRACK:-0} == 1 ]] || return 0
  heaptrack -o "$results/heaptrack-$files-$step" "$atlas" -c "$base/c/atlas-scrub.toml" --no-progress "$@" \
    >/dev/null 2>&1 || true
}

one_size() {
  local files=$1
  base=$(mktemp -d -t atlas-scale.XXXXXX)
  local d
  # tmpfs: about 4 KiB of page plus an inode per file; parity: one block per
  # position (files / 4 positions per disk).
  local data_mib=$((files * 6 / 4 / 1024 + 64))
  for d in d1 d2 d3 d4 p1 c; do
    mkdir "$base/$d"
    case $d in d*) cap=$data_mib ;; p1) cap=$((files / 4 * 5 / 1024 + 64)) ;; c) cap=$((files / 1024 + 256)) ;; esac
    mount -t tmpfs -o "size=${cap}M,nr_inodes=0,mode=0755" "scale-$d" "$base/$d"
    mounted+=("$base/$d")
  done
  atlas_config "$base" "$base/c/manifest" "$BLOCK" 4 1 >"$base/c/atlas-scrub.toml"
  printf 'generating %s files ...\n' "$files" >&2
  local t0=$SECONDS
  python3 "$repo/bench/scale_gen.py" "$files" "$base"/d1 "$base"/d2 "$base"/d3 "$base"/d4 >&2
  printf '  (%d s)\n' $((SECONDS - t0)) >&2

  run "$files" sync_first sync
  run "$files" sync_noop sync
  run "$files" status status
  run "$files" status_nodrift status --no-drift
  run "$files" status_full status --full-drift
  run "$files" diff diff
  run "$files" scrub_new scrub --plan new
  heap "$files" diff diff
  heap "$files" status_full status --full-drift
  # Rewrite 1% of the files (new content, new mtime), then sync again.
  python3 - "$base" "$files" <<'PY'
import os, sys
base, files = sys.argv[1], int(sys.argv[2])
for n in range(0, files, 100):
    disk = f"d{n % 4 + 1}"
    k = n // 4
    p = os.path.join(base, disk, f"d{k // 1000:04d}", f"f{n:07d}.bin")
    with open(p, "r+b") as f:
        f.write(b"touched!")
PY
  run "$files" sync_touch sync
  heap "$files" sync_touch2 sync
  du -sh "$base"/c/manifest >&2 || true
  cleanup
}

one_size "$SMALL"
one_size "$LARGE"

{
  printf '\n%-16s %10s %10s %12s %12s %8s %8s\n' step "wall@$SMALL" "wall@$LARGE" "rss_kib@$SMALL" "rss_kib@$LARGE" "wall_x" "rss_x"
  awk -F'\t' -v s="$SMALL" -v l="$LARGE" 'NR > 1 {
      key = $2; if (!(key in seen)) { order[++n] = key; seen[key] = 1 }
      if ($1 == s) { ws[key] = $4; rs[key] = $5 } else if ($1 == l) { wl[key] = $4; rl[key] = $5 } }
    END { for (i = 1; i <= n; i++) { k = order[i];
      printf "%-16s %10s %10s %12s %12s %8.2f %8.2f\n", k, ws[k], wl[k], rs[k], rl[k],
        (ws[k] > 0 ? wl[k] / ws[k] : 0), (rs[k] > 0 ? rl[k] / rs[k] : 0) } }' "$tsv"
} | tee "$results/summary.txt"

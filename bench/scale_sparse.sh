#!/usr/bin/env bash
# Scale benchmark, sparse half: a multi-terabyte array whose manifest holds
# tens of millions of block records, without reading terabytes.
#
# Usage: bench/scale_sparse.sh [RESULTS_DIR]
#
# Environment:
#   SMALL_FILES=64 LARGE_FILES=640   sparse files per data disk (4 data disks)
#   FILE_BYTES=4294967296            size of each (4 GiB)
#   BLOCK=256KiB                     block_size
#   ATLAS_BIN, FILL_BIN              default build/release/atlas-scrub and
#                                    build/release/bench/scale_fill
#   SCRUB_LIMIT=300                  seconds before scrub --plan new is
#                                    interrupted (SIGINT)
#
# With the defaults: 1 TiB (4 M blocks) against 10 TiB (40 M blocks) at
# 256 KiB blocks, one parity level. On a busy 2-vCPU machine writing 40 M
# records takes over an hour; SMALL_FILES=32 LARGE_FILES=320 BLOCK=4MiB
# (512 GiB and 5 TiB, 131 k and 1.3 M blocks) finishes in minutes. Reading 10 TiB of holes would take
# hours, so bench/scale_fill writes the sparse files and, through the
# manifest API, the records a first sync would have written (hashes of zero
# blocks, which is what the holes hold; parity of zeros is zeros, so the
# parity file is sparse too). Then, under /usr/bin/time -v:
#   fill          scale_fill itself (record writing; not a command)
#   sync_refresh  the first real sync: nothing to hash, refreshes identities
#   sync_noop     a sync with nothing to do
#   status, status_nodrift, status_full
#   diff
#   scrub_pct     scrub --percent P with P chosen to read about 1 GiB
#                 (two streaming passes over every block record)
#   scrub_new     scrub --plan new, interrupted after SCRUB_LIMIT seconds:
#                 its selection holds 8 bytes per position (measured RSS)
set -euo pipefail
export LC_ALL=C

die() { printf 'scale_sparse: %s\n' "$*" >&2; exit 2; }

SMALL_FILES=${SMALL_FILES:-64}
LARGE_FILES=${LARGE_FILES:-640}
FILE_BYTES=${FILE_BYTES:-4294967296}
SCRUB_LIMIT=${SCRUB_LIMIT:-300}
BLOCK=${BLOCK:-256KiB}
[[ $(id -u) -eq 0 ]] || die "needs root (it mounts tmpfs)"

. "$(dirname "$0")/lib.sh"
results=$(abspath "${1:-$repo/build/bench/scale-sparse-$(date +%Y%m%d-%H%M%S)}")
atlas=$(atlas_binary)
fill=$(abspath "${FILL_BIN:-$repo/build/release/bench/scale_fill}")
[[ -x $fill ]] || die "$fill is missing; build the release preset first"
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

record() {  # files step rc timefile
  local wall rss
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, t, ":"); s = 0;
    for (i = 1; i <= n; i++) s = s * 60 + t[i]; printf "%.2f", s }' "$4")
  rss=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$4")
  printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$wall" "$rss" | tee -a "$tsv"
}

run() {
  local files=$1 step=$2
  shift 2
  local log=$results/$files-$step rc=0
  /usr/bin/time -v -o "$log.time" "$atlas" -c "$base/c/atlas-scrub.toml" --no-progress "$@" \
    >"$log.out" 2>"$log.err" || rc=$?
  record "$files" "$step" "$rc" "$log.time"
}

one_size() {
  local per_disk=$1 files=$(($1 * 4))
  base=$(mktemp -d -t atlas-sparse.XXXXXX)
  local d
  for d in d1 d2 d3 d4 p1 c; do
    mkdir "$base/$d"
    mount -t tmpfs -o "size=8G,mode=0755" "sparse-$d" "$base/$d"
    mounted+=("$base/$d")
  done
  atlas_config "$base" "$base/c/manifest" "$BLOCK" 4 1 >"$base/c/atlas-scrub.toml"
  local log=$results/$files-fill rc=0
  /usr/bin/time -v -o "$log.time" "$fill" "$base/c/atlas-scrub.toml" "$per_disk" "$FILE_BYTES" \
    >"$log.out" 2>"$log.err" || rc=$?
  cat "$log.out" >&2
  record "$files" fill "$rc" "$log.time"
  run "$files" sync_refresh sync
  run "$files" sync_noop sync
  run "$files" status status
  run "$files" status_nodrift status --no-drift
  run "$files" status_full status --full-drift
  run "$files" diff diff
  # About 1 GiB read whatever the size: the selection's cost is two passes
  # over the block records; its memory a histogram and the chosen positions.
  local pct
  pct=$(awk -v b="$FILE_BYTES" -v f="$files" 'BEGIN { printf "%.6f", 100 * 1073741824 / (b * f) }')
  run "$files" scrub_pct scrub --percent "$pct"
  log=$results/$files-scrub_new
  rc=0
  /usr/bin/time -v -o "$log.time" timeout -s INT "$SCRUB_LIMIT" "$atlas" -c "$base/c/atlas-scrub.toml" \
    --no-progress scrub --plan new >"$log.out" 2>"$log.err" || rc=$?
  record "$files" scrub_new "$rc" "$log.time"
  du -sh "$base"/c/manifest >&2 || true
  cleanup
}

one_size "$SMALL_FILES"
one_size "$LARGE_FILES"

small=$((SMALL_FILES * 4))
large=$((LARGE_FILES * 4))
{
  printf '\n%-16s %10s %10s %12s %12s %8s %8s\n' step "wall@$small" "wall@$large" "rss_kib@$small" "rss_kib@$large" "wall_x" "rss_x"
  awk -F'\t' -v s="$small" -v l="$large" 'NR > 1 {
      key = $2; if (!(key in seen)) { order[++n] = key; seen[key] = 1 }
      if ($1 == s) { ws[key] = $4; rs[key] = $5 } else if ($1 == l) { wl[key] = $4; rl[key] = $5 } }
    END { for (i = 1; i <= n; i++) { k = order[i];
      printf "%-16s %10s %10s %12s %12s %8.2f %8.2f\n", k, ws[k], wl[k], rs[k], rl[k],
        (ws[k] > 0 ? wl[k] / ws[k] : 0), (rs[k] > 0 ? rl[k] / rs[k] : 0) } }' "$tsv"
} | tee "$results/summary.txt"

#!/usr/bin/env bash
# End-to-end comparison of atlas-scrub with SnapRAID (Debian's snapraid 12.2)
# on the same generated data: full sync, no-op sync, full scrub, check,
# rebuild of an emptied disk and status, each timed with GNU time, RUNS times,
# interleaved (atlas-scrub, then snapraid, in every run).
#
# Usage: bench/compare_snapraid.sh [RESULTS_DIR]
#
# Environment:
#   RUNS=3          runs per step (medians are reported)
#   SCALE=1.0       data size factor; 1.0 is 2,045 files / 2.83 GiB, 0.05 a
#                   quick smoke run
#   SEED=20240601   seed of the data generator (sizes, names, contents)
#   ATLAS_BIN       the binary to test (default build/release/atlas-scrub,
#                   built with the release preset when it is missing)
#
# As root it mounts seven tmpfs (d1..d4, p1, p2, c) under a temporary
# directory, so that each "disk" has its own device. Otherwise it falls back
# to plain directories under /dev/shm and passes --test-skip-device to
# snapraid. Everything is unmounted and deleted on exit.
#
# Output: RESULTS_DIR/runs.tsv (step, tool, run, rc, wall_s, maxrss_kib),
# RESULTS_DIR/summary.txt (also printed), RESULTS_DIR/logs/ (every command's
# output, with the array root written as $BASE). Exit status 1 when a
# verification failed or a timed command did not exit 0; see bench/README.md.
set -euo pipefail
export LC_ALL=C

die() { printf 'compare_snapraid: %s\n' "$*" >&2; exit 2; }
say() { printf '%s\n' "$*"; }

RUNS=${RUNS:-3}
SCALE=${SCALE:-1.0}
SEED=${SEED:-20240601}
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive integer, got '$RUNS'"
[[ $SCALE =~ ^[0-9]*\.?[0-9]+$ ]] || die "SCALE must be a positive number, got '$SCALE'"
[[ $SEED =~ ^[0-9]+$ ]] || die "SEED must be a non-negative integer, got '$SEED'"
awk -v s="$SCALE" 'BEGIN { exit !(s > 0 && s <= 4) }' || die "SCALE must be above 0 and at most 4"

# Paths given relative to the caller's directory are resolved before moving
# to the repository root (bench/lib.sh).
. "$(dirname "$0")/lib.sh"
results=$(abspath "${1:-$repo/build/bench/compare_snapraid-$(date +%Y%m%d-%H%M%S)}")
cd "$repo"

for tool in snapraid xxh128sum python3 /usr/bin/time; do
  command -v "$tool" >/dev/null || die "$tool is missing (scripts/install-deps.sh installs it)"
done
atlas=$(atlas_binary build)

mkdir -p "$results/logs"
: >"$results/runs.tsv"
printf 'step\ttool\trun\trc\twall_s\tmaxrss_kib\n' >"$results/runs.tsv"

# ---------------------------------------------------------------------------
# The array: seven tmpfs mounts, or plain directories as a fallback.

disks=(d1 d2 d3 d4 p1 p2 c)
base=
mounted=()
cleanup() {
  local m
  set +e
  for m in "${mounted[@]}"; do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
  done
  [[ -n $base && -d $base ]] && rm -rf -- "$base"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Caps only bound memory use; tmpfs takes pages as they are written. One data
# disk holds about a quarter of 3.03 GB at SCALE=1; each parity disk holds a
# parity file of each tool, a little larger than a data disk because every
# file starts a new 256 KiB block.
mib_per_disk=$(awk -v s="$SCALE" 'BEGIN { printf "%d", s * 3033427376 / 4 / 1048576 + 1 }')
data_cap=$((mib_per_disk * 3 / 2 + 64))
parity_cap=$((mib_per_disk * 3 + 128))
content_cap=256

fallback=0
if [[ $(id -u) -eq 0 ]]; then
  base=$(mktemp -d -t atlas-vs-snapraid.XXXXXX)
  for d in "${disks[@]}"; do
    mkdir "$base/$d"
    case $d in d*) cap=$data_cap ;; p*) cap=$parity_cap ;; *) cap=$content_cap ;; esac
    if ! mount -t tmpfs -o "size=${cap}M,mode=0755" "bench-$d" "$base/$d" 2>/dev/null; then
      fallback=1
      break
    fi
    mounted+=("$base/$d")
  done
  if ((fallback)); then
    cleanup
    mounted=()
    base=
  fi
else
  fallback=1
fi
if ((fallback)); then
  [[ -d /dev/shm && -w /dev/shm ]] || die "cannot mount tmpfs and /dev/shm is not writable"
  base=$(mktemp -d -p /dev/shm atlas-vs-snapraid.XXXXXX)
  for d in "${disks[@]}"; do mkdir "$base/$d"; done
fi
snapraid_opts=()
if ((fallback)); then
  snapraid_opts=(--test-skip-device)
  storage="plain directories in one /dev/shm tmpfs (no permission to mount); snapraid runs with --test-skip-device, and atlas-scrub reports shared_filesystem"
else
  storage="seven tmpfs mounts (d1..d4 ${data_cap}M, p1 p2 ${parity_cap}M, c ${content_cap}M)"
fi

# ---------------------------------------------------------------------------
# The data: a media-like mix, deterministic for a given SEED and SCALE.
#   5 files of 650/500/400/300/200 MiB, 40 files of 5-30 MiB (both scaled by
#   SCALE), and 2000 x SCALE files of 4-200 KiB; each file goes to the data
#   disk with the fewest bytes so far, biggest first.

say "generating the data (SCALE=$SCALE, SEED=$SEED) ..."
python3 - "$base" "$SCALE" "$SEED" <<'PY'
import os
import random
import sys

base, scale, seed = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
rng = random.Random(seed)
MiB, KiB = 1 << 20, 1 << 10

titles = ["Alpha", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot", "Golf", "Hotel"]
shows = ["Some Show", "Another Show", "A Documentary", "The Series"]
artists = ["An Artist", "Band Name", "Orchestra", "Solo Act", "Duo"]
files = []  # (relative path, size, mode)

for i, mib in enumerate([650, 500, 400, 300, 200]):
    size = int(mib * MiB * scale) + rng.randrange(1, 256 * KiB)
    files.append((f"Movies/{titles[i]} ({2005 + 3 * i})/{titles[i]} ({2005 + 3 * i}).mkv", size, 0o644))
for i in range(40):
    show = shows[i % len(shows)]
    season, episode = i // 10 + 1, i % 10 + 1
    size = max(4 * KiB, int(rng.randint(5 * MiB, 30 * MiB) * scale))
    files.append((f"TV/{show}/Season {season:02d}/{show} S{season:02d}E{episode:02d}.mkv", size, 0o644))
small = max(40, round(2000 * scale))
for i in range(small):
    size = rng.randint(4 * KiB, 200 * KiB)
    kind = i % 4
    if kind == 0:
        path = f"Photos/{2015 + i % 9}/IMG_{i:05d}.jpg"
    elif kind == 1:
        a = artists[i % len(artists)]
        path = f"Music/{a}/Album {i % 23:02d}/{i % 17 + 1:02d} - Track {i}.mp3"
    elif kind == 2:
        path = f"TV/{shows[i % len(shows)]}/Extras/subtitle {i:05d}.srt"
    else:
        path = f"Movies/{titles[i % len(titles)]} ({2005 + 3 * (i % 5)})/extras/still-{i:05d}.jpg"
    # A few files with other modes, so that restoring the mode shows.
    mode = 0o600 if i % 97 == 0 else 0o640 if i % 89 == 0 else 0o644
    files.append((path, size, mode))

load = [0, 0, 0, 0]
placed = []
for path, size, mode in sorted(files, key=lambda f: -f[1]):
    d = min(range(4), key=lambda k: (load[k], k))
    load[d] += size
    placed.append((d, path, size, mode))

epoch = 1717200000  # 2024-06-01
for d, path, size, mode in placed:
    full = os.path.join(base, f"d{d + 1}", path)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "wb") as f:
        left = size
        while left:
            n = min(left, 4 * MiB)
            f.write(rng.randbytes(n))
            left -= n
    os.chmod(full, mode)
    ns = (epoch - rng.randrange(0, 5 * 365 * 86400)) * 10**9 + rng.randrange(1, 10**9)
    os.utime(full, ns=(ns, ns))
PY

# %.0f, not %d: some awks cap %d at 2^31 - 1.
bytes_of() { find "$@" -type f -printf '%s\n' | awk '{ s += $1 } END { printf "%.0f\n", s }'; }
files_of() { find "$@" -type f | wc -l; }
total_bytes=$(bytes_of "$base"/d1 "$base"/d2 "$base"/d3 "$base"/d4)
total_files=$(files_of "$base"/d1 "$base"/d2 "$base"/d3 "$base"/d4)
d2_bytes=$(bytes_of "$base/d2")
d2_files=$(files_of "$base/d2")

# The reference listing of d2, to check each rebuild against: content, then
# size, mtime (ns) and mode.
(cd "$base/d2" && find . -type f -print0 | xargs -0 xxh128sum -q | sort) >"$results/d2.xxh128"
(cd "$base/d2" && find . -type f -printf '%p\t%s\t%T@\t%m\n' | sort) >"$results/d2.stat"

# ---------------------------------------------------------------------------
# Configurations: both tools over the same disks. The data disks hold media
# only; each tool keeps its parity files, content/manifest and copies on
# p1, p2 and c.

atlas_cfg=$base/c/atlas-scrub.toml
{
  atlas_config "$base" "$base/c/atlas/manifest" 256KiB 4 2 \
    "manifest_copies = [\"$base/p1/.atlas-scrub\", \"$base/p2/.atlas-scrub\"]"
  # The rebuild step deletes a whole disk; nothing may trip on that.
  printf '\n[guards]\nmax_deletes_pct = 100\n'
} >"$atlas_cfg"

snap_cfg=$base/c/snapraid.conf
cat >"$snap_cfg" <<EOF
# blocksize 256 and hashsize 16 are the defaults; autosave is off by default
parity $base/p1/snapraid.parity
2-parity $base/p2/snapraid.2-parity
content $base/c/snapraid.content
content $base/p1/snapraid.content
content $base/p2/snapraid.content
data d1 $base/d1/
data d2 $base/d2/
data d3 $base/d3/
data d4 $base/d4/
exclude *.unrecoverable
exclude /lost+found/
exclude /.atlas-scrub/
EOF

atlas_state=("$base/c/atlas" "$base/p1/.atlas-scrub" "$base/p2/.atlas-scrub" "$base/p1/atlas.parity" "$base/p2/atlas.parity")
snap_state=("$base/p1/snapraid.parity" "$base/p2/snapraid.2-parity" "$base/c/snapraid.content"
            "$base/p1/snapraid.content" "$base/p2/snapraid.content")
atlas_cmd=("$atlas" -c "$atlas_cfg" --json --no-progress)
snap_cmd=(snapraid -c "$snap_cfg" "${snapraid_opts[@]}")

# ---------------------------------------------------------------------------
# Running and timing.

failures=()
fail() { failures+=("$*"); say "  FAIL: $*"; }

# timed STEP TOOL RUN CMD...: runs CMD under GNU time, appends a row to
# runs.tsv and keeps its output in logs/STEP.TOOL.RUN.{out,err}.
timed() {
  local step=$1 tool=$2 run=$3 rc=0 wall rss
  shift 3
  local log=$results/logs/$step.$tool.$run
  /usr/bin/time -f '%e %M' -o "$log.time" "$@" >"$log.out" 2>"$log.err" || rc=$?
  read -r wall rss < <(tail -n 1 "$log.time")
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$step" "$tool" "$run" "$rc" "$wall" "$rss" >>"$results/runs.tsv"
  printf '  %-10s %-18s run %s: %6.2f s %8d KiB  rc %s\n' "$step" "$tool" "$run" "$wall" "$rss" "$rc"
  ((rc == 0)) || fail "$step $tool run $run exited $rc (see logs/$step.$tool.$run.err)"
  return 0
}

# json_get FILE KEY: prints the value of a key (a.b for nested keys) of a
# JSON document, as JSON except for strings.
json_get() {
  python3 - "$@" <<'PY'
import json, sys
try:
    v = json.load(open(sys.argv[1]))
    for k in sys.argv[2].split("."):
        v = v[k]
    print(v if isinstance(v, str) else json.dumps(v))
except Exception as e:  # a failed run may print no document
    print(f"<{type(e).__name__}>")
PY
}

# expect_json STEP TOOL RUN KEY VALUE: a JSON field of atlas-scrub's output.
expect_json() {
  local got
  got=$(json_get "$results/logs/$1.$2.$3.out" "$4")
  [[ $got == "$5" ]] || fail "$1 $2 run $3: $4 is $got, expected $5"
}

# expect_clean STEP RUN: atlas-scrub's scrub or check found nothing wrong.
# Says how many findings came with any bad positions, and the exit status.
expect_clean() {
  local out=$results/logs/$1.atlas.$2.out bad
  bad=$(json_get "$out" positions_bad)
  [[ $bad == 0 ]] || fail "$1 atlas run $2: positions_bad is $bad on clean data, with $(json_get "$out" findings |
    python3 -c 'import json, sys; print(len(json.load(sys.stdin)))') findings and exit_code $(json_get "$out" exit_code)"
}

# snapshot PATH...: names, sizes, mtimes and checksums of everything below.
snapshot() {
  { find "$@" -printf '%p %s %T@\n' 2>/dev/null || true; } | sort
  { find "$@" -type f -print0 2>/dev/null || true; } | xargs -0 -r xxh128sum -q | sort
}

empty_d2() { find "$base/d2" -mindepth 1 -delete; }

# verify_d2 LABEL: compares d2 with the reference listing; prints one line.
verify_d2() {
  local label=$1 now_xxh now_stat total ok size_ok mtime_ok mode_ok extra
  now_xxh=$results/logs/$label.xxh128
  now_stat=$results/logs/$label.stat
  (cd "$base/d2" && find . -type f -print0 | xargs -0 -r xxh128sum -q | sort) >"$now_xxh"
  (cd "$base/d2" && find . -type f -printf '%p\t%s\t%T@\t%m\n' | sort) >"$now_stat"
  total=$(wc -l <"$results/d2.xxh128")
  ok=$(comm -12 "$results/d2.xxh128" "$now_xxh" | wc -l)
  extra=$(comm -13 <(cut -f1 "$results/d2.stat") <(cut -f1 "$now_stat") | wc -l)
  size_ok=$(comm -12 <(cut -f1,2 "$results/d2.stat") <(cut -f1,2 "$now_stat") | wc -l)
  mtime_ok=$(comm -12 <(cut -f1,3 "$results/d2.stat") <(cut -f1,3 "$now_stat") | wc -l)
  mode_ok=$(comm -12 <(cut -f1,4 "$results/d2.stat") <(cut -f1,4 "$now_stat") | wc -l)
  local line="verify $label: verified $ok/$total files (content); size $size_ok/$total, mtime $mtime_ok/$total, mode $mode_ok/$total; $extra extra files"
  if ((mode_ok < total)); then
    line+="; modes now: $(comm -13 <(cut -f1,4 "$results/d2.stat") <(cut -f1,4 "$now_stat") | cut -f2 | sort | uniq -c | awk '{ printf "%s%s x%s", sep, $2, $1; sep = ", " }')"
  fi
  say "  $line"
  printf '%s\n' "$line" >>"$results/verify.txt"
  ((ok == total && size_ok == total && extra == 0)) || fail "$label: $((total - ok)) of $total files not restored byte-identical, or extra files left"
  ((mtime_ok == total)) || fail "$label: $((total - mtime_ok)) of $total files restored with another mtime"
}

# Puts d2's modes and mtimes back as generated (snapraid restores files with
# mode 0600), so that every run starts from the same array.
reset_d2_attrs() {
  python3 - "$base/d2" "$results/d2.stat" <<'PY'
import os, sys
root, listing = sys.argv[1], sys.argv[2]
for line in open(listing):
    path, _size, mtime, mode = line.rstrip("\n").split("\t")
    full = os.path.join(root, path)
    if not os.path.exists(full):
        continue
    os.chmod(full, int(mode, 8))
    sec, _, frac = mtime.partition(".")
    ns = int(sec) * 10**9 + int((frac + "000000000")[:9])
    os.utime(full, ns=(ns, ns))
PY
}

: >"$results/verify.txt"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
say "data: $total_files files, $total_bytes B ($(awk -v b="$total_bytes" 'BEGIN { printf "%.2f GiB", b / 2^30 }')); d2: $d2_files files, $d2_bytes B"
say "storage: $storage"

# 1. Full sync, from no state at all, every run.
say "== 1. full sync"
for r in $(seq "$RUNS"); do
  rm -rf -- "${atlas_state[@]}"
  timed sync_full atlas "$r" "${atlas_cmd[@]}" sync
  expect_json sync_full atlas "$r" bytes_hashed "$total_bytes"
  expect_json sync_full atlas "$r" positions_left 0
  rm -f -- "${snap_state[@]}"
  timed sync_full snapraid "$r" "${snap_cmd[@]}" sync
  rm -f -- "${snap_state[@]}"
  timed sync_full snapraid-skipself "$r" "${snap_cmd[@]}" --test-skip-self sync
done

# 2. No-op sync: nothing changed since the full sync.
say "== 2. no-op sync"
noop_atlas=yes
noop_snap=yes
for r in $(seq "$RUNS"); do
  snapshot "${atlas_state[@]}" >"$results/logs/sync_noop.atlas.$r.before"
  timed sync_noop atlas "$r" "${atlas_cmd[@]}" sync
  snapshot "${atlas_state[@]}" >"$results/logs/sync_noop.atlas.$r.after"
  expect_json sync_noop atlas "$r" nothing_to_do true
  if ! cmp -s "$results/logs/sync_noop.atlas.$r.before" "$results/logs/sync_noop.atlas.$r.after"; then
    noop_atlas=no
    fail "sync_noop atlas run $r changed its state: diff logs/sync_noop.atlas.$r.before logs/sync_noop.atlas.$r.after"
  fi
  snapshot "${snap_state[@]}" >"$results/logs/sync_noop.snapraid.$r.before"
  timed sync_noop snapraid "$r" "${snap_cmd[@]}" sync
  snapshot "${snap_state[@]}" >"$results/logs/sync_noop.snapraid.$r.after"
  cmp -s "$results/logs/sync_noop.snapraid.$r.before" "$results/logs/sync_noop.snapraid.$r.after" || noop_snap=no
  timed sync_noop snapraid-skipself "$r" "${snap_cmd[@]}" --test-skip-self sync
done
say "  no-op sync writes nothing: atlas-scrub $noop_atlas, snapraid $noop_snap"

# 3. Full scrub.
say "== 3. full scrub"
for r in $(seq "$RUNS"); do
  timed scrub_full atlas "$r" "${atlas_cmd[@]}" scrub --plan full
  expect_clean scrub_full "$r"
  expect_json scrub_full atlas "$r" positions_skipped 0
  timed scrub_full snapraid "$r" "${snap_cmd[@]}" -p 100 -o 0 scrub
done

# 4. Check.
say "== 4. check"
for r in $(seq "$RUNS"); do
  timed check atlas "$r" "${atlas_cmd[@]}" check
  expect_clean check "$r"
  timed check snapraid "$r" "${snap_cmd[@]}" check
done

# 5. Rebuild of an emptied disk: d2 holds media only, so emptying it loses
# exactly the files both tools protect there. snapraid goes first: a file
# it rebuilds is a new inode, which atlas-scrub rightly sees as modified
# (status would then report 509 modified files); the files atlas-scrub
# rebuilds last are the ones its manifest records.
say "== 5. rebuild of an emptied d2 ($d2_files files, $d2_bytes B)"
for r in $(seq "$RUNS"); do
  (cd "$base/d2" && xxh128sum --quiet -c "$results/d2.xxh128") >/dev/null ||
    fail "fix_d2 run $r: d2 differs from the generated data before the run"
  empty_d2
  timed fix_d2 snapraid "$r" "${snap_cmd[@]}" -d d2 fix
  verify_d2 "fix_d2.snapraid.$r"
  reset_d2_attrs
  empty_d2
  timed fix_d2 atlas "$r" "${atlas_cmd[@]}" fix --disk d2
  expect_json fix_d2 atlas "$r" files_repaired "$d2_files"
  expect_json fix_d2 atlas "$r" files_unrecoverable 0
  verify_d2 "fix_d2.atlas.$r"
done

# 6. Status.
say "== 6. status"
for r in $(seq "$RUNS"); do
  timed status atlas "$r" "${atlas_cmd[@]}" status
  timed status snapraid "$r" "${snap_cmd[@]}" status
done
expect_json status atlas "$RUNS" health ok
expect_json status atlas "$RUNS" array.files "$total_files"

load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# Logs name the array root $BASE, not this run's temporary directory.
find "$results/logs" -type f -exec sed -i "s|$base|\$BASE|g" {} +

# ---------------------------------------------------------------------------
# Summary.

cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
{
  say "atlas-scrub vs snapraid: RUNS=$RUNS SCALE=$SCALE SEED=$SEED"
  say "machine:  $(nproc) CPUs, ${cpu:-unknown CPU}, $(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 2^20 }' /proc/meminfo) RAM, kernel $(uname -r); load average $load_before before, $load_after after"
  say "versions: $("$atlas" --version 2>&1 | head -n 1); snapraid $(dpkg-query -W -f='${Version}' snapraid 2>/dev/null || echo unknown)"
  say "storage:  $storage"
  say "data:     $total_files files, $total_bytes B ($(awk -v b="$total_bytes" 'BEGIN { printf "%.2f GiB", b / 2^30 }')) on d1..d4; d2 (rebuilt): $d2_files files, $d2_bytes B"
  say ""
  python3 - "$results/runs.tsv" "$total_bytes" "$d2_bytes" <<'PY'
import csv, statistics, sys

rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
total, d2 = int(sys.argv[2]), int(sys.argv[3])
med = {}
for step in dict.fromkeys(r["step"] for r in rows):
    for tool in dict.fromkeys(r["tool"] for r in rows if r["step"] == step):
        sel = [r for r in rows if r["step"] == step and r["tool"] == tool]
        med[step, tool] = (statistics.median(float(r["wall_s"]) for r in sel),
                           statistics.median(int(r["maxrss_kib"]) for r in sel), len(sel))

lines = [
    ("sync_full", "snapraid", "full sync", total),
    ("sync_full", "snapraid-skipself", "full sync (snapraid --test-skip-self)", total),
    ("sync_noop", "snapraid", "no-op sync", None),
    ("sync_noop", "snapraid-skipself", "no-op sync (snapraid --test-skip-self)", None),
    ("scrub_full", "snapraid", "full scrub", total),
    ("check", "snapraid", "check", total),
    ("fix_d2", "snapraid", "rebuild emptied d2", d2),
    ("status", "snapraid", "status", None),
]
def mbs(nbytes, wall):
    return f"{nbytes / 1e6 / wall:.0f}" if nbytes and wall > 0 else "-"
def ratio(a, b):
    return f"{a / b:.2f}" if b > 0 else "inf"
hdr = ("step", "atlas s", "snapraid s", "speed x", "atlas MiB", "snapraid MiB", "RSS x", "atlas MB/s", "snapraid MB/s")
out = []
for step, tool, name, nbytes in lines:
    if (step, "atlas") not in med or (step, tool) not in med:
        continue
    aw, ar, n = med[step, "atlas"]
    sw, sr, _ = med[step, tool]
    out.append((name, f"{aw:.2f}", f"{sw:.2f}", ratio(sw, aw), f"{ar / 1024:.1f}", f"{sr / 1024:.1f}",
                ratio(sr, ar), mbs(nbytes, aw), mbs(nbytes, sw)))
w = [max(len(r[i]) for r in [hdr] + out) for i in range(len(hdr))]
fmt = lambda r: "  ".join(c.ljust(w[0]) if i == 0 else c.rjust(w[i]) for i, c in enumerate(r))
print(fmt(hdr))
print("  ".join("-" * x for x in w))
for r in out:
    print(fmt(r))
n = max(v[2] for v in med.values())
print()
print(f"Medians of {n} runs. s = wall seconds; MiB = max RSS. speed x = snapraid s / atlas s and")
print("RSS x = snapraid MiB / atlas MiB: above 1 means atlas-scrub is faster or smaller.")
print("MB/s = 10^6 B of data (all four data disks; d2 alone for the rebuild) / wall s.")
PY
  say ""
  say "atlas-scrub's own figures (--json; medians): seconds it reports, and bytes it read or hashed"
  python3 - "$results/logs" <<'PY'
import glob, json, os, statistics, sys

for step, key in [("sync_full", "bytes_hashed"), ("sync_noop", "bytes_hashed"), ("scrub_full", "bytes_read"),
                  ("check", "bytes_read"), ("fix_d2", "bytes_read")]:
    docs = []
    for f in sorted(glob.glob(os.path.join(sys.argv[1], f"{step}.atlas.*.out"))):
        try:
            docs.append(json.load(open(f)))
        except ValueError:
            pass
    if not docs:
        continue
    sec = statistics.median(d.get("seconds", 0) for d in docs)
    nbytes = statistics.median(d.get(key, 0) for d in docs)
    print(f"  {step:<10}  {sec:6.2f} s  {key} {nbytes:,.0f} B")
PY
} | tee "$results/summary.txt"

{
  say ""
  say "no-op sync writes nothing: atlas-scrub $noop_atlas, snapraid $noop_snap"
  say "rebuild verification (d2, $d2_files files):"
  sed 's/^/  /' "$results/verify.txt"
  say ""
  if ((${#failures[@]})); then
    say "FAILED (${#failures[@]}):"
    printf '  %s\n' "${failures[@]}"
  else
    say "all verifications passed; every timed command exited 0"
  fi
  say "results: $results"
} | tee -a "$results/summary.txt"

((${#failures[@]} == 0)) || exit 1

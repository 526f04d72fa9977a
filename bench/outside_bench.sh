#!/usr/bin/env bash
# Scan rate of `atlas-scrub outside` against a plain `xxh128sum` of the same
# tree, in one run.
#
# Usage: bench/outside_bench.sh [RESULTS_DIR]
#
# Environment:
#   SCALE=1.0       data size factor; 1.0 is 1,240 files / about 1.5 GiB
#   SEED=20261125   seed of the data generator
#   ATLAS_BIN       the binary to test (default build/release/atlas-scrub,
#                   built with the release preset when it is missing)
#   JOBS=2          parallel xxh128sum processes (xargs -P)
#
# What it does: generates a compute-host tree in RAM (/dev/shm) of media-like
# files (a few large, some medium, many small), copies every other file onto
# a two-disk array (so half the tree is on Atlas), syncs the array, and then
# times, on the same warm page cache:
#   - `atlas-scrub outside --all --index IDX TREE` (hashes only the files
#     whose size is on Atlas, in parallel, and decides the rest by size), and
#   - `find TREE -type f -print0 | xargs -0 -P$JOBS xxh128sum` (reads every
#     byte: what a hand-made "is it on Atlas" script would have to do).
# It checks that outside found exactly the expected duplicates and only
# copies, and prints both rates over the tree's bytes. Everything it created
# is removed on exit.
set -euo pipefail
export LC_ALL=C

die() { printf 'outside_bench: %s\n' "$*" >&2; exit 2; }

SCALE=${SCALE:-1.0}
SEED=${SEED:-20261125}
JOBS=${JOBS:-2}
[[ $SCALE =~ ^[0-9]*\.?[0-9]+$ ]] || die "SCALE must be a positive number, got '$SCALE'"
[[ $SEED =~ ^[0-9]+$ ]] || die "SEED must be a non-negative integer, got '$SEED'"
[[ $JOBS =~ ^[1-9][0-9]*$ ]] || die "JOBS must be a positive integer, got '$JOBS'"

. "$(dirname "$0")/lib.sh"
results=$(abspath "${1:-$repo/build/bench/outside-$(date +%Y%m%d-%H%M%S)}")
cd "$repo"

for tool in xxh128sum python3 /usr/bin/time; do
  command -v "$tool" >/dev/null || die "$tool is missing (scripts/install-deps.sh installs it)"
done
atlas=$(atlas_binary build)

shm=/dev/shm
[[ -d $shm && -w $shm ]] || shm=${TMPDIR:-/tmp}
base=$(mktemp -d "$shm/atlas-outside-bench.XXXXXX")
cleanup() { rm -rf "$base"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$results" "$base"/{d1,d2,p1,host}

# The tree: 5 files of 150-300 MiB, 35 of 4-24 MiB, 1200 of 16-400 KiB (times
# SCALE), random bytes; every other file (in name order) is also on Atlas,
# alternately on d1 and d2, under another name.
python3 - "$base" "$SCALE" "$SEED" <<'EOF'
import os, random, shutil, sys
base, scale, seed = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
rng = random.Random(seed)
specs = []
for i in range(5): specs.append(("Movies/movie %02d.mkv" % i, rng.randint(150 << 20, 300 << 20)))
for i in range(35): specs.append(("TV/episode %02d.mp4" % i, rng.randint(4 << 20, 24 << 20)))
for i in range(int(1200 * scale)): specs.append(("Photos/img_%05d.jpg" % i, rng.randint(16 << 10, 400 << 10)))
specs = [(n, max(1, int(s * scale)) if not n.startswith("Photos") else s) for n, s in specs]
chunk = os.urandom(1 << 20)
total = on_atlas = 0
for k, (name, size) in enumerate(specs):
    path = os.path.join(base, "host", name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    salt = rng.getrandbits(64).to_bytes(8, "little")
    with open(path, "wb") as f:
        left, i = size, 0
        while left > 0:
            piece = (salt + i.to_bytes(8, "little") + chunk)[: min(left, 1 << 20)]
            f.write(piece); left -= len(piece); i += 1
    total += size
    if k % 2 == 0:
        disk = "d1" if (k // 2) % 2 == 0 else "d2"
        dst = os.path.join(base, disk, "atlas copy of " + name)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copyfile(path, dst)
        on_atlas += 1
with open(os.path.join(base, "expect"), "w") as f:
    f.write("%d %d %d\n" % (len(specs), on_atlas, total))
EOF
read -r files dups bytes <"$base/expect"

atlas_config "$base" "$base/manifest" 256KiB 2 1 \
  "manifest_copies = [\"$base/d1/.atlas-scrub\", \"$base/d2/.atlas-scrub\"]" >"$base/atlas.toml"
"$atlas" -c "$base/atlas.toml" -q sync || die "sync failed"
index=$base/d1/.atlas-scrub/outside.idx
[[ -f $index ]] || die "sync wrote no $index"

# Warm the page cache for both tools alike.
find "$base/host" -type f -exec cat {} + >/dev/null

set +e
/usr/bin/time -f '%e %U %S' -o "$results/outside.time" \
  "$atlas" --json --no-progress outside --all --index "$index" "$base/host" >"$results/outside.json"
rc=$?
set -e
/usr/bin/time -f '%e %U %S' -o "$results/xxh128sum.time" \
  bash -c 'find "$1" -type f -print0 | xargs -0 -P"$2" xxh128sum >"$3"' _ "$base/host" "$JOBS" "$results/xxh128sum.txt"
[[ $rc == 1 ]] || die "outside exited $rc, expected 1 (see $results/outside.json)"

python3 - "$results/outside.json" "$files" "$dups" "$bytes" "$results/outside.time" "$results/xxh128sum.time" "$JOBS" <<'EOF' | tee "$results/summary.txt"
import json, sys
doc = json.load(open(sys.argv[1]))
files, dups, total = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
o_wall, o_user, o_sys = map(float, open(sys.argv[5]).read().split()[-3:])
x_wall, x_user, x_sys = map(float, open(sys.argv[6]).read().split()[-3:])
kinds = [f["kind"] for f in doc["findings"]]
ok = (doc["scanned_files"] == files and doc["scanned_bytes"] == total and
      kinds.count("duplicate_outside") == dups and kinds.count("only_copy_outside") == files - dups)
print("tree: %d files, %.2f GiB, %d of them on Atlas" % (files, total / 2**30, dups))
print("outside --all : %6.2f s wall, %5.2f s CPU  %7.0f MB/s over the tree  (hashed %d files, %.2f GiB)" %
      (o_wall, o_user + o_sys, total / o_wall / 1e6, doc["hashed_files"], doc["hashed_bytes"] / 2**30))
print("xxh128sum -P%s : %6.2f s wall, %5.2f s CPU  %7.0f MB/s over the tree  (hashed every file)" %
      (sys.argv[7], x_wall, x_user + x_sys, total / x_wall / 1e6))
print("ratio: outside is %.2fx the rate of xxh128sum (wall), %.2fx less CPU; findings %s" %
      (x_wall / o_wall, (x_user + x_sys) / max(o_user + o_sys, 1e-9), "as expected" if ok else "WRONG"))
sys.exit(0 if ok else 1)
EOF

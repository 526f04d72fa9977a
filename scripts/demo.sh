#!/usr/bin/env bash
# A short tour of atlas-scrub on a throwaway array: installs what is missing,
# builds the release preset, makes four small "disks" and two parity
# directories under a temporary directory, and runs init, sync, status, a
# round of changes, diff, sync and status again. Then it flips one byte of a
# file behind the file system's back, lets `scrub` find it and `fix` repair
# it, empties a whole data disk and rebuilds it with `fix --disk`, checking
# each time that every byte came back. Everything it creates outside build/
# is removed on exit.
#
# Usage: bash scripts/demo.sh   (as root on Debian 12, or with every package
# of scripts/install-deps.sh already installed)
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh

work=$(mktemp -d -t atlas-scrub-demo.XXXXXX)
trap 'rm -rf "$work"' EXIT

step() { printf '\n==> %s\n' "$*"; }

# Shows a command, then runs it. Any exit status other than 0 ends the demo.
run() {
  printf '$ atlas-scrub %s\n' "$*"
  "$bin" "$@"
}

# expect CODE ARGS...: like run, for a command whose exit status is meant to
# be CODE (1: something needs attention, 3: refused); any other ends the demo.
expect() {
  local want=$1 rc=0
  shift
  printf '$ atlas-scrub %s\n' "$*"
  "$bin" "$@" || rc=$?
  printf '(exit status %d)\n' "$rc"
  if [ "$rc" -ne "$want" ]; then
    echo "demo: expected exit status $want" >&2
    exit 1
  fi
}

# attrs DIR: every file under DIR with its mode and modification time (ns).
attrs() {
  (cd "$1" && find . -type f -printf '%P %m %T@\n' | LC_ALL=C sort)
}

# mkfile DISK PATH BYTES: a file of random bytes (suffixes as head(1): K, M).
mkfile() {
  local f="$work/$1/$2"
  mkdir -p "$(dirname "$f")"
  head -c "$3" /dev/urandom >"$f"
}

step "building the release preset (build/release)"
if ! { cmake --preset release && cmake --build --preset release; } >"$work/build.log" 2>&1; then
  cat "$work/build.log" >&2
  echo "demo: the build failed; its output is above" >&2
  exit 1
fi
bin=$PWD/build/release/atlas-scrub

step "a throwaway array in $work: data disks d1..d4, parity p1 and p2"
mkdir -p "$work"/{d1,d2,d3,d4,p1,p2}
mkfile d1 "Movies/Big Buck Bunny (2008).mkv" 6M
mkfile d1 "Movies/Sintel (2010).mkv" 4100000
mkfile d1 "Movies/Sintel (2010).en.srt" 41K
mkfile d2 "TV/Some Show/Season 01/Episode 01.mkv" 3M
mkfile d2 "TV/Some Show/Season 01/Episode 02.mkv" 3000001
mkfile d2 "TV/Some Show/Season 01/Episode 03.mkv" 2900K
mkfile d3 "Music/An Album/01 - Intro.flac" 900K
mkfile d3 "Music/An Album/02 - Theme.flac" 1234567
mkfile d3 "Music/An Album/03 - Outro.flac" 700K
mkfile d3 "Music/An Album/cover.jpg" 120K
mkfile d4 "Photos/2024/IMG_0001.jpg" 2M
mkfile d4 "Photos/2024/IMG_0002.jpg" 1999999
mkfile d4 "Home Videos/Birthday party.mp4" 5M
mkfile d4 "Recordings/evening news.ts" 3M
(cd "$work" && du -sh d1 d2 d3 d4)

step "init: a starter config for these disks"
run -c "$work/atlas-scrub.toml" init \
  --data "$work/d1" "$work/d2" "$work/d3" "$work/d4" \
  --parity "$work/p1" "$work/p2" \
  --manifest "$work/manifest"
# From here on the config comes from the environment instead of -c.
export ATLAS_SCRUB_CONFIG="$work/atlas-scrub.toml"

step "disks: what holds each disk (here one filesystem for all: noted as shared_filesystem)"
run disks

step "sync: hash every block, compute two parity levels, record the manifest"
run sync

step "status: the one-glance view"
run status

step "changes: add a file, modify one, delete one, rename one"
mkfile d2 "TV/Some Show/Season 01/Episode 04.mkv" 2500K
mkfile d3 "Music/An Album/02 - Theme.flac" 1300K
rm "$work/d1/Movies/Sintel (2010).en.srt"
mv "$work/d4/Photos/2024/IMG_0002.jpg" "$work/d4/Photos/2024/Beach.jpg"

step "diff: what changed since the last sync (reads metadata, writes nothing)"
run diff

step "sync: only the changed positions are read and their parity recomputed"
run sync

step "status: protected again"
run status

step "silent corruption: flip one byte in the middle of a file, keeping its size and mtime"
victim="$work/d1/Movies/Big Buck Bunny (2008).mkv"
cp -p "$victim" "$work/victim.orig"
# What a bad sector or a flaky cable leaves behind: the file system sees no
# change at all (the mtime is put back to the nanosecond).
python3 -c '
import os, sys
p = sys.argv[1]
st = os.stat(p)
off = st.st_size // 2 + 12345
with open(p, "r+b") as f:
    f.seek(off)
    b = f.read(1)
    f.seek(off)
    f.write(bytes([b[0] ^ 0xFF]))
os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns))
print("flipped the byte at offset", off)
' "$victim"

step "diff: metadata cannot see it"
run diff

step "scrub --plan full: read every block and check it against its checksum and the parity"
expect 1 scrub --plan full

step "fix --dry-run: what fix would do, writing nothing"
run fix --dry-run

step "fix: rebuild the bad block from parity, verify the file, put it in place"
run fix
cmp "$victim" "$work/victim.orig"
[ "$(stat -c '%a %.9Y' "$victim")" = "$(stat -c '%a %.9Y' "$work/victim.orig")" ]
echo "restored byte for byte, with its mode and mtime"

step "scrub --plan full: clean again"
run scrub --plan full

# A disk that holds no manifest copy, so that only parity can bring it back.
lost=""
for d in d4 d3 d2 d1; do
  if ! grep -q "^manifest_copies.*\"$work/$d/" "$ATLAS_SCRUB_CONFIG"; then
    lost=$d
    break
  fi
done
[ -n "$lost" ]

step "a dead disk: $lost loses every file (as if replaced by a new, empty disk)"
cp -a "$work/$lost" "$work/$lost.saved"
attrs "$work/$lost" >"$work/$lost.attrs"
find "$work/$lost" -mindepth 1 -delete
echo "$lost now holds $(find "$work/$lost" -mindepth 1 | wc -l) entries"

step "sync refuses: a disk that held files and holds none is missing, not a mass deletion"
expect 3 sync

step "fix --disk $lost: rebuild every file of $lost from parity and the other disks"
run fix --disk "$lost"
diff -r "$work/$lost" "$work/$lost.saved"
attrs "$work/$lost" | diff - "$work/$lost.attrs"
echo "all $(wc -l <"$work/$lost.attrs") files of $lost are back, byte for byte, with their modes and mtimes"

step "sync: nothing to do, the rebuilt disk is exactly as recorded"
run sync

step "status: healthy"
run status

step "outside: a compute host's media tree, checked against the index sync wrote (reads only)"
host=$work/compute-host
mkdir -p "$host/library"
cp "$work/d1/Movies/Sintel (2010).mkv" "$host/library/sintel-transcode-source.mkv"
head -c 2000000 /dev/urandom >"$host/library/only-on-this-host.mkv"
idx=$(grep -o '"[^"]*\.atlas-scrub"' "$ATLAS_SCRUB_CONFIG" | head -n1 | tr -d '"')/outside.idx
expect 1 outside --index "$idx" "$host"

step "smart: a saved smartctl --json dump of a drive with reallocated sectors"
expect 1 smart --input "$PWD/tests/data/smart/ST3500418AS_12.json"

step "metrics: the Prometheus exposition (first lines)"
"$bin" metrics >"$work/atlas_scrub.prom"
head -n 12 "$work/atlas_scrub.prom"

step "done; the throwaway array is removed on exit"

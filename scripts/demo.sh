#!/usr/bin/env bash
# A short tour of atlas-scrub on a throwaway array: installs what is missing,
# builds the release preset, makes four small "disks" and two parity
# directories under a temporary directory, and runs init, sync, status, a
# round of changes, diff, sync and status again. Everything it creates
# outside build/ is removed on exit.
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

# corrupt -> scrub -> fix: coming with the repair commands. Once scrub and fix
# exist, this is where the demo flips a byte in a data file, lets `scrub`
# report silent_corruption, and lets `fix` restore the file from parity.

step "done; the throwaway array is removed on exit"

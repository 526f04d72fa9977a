# Shared by the bench scripts (sourced, not run): where things are, the
# binary under test, and the array config they all measure.
#
# Before sourcing, the script defines die() (its own name in the message).
# Sourcing sets `invoked_from` (the caller's directory) and `repo` (the
# repository root), and defines:
#   abspath PATH              PATH made absolute against invoked_from
#   atlas_binary [build]      prints the binary under test: ATLAS_BIN, or
#                             build/release/atlas-scrub; with `build`, builds
#                             the release preset when that is missing
#   atlas_config BASE MANIFEST BLOCK_SIZE DATA PARITY [TOP_LEVEL_LINES]
#                             prints a config: data disks d1..dDATA at
#                             BASE/dN, parity levels at BASE/pK/atlas.parity,
#                             TOP_LEVEL_LINES (TOML keys) before the tables;
#                             append further tables ([guards] ...) after it

invoked_from=$PWD
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

abspath() { case $1 in /*) printf '%s\n' "$1" ;; *) printf '%s\n' "$invoked_from/$1" ;; esac; }

atlas_binary() {
  local bin
  if [[ -n ${ATLAS_BIN:-} ]]; then
    bin=$(abspath "$ATLAS_BIN")
    [[ -x $bin ]] || die "ATLAS_BIN=$ATLAS_BIN is not an executable file"
    printf '%s\n' "$bin"
    return
  fi
  bin=$repo/build/release/atlas-scrub
  if [[ ! -x $bin ]]; then
    [[ ${1:-} == build ]] || die "$bin is missing; build the release preset first (cmake --preset release && cmake --build --preset release)"
    printf 'building the release preset (build/release) ...\n' >&2
    { (cd "$repo" && cmake --preset release >/dev/null && cmake --build --preset release -j"$(nproc)" >/dev/null); } ||
      die "the release build failed"
  fi
  printf '%s\n' "$bin"
}

atlas_config() {
  local base=$1 manifest=$2 block=$3 data=$4 parity=$5 top=${6:-} i
  printf 'manifest = "%s"\nblock_size = "%s"\n' "$manifest" "$block"
  [[ -z $top ]] || printf '%s\n' "$top"
  for ((i = 1; i <= data; i++)); do printf '\n[[data]]\nname = "d%d"\npath = "%s/d%d"\n' "$i" "$base" "$i"; done
  for ((i = 1; i <= parity; i++)); do
    printf '\n[[parity]]\nname = "parity%d"\npath = "%s/p%d/atlas.parity"\n' "$i" "$base" "$i"
  done
}

#!/usr/bin/env bash
# Installs every Debian 12 package atlas-scrub needs to build, test and
# benchmark, and that scripts/demo.sh uses (python3). Idempotent: prints
# nothing and changes nothing when all is present.
set -euo pipefail

packages=(
  build-essential cmake pkg-config git
  libisal-dev libxxhash-dev libudev-dev libblkid-dev libatasmart-dev
  librocksdb-dev libbenchmark-dev catch2 libcurl4-openssl-dev libsodium-dev
  libtomlplusplus-dev libcli11-dev nlohmann-json3-dev libfmt-dev
  smartmontools groff-base xxhash snapraid time python3 btrfs-progs xfsprogs
  acl attr  # getfacl, setfacl, getfattr, setfattr: the tree tests compare with them
  prometheus  # promtool, to check the metrics exposition in the tests (~96 MB)
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages: ${missing[*]}" >&2
  echo "install-deps: run as root, or: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

#!/usr/bin/env bash
# Installs what is missing, builds Debug + ASan/UBSan with -Werror (preset `ci`)
# and runs every test. Usage: bash scripts/test.sh [ctest args...]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake --preset ci >/dev/null
cmake --build --preset ci
ctest --preset ci "$@"

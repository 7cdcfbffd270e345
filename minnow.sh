#!/usr/bin/env bash
# One entry point for a fresh Debian 12 machine (run as root):
#   ./minnow.sh serve   install packages, build, start the main job
#   ./minnow.sh test    install packages, build, run the whole test suite
#   ./minnow.sh build   install packages and build only
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$(pwd)
BUILD=${MINNOW_BUILD_DIR:-$ROOT/build}
JOBS=${MINNOW_JOBS:-2}

install_deps() {
  local missing=()
  while read -r pkg; do
    [[ -z "$pkg" || "$pkg" == \#* ]] && continue
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done < scripts/deps.txt
  if ((${#missing[@]})); then
    echo "minnow: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

build() {
  install_deps
  cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
  cmake --build "$BUILD" -j"$JOBS"
}

cmd=${1:-serve}
shift || true
case "$cmd" in
  build) build ;;
  test)
    build
    cd "$BUILD" && ctest -j"$JOBS" --output-on-failure "$@"
    ;;
  serve)
    build
    # Until the server lands, the main job writes and validates the demo model.
    "$BUILD/minnow" demo --out "$BUILD/minnow-demo.gguf"
    "$BUILD/minnow" inspect "$BUILD/minnow-demo.gguf" "$@"
    ;;
  *) echo "usage: ./minnow.sh [serve|test|build]" >&2; exit 1 ;;
esac

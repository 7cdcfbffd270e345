#!/usr/bin/env bash
# One entry point for a fresh Debian 12 machine (run as root):
#   ./minnow.sh serve [ARGS]   install packages, build, start `minnow serve ARGS`
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
  # Node runs the official OpenAI client in the end-to-end test; keep any
  # node the machine already has (it may not come from Debian).
  command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
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
    # No -m: the built-in demo model (random weights) on 127.0.0.1:8080.
    exec "$BUILD/minnow" serve "$@"
    ;;
  *) echo "usage: ./minnow.sh [serve|test|build]" >&2; exit 1 ;;
esac

#!/usr/bin/env bash
# minnow against llama.cpp on this machine, same GGUF files, runs alternated.
#
#   bench/vs_llamacpp.sh [--isa native|avx2] [--rounds N] [--quants "Q4_0 Q4_K_M"] [--shape qwen2.5-0.5b]
#
# Only the npm registry and Debian are reachable here, so llama.cpp comes
# from the npm package node-llama-cpp, which carries the llama.cpp source it
# was built from as a git bundle (llama/gitRelease.bundle). That source is
# built into llama-bench under the work folder (default
# /tmp/minnow-vs-llamacpp); nothing of it enters this tree. --isa native
# builds it with -march=native (AVX-512 where the CPU has it), --isa avx2
# for AVX2+FMA only (minnow then runs with MINNOW_ISA=avx2).
#
# Shared machines move both engines' speed by 10-40% within minutes, and
# some hosts switch between two bandwidth levels as their vCPUs move: each
# row is one llama.cpp run and one minnow run back to back, with the read
# bandwidth probed before and after, so compare within a row.
set -euo pipefail
cd "$(dirname "$0")/.."

isa=native rounds=2 quants="Q4_0 Q4_K_M Q8_0 Q6_K" shape=qwen2.5-0.5b
work=${MINNOW_VS_WORK:-/tmp/minnow-vs-llamacpp}
nlc_version=3.22.1  # node-llama-cpp release whose bundled llama.cpp is built
while [[ $# -gt 0 ]]; do
  case "$1" in
    --isa) isa=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --quants) quants=$2; shift 2 ;;
    --shape) shape=$2; shift 2 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
done
case "$isa" in
  native) llama_flags=(-DGGML_NATIVE=ON); minnow_env=() ;;
  avx2) llama_flags=(-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON
                     -DGGML_AVX512=OFF); minnow_env=(MINNOW_ISA=avx2) ;;
  *) echo "--isa must be native or avx2" >&2; exit 2 ;;
esac

minnow=${MINNOW_BUILD_DIR:-build}/minnow
[[ -x "$minnow" ]] || { echo "build minnow first (./minnow.sh test or cmake --build build)" >&2; exit 1; }
mkdir -p "$work"

src="$work/llama.cpp"
if [[ ! -d "$src" ]]; then
  echo "== fetching node-llama-cpp@$nlc_version from npm for its llama.cpp source"
  (cd "$work" && npm pack --silent "node-llama-cpp@$nlc_version" >/dev/null && tar xzf "node-llama-cpp-$nlc_version.tgz")
  git -c advice.detachedHead=false clone -q "$work/package/llama/gitRelease.bundle" "$src"
fi
bench_bin="$work/build-$isa/bin/llama-bench"
if [[ ! -x "$bench_bin" ]]; then
  echo "== building llama-bench ($isa)"
  cmake -S "$src" -B "$work/build-$isa" -G Ninja -DCMAKE_BUILD_TYPE=Release -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF \
    -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_SERVER=OFF "${llama_flags[@]}" >/dev/null
  cmake --build "$work/build-$isa" -j"${MINNOW_JOBS:-2}" --target llama-bench >/dev/null
fi

for q in $quants; do
  model="$work/$shape-$q.gguf"
  [[ -f "$model" ]] || "$minnow" demo --synthetic "$shape" --quant "$q" --out "$model" >/dev/null
done

probe() { env "${minnow_env[@]}" "$minnow" bench --membw -t 2 | sed -n 's/.*threads: \([0-9.]*\) GB.*/\1/p'; }
# The t/s column of each pp/tg row, as "pp512 123.4 tg128 56.7".
llama_row() { "$bench_bin" -m "$1" -t 2 -p 512 -n 128 -r 3 2>/dev/null | awk -F'|' '/pp512|tg128/ {
  gsub(/ /, "", $7); split($8, v, "±"); gsub(/ /, "", v[1]); printf "%s %s ", $7, v[1] }'; }
minnow_row() { env "${minnow_env[@]}" "$minnow" bench -m "$1" -t 2 -p 512 -n 128 -r 3 | awk -F'|' '/\| (pp|tg)[0-9]/ {
  gsub(/ /, "", $7); split($8, v, "±"); gsub(/ /, "", v[1]); printf "%s %s ", $7, v[1] }'; }

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { print (b > 0 ? a / b : 0) }'; }

echo
echo "llama.cpp $(cd "$src" && git log -1 --format=%h) ($isa build) vs minnow $(git rev-parse --short HEAD)" \
  "(${minnow_env[*]:-best ISA}), $shape, 2 threads, -p 512 -n 128 -r 3"
printf '| %-6s | %-13s | %-19s | %-19s | %-8s | %-19s | %-19s | %-8s |\n' quant "read GB/s" "llama.cpp pp512" \
  "minnow pp512" ratio "llama.cpp tg128" "minnow tg128" ratio
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
for round in $(seq "$rounds"); do
  for q in $quants; do
    model="$work/$shape-$q.gguf"
    bw0=$(probe)
    read -r _ lpp _ ltg <<<"$(llama_row "$model")"
    read -r _ mpp _ mtg <<<"$(minnow_row "$model")"
    bw1=$(probe)
    printf '| %-6s | %5s / %-5s | %19s | %19s | %7.2fx | %19s | %19s | %7.2fx |\n' "$q" "$bw0" "$bw1" "$lpp" "$mpp" \
      "$(ratio "$mpp" "$lpp")" "$ltg" "$mtg" "$(ratio "$mtg" "$ltg")"
  done
done

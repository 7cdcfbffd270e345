#!/usr/bin/env bash
# End-to-end: the official `openai` npm client against `minnow serve`.
set -euo pipefail
MINNOW=$1
HERE=$(cd "$(dirname "$0")" && pwd)
command -v npm >/dev/null || { echo "npm is required for this test (./minnow.sh test installs it)"; exit 1; }
work=$(mktemp -d)
server_pid=
cleanup() { [[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
(cd "$work" && npm init -y >/dev/null && npm install --no-audit --no-fund --silent openai@4 >/dev/null)
cp "$HERE/openai_client.mjs" "$work/"
"$MINNOW" demo --out "$work/tiny.gguf" >/dev/null
models=(-m "$work/tiny.gguf=tiny")
embedding=
bert="$HERE/../../../shared/conformance/models/bert-tiny-F32.gguf"
if [[ -f $bert ]]; then models+=(-m "$bert=bert"); embedding=bert; fi
"$MINNOW" serve "${models[@]}" --port 0 --api-key sk-test > "$work/serve.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do grep -q "listening on" "$work/serve.log" 2>/dev/null && break; sleep 0.1; done
url=$(grep -o 'http://[0-9.:]*' "$work/serve.log" | head -1)
[[ -n $url ]] || { cat "$work/serve.log"; exit 1; }
(cd "$work" && node openai_client.mjs "$url/v1" sk-test $embedding)
kill -TERM "$server_pid"
wait "$server_pid"   # graceful shutdown exits 0
server_pid=

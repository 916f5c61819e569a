#!/usr/bin/env bash
# Builds the single executable for one target into OUT_DIR, as the release workflow does on each
# runner: deno compile (which downloads Deno's runtime for the target the first time).
# Usage: bash scripts/release_compile.sh TARGET OUT_DIR
#   TARGET: x86_64-unknown-linux-gnu, aarch64-unknown-linux-gnu, x86_64-apple-darwin,
#           aarch64-apple-darwin or x86_64-pc-windows-msvc; or "bundle", the local form (no
#           runtime download): the folder OUT_DIR/mtproto2json/ (scripts/build_bundle.ts), run as
#           `deno run -A --no-config --unstable-lazy-dynamic-imports OUT_DIR/mtproto2json/main.js`.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:?usage: release_compile.sh TARGET OUT_DIR}
out=${2:?usage: release_compile.sh TARGET OUT_DIR}
mkdir -p "$out"
if [ "$target" = bundle ]; then
  exec deno run --allow-read --allow-write --allow-run --allow-env scripts/build_bundle.ts \
    "$out/mtproto2json"
fi
suffix=""
[[ $target == *windows* ]] && suffix=".exe"
deno compile --quiet --target "$target" --allow-read --allow-write --allow-env --allow-net \
  --output "$out/mtproto2json-$target$suffix" main.ts
echo "$out/mtproto2json-$target$suffix"

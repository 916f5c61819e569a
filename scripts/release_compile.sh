#!/usr/bin/env bash
# Builds the single executable for one target into OUT_DIR, as the release workflow does on each
# runner: deno compile (which downloads Deno's runtime for the target the first time).
# Usage: bash scripts/release_compile.sh TARGET OUT_DIR
#   TARGET: x86_64-unknown-linux-gnu, aarch64-unknown-linux-gnu, x86_64-apple-darwin,
#           aarch64-apple-darwin or x86_64-pc-windows-msvc; or "bundle", the local form (no
#           runtime download): OUT_DIR/mtproto2json.js, run with `deno run -A --no-config`.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:?usage: release_compile.sh TARGET OUT_DIR}
out=${2:?usage: release_compile.sh TARGET OUT_DIR}
mkdir -p "$out"
if [ "$target" = bundle ]; then
  deno bundle --quiet --output "$out/mtproto2json.js" main.ts
  echo "$out/mtproto2json.js"
  exit 0
fi
suffix=""
[[ $target == *windows* ]] && suffix=".exe"
deno compile --quiet --target "$target" --allow-read --allow-write --allow-env --allow-net \
  --output "$out/mtproto2json-$target$suffix" main.ts
echo "$out/mtproto2json-$target$suffix"

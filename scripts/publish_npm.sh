#!/usr/bin/env bash
# Builds and packs the npm package (scripts/build_npm.ts) and publishes it; with --dry-run it
# only shows what would be published. The release workflow runs it with NODE_AUTH_TOKEN set.
# Usage: bash scripts/publish_npm.sh [--dry-run] [OUT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
dry=""
if [ "${1:-}" = "--dry-run" ]; then dry="--dry-run"; shift; fi
out=${1:-dist/npm}
tarball=$(deno run -A scripts/build_npm.ts --out "$out" --pack)
npm publish $dry --access public "$tarball"

#!/usr/bin/env bash
# Installs the pinned Deno from the npm registry into .tools/ (git-ignored).
# Usage: bash scripts/setup.sh   then   export PATH="$PWD/.tools/node_modules/.bin:$PATH"
set -euo pipefail
cd "$(dirname "$0")/.."
DENO_VERSION=2.9.6
if [ -x .tools/node_modules/.bin/deno ] &&
  .tools/node_modules/.bin/deno --version | grep -q "deno $DENO_VERSION "; then
  exit 0
fi
mkdir -p .tools
npm install --prefix .tools --no-audit --no-fund --loglevel=error "deno@$DENO_VERSION"
.tools/node_modules/.bin/deno --version

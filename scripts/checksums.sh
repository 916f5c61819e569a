#!/usr/bin/env bash
# Writes DIR/SHA256SUMS for every file in DIR (the release's binaries and npm tarball), in the
# format `sha256sum --check` reads.
# Usage: bash scripts/checksums.sh DIR
set -euo pipefail
dir=${1:?usage: checksums.sh DIR}
cd "$dir"
rm -f SHA256SUMS
files=$(find . -maxdepth 1 -type f ! -name SHA256SUMS -printf '%f\n' | sort)
[ -n "$files" ] || { echo "checksums.sh: no files in $dir" >&2; exit 1; }
# shellcheck disable=SC2086
sha256sum $files > SHA256SUMS
cat SHA256SUMS

#!/usr/bin/env bash
# `deno task check-clients`: runs independent MTProto clients against the emulator, end to end —
# mtcute (without and with PFS), GramJS and Telethon — and ends with one summary line.
#
# Needs, the first time: the npm registry (mtcute, GramJS), Debian's python3-telethon, and
# Telethon's own api.tl (layer 144) in TELETHON_API_TL, e.g. from a checkout of Telethon:
#   git show v1.25.1:telethon_generator/data/api.tl > telethon-144.tl
# GramJS and Telethon have Telegram's addresses built in: where a network namespace can be made
# (root, util-linux unshare), every client runs in one with loopback only.
set -u
cd "$(dirname "$0")/.."

deno cache --no-lock --quiet scripts/check_with_mtcute.js scripts/check_with_gramjs.js \
  scripts/check_with_telethon.js || exit 1

isolated() {
  if unshare -n true 2>/dev/null; then
    unshare -n sh -c 'ip link set lo up && exec "$@"' sh "$@"
  else
    echo "(no network namespace available: running on the host network)"
    "$@"
  fi
}

passed=() failed=()
check() {
  local name=$1
  shift
  echo
  echo "== $name"
  if isolated deno run --no-lock -A "$@"; then passed+=("$name"); else failed+=("$name"); fi
}

check mtcute scripts/check_with_mtcute.js
check GramJS scripts/check_with_gramjs.js
if [ -n "${TELETHON_API_TL:-}" ]; then
  check Telethon scripts/check_with_telethon.js "$TELETHON_API_TL"
else
  echo
  echo "== Telethon: not run (TELETHON_API_TL is not set; see the top of this script)"
  failed+=("Telethon (not run)")
fi

echo
echo "clients passed: ${passed[*]:-none}; failed: ${failed[*]:-none}"
[ ${#failed[@]} -eq 0 ]

#!/usr/bin/env bash
# By hand (issue #19): MTProxy checked against implementations this project did not write.
#
#   bash scripts/check_mtproxy.sh [MTPROTOPROXY_DIR]
#
# 1. scripts/check_mtproxy.ts: `serve --proxy tg://proxy?...` with plain, dd and ee secrets through
#    the emulator's own front and through alexbers/mtprotoproxy (a checkout in MTPROTOPROXY_DIR:
#    git clone https://github.com/alexbers/mtprotoproxy; needs python3 and its `cryptography`
#    module, Debian's python3-cryptography) with its DC table pointed at the emulator.
# 2. scripts/check_mtproxy_mtcute.js: mtcute 0.30's MtProxyTcpTransport against the emulator's
#    front, plain, dd and ee.
#
# Needs, the first time: the npm registry (mtcute). Both run in a network namespace with loopback
# alone (root, util-linux unshare): mtprotoproxy dials Telegram's addresses and looks up its public
# IP at start, so without a namespace it is not run at all.
set -u
cd "$(dirname "$0")/.."
dir=${1:-${MTPROTOPROXY_DIR:-}}

deno cache --no-lock --quiet scripts/check_mtproxy_mtcute.js || exit 1

isolated() {
  if unshare -n true 2>/dev/null; then
    unshare -n sh -c 'ip link set lo up && exec "$@"' sh "$@"
  else
    echo "(no network namespace available: running on the host network, mtprotoproxy skipped)"
    "$@"
  fi
}

status=0
echo "== our client (serve --proxy) through the emulator's front and mtprotoproxy"
isolated deno run -A scripts/check_mtproxy.ts ${dir:+"$dir"} || status=1
echo
echo "== mtcute through the emulator's front"
isolated deno run --no-lock -A scripts/check_mtproxy_mtcute.js || status=1
echo
if [ $status -eq 0 ]; then echo "check_mtproxy: all passed"; else echo "check_mtproxy: FAILED"; fi
exit $status

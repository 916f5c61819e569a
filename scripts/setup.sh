#!/usr/bin/env bash
# Installs the pinned Deno from the npm registry into .tools/ (git-ignored).
# Usage: bash scripts/setup.sh   then   export PATH="$PWD/.tools/node_modules/.bin:$PATH" DENO_NO_UPDATE_CHECK=1
set -euo pipefail
cd "$(dirname "$0")/.."

# The real proxies the proxy tests start on 127.0.0.1 (issue #19): Debian's microsocks and Dante
# (SOCKS5) and tinyproxy (HTTP CONNECT). Installed as root with apt-get when missing; elsewhere
# the tests that need them fail saying how to install them. Also Debian's chromium, which the
# browser test (tests/e2e/browser_test.ts) drives headless inside a loopback-only namespace, and
# Debian's PostgreSQL server (issue #21), which the store tests start themselves on 127.0.0.1
# with a throwaway data directory (tests/support/postgres.ts): the package's own cluster is
# stopped and kept from starting, so that nothing of it listens.
missing=()
command -v microsocks >/dev/null 2>&1 || missing+=(microsocks)
command -v tinyproxy >/dev/null 2>&1 || missing+=(tinyproxy)
command -v danted >/dev/null 2>&1 || [ -x /usr/sbin/danted ] || missing+=(dante-server)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null 2>&1; then
      apt-get update >/dev/null 2>&1 || true
      apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null 2>&1 ||
        echo "setup: could not install ${missing[*]} with apt-get: the tests that need them will fail" >&2
    fi
    # The packages may start their proxy as a service on every interface: the tests run their own.
    for service in tinyproxy danted; do
      if [[ " ${missing[*]} " == *" ${service/danted/dante-server} "* ]]; then
        systemctl disable --now "$service" >/dev/null 2>&1 ||
          invoke-rc.d "$service" stop >/dev/null 2>&1 || true
      fi
    done
    if [[ " ${missing[*]} " == *" postgresql "* ]]; then
      systemctl disable --now postgresql >/dev/null 2>&1 || true
      for conf in /etc/postgresql/*/*/start.conf; do
        [ -f "$conf" ] || continue
        cluster=$(dirname "$conf")
        pg_ctlcluster "$(basename "$(dirname "$cluster")")" "$(basename "$cluster")" stop \
          >/dev/null 2>&1 || true
        echo manual >"$conf"
      done
    fi
  else
    echo "setup: ${missing[*]} missing and apt-get cannot be used here (run as root):" \
      "the tests that need them will fail until they are installed" >&2
  fi
fi
DENO_VERSION=2.9.6
if [ -x .tools/node_modules/.bin/deno ] &&
  .tools/node_modules/.bin/deno --version | grep -q "deno $DENO_VERSION "; then
  exit 0
fi
mkdir -p .tools
npm install --prefix .tools --no-audit --no-fund --loglevel=error "deno@$DENO_VERSION"
.tools/node_modules/.bin/deno --version

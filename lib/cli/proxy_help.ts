/**
 * The help texts of `mtproto2json serve` and `mtproto2json pipe`, and the options they share.
 *
 * @module
 */

/** The options `serve` and `pipe` share, as their help lists them. */
const COMMON_OPTIONS =
  `  --api-id N           api_id for initConnection (env MTPROTO2JSON_API_ID); get one at my.telegram.org
  --api-hash H         api_hash (env MTPROTO2JSON_API_HASH)
  --server LINE        default server for every client: a {"server": {...}} line such as the
                       emulator prints, or its inner object (default: Telegram's DC 2)
  --timeout S          answer rpc_timeout S seconds after a call arrives, whatever stage it
                       is in: connecting, key exchange, retries (default 10)
  --connect-timeout S  deadline for opening a connection and creating its key (default 10)
  --transport NAME     obfuscated-intermediate (default), obfuscated-abridged,
                       obfuscated-padded, intermediate, abridged, padded or full; or websocket:
                       MTProto over Telegram's wss://NAME.web.telegram.org/apiws endpoints (a
                       server object's "websocket": "ws://..." gives a URL of its own)
  --updates MODE       managed (default: gap-free, in order, with a resume cursor) or raw (as
                       Telegram pushed them); a connection may choose with {"options": ...}
  --proxy URL          reach Telegram through a proxy: socks5://[user:pass@]host:port,
                       http://[user:pass@]host:port (CONNECT), or an MTProxy link
                       (tg://proxy?server=H&port=P&secret=S, https://t.me/proxy?...,
                       mtproxy://H:P?secret=S); a connection may set its own with
                       {"server": {"proxy": URL}}. Never written into session lines
  --pfs                perfect forward secrecy: each connection encrypts under a temporary
                       key bound to the session's permanent key, renewed daily (or "pfs": true
                       in a client's server object)
  --max-line BYTES     longest accepted line (default 16777216); longer ones get an error
  --scheme FILE        load this .tl file instead of the shipped API schema (repeatable)
  --verbose            copy every object in and out to stderr, auth keys redacted
  --print-tracebacks   print stack traces of internal errors to stderr
  --log-format F       text (default) or json: one object a line with time, level,
                       connection and msg
  --send-tracebacks    include stack traces in error lines sent to clients

Every flag may be given instead as an environment variable named after it: --api-id as
MTPROTO2JSON_API_ID, --connect-timeout as MTPROTO2JSON_CONNECT_TIMEOUT, --verbose as
MTPROTO2JSON_VERBOSE=1, and so on. A flag on the command line wins.`;

/** Help text of `mtproto2json serve`. */
export const SERVE_HELP = `Usage: mtproto2json serve [options]

A TCP server speaking newline-delimited JSON: each client connection gets its own Telegram
client and MTProto connections. See the README for the protocol.

Options:
  --host HOST          bind to HOST (default 127.0.0.1); any other address needs --token
  --port PORT          listen on PORT (default 1543)
  --token SECRET       clients must send {"token": "SECRET"} as their first line, within 10 s
                       (visible in ps: prefer MTPROTO2JSON_TOKEN or --token-file); a wrong one
                       is refused after 250 ms doubling per failure in a row up to 10 s, and
                       the address's next connections wait too; counted in health, logged
  --token-file FILE    read the token from FILE (its first line)
  --max-connections N  serve at most N connections at once (default 1000)
  --state DIR          hold signed-in accounts in DIR (SQLite, mode 0600): they stay connected
                       when their connections close, journal their updates, survive restarts
  --state URL          the same in PostgreSQL (postgres://user@host:port/db), which several
                       instances can share (see docs/service.md, "Several instances")
  --state-file FILE    the postgres:// URL, with its password, from FILE (mode 0600 or refused)
  --lease-seconds S    with a postgres:// store: each held account is leased to one instance
                       for S seconds (default 15), renewed every S/3; the instances take over
                       the accounts of one that died within S seconds
  --journal N          keep the last N update lines per held account (default 10000); an
                       older cursor is served from getDifference
  --http [HOST:]PORT   also serve HTTP and WebSocket on PORT (HOST: --host's by default; the
                       same rules: loopback unless --token): /v1/ws, one-shot calls with
                       account handles, /healthz, /readyz, /metrics (see docs/http.md)
  --http-host NAME     host names the HTTP port answers to besides IP literals and localhost
                       (comma-separated; others are refused against DNS rebinding)
  --cors ORIGIN        origins whose web pages may call the HTTP port (comma-separated, never
                       *); other pages' requests are refused
  --http-idle S        an account handle's session is parked after S seconds unused (default
                       300); with --state its account stays held and connected
  --http-max-open N    requests and streams one client address may keep open at once
                       (default 64; more are answered 429). Behind a reverse proxy every
                       client comes from the proxy's address: raise it to what they all need
  --files DIR          let download "to" and upload "path" name files inside DIR (nothing
                       outside it: no "..", no absolute path elsewhere, no symlink out); without
                       it, serve refuses every path (chunk lines and base64 bytes still work)
${COMMON_OPTIONS}
`;

/** Help text of `mtproto2json pipe`. */
export const PIPE_HELP = `Usage: mtproto2json pipe [options]

The JSON protocol for one client on stdin/stdout, for scripts, jq and subprocesses. End of input
finishes the calls in flight, then exits 0.

Options:
${COMMON_OPTIONS}
`;

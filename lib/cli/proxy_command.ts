/**
 * `mtproto2json serve` and `mtproto2json pipe`: the JSON protocol over TCP, or for one client on
 * stdin/stdout.
 *
 * @module
 */

import type { Clock } from "../io/clock.ts";
import type { AppIdentity } from "../client/init_connection.ts";
import { defaultServer, serverFromJson, type ServerTarget } from "../client/session_json.ts";
import type { ProxyDefaults } from "../proxy/proxy_connection.ts";
import { serve } from "../proxy/serve.ts";
import { Metrics } from "../proxy/metrics.ts";
import type { AccountStore } from "../store/account_store.ts";
import { chooseState, openStateStore } from "./state_store.ts";
import { TokenGuard } from "../proxy/token_guard.ts";
import type { WebServer } from "../web/web_server.ts";
import type { TlSchema } from "../tl/schema.ts";
import { UsageError } from "./usage_error.ts";
import { parseFlags } from "./flags.ts";
import { parseTransport } from "../transport/transport_names.ts";
import { parseProxyUrl } from "../net/proxy_url.ts";
import { formatLogger, type Logger } from "../io/log_format.ts";

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

/** I/O of the proxy commands. */
export interface ProxyCommandIo {
  stdin: ReadableStream<Uint8Array>;
  stdout: (text: string) => Promise<void>;
  log: (line: string) => void;
  readTextFile: (path: string) => Promise<string>;
  env: (name: string) => string | undefined;
  stopped: Promise<void>;
  /** Time and timers. */
  clock: Clock;
}

const COMMON_FLAGS = {
  "api-id": { type: "string" },
  "api-hash": { type: "string" },
  server: { type: "string" },
  timeout: { type: "string" },
  "connect-timeout": { type: "string" },
  transport: { type: "string" },
  pfs: { type: "boolean", default: false },
  proxy: { type: "string" },
  updates: { type: "string" },
  "max-line": { type: "string" },
  "log-format": { type: "string" },
  scheme: { type: "string", multiple: true },
  verbose: { type: "boolean", default: false },
  "print-tracebacks": { type: "boolean", default: false },
  "send-tracebacks": { type: "boolean", default: false },
  help: { type: "boolean", short: "h", default: false },
} as const;

/** The app identity sent in initConnection. */
export function appIdentity(
  apiId: string | undefined,
  apiHash: string | undefined,
  version: string,
): AppIdentity {
  const app: AppIdentity = {
    deviceModel: "mtproto2json",
    systemVersion: `${Deno.build.os} ${Deno.build.arch}`,
    appVersion: version,
    langCode: "en",
  };
  if (apiId !== undefined && apiId !== "") {
    const id = Number(apiId);
    if (!Number.isInteger(id) || id <= 0) {
      throw new UsageError(`--api-id needs a positive number, got "${apiId}"`);
    }
    app.apiId = id;
  }
  if (apiHash) app.apiHash = apiHash;
  return app;
}

/** The server with `--pfs` applied (Telegram's DC 2 when no --server was given). */
export function withPfs(server: ServerTarget | undefined, pfs: boolean): ServerTarget | undefined {
  return pfs ? { ...(server ?? defaultServer()), pfs: true } : server;
}

/**
 * The server with `--proxy` applied (Telegram's DC 2 when no --server was given); a bad URL is a
 * usage error that never echoes it (it may hold a password).
 */
export function withProxy(
  server: ServerTarget | undefined,
  url: string | undefined,
): ServerTarget | undefined {
  if (url === undefined || url === "") return server;
  let proxy;
  try {
    proxy = parseProxyUrl(url);
  } catch (error) {
    throw new UsageError(`--proxy: ${(error as Error).message}`);
  }
  return { ...(server ?? defaultServer()), proxy };
}

/** Reads `--server`: a `{"server": {...}}` line or the inner object. */
export function serverFlag(text: string | undefined): ServerTarget | undefined {
  if (text === undefined) return undefined;
  let value: Record<string, unknown>;
  try {
    value = JSON.parse(text);
  } catch {
    throw new UsageError("--server needs JSON such as the emulator's first line");
  }
  const inner = (value.server ?? value) as Record<string, unknown>;
  try {
    return serverFromJson(inner, defaultServer());
  } catch (error) {
    throw new UsageError(`--server: ${(error as Error).message}`);
  }
}

/** The log of `--log-format`, written to the command's stderr. */
function logger(values: Record<string, unknown>, io: ProxyCommandIo): Logger {
  const format = values["log-format"] ?? "text";
  if (format !== "text" && format !== "json") {
    throw new UsageError(`--log-format is text or json, got "${format}"`);
  }
  return formatLogger(format, io.log, () => new Date(io.clock.wall()));
}

async function proxyDefaults(
  values: Record<string, unknown>,
  io: ProxyCommandIo,
  version: string,
): Promise<{ defaults: ProxyDefaults; maxLine: number; loadSchema: () => Promise<void> }> {
  logger(values, io); // a bad --log-format is a usage error before anything starts
  // --scheme files are read and parsed now, so that a bad one fails the start; the shipped schema
  // cannot fail, and is loaded once serve listens and parsed on first use (see lazySchema).
  const files = (values.scheme as string[] | undefined) ?? [];
  const schema = files.length
    ? await (await import("./schema_flags.ts")).schemaFromFlags(files, io.readTextFile)
    : undefined;
  const timeout = values.timeout === undefined ? 10 : Number(values.timeout);
  if (!(timeout > 0)) {
    throw new UsageError(`--timeout needs a positive number of seconds, got "${values.timeout}"`);
  }
  const connectTimeout = values["connect-timeout"] === undefined
    ? 10
    : Number(values["connect-timeout"]);
  if (!(connectTimeout > 0)) {
    throw new UsageError(
      `--connect-timeout needs a positive number of seconds, got "${values["connect-timeout"]}"`,
    );
  }
  let transport;
  if (values.transport !== undefined && values.transport !== "websocket") {
    try {
      transport = parseTransport(values.transport as string);
    } catch (error) {
      throw new UsageError(`--transport: ${(error as Error).message}`);
    }
  }
  const maxLine = values["max-line"] === undefined ? 16 * 1024 * 1024 : Number(values["max-line"]);
  if (!Number.isInteger(maxLine) || maxLine < 64) {
    throw new UsageError(`--max-line needs a number of bytes ≥ 64`);
  }
  let server = withProxy(
    withPfs(
      serverFlag((values.server as string | undefined) ?? io.env("MTPROTO2JSON_SERVER")),
      values.pfs === true,
    ),
    values.proxy as string | undefined,
  );
  if (values.transport === "websocket") {
    const base = server ?? defaultServer();
    server = { ...base, websocket: { ...base.websocket, telegram: true } };
  }
  const updates = values.updates as string | undefined;
  if (updates !== undefined && updates !== "managed" && updates !== "raw") {
    throw new UsageError(`--updates must be managed or raw, got "${updates}"`);
  }
  const defaults: ProxyDefaults = {
    ...(updates ? { updates } : {}),
    schema: schema!,
    app: appIdentity(
      (values["api-id"] as string | undefined) ?? io.env("MTPROTO2JSON_API_ID"),
      (values["api-hash"] as string | undefined) ?? io.env("MTPROTO2JSON_API_HASH"),
      version,
    ),
    behaviour: { timeoutSeconds: timeout, connectTimeoutSeconds: connectTimeout },
    ...(transport ? { transport } : {}),
    ...(server ? { server } : {}),
    ...(values.verbose ? { verbose: logger(values, io) } : {}),
    ...(values["send-tracebacks"] ? { sendTracebacks: true } : {}),
    ...(values["print-tracebacks"] ? { log: logger(values, io) } : {}),
    clock: io.clock,
  };
  const loadSchema = schema ? () => Promise.resolve() : lazySchema(defaults);
  return { defaults, maxLine, loadSchema };
}

/**
 * Makes `defaults.schema` the shipped schema, parsed when first read (~50 ms of CPU and the
 * garbage of a 260 KB text), and returns what loads its module: importing the text alone cost
 * `serve` ~8 ms before its port opened, so it starts once `serve` listens, and `defaults.ready`
 * (which connections wait for) resolves once it has loaded.
 */
function lazySchema(defaults: ProxyDefaults): () => Promise<void> {
  let load: (() => TlSchema) | undefined;
  let parsed: TlSchema | undefined;
  let start!: () => void;
  const ready = new Promise<void>((resolve) => start = resolve)
    .then(() => import("../tl/default_schema.ts"))
    .then((module) => void (load = module.loadSchema));
  defaults.ready = ready;
  Object.defineProperty(defaults, "schema", {
    get: () => {
      if (!load) throw new Error("the shipped schema was read before it loaded (see ready)");
      return parsed ??= load();
    },
    enumerable: true,
    configurable: true,
  });
  return () => {
    start();
    return ready;
  };
}

/**
 * Once `serve` listens, readies in the background what the first call will need anyway: the
 * protocol's modules (loading since `serve` listened) and the shipped schema, parsed.
 */
function warmUp(defaults: ProxyDefaults, schemaLoaded: Promise<void>, clock: Clock): void {
  schemaLoaded.then(() => clock.setTimeout(() => void defaults.schema, 0, { keepAlive: false }));
}

/** Runs `serve` until stopped. */
export async function runServeCommand(
  args: string[],
  io: ProxyCommandIo,
  version: string,
): Promise<number> {
  const { values } = parseFlags(
    args,
    {
      ...COMMON_FLAGS,
      host: { type: "string", default: "127.0.0.1" },
      port: { type: "string", default: "1543" },
      token: { type: "string" },
      "token-file": { type: "string" },
      "max-connections": { type: "string" },
      state: { type: "string" },
      "state-file": { type: "string" },
      "lease-seconds": { type: "string" },
      journal: { type: "string" },
      files: { type: "string" },
      http: { type: "string" },
      "http-host": { type: "string" },
      cors: { type: "string" },
      "http-idle": { type: "string" },
    },
    false,
    io.env,
  );
  if (values.help) {
    await io.stdout(SERVE_HELP);
    return 0;
  }
  const journal = values.journal === undefined ? 10_000 : Number(values.journal);
  if (!Number.isInteger(journal) || journal < 1) {
    throw new UsageError(`--journal needs a positive number of lines, got "${values.journal}"`);
  }
  const { defaults, maxLine, loadSchema } = await proxyDefaults(values, io, version);
  defaults.files = { kind: "none" };
  defaults.metrics = new Metrics(() => defaults.schema, {
    clock: io.clock,
    held: () => defaults.held,
  });
  if (values.files !== undefined) {
    let dir: string;
    try {
      dir = await Deno.realPath(values.files);
      if (!(await Deno.stat(dir)).isDirectory) throw new Error("not a directory");
    } catch (error) {
      throw new UsageError(`--files ${values.files}: ${(error as Error).message}`);
    }
    defaults.files = { kind: "inside", dir };
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new UsageError(`--port needs a port number, got "${values.port}"`);
  }
  let token = values.token;
  if (values["token-file"] !== undefined) {
    token = (await io.readTextFile(values["token-file"])).split("\n")[0].trim();
    if (!token) throw new UsageError(`--token-file ${values["token-file"]} holds no token`);
  }
  const maxConnections = values["max-connections"] === undefined
    ? 1000
    : Number(values["max-connections"]);
  if (!Number.isInteger(maxConnections) || maxConnections < 1) {
    throw new UsageError(
      `--max-connections needs a positive number, got "${values["max-connections"]}"`,
    );
  }
  const http = values.http === undefined ? undefined : httpAddress(values.http, values.host!);
  const idle = values["http-idle"] === undefined ? 300 : Number(values["http-idle"]);
  if (!(idle > 0)) {
    throw new UsageError(
      `--http-idle needs a positive number of seconds, got "${values["http-idle"]}"`,
    );
  }
  const list = (text: string | undefined) =>
    (text ?? "").split(",").map((item) => item.trim()).filter(Boolean);
  const leaseSeconds = values["lease-seconds"] === undefined ? 15 : Number(values["lease-seconds"]);
  if (!(leaseSeconds >= 1 && leaseSeconds <= 3600)) {
    throw new UsageError(
      `--lease-seconds needs a number of seconds from 1 to 3600, got "${values["lease-seconds"]}"`,
    );
  }
  let store: AccountStore | undefined;
  const state = await chooseState(values, {
    readFile: io.readTextFile,
    mode: async (path) => (await Deno.stat(path)).mode,
  });
  if (state !== undefined) {
    const log = logger(values, io);
    try {
      store = await openStateStore(state, (line) => log(`mtproto2json serve: --state ${line}`));
      // Held accounts restore their clients now, before serve listens: they need the schema.
      await loadSchema();
      // Store trouble is always logged, whatever else is.
      const { HeldAccounts } = await import("../proxy/held_accounts.ts");
      defaults.held = new HeldAccounts(defaults, store, {
        journalLimit: journal,
        // A store several instances share: every account under a lease.
        ...(store.kind === "postgres" ? { leaseMs: leaseSeconds * 1000 } : {}),
        log: (line) => log(`mtproto2json serve: ${line}`, { level: "error" }),
      });
      const restored = await defaults.held.restore();
      if (restored) log(`mtproto2json serve: ${restored} held account(s) reconnecting`);
    } catch (error) {
      await defaults.held?.close();
      await store?.close();
      log(`mtproto2json: --state ${state.shown}: ${(error as Error).message}`, {
        level: "error",
      });
      return 2;
    }
  }
  let server;
  let web: WebServer | undefined;
  let schemaLoaded!: Promise<void>;
  // One guard for both fronts: guesses at the token count together wherever they come from.
  const log = logger(values, io);
  const guard = token
    ? new TokenGuard({ clock: io.clock, log: (line) => log(`mtproto2json serve: ${line}`) })
    : undefined;
  try {
    server = serve(defaults, {
      host: values.host!,
      port,
      maxLine,
      maxConnections,
      ...(token ? { token, guard } : {}),
    });
    schemaLoaded = loadSchema();
    if (http) {
      try {
        const { serveHttp } = await import("../web/web_server.ts");
        await schemaLoaded; // the web front reads the schema as it pleases (/v1/openapi.json)
        web = serveHttp(defaults, {
          ...http,
          maxLine,
          ...(token ? { token, guard } : {}),
          hostNames: list(values["http-host"]),
          cors: list(values.cors),
          idleSeconds: idle,
          health: server.health,
        });
      } catch (error) {
        await server.close();
        throw error;
      }
    }
  } catch (error) {
    guard?.close();
    log(`mtproto2json: ${(error as Error).message}`, { level: "error" });
    return 2;
  }
  log(`mtproto2json serve: listening on ${values.host}:${server.port}`);
  warmUp(defaults, schemaLoaded, io.clock);
  if (web) {
    const shown = http!.host.includes(":") ? `[${http!.host}]` : http!.host;
    log(`mtproto2json serve: HTTP and WebSocket on http://${shown}:${web.port}`);
  }
  await io.stopped;
  await web?.close();
  await server.close();
  await defaults.held?.close();
  await store?.close();
  return 0;
}

/**
 * Reads `--http [HOST:]PORT` (`8080`, `127.0.0.1:8080`, `[::1]:8080`); the host defaults to
 * `--host`'s.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { httpAddress } from "./proxy_command.ts";
 * assert.deepEqual(httpAddress("8080", "127.0.0.1"), { host: "127.0.0.1", port: 8080 });
 * assert.deepEqual(httpAddress("[::1]:0", "127.0.0.1"), { host: "::1", port: 0 });
 * ```
 */
export function httpAddress(text: string, host: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]:|([^:\[\]]+):)?(\d+)$/.exec(text.trim());
  const port = Number(match?.[3]);
  if (!match || !(port >= 0 && port <= 65535)) {
    throw new UsageError(`--http needs [HOST:]PORT such as 127.0.0.1:8080, got "${text}"`);
  }
  return { host: match[1] ?? match[2] ?? host, port };
}

/** Runs `pipe` until stdin ends and every answer is written. */
export async function runPipeCommand(
  args: string[],
  io: ProxyCommandIo,
  version: string,
): Promise<number> {
  const { values } = parseFlags(args, COMMON_FLAGS, false, io.env);
  if (values.help) {
    await io.stdout(PIPE_HELP);
    return 0;
  }
  const { defaults, maxLine, loadSchema } = await proxyDefaults(values, io, version);
  await loadSchema();
  // pipe runs as its user, on their behalf: paths are theirs, relative to where it was started.
  defaults.files = { kind: "as_given", cwd: Deno.cwd() };
  const { serveLines } = await import("../proxy/serve_lines.ts");
  await serveLines(defaults, { readable: io.stdin, write: io.stdout, maxLine });
  return 0;
}

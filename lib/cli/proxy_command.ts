/**
 * `mtproto2json serve` and `mtproto2json pipe`: the JSON protocol over TCP, or for one client on
 * stdin/stdout.
 *
 * @module
 */

import type { Clock } from "../io/clock.ts";
import { defaultServer } from "../client/session_json.ts";
import type { ProxyDefaults } from "../proxy/proxy_connection.ts";
import { serve } from "../proxy/serve.ts";
import { Metrics } from "../proxy/metrics.ts";
import type { AccountStore } from "../store/account_store.ts";
import { chooseState, openStateStore } from "./state_store.ts";
import { TokenGuard } from "../proxy/token_guard.ts";
import type { WebServer } from "../web/web_server.ts";
import type { TlSchema } from "../tl/schema.ts";
import { UsageError } from "./usage_error.ts";
import { appIdentity, httpAddress, serverFlag, withPfs, withProxy } from "./server_flags.ts";
import { PIPE_HELP, SERVE_HELP } from "./proxy_help.ts";
import { parseFlags } from "./flags.ts";
import { parseTransport } from "../transport/transport_names.ts";
import { formatLogger, type Logger } from "../io/log_format.ts";

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
      "http-max-open": { type: "string" },
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
  const maxOpen = values["http-max-open"] === undefined ? 64 : Number(values["http-max-open"]);
  if (!Number.isInteger(maxOpen) || maxOpen < 1) {
    throw new UsageError(
      `--http-max-open needs a positive number, got "${values["http-max-open"]}"`,
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
          maxStreamsPerAddress: maxOpen,
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

/**
 * The JSON protocol for one client connection, shared by `serve` and `pipe`: each line is a
 * request whose keys are processed in the order server → session → message; each request gets
 * exactly one response line, and updates go out with id 0. Requests run concurrently and are
 * answered by id. Bad input gets an error line and the connection carries on.
 *
 * @module
 */

import { type Clock, systemClock } from "../io/clock.ts";
import { Mtproto2jsonError, TlEncodeError } from "../errors.ts";
import { isTlObject } from "../tl/codec.ts";
import { parseJsonExact } from "../tl/json.ts";
import { Client, type ClientBehaviour } from "../client/client.ts";
import type { AppIdentity } from "../client/init_connection.ts";
import {
  serverFromJson,
  type ServerTarget,
  serverToJson,
  sessionFromJson,
} from "../client/session_json.ts";
import type { TlSchema } from "../tl/schema.ts";
import type { LogFields } from "../io/log_format.ts";
import type { TransportOptions } from "../transport/transport.ts";
import { BadCursorError, checkCursorAccount } from "../updates/cursor.ts";
import type { HeldAccounts } from "./held_accounts.ts";
import { ConnectionAccount, type UpdatesMode } from "./connection_account.ts";
import { BadRequestError, objectOf, readOptions, showOptions } from "./request_options.ts";
import { ExpectedAnswers } from "./answer_size.ts";
import { redact } from "./redact.ts";
import type { FilePolicy } from "./file_paths.ts";
import {
  type ChunkSink,
  type ChunkSource,
  download,
  type FileRequestContext,
  upload,
} from "./file_requests.ts";
import { takeChunk, UploadStream } from "./upload_streams.ts";
import type { Metrics } from "./metrics.ts";
import { resolveFilePath } from "./file_paths.ts";

export { BadRequestError } from "./request_options.ts";
export { redact } from "./redact.ts";

export type { UpdatesMode } from "./connection_account.ts";

/** What every connection of a proxy starts with. */
export interface ProxyDefaults {
  schema: TlSchema;
  server?: ServerTarget;
  app: AppIdentity;
  behaviour?: Partial<ClientBehaviour>;
  transport?: TransportOptions;
  /** Copy every object in and out to this log, secrets redacted. */
  verbose?: (line: string, fields?: LogFields) => void;
  /** Include stack traces in error lines (`--send-tracebacks`). */
  sendTracebacks?: boolean;
  log?: (line: string, fields?: LogFields) => void;
  /** How updates reach clients unless a connection says otherwise (default managed). */
  updates?: UpdatesMode;
  /** `serve --state`: signed-in accounts are held here and shared by their connections. */
  held?: HeldAccounts;
  /** What a `{"health": {}}` request reports (serve fills in its connections). */
  health?: () => Record<string, unknown>;
  /** Time and timers for everything served (the platform's by default; tests pass a fake). */
  clock?: Clock;
  /** Where `download`/`upload` paths may point (default: nowhere; pipe: as given). */
  files?: FilePolicy;
  /** `serve`'s counters for `/metrics`: requests, errors, updates, files (none for pipe). */
  metrics?: Metrics;
  /**
   * Resolves once everything here can be read: `serve` listens before the shipped schema's module
   * has loaded, and its connections wait for this before they read `schema`.
   */
  ready?: Promise<unknown>;
}

/** The id given to errors in lines that have no usable id. */
export const BAD_JSON_ID = -2;
/** The id of the error line for a line over `--max-line` (its id is never read). */
export const LINE_TOO_LONG_ID = -1;

/** One client connection of the JSON protocol. */
export class ProxyConnection {
  readonly #write: (line: string) => void;
  readonly #defaults: ProxyDefaults;
  /** Ids of the requests not answered yet (their count is what is in flight). */
  readonly #ids = new Set<number>();
  /** What the requests in flight will write: file parts, read no further while it is much. */
  readonly expected = new ExpectedAnswers();
  /** Waiting for a request to settle. */
  #settled: (() => void)[] = [];
  /** Which client calls go to, and how updates reach this connection. */
  readonly #account: ConnectionAccount;

  /**
   * Streamed uploads in progress, by request id: their chunk lines go there. Made with the first
   * and dropped with the last: an idle connection kept an empty map (~180 B) here.
   */
  #streams?: Map<number, UploadStream>;
  /** Resolves once the connection's unsent output is below a number of characters. */
  readonly #drained: (characters: number) => Promise<void>;

  /** Whether the client is gone (a write to it failed). */
  readonly #gone: () => boolean;
  /** Where downloads' bytes go when the client takes them as bytes. */
  readonly #sendBytes: ChunkSink | undefined;
  /** Where streamed uploads' bytes come from when the client gives them as bytes. */
  readonly #takeBytes: ChunkSource | undefined;

  /**
   * `write` sends one line (without its newline) to the client; `drained` tells when the output
   * has room again (downloads wait on it between chunk lines); `gone`, whether a write to the
   * client failed (a download then stops at once, before the connection is closed); `sendBytes`,
   * where a download's bytes go instead of chunk lines when the client takes bytes, and
   * `takeBytes`, where a streamed upload's bytes come from when the client gives bytes.
   */
  constructor(
    defaults: ProxyDefaults,
    write: (line: string) => void,
    drained: (characters: number) => Promise<void> = () => Promise.resolve(),
    gone: () => boolean = () => false,
    sendBytes?: ChunkSink,
    takeBytes?: ChunkSource,
  ) {
    this.#defaults = defaults;
    this.#write = write;
    this.#drained = drained;
    this.#gone = gone;
    this.#sendBytes = sendBytes;
    this.#takeBytes = takeBytes;
    this.#account = new ConnectionAccount(
      ({ onUpdate, onMissed, onEvent }) =>
        new Client({
          schema: defaults.schema,
          ...(defaults.server ? { server: defaults.server } : {}),
          app: defaults.app,
          ...(defaults.behaviour ? { behaviour: defaults.behaviour } : {}),
          ...(defaults.transport ? { transport: defaults.transport } : {}),
          onUpdate,
          onMissedUpdates: onMissed,
          onEvent,
          ...(defaults.clock ? { clock: defaults.clock } : {}),
          ...(defaults.log ? { log: defaults.log } : {}),
        }),
      (line) => this.#send(line),
      defaults.updates ?? "managed",
      defaults.held,
      defaults.metrics,
    );
  }

  /** The client this connection's calls go to (a held account's, once attached to one). */
  get client(): Client {
    return this.#account.client;
  }

  /** Handles one received line; the response is written when ready. */
  handleLine(text: string): void {
    if (text.trim() === "") return;
    let request: unknown;
    try {
      request = parseJsonExact(text);
    } catch (error) {
      // Not JSON, so nothing in it can be told apart from a secret: only its length is logged.
      this.#defaults.verbose?.(`in  (a line of ${text.length} characters that is not JSON)`, {
        level: "debug",
      });
      this.#send({ id: BAD_JSON_ID, error: "BadJson", msg: (error as Error).message });
      return;
    }
    this.#defaults.verbose?.(`in  ${JSON.stringify(redact(request))}`, { level: "debug" });
    if (typeof request !== "object" || request === null || Array.isArray(request)) {
      this.#send({
        id: BAD_JSON_ID,
        error: "NotAnObject",
        msg: "each line must be one JSON object",
      });
      return;
    }
    const fields = request as Record<string, unknown>;
    let id: number;
    if (fields.id === undefined) {
      id = 1;
    } else if (
      typeof fields.id === "number" && Number.isSafeInteger(fields.id) && fields.id > 0
    ) {
      id = fields.id;
    } else {
      this.#send({
        id: BAD_JSON_ID,
        error: "BadId",
        msg: `"id" must be a positive integer (0 is for updates, negative ids for the proxy's ` +
          `own error lines), got ${JSON.stringify(fields.id)}`,
      });
      return;
    }
    if (
      fields.chunk !== undefined && Object.keys(fields).every((k) => k === "id" || k === "chunk")
    ) {
      const stream = fields.id === undefined ? undefined : this.#streams?.get(id);
      const refused = takeChunk(stream, fields.id === undefined ? undefined : id, fields.chunk);
      if (refused) this.#send({ id: BAD_JSON_ID, ...refused });
      else if (stream) this.#defaults.metrics?.fileBytes("upload", base64Length(fields.chunk));
      return;
    }
    if (this.#ids.has(id)) {
      this.#send({
        id,
        error: "DuplicateId",
        msg: `a request with id ${id} is still in flight; its answer would be ambiguous`,
      });
      return;
    }
    this.#ids.add(id);
    this.expected.add(id, fields);
    this.#process(id, fields);
  }

  /** Resolves once no streamed upload holds more than its share: input may be read again. */
  async inputRoom(): Promise<void> {
    if (!this.#streams) return;
    for (const stream of this.#streams.values()) await stream.room();
  }

  /** What a file request of this connection works with. */
  #fileContext(): FileRequestContext {
    return {
      client: this.client,
      files: this.#defaults.files ?? { kind: "none" },
      clock: this.#defaults.clock ?? systemClock,
      send: (line) => this.#send(line),
      drained: (characters) => this.#drained(characters),
      closed: () => this.#closed || this.#gone(),
      ...(this.#sendBytes ? { sendBytes: this.#sendBytes } : {}),
    };
  }

  /** Forgets an answered request's id and wakes whoever waits for fewer in flight. */
  #settle(id: number): void {
    this.#ids.delete(id);
    this.expected.settle(id);
    if (this.#settled.length === 0) return;
    for (const resolve of this.#settled.splice(0)) resolve();
  }

  /** Reports a line that was longer than the limit. */
  lineTooLong(length: number, limit: number): void {
    this.#send({
      id: LINE_TOO_LONG_ID,
      error: "LineTooLong",
      msg: `a line of ${length} characters exceeds the limit of ${limit}; it was discarded`,
    });
  }

  /** Resolves once every request received so far has been answered. */
  idle(): Promise<void> {
    return this.fewerThan(1);
  }

  /** Resolves once fewer than `limit` requests are waiting for their answers. */
  async fewerThan(limit: number): Promise<void> {
    while (this.#ids.size >= limit) await this.settled();
  }

  /** Resolves when the next request is answered. */
  settled(): Promise<void> {
    return new Promise<void>((resolve) => this.#settled.push(resolve));
  }

  /** Requests waiting for their answers. */
  get inFlight(): number {
    return this.#ids.size;
  }

  /** The client's input ended: streamed uploads still open fail (their end can never come). */
  inputEnded(): void {
    for (const stream of this.#streams?.values() ?? []) {
      stream.fail(new BadRequestError("BadChunk", "the input ended before the stream's end"));
    }
  }

  /** Set by close(): the client is gone, or got every answer it was owed. */
  #closed = false;

  /** Closes the connection's MTProto connections (a held account stays connected). */
  close(): void {
    this.#closed = true;
    this.inputEnded();
    this.#account.close();
  }

  async #process(id: number, request: Record<string, unknown>): Promise<void> {
    const response: Record<string, unknown> = { id };
    const metrics = this.#defaults.metrics;
    const since = metrics?.now() ?? 0;
    try {
      // Synchronous parts first, so that a later line sees their effect. Options next to a
      // message are that request's own; alone on a line they set the connection's.
      const own = request.message !== undefined;
      let overrides: Partial<ClientBehaviour> = {};
      if (request.options !== undefined) {
        const read = readOptions(request.options);
        overrides = read.behaviour;
        if (read.updates) this.#account.setMode(read.updates);
        // A connection's options are its own: a held account's client is shared.
        if (!own) this.#account.own.configure(overrides);
        response.options = showOptions(
          { ...this.#account.own.behaviour, ...overrides },
          this.#account.mode,
        );
      }
      if (request.health !== undefined) {
        response.health = this.#defaults.health?.() ??
          { status: "ok", connections: 1, held_accounts: 0 };
      }
      if (request.server !== undefined) response.server = this.#server(request.server);
      if (request.session !== undefined) response.session = this.#session(request.session);
      if (request.message !== undefined) {
        if (!isTlObject(request.message)) {
          throw new TlEncodeError("WrongType", 'message must be an object with "_cons"', [
            "message",
          ]);
        }
        const client = await this.#account.callClient();
        response.message = await client.call(
          request.message,
          this.#account.callBehaviour(overrides),
        );
        this.#account.afterCall(request.message, response.message);
      }
      if (request.download !== undefined) {
        const client = await this.#account.callClient();
        response.download = await download(
          { ...this.#fileContext(), client },
          id,
          request.download,
        );
      }
      if (request.upload !== undefined) {
        const streamed = (request.upload as Record<string, unknown> | null)?.stream === true;
        // Given as bytes (an HTTP body), the stream needs no chunk lines and no base64.
        const given = streamed ? this.#takeBytes?.(id) : undefined;
        const stream = streamed && !given ? new UploadStream() : undefined;
        if (stream) (this.#streams ??= new Map()).set(id, stream);
        try {
          const client = await this.#account.callClient();
          response.upload = await upload(
            { ...this.#fileContext(), client },
            id,
            request.upload,
            given ? { chunks: () => counted(given, this.#defaults.metrics) } : stream,
          );
        } finally {
          stream?.abandon();
          this.#streams?.delete(id);
          if (this.#streams?.size === 0) this.#streams = undefined;
        }
      }
      this.#settle(id);
      this.#send(response);
      if (metrics) {
        try {
          this.#count(metrics, request, response, since);
        } catch { /* counting never fails an answered request */ }
      }
    } catch (error) {
      this.#settle(id);
      const line = this.#errorLine(id, error);
      this.#send(line);
      metrics?.answered(request, line, since);
    }
  }

  /** Counts an answered request, and the file bytes it moved (streams count chunk by chunk). */
  #count(
    metrics: Metrics,
    request: Record<string, unknown>,
    response: Record<string, unknown>,
    since: number,
  ): void {
    // Synchronous: only an upload from a path waits (for its size), not every answer.
    metrics.answered(request, response, since);
    const size = (response.download as { size?: unknown } | undefined)?.size;
    if (typeof size === "number") metrics.fileBytes("download", size);
    const upload = request.upload as Record<string, unknown> | undefined;
    if (response.upload === undefined || !upload) return;
    if (typeof upload.bytes === "string") metrics.fileBytes("upload", base64Length(upload));
    else if (typeof upload.path === "string") {
      this.#countUploadedFile(metrics, upload.path).catch(() => {});
    }
  }

  async #countUploadedFile(metrics: Metrics, uploaded: string): Promise<void> {
    try {
      const path = await resolveFilePath(this.#defaults.files!, uploaded);
      metrics.fileBytes("upload", (await Deno.stat(path)).size);
    } catch { /* gone since: not counted */ }
  }

  #server(value: unknown): Record<string, unknown> {
    const fields = objectOf(value, "server");
    if (Object.keys(fields).length > 0) {
      if (this.client !== this.#account.own) {
        // Shared with other connections: its server is the one its session was held with.
        throw new BadRequestError("BadServer", "a held account's server cannot be changed");
      }
      try {
        this.client.setServer(serverFromJson(fields, this.client.server));
      } catch (error) {
        throw new BadRequestError("BadServer", (error as Error).message);
      }
    }
    return serverToJson(this.client.server);
  }

  #session(value: unknown): Record<string, unknown> {
    const fields = objectOf(value, "session");
    if (Object.keys(fields).length > 0) {
      try {
        const own = this.#account.own;
        if (fields.server !== undefined) {
          own.setServer(serverFromJson(objectOf(fields.server, "session.server"), own.server));
        }
        const cursor = fields.updates_cursor;
        const session = sessionFromJson(fields, own.server.dc);
        // Refused before anything changes: not ours, out of range, or another account's.
        if (cursor !== undefined) checkCursorAccount(cursor, session.userId);
        return this.#account.load(
          session,
          cursor as string | undefined,
          fields.auth_key !== undefined,
        );
      } catch (error) {
        if (error instanceof BadRequestError) throw error;
        if (error instanceof BadCursorError) throw new BadRequestError("BadCursor", error.message);
        throw new BadRequestError("BadSession", (error as Error).message);
      }
    }
    return this.#account.session();
  }

  #errorLine(id: number, error: unknown): Record<string, unknown> {
    let name: string;
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof TlEncodeError) {
      name = error.kind;
    } else if (error instanceof BadRequestError) {
      name = error.kind;
    } else if (error instanceof Mtproto2jsonError) {
      name = error.name;
    } else {
      name = "InternalError";
      this.#defaults.log?.(`internal error: ${(error as Error).stack ?? error}`, {
        level: "error",
      });
    }
    return {
      id,
      error: name,
      msg: message,
      ...(this.#defaults.sendTracebacks && error instanceof Error
        ? { traceback: error.stack }
        : {}),
    };
  }

  #send(value: Record<string, unknown> | string): void {
    const line = typeof value === "string" ? value : JSON.stringify(value);
    const verbose = this.#defaults.verbose;
    if (verbose) {
      const object = typeof value === "string" ? parseJsonExact(value) : value;
      verbose(`out ${JSON.stringify(redact(object))}`, { level: "debug" });
    }
    this.#write(line);
  }
}

/** The length of the bytes in `{"bytes": base64}`, from the text's length. */
function base64Length(value: unknown): number {
  const text = (value as { bytes?: unknown } | null)?.bytes;
  if (typeof text !== "string") return 0;
  const padding = text.endsWith("==") ? 2 : text.endsWith("=") ? 1 : 0;
  return Math.max(0, Math.floor(text.length * 3 / 4) - padding);
}

/** `source`'s chunks, each counted as uploaded bytes for `/metrics` when there are metrics. */
function counted(
  source: AsyncIterable<Uint8Array>,
  metrics: Metrics | undefined,
): AsyncIterable<Uint8Array> {
  if (!metrics) return source;
  return (async function* () {
    for await (const chunk of source) {
      metrics.fileBytes("upload", chunk.length);
      yield chunk;
    }
  })();
}

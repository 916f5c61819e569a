/**
 * A session of the line protocol that one HTTP request runs for itself (an updates stream, a
 * file's bytes): served by `serveLines`, as a TCP connection is, its requests answered by id and
 * every other line it writes handed to `onLine`. `onLine` may return a promise: the session's
 * output then waits for it, which is how a slow HTTP reader holds back the lines (and the file
 * parts behind them) instead of letting them pile up here.
 *
 * @module
 */

import type { ChunkSink, ChunkSource } from "../proxy/file_requests.ts";
import type { ProxyDefaults } from "../proxy/proxy_connection.ts";
import { serveLines } from "../proxy/serve_lines.ts";
import { HttpError, parseKeepingNumbers } from "./http_answers.ts";
import type { RouteContext } from "./routes.ts";
import { type WebAccount, type WrittenLine, writtenLine } from "./web_account.ts";

/** One line session of one HTTP request. */
export class LineSession {
  readonly #input: ReadableStreamDefaultController<Uint8Array>;
  readonly #answers = new Map<number, (line: WrittenLine) => void>();
  readonly #encoder = new TextEncoder();
  /** Resolves once the session has ended (its input closed, or serve closing). */
  readonly done: Promise<boolean>;

  /**
   * Starts the session with `defaults`; `onLine` gets every line that is no request's final
   * answer: updates and events (id 0), a download's chunk and progress lines — or, given
   * `onBytes`, a download's bytes go there instead of chunk lines; `uploads` gives a streamed
   * upload's bytes instead of chunk lines.
   */
  constructor(
    defaults: ProxyDefaults,
    maxLine: number,
    onLine: (line: WrittenLine) => Promise<void> | void,
    onBytes?: ChunkSink,
    uploads?: ChunkSource,
  ) {
    let input!: ReadableStreamDefaultController<Uint8Array>;
    // Its requests, as lines: a request's bytes come through `uploads`, never as chunk lines.
    const readable = new ReadableStream<Uint8Array>({
      start: (c) => void (input = c),
    }, new CountQueuingStrategy({ highWaterMark: 4 }));
    this.#input = input;
    this.done = serveLines(defaults, {
      readable,
      write: async (text) => {
        for (const lineText of text.split("\n")) {
          if (lineText === "") continue;
          // Updates and events (id 0) answer no request: parsed only if the reader asks.
          if (lineText.startsWith('{"id":0,')) {
            await onLine(writtenLine(lineText));
            continue;
          }
          const value = parseKeepingNumbers(lineText) as Record<string, unknown>;
          const answer = this.#answers.get(value.id as number);
          // A request's chunk and progress lines come before its answer, which ends it.
          if (answer && value.chunk === undefined && value.progress === undefined) {
            this.#answers.delete(value.id as number);
            answer({ text: lineText, value });
          } else await onLine({ text: lineText, value });
        }
      },
      maxLine,
      ...(onBytes ? { bytes: onBytes } : {}),
      ...(uploads ? { uploads } : {}),
    });
  }

  /** Sends one request with id `id` and resolves with its final answer. */
  request(id: number, fields: Record<string, unknown>): Promise<WrittenLine> {
    const answer = new Promise<WrittenLine>((resolve) => this.#answers.set(id, resolve));
    this.#input.enqueue(this.#encoder.encode(JSON.stringify({ ...fields, id }) + "\n"));
    return answer;
  }

  /** Ends the session (its connections close, or it detaches from a held account). */
  async close(): Promise<void> {
    try {
      this.#input.close();
    } catch {
      // already closed
    }
    await this.done;
  }
}

/**
 * A line session of the handle's account (`context.account`) for one request: its session and
 * options are loaded in a new session of their own — with `cursor` as its updates cursor, and
 * `options` over the handle's — as a TCP client that reconnects does; `onBytes` takes its
 * downloads' bytes and `uploads` gives its streamed uploads' (see {@link LineSession}). Refuses an
 * account that is
 * not signed in (409), and anything the line protocol refuses on loading (400 with its error).
 */
export async function openAccountSession(
  context: RouteContext,
  onLine: (line: WrittenLine) => Promise<void> | void,
  { cursor, options: extra, onBytes, uploads }: {
    cursor?: string;
    options?: Record<string, unknown>;
    onBytes?: ChunkSink;
    uploads?: ChunkSource;
  } = {},
): Promise<LineSession> {
  const account = context.account as WebAccount;
  const [options, read] = await Promise.all([
    account.request({ options: {} }),
    account.request({ session: {} }),
  ]);
  const { updates_cursor: _current, ...session } = (read.value.session ?? {}) as Record<
    string,
    unknown
  >;
  if (session.auth_key === undefined || session.user_id === undefined) {
    throw new HttpError(409, "NotSignedIn", "this account is not signed in: sign in first");
  }
  const line = new LineSession(
    context.front.defaults,
    context.front.maxLine,
    onLine,
    onBytes,
    uploads,
  );
  const shown = options.value.options as Record<string, unknown> | undefined;
  const loaded = await line.request(1, {
    ...(shown || extra ? { options: { ...shown, ...extra } } : {}),
    session: { ...session, ...(cursor !== undefined ? { updates_cursor: cursor } : {}) },
  });
  if (loaded.value.error !== undefined) {
    await line.close();
    throw new HttpError(400, String(loaded.value.error), String(loaded.value.msg ?? ""));
  }
  return line;
}

/**
 * An account handle's live side: one session of the line protocol run in memory by a
 * `ProxyConnection` (the same code as a TCP connection's), its session line sent first; a one-shot
 * call is a line with a fresh id whose answer is routed back by id. Updates and events (id 0) go
 * to whoever listens (the updates routes).
 *
 * The lines are handed to the connection as text, and its answers taken as it writes them, with
 * nothing between: no byte stream, line splitting or output buffer as a socket needs (serveLines
 * does that for TCP; here it cost more than the line handling itself on small calls).
 *
 * @module
 */

import { setImmediate } from "node:timers";
import { ProxyConnection, type ProxyDefaults } from "../proxy/proxy_connection.ts";
import { parseKeepingNumbers, utf8Length } from "./http_answers.ts";

/** A line the session wrote: its text as written, and the object it holds. */
export interface WrittenLine {
  text: string;
  value: Record<string, unknown>;
}

/** One in-memory session of the line protocol. */
export class WebAccount {
  readonly #connection: ProxyConnection;
  readonly #pending = new Map<number, (line: WrittenLine) => void>();
  readonly #listeners = new Set<(line: WrittenLine) => void>();
  readonly #maxLine: number;
  readonly #log: (line: string) => void;
  #nextId = 1;
  /** Request lines of this turn, not yet handed to the session, with their ids. */
  #queued: { id: number; text: string }[] = [];
  #scheduled = false;
  /** The id of the line being handed to the session, while it is. */
  #handling: number | undefined = undefined;
  #inputClosed = false;
  #closed = false;
  #ended!: () => void;
  /** Resolves once the session has ended (closed: its calls answered, its connections closed). */
  readonly done: Promise<void> = new Promise((resolve) => this.#ended = resolve);

  /** Starts the session, served with `defaults`; a line may hold `maxLine` bytes, as on TCP. */
  constructor(defaults: ProxyDefaults, maxLine: number) {
    this.#maxLine = maxLine;
    this.#log = defaults.log ?? (() => {});
    this.#connection = new ProxyConnection(defaults, (line) => this.#route(line));
  }

  /** Requests in flight. */
  get pending(): number {
    return this.#pending.size;
  }

  /** Listeners of the session's unasked lines. */
  get listeners(): number {
    return this.#listeners.size;
  }

  /** True once the session has ended. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Sends one request (any keys of the line protocol but `id`, which is chosen here) and resolves
   * with its answer line.
   */
  request(fields: Record<string, unknown>): Promise<WrittenLine> {
    return this.requestText(JSON.stringify(fields));
  }

  /**
   * {@link request} with the request as JSON text already made: an object without `id` and
   * without space after its brace (`{"message":{...}}`, `{}`), to which the id is added first (a
   * one-shot call's body goes in as the text it came as, not parsed, spread and written again).
   */
  requestText(fields: string): Promise<WrittenLine> {
    if (this.#closed || this.#inputClosed) {
      return Promise.resolve({
        text: "",
        value: { id: 0, error: "SessionClosed", msg: "the account's session was closed" },
      });
    }
    const id = this.#nextId++;
    const answer = new Promise<WrittenLine>((resolve) => this.#pending.set(id, resolve));
    // One-shot calls come one HTTP request each: those of one turn go to the session together a
    // turn later, as lines of one TCP read do, so that they share MTProto writes.
    const text = fields === "{}" ? `{"id":${id}}` : `{"id":${id},${fields.slice(1)}`;
    this.#queued.push({ id, text });
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => this.#handleQueued());
    }
    return answer;
  }

  /**
   * Hears every unasked line (id 0: updates with their cursors, events) until the returned
   * function is called.
   */
  listen(listener: (line: WrittenLine) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Ends the session: calls in flight are answered, then its MTProto connections close. */
  close(): Promise<void> {
    if (!this.#closed && !this.#inputClosed) {
      this.#inputClosed = true;
      // Calls of this turn go first: calls in flight are answered.
      this.#handleQueued();
      this.#connection.inputEnded();
      this.#connection.idle().then(() => {
        this.#connection.close();
        this.#closed = true;
        for (const [id, resolve] of this.#pending) {
          resolve({
            text: "",
            value: { id, error: "SessionClosed", msg: "the account's session was closed" },
          });
        }
        this.#pending.clear();
        this.#ended();
      });
    }
    return this.done;
  }

  /** Hands the lines of this turn to the session, all before anything else runs (one write). */
  #handleQueued(): void {
    this.#scheduled = false;
    const lines = this.#queued;
    this.#queued = [];
    for (const { id, text } of lines) {
      // A UTF-16 code unit is at most three bytes of UTF-8: most lines are not counted.
      if (text.length * 3 > this.#maxLine && utf8Length(text) > this.#maxLine) {
        // Answered under its own id (the protocol's LineTooLong line has none to route by).
        this.#answer(id, {
          id,
          error: "LineTooLong",
          msg: `a line of ${utf8Length(text)} bytes exceeds the limit of ${this.#maxLine}`,
        });
        continue;
      }
      this.#handling = id;
      try {
        this.#connection.handleLine(text);
      } catch (error) {
        this.#log(`http: internal error: ${(error as Error).stack ?? error}`);
        this.#answer(id, { id, error: "InternalError", msg: String(error) });
      } finally {
        this.#handling = undefined;
      }
    }
  }

  #answer(id: number, value: Record<string, unknown>): void {
    const resolve = this.#pending.get(id);
    this.#pending.delete(id);
    resolve?.({ text: JSON.stringify(value), value });
  }

  #route(text: string): void {
    const line = writtenLine(text);
    // Lines are written `{"id":N,...`: the id is read from there, and the rest parsed only when
    // asked for (a one-shot call's answer is mostly passed on as the text it is).
    const id = text.startsWith('{"id":') ? parseInt(text.slice(6, 30)) : line.value.id as number;
    if (id === 0) {
      for (const listener of this.#listeners) listener(line);
      return;
    }
    // A line refused before its id was read (BadJson: nested past the parser's limit, say) is
    // answered at once with a negative id: it is the answer to the line being handed over.
    const to = id < 0 && this.#handling !== undefined ? this.#handling : id;
    const resolve = this.#pending.get(to);
    if (!resolve) return;
    this.#pending.delete(to);
    resolve(line);
  }
}

/** A line as written, its object parsed (keeping exact integers) the first time it is read. */
export function writtenLine(text: string): WrittenLine {
  return new LazyLine(text);
}

/**
 * A written line as a class: every answer of a one-shot call is one, and its getter on the
 * prototype costs no closure (and scope) per line as an object literal's did.
 */
class LazyLine implements WrittenLine {
  #value: Record<string, unknown> | undefined;
  constructor(readonly text: string) {}

  get value(): Record<string, unknown> {
    return this.#value ??= parseKeepingNumbers(this.text) as Record<string, unknown>;
  }
}

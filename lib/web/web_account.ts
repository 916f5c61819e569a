/**
 * An account handle's live side: one session of the line protocol run in memory by `serveLines`
 * (the same code as a TCP connection), its session line sent first; a one-shot call is a line
 * with a fresh id whose answer is routed back by id. Updates and events (id 0) go to whoever
 * listens (the updates routes).
 *
 * @module
 */

import { setImmediate } from "node:timers";
import type { ProxyDefaults } from "../proxy/proxy_connection.ts";
import { serveLines } from "../proxy/serve_lines.ts";
import { parseKeepingNumbers } from "./http_answers.ts";

/** A line the session wrote: its text as written, and the object it holds. */
export interface WrittenLine {
  text: string;
  value: Record<string, unknown>;
}

/** One in-memory session of the line protocol. */
export class WebAccount {
  readonly #input: ReadableStreamDefaultController<Uint8Array>;
  readonly #pending = new Map<number, (line: WrittenLine) => void>();
  readonly #listeners = new Set<(line: WrittenLine) => void>();
  readonly #encoder = new TextEncoder();
  #nextId = 1;
  /** Request lines of this turn, not yet handed to the session. */
  #queued = "";
  #scheduled = false;
  #inputClosed = false;
  #closed = false;
  /** Resolves once the session has ended (closed, or its input ended). */
  readonly done: Promise<void>;

  /** Starts the session, served with `defaults`. */
  constructor(defaults: ProxyDefaults, maxLine: number) {
    let input!: ReadableStreamDefaultController<Uint8Array>;
    const readable = new ReadableStream<Uint8Array>({ start: (c) => void (input = c) });
    this.#input = input;
    this.done = serveLines(defaults, {
      readable,
      write: (text) => {
        for (const line of text.split("\n")) if (line !== "") this.#route(line);
        return Promise.resolve();
      },
      maxLine,
    }).then(() => {
      this.#closed = true;
      for (const [id, resolve] of this.#pending) {
        resolve({
          text: "",
          value: { id, error: "SessionClosed", msg: "the account's session was closed" },
        });
      }
      this.#pending.clear();
    });
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
    if (this.#closed) {
      return Promise.resolve({
        text: "",
        value: { id: 0, error: "SessionClosed", msg: "the account's session was closed" },
      });
    }
    const id = this.#nextId++;
    const answer = new Promise<WrittenLine>((resolve) => this.#pending.set(id, resolve));
    // One-shot calls come one HTTP request each: those of one turn go to the session together a
    // turn later, as lines of one TCP read do, so that they share MTProto writes.
    this.#queued += JSON.stringify({ ...fields, id }) + "\n";
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => {
        this.#scheduled = false;
        const text = this.#queued;
        this.#queued = "";
        if (!this.#inputClosed) this.#input.enqueue(this.#encoder.encode(text));
      });
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
      try {
        // Calls of this turn go first: calls in flight are answered.
        if (this.#queued) this.#input.enqueue(this.#encoder.encode(this.#queued));
        this.#queued = "";
        this.#input.close();
      } catch {
        // already closed
      }
    }
    return this.done;
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
    const resolve = this.#pending.get(id);
    if (!resolve) return; // a negative id: nothing this front sends can earn one
    this.#pending.delete(id);
    resolve(line);
  }
}

/** A line as written, its object parsed (keeping exact integers) the first time it is read. */
export function writtenLine(text: string): WrittenLine {
  let value: Record<string, unknown> | undefined;
  return {
    text,
    get value() {
      return value ??= parseKeepingNumbers(text) as Record<string, unknown>;
    },
  };
}

/**
 * A line-oriented test client for `serve`: sends objects, waits for responses by id.
 *
 * @module
 */

import { readLines } from "../../lib/io/lines.ts";

/** What the client reads and writes: a TCP connection, or anything shaped like one. */
export interface LineChannel {
  readable: ReadableStream<Uint8Array>;
  /** Writes some of the bytes; resolves with how many. */
  write(bytes: Uint8Array): Promise<number>;
  close(): void;
}

/** A client of the JSON protocol over TCP (or any {@link LineChannel}: a WebSocket's). */
export class JsonClient {
  readonly #connection: LineChannel;
  readonly #lines: Record<string, unknown>[] = [];
  readonly #waiting: {
    test: (line: Record<string, unknown>) => boolean;
    resolve: (line: Record<string, unknown>) => void;
  }[] = [];
  /** `request` waits by id: a map, not a scan, when hundreds are in flight. */
  readonly #byId = new Map<unknown, (line: Record<string, unknown>) => void>();
  /** Lines sent in one tick go out in one write, as any buffered socket client does. */
  #outgoing: string[] = [];
  #scheduled = false;
  #written: Promise<void> = Promise.resolve();
  readonly updates: Record<string, unknown>[] = [];
  closed = false;

  private constructor(connection: LineChannel) {
    this.#connection = connection;
    (async () => {
      for await (const line of readLines(connection.readable)) {
        if (line.kind !== "line") continue;
        const value = JSON.parse(line.text);
        if (value.id === 0) this.updates.push(value);
        const byId = this.#byId.get(value.id);
        if (byId) {
          this.#byId.delete(value.id);
          byId(value);
          continue;
        }
        const index = this.#waiting.findIndex((waiter) => waiter.test(value));
        if (index >= 0) this.#waiting.splice(index, 1)[0].resolve(value);
        else this.#lines.push(value);
      }
      this.closed = true;
    })().catch(() => (this.closed = true));
  }

  /** Connects to a serve port. */
  static async connect(port: number): Promise<JsonClient> {
    return new JsonClient(await Deno.connect({ hostname: "127.0.0.1", port }));
  }

  /** A client over another channel than TCP (tests/support/ws_json_client.ts: a WebSocket). */
  static over(channel: LineChannel): JsonClient {
    return new JsonClient(channel);
  }

  /** Sends raw text (a line, or anything). */
  async sendText(text: string): Promise<void> {
    const bytes = new TextEncoder().encode(text);
    for (let written = 0; written < bytes.length;) {
      written += await this.#connection.write(bytes.subarray(written));
    }
  }

  /** Sends one object as a line; lines sent in the same tick share one write. */
  send(value: unknown): Promise<void> {
    this.#outgoing.push(JSON.stringify(value) + "\n");
    if (!this.#scheduled) {
      this.#scheduled = true;
      // Writes follow each other: what queues up during one goes out in the next.
      this.#written = this.#written.then(async () => {
        this.#scheduled = false;
        const text = this.#outgoing.join("");
        this.#outgoing = [];
        await this.sendText(text);
      });
    }
    return this.#written;
  }

  /** Waits for the next line matching `test` (already received ones included). */
  next(
    test: (line: Record<string, unknown>) => boolean,
    timeoutMs = 10000,
  ): Promise<Record<string, unknown>> {
    const index = this.#lines.findIndex(test);
    if (index >= 0) return Promise.resolve(this.#lines.splice(index, 1)[0]);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no matching line within ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.#waiting.push({ test, resolve: (line) => (clearTimeout(timer), resolve(line)) });
    });
  }

  /** Sends a request and waits for the response with its id. */
  async request(
    value: Record<string, unknown>,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>> {
    const id = value.id ?? 1;
    const buffered = this.#lines.findIndex((line) => line.id === id);
    const answer = buffered >= 0
      ? Promise.resolve(this.#lines.splice(buffered, 1)[0])
      : new Promise<Record<string, unknown>>((resolve, reject) => {
        const timer = setTimeout(() => {
          this.#byId.delete(id);
          reject(new Error(`no answer to id ${id} within ${timeoutMs ?? 10000} ms`));
        }, timeoutMs ?? 10000);
        this.#byId.set(id, (line) => (clearTimeout(timer), resolve(line)));
      });
    await this.send(value);
    return await answer;
  }

  close(): void {
    try {
      this.#connection.close();
    } catch {
      // already closed
    }
  }
}

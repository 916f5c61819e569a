/**
 * How much output the requests in flight will bring, for back-pressure: a file part asked for
 * with `upload.getFile` comes back as up to `limit` bytes, written as base64 (4 characters for
 * every 3 bytes) in its answer line. A client that sends many such requests and reads nothing
 * must be stopped before their answers arrive, not after: counted only once written, a batch of
 * a thousand 1 MiB parts would all be in flight first.
 *
 * @module
 */

/** Methods whose answer carries up to `limit` bytes of a file. */
const FILE_PARTS = new Set(["upload.getFile", "upload.getCdnFile", "upload.getWebFile"]);

/**
 * The characters the answer to `request` (a request line's object) may take beyond a small line:
 * a file part's base64, else 0.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { expectedAnswerCharacters } from "./answer_size.ts";
 * const part = { _cons: "upload.getFile", offset: 0, limit: 1048576 };
 * assert.equal(expectedAnswerCharacters({ id: 1, message: part }), 1398104);
 * assert.equal(expectedAnswerCharacters({ id: 2, message: { _cons: "help.getConfig" } }), 0);
 * ```
 */
export function expectedAnswerCharacters(request: Record<string, unknown>): number {
  const message = request.message as Record<string, unknown> | null | undefined;
  if (typeof message !== "object" || message === null) return 0;
  if (!FILE_PARTS.has(message._cons as string)) return 0;
  const limit = Number(message.limit);
  return Number.isFinite(limit) && limit > 0 ? Math.ceil(Math.min(limit, 1 << 20) / 3) * 4 : 0;
}

/** The expected output of the requests in flight, by request id. */
export class ExpectedAnswers {
  /** Made with the first request expecting a big answer: most connections send none. */
  #byId?: Map<number, number>;
  /** Their sum, in characters. */
  total = 0;

  /** Counts request `id`'s answer until {@link settle}. */
  add(id: number, request: Record<string, unknown>): void {
    const characters = expectedAnswerCharacters(request);
    if (characters === 0) return;
    (this.#byId ??= new Map()).set(id, characters);
    this.total += characters;
  }

  /** Request `id` was answered: its answer is output now (or never comes). */
  settle(id: number): void {
    if (!this.#byId) return;
    this.total -= this.#byId.get(id) ?? 0;
    this.#byId.delete(id);
    if (this.#byId.size === 0) this.#byId = undefined;
  }
}

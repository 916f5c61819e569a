/**
 * The pace of file requests (upload.getFile, upload.saveFilePart, upload.saveBigFilePart,
 * upload.getCdnFile): answers held `fileLatencyMs` on the DC's clock, and with `fileFlood` N, an
 * auth key's requests beyond N in flight answered FLOOD_WAIT, as Telegram answers a client that
 * asks for too many parts at once. "In flight" is received and not yet answered, so latency is
 * what makes requests overlap; with none, the requests of one received container overlap.
 *
 * @module
 */

import { RpcError } from "../../errors.ts";
import type { CallContext } from "../dc_context.ts";
import type { WorldOptions } from "../world_types.ts";

/** The requests counted and paced. */
export const FILE_REQUESTS: ReadonlySet<string> = new Set([
  "upload.getFile",
  "upload.saveFilePart",
  "upload.saveBigFilePart",
  "upload.getCdnFile",
]);

/** File requests in flight, by auth key. */
export class FileTraffic {
  readonly #inFlight = new Map<string, number>();
  /** File requests admitted since start, every key's (a test counts the parts a client fetched). */
  admitted = 0;

  /** Reads the switches afresh at each request, so a test may change them while running. */
  constructor(private readonly options: WorldOptions) {}

  /**
   * Admits one file request: throws FLOOD_WAIT_S when its key has `fileFlood` in flight already;
   * otherwise counts it until its answer is sent, which is held `fileLatencyMs` and never
   * compressed.
   */
  admit(context: CallContext): void {
    const { fileFlood, fileFloodSeconds, fileLatencyMs } = this.options;
    const answer = context.answer;
    if (!answer) return; // a handler called outside a connection (unit tests): nothing to pace
    const key = context.messageKey.authKey.id.toHex();
    const count = this.#inFlight.get(key) ?? 0;
    if (fileFlood !== undefined && count >= fileFlood) {
      throw new RpcError(420, `FLOOD_WAIT_${fileFloodSeconds ?? 1}`);
    }
    this.#inFlight.set(key, count + 1);
    this.admitted++;
    answer.uncompressed = true;
    if (fileLatencyMs) answer.delayMs = fileLatencyMs;
    answer.onSent = () => {
      const left = (this.#inFlight.get(key) ?? 1) - 1;
      if (left > 0) this.#inFlight.set(key, left);
      else this.#inFlight.delete(key);
    };
  }

  /** File requests of the auth key `keyHex` received and not yet answered. */
  inFlight(keyHex: string): number {
    return this.#inFlight.get(keyHex) ?? 0;
  }
}

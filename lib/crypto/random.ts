/**
 * The source of randomness, passed in wherever randomness is used so that tests can replay
 * published examples byte for byte.
 *
 * @module
 */

/** Returns `length` random bytes. */
export type RandomSource = (length: number) => Uint8Array;

const POOLED_UP_TO = 256;
const pool = new Uint8Array(4096);
let poolAt = pool.length;

/**
 * Cryptographically secure random bytes from `crypto.getRandomValues`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { secureRandom } from "./random.ts";
 * assert.equal(secureRandom(32).length, 32);
 * ```
 */
export const secureRandom: RandomSource = (length) => {
  // Short requests (a message's padding, nonces) are cut from a pool filled 4 KiB at a time: a
  // getRandomValues call costs about a microsecond however few bytes it fills. Each pooled byte
  // is handed out once.
  if (length <= POOLED_UP_TO) {
    if (poolAt + length > pool.length) {
      crypto.getRandomValues(pool);
      poolAt = 0;
    }
    const bytes = pool.slice(poolAt, poolAt + length);
    poolAt += length;
    return bytes;
  }
  const bytes = new Uint8Array(length);
  // getRandomValues fills at most 65536 bytes per call.
  for (let offset = 0; offset < length; offset += 65536) {
    crypto.getRandomValues(bytes.subarray(offset, Math.min(length, offset + 65536)));
  }
  return bytes;
};

/**
 * A random source that replays fixed bytes, for tests and published examples; throws when
 * asked for more than it holds.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { replayRandom } from "./random.ts";
 * const random = replayRandom(Uint8Array.of(1, 2, 3));
 * assert.deepEqual(random(2), Uint8Array.of(1, 2));
 * assert.deepEqual(random(1), Uint8Array.of(3));
 * ```
 */
export function replayRandom(...chunks: Uint8Array[]): RandomSource {
  const all = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    all.set(chunk, offset);
    offset += chunk.length;
  }
  let position = 0;
  return (length) => {
    if (position + length > all.length) {
      throw new RangeError(
        `replayRandom: asked for ${length} bytes, ${all.length - position} left`,
      );
    }
    const bytes = all.slice(position, position + length);
    position += length;
    return bytes;
  };
}

/** A random signed 64-bit integer (session ids, salts, unique ids). */
export function randomLong(random: RandomSource): bigint {
  const bytes = random(8);
  return new DataView(bytes.buffer, bytes.byteOffset, 8).getBigInt64(0, true);
}

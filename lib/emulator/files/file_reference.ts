/**
 * File references: the opaque bytes a client must send back with a file's location. The
 * emulator's carry the file they belong to and when they were handed out, so that with a
 * lifetime set (`fileRefTtlSeconds`) an old one answers FILE_REFERENCE_EXPIRED and the client has
 * to fetch the message again, as on Telegram. https://core.telegram.org/api/file_reference
 *
 * @module
 */

import { RpcError } from "../../errors.ts";

/** One version byte, the issue time (unix seconds, big-endian), seven bytes naming the file. */
const REFERENCE_BYTES = 12;
const VERSION = 1;

/** Seven bytes that differ from file to file. */
function fileTag(file: { id: bigint; accessHash: bigint }): bigint {
  return BigInt.asUintN(56, file.id * 0x9e3779b97f4a7c15n ^ file.accessHash);
}

/**
 * A reference to `file` handed out at `seconds` (unix time).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkFileReference, issueFileReference } from "./file_reference.ts";
 * const file = { id: 5n, accessHash: 6n };
 * const reference = issueFileReference(file, 1000);
 * checkFileReference(file, reference, 1060, 60);
 * assert.throws(() => checkFileReference(file, reference, 1061, 60), /FILE_REFERENCE_EXPIRED/);
 * ```
 */
export function issueFileReference(
  file: { id: bigint; accessHash: bigint },
  seconds: number,
): Uint8Array {
  const bytes = new Uint8Array(REFERENCE_BYTES);
  const view = new DataView(bytes.buffer);
  bytes[0] = VERSION;
  view.setUint32(1, seconds >>> 0);
  const tag = fileTag(file);
  for (let i = 0; i < 7; i++) bytes[5 + i] = Number((tag >> BigInt(8 * (6 - i))) & 0xffn);
  return bytes;
}

/**
 * Refuses a reference as Telegram does: empty (FILE_REFERENCE_EMPTY), not one of `file`'s
 * (FILE_REFERENCE_INVALID), or handed out more than `ttlSeconds` before `nowSeconds`
 * (FILE_REFERENCE_EXPIRED).
 */
export function checkFileReference(
  file: { id: bigint; accessHash: bigint },
  reference: Uint8Array,
  nowSeconds: number,
  ttlSeconds: number,
): void {
  if (reference.length === 0) throw new RpcError(400, "FILE_REFERENCE_EMPTY");
  const expected = issueFileReference(file, 0);
  const ours = reference.length === REFERENCE_BYTES && reference[0] === VERSION &&
    reference.subarray(5).every((byte, i) => byte === expected[5 + i]);
  if (!ours) throw new RpcError(400, "FILE_REFERENCE_INVALID");
  const issued = new DataView(reference.buffer, reference.byteOffset).getUint32(1);
  if (nowSeconds - issued > ttlSeconds) throw new RpcError(400, "FILE_REFERENCE_EXPIRED");
}

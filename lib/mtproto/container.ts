/**
 * `msg_container`: several messages in one, each with its own msg_id and seqno. Both sides pack
 * and unpack it. https://core.telegram.org/mtproto/service_messages#simple-container
 *
 * @module
 */

import { SecurityError } from "../errors.ts";
import { TlReader } from "../tl/reader.ts";
import type { BodyWriter } from "./encrypted_message.ts";

/** Constructor id of `msg_container`. */
export const MSG_CONTAINER_ID = 0x73f1f8dc;

/** One message inside a container. */
export interface ContainedMessage {
  messageId: bigint;
  seqNo: number;
  body: Uint8Array;
}

/**
 * Serializes msg_container: its id, the count, then each message's id, seqno, length, body.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { packContainer, unpackContainer } from "./container.ts";
 * const inner = [{ messageId: 4n, seqNo: 1, body: new Uint8Array(8) }];
 * assert.deepEqual(unpackContainer(packContainer(inner)), inner);
 * ```
 */
export function packContainer(messages: ContainedMessage[]): Uint8Array {
  const body = containerBody(messages);
  const out = new Uint8Array(body.length);
  body.writeTo(out);
  return out;
}

/**
 * msg_container as a body that writes itself into the encrypted message (see encryptMessage):
 * each message's bytes are copied once, into place, instead of into a container first.
 */
export function containerBody(
  messages: (Omit<ContainedMessage, "body"> & { body: Uint8Array | BodyWriter })[],
): BodyWriter {
  return {
    length: messages.reduce((sum, m) => sum + m.body.length + 16, 8),
    writeTo(into: Uint8Array) {
      const view = new DataView(into.buffer, into.byteOffset, into.byteLength);
      view.setUint32(0, MSG_CONTAINER_ID, true);
      view.setInt32(4, messages.length, true);
      let offset = 8;
      for (const message of messages) {
        view.setBigInt64(offset, BigInt.asIntN(64, message.messageId), true);
        view.setInt32(offset + 8, message.seqNo, true);
        view.setInt32(offset + 12, message.body.length, true);
        const body = message.body;
        if (body instanceof Uint8Array) into.set(body, offset + 16);
        else body.writeTo(into.subarray(offset + 16, offset + 16 + body.length));
        offset += 16 + message.body.length;
      }
    },
  };
}

/** Reads msg_container, checking each declared length against what is left. */
export function unpackContainer(body: Uint8Array): ContainedMessage[] {
  const reader = new TlReader(body);
  if (reader.uint32() !== MSG_CONTAINER_ID) throw new SecurityError("not a msg_container");
  const count = reader.vectorLength();
  const messages: ContainedMessage[] = [];
  for (let i = 0; i < count; i++) {
    const messageId = reader.long();
    const seqNo = reader.int32();
    const length = reader.int32();
    if (length < 0 || length % 4 !== 0) {
      throw new SecurityError(`contained message length ${length}`);
    }
    messages.push({ messageId, seqNo, body: reader.raw(length, "contained message") });
  }
  return messages;
}

/**
 * Visits each message body of the container `body` where it lies (`start`, `length` in `body`),
 * without unpacking it: no object or view per message, for a caller that looks at a few bytes of
 * each. Returns false for a malformed container (a count or a length that is negative, not a
 * multiple of 4, or past the end), as {@link unpackContainer} would throw; the bodies before the
 * fault have been visited.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { packContainer, walkContainer } from "./container.ts";
 * const packed = packContainer([{ messageId: 4n, seqNo: 1, body: new Uint8Array(8) }]);
 * const seen: number[][] = [];
 * assert.equal(walkContainer(packed, (start, length) => seen.push([start, length])), true);
 * assert.deepEqual(seen, [[24, 8]]);
 * assert.equal(walkContainer(packed.subarray(0, 30), () => {}), false);
 * ```
 */
export function walkContainer(
  body: Uint8Array,
  visit: (start: number, length: number) => void,
): boolean {
  if (body.length < 8) return false;
  const count = int32At(body, 4);
  if (count < 0 || count * 4 > body.length - 8) return false;
  for (let i = 0, offset = 8; i < count; i++) {
    if (offset + 16 > body.length) return false;
    const length = int32At(body, offset + 12);
    const start = offset + 16;
    if (length < 0 || length % 4 !== 0 || length > body.length - start) return false;
    visit(start, length);
    offset = start + length;
  }
  return true;
}

/** The little-endian int32 at `at`. */
function int32At(bytes: Uint8Array, at: number): number {
  return bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16) | (bytes[at + 3] << 24);
}

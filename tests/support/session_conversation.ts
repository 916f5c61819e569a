/**
 * A client session and the server half of its conversation, driven by hand: no sockets, no
 * emulator, a clock the test moves. Tests check only what goes over the wire and the events.
 *
 * @module
 */

import { secureRandom } from "../../lib/crypto/random.ts";
import {
  decryptMessage,
  encryptMessage,
  makeAuthKey,
} from "../../lib/mtproto/encrypted_message.ts";
import { MessageIdGenerator } from "../../lib/mtproto/message_id.ts";
import { unpackContainer } from "../../lib/mtproto/container.ts";
import { ClientSession } from "../../lib/mtproto/session.ts";
import { TlCodec, type TlObject } from "../../lib/tl/codec.ts";
import { loadSchema } from "../../lib/tl/default_schema.ts";
import { packRpcResult } from "../../lib/mtproto/rpc_result.ts";

/** The native codec both halves use. */
export const codec = new TlCodec(loadSchema());
/** The time conversations start at, in milliseconds. */
export const NOW = 1_800_000_000_000;
/** A clock stopped at {@link NOW}. */
export const clock = () => NOW;
/** The salt the session starts with and the server uses. */
export const SALT = 0x1111n;

/** A session and the server half of its conversation; `time.ms` moves both clocks. */
export function conversation() {
  const time = { ms: NOW };
  const moving = () => time.ms;
  const authKey = makeAuthKey(secureRandom(256));
  const session = new ClientSession({
    codec,
    authKey,
    salt: SALT,
    random: secureRandom,
    clock: moving,
  });
  const serverIds = new MessageIdGenerator(moving, "server");
  let serverSeq = 0;
  return {
    session,
    time,
    /** Decrypts what the client flushed: its messages, containers opened. */
    received(): { messageId: bigint; body: TlObject; salt: bigint }[] {
      const payload = session.flush();
      if (!payload) return [];
      const message = decryptMessage(authKey, payload.subarray(0), "client");
      const decoded = codec.decode(message.body);
      const inner = decoded._cons === "msg_container"
        ? unpackContainer(message.body).map((item) => ({ id: item.messageId, body: item.body }))
        : [{ id: message.messageId, body: message.body }];
      return inner.map((item) => ({
        messageId: item.id,
        body: codec.decode(item.body),
        salt: message.salt,
      }));
    },
    /** Encrypts a server message to the session; `options` can break it on purpose. */
    send(
      body: Uint8Array,
      options: { response?: boolean; messageId?: bigint; sessionId?: bigint } = {},
    ): Uint8Array {
      return encryptMessage(
        authKey,
        {
          salt: SALT,
          sessionId: options.sessionId ?? session.sessionId,
          messageId: options.messageId ?? serverIds.next(options.response ?? true),
          seqNo: 2 * serverSeq++ + 1,
        },
        body,
        "server",
        secureRandom,
      );
    },
  };
}

/** An rpc_result answering `requestMessageId` with `result` (or raw bytes). */
export function rpcResult(requestMessageId: bigint, result: TlObject | Uint8Array): Uint8Array {
  return packRpcResult(
    requestMessageId,
    result instanceof Uint8Array ? result : codec.encode(result),
  );
}

/** An answer to help.getNearestDc. */
export const NEAREST = { _cons: "nearestDc", country: "NL", this_dc: 2, nearest_dc: 2 };

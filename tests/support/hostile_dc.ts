/**
 * A scriptable fake DC for tests, built from the project's own transport, TL and crypto pieces:
 * it misbehaves before an auth key exists (silence, a hostile `resPQ`, absurd or garbage frames,
 * transport errors, a frame cut off), where a real DC cannot. Misbehaviour after the key exchange
 * (bombs, deep nesting, wrong types, replays, a forgotten key) is the emulator's own fault hooks.
 *
 * Clients reach it over plain (not obfuscated) intermediate framing, so that a hostile length word
 * is seen as written.
 *
 * @module
 */

import { secureRandom } from "../../lib/crypto/random.ts";
import { rsaFingerprint, type RsaPrivateKey } from "../../lib/crypto/rsa.ts";
import { bytesFromBigint } from "../../lib/crypto/bigint.ts";
import { packPlainMessage, unpackPlainMessage } from "../../lib/mtproto/plain_message.ts";
import { MessageIdGenerator } from "../../lib/mtproto/message_id.ts";
import { ServerTransport } from "../../lib/transport/transport.ts";
import { acceptLoop, closeQuietly } from "../../lib/net/accept_loop.ts";
import type { TlCodec } from "../../lib/tl/codec.ts";

/** What the fake DC does to every connection. */
export type RawHostility =
  | "silent" // accepts, reads, never writes
  | "echo" // writes back what it reads
  | "garbage" // answers the first bytes with random bytes
  | "huge_length" // a 2^31 length word, then nothing
  | "cut_frame" // half a frame, then closes
  | "prime_pq" // resPQ with a prime pq
  | "unit_pq" // resPQ with pq = 1
  | "flood_429"; // transport error -429, then closes

/** A running fake DC. */
export interface HostileDc {
  port: number;
  /** Connections accepted so far. */
  accepted(): number;
  /** Connections not yet closed by either side. */
  open(): number;
  close(): Promise<void>;
}

/** Listens on 127.0.0.1 and treats every connection with `behaviour`. */
export function listenHostile(
  behaviour: RawHostility,
  codec: TlCodec,
  rsaKey: RsaPrivateKey,
): HostileDc {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const sockets = new Set<Deno.TcpConn>();
  let accepted = 0;
  const serving = acceptLoop(listener, (socket) => {
    accepted++;
    sockets.add(socket);
    treat(socket, behaviour, codec, rsaKey).finally(() => {
      sockets.delete(socket);
      closeQuietly(socket);
    });
  }, () => {});
  return {
    port: (listener.addr as Deno.NetAddr).port,
    accepted: () => accepted,
    open: () => sockets.size,
    async close() {
      closeQuietly(listener);
      for (const socket of sockets) closeQuietly(socket);
      await serving;
    },
  };
}

async function treat(
  socket: Deno.TcpConn,
  behaviour: RawHostility,
  codec: TlCodec,
  rsaKey: RsaPrivateKey,
): Promise<void> {
  const transport = new ServerTransport(secureRandom);
  const ids = new MessageIdGenerator(Date.now, "server");
  const write = async (bytes: Uint8Array) => {
    for (let written = 0; written < bytes.length;) {
      written += await socket.write(bytes.subarray(written));
    }
  };
  try {
    for await (const chunk of socket.readable) {
      switch (behaviour) {
        case "silent":
          continue;
        case "echo":
          await write(chunk);
          continue;
        case "garbage":
          await write(secureRandom(4096));
          continue;
        case "huge_length":
          await write(new Uint8Array([0, 0, 0, 0x80]));
          continue;
        case "cut_frame": {
          const frame = new Uint8Array(4 + 50);
          new DataView(frame.buffer).setUint32(0, 200, true);
          await write(frame);
          return;
        }
        case "flood_429":
          if (transport.unpack(chunk).length) {
            await write(transport.packError(429));
            return;
          }
          continue;
        case "prime_pq":
        case "unit_pq":
          for (const payload of transport.unpack(chunk)) {
            const request = codec.decode(unpackPlainMessage(payload).body);
            const pq = behaviour === "prime_pq" ? 0x7fffffffffffffe7n : 1n;
            const reply = codec.encode({
              _cons: "resPQ",
              nonce: request.nonce,
              server_nonce: secureRandom(16),
              pq: bytesFromBigint(pq),
              server_public_key_fingerprints: [rsaFingerprint(rsaKey)],
            });
            await write(transport.pack(packPlainMessage(ids.next(true), reply)));
          }
          continue;
      }
    }
  } catch {
    // the client went away
  }
}

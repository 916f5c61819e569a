import { assertEquals, assertThrows } from "../assert.ts";
import { TransportError } from "../../lib/errors.ts";
import { secureRandom } from "../../lib/crypto/random.ts";
import { ClientTransport, ServerTransport } from "../../lib/transport/transport.ts";
import { ByteQueue } from "../../lib/transport/byte_queue.ts";
import { FRAME_HEADROOM, type TransportKind } from "../../lib/transport/framing.ts";

const VARIANTS: { kind: TransportKind; obfuscated: boolean }[] = [
  { kind: "abridged", obfuscated: false },
  { kind: "intermediate", obfuscated: false },
  { kind: "padded", obfuscated: false },
  { kind: "full", obfuscated: false },
  { kind: "abridged", obfuscated: true },
  { kind: "intermediate", obfuscated: true },
  { kind: "padded", obfuscated: true },
];

/** Splits bytes into random small pieces, as TCP may deliver them. */
function dribble(bytes: Uint8Array): Uint8Array[] {
  const pieces: Uint8Array[] = [];
  for (let offset = 0; offset < bytes.length;) {
    const size = 1 + (secureRandom(1)[0] % 97);
    pieces.push(bytes.slice(offset, offset + size));
    offset += size;
  }
  return pieces;
}

for (const { kind, obfuscated } of VARIANTS) {
  Deno.test(`${kind}${obfuscated ? " obfuscated" : ""}: payloads cross both ways whole, however the bytes are split`, () => {
    const client = new ClientTransport({ kind, obfuscated, dcId: -3 }, secureRandom);
    const server = new ServerTransport(secureRandom);
    // MTProto payloads are never shorter than 20 bytes; a 4-byte one is an error code.
    const sizes = [20, 124, 128, 508, 512, 4096, 70000];
    const sent = sizes.map((size) => secureRandom(size));
    const received: Uint8Array[] = [];
    for (const payload of sent) {
      for (const piece of dribble(client.pack(payload))) received.push(...server.unpack(piece));
    }
    assertEquals(server.kind, kind);
    assertEquals(server.obfuscated, obfuscated);
    if (obfuscated) assertEquals(server.dcId, -3);
    // Padded intermediate appends up to 15 bytes; the payload itself is a prefix.
    assertEquals(received.map((payload, i) => payload.subarray(0, sizes[i])), sent);
    const replies: Uint8Array[] = [];
    for (const payload of sent) {
      for (const piece of dribble(server.pack(payload))) replies.push(...client.unpack(piece));
    }
    assertEquals(replies.map((payload, i) => payload.subarray(0, sizes[i])), sent);
  });

  Deno.test(`${kind}${obfuscated ? " obfuscated" : ""}: with headroom, the same bytes cross, and the payload is kept`, () => {
    const client = new ClientTransport({ kind, obfuscated }, secureRandom);
    const server = new ServerTransport(secureRandom);
    // As encryptMessage's headroom leaves them: spare bytes just before each payload.
    const spare = (size: number) => {
      const payload = secureRandom(FRAME_HEADROOM + size).subarray(FRAME_HEADROOM);
      return { payload, before: payload.slice() };
    };
    const sizes = [20, 508, 512, 70000];
    for (const size of sizes) {
      const { payload, before } = spare(size);
      const [received] = server.unpack(client.pack(payload, { headroom: FRAME_HEADROOM }));
      assertEquals(received.subarray(0, size), before);
      assertEquals(payload, before);
    }
    for (const size of sizes) {
      const { payload, before } = spare(size);
      const [reply] = client.unpack(server.pack(payload, { headroom: FRAME_HEADROOM }));
      assertEquals(reply.subarray(0, size), before);
      assertEquals(payload, before);
    }
    if (kind === "intermediate" && !obfuscated) {
      // Unpadded intermediate framing writes its header into the room: no copy of the payload.
      const { payload } = spare(4096);
      assertEquals(server.pack(payload, { headroom: FRAME_HEADROOM }).buffer, payload.buffer);
    }
  });

  Deno.test(`${kind}${obfuscated ? " obfuscated" : ""}: a negative code from the server is a TransportError`, () => {
    const client = new ClientTransport({ kind, obfuscated }, secureRandom);
    const server = new ServerTransport(secureRandom);
    server.unpack(client.pack(new Uint8Array(8)));
    const error = assertThrows(() => client.unpack(server.packError(404)), TransportError, "-404");
    assertEquals(error.code, 404);
  });
}

Deno.test("obfuscated headers never start like another protocol and hide the tag", () => {
  for (let i = 0; i < 200; i++) {
    const bytes = new ClientTransport({ kind: "intermediate", obfuscated: true }, secureRandom)
      .pack(new Uint8Array(4));
    assertEquals(bytes[0] !== 0xef, true);
    const view = new DataView(bytes.buffer);
    assertEquals(view.getUint32(4, true) !== 0, true);
    assertEquals(view.getUint32(56, true) !== 0xeeeeeeee, true);
  }
});

Deno.test("full transport rejects a bad CRC and a skipped sequence number", () => {
  const client = new ClientTransport({ kind: "full" }, secureRandom);
  const server = new ServerTransport(secureRandom);
  const frame = client.pack(new Uint8Array(16));
  frame[10] ^= 1;
  assertThrows(() => server.unpack(frame), TransportError, "fails its CRC32");
  const sender = new ClientTransport({ kind: "full" }, secureRandom);
  const receiver = new ServerTransport(secureRandom);
  assertEquals(receiver.unpack(sender.pack(new Uint8Array(16))).length, 1);
  sender.pack(new Uint8Array(16)); // frame 1 is lost
  assertThrows(
    () => receiver.unpack(sender.pack(new Uint8Array(16))),
    TransportError,
    "sequence 2, expected 1",
  );
});

Deno.test("absurd frame lengths are refused instead of buffered", () => {
  const server = new ServerTransport(secureRandom);
  assertThrows(
    () => server.unpack(Uint8Array.of(0xee, 0xee, 0xee, 0xee, 0xff, 0xff, 0xff, 0x7f)),
    TransportError,
    "too large",
  );
});

Deno.test("an HTTP request or WebSocket upgrade is told this server speaks TCP transports only", () => {
  for (
    const start of ["POST /api HTTP/1.1\r\n", "GET /apiws HTTP/1.1\r\n", "HEAD / HTTP/1.1\r\n"]
  ) {
    const server = new ServerTransport(secureRandom);
    assertThrows(
      () => server.unpack(new TextEncoder().encode(start)),
      TransportError,
      "not HTTP or WebSocket",
    );
  }
});

for (const { kind, obfuscated } of VARIANTS) {
  Deno.test(`${kind}${obfuscated ? " obfuscated" : ""}: bytes read into readTarget() make the same payloads, a big one in that very buffer`, () => {
    const client = new ClientTransport({ kind, obfuscated }, secureRandom);
    const server = new ServerTransport(secureRandom);
    server.unpack(client.pack(secureRandom(20)));
    const sent = [secureRandom(200_000), secureRandom(40), secureRandom(300_000)];
    const wire = new Uint8Array(sent.reduce((sum, payload) => sum + payload.length + 64, 0));
    let end = 0;
    for (const payload of sent) {
      const framed = server.pack(payload);
      wire.set(framed, end);
      end += framed.length;
    }
    const received: Uint8Array[] = [];
    const targets: Uint8Array[] = [];
    // As a socket delivers: up to 50 000 bytes a read, into the target when there is one.
    for (let offset = 0; offset < end;) {
      const target = client.readTarget();
      const count = Math.min(end - offset, 50_000, target?.length ?? Infinity);
      const chunk = target ? target.subarray(0, count) : new Uint8Array(count);
      chunk.set(wire.subarray(offset, offset + count));
      if (target) targets.push(target);
      offset += count;
      received.push(...client.unpack(chunk));
    }
    assertEquals(received.map((payload, i) => payload.subarray(0, sent[i].length)), sent);
    assertEquals(targets.length > 0, true);
    if (kind !== "full") {
      // The big payloads were gathered where they were read: no copy at the end.
      for (const index of [0, 2]) {
        assertEquals(targets.some((target) => target.buffer === received[index].buffer), true);
      }
    }
  });
}

Deno.test("a big frame's bytes are gathered as they come; what follows it stays queued", () => {
  const queue = new ByteQueue();
  const frame = secureRandom(100_000);
  queue.push(frame.slice(0, 10));
  queue.reserve(100_000);
  assertEquals(queue.length, 10);
  assertEquals(queue.peek(4), frame.subarray(0, 4));
  assertEquals(queue.readTarget()?.length, 99_990);
  queue.push(frame.slice(10, 60_000));
  // Bytes read into the target are taken where they are.
  const target = queue.readTarget()!;
  target.set(frame.subarray(60_000, 70_000));
  queue.push(target.subarray(0, 10_000));
  const after = Uint8Array.of(1, 2, 3, 4);
  queue.push(new Uint8Array([...frame.subarray(70_000), ...after]));
  assertEquals(queue.readTarget(), undefined);
  assertEquals(queue.length, 100_004);
  const taken = queue.take(100_000);
  assertEquals(taken, frame);
  assertEquals(taken.buffer, target.buffer);
  assertEquals(queue.take(4), after);
  // Small frames are left to the chunks as they are.
  queue.push(Uint8Array.of(9));
  queue.reserve(1000);
  assertEquals(queue.readTarget(), undefined);
});

import { assertEquals } from "../assert.ts";
import { readChunks } from "../../lib/net/read_chunks.ts";

/** A source that hands out `bytes` at most `most` at a time. */
function source(bytes: Uint8Array, most: number) {
  let offset = 0;
  return {
    read(into: Uint8Array): Promise<number | null> {
      if (offset === bytes.length) return Promise.resolve(null);
      const count = Math.min(most, into.length, bytes.length - offset);
      into.set(bytes.subarray(offset, offset + count));
      offset += count;
      return Promise.resolve(count);
    },
  };
}

Deno.test("a buffer given to next() is read into, and the chunk is a view of it from its start", async () => {
  const bytes = new Uint8Array(30_000).map((_, i) => i * 31);
  const reader = readChunks(source(bytes, 7000));
  const chunks: Uint8Array[] = [];
  const first = await reader.next();
  chunks.push(first.value!);
  const target = new Uint8Array(10_000);
  const into = await reader.next(target);
  assertEquals(into.value!.buffer, target.buffer);
  assertEquals(into.value!.byteOffset, target.byteOffset);
  assertEquals(into.value!.length, 7000);
  chunks.push(into.value!.slice());
  // Nothing given: buffers of its own again, never the target.
  for (let next; !(next = await reader.next()).done;) {
    assertEquals(next.value!.buffer === target.buffer, false);
    chunks.push(next.value!);
  }
  assertEquals(new Uint8Array(chunks.flatMap((chunk) => [...chunk])), bytes);
});

Deno.test("an idle connection's pending read holds 1 KiB; reads that fill the buffer double it up to 128 KiB, and small ones shrink it again", async () => {
  const sizes: number[] = [];
  let handed = 0;
  const bytes = new Uint8Array(4 << 20);
  const reader = readChunks({
    read(into: Uint8Array): Promise<number | null> {
      sizes.push(into.length);
      if (handed >= bytes.length) return Promise.resolve(null);
      // A burst fills every buffer; past 2 MiB, a trickle of 10 bytes a read.
      const count = handed < 2 << 20 ? into.length : 10;
      handed += count;
      return Promise.resolve(count);
    },
  });
  for (let i = 0; i < 40; i++) await reader.next();
  assertEquals(sizes[0], 1024);
  assertEquals(Math.max(...sizes), 128 * 1024);
  assertEquals(sizes.slice(0, 9), [1024, 2048, 4096, 8192, 16384, 32768, 65536, 131072, 131072]);
  assertEquals(sizes.at(-1), 1024);
});

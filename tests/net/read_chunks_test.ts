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

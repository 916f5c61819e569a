import { assertEquals } from "../assert.ts";
import { coalescingWriter, MERGE_BELOW } from "../../lib/net/coalescing_writer.ts";

const bytes = (length: number, value: number) => new Uint8Array(length).fill(value);

Deno.test("frames queued in one turn leave in one write; those queued during a write leave together after it, in order", async () => {
  const writes: Uint8Array[] = [];
  let release = () => {};
  const writer = coalescingWriter(async (chunk) => {
    writes.push(chunk.slice());
    if (writes.length === 1) await new Promise<void>((resolve) => release = resolve);
  }, () => {});
  writer.write(bytes(2, 1));
  writer.write(bytes(3, 2));
  await Promise.resolve();
  await Promise.resolve();
  // The first write is under way; these wait for it and then go as one.
  writer.write(bytes(1, 3));
  writer.write(bytes(1, 4));
  release();
  await writer.drained();
  assertEquals(writes.map((chunk) => [...chunk]), [[1, 1, 2, 2, 2], [3, 4]]);
});

Deno.test("a big frame (a file part) is written on its own, never copied into a merged one", async () => {
  const writes: Uint8Array[] = [];
  const big = bytes(MERGE_BELOW, 9);
  const writer = coalescingWriter((chunk) => Promise.resolve(void writes.push(chunk)), () => {});
  writer.write(bytes(10, 1));
  writer.write(big);
  writer.write(bytes(10, 2));
  await writer.drained();
  assertEquals(writes.map((chunk) => chunk.length), [10, MERGE_BELOW, 10]);
  assertEquals(writes[1], big);
});

Deno.test("after a failed write nothing more is written and the failure is told once", async () => {
  let attempts = 0, failures = 0;
  const writer = coalescingWriter(() => {
    attempts++;
    return Promise.reject(new Error("broken pipe"));
  }, () => failures++);
  writer.write(bytes(1, 1));
  await writer.drained();
  writer.write(bytes(1, 2));
  await writer.drained();
  assertEquals([attempts, failures], [1, 1]);
});

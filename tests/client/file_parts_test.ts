import { assertEquals, assertThrows } from "../assert.ts";
import {
  DownloadPlan,
  FILE_BLOCK,
  type FilePart,
  FilePartError,
  FileRangeError,
  PartReassembler,
} from "../../lib/client/file_parts.ts";

/** The byte at `position` of the test files: varies with both low and high bits. */
const byteAt = (position: number) => (position * 31 + Math.floor(position / 4093)) & 0xff;

/** What Telegram answers to `part` of a file of `size` bytes. */
function answer(part: FilePart, size: number): Uint8Array {
  const bytes = new Uint8Array(Math.max(0, Math.min(part.limit, size - part.offset)));
  for (let i = 0; i < bytes.length; i++) bytes[i] = byteAt(part.offset + i);
  return bytes;
}

/** A seeded generator, so that a failure replays. */
function seeded(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** Every part of `plan` (which must have a known end). */
function partsOf(plan: DownloadPlan): FilePart[] {
  return Array.from({ length: plan.count! }, (_, index) => plan.part(index)!);
}

/** Telegram's rules for upload.getFile without `precise`. */
function assertAccepted(part: FilePart): void {
  const where = `part ${JSON.stringify(part)}`;
  assertEquals(part.offset % 4096, 0, where);
  assertEquals(part.limit % 4096, 0, where);
  assertEquals(FILE_BLOCK % part.limit, 0, where);
  assertEquals(
    Math.floor(part.offset / FILE_BLOCK),
    Math.floor((part.offset + part.limit - 1) / FILE_BLOCK),
    where,
  );
}

Deno.test("a 300 MB file with an odd range gives exactly the wanted bytes, parts answered out of order", () => {
  const size = 300_000_000;
  const offset = 123_456_789, length = 98_765_433;
  const plan = new DownloadPlan({ size, offset, length });
  const parts = partsOf(plan);
  const random = seeded(7);
  const order = parts.map((_, index) => index);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const reassembler = new PartReassembler();
  let position = offset, mismatches = 0, maxHeld = 0;
  for (const index of order) {
    const cut = plan.cut(parts[index], answer(parts[index], size));
    for (const chunk of reassembler.add(index, cut.bytes, cut.last)) {
      for (let i = 0; i < chunk.length; i++) if (chunk[i] !== byteAt(position + i)) mismatches++;
      position += chunk.length;
    }
    maxHeld = Math.max(maxHeld, reassembler.heldBytes);
  }
  assertEquals({ position, mismatches, done: reassembler.done }, {
    position: offset + length,
    mismatches: 0,
    done: true,
  });
  assertEquals(reassembler.heldBytes, 0);
  // Shuffled, most of the file waits at some point: the caller sees that and can cap it.
  assertEquals(maxHeld > 10 * FILE_BLOCK, true);
  for (const part of parts) assertAccepted(part);
  assertEquals(parts.every((part) => part.limit === FILE_BLOCK || part === parts.at(-1)), true);
});

Deno.test("every planned part is one Telegram accepts, and together they cover the range", () => {
  // Answers are views into one file, so a cut's place in the file is its byteOffset.
  const file = new Uint8Array(5 * FILE_BLOCK);
  const random = seeded(42);
  const sizes = [4096, 512 * 1024, FILE_BLOCK];
  for (let run = 0; run < 3000; run++) {
    const size = Math.floor(random() * file.length);
    const offset = Math.floor(random() * (size + 10_000));
    const length = random() < 0.3 ? undefined : Math.floor(random() * 3 * FILE_BLOCK);
    const partSize = sizes[run % sizes.length];
    const plan = new DownloadPlan({ size, offset, length, partSize });
    const end = Math.max(offset, Math.min(size, length === undefined ? size : offset + length));
    const parts = partsOf(plan);
    let position = offset;
    for (const part of parts) {
      assertAccepted(part);
      assertEquals(part.limit <= partSize, true);
      const reply = file.subarray(part.offset, Math.min(size, part.offset + part.limit));
      const cut = plan.cut(part, reply);
      const where = `run ${run}: size ${size}, offset ${offset}, length ${length}, ${partSize}`;
      if (cut.bytes.length) assertEquals(cut.bytes.byteOffset, position, where);
      position += cut.bytes.length;
      assertEquals(cut.last, part === parts.at(-1), where);
    }
    assertEquals(position, end, `run ${run}`);
  }
});

Deno.test("a range not on boundaries: the first part is aligned down and cut, the last shrunk", () => {
  const plan = new DownloadPlan({ size: 10 * FILE_BLOCK, offset: 5000, length: FILE_BLOCK });
  assertEquals(plan.count, 2);
  assertEquals(plan.part(0), {
    index: 0,
    offset: 0,
    limit: FILE_BLOCK,
    from: 5000,
    to: FILE_BLOCK,
  });
  // 5000 bytes are left for the second block: the smallest allowed limit holding them is 8 KiB.
  assertEquals(plan.part(1), { index: 1, offset: FILE_BLOCK, limit: 8192, from: 0, to: 5000 });
  assertEquals(plan.part(2), undefined);
});

Deno.test("512 KiB parts are allowed; other part sizes are refused before anything is sent", () => {
  const plan = new DownloadPlan({ size: 3 * FILE_BLOCK, partSize: 512 * 1024 });
  assertEquals(plan.count, 6);
  assertEquals(plan.part(5)?.offset, 5 * 512 * 1024);
  for (const partSize of [0, 1000, 12_288, 2 * FILE_BLOCK]) {
    assertThrows(() => new DownloadPlan({ partSize }), FileRangeError, `part size ${partSize}`);
  }
  assertThrows(() => new DownloadPlan({ offset: -1 }), FileRangeError, "offset");
  assertThrows(() => new DownloadPlan({ length: 1.5 }), FileRangeError, "length");
});

Deno.test("a length reaching past the end stops at the file's end; a range past it is empty", () => {
  const size = FILE_BLOCK + 100;
  const plan = new DownloadPlan({ size, offset: 10, length: 10 * FILE_BLOCK });
  assertEquals(plan.end, size);
  assertEquals(plan.count, 2);
  const last = plan.part(1)!;
  assertEquals(plan.cut(last, answer(last, size)), {
    bytes: answer(last, size),
    last: true,
  });
  assertEquals(new DownloadPlan({ size, offset: size + 5, length: 10 }).count, 0);
  assertEquals(new DownloadPlan({ size: 0 }).count, 0);
  assertEquals(new DownloadPlan({ size, length: 0 }).count, 0);
});

Deno.test("an unknown size keeps asking until a short part, which ends the download", () => {
  const size = 2 * FILE_BLOCK + 777;
  const plan = new DownloadPlan({ offset: 100 });
  assertEquals(plan.count, undefined);
  const reassembler = new PartReassembler();
  let position = 100, mismatches = 0;
  // Four parts in flight at once; the fourth, past the end, comes back first and empty.
  const parts = [0, 1, 2, 3].map((index) => plan.part(index)!);
  for (const index of [3, 1, 2, 0]) {
    const cut = plan.cut(parts[index], answer(parts[index], size));
    assertEquals(cut.last, index >= 2, `part ${index}`);
    for (const chunk of reassembler.add(index, cut.bytes, cut.last)) {
      for (let i = 0; i < chunk.length; i++) if (chunk[i] !== byteAt(position + i)) mismatches++;
      position += chunk.length;
    }
  }
  assertEquals(reassembler.done, true);
  assertEquals({ position, mismatches }, { position: size, mismatches: 0 });
});

Deno.test("an unknown size with a length: the range ends it, or a short part before that", () => {
  const plan = new DownloadPlan({ offset: 0, length: FILE_BLOCK + 1 });
  assertEquals(plan.count, 2);
  assertEquals(plan.part(1)?.limit, 4096);
  const short = plan.cut(plan.part(0)!, new Uint8Array(1000));
  assertEquals({ length: short.bytes.length, last: short.last }, { length: 1000, last: true });
});

Deno.test("an answer that does not fit its part is refused, naming the part", () => {
  const plan = new DownloadPlan({ size: 3 * FILE_BLOCK });
  const part = plan.part(1)!;
  assertThrows(() => plan.cut(part, new Uint8Array(FILE_BLOCK + 1)), FilePartError, "part 1");
  assertThrows(
    () => plan.cut(part, new Uint8Array(10)),
    FilePartError,
    `has 10 bytes where a file of ${3 * FILE_BLOCK} bytes has ${FILE_BLOCK}`,
  );
  assertThrows(() => new DownloadPlan({}).cut(part, new Uint8Array(FILE_BLOCK + 1)), FilePartError);
});

Deno.test("the reassembler ignores repeated parts and holds only what waits", () => {
  const parts = new PartReassembler();
  assertEquals(parts.add(2, Uint8Array.of(5)), []);
  assertEquals(parts.add(2, Uint8Array.of(9)), []); // a retried part answered twice
  assertEquals({ held: parts.heldBytes, parts: parts.heldParts, next: parts.next }, {
    held: 1,
    parts: 1,
    next: 0,
  });
  assertEquals(parts.add(0, Uint8Array.of(1)), [Uint8Array.of(1)]);
  assertEquals(parts.add(0, Uint8Array.of(7)), []);
  assertEquals(parts.add(1, Uint8Array.of(2, 3)), [Uint8Array.of(2, 3), Uint8Array.of(5)]);
  assertEquals({ held: parts.heldBytes, next: parts.next, done: parts.done }, {
    held: 0,
    next: 3,
    done: false,
  });
});

Deno.test("the reassembler drops parts held past the last one", () => {
  const parts = new PartReassembler();
  parts.add(3, new Uint8Array(50));
  parts.add(4, new Uint8Array(60));
  assertEquals(parts.heldBytes, 110);
  parts.add(2, new Uint8Array(10), true);
  assertEquals({ held: parts.heldBytes, parts: parts.heldParts }, { held: 10, parts: 1 });
  assertEquals(parts.add(5, new Uint8Array(5)), []);
  assertEquals(parts.add(0, Uint8Array.of(1)).length, 1);
  assertEquals(parts.add(1, Uint8Array.of(2)).length, 2);
  assertEquals(parts.done, true);
});

import { assertEquals } from "../assert.ts";
import { secureRandom } from "../../lib/crypto/random.ts";

Deno.test("short random requests come as arrays of their own: writing one changes no other", () => {
  const first = secureRandom(16), second = secureRandom(16);
  const before = second.slice();
  first.fill(0);
  assertEquals(second, before);
  assertEquals(first.buffer === second.buffer, false);
  assertEquals(first.byteLength, first.buffer.byteLength);
});

Deno.test("random bytes are never handed out twice, across refills of the pool", () => {
  const seen = new Set<string>();
  // 16-byte values: a repeat would mean the same pooled bytes were given twice.
  for (let i = 0; i < 2000; i++) seen.add(secureRandom(16).toHex());
  assertEquals(seen.size, 2000);
  // Sizes around the pooled limit and past getRandomValues' 65536-byte limit come out whole.
  for (const length of [0, 1, 255, 256, 257, 4096, 70_000]) {
    assertEquals(secureRandom(length).length, length);
  }
  assertEquals(secureRandom(70_000).subarray(65_536).some((byte) => byte !== 0), true);
});

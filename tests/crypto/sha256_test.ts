import { hash } from "node:crypto";
import { assertEquals } from "../assert.ts";
import { sha256, SHA256_NATIVE_FROM, sha256Into } from "../../lib/crypto/hash.ts";
import { sha256Of } from "../../lib/crypto/sha256.ts";
import { secureRandom } from "../../lib/crypto/random.ts";

Deno.test("the TypeScript SHA-256 agrees with node:crypto at every length around its block edges and at every split", () => {
  for (let length = 0; length <= 200; length++) {
    const data = secureRandom(length);
    const expected = hash("sha256", data, "hex");
    for (let split = 0; split <= length; split++) {
      assertEquals(sha256Of(data.subarray(0, split), data.subarray(split)).toHex(), expected);
    }
  }
});

Deno.test("sha256 gives the same digest on both sides of the switch to node:crypto", () => {
  for (const length of [SHA256_NATIVE_FROM - 1, SHA256_NATIVE_FROM, 1104, 70_000]) {
    const data = secureRandom(length);
    const expected = hash("sha256", data, "hex");
    assertEquals(sha256(data).toHex(), expected);
    assertEquals(sha256(data.subarray(0, 32), data.subarray(32)).toHex(), expected);
    assertEquals(
      sha256(data.subarray(0, 5), data.subarray(5, 40), data.subarray(40)).toHex(),
      expected,
    );
    // Into the caller's array at an offset, the bytes around left alone.
    const out = new Uint8Array(40).fill(7);
    sha256Into(data.subarray(0, 32), data.subarray(32), out, 4);
    assertEquals(out.subarray(4, 36).toHex(), expected);
    assertEquals([...out.subarray(0, 4), ...out.subarray(36)], [7, 7, 7, 7, 7, 7, 7, 7]);
  }
});

Deno.test("the published SHA-256 test vectors", () => {
  const text = (s: string) => new TextEncoder().encode(s);
  assertEquals(
    sha256Of(text("")).toHex(),
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
  );
  assertEquals(
    sha256Of(text("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")).toHex(),
    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
  );
});

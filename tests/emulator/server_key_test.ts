import { assertEquals } from "../assert.ts";
import { rsaFingerprint } from "../../lib/crypto/rsa.ts";
import { generateServerKey } from "../../lib/emulator/server_key.ts";

/** A stand-in key (only n and e matter to a fingerprint) whose fingerprint's top nibble is zero or not. */
function keyWithTopNibble(zero: boolean) {
  for (let n = 3n;; n += 2n) {
    const key = { n, e: 65537n, d: 1n };
    if ((BigInt.asUintN(64, rsaFingerprint(key)) >> 60n === 0n) === zero) return { key, pem: "" };
  }
}

Deno.test("a generated emulator key never has a fingerprint starting with a zero nibble", async () => {
  const offered = [keyWithTopNibble(true), keyWithTopNibble(false)];
  let calls = 0;
  const chosen = await generateServerKey(() => Promise.resolve(offered[calls++]));
  assertEquals(calls, 2);
  assertEquals(chosen, offered[1]);
});

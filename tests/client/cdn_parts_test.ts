import { Buffer } from "node:buffer";
import { createCipheriv } from "node:crypto";
import { assertEquals, assertThrows } from "../assert.ts";
import { secureRandom } from "../../lib/crypto/random.ts";
import { sha256 } from "../../lib/crypto/hash.ts";
import {
  CdnHashes,
  CdnHashMismatchError,
  cdnPartIv,
  decryptCdnPart,
} from "../../lib/client/cdn_parts.ts";

const KiB = 1024, MiB = 1024 * 1024, WINDOW = 128 * KiB;

/** The first index where `a` and `b` differ (-1 for none), so that a failure reports fast. */
function firstDifference(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) if (a[i] !== b[i]) return i;
  return -1;
}

/** A CDN file: plain bytes, their encryption as the master DC makes it, and its hashes. */
function cdnFile(size: number) {
  const key = secureRandom(32), iv = secureRandom(16);
  const plain = secureRandom(size);
  // Node's own AES-256-CTR, from the IV with a zero counter word: an independent reference.
  const start = iv.slice();
  start.fill(0, 12);
  const cipher = createCipheriv("aes-256-ctr", key, start);
  const sealed = new Uint8Array(Buffer.concat([cipher.update(plain), cipher.final()]));
  const hashes = [];
  for (let offset = 0; offset < size; offset += WINDOW) {
    const limit = Math.min(WINDOW, size - offset);
    hashes.push({
      offset: BigInt(offset),
      limit,
      hash: sha256(plain.subarray(offset, offset + limit)),
    });
  }
  return { key, iv, plain, sealed, hashes };
}

Deno.test("CDN parts decrypt with the IV's last word set to offset / 16, at any part offset", () => {
  const file = cdnFile(3 * MiB + 5000);
  for (
    const [offset, limit] of [[0, MiB], [MiB, MiB], [2 * MiB, MiB], [3 * MiB, 8192], [4096, 4096]]
  ) {
    const part = file.sealed.subarray(offset, offset + limit);
    const plain = file.plain.subarray(offset, offset + limit);
    const decrypted = decryptCdnPart(file.key, file.iv, offset, part);
    assertEquals(decrypted.length, plain.length);
    assertEquals(firstDifference(decrypted, plain), -1, `part at ${offset}`);
  }
  // The IV's own last four bytes play no part.
  const otherTail = file.iv.slice();
  otherTail[15] ^= 0xff;
  assertEquals(
    decryptCdnPart(file.key, otherTail, MiB, file.sealed.subarray(MiB, MiB + 64)),
    file.plain.subarray(MiB, MiB + 64),
  );
});

Deno.test("the part IV is big-endian offset / 16 in the last four bytes", () => {
  const iv = Uint8Array.from({ length: 16 }, (_, i) => i);
  assertEquals([...cdnPartIv(iv, 0x12345670)], [...iv.subarray(0, 12), 0x01, 0x23, 0x45, 0x67]);
  assertEquals(iv[15], 15); // the redirect's IV is left as it was
  assertThrows(() => cdnPartIv(iv, 100), RangeError, "multiple of 16");
  assertThrows(() => cdnPartIv(iv.subarray(1), 0), RangeError, "16 bytes");
  assertThrows(() => decryptCdnPart(new Uint8Array(16), iv, 0, iv), RangeError, "32 bytes");
});

Deno.test("decrypted parts that match every hash window pass; one changed byte names its window", () => {
  const file = cdnFile(2 * MiB + 1000);
  const hashes = new CdnHashes();
  hashes.add(file.hashes);
  assertEquals(hashes.size, 17);
  for (const offset of [0, MiB]) {
    const part = decryptCdnPart(
      file.key,
      file.iv,
      offset,
      file.sealed.subarray(offset, offset + MiB),
    );
    assertEquals(hashes.check(offset, part), { missing: [], partial: [] });
  }
  const tail = decryptCdnPart(file.key, file.iv, 2 * MiB, file.sealed.subarray(2 * MiB));
  assertEquals(hashes.check(2 * MiB, tail, { atEnd: true }), { missing: [], partial: [] });

  const tampered = file.sealed.slice(MiB, 2 * MiB);
  tampered[3 * WINDOW + 17] ^= 1; // a CDN that flips one bit
  const part = decryptCdnPart(file.key, file.iv, MiB, tampered);
  const error = assertThrows(
    () => hashes.check(MiB, part),
    CdnHashMismatchError,
    String(MiB + 3 * WINDOW),
  );
  assertEquals({ name: error.name, offset: error.offset, limit: error.limit }, {
    name: "CdnHashMismatch",
    offset: MiB + 3 * WINDOW,
    limit: WINDOW,
  });
});

Deno.test("ranges without hashes are reported, so the caller asks getCdnFileHashes for them", () => {
  const file = cdnFile(3 * MiB);
  const hashes = new CdnHashes();
  hashes.add(file.hashes.slice(0, 10)); // the redirect carried the first 1.25 MiB
  const second = file.plain.subarray(MiB, 2 * MiB);
  assertEquals(hashes.check(MiB, second), {
    missing: [{ offset: MiB + 2 * WINDOW, length: 6 * WINDOW }],
    partial: [],
  });
  // The caller asks upload.getCdnFileHashes(offset: 1.25 MiB) and adds what it returns.
  hashes.add(file.hashes.slice(10, 16));
  assertEquals(hashes.check(MiB, second), { missing: [], partial: [] });
  // A hole between known windows is reported too.
  const holes = new CdnHashes();
  holes.add([file.hashes[0], file.hashes[2]]);
  assertEquals(holes.check(0, file.plain.subarray(0, 4 * WINDOW)).missing, [
    { offset: WINDOW, length: WINDOW },
    { offset: 3 * WINDOW, length: WINDOW },
  ]);
  // Bytes past the last known window are missing, not passed: checking nothing proves nothing.
  assertEquals(new CdnHashes().check(0, second).missing, [{ offset: 0, length: MiB }]);
});

Deno.test("a part smaller than a hash window is reported partial, not passed", () => {
  const file = cdnFile(MiB);
  const hashes = new CdnHashes();
  hashes.add(file.hashes);
  const bytes = file.plain.subarray(4096, 8192);
  assertEquals(hashes.check(4096, bytes), {
    missing: [],
    partial: [{ offset: 4096, length: 4096 }],
  });
  // Changed, it is not checked (there is nothing to check it against): still partial.
  const changed = bytes.slice();
  changed[0] ^= 1;
  assertEquals(hashes.check(4096, changed).partial.length, 1);
});

Deno.test("hashes given with the TL form's bigint offsets, in any order, are looked up by offset", () => {
  const file = cdnFile(4 * WINDOW);
  const hashes = new CdnHashes();
  hashes.add([...file.hashes].reverse());
  assertEquals(hashes.check(2 * WINDOW, file.plain.subarray(2 * WINDOW)), {
    missing: [],
    partial: [],
  });
  assertThrows(
    () => hashes.add([{ offset: -1n, limit: 10, hash: new Uint8Array(32) }]),
    RangeError,
  );
});

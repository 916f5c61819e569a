import { createHash } from "node:crypto";
import { assertEquals, assertThrows } from "../assert.ts";
import { replayRandom, secureRandom } from "../../lib/crypto/random.ts";
import { sharedCodec } from "../../lib/tl/codec.ts";
import { loadSchema } from "../../lib/tl/default_schema.ts";
import {
  isUploadPartSize,
  SMALL_FILE_MAX,
  UPLOAD_MAX_PARTS,
  UPLOAD_PART_MAX,
  UploadPartError,
  UploadParts,
  uploadPartSize,
  UploadSizeError,
} from "../../lib/client/upload_parts.ts";

const KiB = 1024, MiB = 1024 * 1024;
const codec = sharedCodec(loadSchema());
const idBytes = Uint8Array.of(0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff);

/** Cuts `file` into the upload's parts, in order, and marks each saved. */
function uploadAll(upload: UploadParts, file: Uint8Array) {
  const requests = [];
  for (let index = 0; index * upload.partSize < file.length; index++) {
    const part = file.subarray(index * upload.partSize, (index + 1) * upload.partSize);
    requests.push(upload.request(index, part));
    upload.saved(index);
  }
  return requests;
}

Deno.test("a small file: saveFilePart requests, then an inputFile with the whole file's MD5", () => {
  const file = secureRandom(1_300_000);
  const upload = new UploadParts({ size: file.length, random: replayRandom(idBytes) });
  assertEquals({ big: upload.big, partSize: upload.partSize, total: upload.totalParts }, {
    big: false,
    partSize: UPLOAD_PART_MAX,
    total: 3,
  });
  const requests = uploadAll(upload, file);
  assertEquals(requests.map((request) => request._cons), Array(3).fill("upload.saveFilePart"));
  assertEquals(requests.map((request) => (request.bytes as Uint8Array).length), [
    524_288,
    524_288,
    251_424,
  ]);
  assertEquals(requests[2].file_part, 2);
  const input = upload.inputFile("photo.jpg");
  assertEquals(input, {
    _cons: "inputFile",
    id: -2n,
    parts: 3,
    name: "photo.jpg",
    md5_checksum: createHash("md5").update(file).digest("hex"),
  });
  // What the client core sends must encode against the schema.
  codec.encode(input);
  codec.encode(requests[0]);
});

Deno.test("exactly 10 MiB is still small; one byte more is big, with saveBigFilePart and inputFileBig", () => {
  assertEquals(new UploadParts({ size: SMALL_FILE_MAX, random: secureRandom }).big, false);
  const file = new Uint8Array(SMALL_FILE_MAX + 1).fill(7);
  const upload = new UploadParts({ size: file.length, random: replayRandom(idBytes) });
  assertEquals({ big: upload.big, total: upload.totalParts }, { big: true, total: 21 });
  const requests = uploadAll(upload, file);
  assertEquals(requests[20], {
    _cons: "upload.saveBigFilePart",
    file_id: -2n,
    file_part: 20,
    file_total_parts: 21,
    bytes: Uint8Array.of(7),
  });
  const input = upload.inputFile("big.bin");
  assertEquals(input, { _cons: "inputFileBig", id: -2n, parts: 21, name: "big.bin" });
  codec.encode(input);
  codec.encode(requests[0]);
});

Deno.test("a stream is big: parts say -1 until the last, which tells the total", () => {
  const upload = new UploadParts({ random: replayRandom(idBytes), partSize: 4 * KiB });
  assertEquals({ big: upload.big, total: upload.totalParts }, { big: true, total: undefined });
  const first = upload.request(0, new Uint8Array(4 * KiB));
  assertEquals(first.file_total_parts, -1);
  // Read one part ahead: the stream ended on a part boundary, so its last part is full.
  const last = upload.request(1, new Uint8Array(4 * KiB), true);
  assertEquals(last.file_total_parts, 2);
  assertEquals({ total: upload.totalParts, size: upload.size }, { total: 2, size: 8 * KiB });
  upload.saved(0);
  assertThrows(() => upload.inputFile("s"), UploadPartError, "1 of 2 parts are not saved");
  upload.saved(1);
  assertEquals(upload.inputFile("s"), { _cons: "inputFileBig", id: -2n, parts: 2, name: "s" });
  // A retry of the first part now carries the total.
  assertEquals(upload.request(0, new Uint8Array(4 * KiB)).file_total_parts, 2);
});

Deno.test("a stream's parts are full but the last, and stop at the part limit", () => {
  const upload = new UploadParts({ random: replayRandom(idBytes), partSize: KiB, maxParts: 3 });
  assertThrows(() => upload.request(0, new Uint8Array(10)), UploadPartError, "has 10 bytes");
  assertThrows(() => upload.request(0, new Uint8Array(0), true), UploadPartError, "the last 1");
  upload.request(2, new Uint8Array(KiB));
  assertThrows(() => upload.request(3, new Uint8Array(KiB)), UploadSizeError, "more than 3 parts");
  assertThrows(() => upload.inputFile("s"), UploadPartError, "last part was not cut");
});

Deno.test("part sizes are multiples of 1 KiB dividing 512 KiB, grown to keep under the part limit", () => {
  assertEquals([1, 2, 64, 512].map((k) => isUploadPartSize(k * KiB)), [true, true, true, true]);
  assertEquals([0, 1000, 3 * KiB, MiB].map(isUploadPartSize), [false, false, false, false]);
  assertThrows(() => uploadPartSize(100, { partSize: 3 * KiB }), UploadPartError, "3072");
  // 4000 parts of 512 KiB: 2000 MiB is the most a file can be without Premium.
  const most = UPLOAD_MAX_PARTS * UPLOAD_PART_MAX;
  assertEquals(most, 2000 * MiB);
  assertEquals(uploadPartSize(most), UPLOAD_PART_MAX);
  assertEquals(uploadPartSize(most, { partSize: KiB }), UPLOAD_PART_MAX);
  assertEquals(uploadPartSize(4000 * 64 * KiB + 1, { partSize: 64 * KiB }), 128 * KiB);
  assertEquals(uploadPartSize(4000 * 64 * KiB, { partSize: 64 * KiB }), 64 * KiB);
  const error = assertThrows(() => uploadPartSize(most + 1), UploadSizeError, "4001 parts");
  assertEquals(error.name, "UploadSizeError");
  // Premium's 8000 parts take twice as much.
  assertEquals(uploadPartSize(2 * most, { maxParts: 8000 }), UPLOAD_PART_MAX);
  assertThrows(() => new UploadParts({ size: most + 1, random: secureRandom }), UploadSizeError);
  assertThrows(() => new UploadParts({ size: 0, random: secureRandom }), UploadSizeError, "empty");
});

Deno.test("a part of the wrong size or number is refused; a small file's parts go in order", () => {
  const upload = new UploadParts({ size: 3 * KiB, partSize: KiB, random: secureRandom });
  assertThrows(() => upload.request(0, new Uint8Array(10)), UploadPartError, "where it has 1024");
  assertThrows(() => upload.request(3, new Uint8Array(KiB)), UploadPartError, "not one of the 3");
  assertThrows(() => upload.request(1, new Uint8Array(KiB)), UploadPartError, "before part 0");
  const file = Uint8Array.from({ length: 3 * KiB }, (_, i) => i & 0xff);
  upload.request(0, file.subarray(0, KiB));
  upload.request(0, file.subarray(0, KiB)); // a retry: hashed once
  upload.request(1, file.subarray(KiB, 2 * KiB));
  upload.request(2, file.subarray(2 * KiB));
  [0, 1, 2].forEach((index) => upload.saved(index));
  assertEquals(upload.inputFile("f").md5_checksum, createHash("md5").update(file).digest("hex"));
  // Asked twice, the same answer.
  assertEquals(upload.inputFile("f").md5_checksum, createHash("md5").update(file).digest("hex"));
});

Deno.test("the file id is 64 bits from the injected random source", () => {
  const a = new UploadParts({
    size: 1,
    random: replayRandom(Uint8Array.of(1, 0, 0, 0, 0, 0, 0, 0x80)),
  });
  assertEquals(a.fileId, -(2n ** 63n) + 1n);
  const b = new UploadParts({ size: 1, random: replayRandom(new Uint8Array(8).fill(0x11)) });
  assertEquals(b.request(0, Uint8Array.of(1)).file_id, 0x1111111111111111n);
});

/**
 * Width and height of an uploaded image, read from its header as Telegram reads them before it
 * accepts a photo: PNG (the IHDR chunk) and JPEG (the first start-of-frame marker).
 *
 * @module
 */

/**
 * The dimensions of a PNG or JPEG image, or undefined for anything else.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { imageSize } from "./image_size.ts";
 * const png = new Uint8Array(24);
 * png.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);
 * png.set([0, 0, 1, 0, 0, 0, 0, 200], 16);
 * assert.deepEqual(imageSize(png), { width: 256, height: 200 });
 * assert.equal(imageSize(new TextEncoder().encode("not an image")), undefined);
 * ```
 */
export function imageSize(bytes: Uint8Array): { width: number; height: number } | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const isPng = bytes.length >= 24 && view.getUint32(0) === 0x89504e47 &&
    view.getUint32(4) === 0x0d0a1a0a && view.getUint32(12) === 0x49484452;
  if (isPng) return nonZero(view.getUint32(16), view.getUint32(20));
  if (bytes.length < 4 || view.getUint16(0) !== 0xffd8) return undefined;
  // JPEG: walk the segments to the first SOFn (C0–CF, except DHT C4, JPG C8, DAC CC).
  for (let at = 2; at + 9 <= bytes.length;) {
    if (bytes[at] !== 0xff) return undefined;
    const marker = bytes[at + 1];
    if (marker === 0xff) {
      at++;
      continue;
    }
    const length = view.getUint16(at + 2);
    if (marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker)) {
      return nonZero(view.getUint16(at + 7), view.getUint16(at + 5));
    }
    if (length < 2) return undefined;
    at += 2 + length;
  }
  return undefined;
}

function nonZero(width: number, height: number) {
  return width > 0 && height > 0 ? { width, height } : undefined;
}

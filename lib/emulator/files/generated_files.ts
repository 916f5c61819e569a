/**
 * The generated files a world starts with (world option `files`; the emulator's `--file` and
 * `--photo`): documents and photos of any size whose bytes are made from their ids, each sent by
 * Bob to Alice in a message of its own whose text is `file <id>`, so that a test finds it in
 * Alice's history with Bob (messages.getHistory) with a real document or photo to download. A
 * progressive photo's largest size is a progressive JPEG (`photoSizeProgressive`: where each of
 * its scans ends).
 *
 * @module
 */

import type { GeneratedFileSpec, WorldFile, WorldOptions } from "../world_types.ts";
import { generatedContent } from "./file_content.ts";
import { photoSizeSeed } from "./generated_bytes.ts";

/** One size of a generated photo, before it has content. */
export interface GeneratedPhotoSize {
  type: string;
  w: number;
  h: number;
  size: number;
}

/**
 * The sizes of a generated photo whose largest size ("y") has `size` bytes: "s", "m", "x" and
 * "y", smallest first, each with content of its own (seeded by {@link photoSizeSeed}).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { generatedPhotoSizes } from "./generated_files.ts";
 * assert.deepEqual(generatedPhotoSizes(160_000).map((size) => [size.type, size.size]), [
 *   ["s", 10_000], ["m", 40_000], ["x", 80_000], ["y", 160_000],
 * ]);
 * ```
 */
export function generatedPhotoSizes(size: number): GeneratedPhotoSize[] {
  return [
    { type: "s", w: 100, h: 75, size: Math.max(1, Math.ceil(size / 16)) },
    { type: "m", w: 320, h: 240, size: Math.max(1, Math.ceil(size / 4)) },
    { type: "x", w: 800, h: 600, size: Math.max(1, Math.ceil(size / 2)) },
    { type: "y", w: 1280, h: 960, size },
  ];
}

/**
 * The scans of a progressive JPEG of `size` bytes, as `photoSizeProgressive.sizes` lists them:
 * where each of five scans ends, the last one the whole size (rising, none empty).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { progressiveScans } from "./generated_files.ts";
 * assert.deepEqual(progressiveScans(100_000), [12_500, 31_250, 50_000, 75_000, 100_000]);
 * assert.deepEqual(progressiveScans(2), [1, 2]);
 * ```
 */
export function progressiveScans(size: number): number[] {
  const scans = [1 / 8, 5 / 16, 1 / 2, 3 / 4].map((share) => Math.max(1, Math.ceil(size * share)));
  return [...new Set([...scans.filter((scan) => scan < size), size])];
}

/**
 * The access hash of a generated file (fixed, so that a test may build a location by hand).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { generatedAccessHash } from "./generated_files.ts";
 * assert.equal(generatedAccessHash(42n), generatedAccessHash(42n));
 * ```
 */
export function generatedAccessHash(id: bigint): bigint {
  return BigInt.asIntN(64, (id + 1n) * 0x9e3779b97f4a7c15n);
}

/** The WorldFile of a generated file as `spec` describes it (not yet in any world). */
export function generatedFile(
  spec: GeneratedFileSpec,
  options: WorldOptions,
  date: number,
): WorldFile {
  const id = BigInt(spec.id);
  if (!Number.isSafeInteger(spec.size) || spec.size < 1) {
    throw new RangeError(`generated file ${id}: size must be a whole number ≥ 1, got ${spec.size}`);
  }
  const base = {
    id,
    accessHash: generatedAccessHash(id),
    dcId: spec.dc ?? options.filesDc ?? 2,
    date,
    ...(spec.cdn || options.cdnAll ? { cdn: true } : {}),
  };
  if (spec.kind === "photo") {
    const all = generatedPhotoSizes(spec.size);
    const sizes = all.map((size, index) => ({
      type: size.type,
      w: size.w,
      h: size.h,
      ...generatedContent(photoSizeSeed(id, size.type), size.size),
      ...(spec.progressive && index === all.length - 1
        ? { progressive: progressiveScans(size.size) }
        : {}),
    }));
    const largest = sizes[sizes.length - 1];
    return {
      ...base,
      size: largest.size,
      read: largest.read,
      photo: { width: largest.w, height: largest.h, sizes },
    };
  }
  return {
    ...base,
    ...generatedContent(id, spec.size),
    name: spec.name ?? `file-${id}.bin`,
    mimeType: spec.mimeType ?? "application/octet-stream",
  };
}

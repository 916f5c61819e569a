/**
 * Every transport the client and the emulator speak, for tests that must hold on each.
 *
 * @module
 */

import type { TransportOptions } from "../../lib/transport/transport.ts";

/** Abridged, intermediate, padded intermediate and full; the first three also obfuscated. */
export const EVERY_TRANSPORT: TransportOptions[] = [
  { kind: "abridged" },
  { kind: "intermediate" },
  { kind: "padded" },
  { kind: "full" },
  { kind: "abridged", obfuscated: true },
  { kind: "intermediate", obfuscated: true },
  { kind: "padded", obfuscated: true },
];

/**
 * A client-core sender pointed at one DC of an in-process emulator, quiet and without the ping
 * timer, for tests.
 *
 * @module
 */

import { secureRandom } from "../../lib/crypto/random.ts";
import type { startEmulator } from "../../lib/emulator/emulator.ts";
import { Sender, type SenderOptions } from "../../lib/net/sender.ts";
import { TlCodec } from "../../lib/tl/codec.ts";
import { loadSchema } from "../../lib/tl/default_schema.ts";

/** The native-mode codec the senders use. */
export const testCodec = new TlCodec(loadSchema());

/** A sender for DC `dcId` (default: the emulator's second DC, or its only one). */
export function emulatedSender(
  emulator: Awaited<ReturnType<typeof startEmulator>>,
  dcId?: number,
  extra: Partial<SenderOptions> = {},
): Sender {
  const dc = emulator.dcs.find((candidate) => candidate.id === dcId) ?? emulator.dcs[1] ??
    emulator.dcs[0];
  return new Sender({
    host: "127.0.0.1",
    port: dc.port,
    dcId: dc.id,
    publicKeys: [emulator.rsaKey],
    transport: { kind: "intermediate" },
    codec: testCodec,
    random: secureRandom,
    log: () => {},
    pingIntervalMs: 0,
    ...extra,
  });
}

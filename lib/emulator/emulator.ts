/**
 * Starts the emulator: N DCs on consecutive ports of 127.0.0.1 sharing one world, one RSA key
 * (generated at start unless given), and the fault switches. A test double of Telegram for
 * offline development and for every test of this project.
 *
 * @module
 */

import { type Clock, skewedClock, systemClock } from "../io/clock.ts";
import { type RandomSource, secureRandom } from "../crypto/random.ts";
import { publicKeyToPem, type RsaPrivateKey } from "../crypto/rsa.ts";
import { generateServerKey } from "./server_key.ts";
import { TlCodec } from "../tl/codec.ts";
import type { TlSchema } from "../tl/schema.ts";
import { loadSchema } from "../tl/default_schema.ts";
import { type DcListener, listenDc } from "./dc_server.ts";
import { KeyStore } from "./key_store.ts";
import { createMethods } from "./methods.ts";
import type { DcContext, DcFaults } from "./server_connection.ts";
import { World, type WorldOptions } from "./world.ts";

/** How to run the emulator. */
export interface EmulatorOptions {
  /** Port of DC 1; DC n listens on port + n - 1. 0 picks free ports. Default 4430. */
  port?: number;
  /** How many DCs (default 3). */
  dcs?: number;
  rsaKey?: RsaPrivateKey;
  world?: WorldOptions;
  /** How long each server salt is valid, in seconds (default 3600). */
  saltSeconds?: number;
  /** Every DC's clock runs this many seconds ahead (negative: behind). */
  clockSkewSeconds?: number;
  faults?: DcFaults;
  /** Settings for single DCs, overriding the ones above: e.g. `{3: {clockSkewSeconds: 3600}}`. */
  perDc?: Record<number, DcSettings>;
  /** An API layer other than the shipped one (`--scheme`), served with the world fitted to it. */
  schema?: TlSchema;
  random?: RandomSource;
  /** Time and timers; the platform's by default. */
  clock?: Clock;
  log?: (line: string) => void;
}

/** What can differ from one DC to another. */
export interface DcSettings {
  saltSeconds?: number;
  clockSkewSeconds?: number;
  faults?: DcFaults;
}

/** A running emulator. */
export interface Emulator {
  dcs: { id: number; port: number }[];
  publicKeyPem: string;
  rsaKey: RsaPrivateKey;
  world: World;
  contexts: DcContext[];
  listeners: DcListener[];
  /** The request line that points a client at DC `dc` (default 2, or 1 with a single DC). */
  serverLine(dc?: number): { server: { host: string; port: number; dc: number; rsa: string } };
  close(): Promise<void>;
}

/** Starts the emulator and resolves once every DC listens. */
export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const random = options.random ?? secureRandom;
  const log = options.log ?? ((line: string) => console.error(line));
  const rsaKey = options.rsaKey ?? (await generateServerKey()).key;
  const world = await World.create(options.world);
  // The world is written for the shipped layer. Served at another one, its objects are fitted to
  // that schema on the way out (fields it lacks dropped, fields it added filled); at the shipped
  // layer encoding stays strict, so that a misspelt field in the world fails loudly.
  const codec = new TlCodec(options.schema ?? loadSchema(), {
    fitToSchema: options.schema !== undefined,
  });
  const count = options.dcs ?? 3;
  const contexts: DcContext[] = [];
  const listeners: DcListener[] = [];
  const addresses: { id: number; port: number }[] = [];
  const call = createMethods(world, () => addresses, () => contexts, log);
  for (let id = 1; id <= count; id++) {
    const own = options.perDc?.[id] ?? {};
    const saltSeconds = own.saltSeconds ?? options.saltSeconds ?? 3600;
    const skewMs = (own.clockSkewSeconds ?? options.clockSkewSeconds ?? 0) * 1000;
    const context: DcContext = {
      dcId: id,
      codec,
      keys: new KeyStore(random, saltSeconds, Math.max(1, Math.floor(saltSeconds / 2))),
      rsaKey,
      random,
      clock: skewedClock(options.clock ?? systemClock, skewMs),
      sessions: new Map(),
      faults: { ...options.faults, ...own.faults },
      stats: { gzippedResults: 0, badServerSalts: 0 },
      call,
      log,
    };
    const basePort = options.port ?? 4430;
    const listener = listenDc(context, basePort === 0 ? 0 : basePort + id - 1);
    contexts.push(context);
    listeners.push(listener);
    addresses.push({ id, port: listener.port });
  }
  const publicKeyPem = publicKeyToPem(rsaKey);
  return {
    dcs: addresses,
    publicKeyPem,
    rsaKey,
    world,
    contexts,
    listeners,
    serverLine(dc = count >= 2 ? 2 : 1) {
      const address = addresses.find((candidate) => candidate.id === dc) ?? addresses[0];
      return {
        server: { host: "127.0.0.1", port: address.port, dc: address.id, rsa: publicKeyPem },
      };
    },
    async close() {
      await Promise.all(listeners.map((listener) => listener.close()));
    },
  };
}

/**
 * Starts the emulator: N DCs on consecutive ports of 127.0.0.1 sharing one world, one RSA key
 * (generated at start unless given), and the fault switches; each DC also listens on a
 * media-only port (the next N ports), and when the world has files for the CDN, a CDN DC with an
 * RSA key of its own listens on the port after those. A test double of Telegram for offline
 * development and for every test of this project.
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
import { cdnDcCall } from "./methods/cdn.ts";
import { CDN_DC_ID } from "./files/cdn_files.ts";
import type { DcContext, DcFaults } from "./server_connection.ts";
import { World, type WorldOptions } from "./world.ts";
import { type MtproxyFront, startMtproxyFront } from "./mtproxy_front.ts";
import { startWebSocketFront, type WebSocketFront } from "./websocket_front.ts";
import { KeyHolders } from "./key_holders.ts";
import {
  clientSocketOpen,
  peerProcessFinder,
  peerProcessNow,
  procReadable,
} from "./peer_process.ts";
import { Mtproto2jsonError } from "../errors.ts";

/** `keyHolders` was asked for where /proc cannot be read. */
export class KeyHoldersUnavailableError extends Mtproto2jsonError {
  override name = "KeyHoldersUnavailable";
}

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
  /**
   * The CDN DC (id 203 unless given): started when the world has files for the CDN, or when this
   * is given. Its RSA key is generated at start unless given.
   */
  cdn?: { dcId?: number; rsaKey?: RsaPrivateKey };
  /**
   * An MTProxy front in front of the DCs (`--mtproxy`): the secrets it accepts (plain, `dd`,
   * `ee`), its port (default: any free one), how far a fake-TLS client's clock may be off.
   */
  mtproxy?: { secrets: string[]; port?: number; timeWindowSeconds?: number };
  /**
   * A WebSocket front (`--websocket`): each DC also serves `ws://127.0.0.1:P/apiws`, DC n on
   * `port` + n - 1 (default: any free ports).
   */
  websocket?: { port?: number };
  /**
   * Record which client process drives each auth key (`--key-holders`; Linux, from /proc), and
   * log every moment two processes hold live connections on one key: the evidence that several
   * `serve` instances never drove one account at once. Each accepted connection costs a lookup.
   */
  keyHolders?: boolean;
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
  /** Each DC's media-only address: the same DC (sessions, keys) on a port of its own. */
  mediaDcs: { id: number; port: number }[];
  publicKeyPem: string;
  rsaKey: RsaPrivateKey;
  world: World;
  contexts: DcContext[];
  listeners: DcListener[];
  /** The CDN DC, when it runs: its own context, listener and RSA key. */
  cdn?: {
    dcId: number;
    port: number;
    publicKeyPem: string;
    rsaKey: RsaPrivateKey;
    context: DcContext;
    listener: DcListener;
  };
  /** The MTProxy front, when asked for: its port and one `tg://proxy` link per secret. */
  mtproxy?: MtproxyFront;
  /** The WebSocket front, when asked for: each DC's `ws://` URL and its connections. */
  websocket?: WebSocketFront;
  /** The record of which process drives each key, when asked for (`keyHolders`). */
  holders?: KeyHolders;
  /** The request line that points a client at DC `dc` (default 2, or 1 with a single DC). */
  serverLine(dc?: number): { server: { host: string; port: number; dc: number; rsa: string } };
  close(): Promise<void>;
}

/** Starts the emulator and resolves once every DC listens. */
export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const random = options.random ?? secureRandom;
  const log = options.log ?? ((line: string) => console.error(line));
  const rsaKey = options.rsaKey ?? (await generateServerKey()).key;
  const world = await World.create(options.world, options.clock ?? systemClock);
  // The world is written for the shipped layer. Served at another one, its objects are fitted to
  // that schema on the way out (fields it lacks dropped, fields it added filled); at the shipped
  // layer encoding stays strict, so that a misspelt field in the world fails loudly.
  // Calls are decoded from freshly decrypted messages: an uploaded part's bytes stay in place.
  const codec = new TlCodec(options.schema ?? loadSchema(), {
    fitToSchema: options.schema !== undefined,
    largeBytesAsViews: true,
  });
  const count = options.dcs ?? 3;
  const contexts: DcContext[] = [];
  const listeners: DcListener[] = [];
  const addresses: { id: number; port: number }[] = [];
  const call = createMethods(world, () => addresses, () => contexts, log);
  if (options.keyHolders && !procReadable()) {
    throw new KeyHoldersUnavailableError(
      "recording key holders reads Linux's /proc (the process on the far end of each " +
        "connection), which this process cannot: it needs Linux and, under Deno, all " +
        "permissions (deno run -A)",
    );
  }
  const holders = options.keyHolders
    ? new KeyHolders({
      findProcess: peerProcessFinder({ batchMs: 20 }),
      findNow: (serverPort, clientPort) => peerProcessNow(serverPort, clientPort),
      isOpen: (serverPort, clientPort) => clientSocketOpen(serverPort, clientPort),
      onOverlap: (overlap) =>
        log(
          `dc${overlap.dcId}: auth key ${overlap.authKeyId} driven by two processes at once: ` +
            overlap.processes.map((pid) => pid ?? "unknown").join(" and "),
        ),
    })
    : undefined;
  const basePort = options.port ?? 4430;
  const portOf = (index: number) => basePort === 0 ? 0 : basePort + index;
  const contextFor = (id: number, key: RsaPrivateKey, own: DcSettings): DcContext => {
    const saltSeconds = own.saltSeconds ?? options.saltSeconds ?? 3600;
    const skewMs = (own.clockSkewSeconds ?? options.clockSkewSeconds ?? 0) * 1000;
    return {
      dcId: id,
      codec,
      keys: new KeyStore(random, saltSeconds, Math.max(1, Math.floor(saltSeconds / 2))),
      rsaKey: key,
      random,
      clock: skewedClock(options.clock ?? systemClock, skewMs),
      sessions: new Map(),
      faults: { ...options.faults, ...own.faults },
      stats: { gzippedResults: 0, badServerSalts: 0 },
      call,
      log,
      ...(holders ? { holders } : {}),
    };
  };
  // The same DCs again, for file traffic: a client keeps downloads off its main connections.
  const mediaListeners: DcListener[] = [];
  try {
    for (let id = 1; id <= count; id++) {
      const context = contextFor(id, rsaKey, options.perDc?.[id] ?? {});
      const listener = listenDc(context, portOf(id - 1));
      contexts.push(context);
      listeners.push(listener);
      addresses.push({ id, port: listener.port });
    }
    for (const context of contexts) {
      mediaListeners.push(listenDc(context, portOf(count + context.dcId - 1)));
    }
  } catch (error) {
    // A port in use: what already listens is closed, so that the caller may try elsewhere.
    await Promise.all([...listeners, ...mediaListeners].map((listener) => listener.close()));
    throw error;
  }
  const mediaDcs = mediaListeners.map((listener, index) => ({
    id: index + 1,
    port: listener.port,
  }));
  for (const media of mediaDcs) world.fileService.mediaPorts.set(media.id, media.port);
  const cdn = await startCdnDc(options, world, contextFor, portOf(2 * count));
  const publicKeyPem = publicKeyToPem(rsaKey);
  const mtproxy = options.mtproxy
    ? startMtproxyFront({
      ...options.mtproxy,
      // A negative DC id in the header asks for the DC's media-only address.
      dcPort: (dc, media) =>
        (media ? mediaDcs : addresses).find((address) => address.id === dc)?.port ??
          (cdn?.dcId === dc ? cdn.port : undefined),
      clock: options.clock ?? systemClock,
      random,
      log,
    })
    : undefined;
  const websocket = options.websocket
    ? startWebSocketFront({ dcs: contexts, port: options.websocket.port ?? 0, log })
    : undefined;
  return {
    dcs: addresses,
    mediaDcs,
    publicKeyPem,
    rsaKey,
    world,
    contexts,
    listeners,
    ...(cdn ? { cdn } : {}),
    ...(mtproxy ? { mtproxy } : {}),
    ...(websocket ? { websocket } : {}),
    ...(holders ? { holders } : {}),
    serverLine(dc = count >= 2 ? 2 : 1) {
      const address = addresses.find((candidate) => candidate.id === dc) ?? addresses[0];
      return {
        server: { host: "127.0.0.1", port: address.port, dc: address.id, rsa: publicKeyPem },
      };
    },
    async close() {
      await mtproxy?.close();
      await websocket?.close();
      const all = [...listeners, ...mediaListeners, ...(cdn ? [cdn.listener] : [])];
      await Promise.all(all.map((listener) => listener.close()));
      world.fileService.close();
      // The record is whole once every comparison started before the close is done.
      await holders?.settled();
    },
  };
}

/**
 * Starts the CDN DC when the world has files for it (or `options.cdn` asks): a DC of its own id,
 * key store and RSA key, answering only upload.getCdnFile.
 */
async function startCdnDc(
  options: EmulatorOptions,
  world: World,
  contextFor: (id: number, key: RsaPrivateKey, own: DcSettings) => DcContext,
  port: number,
): Promise<Emulator["cdn"]> {
  const wanted = options.cdn !== undefined || world.options.cdnAll ||
    (world.options.files ?? []).some((spec) => spec.cdn);
  if (!wanted) return undefined;
  const dcId = options.cdn?.dcId ?? CDN_DC_ID;
  const rsaKey = options.cdn?.rsaKey ?? (await generateServerKey()).key;
  const context = { ...contextFor(dcId, rsaKey, {}), call: cdnDcCall(world) };
  const listener = listenDc(context, port);
  const publicKeyPem = publicKeyToPem(rsaKey);
  world.fileService.cdn.address = { dcId, port: listener.port, publicKeyPem };
  return { dcId, port: listener.port, publicKeyPem, rsaKey, context, listener };
}

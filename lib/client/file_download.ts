/**
 * One download: the parts of a file (or of a range of it) asked on the DC's file connections, as
 * many in flight as its window allows, and handed to the caller in order as they complete. The
 * caller pulls: while it does not, no new part is asked, so a slow reader holds at most a window
 * of parts. FLOOD_WAIT holds every part of the DC (the window halves), a lost connection or a
 * timeout sends the part again, and FILE_REFERENCE_EXPIRED asks the source for a fresh reference.
 * With `verify`, every part is checked against the server's `upload.getFileHashes` before it is
 * handed on (file_hash_check.ts).
 *
 * @module
 */

import { Mtproto2jsonError, RpcError } from "../errors.ts";
import type { TlObject } from "../tl/codec.ts";
import type { Client } from "./client.ts";
import { DownloadPlan, type FilePart, PartReassembler } from "./file_parts.ts";
import {
  DOWNLOAD_WINDOW,
  isRetriedRpcError,
  sendDue,
  TransferWakeup,
  TransferWindow,
  type TransferWindowOptions,
  withParts,
} from "./transfer_window.ts";
import { CdnRoute } from "./cdn_route.ts";
import { CdnHashMismatchError } from "./cdn_parts.ts";
import { FileHashCheck, HASH_WINDOW } from "./file_hash_check.ts";

/** Where a file is and how to get a fresh reference to it. */
export interface DownloadSource {
  /** An `InputFileLocation` in native form (bigint longs, Uint8Array bytes). */
  location: TlObject;
  /** The DC that holds the file (a wrong one is corrected by FILE_MIGRATE). */
  dc: number;
  /** The file's size in bytes, when known. */
  size?: number;
  /**
   * A location with a fresh `file_reference` for the same file, after FILE_REFERENCE_EXPIRED;
   * undefined when the source cannot give one (the error then ends the download).
   */
  refresh?: () => Promise<TlObject | undefined>;
}

/** How to download. */
export interface DownloadOptions {
  /** The first wanted byte (default 0). */
  offset?: number;
  /** How many bytes (default: to the end). */
  length?: number;
  /** Parts in flight at most (default: the window's). */
  parts?: number;
  /** Bytes per part (default 1 MiB). */
  partSize?: number;
  /** The window's settings (defaults: {@link DOWNLOAD_WINDOW}). */
  window?: Partial<TransferWindowOptions>;
  /** Seconds a part may take before it is asked again (default: the client's timeout). */
  partTimeoutSeconds?: number;
  /** Let Telegram send the file through a CDN (default true). */
  cdn?: boolean;
  /**
   * Check every part against the SHA-256 hashes of `upload.getFileHashes` where the server gives
   * them, and refuse a mismatch (default false: MTProto already authenticates every byte in
   * transit; this guards against a server that stored other bytes, for one more request per
   * MiB and a SHA-256 pass on each side).
   */
  verify?: boolean;
  /**
   * Called once the download ended, with true when `verify` was asked and every byte handed on
   * matched a hash (false: the server gave none for the file, or for some of the bytes).
   */
  onVerified?: (verified: boolean) => void;
}

/**
 * A download that cannot go on; `rpcError` names Telegram's reason when it gave one, and the
 * message names it too (it is all an error line carries), e.g. `FILE_REFERENCE_EXPIRED: ...`.
 */
export class DownloadError extends Mtproto2jsonError {
  override name = "DownloadError";
  /** The RPC error's message (e.g. `FILE_REFERENCE_EXPIRED`, `LOCATION_INVALID`), if one. */
  readonly rpcError?: string;

  constructor(message: string, rpcError?: string) {
    super(
      rpcError === undefined || message.includes(rpcError) ? message : `${rpcError}: ${message}`,
    );
    if (rpcError !== undefined) this.rpcError = rpcError;
  }
}

/** A part in the window: the plan's part, sent to the DC that holds the file. */
interface WindowedPart extends FilePart {
  dc: number;
  bytes: number;
}

/** What became of one request: its answer or its error, and the reference it was made with. */
interface Settled {
  part: WindowedPart;
  generation: number;
  /** The CDN it was asked of, if any. */
  route?: CdnRoute;
  answer?: TlObject;
  error?: unknown;
}

/** How many times one download asks for a fresh reference (or CDN token) before giving up. */
const MAX_REFRESHES = 5;

/**
 * The wanted bytes of the file, in order, as they arrive.
 *
 * @example
 * ```ts ignore
 * for await (const chunk of downloadFile(client, { location, dc: 4, size })) sink.write(chunk);
 * ```
 */
export async function* downloadFile(
  client: Client,
  source: DownloadSource,
  options: DownloadOptions = {},
): AsyncGenerator<Uint8Array> {
  const plan = new DownloadPlan({
    ...(source.size !== undefined ? { size: source.size } : {}),
    ...(options.offset !== undefined ? { offset: options.offset } : {}),
    ...(options.length !== undefined ? { length: options.length } : {}),
    ...(options.partSize !== undefined ? { partSize: options.partSize } : {}),
    // A range's last part asks a whole hash window, so that its bytes can be checked.
    ...(options.verify ? { minLimit: HASH_WINDOW } : {}),
  });
  if (plan.count === 0) {
    options.onVerified?.(options.verify === true);
    return;
  }
  const settings = withParts(
    { ...DOWNLOAD_WINDOW, ...options.window },
    options.parts,
    plan.partSize,
  );
  const window = new TransferWindow<WindowedPart>(settings);
  const parts = new PartReassembler();
  const clock = client.clock;
  let location = source.location;
  /** Which reference parts are asked with: an expiry reported for an older one is not news. */
  let generation = 0;
  let refreshes = 0;
  /** Parts in the window (queued or in flight), by index; added a window's worth ahead. */
  const queued = new Map<number, WindowedPart>();
  let added = 0;
  /** The index of the part that ends the download, once known. */
  let lastIndex = plan.count === undefined ? undefined : plan.count - 1;
  const lookahead = settings.maxParts * 2;
  const settled: Settled[] = [];
  const wakeup = new TransferWakeup(clock);
  /** Where parts go once Telegram redirected the download to a CDN. */
  let cdn: CdnRoute | undefined;
  let tokens = 0;
  const hashes = options.verify
    ? new FileHashCheck((offset, slot) =>
      client.callFile(source.dc, slot, {
        _cons: "upload.getFileHashes",
        location,
        offset: BigInt(offset),
      }, options.partTimeoutSeconds)
    )
    : undefined;

  const put = (part: WindowedPart) => {
    queued.set(part.index, part);
    window.add(part);
  };
  const ask = (part: WindowedPart, connection: number) => {
    const used = generation;
    const route = cdn;
    // The part's hashes go with it, so that they are at hand when it arrives.
    if (!route) hashes?.prefetch(part.offset, part.limit, connection);
    const asked = route ? route.ask(part, connection, options.partTimeoutSeconds) : client.callFile(
      part.dc,
      connection,
      {
        _cons: "upload.getFile",
        cdn_supported: options.cdn !== false,
        location,
        offset: BigInt(part.offset),
        limit: part.limit,
      },
      options.partTimeoutSeconds,
    );
    asked.then(
      (answer) => settled.push({ part, generation: used, route, answer }),
      (error) => settled.push({ part, generation: used, route, error }),
    ).finally(wakeup.wake);
  };
  /** Puts `part` back in the queue, as asked for the first time. */
  const again = (part: WindowedPart) => {
    window.remove(part);
    put({ ...part });
  };

  while (!parts.done) {
    while ((lastIndex === undefined || added <= lastIndex) && added - parts.next < lookahead) {
      const part = plan.part(added);
      if (!part) break;
      put({ ...part, dc: source.dc, bytes: part.limit });
      added++;
    }
    const waitUntil = sendDue(window, () => clock.now(), ask);
    if (settled.length === 0) {
      await wakeup.sleep(waitUntil);
      continue;
    }
    const { part, answer, error, generation: used, route } = settled.shift()!;
    if (queued.get(part.index) !== part) continue; // dropped meanwhile (past the end)
    if (answer) {
      if (answer._cons === "upload.fileCdnRedirect") {
        // The file is served by a CDN: this part and every later one are asked there.
        if (cdn === route) cdn = new CdnRoute(client, source.dc, answer);
        again(part);
        continue;
      }
      let bytes: Uint8Array | undefined;
      if (route) {
        try {
          bytes = await route.take(part, answer);
        } catch (error) {
          if (error instanceof CdnHashMismatchError) {
            throw new DownloadError(
              `the CDN's bytes are not the file's: ${error.message}`,
              "CDN_HASH_MISMATCH",
            );
          }
          // The master's part of it failed (an expired token, a flood wait, …): as a part would.
          settled.unshift({ part, generation: used, route, error });
          continue;
        }
        if (bytes === undefined) {
          again(part); // the master pushed the file to the CDN: ask again
          continue;
        }
      } else if (answer._cons === "upload.file") {
        bytes = answer.bytes as Uint8Array;
        try {
          await hashes?.check(part, bytes);
        } catch (error) {
          if (error instanceof CdnHashMismatchError) {
            throw new DownloadError(
              `the bytes at offset ${error.offset} (${error.limit} of them) do not match the ` +
                "SHA-256 of upload.getFileHashes: the server sent other bytes than it hashed",
              "FILE_HASH_MISMATCH",
            );
          }
          // The hash request failed (a flood wait, a lost connection, …): as the part would.
          settled.unshift({ part, generation: used, route, error });
          continue;
        }
      } else {
        throw new DownloadError(
          `upload.getFile answered ${answer._cons}, which this download cannot follow`,
        );
      }
      window.done(part);
      queued.delete(part.index);
      const cut = plan.cut(part, bytes);
      if (cut.last && lastIndex !== part.index) {
        lastIndex = part.index;
        // An unknown size ended here: parts queued past it are not the file's.
        for (const [index, later] of queued) {
          if (index <= part.index) continue;
          window.remove(later);
          queued.delete(index);
        }
      }
      for (const chunk of parts.add(part.index, cut.bytes, cut.last)) yield chunk;
      continue;
    }
    if (route && error instanceof RpcError && error.errorMessage === "FILE_TOKEN_INVALID") {
      // The CDN token expired: the master DC gives a new redirect on the next getFile.
      if (cdn === route) {
        if (++tokens > MAX_REFRESHES) {
          throw new DownloadError("the CDN refused every new file token", "FILE_TOKEN_INVALID");
        }
        cdn = undefined;
      }
      again(part);
      continue;
    }
    if (error instanceof RpcError && error.errorMessage === "FILE_REFERENCE_EXPIRED") {
      window.remove(part);
      if (used === generation) {
        if (!source.refresh || refreshes >= MAX_REFRESHES) {
          throw new DownloadError(
            source.refresh
              ? `the file reference expired again after ${refreshes} fresh ones`
              : 'the file reference expired; download by "message", or by "media" with its ' +
                "message, so that a fresh one can be fetched",
            "FILE_REFERENCE_EXPIRED",
          );
        }
        refreshes++;
        const fresh = await source.refresh();
        if (!fresh) {
          throw new DownloadError(
            "the file reference expired and the message no longer holds the file",
            "FILE_REFERENCE_EXPIRED",
          );
        }
        location = fresh;
        generation++;
      }
      put({ ...part });
      continue;
    }
    if (error instanceof RpcError && !isRetriedRpcError(error)) {
      throw new DownloadError(
        `upload.getFile failed: ${error.errorMessage}`,
        error.errorMessage,
      );
    }
    const outcome = window.failed(part, error, clock.now());
    if (outcome?.action === "give_up") {
      queued.delete(part.index);
      throw new DownloadError(
        `the part at offset ${part.offset} failed ${outcome.failures} times: ${
          (error as Error)?.message ?? String(error)
        }`,
        error instanceof RpcError ? error.errorMessage : undefined,
      );
    }
  }
  options.onVerified?.(hashes?.verified ?? false);
}

/**
 * A download that Telegram sent to a CDN (https://core.telegram.org/cdn): its parts are asked of
 * the CDN DC with the redirect's token, decrypted with the redirect's key (AES-256-CTR), and
 * checked against the master DC's SHA-256 hashes before a byte is handed on. The master DC is
 * asked to push the file to the CDN when the CDN does not hold it (`cdnFileReuploadNeeded`), and
 * for the hashes the redirect did not carry.
 *
 * @module
 */

import type { TlObject } from "../tl/codec.ts";
import type { Client } from "./client.ts";
import { CdnHashes, decryptCdnPart, fileHashesOf } from "./cdn_parts.ts";
import type { FilePart } from "./file_parts.ts";

/** Hash requests for one part before the master DC is taken not to have them. */
const MAX_HASH_ASKS = 4;

/** The CDN side of one download, from one `upload.fileCdnRedirect`. */
export class CdnRoute {
  /** The CDN DC the parts are asked of. */
  readonly dc: number;
  readonly #client: Client;
  readonly #master: number;
  readonly #token: Uint8Array;
  readonly #key: Uint8Array;
  readonly #iv: Uint8Array;
  readonly #hashes = new CdnHashes();
  /** A reupload in progress: every part that met `cdnFileReuploadNeeded` waits for the same one. */
  #reuploading?: Promise<void>;

  /** The route a redirect names; `master` is the DC that sent it. */
  constructor(client: Client, master: number, redirect: TlObject) {
    this.#client = client;
    this.#master = master;
    this.dc = redirect.dc_id as number;
    this.#token = redirect.file_token as Uint8Array;
    this.#key = redirect.encryption_key as Uint8Array;
    this.#iv = redirect.encryption_iv as Uint8Array;
    this.#hashes.add(fileHashesOf(redirect.file_hashes as TlObject[] ?? []));
  }

  /** Asks the CDN for `part` on its connection `slot`. */
  ask(part: FilePart, slot: number, timeoutSeconds?: number): Promise<TlObject> {
    return this.#client.callCdn(this.dc, slot, {
      _cons: "upload.getCdnFile",
      file_token: this.#token,
      offset: BigInt(part.offset),
      limit: part.limit,
    }, timeoutSeconds);
  }

  /**
   * The plain bytes of the CDN's `answer` to `part`, checked against the master's hashes; or
   * undefined when the part must be asked again (the CDN did not hold the file: the master was
   * asked to push it). Throws `CdnHashMismatchError` for bytes that do not match their hash.
   */
  async take(part: FilePart, answer: TlObject): Promise<Uint8Array | undefined> {
    if (answer._cons === "upload.cdnFileReuploadNeeded") {
      await (this.#reuploading ??= this.#reupload(answer.request_token as Uint8Array)
        .finally(() => this.#reuploading = undefined));
      return undefined;
    }
    if (answer._cons !== "upload.cdnFile") {
      throw new TypeError(`upload.getCdnFile answered ${answer._cons}`);
    }
    const plain = decryptCdnPart(this.#key, this.#iv, part.offset, answer.bytes as Uint8Array);
    const atEnd = plain.length < part.limit;
    for (let asks = 0;; asks++) {
      const { missing } = this.#hashes.check(part.offset, plain, { atEnd });
      if (missing.length === 0) return plain;
      if (asks === MAX_HASH_ASKS) {
        throw new TypeError(
          `the master DC gave no hash for bytes ${missing[0].offset}… of the CDN file`,
        );
      }
      const more = await this.#client.callFile(this.#master, 0, {
        _cons: "upload.getCdnFileHashes",
        file_token: this.#token,
        offset: BigInt(missing[0].offset),
      });
      this.#hashes.add(fileHashesOf(more));
    }
  }

  /** Has the master DC push the file to the CDN; the hashes it answers with are kept. */
  async #reupload(requestToken: Uint8Array): Promise<void> {
    const hashes = await this.#client.callFile(this.#master, 0, {
      _cons: "upload.reuploadCdnFile",
      file_token: this.#token,
      request_token: requestToken,
    });
    this.#hashes.add(fileHashesOf(hashes));
  }
}

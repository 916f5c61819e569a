/**
 * The CDN's side of files: each file marked for the CDN has a key and IV of its own; a master DC
 * answers upload.getFile (with `cdn_supported`) by a redirect carrying a file token; the CDN DC
 * serves the file, encrypted, to whoever holds a valid token, once the master DC has uploaded it
 * there (upload.reuploadCdnFile, after the CDN asked for it by a request token).
 * https://core.telegram.org/cdn
 *
 * @module
 */

import { RpcError } from "../../errors.ts";
import type { RandomSource } from "../../crypto/random.ts";
import type { TlObject } from "../../tl/codec.ts";
import type { WorldFile } from "../world_types.ts";
import { aesCtr, cdnPartIv } from "./cdn_cipher.ts";
import { fileHashes } from "./file_hashes.ts";

/** The CDN DC's id, as Telegram's CDN DCs have ids past 200. */
export const CDN_DC_ID = 203;

/** Where the CDN DC listens and its public key, once it runs. */
export interface CdnAddress {
  dcId: number;
  port: number;
  publicKeyPem: string;
}

/** The CDN's state: secrets, tokens, and which files it holds. */
export class CdnFiles {
  /** Set by the emulator when it starts the CDN DC. */
  address?: CdnAddress;
  readonly #secrets = new Map<bigint, { key: Uint8Array; iv: Uint8Array }>();
  readonly #held = new Set<bigint>();
  readonly #tokens = new Map<string, { fileId: bigint; issued: number }>();
  readonly #requests = new Map<string, bigint>();

  /** `nowSeconds` is the emulator's time; `ttlSeconds` the tokens' lifetime (none: forever). */
  constructor(
    private readonly nowSeconds: () => number,
    private readonly ttlSeconds: () => number | undefined,
  ) {}

  /** The upload.fileCdnRedirect for `file`, with a new token and the hashes from `offset`. */
  redirect(file: WorldFile, offset: number, random: RandomSource): TlObject {
    if (!this.address) throw new RpcError(500, "CDN_DC_NOT_RUNNING_IN_EMULATOR");
    const secret = this.secretOf(file.id, random);
    const token = random(16);
    this.#tokens.set(token.toHex(), { fileId: file.id, issued: this.nowSeconds() });
    return {
      _cons: "upload.fileCdnRedirect",
      dc_id: this.address.dcId,
      file_token: token,
      encryption_key: secret.key,
      encryption_iv: secret.iv,
      file_hashes: fileHashes(file, offset),
    };
  }

  /** The file a token names: FILE_TOKEN_INVALID for a token unknown or older than the TTL. */
  fileOf(token: Uint8Array, files: ReadonlyMap<bigint, WorldFile>): WorldFile {
    const entry = this.#tokens.get(token.toHex());
    const ttl = this.ttlSeconds();
    const file = entry && files.get(entry.fileId);
    if (!entry || !file || (ttl !== undefined && this.nowSeconds() - entry.issued > ttl)) {
      throw new RpcError(400, "FILE_TOKEN_INVALID");
    }
    return file;
  }

  /**
   * What the CDN DC answers for a part of `file` from `offset`: the bytes, encrypted, or (while it
   * does not hold the file) upload.cdnFileReuploadNeeded with a new request token.
   */
  part(file: WorldFile, offset: number, bytes: () => Uint8Array, random: RandomSource): TlObject {
    if (!this.#held.has(file.id)) {
      const requestToken = random(16);
      this.#requests.set(requestToken.toHex(), file.id);
      return { _cons: "upload.cdnFileReuploadNeeded", request_token: requestToken };
    }
    const secret = this.#secrets.get(file.id)!;
    return {
      _cons: "upload.cdnFile",
      bytes: aesCtr(secret.key, cdnPartIv(secret.iv, offset), bytes()),
    };
  }

  /**
   * upload.reuploadCdnFile on the master DC: the CDN holds the file from now on.
   * REQUEST_TOKEN_INVALID for a request token the CDN did not give for this file.
   */
  reupload(file: WorldFile, requestToken: Uint8Array): TlObject[] {
    const key = requestToken.toHex();
    if (this.#requests.get(key) !== file.id) throw new RpcError(400, "REQUEST_TOKEN_INVALID");
    this.#requests.delete(key);
    this.#held.add(file.id);
    return fileHashes(file, 0);
  }

  /** Whether the CDN holds the file now. */
  holds(fileId: bigint): boolean {
    return this.#held.has(fileId);
  }

  /** The CDN forgets a file (as its cache would): the next part asks for a reupload again. */
  evict(fileId: bigint): void {
    this.#held.delete(fileId);
  }

  /** The key and IV of a file, made on its first redirect. */
  secretOf(fileId: bigint, random: RandomSource): { key: Uint8Array; iv: Uint8Array } {
    let secret = this.#secrets.get(fileId);
    if (!secret) this.#secrets.set(fileId, secret = { key: random(32), iv: random(16) });
    return secret;
  }
}

/**
 * Creating an auth key, server side: answers `req_pq_multi`, `req_DH_params` and
 * `set_client_DH_params` as Telegram does, from the same crypto and TL pieces as the client. One
 * instance per connection; `receive` takes a request body and returns the reply body.
 *
 * @module
 */

import { SecurityError } from "../errors.ts";
import { bigintFromBytes, bytesFromBigint, modPow } from "../crypto/bigint.ts";
import {
  checkDhPublicValue,
  isProbablePrime,
  isSafeDhPublicValue,
  TELEGRAM_DH_PRIME,
} from "../crypto/dh.ts";
import { sha1 } from "../crypto/hash.ts";
import { igeDecrypt, igeEncrypt } from "../crypto/ige.ts";
import type { RandomSource } from "../crypto/random.ts";
import {
  equalBytes,
  rsaFingerprint,
  rsaLegacyDecrypt,
  rsaPadDecrypt,
  type RsaPrivateKey,
} from "../crypto/rsa.ts";
import type { TlCodec } from "../tl/codec.ts";
import { TlReader } from "../tl/reader.ts";
import { initialServerSalt, newNonceHash, temporaryAesKeyIv } from "../mtproto/auth_key_kdf.ts";

/** What a finished exchange hands to the server. */
export interface CreatedKey {
  authKey: Uint8Array;
  serverSalt: bigint;
  /** For a temporary key (`p_q_inner_data_temp_dc`): its lifetime in seconds. */
  expiresIn?: number;
}

const G = 3;

/** One connection's exchange, server side. */
export class AuthKeyServer {
  #nonce?: Uint8Array;
  #serverNonce?: Uint8Array;
  #p = 0n;
  #q = 0n;
  #newNonce?: Uint8Array;
  #expiresIn?: number;
  #a = 0n;
  #gA = 0n;

  /** `nowSeconds` stamps server_DH_inner_data; `register` refuses (false) a colliding key id. */
  constructor(
    private readonly codec: TlCodec,
    private readonly key: RsaPrivateKey,
    private readonly random: RandomSource,
    private readonly nowSeconds: () => number,
    private readonly register: (created: CreatedKey) => boolean,
  ) {}

  /** Answers one handshake request body. */
  receive(body: Uint8Array): Uint8Array {
    // One object, and whatever follows it ignored: clients may pad their plain messages (TDLib
    // appends up to 255 random bytes, counted in the message length), and Telegram accepts that.
    const request = this.codec.readObject(new TlReader(body));
    switch (request._cons) {
      case "req_pq_multi":
      case "req_pq":
        return this.#resPq(request.nonce as Uint8Array);
      case "req_DH_params":
        return this.#serverDhParams(request);
      case "set_client_DH_params":
        return this.#dhGen(request);
      default:
        throw new SecurityError(`unexpected ${request._cons} during the key exchange`);
    }
  }

  #resPq(nonce: Uint8Array): Uint8Array {
    this.#nonce = nonce;
    this.#serverNonce = this.random(16);
    this.#p = this.#randomPrime();
    do this.#q = this.#randomPrime(); while (this.#q === this.#p);
    if (this.#p > this.#q) [this.#p, this.#q] = [this.#q, this.#p];
    return this.codec.encode({
      _cons: "resPQ",
      nonce,
      server_nonce: this.#serverNonce,
      pq: bytesFromBigint(this.#p * this.#q),
      server_public_key_fingerprints: [rsaFingerprint(this.key)],
    });
  }

  #randomPrime(): bigint {
    for (;;) {
      const bytes = this.random(4);
      bytes[0] |= 0x40;
      bytes[0] &= 0x7f;
      bytes[3] |= 1;
      const candidate = bigintFromBytes(bytes);
      if (isProbablePrime(candidate, this.random)) return candidate;
    }
  }

  #checkNonces(request: Record<string, unknown>): void {
    if (!this.#nonce || !equalBytes(request.nonce as Uint8Array, this.#nonce)) {
      throw new SecurityError("nonce mismatch");
    }
    if (!equalBytes(request.server_nonce as Uint8Array, this.#serverNonce!)) {
      throw new SecurityError("server_nonce mismatch");
    }
  }

  #serverDhParams(request: Record<string, unknown>): Uint8Array {
    this.#checkNonces(request);
    if (request.public_key_fingerprint !== rsaFingerprint(this.key)) {
      throw new SecurityError("req_DH_params: unknown key fingerprint");
    }
    const inner = this.#decryptInnerData(request.encrypted_data as Uint8Array);
    if (!String(inner._cons).startsWith("p_q_inner_data")) {
      throw new SecurityError(`req_DH_params: expected p_q_inner_data, got ${inner._cons}`);
    }
    this.#checkNonces(inner);
    if (
      bigintFromBytes(inner.pq as Uint8Array) !== this.#p * this.#q ||
      bigintFromBytes(inner.p as Uint8Array) !== this.#p ||
      bigintFromBytes(inner.q as Uint8Array) !== this.#q
    ) {
      throw new SecurityError("req_DH_params: wrong p and q");
    }
    this.#newNonce = inner.new_nonce as Uint8Array;
    // p_q_inner_data_temp(_dc) asks for a temporary key, for perfect forward secrecy.
    this.#expiresIn = typeof inner.expires_in === "number" ? inner.expires_in : undefined;
    do {
      this.#a = bigintFromBytes(this.random(256));
      this.#gA = modPow(BigInt(G), this.#a, TELEGRAM_DH_PRIME);
    } while (!isSafeDhPublicValue(this.#gA, TELEGRAM_DH_PRIME));
    const answer = this.codec.encode({
      _cons: "server_DH_inner_data",
      nonce: this.#nonce,
      server_nonce: this.#serverNonce,
      g: G,
      dh_prime: bytesFromBigint(TELEGRAM_DH_PRIME),
      g_a: bytesFromBigint(this.#gA),
      server_time: Math.floor(this.nowSeconds()),
    });
    const unpadded = 20 + answer.length;
    const withHash = new Uint8Array(unpadded + ((16 - (unpadded % 16)) % 16));
    withHash.set(sha1(answer));
    withHash.set(answer, 20);
    withHash.set(this.random(withHash.length - unpadded), unpadded);
    const { key, iv } = temporaryAesKeyIv(this.#newNonce, this.#serverNonce!);
    return this.codec.encode({
      _cons: "server_DH_params_ok",
      nonce: this.#nonce,
      server_nonce: this.#serverNonce,
      encrypted_answer: igeEncrypt(withHash, key, iv),
    });
  }

  /** RSA_PAD, as the docs prescribe; failing that, the legacy SHA-1 scheme older clients use. */
  #decryptInnerData(encrypted: Uint8Array): Record<string, unknown> {
    try {
      return this.codec.readObject(new TlReader(rsaPadDecrypt(encrypted, this.key)));
    } catch (error) {
      if (!(error instanceof SecurityError)) throw error;
    }
    const { sha1: expected, rest } = rsaLegacyDecrypt(encrypted, this.key);
    const reader = new TlReader(rest);
    let inner: Record<string, unknown>;
    try {
      inner = this.codec.readObject(reader);
    } catch {
      throw new SecurityError(
        "req_DH_params: encrypted_data decrypts to neither RSA_PAD nor the legacy scheme",
      );
    }
    if (!equalBytes(sha1(rest.subarray(0, reader.offset)), expected)) {
      throw new SecurityError("req_DH_params: legacy encrypted_data fails its SHA1");
    }
    return inner;
  }

  #dhGen(request: Record<string, unknown>): Uint8Array {
    this.#checkNonces(request);
    if (!this.#newNonce) throw new SecurityError("set_client_DH_params before req_DH_params");
    const { key, iv } = temporaryAesKeyIv(this.#newNonce, this.#serverNonce!);
    const withHash = igeDecrypt(request.encrypted_data as Uint8Array, key, iv);
    const reader = new TlReader(withHash.subarray(20));
    const inner = this.codec.readObject(reader);
    if (!equalBytes(sha1(withHash.subarray(20, 20 + reader.offset)), withHash.subarray(0, 20))) {
      throw new SecurityError("client_DH_inner_data: SHA1 mismatch");
    }
    this.#checkNonces(inner);
    const gB = bigintFromBytes(inner.g_b as Uint8Array);
    checkDhPublicValue(gB, TELEGRAM_DH_PRIME, "g_b");
    const authKey = bytesFromBigint(modPow(gB, this.#a, TELEGRAM_DH_PRIME), 256);
    const base = { nonce: this.#nonce, server_nonce: this.#serverNonce };
    const created = this.register({
      authKey,
      serverSalt: initialServerSalt(this.#newNonce, this.#serverNonce!),
      ...(this.#expiresIn !== undefined ? { expiresIn: this.#expiresIn } : {}),
    });
    if (!created) {
      // A key whose id is taken: ask the client for another b.
      return this.codec.encode({
        _cons: "dh_gen_retry",
        ...base,
        new_nonce_hash2: newNonceHash(authKey, this.#newNonce, 2),
      });
    }
    return this.codec.encode({
      _cons: "dh_gen_ok",
      ...base,
      new_nonce_hash1: newNonceHash(authKey, this.#newNonce, 1),
    });
  }
}

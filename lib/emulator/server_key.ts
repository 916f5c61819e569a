/**
 * The emulator's RSA key, when none is given.
 *
 * @module
 */

import { generateRsaKeyPem, rsaFingerprint, type RsaPrivateKey } from "../crypto/rsa.ts";

/** A generated key with its PKCS#8 PEM. */
export interface GeneratedKey {
  key: RsaPrivateKey;
  pem: string;
}

/**
 * Generates a server key whose fingerprint's top four bits are not all zero. Telegram's own keys
 * never have such a fingerprint, and mtcute 0.30 cannot use one (it indexes fingerprints as
 * zero-padded hex and looks them up unpadded), so one random key in 16 would lock it out.
 *
 * @example
 * ```ts ignore
 * import { generateServerKey } from "./server_key.ts";
 * const { key, pem } = await generateServerKey();
 * ```
 */
export async function generateServerKey(
  generate: () => Promise<GeneratedKey> = generateRsaKeyPem,
): Promise<GeneratedKey> {
  for (;;) {
    const created = await generate();
    if (BigInt.asUintN(64, rsaFingerprint(created.key)) >> 60n !== 0n) return created;
  }
}

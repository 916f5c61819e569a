/**
 * The tables of table-driven AES, built once at load: the S-box, its inverse, and the round
 * tables that fold SubBytes and MixColumns (or their inverses) into one lookup per state byte.
 *
 * The state is kept as four little-endian 32-bit words (byte 0 of a column in the low bits), so
 * the round tables are laid out for that order.
 *
 * @module
 */

/** The AES S-box (SubBytes). */
export const SBOX: Uint8Array = new Uint8Array(256);
/** The inverse S-box (InvSubBytes). */
export const INV_SBOX: Uint8Array = new Uint8Array(256);
/** Round tables: SubBytes + MixColumns for each row, rows at offsets 0, 256, 512, 768. */
export const ENCRYPT_TABLE: Int32Array = new Int32Array(1024);
/** Inverse round tables: InvSubBytes + InvMixColumns, same layout. */
export const DECRYPT_TABLE: Int32Array = new Int32Array(1024);

(function buildTables() {
  // Multiplication by 3 generates GF(2^8)*; walking it gives logarithms for the field.
  const exp = new Uint8Array(256);
  const log = new Uint8Array(256);
  for (let i = 0, x = 1; i < 255; i++) {
    exp[i] = x;
    log[x] = i;
    x ^= (x << 1) ^ (x & 0x80 ? 0x11b : 0);
    x &= 0xff;
  }
  const multiply = (a: number, b: number) => a === 0 || b === 0 ? 0 : exp[(log[a] + log[b]) % 255];
  for (let x = 0; x < 256; x++) {
    const inverse = x === 0 ? 0 : exp[(255 - log[x]) % 255];
    let s = inverse;
    for (let shift = 1; shift < 5; shift++) {
      s ^= ((inverse << shift) | (inverse >>> (8 - shift))) & 0xff;
    }
    s ^= 0x63;
    SBOX[x] = s;
    INV_SBOX[s] = x;
  }
  const word = (r0: number, r1: number, r2: number, r3: number) =>
    r0 | (r1 << 8) | (r2 << 16) | (r3 << 24);
  for (let x = 0; x < 256; x++) {
    const s = SBOX[x];
    const s2 = multiply(s, 2), s3 = multiply(s, 3);
    ENCRYPT_TABLE[x] = word(s2, s, s, s3);
    ENCRYPT_TABLE[256 + x] = word(s3, s2, s, s);
    ENCRYPT_TABLE[512 + x] = word(s, s3, s2, s);
    ENCRYPT_TABLE[768 + x] = word(s, s, s3, s2);
    const i = INV_SBOX[x];
    const i9 = multiply(i, 9), i11 = multiply(i, 11), i13 = multiply(i, 13), i14 = multiply(i, 14);
    DECRYPT_TABLE[x] = word(i14, i9, i13, i11);
    DECRYPT_TABLE[256 + x] = word(i11, i14, i9, i13);
    DECRYPT_TABLE[512 + x] = word(i13, i11, i14, i9);
    DECRYPT_TABLE[768 + x] = word(i9, i13, i11, i14);
  }
})();

// Each row's table on its own, held in locals by the block functions: on V8 this measured faster
// than offsets into the combined table (one `|` fewer per lookup outweighs the extra registers).

/** Row 0 of {@link ENCRYPT_TABLE}. */
export const E0: Int32Array = ENCRYPT_TABLE.slice(0, 256);
/** Row 1 of {@link ENCRYPT_TABLE}. */
export const E1: Int32Array = ENCRYPT_TABLE.slice(256, 512);
/** Row 2 of {@link ENCRYPT_TABLE}. */
export const E2: Int32Array = ENCRYPT_TABLE.slice(512, 768);
/** Row 3 of {@link ENCRYPT_TABLE}. */
export const E3: Int32Array = ENCRYPT_TABLE.slice(768);
/** Row 0 of {@link DECRYPT_TABLE}. */
export const D0: Int32Array = DECRYPT_TABLE.slice(0, 256);
/** Row 1 of {@link DECRYPT_TABLE}. */
export const D1: Int32Array = DECRYPT_TABLE.slice(256, 512);
/** Row 2 of {@link DECRYPT_TABLE}. */
export const D2: Int32Array = DECRYPT_TABLE.slice(512, 768);
/** Row 3 of {@link DECRYPT_TABLE}. */
export const D3: Int32Array = DECRYPT_TABLE.slice(768);

import { assertEquals, assertThrows } from "../assert.ts";
import { SecurityError } from "../../lib/errors.ts";
import { TlCodec } from "../../lib/tl/codec.ts";
import { loadSchema } from "../../lib/tl/default_schema.ts";
import { TlReader } from "../../lib/tl/reader.ts";
import { factorizePq } from "../../lib/crypto/factorize.ts";
import { bigintFromBytes } from "../../lib/crypto/bigint.ts";
import { sha1 } from "../../lib/crypto/hash.ts";
import { igeDecrypt, igeEncrypt } from "../../lib/crypto/ige.ts";
import { checkDhParameters, checkDhPublicValue, TELEGRAM_DH_PRIME } from "../../lib/crypto/dh.ts";
import { initialServerSalt, temporaryAesKeyIv } from "../../lib/mtproto/auth_key_kdf.ts";

// Values of the classic revision of core.telegram.org/mtproto/samples-auth_key ("Creating an
// Authorization Key: Example", recorded in July 2013 with a since-retired RSA key and g = 2). The
// current revision is replayed through the handshake in tests/mtproto/published_auth_key_example_test.ts.
const hex = (text: string) => Uint8Array.fromHex(text.toLowerCase());
const codec = new TlCodec(loadSchema());
const bytesCodec = new TlCodec(loadSchema(), { longs: "bigint", bytes: "uint8array" });

const NONCE = hex("3E0549828CCA27E966B301A48FECE2FC");
const SERVER_NONCE = hex("A5CF4D33F4A11EA877BA4AA573907330");
const NEW_NONCE = hex("311C85DB234AA2640AFC4A76A735CF5B1F0FD68BD17FA181E1229AD867CC024D");
const RES_PQ = hex(
  "632416053E0549828CCA27E966B301A48FECE2FCA5CF4D33F4A11EA877BA4AA5739073300817ED48941A08F98100000015C4B51C01000000216BE86C022BB4C3",
);
const ENCRYPTED_ANSWER = hex(
  "28A92FE20173B347A8BB324B5FAB2667C9A8BBCE6468D5B509A4CBDDC186240AC912CF7006AF8926DE606A2E74C0493CAA57741E6C82451F54D3E068F5CCC49B4444124B9666FFB405AAB564A3D01E67F6E912867C8D20D9882707DC330B17B4E0DD57CB53BFAAFA9EF5BE76AE6C1B9B6C51E2D6502A47C883095C46C81E3BE25F62427B585488BB3BF239213BF48EB8FE34C9A026CC8413934043974DB03556633038392CECB51F94824E140B98637730A4BE79A8F9DAFA39BAE81E1095849EA4C83467C92A3A17D997817C8A7AC61C3FF414DA37B7D66E949C0AEC858F048224210FCC61F11C3A910B431CCBD104CCCC8DC6D29D4A5D133BE639A4C32BBFF153E63ACA3AC52F2E4709B8AE01844B142C1EE89D075D64F69A399FEB04E656FE3675A6F8F412078F3D0B58DA15311C1A9F8E53B3CD6BB5572C294904B726D0BE337E2E21977DA26DD6E33270251C2CA29DFCC70227F0755F84CFDA9AC4B8DD5F84F1D1EB36BA45CDDC70444D8C213E4BD8F63B8AB95A2D0B4180DC91283DC063ACFB92D6A4E407CDE7C8C69689F77A007441D4A6A8384B666502D9B77FC68B5B43CC607E60A146223E110FCB43BC3C942EF981930CDC4A1D310C0B64D5E55D308D863251AB90502C3E46CC599E886A927CDA963B9EB16CE62603B68529EE98F9F5206419E03FB458EC4BD9454AA8F6BA777573CC54B328895B1DF25EAD9FB4CD5198EE022B2B81F388D281D5E5BC580107CA01A50665C32B552715F335FD76264FAD00DDD5AE45B94832AC79CE7C511D194BC42B70EFA850BB15C2012C5215CABFE97CE66B8D8734D0EE759A638AF013",
);
const ANSWER = hex(
  "BA0D89B53E0549828CCA27E966B301A48FECE2FCA5CF4D33F4A11EA877BA4AA57390733002000000FE000100C71CAEB9C6B1C9048E6C522F70F13F73980D40238E3E21C14934D037563D930F48198A0AA7C14058229493D22530F4DBFA336F6E0AC925139543AED44CCE7C3720FD51F69458705AC68CD4FE6B6B13ABDC9746512969328454F18FAF8C595F642477FE96BB2A941D5BCD1D4AC8CC49880708FA9B378E3C4F3A9060BEE67CF9A4A4A695811051907E162753B56B0F6B410DBA74D8A84B2A14B3144E0EF1284754FD17ED950D5965B4B9DD46582DB1178D169C6BC465B0D6FF9CA3928FEF5B9AE4E418FC15E83EBEA0F87FA9FF5EED70050DED2849F47BF959D956850CE929851F0D8115F635B105EE2E4E15D04B2454BF6F4FADF034B10403119CD8E3B92FCC5BFE000100262AABA621CC4DF587DC94CF8252258C0B9337DFB47545A49CDD5C9B8EAE7236C6CADC40B24E88590F1CC2CC762EBF1CF11DCC0B393CAAD6CEE4EE5848001C73ACBB1D127E4CB93072AA3D1C8151B6FB6AA6124B7CD782EAF981BDCFCE9D7A00E423BD9D194E8AF78EF6501F415522E44522281C79D906DDB79C72E9C63D83FB2A940FF779DFB5F2FD786FB4AD71C9F08CF48758E534E9815F634F1E3A80A5E1C2AF210C5AB762755AD4B2126DFA61A77FA9DA967D65DFD0AFB5CDF26C4D4E1A88B180F4E0D0B45BA1484F95CB2712B50BF3F5968D9D55C99C0FB9FB67BFF56D7D4481B634514FBA3488C4CDA2FC0659990E8E868B28632875A9AA703BCDCE8FCB7AE551",
);

Deno.test("classic revision: req_pq and resPQ bytes, with the key fingerprint", () => {
  assertEquals(
    codec.encode({ _cons: "req_pq", nonce: NONCE.toBase64() }),
    hex("78974660" + "3E0549828CCA27E966B301A48FECE2FC"),
  );
  const resPq = bytesCodec.decode(RES_PQ);
  assertEquals(resPq._cons, "resPQ");
  assertEquals(resPq.nonce, NONCE);
  assertEquals(resPq.server_nonce, SERVER_NONCE);
  assertEquals(resPq.pq, hex("17ED48941A08F981"));
  assertEquals(resPq.server_public_key_fingerprints, [-4344800451088585951n]);
  assertEquals(BigInt.asUintN(64, -4344800451088585951n), 0xc3b42b026ce86b21n);
});

Deno.test("classic revision: pq splits into p and q, and p_q_inner_data hashes as published", () => {
  const [p, q] = factorizePq(bigintFromBytes(hex("17ED48941A08F981")));
  assertEquals([p.toString(16), q.toString(16)], ["494c553b", "53911073"]);
  const inner = codec.encode({
    _cons: "p_q_inner_data",
    pq: hex("17ED48941A08F981").toBase64(),
    p: hex("494C553B").toBase64(),
    q: hex("53911073").toBase64(),
    nonce: NONCE.toBase64(),
    server_nonce: SERVER_NONCE.toBase64(),
    new_nonce: NEW_NONCE.toBase64(),
  });
  assertEquals(sha1(inner).toHex(), "db761c27718a2305044f71f2ad951629d78b2449");
});

Deno.test("classic revision: tmp_aes_key and tmp_aes_iv from new_nonce and server_nonce", () => {
  const { key, iv } = temporaryAesKeyIv(NEW_NONCE, SERVER_NONCE);
  assertEquals(
    key.toHex().toUpperCase(),
    "F011280887C7BB01DF0FC4E17830E0B91FBB8BE4B2267CB985AE25F33B527253",
  );
  assertEquals(
    iv.toHex().toUpperCase(),
    "3212D579EE35452ED23E0D0C92841AA7D31B2E9BDEF2151E80D15860311C85DB",
  );
});

Deno.test("classic revision: encrypted_answer decrypts to SHA1(answer) + answer + padding", () => {
  const { key, iv } = temporaryAesKeyIv(NEW_NONCE, SERVER_NONCE);
  const answerWithHash = igeDecrypt(ENCRYPTED_ANSWER, key, iv);
  assertEquals(answerWithHash.subarray(0, 20), sha1(ANSWER));
  assertEquals(answerWithHash.subarray(20, 20 + ANSWER.length), ANSWER);
  assertEquals(answerWithHash.length - 20 - ANSWER.length < 16, true, "padding under one block");
  // And back: the server's side of the same step.
  assertEquals(igeEncrypt(answerWithHash, key, iv), ENCRYPTED_ANSWER);
});

Deno.test("classic revision: server_DH_inner_data decodes; its g = 2 fails today's generator rule", () => {
  const reader = new TlReader(ANSWER);
  const inner = bytesCodec.readObject(reader) as Record<string, unknown>;
  assertEquals(inner._cons, "server_DH_inner_data");
  assertEquals(inner.nonce, NONCE);
  assertEquals(inner.server_nonce, SERVER_NONCE);
  assertEquals(inner.g, 2);
  const p = bigintFromBytes(inner.dh_prime as Uint8Array);
  assertEquals(p, TELEGRAM_DH_PRIME);
  // This prime is 3 mod 8, so 2 is not a quadratic residue: the example predates the rule that g
  // must generate the subgroup of order (p-1)/2. Telegram now sends g = 3 with it.
  assertThrows(() => checkDhParameters(p, inner.g as number), SecurityError, "g = 2");
  checkDhParameters(p, 3);
  checkDhPublicValue(bigintFromBytes(inner.g_a as Uint8Array), p, "g_a");
  assertEquals(inner.server_time, 1373993675, "July 2013, when the example was recorded");
  // The first salt: the first 8 bytes of new_nonce XOR server_nonce, as a little-endian long.
  const salt = new DataView(hex("94D3C8E8D7EBBCCC").buffer).getBigInt64(0, true);
  assertEquals(initialServerSalt(NEW_NONCE, SERVER_NONCE), salt);
});

/**
 * Raw API calls over a sender, for emulator tests: encode, invoke, decode by the method's result
 * type; and the phone + code sign-in most tests start with.
 *
 * @module
 */

import type { Sender } from "../../lib/net/sender.ts";
import type { TlCodec, TlObject } from "../../lib/tl/codec.ts";
import { computeSrpAnswer } from "../../lib/crypto/srp.ts";

/** A call function over `sender`: the decoded result, `rpc_error` included. */
export function rawCaller(
  sender: Sender,
  codec: TlCodec,
): (request: TlObject) => Promise<TlObject> {
  return async (request) => {
    const answer = await sender.invoke(codec.encode(request));
    const result = codec.decodeResult(answer, codec.resultType(request) ?? "Object");
    return (Array.isArray(result) ? { _cons: "vector", items: result } : result) as TlObject;
  };
}

/** `auth.sendCode` then `auth.signIn` with the emulator's code; returns the signIn answer. */
export async function signInWithCode(
  call: (request: TlObject) => Promise<TlObject>,
  phone: string,
): Promise<TlObject> {
  const sent = await call({
    _cons: "auth.sendCode",
    phone_number: phone,
    api_id: 1,
    api_hash: "h",
    settings: { _cons: "codeSettings" },
  });
  return await call({
    _cons: "auth.signIn",
    phone_number: phone,
    phone_code_hash: sent.phone_code_hash,
    phone_code: "12345",
  });
}

/** Signs in by code, then with the 2FA password (real SRP) when the account has one. */
export async function signIn(
  call: (request: TlObject) => Promise<TlObject>,
  phone: string,
  password?: string,
) {
  const signed = await signInWithCode(call, phone);
  if (signed._cons !== "rpc_error" || !password) return signed;
  const state = await call({ _cons: "account.getPassword" });
  const algo = state.current_algo as TlObject;
  const answer = await computeSrpAnswer(
    password,
    {
      salt1: algo.salt1 as Uint8Array,
      salt2: algo.salt2 as Uint8Array,
      g: algo.g as number,
      p: algo.p as Uint8Array,
    },
    state.srp_B as Uint8Array,
    state.srp_id as bigint,
  );
  return await call({
    _cons: "auth.checkPassword",
    password: { _cons: "inputCheckPasswordSRP", ...answer },
  });
}

/**
 * Signing in: phone → code → 2FA password (SRP), or sign-up for a new number, over a
 * {@link Client}. It asks only for what it was not given, asks again after a wrong code or
 * password, and follows PHONE_MIGRATE through the client.
 *
 * @module
 */

import { Mtproto2jsonError } from "../errors.ts";
import { computeSrpAnswer } from "../crypto/srp.ts";
import type { TlObject } from "../tl/codec.ts";
import type { Client } from "./client.ts";

/** What the user may give up front. */
export interface SigninAnswers {
  phone?: string;
  code?: string;
  password?: string;
  firstName?: string;
  lastName?: string;
}

/** How to ask for what is missing. */
export interface SigninPrompter {
  ask(question: string, options?: { hidden?: boolean }): Promise<string>;
  tell(line: string): void;
}

/** Sign-in failed for a reason the user must act on. */
export class SigninError extends Mtproto2jsonError {
  override name = "SigninError";
}

const MAX_ATTEMPTS = 5;

/** Runs the flow; on success the client's session is signed in. */
export async function signInFlow(
  client: Client,
  answers: SigninAnswers,
  prompter: SigninPrompter,
): Promise<TlObject> {
  if (client.app.apiId === undefined || !client.app.apiHash) {
    throw new SigninError(
      "an api_id and api_hash are needed: --api-id and --api-hash (get them at my.telegram.org)",
    );
  }
  const phone = (answers.phone ??
    await prompter.ask("Phone number (international format, e.g. +15550000001): ")).trim();
  const sent = await expect(client.call({
    _cons: "auth.sendCode",
    phone_number: phone,
    api_id: client.app.apiId,
    api_hash: client.app.apiHash,
    settings: { _cons: "codeSettings" },
  }));
  prompter.tell(`A login code was sent (${describeCodeType(sent.type as TlObject)}).`);
  let code = answers.code;
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    code ??= (await prompter.ask("Login code: ")).trim();
    const result = await client.call({
      _cons: "auth.signIn",
      phone_number: phone,
      phone_code_hash: sent.phone_code_hash,
      phone_code: code,
    });
    if (isError(result, "PHONE_CODE_INVALID")) {
      prompter.tell("That code is not right; try again.");
      code = undefined;
      continue;
    }
    if (isError(result, "SESSION_PASSWORD_NEEDED")) {
      return await passwordFlow(client, answers, prompter);
    }
    if (result._cons === "auth.authorizationSignUpRequired") {
      const first = answers.firstName ?? (await prompter.ask("New account. First name: ")).trim();
      const last = answers.lastName ?? (await prompter.ask("Last name (may be empty): ")).trim();
      return await expect(client.call({
        _cons: "auth.signUp",
        phone_number: phone,
        phone_code_hash: sent.phone_code_hash,
        first_name: first,
        last_name: last,
      }));
    }
    return await expect(Promise.resolve(result));
  }
  throw new SigninError("too many wrong codes");
}

async function passwordFlow(
  client: Client,
  answers: SigninAnswers,
  prompter: SigninPrompter,
): Promise<TlObject> {
  let password = answers.password;
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const state = await expect(client.call({ _cons: "account.getPassword" }));
    const algo = state.current_algo as TlObject | undefined;
    if (
      !algo || algo._cons !== "passwordKdfAlgoSHA256SHA256PBKDF2HMACSHA512iter100000SHA256ModPow"
    ) {
      throw new SigninError(`unsupported password algorithm ${algo?._cons}`);
    }
    const hint = state.hint ? ` (hint: ${state.hint})` : "";
    password ??= await prompter.ask(`2FA password${hint}: `, { hidden: true });
    const answer = await computeSrpAnswer(
      password,
      {
        salt1: Uint8Array.fromBase64(algo.salt1 as string),
        salt2: Uint8Array.fromBase64(algo.salt2 as string),
        g: algo.g as number,
        p: Uint8Array.fromBase64(algo.p as string),
      },
      Uint8Array.fromBase64(state.srp_B as string),
      exactLong(state.srp_id),
    );
    const result = await client.call({
      _cons: "auth.checkPassword",
      password: {
        _cons: "inputCheckPasswordSRP",
        srp_id: answer.srp_id,
        A: answer.A.toBase64(),
        M1: answer.M1.toBase64(),
      },
    });
    if (isError(result, "PASSWORD_HASH_INVALID")) {
      prompter.tell("That password is not right; try again.");
      password = undefined;
      continue;
    }
    return await expect(Promise.resolve(result));
  }
  throw new SigninError("too many wrong passwords");
}

function isError(value: TlObject, message: string): boolean {
  return value._cons === "rpc_error" && value.error_message === message;
}

async function expect(call: Promise<TlObject>): Promise<TlObject> {
  const value = await call;
  if (value._cons === "rpc_error") {
    throw new SigninError(`Telegram answered ${value.error_code} ${value.error_message}`);
  }
  if (value._cons === "rpc_timeout") throw new SigninError(String(value.error_message));
  return value;
}

/** A long from the JSON form (number, decimal string or exact raw JSON) as a bigint. */
function exactLong(value: unknown): bigint {
  if (typeof value === "number" || typeof value === "string") return BigInt(value);
  return BigInt(JSON.stringify(value));
}

function describeCodeType(type: TlObject | undefined): string {
  switch (type?._cons) {
    case "auth.sentCodeTypeApp":
      return "in the Telegram app";
    case "auth.sentCodeTypeSms":
      return "by SMS";
    case "auth.sentCodeTypeCall":
      return "by a phone call";
    default:
      return type?._cons ?? "somewhere";
  }
}

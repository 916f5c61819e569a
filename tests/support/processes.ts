/**
 * Helpers for tests and the bench that run the executable's subcommands as processes: read until
 * a line appears, measure a process's memory, sign in over the JSON protocol.
 *
 * @module
 */

import { computeSrpAnswer } from "../../lib/crypto/srp.ts";
import type { JsonClient } from "./json_client.ts";

const root = new URL("../../", import.meta.url).pathname;

/**
 * `mtproto2json serve` as a process pointed at the emulator's `line` (intermediate transport, api
 * id 12345, `extra` flags added); resolves with the process and its port once it listens. Its
 * stdout is discarded and its stderr kept (`stderr()` reads what it printed so far).
 */
export async function startServeProcess(
  line: unknown,
  extra: string[] = [],
): Promise<{ child: Deno.ChildProcess; port: number; stderr: () => string }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      `${root}main.ts`,
      "serve",
      "--port",
      "0",
      "--api-id",
      "12345",
      "--transport",
      "intermediate",
      ...extra,
      "--server",
      JSON.stringify(line),
    ],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const printed: string[] = [];
  const port = Number((await waitFor(child.stderr, /listening on [\d.]+:(\d+)/, printed))[1]);
  return { child, port, stderr: () => printed.join("") };
}

/**
 * Reads `stream` until `pattern` matches what was read, then keeps draining it in the background
 * (a child blocked on a full pipe would hang); returns the match.
 */
export async function waitFor(
  stream: ReadableStream<Uint8Array>,
  pattern: RegExp,
  printed: string[] = [],
): Promise<RegExpExecArray> {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!pattern.test(text)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`the process ended before printing ${pattern}: ${text}`);
    text += value;
  }
  printed.push(text);
  (async () => {
    for (let next; !(next = await reader.read()).done;) printed.push(next.value);
  })().catch(() => {});
  return pattern.exec(text)!;
}

/** Resident memory of a process, in MB (Linux). */
export async function rssMb(pid: number): Promise<number> {
  const { stdout } = await new Deno.Command("cat", { args: [`/proc/${pid}/status`] }).output();
  return Number(/VmRSS:\s+(\d+) kB/.exec(new TextDecoder().decode(stdout))?.[1] ?? 0) / 1024;
}

/** Signs Alice in (the emulator's code) on a JSON connection; returns her session object. */
export async function signInAlice(client: JsonClient, apiId = 12345): Promise<unknown> {
  return await signInByCode(client, "+15550000001", apiId);
}

/**
 * Signs an account without a 2FA password in through a JSON client (the emulator's code 12345)
 * and returns its session object.
 */
export async function signInByCode(
  client: JsonClient,
  phone: string,
  apiId = 12345,
): Promise<unknown> {
  const sent = await client.request({
    id: 901,
    message: {
      _cons: "auth.sendCode",
      phone_number: phone,
      api_id: apiId,
      api_hash: "hash",
      settings: { _cons: "codeSettings" },
    },
  });
  const signed = await client.request({
    id: 902,
    message: {
      _cons: "auth.signIn",
      phone_number: phone,
      phone_code_hash: (sent.message as Record<string, unknown>).phone_code_hash,
      phone_code: "12345",
    },
  });
  if ((signed.message as Record<string, unknown>)?._cons !== "auth.authorization") {
    throw new Error(`sign-in of ${phone} failed: ${JSON.stringify(signed)}`);
  }
  return (await client.request({ id: 903, session: {} })).session;
}

/**
 * Signs Alice in (the emulator's code) on a client of the library itself, not through serve: the
 * benches' other session of her account, whose messages to herself are the updates they measure.
 */
export async function signInAliceDirect(
  client: { call(request: Record<string, unknown>): Promise<unknown> },
  apiId = 12345,
): Promise<void> {
  const code = await client.call({
    _cons: "auth.sendCode",
    phone_number: "+15550000001",
    api_id: apiId,
    api_hash: "hash",
    settings: { _cons: "codeSettings" },
  }) as Record<string, unknown>;
  await client.call({
    _cons: "auth.signIn",
    phone_number: "+15550000001",
    phone_code_hash: code.phone_code_hash,
    phone_code: "12345",
  });
}

/** Signs Bob in, computing the SRP answer as any client of the protocol would. */
export async function signInBob(client: JsonClient): Promise<void> {
  const phone = "+15550000002";
  const sent = await client.request({
    id: 901,
    message: {
      _cons: "auth.sendCode",
      phone_number: phone,
      api_id: 1,
      api_hash: "h",
      settings: { _cons: "codeSettings" },
    },
  });
  const hash = (sent.message as Record<string, unknown>).phone_code_hash;
  const needed = await client.request({
    id: 902,
    message: {
      _cons: "auth.signIn",
      phone_number: phone,
      phone_code_hash: hash,
      phone_code: "12345",
    },
  });
  if ((needed.message as Record<string, unknown>).error_message !== "SESSION_PASSWORD_NEEDED") {
    throw new Error(`Bob's sign-in did not ask for his password: ${JSON.stringify(needed)}`);
  }
  const password = (await client.request({ id: 903, message: { _cons: "account.getPassword" } }))
    .message as Record<string, unknown>;
  const algo = password.current_algo as Record<string, string | number>;
  const answer = await computeSrpAnswer(
    "hunter2",
    {
      salt1: Uint8Array.fromBase64(algo.salt1 as string),
      salt2: Uint8Array.fromBase64(algo.salt2 as string),
      g: algo.g as number,
      p: Uint8Array.fromBase64(algo.p as string),
    },
    Uint8Array.fromBase64(password.srp_B as string),
    BigInt(String(password.srp_id)),
  );
  const checked = await client.request({
    id: 904,
    message: {
      _cons: "auth.checkPassword",
      password: {
        _cons: "inputCheckPasswordSRP",
        srp_id: String(answer.srp_id),
        A: answer.A.toBase64(),
        M1: answer.M1.toBase64(),
      },
    },
  });
  if ((checked.message as Record<string, unknown>)._cons !== "auth.authorization") {
    throw new Error(`Bob's password was refused: ${JSON.stringify(checked)}`);
  }
}

/**
 * Alice's messages to herself from her library session (`signInAliceDirect`), `inFlight` at a time:
 * the load of the update benches. Each call of the returned function sends `count` more, numbered
 * on from the last ("bench N", random_id N).
 */
export function messagesToSelf(
  client: { call(request: Record<string, unknown>): Promise<unknown> },
  inFlight = 50,
): (count: number) => Promise<void> {
  let sent = 0;
  return async (count) => {
    const target = sent + count;
    await Promise.all(Array.from({ length: inFlight }, async () => {
      while (sent < target) {
        const n = ++sent;
        await client.call({
          _cons: "messages.sendMessage",
          peer: { _cons: "inputPeerSelf" },
          message: `bench ${n}`,
          random_id: n,
        });
      }
    }));
  };
}

/**
 * Sets up the key a sender's session runs under, on a freshly opened connection and before any
 * request goes out on it: drives the auth key exchange (the pure steps live in
 * `mtproto/auth_key_exchange.ts`; this moves their messages over the socket) and, with perfect
 * forward secrecy, creates a temporary key, binds it to the permanent one with
 * auth.bindTempAuthKey and renews it before it expires.
 *
 * @module
 */

import { SecurityError } from "../errors.ts";
import {
  deriveAuthKey,
  type ExchangeResult,
  finishExchange,
  requestDhParams,
  requestPq,
  setClientDhParams,
} from "../mtproto/auth_key_exchange.ts";
import { type AuthKey, makeAuthKey } from "../mtproto/encrypted_message.ts";
import { authKeyIdLong, bindTempAuthKeyCall } from "../mtproto/temp_key_binding.ts";
import { MessageIdGenerator } from "../mtproto/message_id.ts";
import { packPlainMessage, unpackPlainMessage } from "../mtproto/plain_message.ts";
import { ClientSession } from "../mtproto/session.ts";
import type { ClientTransport } from "../transport/transport.ts";
import type { ConnectProgress } from "./connect_progress.ts";
import { AuthKeyUnknownError, BadAnswerError } from "./sender_errors.ts";
import type { SenderOptions } from "./sender_options.ts";
import type { ByteConnection } from "./tcp_connection.ts";
import { type Clock, systemClock, type TimerId } from "../io/clock.ts";

/** Renew a temporary key when this share of its life is left (at least a minute, at most half). */
const TEMP_KEY_RENEW_SHARE = 0.1;

/** A connection being set up: its socket, its transport, and the one reader of its bytes. */
export interface KeyPipe {
  /** The socket, written to directly. */
  connection: ByteConnection;
  /** Frames (and obfuscates) what goes over the socket. */
  transport: ClientTransport;
  /** Reads the socket; the same one carries on as the sender's read loop afterwards. */
  reader: AsyncIterator<Uint8Array>;
}

/** What setting up a key reads from the sender's options. */
export type KeySetupOptions = Pick<
  SenderOptions,
  "codec" | "random" | "clock" | "publicKeys" | "dcId" | "authKey"
>;

/** A client session under `authKey` (resuming `sessionId` when given). */
export function newSession(
  options: KeySetupOptions,
  authKey: Uint8Array,
  salt: bigint,
  timeOffset: number,
  sessionId?: bigint,
): ClientSession {
  return new ClientSession({
    codec: options.codec,
    authKey: makeAuthKey(authKey),
    salt,
    random: options.random,
    clock: wallClockOf(options),
    timeOffset,
    ...(sessionId !== undefined ? { sessionId } : {}),
  });
}

/** A session resumed under the options' key, with their salt and session id. */
export function resumeSession(
  options: KeySetupOptions & Pick<SenderOptions, "salt" | "sessionId">,
  authKey: Uint8Array,
): ClientSession {
  return newSession(options, authKey, options.salt ?? 0n, 0, options.sessionId);
}

/**
 * Runs the auth key exchange over `pipe` in plain messages: a permanent key, or a temporary one
 * of `expiresIn` seconds. `progress` follows each message, so that a deadline or a closed
 * connection names the one that got no answer.
 */
export async function createAuthKey(
  options: KeySetupOptions,
  pipe: KeyPipe,
  progress: ConnectProgress,
  expiresIn?: number,
): Promise<ExchangeResult> {
  const { connection, transport, reader } = pipe;
  const clock = wallClockOf(options);
  const ids = new MessageIdGenerator(clock, "client");
  const context = {
    codec: options.codec,
    random: options.random,
    publicKeys: options.publicKeys,
    dcId: options.dcId,
    ...(expiresIn !== undefined ? { expiresIn } : {}),
  };
  const pending: Uint8Array[] = [];
  const exchange = async (body: Uint8Array, message: string): Promise<Uint8Array> => {
    progress.step = "key_exchange";
    progress.exchangeMessage = message;
    await connection.write(transport.pack(packPlainMessage(ids.next(), body)));
    while (pending.length === 0) {
      const next = await reader.next();
      if (next.done) throw progress.closedEarly();
      pending.push(...transport.unpack(next.value));
    }
    return unpackPlainMessage(pending.shift()!).body;
  };
  const step1 = requestPq(context);
  const step2 = requestDhParams(
    context,
    step1.state,
    await exchange(step1.request, "req_pq_multi"),
  );
  let step3 = setClientDhParams(
    context,
    step2.state,
    await exchange(step2.request, "req_DH_params"),
    clock() / 1000,
  );
  for (let attempt = 0; attempt < 5; attempt++) {
    // The request goes out first; the client then computes the key (g_a^b) while the server
    // computes the same key, instead of before sending: the two exponentiations overlap.
    const answer = exchange(step3.request, "set_client_DH_params");
    const keyed = deriveAuthKey(step3.state);
    const result = finishExchange(context, keyed, await answer);
    if ("done" in result) return result.done;
    step3 = result.retry;
  }
  throw new SecurityError("the server kept asking to retry the key exchange");
}

/** What the temporary keys need from their sender. */
export interface TempKeyHost {
  /** The sender's options, read when used. */
  options: KeySetupOptions;
  /** The sender's connection progress, moved on at each step. */
  progress: ConnectProgress;
  /** Runs the renewal timer. */
  clock: Clock;
  /** Writes a line to the sender's log. */
  log(line: string): void;
  /** The session in use, if any: it is kept while its temporary key has time left. */
  session(): ClientSession | undefined;
  /** Puts a session under a freshly bound temporary key in place of the one in use. */
  install(session: ClientSession): void;
  /** Time to renew: drop the connection, so that reconnecting binds a new key. */
  renew(): void;
  /** The DC refused the binding: the permanent key is unknown (the sender closes with `error`). */
  refused(error: AuthKeyUnknownError): void;
}

/**
 * Perfect forward secrecy: the permanent key, and the temporary key bound to it that the session
 * runs under, renewed before it expires. The permanent key never encrypts a message.
 */
export class TempKeys {
  readonly #host: TempKeyHost;
  #permKey?: AuthKey;
  /** When the temporary key in use expires (server time, s). */
  #expiresAt = 0;
  #renewTimer?: TimerId;

  /** Prepares the keys; nothing happens until `ensureBound`. */
  constructor(host: TempKeyHost) {
    this.#host = host;
  }

  /** The permanent key, once known. */
  get permanentKey(): Uint8Array | undefined {
    return this.#permKey?.key;
  }

  /** The server forgot the temporary key (`-404`): the next connection binds a new one. */
  forget(): void {
    this.#expiresAt = 0;
  }

  /** Cancels the renewal, for good (the sender is closing). */
  stop(): void {
    this.#host.clock.clearTimeout(this.#renewTimer);
  }

  /**
   * Makes sure the permanent key exists, and that a temporary key of `lifetime` seconds with time
   * left is bound to it; a new one is created and bound here, on this connection, before any
   * request goes out under it. Requests left unanswered under the previous temporary key move to
   * the new session.
   */
  async ensureBound(pipe: KeyPipe, lifetime: number): Promise<void> {
    const host = this.#host;
    const { options } = host;
    this.#permKey ??= makeAuthKey(
      options.authKey ?? (await createAuthKey(options, pipe, host.progress)).authKey,
    );
    // A day's key is renewed 2.4 h before its end; a short-lived one (tests) half-way.
    const margin = Math.min(lifetime / 2, Math.max(60, lifetime * TEMP_KEY_RENEW_SHARE));
    const current = host.session();
    if (current && current.ids.now() < this.#expiresAt - margin) return;
    const created = await createAuthKey(options, pipe, host.progress, lifetime);
    const session = newSession(options, created.authKey, created.serverSalt, created.timeOffset);
    const expiresAt = Math.floor(session.ids.now()) + lifetime;
    host.progress.step = "temp_key_binding";
    await this.#bind(session, this.#permKey, expiresAt, pipe);
    host.install(session);
    this.#expiresAt = expiresAt;
    host.log(`temporary key bound until ${new Date(expiresAt * 1000).toISOString()}`);
    host.clock.clearTimeout(this.#renewTimer);
    this.#renewTimer = host.clock.setTimeout(() => {
      // Reconnecting renews it: ensureBound finds it near its end.
      host.log("renewing the temporary key");
      host.renew();
    }, (expiresAt - margin - session.ids.now()) * 1000);
  }

  /** Sends auth.bindTempAuthKey under the new temporary key and waits for its answer. */
  async #bind(
    session: ClientSession,
    permKey: AuthKey,
    expiresAt: number,
    pipe: KeyPipe,
  ): Promise<void> {
    const host = this.#host;
    const { codec, random } = host.options;
    const { connection, transport, reader } = pipe;
    const binding = {
      tempAuthKeyId: authKeyIdLong(session.authKey),
      tempSessionId: session.sessionId,
      expiresAt,
    };
    const requestId = session.send((messageId) =>
      codec.encode(bindTempAuthKeyCall(codec, permKey, binding, messageId, random))
    );
    for (;;) {
      for (let payload; (payload = session.flush());) {
        await connection.write(transport.pack(payload));
      }
      const next = await reader.next();
      if (next.done) throw host.progress.closedEarly();
      for (const payload of transport.unpack(next.value)) {
        for (const event of session.receive(payload)) {
          if (event.type === "failed" && event.requestId === requestId) {
            throw new BadAnswerError(`auth.bindTempAuthKey: ${event.reason}`);
          }
          if (event.type !== "result" || event.requestId !== requestId) continue;
          const answer = codec.decode(event.body);
          if (answer._cons === "boolTrue") return;
          // The permanent key is not (or no longer) known: what -404 means for a plain session.
          const error = new AuthKeyUnknownError(
            `AUTH_KEY_UNKNOWN: DC ${host.options.dcId} refused to bind a temporary key to our ` +
              `permanent key (${answer.error_message ?? answer._cons})`,
          );
          host.refused(error);
          throw error;
        }
      }
    }
  }
}

/** The wall time message ids are made from: the options' clock, or the platform's. */
function wallClockOf(options: KeySetupOptions): () => number {
  const clock = options.clock ?? systemClock;
  return () => clock.wall();
}

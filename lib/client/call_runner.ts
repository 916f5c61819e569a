/**
 * One call's way to its answer: the connection it goes on (the DC's main one, or a file one),
 * initConnection where needed, and what the retry policy says after each failure — wait out a
 * short FLOOD_WAIT, follow a migration, export the authorization again, try a dropped connection
 * again — until the answer, an RPC error the policy does not handle, or the deadline.
 *
 * @module
 */

import type { Clock } from "../io/clock.ts";
import { RpcError } from "../errors.ts";
import type { TlCodec, TlObject } from "../tl/codec.ts";
import {
  AuthKeyUnknownError,
  ConnectionFailedError,
  ConnectTimeoutError,
  RequestTimeoutError,
  SenderClosedError,
} from "../net/sender.ts";
import { decideReconnect, decideRetry } from "./retry_policy.ts";
import type { DcCall, DcRouter } from "./dc_router.ts";
import type { ConnectionInit } from "./init_connection.ts";
import { type CallContext, CallCutOffError, type CallResult } from "./client_options.ts";

/** What a runner works with: the client's router, initConnection, codec and clock. */
export interface CallRunnerHost {
  router: DcRouter;
  init: ConnectionInit;
  /** The codec requests are encoded with (and internal answers decoded natively). */
  codec: TlCodec;
  clock: Clock;
  /** The api_id for initConnection. */
  apiId(): number | undefined;
  /** How many times the owner closed the client's connections (a call started before is cut off). */
  closes(): number;
  log(line: string): void;
}

/** Runs calls for one client. */
export class CallRunner {
  readonly #host: CallRunnerHost;

  /** A runner over the client's parts. */
  constructor(host: CallRunnerHost) {
    this.#host = host;
  }

  /**
   * The calls the router makes for itself (config, exported authorizations), decoded natively
   * (bigint longs, Uint8Array bytes), under the deadline of the call that needed them.
   */
  internalCalls(context: CallContext): DcCall {
    // On the main connections, even when a file call needed them.
    const main = context.slot === undefined ? context : { ...context, slot: undefined, cdn: false };
    return async (dc, request, resultType) =>
      await this.run(
        dc,
        request,
        this.#host.codec.encode(request),
        (answer: Uint8Array) => this.#host.codec.decodeResult(answer, resultType) as CallResult,
        0,
        main,
      );
  }

  /** Sends on DC `dc` and applies the retry policy; throws RequestTimeoutError past the deadline. */
  async run(
    dc: number,
    request: TlObject,
    body: Uint8Array,
    decode: (answer: Uint8Array) => CallResult,
    attempt: number,
    context: CallContext,
  ): Promise<CallResult> {
    const left = () => context.deadline - this.#host.clock.now();
    let remaining = left();
    if (context.closes !== this.#host.closes()) {
      // The owner closed the client while this call waited to be tried again.
      throw new CallCutOffError(
        "the connection to Telegram was closed before an answer came",
        attempt > 0,
      );
    }
    if (remaining <= 0) {
      throw new RequestTimeoutError(
        "the deadline passed",
        attempt > 0,
        context.lastConnectFailure && `the last try failed: ${context.lastConnectFailure}`,
      );
    }
    const home = this.#host.router.session.dc;
    const router = this.#host.router;
    // The usual call finds its DC's connection open: taken at once, not after an async lookup's
    // promise and turn, and the router's own calls are made only for the lookups that need them.
    let sender = context.slot === undefined ? router.openSender(dc) : undefined;
    if (!sender) {
      const internal = this.internalCalls(context);
      sender = context.slot === undefined
        ? await router.senderFor(dc, internal)
        : context.cdn
        ? await router.cdnSenderFor(dc, context.slot, internal)
        : await router.fileSenderFor(dc, context.slot, internal);
      remaining = left();
    }
    const wrapped = this.#host.init.wrap(
      sender,
      request,
      body,
      this.#host.apiId(),
      context.behaviour.autoInit,
    );
    let answer: Uint8Array;
    try {
      answer = await sender.invoke(wrapped, Math.max(1, remaining));
    } catch (error) {
      if (error instanceof RpcError) {
        return { _cons: "rpc_error", error_code: error.code, error_message: error.errorMessage };
      }
      const unsent = error instanceof ConnectionFailedError ||
        error instanceof ConnectTimeoutError ||
        ((error instanceof RequestTimeoutError || error instanceof SenderClosedError) &&
          !error.maybeExecuted);
      // initConnection did not go out with it: the next call on this connection carries it.
      if (unsent && wrapped !== body) this.#host.init.forget(sender);
      if (error instanceof ConnectionFailedError || error instanceof ConnectTimeoutError) {
        // Refused, reset, closed during the key exchange, …: the request did not go out; try
        // again after a wait, as after any dropped connection, while the deadline allows.
        const decision = decideReconnect(error, context.connectFailures++, left());
        context.lastConnectFailure = error.message;
        // Not logged: `signin` prints the log, and a failure that heals is not worth a line.
        if (decision.action !== "wait") throw error;
        await this.#host.clock.sleep(decision.ms);
        return await this.run(dc, request, body, decode, attempt, context);
      }
      if (error instanceof SenderClosedError) {
        if (!this.#host.router.replaced(sender)) {
          throw new CallCutOffError(
            "the connection to Telegram was closed before an answer came",
            error.maybeExecuted || attempt > 0,
          );
        }
        if (error.maybeExecuted) {
          throw new CallCutOffError(
            "the server was changed while the call was in flight: it may have run on the " +
              "previous server, whose answer will not come",
            true,
          );
        }
        // It never went out: the new server (or home DC) gets it, as if it had been made now.
        const target = dc === home ? this.#host.router.session.dc : dc;
        return await this.run(target, request, body, decode, attempt, context);
      }
      // A non-home DC that lost our key: the next try creates a new one and imports the
      // authorization again (see DcRouter's #senderLost).
      if (
        error instanceof AuthKeyUnknownError && dc !== this.#host.router.session.dc &&
        attempt < 3 && !context.cdn
      ) {
        await this.#host.router.authorize(dc, this.internalCalls(context));
        return await this.run(dc, request, body, decode, attempt + 1, context);
      }
      throw error;
    }
    const error = this.#rpcError(answer);
    if (!error) {
      if (dc === this.#host.router.session.dc) this.#host.router.noteSignIn(request, answer);
      return decode(answer);
    }
    // Another DC still knows our key but not the account under it (the authorization there was
    // revoked or expired): export it again, once per call, and try again.
    if (
      error.code === 401 && error.errorMessage === "AUTH_KEY_UNREGISTERED" && !context.cdn &&
      dc !== this.#host.router.session.dc && this.#host.router.session.userId !== undefined &&
      !context.reauthorized?.has(dc)
    ) {
      (context.reauthorized ??= new Set()).add(dc);
      this.#host.router.unauthorize(dc);
      await this.#host.router.authorize(dc, this.internalCalls(context));
      return await this.run(dc, request, body, decode, attempt + 1, context);
    }
    const decision = decideRetry(error, attempt, context.behaviour);
    if (decision.action === "wait" && decision.ms < left()) {
      this.#host.log(
        `${decision.reason}: waiting ${decision.ms} ms, then retrying ${request._cons}`,
      );
      await this.#host.clock.sleep(decision.ms);
      return await this.run(dc, request, body, decode, attempt + 1, context);
    }
    if (decision.action === "migrate" && !decision.home) {
      await this.#host.router.authorize(decision.dc, this.internalCalls(context));
      return await this.run(decision.dc, request, body, decode, attempt + 1, context);
    }
    if (decision.action === "migrate") {
      this.#host.log(`${error.errorMessage}: the account's home is DC ${decision.dc}`);
      await this.#host.router.moveHome(decision.dc, this.internalCalls(context));
      return await this.run(decision.dc, request, body, decode, attempt + 1, context);
    }
    return { _cons: "rpc_error", error_code: error.code, error_message: error.errorMessage };
  }

  #rpcError(answer: Uint8Array): RpcError | undefined {
    // rpc_error's constructor id, 0x2144ca19, little-endian: checked without a DataView per call.
    if (
      answer.length < 4 || answer[0] !== 0x19 || answer[1] !== 0xca || answer[2] !== 0x44 ||
      answer[3] !== 0x21
    ) {
      return undefined;
    }
    const value = this.#host.codec.decode(answer);
    return new RpcError(value.error_code as number, value.error_message as string);
  }
}

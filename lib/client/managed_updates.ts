/**
 * Managed updates for one account: the edge around the update state machine
 * (`lib/updates/update_state.ts`). It feeds the machine what the client receives and the results
 * of the account's calls, makes the calls the machine asks for (getState, getDifference,
 * getChannelDifference) through the client, runs its deadline timer, and emits each output as a
 * typed value (an update container with the cursor after it, or an event); the proxy's one
 * writer of update lines (`lib/proxy/update_lines.ts`) turns them into JSON lines.
 *
 * @module
 */

import type { TlObject } from "../tl/codec.ts";
import { type UpdateEvent, type UpdateOutput, UpdateState } from "../updates/update_state.ts";
import { checkCursorAccount } from "../updates/cursor.ts";
import type { Client } from "./client.ts";
import type { Clock } from "../io/clock.ts";
import { type SharedDeadline, SharedTimer } from "./shared_timer.ts";

/** An event of managed updates: the state machine's, or the authorization being gone. */
export type ManagedEvent = UpdateEvent | { type: "session_dead"; reason: string };

/** One output of managed updates, in delivery order. */
export type ManagedOutput =
  | { kind: "updates"; value: TlObject; cursor: string }
  | { kind: "event"; event: ManagedEvent };

/** Drives one account's update state over a client. */
export class ManagedUpdates {
  readonly #client: Client;
  readonly #emit: (output: ManagedOutput) => void;
  readonly #clock: Clock;
  #state?: UpdateState;
  /**
   * The state's next deadline, under its clock's one timer: a timer of its own per account cost
   * ~0.5 KB per idle connection through serve, and a clear and a set at every call's result.
   */
  readonly #timer: SharedTimer;
  readonly #deadline: SharedDeadline = { dueAt: 0, heapIndex: -1, due: () => this.#due() };
  /** Counts starts, so that answers to a stopped run's calls are ignored. */
  #run = 0;
  /** Debug lines (`--verbose`): each call for the state, and how and when it ended. */
  readonly #debug?: (line: string) => void;

  constructor(
    client: Client,
    emit: (output: ManagedOutput) => void,
    clock: Clock = client.clock,
    debug?: (line: string) => void,
  ) {
    this.#client = client;
    this.#emit = emit;
    this.#clock = clock;
    this.#timer = SharedTimer.of(clock);
    this.#debug = debug;
  }

  /** True once started (a session is loaded or an account signed in) and not stopped. */
  get started(): boolean {
    return this.#state !== undefined;
  }

  /** True while catching up (after a start, until `synced`). */
  get syncing(): boolean {
    return this.#state?.syncing ?? false;
  }

  /** The cursor after the last line emitted, once started. */
  cursor(): string | undefined {
    return this.#state?.cursor();
  }

  /**
   * Starts (or restarts) managing the client's account: from `cursor`, everything after it is
   * delivered first; without one, the current state is fetched, which subscribes the session.
   * Throws BadCursorError for a cursor this proxy did not write.
   */
  start(cursor?: string): void {
    this.stop();
    const state = new UpdateState({ clock: () => this.#clock.now() });
    state.selfId = this.#client.session.userId;
    if (cursor !== undefined) checkCursorAccount(cursor, state.selfId);
    state.start(cursor);
    this.#state = state;
    this.#run++;
    this.#pump();
  }

  /** Stops: no more calls or lines (the account logged out, or the connection closed). */
  stop(): void {
    this.#timer.cancel(this.#deadline);
    this.#state = undefined;
    this.#run++;
  }

  /** An update the client received. */
  push(update: TlObject): void {
    if (!this.#state) return;
    this.#out(this.#state.push(update));
    this.#pump();
  }

  /** The result of one of the account's own calls (it may move the state). */
  callResult(call: TlObject, result: unknown): void {
    if (!this.#state || typeof result !== "object" || result === null) return;
    this.#out(this.#state.callResult(call, result as TlObject));
    this.#pump();
  }

  /** Updates may have been missed (a reconnect, a new session): they are fetched. */
  missed(): void {
    if (!this.#state) return;
    this.#state.reset();
    this.#pump();
  }

  #pump(): void {
    const state = this.#state;
    if (!state) return;
    for (const request of state.nextRequests()) this.#ask(state, request);
    // A managed account's deadlines never keep the process alive on their own (nor does the
    // shared timer).
    this.#timer.schedule(this.#deadline, state.nextDeadline());
  }

  /** The state's deadline passed (stopping cancels it, so the state is the one it was for). */
  #due(): void {
    const state = this.#state;
    if (!state) return;
    state.tick();
    this.#pump();
  }

  async #ask(state: UpdateState, request: TlObject): Promise<void> {
    const run = this.#run;
    const asked = this.#clock.now();
    const what = describeRequest(request);
    this.#debug?.(`asks ${what}`);
    let result: TlObject | undefined;
    let thrown: unknown;
    try {
      result = await this.#client.call(request) as TlObject;
    } catch (error) {
      thrown = error;
    }
    this.#debug?.(
      `${what}: ${
        result
          ? result._cons === "rpc_error" ? `error ${result.error_message}` : result._cons
          : thrown
      } after ${Math.round(this.#clock.now() - asked)} ms${
        this.#run !== run || this.#state !== state ? " (for a stopped run: ignored)" : ""
      }`,
    );
    if (this.#run !== run || this.#state !== state) return;
    if (!result || result._cons === "rpc_error" || result._cons === "rpc_timeout") {
      if (result?._cons === "rpc_error" && result.error_code === 401) {
        // The authorization is gone: nothing more will come until a new sign-in.
        this.#emit({
          kind: "event",
          event: { type: "session_dead", reason: String(result.error_message) },
        });
        this.stop();
        return;
      }
      state.failed(request);
    } else {
      this.#out(state.answer(request, result));
    }
    this.#pump();
  }

  #out(outputs: UpdateOutput[]): void {
    for (const output of outputs) this.#emit(output);
  }
}

/** A state call in a few words: its method and where it asks from. */
function describeRequest(request: TlObject): string {
  const channel = (request.channel as TlObject | undefined)?.channel_id;
  return `${request._cons}${channel !== undefined ? ` of channel ${channel}` : ""}${
    typeof request.pts === "number" ? ` from pts ${request.pts}` : ""
  }`;
}

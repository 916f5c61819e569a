/**
 * One attempt at opening a connection to a DC: the socket (TCP unless the options bring their own
 * connect), the client transport over it, and the deadline that covers the connect and the key
 * set-up after it, so that opening never waits for ever and a timeout names the step it was at.
 *
 * @module
 */

import { Mtproto2jsonError } from "../errors.ts";
import { ClientTransport } from "../transport/transport.ts";
import type { ConnectProgress } from "./connect_progress.ts";
import type { KeyPipe } from "./key_setup.ts";
import { ConnectionFailedError, ConnectTimeoutError } from "./sender_errors.ts";
import type { ConnectAttempt, SenderOptions } from "./sender_options.ts";
import { type ByteConnection, connectTcp } from "./tcp_connection.ts";
import type { Clock, TimerId } from "../io/clock.ts";

/** What opening the socket reads from the sender's options. */
export type OpenOptions = Pick<
  SenderOptions,
  "connect" | "host" | "port" | "dcId" | "transport" | "random" | "via"
>;

/**
 * Opens the socket and puts the client transport over it; `progress` then moves on to the key
 * exchange. `opened` hears of the socket as soon as it exists, so that a deadline or a close can
 * close it; a socket error that is not one of ours becomes {@link ConnectionFailedError} naming
 * the address. `attempt` goes to the connect function (see {@link ConnectAttempt}).
 */
export async function openPipe(
  options: OpenOptions,
  progress: ConnectProgress,
  opened: (connection: ByteConnection) => void,
  attempt?: ConnectAttempt,
): Promise<KeyPipe> {
  const connect = options.connect ?? connectTcp;
  let connection: ByteConnection;
  try {
    connection = await connect(options.host, options.port, attempt);
  } catch (error) {
    if (error instanceof Mtproto2jsonError) throw error;
    const via = options.via ? ` via ${options.via}` : "";
    throw new ConnectionFailedError(
      `cannot reach ${options.host}:${options.port} (DC ${options.dcId})${via} at the TCP ` +
        `connect: ${(error as Error).message}`,
    );
  }
  opened(connection);
  progress.step = "key_exchange";
  progress.exchangeMessage = "req_pq_multi";
  return {
    connection,
    transport: new ClientTransport(
      { ...options.transport, dcId: options.dcId },
      options.random,
    ),
    reader: connection.readable[Symbol.asyncIterator](),
  };
}

/**
 * One connect attempt: its deadline (which closes what was opened, with `close`, and aborts the
 * attempt) and the {@link ConnectAttempt} a connect function is handed, whose `waiting` names the
 * step for the deadline's message while the attempt is still `current`.
 */
export function startAttempt(
  clock: Clock,
  timeoutMs: number,
  progress: ConnectProgress,
  close: () => void,
  current: () => boolean,
): { abort: AbortController; deadline: ConnectDeadline; attempt: ConnectAttempt } {
  const abort = new AbortController();
  const deadline = new ConnectDeadline(clock, timeoutMs, progress, () => {
    close();
    abort.abort();
  });
  const attempt = {
    signal: abort.signal,
    waiting: (what: string) => {
      if (current()) progress.connectWaiting = what;
    },
  };
  return { abort, deadline, attempt };
}

/** The deadline of one attempt: `expired` rejects with {@link ConnectTimeoutError} when it passes. */
export class ConnectDeadline {
  /** Rejects when the deadline passes, naming the step that got no answer; never resolves. */
  readonly expired: Promise<never>;
  readonly #clock: Clock;
  #timer: TimerId;
  #passed = false;

  /** Starts the deadline of `deadlineMs`; `onExpired` runs as it passes (to close the socket). */
  constructor(
    clock: Clock,
    deadlineMs: number,
    progress: ConnectProgress,
    onExpired: () => void,
  ) {
    this.#clock = clock;
    this.expired = new Promise<never>((_, reject) => {
      this.#timer = clock.setTimeout(() => {
        this.#passed = true;
        const step = progress.step;
        const waitingFor = progress.waitingFor();
        onExpired();
        reject(
          new ConnectTimeoutError(
            `no connection within ${deadlineMs / 1000} s: ${waitingFor}`,
            step,
          ),
        );
      }, deadlineMs);
    });
  }

  /** True once the deadline has passed. */
  get passed(): boolean {
    return this.#passed;
  }

  /** Stops the deadline (the attempt is over either way). */
  clear(): void {
    this.#clock.clearTimeout(this.#timer);
  }
}

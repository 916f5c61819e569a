/**
 * Error classes shared by every layer. Each has a stable `name` that the JSON proxy reports to
 * clients as the short error name, so renaming one is a breaking change.
 *
 * @module
 */

/** Base class of every error this project throws on purpose. */
export class Mtproto2jsonError extends Error {
  override name = "Mtproto2jsonError";
}

/** A `.tl` schema text that cannot be parsed; names the file and line. */
export class SchemaParseError extends Mtproto2jsonError {
  override name = "SchemaParseError";
  /** Creates the error for `file`:`line`. */
  constructor(readonly file: string, readonly line: number, reason: string) {
    super(`${file}:${line}: ${reason}`);
  }
}

/**
 * A value that cannot be encoded to TL: the `path` locates it, from the outermost constructor
 * through field names and vector indexes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TlEncodeError } from "./errors.ts";
 * const error = new TlEncodeError("WrongType", "expected InputPeer, got inputUser", ["peer"]);
 * error.prependPath("messages.sendMessage");
 * assert.ok(error.message === "messages.sendMessage.peer: expected InputPeer, got inputUser");
 * ```
 */
export class TlEncodeError extends Mtproto2jsonError {
  override name = "TlEncodeError";
  /** Creates the error; `kind` is the short name reported to JSON clients. */
  constructor(
    readonly kind:
      | "UnknownConstructor"
      | "UnknownField"
      | "WrongType"
      | "MissingField"
      | "BadValue",
    readonly reason: string,
    readonly path: string[] = [],
  ) {
    super(reason);
    this.#refresh();
  }

  /** Adds an outer path segment (a constructor, a field name or a `[index]`). */
  prependPath(segment: string): void {
    this.path.unshift(segment);
    this.#refresh();
  }

  #refresh(): void {
    const path = this.path.join(".").replaceAll(".[", "[");
    this.message = path ? `${path}: ${this.reason}` : this.reason;
  }
}

/** TL bytes that cannot be decoded: truncated input, unknown constructor id, absurd length. */
export class TlDecodeError extends Mtproto2jsonError {
  override name = "TlDecodeError";
  /** Creates the error for a problem found at byte `offset`. */
  constructor(reason: string, readonly offset: number) {
    super(`${reason} (at byte offset ${offset})`);
  }
}

/** A JSON text that is not valid JSON, or not a JSON object where one is required. */
export class JsonSyntaxError extends Mtproto2jsonError {
  override name = "JsonSyntaxError";
}

/** A cryptographic value that fails a check of the MTProto security guidelines. */
export class SecurityError extends Mtproto2jsonError {
  override name = "SecurityError";
}

/**
 * A transport-level failure: a negative length word from the server (`code` is then e.g. 404 or
 * 429, sign dropped), a bad frame, or a checksum mismatch.
 */
export class TransportError extends Mtproto2jsonError {
  override name = "TransportError";
  /** Creates the error; `code` is the server's error code when it sent one, else 0. */
  constructor(message: string, readonly code = 0) {
    super(message);
  }
}

/**
 * An RPC error from Telegram (or the emulator), parsed: `FLOOD_WAIT_3` is type `FLOOD_WAIT` with
 * argument 3; `PEER_ID_INVALID` has no argument.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RpcError } from "./errors.ts";
 * const error = new RpcError(420, "FLOOD_WAIT_3");
 * assert.equal(error.type, "FLOOD_WAIT");
 * assert.equal(error.argument, 3);
 * ```
 */
export class RpcError extends Mtproto2jsonError {
  override name = "RpcError";
  /** The error type without its numeric argument. */
  readonly type: string;
  /** The numeric argument (seconds to wait, DC to migrate to), when there is one. */
  readonly argument?: number;

  /** Parses an `rpc_error`'s code and message. */
  constructor(readonly code: number, readonly errorMessage: string) {
    super(`${code} ${errorMessage}`);
    const match = /^(.*?)_(\d+)$/.exec(errorMessage) ?? /^(.*?)_(\d+)_.*$/.exec(errorMessage);
    this.type = match ? match[1] : errorMessage;
    if (match) this.argument = Number(match[2]);
  }
}

/**
 * The per-connection and per-request options of the JSON protocol (`{"options": {...}}`): which
 * exist, their ranges, and how they read and show; and the error a request part the proxy cannot
 * act on gets.
 *
 * @module
 */

import { Mtproto2jsonError } from "../errors.ts";
import type { ClientBehaviour } from "../client/client.ts";
import type { UpdatesMode } from "./connection_account.ts";

/** Each option: the behaviour it sets, and for numbers the accepted range (seconds). */
const OPTIONS: Record<string, { key: keyof ClientBehaviour; min?: number; max?: number }> = {
  longs_as_strings: { key: "longsAsStrings" },
  auto_init: { key: "autoInit" },
  flood_wait_threshold: { key: "floodWaitThreshold", min: 0, max: 86_400 },
  follow_migrations: { key: "followMigrations" },
  timeout: { key: "timeoutSeconds", min: 0.001, max: 86_400 },
  connect_timeout: { key: "connectTimeoutSeconds", min: 0.001, max: 3_600 },
};

/**
 * Reads an `options` object: the behaviour switches it sets, and the updates mode if it names one
 * (the connection's even next to a message: updates are not one call's). Refuses unknown options
 * and out-of-range values with a BadOption error naming what is accepted.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readOptions } from "./request_options.ts";
 * assert.deepEqual(readOptions({ longs_as_strings: true, timeout: 30 }), {
 *   behaviour: { longsAsStrings: true, timeoutSeconds: 30 },
 * });
 * assert.throws(() => readOptions({ timeout: 0 }), { kind: "BadOption" });
 * ```
 */
export function readOptions(
  value: unknown,
): { behaviour: Partial<ClientBehaviour>; updates?: UpdatesMode } {
  const options = objectOf(value, "options");
  const update: Partial<ClientBehaviour> = {};
  let updates: UpdatesMode | undefined;
  for (const [name, setting] of Object.entries(options)) {
    if (name === "updates") {
      if (setting !== "managed" && setting !== "raw") {
        throw new BadRequestError(
          "BadOption",
          `option updates must be "managed" or "raw", got ${JSON.stringify(setting)}`,
        );
      }
      updates = setting;
      continue;
    }
    const option = OPTIONS[name];
    if (!option) {
      throw new BadRequestError(
        "BadOption",
        `unknown option ${JSON.stringify(name)}; known: ${
          [...Object.keys(OPTIONS), "updates"].join(", ")
        }`,
      );
    }
    const { key, min, max } = option;
    if (min === undefined) {
      if (typeof setting !== "boolean") {
        throw new BadRequestError(
          "BadOption",
          `option ${name} must be true or false, got ${JSON.stringify(setting)}`,
        );
      }
    } else if (typeof setting !== "number" || !(setting >= min && setting <= max!)) {
      throw new BadRequestError(
        "BadOption",
        `option ${name} must be a number of seconds from ${min} to ${max}, got ` +
          `${JSON.stringify(setting) ?? String(setting)}`,
      );
    }
    (update as Record<string, unknown>)[key] = setting;
  }
  return { behaviour: update, ...(updates ? { updates } : {}) };
}

/** Every option as it applies, for the `options` answer: `behaviour` and the updates mode. */
export function showOptions(
  behaviour: ClientBehaviour,
  updates: UpdatesMode,
): Record<string, unknown> {
  return {
    ...Object.fromEntries(
      Object.entries(OPTIONS).map(([name, { key }]) => [name, behaviour[key]]),
    ),
    updates,
  };
}

/** A request part the proxy cannot act on, with its short error name. */
export class BadRequestError extends Mtproto2jsonError {
  override name = "BadRequestError";
  /** `kind` is the short name in the error line. */
  constructor(readonly kind: string, message: string) {
    super(message);
  }
}

/** The value as an object, or a WrongType error naming it. */
export function objectOf(value: unknown, name: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new BadRequestError("WrongType", `${name} must be an object`);
  }
  return value as Record<string, unknown>;
}

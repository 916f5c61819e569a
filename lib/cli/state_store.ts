/**
 * Which store `serve` holds accounts in: `--state DIR` (SQLite in DIR), `--state
 * postgres://user@host:port/db` (PostgreSQL, shared by several instances), or `--state-file FILE`
 * holding such a URL with its password (refused when others can read it). `MTPROTO2JSON_STATE`
 * stands for `--state`, as every flag's variable does.
 *
 * @module
 */

import type { AccountStore } from "../store/account_store.ts";
import { UsageError } from "./usage_error.ts";

// The stores load only when one is named: `serve` without --state listens sooner without them.
const postgresModule = () => import("../store/postgres.ts");

/** The store named by `--state` or `--state-file`, if any, and how it is shown in logs. */
export interface StateChoice {
  /** A directory or a URL. */
  target: string;
  /** The target as logs show it (a URL's password hidden). */
  shown: string;
}

/**
 * Reads `--state` / `--state-file`; `readFile` gives a file's text and `mode` its permission bits
 * (null where the system has none).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { chooseState } from "./state_store.ts";
 * const choice = await chooseState({ state: "postgres://app:pw@db/m" }, {
 *   readFile: () => Promise.reject(new Error("unused")),
 *   mode: () => Promise.resolve(0o600),
 * });
 * assert.equal(choice?.shown, "postgres://app:***@db/m");
 * ```
 */
export async function chooseState(
  values: { state?: string; "state-file"?: string },
  files: {
    readFile: (path: string) => Promise<string>;
    mode: (path: string) => Promise<number | null>;
  },
): Promise<StateChoice | undefined> {
  const file = values["state-file"];
  if (file !== undefined && values.state !== undefined) {
    throw new UsageError("--state and --state-file name the store twice: give one");
  }
  if (file === undefined) {
    if (values.state === undefined) return undefined;
    const target = values.state.trim();
    if (!target) throw new UsageError("--state needs a directory or a postgres:// URL");
    const { isPostgresUrl, redactPostgresUrl } = await postgresModule();
    return { target, shown: isPostgresUrl(target) ? redactPostgresUrl(target) : target };
  }
  let mode: number | null;
  let text: string;
  try {
    mode = await files.mode(file);
    text = await files.readFile(file);
  } catch (error) {
    throw new UsageError(`--state-file ${file}: ${(error as Error).message}`);
  }
  if (mode !== null && (mode & 0o077) !== 0) {
    throw new UsageError(
      `--state-file ${file} can be read by others (mode ${(mode & 0o777).toString(8)}): it ` +
        `holds the database password; make it 0600 (chmod 600 ${file})`,
    );
  }
  const target = text.split("\n")[0].trim();
  const { isPostgresUrl, redactPostgresUrl } = await postgresModule();
  if (!isPostgresUrl(target)) {
    throw new UsageError(`--state-file ${file} holds no postgres:// URL on its first line`);
  }
  return { target, shown: redactPostgresUrl(target) };
}

/** Opens the chosen store: PostgreSQL for a URL, else SQLite in the directory. */
export async function openStateStore(
  choice: StateChoice,
  log: (line: string) => void,
): Promise<AccountStore> {
  const { isPostgresUrl, openPostgresStore } = await postgresModule();
  if (isPostgresUrl(choice.target)) return await openPostgresStore(choice.target, { log });
  const { openSqliteStore } = await import("../store/sqlite.ts");
  return await openSqliteStore(choice.target, { log });
}

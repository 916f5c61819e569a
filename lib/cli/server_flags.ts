/**
 * What the flags naming the server, the app and the HTTP address become: the app identity sent
 * in initConnection, the server target with `--pfs` and `--proxy` applied, `--server`'s line,
 * and `--http`'s address. Each bad value is a usage error saying what was expected.
 *
 * @module
 */

import type { AppIdentity } from "../client/init_connection.ts";
import { defaultServer, serverFromJson, type ServerTarget } from "../client/session_json.ts";
import { parseProxyUrl } from "../net/proxy_url.ts";
import { UsageError } from "./usage_error.ts";

/** The app identity sent in initConnection. */
export function appIdentity(
  apiId: string | undefined,
  apiHash: string | undefined,
  version: string,
): AppIdentity {
  const app: AppIdentity = {
    deviceModel: "mtproto2json",
    systemVersion: `${Deno.build.os} ${Deno.build.arch}`,
    appVersion: version,
    langCode: "en",
  };
  if (apiId !== undefined && apiId !== "") {
    const id = Number(apiId);
    if (!Number.isInteger(id) || id <= 0) {
      throw new UsageError(`--api-id needs a positive number, got "${apiId}"`);
    }
    app.apiId = id;
  }
  if (apiHash) app.apiHash = apiHash;
  return app;
}

/** The server with `--pfs` applied (Telegram's DC 2 when no --server was given). */
export function withPfs(server: ServerTarget | undefined, pfs: boolean): ServerTarget | undefined {
  return pfs ? { ...(server ?? defaultServer()), pfs: true } : server;
}

/**
 * The server with `--proxy` applied (Telegram's DC 2 when no --server was given); a bad URL is a
 * usage error that never echoes it (it may hold a password).
 */
export function withProxy(
  server: ServerTarget | undefined,
  url: string | undefined,
): ServerTarget | undefined {
  if (url === undefined || url === "") return server;
  let proxy;
  try {
    proxy = parseProxyUrl(url);
  } catch (error) {
    throw new UsageError(`--proxy: ${(error as Error).message}`);
  }
  return { ...(server ?? defaultServer()), proxy };
}

/** Reads `--server`: a `{"server": {...}}` line or the inner object. */
export function serverFlag(text: string | undefined): ServerTarget | undefined {
  if (text === undefined) return undefined;
  let value: Record<string, unknown>;
  try {
    value = JSON.parse(text);
  } catch {
    throw new UsageError("--server needs JSON such as the emulator's first line");
  }
  const inner = (value.server ?? value) as Record<string, unknown>;
  try {
    return serverFromJson(inner, defaultServer());
  } catch (error) {
    throw new UsageError(`--server: ${(error as Error).message}`);
  }
}

/**
 * Reads `--http [HOST:]PORT` (`8080`, `127.0.0.1:8080`, `[::1]:8080`); the host defaults to
 * `--host`'s.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { httpAddress } from "./server_flags.ts";
 * assert.deepEqual(httpAddress("8080", "127.0.0.1"), { host: "127.0.0.1", port: 8080 });
 * assert.deepEqual(httpAddress("[::1]:0", "127.0.0.1"), { host: "::1", port: 0 });
 * ```
 */
export function httpAddress(text: string, host: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]:|([^:\[\]]+):)?(\d+)$/.exec(text.trim());
  const port = Number(match?.[3]);
  if (!match || !(port >= 0 && port <= 65535)) {
    throw new UsageError(`--http needs [HOST:]PORT such as 127.0.0.1:8080, got "${text}"`);
  }
  return { host: match[1] ?? match[2] ?? host, port };
}

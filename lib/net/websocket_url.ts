/**
 * WebSocket URLs: Telegram's for each DC, and reading one a user gives. Apart from
 * websocket_connection.ts so that checking a server object before `serve` listens loads no
 * socket code.
 *
 * @module
 */

/** Telegram's web endpoint names of DCs 1 to 5. */
const TELEGRAM_NAMES = ["pluto", "venus", "aurora", "vesta", "flora"];

/**
 * Telegram's WebSocket URL for DC `dcId` (1 to 5): `wss://NAME.web.telegram.org/apiws`, NAME by
 * the DC, `apiws_test` for test DCs, NAME-1 for file (media) connections as Telegram's web apps
 * use; undefined for a DC without a web endpoint (a CDN DC).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { telegramWebSocketUrl } from "./websocket_url.ts";
 * assert.equal(telegramWebSocketUrl(2, { test: false }), "wss://venus.web.telegram.org/apiws");
 * assert.equal(telegramWebSocketUrl(1, { test: true }), "wss://pluto.web.telegram.org/apiws_test");
 * ```
 */
export function telegramWebSocketUrl(
  dcId: number,
  options: { test: boolean; media?: boolean },
): string | undefined {
  const name = TELEGRAM_NAMES[dcId - 1];
  if (!name) return undefined;
  return `wss://${name}${options.media ? "-1" : ""}.web.telegram.org/` +
    (options.test ? "apiws_test" : "apiws");
}

/** Reads a `ws://` or `wss://` URL; throws TypeError saying what is wrong with it. */
export function parseWebSocketUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new TypeError(`not a URL: ${JSON.stringify(text.slice(0, 200))}`);
  }
  if (url.protocol !== "ws:" && url.protocol !== "wss:") {
    throw new TypeError(`a WebSocket URL starts with ws:// or wss://, got ${url.protocol}//`);
  }
  if (url.username || url.password || url.hash) {
    throw new TypeError("a WebSocket URL has no user name, password or #fragment");
  }
  return url.href;
}

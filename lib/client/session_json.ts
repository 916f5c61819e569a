/**
 * The client's server and session as JSON, the form they take in request lines, `signin`'s output
 * and the account store: where to connect (`server`) and what to resume (`session`). Reading checks
 * every field and names the bad one; writing gives what reading takes back.
 *
 * @module
 */

// Only the light parsers, not the modules that use what they read: `serve` checks its --server
// line before it listens, and loading ciphers, hashes and sockets there delayed its port.
import { parsePublicKeyPem, publicKeyToPem, type RsaPublicKey } from "../crypto/rsa_key.ts";
import { TELEGRAM_PUBLIC_KEYS } from "../crypto/public_keys.ts";
import {
  parseTransport,
  transportName,
  type TransportOptions,
} from "../transport/transport_names.ts";
import { parseProxyUrl, type ProxySpec, proxyToUrl } from "../net/proxy_url.ts";
import { parseWebSocketUrl, telegramWebSocketUrl } from "../net/websocket_url.ts";

/** Where the client connects: one DC's address, its keys, and whether it is a test DC. */
export interface ServerTarget {
  host: string;
  port: number;
  dc: number;
  publicKeys: RsaPublicKey[];
  test: boolean;
  /** Framing and obfuscation; obfuscated intermediate when not given. */
  transport?: TransportOptions;
  /**
   * Perfect forward secrecy: every connection encrypts under a temporary key bound to the
   * session's permanent key (renewed before it expires); the permanent key never encrypts a
   * message.
   */
  pfs?: boolean;
  /**
   * The proxy every connection goes through (`"proxy": "socks5://…"`). Shown redacted in the
   * server object and never written into a session line: it belongs to the process or the
   * connection that set it, not to the account.
   */
  proxy?: ProxySpec;
  /** MTProto over WebSocket instead of TCP, for some DCs or all (see {@link webSocketUrlOf}). */
  websocket?: WebSocketTarget;
}

/**
 * Which DCs are reached over WebSocket: `urls` by DC id (`"websocket": "ws://…"` for the server's
 * DC, or `{"2": "ws://…", …}`), and with `telegram` (`"transport": "websocket"`) every other DC
 * through Telegram's own URL. The transport over a WebSocket is always obfuscated.
 */
export interface WebSocketTarget {
  telegram?: boolean;
  urls?: Record<number, string>;
}

/**
 * The WebSocket URL DC `dc` is reached at (`media`: for its file connections), or undefined when
 * it is reached over TCP: a URL the server object gives for it, else with `"transport":
 * "websocket"` Telegram's (none for a CDN DC).
 */
export function webSocketUrlOf(
  server: ServerTarget,
  dc: number,
  media = false,
): string | undefined {
  const given = server.websocket?.urls?.[dc];
  if (given !== undefined) return given;
  if (!server.websocket?.telegram) return undefined;
  return telegramWebSocketUrl(dc, { test: server.test, media });
}

/** What the client keeps of a session, enough to resume it. */
export interface SessionState {
  authKey?: Uint8Array;
  sessionId?: bigint;
  salt?: bigint;
  dc: number;
  userId?: number;
  /** The api_id the session was created with, used for initConnection when no other is given. */
  apiId?: number;
  /**
   * Keys made on the account's other DCs (files live there), each with whether the account's
   * authorization was imported under it: kept so that the next download from that DC neither makes
   * a key nor exports the authorization again.
   */
  dcKeys?: Record<number, DcKey>;
}

/** A key on a DC other than the home DC. */
export interface DcKey {
  authKey: Uint8Array;
  /** The account's authorization was imported under this key. */
  authorized: boolean;
}

/** Telegram's production DC 2 with Telegram's published keys: the default target. */
export function defaultServer(): ServerTarget {
  return {
    host: "149.154.167.50",
    port: 443,
    dc: 2,
    publicKeys: TELEGRAM_PUBLIC_KEYS.production.map(parsePublicKeyPem),
    test: false,
  };
}

/**
 * Reads the JSON `server` object: host, port, dc, rsa (PEM), test, transport (a framing, or
 * `websocket`), pfs, proxy (a URL; `null` or `""` for none; the redacted form `{"server": {}}`
 * shows keeps the current proxy), websocket (a URL for the server's DC, or URLs by DC id; `null`
 * or `""` for none).
 */
export function serverFromJson(
  value: Record<string, unknown>,
  current: ServerTarget,
): ServerTarget {
  const server = { ...current };
  if (value.host !== undefined) {
    if (typeof value.host !== "string" || !value.host) {
      throw new TypeError("server.host must be a host name or address");
    }
    server.host = value.host;
  }
  if (value.port !== undefined) {
    if (
      !Number.isInteger(value.port) || (value.port as number) < 1 || (value.port as number) > 65535
    ) {
      throw new TypeError("server.port must be a port number");
    }
    server.port = value.port as number;
  }
  if (value.dc !== undefined) {
    if (!Number.isInteger(value.dc) || (value.dc as number) < 1 || (value.dc as number) > 1000) {
      throw new TypeError(`server.dc must be a DC number (1 or more), got ${value.dc}`);
    }
    server.dc = value.dc as number;
  }
  if (value.test !== undefined) server.test = value.test === true;
  if (value.transport !== undefined) {
    if (typeof value.transport !== "string") throw new TypeError("server.transport must be a name");
    if (value.transport === "websocket") {
      server.websocket = { ...server.websocket, telegram: true };
      delete server.transport;
    } else {
      server.transport = parseTransport(value.transport);
      if (server.websocket) server.websocket = { ...server.websocket, telegram: false };
    }
  }
  if (value.pfs !== undefined) {
    if (typeof value.pfs !== "boolean") throw new TypeError("server.pfs must be true or false");
    server.pfs = value.pfs;
  }
  if (value.proxy !== undefined) {
    if (value.proxy === null || value.proxy === "") delete server.proxy;
    else if (typeof value.proxy !== "string") throw new TypeError("server.proxy must be a URL");
    else if (!current.proxy || value.proxy !== proxyToUrl(current.proxy, { redact: true })) {
      // A message of its own: the URL may hold a password, and is never echoed.
      server.proxy = parseProxyUrl(value.proxy);
    }
  }
  if (value.websocket !== undefined) {
    server.websocket = {
      ...server.websocket,
      urls: webSocketUrlsFromJson(value.websocket, server.dc),
    };
  }
  if (!server.websocket?.telegram && !server.websocket?.urls) delete server.websocket;
  if (server.websocket && server.proxy?.kind === "mtproxy") {
    throw new TypeError(
      "server.websocket: an MTProxy cannot carry a WebSocket (use a SOCKS5 or HTTP proxy)",
    );
  }
  if (value.rsa !== undefined) {
    const pems = Array.isArray(value.rsa) ? value.rsa : [value.rsa];
    server.publicKeys = pems.map((pem) => {
      if (typeof pem !== "string") throw new TypeError("server.rsa must be a PEM public key");
      return parsePublicKeyPem(pem);
    });
  }
  return server;
}

/**
 * Writes the JSON `server` object; its proxy redacted (the password and secret as `***`), or
 * left out with `proxy: "omit"` (session lines, which never carry the proxy).
 */
export function serverToJson(
  server: ServerTarget,
  options: { proxy?: "redacted" | "omit" } = {},
): Record<string, unknown> {
  return {
    host: server.host,
    port: server.port,
    dc: server.dc,
    test: server.test,
    rsa: publicKeyToPem(server.publicKeys[0]),
    ...(server.websocket?.telegram
      ? { transport: "websocket" }
      : server.transport
      ? { transport: transportName(server.transport) }
      : {}),
    ...(server.pfs ? { pfs: true } : {}),
    ...(server.proxy && options.proxy !== "omit"
      ? { proxy: proxyToUrl(server.proxy, { redact: true }) }
      : {}),
    ...(server.websocket?.urls
      ? { websocket: webSocketUrlsToJson(server.websocket.urls, server.dc) }
      : {}),
  };
}

/** Reads `websocket`: a URL for DC `dc`, or `{"2": "ws://…", …}`; undefined for `null` or `""`. */
function webSocketUrlsFromJson(value: unknown, dc: number): Record<number, string> | undefined {
  if (value === null || value === "") return undefined;
  const url = (text: unknown, name: string) => {
    if (typeof text !== "string") throw new TypeError(`${name} must be a ws:// or wss:// URL`);
    try {
      return parseWebSocketUrl(text);
    } catch (error) {
      throw new TypeError(`${name}: ${(error as Error).message}`);
    }
  };
  if (typeof value === "string") return { [dc]: url(value, "server.websocket") };
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new TypeError('server.websocket must be a URL or {"DC": URL, ...}');
  }
  const urls: Record<number, string> = {};
  for (const [key, text] of Object.entries(value)) {
    const id = Number(key);
    if (!Number.isInteger(id) || id < 1 || id > 1000) {
      throw new TypeError(`server.websocket: "${key.slice(0, 20)}" is not a DC id`);
    }
    urls[id] = url(text, `server.websocket.${id}`);
  }
  return Object.keys(urls).length ? urls : undefined;
}

/** Writes `websocket` as read: one URL for the server's DC alone, else URLs by DC id. */
function webSocketUrlsToJson(urls: Record<number, string>, dc: number): unknown {
  const entries = Object.entries(urls);
  return entries.length === 1 && Number(entries[0][0]) === dc ? entries[0][1] : { ...urls };
}

/** Reads the JSON `session` object; the original `{"auth_key", "session_id"}` form included. */
export function sessionFromJson(value: Record<string, unknown>, currentDc: number): SessionState {
  const session: SessionState = { dc: currentDc };
  if (value.auth_key !== undefined) {
    if (typeof value.auth_key !== "string") throw new TypeError("session.auth_key must be base64");
    const key = Uint8Array.fromBase64(value.auth_key);
    if (key.length !== 256) {
      throw new TypeError(`session.auth_key must be 256 bytes, got ${key.length}`);
    }
    session.authKey = key;
  }
  // Older sessions wrote ids as unsigned or even wider numbers; keep their low 64 bits.
  const long = (name: string, value: unknown) => {
    if (value === undefined) return undefined;
    // What sessionToJson wrote, not yet through JSON text: a bigint or JSON.rawJSON digits.
    const text = typeof value === "bigint"
      ? value.toString()
      : typeof value === "object" && value !== null && "rawJSON" in value
      ? String((value as { rawJSON: unknown }).rawJSON)
      : value;
    if (typeof text === "number" && Number.isInteger(text)) return BigInt.asIntN(64, BigInt(text));
    if (typeof text === "string" && /^-?\d+$/.test(text)) return BigInt.asIntN(64, BigInt(text));
    throw new TypeError(`session.${name} must be an integer`);
  };
  const sessionId = long("session_id", value.session_id);
  if (sessionId !== undefined) session.sessionId = sessionId;
  const salt = long("salt", value.salt);
  if (salt !== undefined) session.salt = salt;
  if (value.dc !== undefined) {
    if (!Number.isInteger(value.dc) || (value.dc as number) < 1 || (value.dc as number) > 1000) {
      throw new TypeError(`session.dc must be a DC number (1 or more), got ${value.dc}`);
    }
    session.dc = value.dc as number;
  }
  if (value.user_id !== undefined) {
    if (!Number.isSafeInteger(Number(value.user_id))) {
      throw new TypeError("session.user_id must be a user id");
    }
    session.userId = Number(value.user_id);
  }
  if (value.api_id !== undefined) {
    if (!Number.isInteger(value.api_id)) throw new TypeError("session.api_id must be a number");
    session.apiId = value.api_id as number;
  }
  if (value.dc_keys !== undefined) session.dcKeys = dcKeysFromJson(value.dc_keys);
  return session;
}

/** Reads `dc_keys`: `{"4": {"auth_key": base64, "authorized": true}, ...}`. */
function dcKeysFromJson(value: unknown): Record<number, DcKey> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new TypeError("session.dc_keys must be an object of DC ids");
  }
  const keys: Record<number, DcKey> = {};
  for (const [dc, entry] of Object.entries(value)) {
    const id = Number(dc);
    const fields = entry as Record<string, unknown> | null;
    if (!Number.isInteger(id) || id <= 0 || typeof fields?.auth_key !== "string") {
      throw new TypeError(`session.dc_keys.${dc} must be {"auth_key": base64, "authorized": bool}`);
    }
    const authKey = Uint8Array.fromBase64(fields.auth_key);
    if (authKey.length !== 256) {
      throw new TypeError(
        `session.dc_keys.${dc}.auth_key must be 256 bytes, got ${authKey.length}`,
      );
    }
    keys[id] = { authKey, authorized: fields.authorized === true };
  }
  return keys;
}

/**
 * Writes the JSON `session` object, with the server it belongs to; `sessionFromJson` reads it back.
 *
 * @example
 * ```ts
 * import { defaultServer, sessionFromJson, sessionToJson } from "./session_json.ts";
 *
 * const line = JSON.stringify(sessionToJson({ dc: 2, userId: 42, salt: -5n }, defaultServer()));
 * const session = sessionFromJson(JSON.parse(line), 2);
 * console.assert(session.userId === 42 && session.salt === -5n);
 * ```
 */
export function sessionToJson(
  session: SessionState,
  server: ServerTarget,
): Record<string, unknown> {
  return {
    ...(session.authKey ? { auth_key: session.authKey.toBase64() } : {}),
    ...(session.sessionId !== undefined ? { session_id: rawLong(session.sessionId) } : {}),
    ...(session.salt !== undefined ? { salt: rawLong(session.salt) } : {}),
    dc: session.dc,
    ...(session.userId !== undefined ? { user_id: session.userId } : {}),
    ...(session.apiId !== undefined ? { api_id: session.apiId } : {}),
    ...(session.dcKeys && Object.keys(session.dcKeys).length > 0
      ? { dc_keys: dcKeysToJson(session.dcKeys) }
      : {}),
    // Without the proxy: a session line is pasted and stored, a proxy's password is not.
    server: serverToJson(server, { proxy: "omit" }),
  };
}

function dcKeysToJson(keys: Record<number, DcKey>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(keys).map((
      [dc, key],
    ) => [dc, { auth_key: key.authKey.toBase64(), authorized: key.authorized }]),
  );
}

/** A long as exact JSON digits: a JSON number would lose the low bits of most 64-bit ids. */
function rawLong(value: bigint): unknown {
  return (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON(value.toString());
}

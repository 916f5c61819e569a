/**
 * Proxy URLs as users write and copy them, read into one {@link ProxySpec}: SOCKS5
 * (`socks5://[user:pass@]host:port`, also `socks5h://` and Telegram's `tg://socks?...` links),
 * HTTP CONNECT (`http://[user:pass@]host:port`), and MTProxy (`tg://proxy?server=H&port=P&secret=S`,
 * `https://t.me/proxy?...` with or without the scheme, `mtproxy://H:P?secret=S`). Written back by
 * {@link proxyToUrl}, with the password and the secret hidden for anything that is shown.
 *
 * @module
 */

import { Mtproto2jsonError } from "../errors.ts";

/** A proxy to reach Telegram through. For MTProxy, `secret` is always the 16-byte key. */
export type ProxySpec =
  | { kind: "socks5"; host: string; port: number; username?: string; password?: string }
  | { kind: "http"; host: string; port: number; username?: string; password?: string }
  | {
    kind: "mtproxy";
    host: string;
    port: number;
    secret: Uint8Array;
    mode: "plain" | "dd" | "ee";
    domain?: string;
  };

/** A proxy URL that cannot be read; the message says what is wrong and what would be read. */
export class ProxyUrlError extends Mtproto2jsonError {
  override name = "ProxyUrlError";
}

/** What stands for a password or a secret in a redacted URL. */
const HIDDEN = "***";

/** Hosts of Telegram's share links for proxies. */
const TELEGRAM_LINK_HOSTS = new Set(["t.me", "www.t.me", "telegram.me", "www.telegram.me"]);

/**
 * Reads a proxy URL; throws {@link ProxyUrlError} naming what is wrong (never echoing a password
 * or secret).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseProxyUrl } from "./proxy_url.ts";
 * assert.deepEqual(parseProxyUrl("socks5://bob:pw@127.0.0.1:1080"), {
 *   kind: "socks5", host: "127.0.0.1", port: 1080, username: "bob", password: "pw",
 * });
 * const link = parseProxyUrl("tg://proxy?server=proxy.example&port=443&secret=dd" + "ab".repeat(16));
 * assert.equal(link.kind === "mtproxy" && link.mode, "dd");
 * ```
 */
export function parseProxyUrl(text: string): ProxySpec {
  const trimmed = text.trim();
  if (!trimmed) throw new ProxyUrlError("a proxy URL is empty");
  // Share links are copied without their scheme too: "t.me/proxy?server=...".
  const withScheme = /^[a-z][a-z0-9+.-]*:/i.test(trimmed) ? trimmed : `https://${trimmed}`;
  const scheme = withScheme.slice(0, withScheme.indexOf(":")).toLowerCase();
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new ProxyUrlError(`not a URL: ${describe(trimmed)}; ${EXPECTED}`);
  }
  switch (scheme) {
    case "socks5":
    case "socks5h":
      return withCredentials("socks5", url, 1080);
    case "http":
      if (isTelegramLink(url)) return telegramLink(url);
      return withCredentials("http", url, 80);
    case "https":
      if (isTelegramLink(url)) return telegramLink(url);
      throw new ProxyUrlError(
        `an https:// proxy (TLS to the proxy) is not supported: use http://host:port for an ` +
          `HTTP CONNECT proxy, or a t.me/proxy link for MTProxy`,
      );
    case "tg":
      return telegramLink(url);
    case "mtproxy":
      return mtproxy(hostOf(url), portOf(url, undefined), url.searchParams);
    case "socks4":
    case "socks4a":
      throw new ProxyUrlError(`${scheme}:// is not supported: use a socks5:// proxy`);
    default:
      throw new ProxyUrlError(`unknown proxy scheme "${scheme}:"; ${EXPECTED}`);
  }
}

const EXPECTED = "expected socks5://[user:pass@]host:port, http://[user:pass@]host:port, " +
  "tg://proxy?server=H&port=P&secret=S, https://t.me/proxy?... or mtproxy://H:P?secret=S";

/** A URL for error messages: credentials and query (where secrets live) left out. */
function describe(text: string): string {
  return JSON.stringify(text.replace(/\/\/[^@/?#]*@/, "//…@").replace(/\?.*$/, "?…"));
}

function isTelegramLink(url: URL): boolean {
  return TELEGRAM_LINK_HOSTS.has(url.hostname.toLowerCase());
}

/** `tg://proxy?...`, `tg://socks?...` and their t.me forms. */
function telegramLink(url: URL): ProxySpec {
  // tg://proxy?... has "proxy" as its host; https://t.me/proxy?... has it as its path.
  const what = (url.protocol === "tg:" ? url.hostname || url.pathname : url.pathname)
    .replace(/^\/+/, "").replace(/\/+$/, "").toLowerCase();
  if (what !== "proxy" && what !== "socks") {
    throw new ProxyUrlError(
      `a Telegram link for a proxy is tg://proxy?... or tg://socks?... (or t.me/proxy?...), got ` +
        `"${what}"`,
    );
  }
  const query = url.searchParams;
  const server = query.get("server");
  if (!server) throw new ProxyUrlError(`the ${what} link has no server=`);
  const host = server.replace(/^\[(.*)\]$/, "$1");
  const port = portNumber(query.get("port"), undefined);
  if (what === "proxy") return mtproxy(host, port, query);
  const user = query.get("user") ?? undefined;
  const pass = query.get("pass") ?? undefined;
  return credentials({ kind: "socks5", host, port }, user, pass);
}

/** An MTProxy at `host:port` with the `secret=` of `query`. */
function mtproxy(host: string, port: number, query: URLSearchParams): ProxySpec {
  const text = query.get("secret");
  if (!text) throw new ProxyUrlError("an MTProxy link needs secret=");
  if (text === HIDDEN) throw redactedUrl("secret");
  const secret = decodeSecret(text);
  return { kind: "mtproxy", host, port, ...secret };
}

/**
 * An MTProxy secret in hex, base64url or base64: 16 bytes (plain), `dd` and 16 bytes, or `ee`,
 * 16 bytes and the domain fake-TLS shows.
 */
function decodeSecret(
  text: string,
): { secret: Uint8Array; mode: "plain" | "dd" | "ee"; domain?: string } {
  // A query string turns "+" into a space; base64 has no spaces.
  const cleaned = text.trim().replaceAll(" ", "+");
  let bytes: Uint8Array;
  if (/^(?:[0-9a-f]{2})+$/i.test(cleaned)) {
    bytes = Uint8Array.fromHex(cleaned);
  } else if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(cleaned)) {
    const base64 = cleaned.replaceAll("-", "+").replaceAll("_", "/").replace(/=+$/, "");
    try {
      bytes = Uint8Array.fromBase64(base64 + "=".repeat((4 - base64.length % 4) % 4));
    } catch {
      throw new ProxyUrlError("the MTProxy secret is neither hex nor base64");
    }
  } else {
    throw new ProxyUrlError("the MTProxy secret is neither hex nor base64");
  }
  if (bytes.length === 16) return { secret: bytes, mode: "plain" };
  if (bytes.length === 17 && bytes[0] === 0xdd) return { secret: bytes.slice(1), mode: "dd" };
  if (bytes.length > 17 && bytes[0] === 0xee) {
    const domain = new TextDecoder().decode(bytes.subarray(17));
    if (!/^[A-Za-z0-9.-]{1,253}$/.test(domain)) {
      throw new ProxyUrlError("the fake-TLS (ee) MTProxy secret's domain is not a host name");
    }
    return { secret: bytes.slice(1, 17), mode: "ee", domain };
  }
  if (bytes.length === 17 && bytes[0] === 0xee) {
    throw new ProxyUrlError("the fake-TLS (ee) MTProxy secret has no domain after its 16 bytes");
  }
  throw new ProxyUrlError(
    `an MTProxy secret is 16 bytes, dd and 16 bytes, or ee, 16 bytes and a domain; this one ` +
      `is ${bytes.length} bytes${bytes.length > 16 ? ` starting 0x${hex2(bytes[0])}` : ""}`,
  );
}

function hex2(byte: number): string {
  return byte.toString(16).padStart(2, "0");
}

/** A SOCKS5 or HTTP proxy with the URL's user and password. */
function withCredentials(kind: "socks5" | "http", url: URL, defaultPort: number): ProxySpec {
  if ((url.pathname && url.pathname !== "/") || url.search || url.hash) {
    throw new ProxyUrlError(
      `a ${kind}:// proxy URL is ${kind}://[user:pass@]host:port, with nothing after the port`,
    );
  }
  const spec = { kind, host: hostOf(url), port: portOf(url, defaultPort) };
  const decode = (part: string, what: string) => {
    try {
      return decodeURIComponent(part);
    } catch {
      throw new ProxyUrlError(`the proxy URL's ${what} has a bad %-escape`);
    }
  };
  return credentials(
    spec,
    url.username ? decode(url.username, "user name") : undefined,
    url.password ? decode(url.password, "password") : undefined,
  );
}

/** A URL as {@link proxyToUrl} redacts it, given back where the real one is needed. */
function redactedUrl(what: string): ProxyUrlError {
  return new ProxyUrlError(
    `this proxy URL is a redacted one (${HIDDEN} in place of the ${what}): give the real ${what}`,
  );
}

function credentials<T extends { kind: "socks5" | "http"; host: string; port: number }>(
  spec: T,
  username: string | undefined,
  password: string | undefined,
): T & { username?: string; password?: string } {
  if (password === HIDDEN) throw redactedUrl("password");
  if (password !== undefined && username === undefined) {
    throw new ProxyUrlError("the proxy URL has a password but no user name");
  }
  if (spec.kind === "socks5") {
    // RFC 1929 gives each a length byte.
    const bytes = (value?: string) => new TextEncoder().encode(value ?? "").length;
    if (bytes(username) > 255 || bytes(password) > 255) {
      throw new ProxyUrlError("a SOCKS5 user name and password are at most 255 bytes each");
    }
  }
  return {
    ...spec,
    ...(username !== undefined ? { username } : {}),
    ...(username !== undefined ? { password: password ?? "" } : {}),
  };
}

function hostOf(url: URL): string {
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  if (!host) throw new ProxyUrlError("the proxy URL has no host");
  return host;
}

function portOf(url: URL, defaultPort: number | undefined): number {
  return portNumber(url.port || null, defaultPort);
}

function portNumber(text: string | null, defaultPort: number | undefined): number {
  if (text === null || text === "") {
    if (defaultPort === undefined) throw new ProxyUrlError("the proxy URL has no port");
    return defaultPort;
  }
  const port = Number(text);
  if (!/^\d+$/.test(text) || port < 1 || port > 65535) {
    throw new ProxyUrlError(`the proxy's port must be 1 to 65535, got "${text}"`);
  }
  return port;
}

/** `host:port`, with an IPv6 address in brackets. */
export function hostPort(host: string, port: number): string {
  return `${host.includes(":") ? `[${host}]` : host}:${port}`;
}

/**
 * Writes a spec back as a URL that {@link parseProxyUrl} reads; with `redact`, the password and
 * the secret are `***` (for `{"server": {}}`, logs and error messages).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseProxyUrl, proxyToUrl } from "./proxy_url.ts";
 * const spec = parseProxyUrl("socks5://bob:pw@127.0.0.1:1080");
 * assert.equal(proxyToUrl(spec, { redact: true }), "socks5://bob:***@127.0.0.1:1080");
 * ```
 */
export function proxyToUrl(spec: ProxySpec, options: { redact?: boolean } = {}): string {
  if (spec.kind === "mtproxy") {
    const server = spec.host.includes(":") ? `[${spec.host}]` : spec.host;
    const secret = options.redact ? HIDDEN : secretHex(spec);
    return `tg://proxy?server=${encodeURIComponent(server)}&port=${spec.port}&secret=${secret}`;
  }
  let userInfo = "";
  if (spec.username !== undefined) {
    const password = options.redact
      ? HIDDEN
      : spec.password
      ? encodeURIComponent(spec.password)
      : "";
    userInfo = `${encodeURIComponent(spec.username)}${password ? `:${password}` : ""}@`;
  }
  return `${spec.kind}://${userInfo}${hostPort(spec.host, spec.port)}`;
}

/** The secret as users give it: the mode's prefix, the key, and for `ee` the domain, in hex. */
function secretHex(spec: Extract<ProxySpec, { kind: "mtproxy" }>): string {
  const key = spec.secret.toHex();
  if (spec.mode === "dd") return `dd${key}`;
  if (spec.mode === "ee") return `ee${key}${new TextEncoder().encode(spec.domain ?? "").toHex()}`;
  return key;
}

/** What a proxy is called in messages: its kind and its redacted URL. */
export function proxyLabel(spec: ProxySpec): string {
  const kind = spec.kind === "socks5" ? "SOCKS5" : spec.kind === "http" ? "HTTP" : "MTProxy";
  return `${kind} proxy ${proxyToUrl(spec, { redact: true })}`;
}

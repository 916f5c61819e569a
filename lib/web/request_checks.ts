/**
 * What every request to the web front passes before any route sees it. A loopback HTTP port is
 * reachable from every page the user's browser opens, so:
 *
 * - DNS rebinding: a page on `evil.example` whose name is made to resolve to 127.0.0.1 reaches
 *   the port with `Host: evil.example`. Only IP literals (a page cannot rebind those), `localhost`
 *   on a loopback bind, the bound name and the names given with `--http-host` are served.
 * - Cross-site requests: a browser names the page's origin in `Origin` (on WebSocket upgrades and
 *   on every POST); one that is neither this server's own nor listed with `--cors` is refused
 *   before the request does anything, and allowed ones get their own origin back, never `*`.
 *
 * @module
 */

import { isLoopback } from "../proxy/serve.ts";
import { HttpError } from "./http_answers.ts";

/** Which hosts and origins a web front serves. */
export interface RequestPolicy {
  /** Host names served besides IP literals (lower case). */
  hostNames: Set<string>;
  /** Origins other than the server's own that browsers may call from (`https://app.example`). */
  cors: Set<string>;
}

/**
 * The policy for a front bound to `host` with `--http-host` names and `--cors` origins; origins
 * are checked for their form (a scheme, a host, no path) since a typo would refuse everything.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkHost, requestPolicy } from "./request_checks.ts";
 * const policy = requestPolicy("127.0.0.1", [], ["https://app.example"]);
 * checkHost("127.0.0.1:8080", policy);
 * checkHost("localhost:8080", policy);
 * assert.throws(() => checkHost("evil.example:8080", policy), /not served here/);
 * ```
 */
export function requestPolicy(host: string, names: string[], cors: string[]): RequestPolicy {
  const hostNames = new Set(names.map((name) => name.trim().toLowerCase()).filter(Boolean));
  if (isLoopback(host)) hostNames.add("localhost");
  if (!isIpLiteral(host) && host !== "" && host !== "0.0.0.0" && host !== "::") {
    hostNames.add(host.toLowerCase());
  }
  const origins = new Set<string>();
  for (const origin of cors.map((item) => item.trim()).filter(Boolean)) {
    if (origin === "*") {
      throw new Error(
        "--cors: * would let every page act as the account (requests carry credentials); list origins",
      );
    }
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      throw new Error(`--cors: ${origin} is not an origin such as https://app.example`);
    }
    if (url.origin !== origin.replace(/\/$/, "")) {
      throw new Error(`--cors: ${origin} is not an origin (scheme://host[:port], no path)`);
    }
    origins.add(url.origin);
  }
  return { hostNames, cors: origins };
}

/** The host part of a `Host` header value (`[::1]:80` → `::1`, `a.example:8080` → `a.example`). */
function hostPart(value: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(value);
  if (bracketed) return bracketed[1];
  const colon = value.lastIndexOf(":");
  return (colon >= 0 && value.indexOf(":") === colon ? value.slice(0, colon) : value)
    .toLowerCase();
}

function isIpLiteral(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, "$1");
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(bare) ||
    (bare.includes(":") && /^[0-9a-f:.]+$/i.test(bare));
}

/** Refuses a `Host` that could be a rebound name (421, ForeignHost). */
export function checkHost(value: string | null, policy: RequestPolicy): void {
  const host = hostPart(value ?? "");
  if (isIpLiteral(host) || policy.hostNames.has(host)) return;
  throw new HttpError(
    421,
    "ForeignHost",
    `host ${JSON.stringify(value ?? "")} is not served here (DNS rebinding guard); ` +
      `serve --http-host NAME adds a name`,
  );
}

/**
 * The request's `Origin` when it is a cross-origin one that `--cors` allows (its answer gets CORS
 * headers), undefined when there is none or it is the server's own; refuses any other (403,
 * ForeignOrigin).
 */
export function checkOrigin(
  origin: string | null,
  host: string | null,
  policy: RequestPolicy,
): string | undefined {
  if (origin === null) return undefined;
  if (policy.cors.has(origin)) return origin;
  try {
    const url = new URL(origin);
    if ((url.protocol === "http:" || url.protocol === "https:") && url.host === host) {
      return undefined;
    }
  } catch {
    // "null" (a sandboxed frame, a file) and anything else that is no URL: refused below
  }
  throw new HttpError(
    403,
    "ForeignOrigin",
    `origin ${JSON.stringify(origin)} may not call this server; serve --cors ORIGIN allows one`,
  );
}

/** The headers that let an allowed origin read an answer (credentials included, so never `*`). */
export function corsHeaders(origin: string): Record<string, string> {
  return {
    "access-control-allow-origin": origin,
    "access-control-allow-credentials": "true",
    "access-control-expose-headers": "retry-after",
    vary: "Origin",
  };
}

/** The answer to a preflight (`OPTIONS`) from an allowed origin. */
export function preflight(origin: string): Response {
  return new Response(null, {
    status: 204,
    headers: {
      ...corsHeaders(origin),
      "access-control-allow-methods": "GET, POST, DELETE",
      "access-control-allow-headers": "authorization, content-type, last-event-id",
      "access-control-max-age": "600",
    },
  });
}

/**
 * Counts what each client address has open, so that one address cannot hold them all. A place
 * is taken by {@link take} and given back by {@link release}, once (the caller keeps track: a
 * closure per request to do it cost more than the count).
 */
export class StreamLimit {
  readonly #open = new Map<string, number>();
  constructor(readonly limit: number) {}

  /** Takes a place for `address` (429, TooManyStreams, when it has them all). */
  take(address: string): void {
    const open = this.#open.get(address) ?? 0;
    if (open >= this.limit) {
      throw new HttpError(
        429,
        "TooManyStreams",
        `this address has ${open} requests and streams open, the most one address may`,
        { "retry-after": "1" },
      );
    }
    this.#open.set(address, open + 1);
  }

  /** Gives back one place of `address` taken by {@link take}. */
  release(address: string): void {
    const now = (this.#open.get(address) ?? 1) - 1;
    if (now === 0) this.#open.delete(address);
    else this.#open.set(address, now);
  }
}

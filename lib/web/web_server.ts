/**
 * `serve --http [HOST:]PORT`: the web front beside serve's TCP port, with Deno's own HTTP server.
 * Every request passes the host and origin checks (request_checks.ts) and the per-address limit,
 * then the route table: the WebSocket (ws_route.ts), the one-shot calls (call_routes.ts), the
 * probes and metrics (ops_routes.ts), and whatever routes the caller adds in front of those.
 *
 * @module
 */

import { systemClock } from "../io/clock.ts";
import type { ProxyDefaults } from "../proxy/proxy_connection.ts";
import { isLoopback } from "../proxy/serve.ts";
import type { TokenGuard } from "../proxy/token_guard.ts";
import { AccountHandles } from "./account_handles.ts";
import { CALL_ROUTES } from "./call_routes.ts";
import { errorResponse, HttpError, TextResponse } from "./http_answers.ts";
import { OPS_ROUTES } from "./ops_routes.ts";
import {
  checkHost,
  checkOrigin,
  corsHeaders,
  preflight,
  requestPolicy,
  StreamLimit,
} from "./request_checks.ts";
import { BodyReader } from "./request_body.ts";
import { HANDLE_COOKIE, type WebFront, type WebRoute } from "./routes.ts";
import { RequestContext } from "./request_context.ts";
import { WS_ROUTE } from "./ws_route.ts";
import { UPDATES_ROUTE } from "./updates_stream.ts";
import { FILE_ROUTES } from "./file_routes.ts";

export type { RouteContext, WebFront, WebRoute } from "./routes.ts";

/** Where and how the web front listens. */
export interface WebOptions {
  host: string;
  port: number;
  /** The longest body (and WebSocket frame) accepted: serve's --max-line. */
  maxLine: number;
  /** serve's token: `Authorization: Bearer` on /v1/sessions, /v1/ws and /metrics. */
  token?: string;
  /** serve's token guard, so that guesses over HTTP and TCP are counted together. */
  guard?: TokenGuard;
  /** `--http-host`: names served besides IP literals (DNS rebinding guard). */
  hostNames?: string[];
  /** `--cors`: origins whose pages may call (never `*`). */
  cors?: string[];
  /** `--http-idle`: a handle's session is parked after this many seconds unused (default 300). */
  idleSeconds?: number;
  /** Requests and streams open at once per client address (default 64). */
  maxStreamsPerAddress?: number;
  /** How long a request body may take to arrive (default 30 s). */
  bodyDeadlineMs?: number;
  /** WebSocket pings after this many idle seconds (default 30). */
  pingSeconds?: number;
  /** serve's health object; a minimal one without. */
  health?: () => Record<string, unknown>;
  /** Prometheus metrics for `/metrics` (default: the defaults' `metrics`, when serve keeps them). */
  metrics?: { render(): string };
  /** Routes tried before the built-in ones (updates, files, the OpenAPI document). */
  routes?: WebRoute[];
}

/** A running web front. */
export interface WebServer {
  port: number;
  /** The handles of one-shot calls. */
  handles: AccountHandles;
  close(): Promise<void>;
}

/** A route whose path matched a request's, with the path pattern's groups. */
interface RouteMatch {
  route: WebRoute;
  params: readonly string[];
}

/** The built-in routes, the catch-all `/v1/{method}` last. */
export const BUILT_IN_ROUTES: WebRoute[] = [
  WS_ROUTE,
  UPDATES_ROUTE,
  ...FILE_ROUTES,
  ...OPS_ROUTES,
  ...CALL_ROUTES,
];

function timingSafeEqual(a: string, b: string): boolean {
  let difference = a.length ^ b.length;
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    difference |= (a.charCodeAt(i) | 0) ^ (b.charCodeAt(i) | 0);
  }
  return difference === 0;
}

/** A path of plain segments (no dot segment, no escapes): URL parsing would not change it. */
const PLAIN_PATH = /^(?:\/[A-Za-z0-9_-][A-Za-z0-9_.-]*)+$/;

/**
 * The path of a request's URL, as `new URL(href).pathname` gives it: taken from the text when it
 * is plain (every one-shot call's is), parsed otherwise (dot segments, escapes).
 */
function pathOf(href: string): string {
  const start = href.indexOf("/", href.indexOf("//") + 2);
  const query = href.indexOf("?", start);
  const path = start < 0 ? "/" : href.slice(start, query < 0 ? undefined : query);
  return PLAIN_PATH.test(path) ? path : new URL(href).pathname;
}

/** A credential as clients send it: `Bearer `, then no space (read without a RegExp match). */
const PLAIN_BEARER = /^Bearer [^\s]+$/;

/** The Bearer credential of a request, if it has one. */
function bearer(request: Request): string | undefined {
  const value = request.headers.get("authorization");
  if (value === null) return undefined;
  if (PLAIN_BEARER.test(value)) return value.slice(7);
  return /^Bearer\s+(\S+)\s*$/i.exec(value)?.[1];
}

/** The account handle a request presents: its Bearer credential, else the handle cookie. */
function presentedHandle(request: Request): string | undefined {
  const header = bearer(request);
  if (header) return header;
  for (const part of (request.headers.get("cookie") ?? "").split(";")) {
    const [name, ...value] = part.trim().split("=");
    if (name === HANDLE_COOKIE && value.join("=") !== "") return value.join("=");
  }
  return undefined;
}

/**
 * Listens; refuses a non-loopback address without a token, as serve's TCP port does (a
 * client of either acts as the accounts it names).
 */
export function serveHttp(defaults: ProxyDefaults, options: WebOptions): WebServer {
  if (!isLoopback(options.host) && !options.token) {
    throw new Error(
      `refusing to listen for HTTP on ${options.host} without --token: anyone who can connect ` +
        `could act as the account. Use 127.0.0.1, or give --token SECRET.`,
    );
  }
  const clock = defaults.clock ?? systemClock;
  // Read structurally: the metrics module is another front's, and may not be loaded at all.
  const metrics = options.metrics ??
    (defaults as { metrics?: { render(): string } }).metrics;
  const policy = requestPolicy(options.host, options.hostNames ?? [], options.cors ?? []);
  const limit = new StreamLimit(options.maxStreamsPerAddress ?? 64);
  const bodies = new BodyReader(options.maxLine, options.bodyDeadlineMs ?? 30_000, clock);
  const routes = [...(options.routes ?? []), ...BUILT_IN_ROUTES];
  const log = defaults.log ?? ((line: string) => console.error(`mtproto2json serve: ${line}`));
  const handles = new AccountHandles(defaults, {
    idleMs: (options.idleSeconds ?? 300) * 1000,
    maxLine: options.maxLine,
    clock,
  });
  const front: WebFront = {
    defaults,
    handles,
    clock,
    maxLine: options.maxLine,
    ...(options.token ? { token: options.token } : {}),
    ...(options.guard ? { guard: options.guard } : {}),
    health: options.health ?? (() => ({ status: "ok", held_accounts: defaults.held?.size ?? 0 })),
    ...(metrics ? { metrics } : {}),
    pingSeconds: options.pingSeconds ?? 30,
    sockets: new Set(),
    streams: new Set(),
    log,
    async checkToken(request, address) {
      const token = options.token;
      if (token === undefined) return;
      const presented = bearer(request);
      const guard = options.guard;
      const admission = guard?.admit(address);
      if (admission?.kind === "turned_away") {
        throw new HttpError(429, "Unauthorized", "too many wrong tokens from this address", {
          "retry-after": String(Math.ceil(admission.retryInMs / 1000)),
        });
      }
      if (presented !== undefined && timingSafeEqual(presented, token)) return;
      // Nothing presented is no guess: only a wrong token is counted and slowed.
      if (presented !== undefined && guard) {
        if (admission) await guard.sleep(admission.waitMs);
        await guard.sleep(guard.failed(address));
      }
      throw new HttpError(401, "Unauthorized", "this needs Authorization: Bearer <serve's token>", {
        "www-authenticate": "Bearer",
      });
    },
  };

  /** Host header values that passed the check (the policy does not change): not checked again. */
  const hostsServed = new Set<string>();

  /**
   * The routes whose path matches each path asked for, in the table's order, with their params:
   * the table is walked (and its patterns run) once per path, not once per request. Bounded,
   * since paths are the clients' to choose: emptied when full, and the paths in use come back.
   */
  const matchesByPath = new Map<string, readonly RouteMatch[]>();
  const matchesOf = (path: string): readonly RouteMatch[] => {
    let matches = matchesByPath.get(path);
    if (matches !== undefined) return matches;
    const found: RouteMatch[] = [];
    for (const route of routes) {
      const params = typeof route.path === "string"
        ? route.path === path ? [] : undefined
        : route.path.exec(path)?.slice(1);
      // Frozen: one params array serves every request to the path.
      if (params) found.push(Object.freeze({ route, params: Object.freeze(params) }));
    }
    matches = Object.freeze(found);
    if (matchesByPath.size >= 256) matchesByPath.clear();
    matchesByPath.set(path, matches);
    return matches;
  };

  /**
   * The route a request asks for and its params, after the host and origin checks; or the
   * answer to a preflight. Synchronous, so that what it looks at is not held while a call waits.
   */
  const pick = (
    request: Request,
    method: string,
    path: string,
    origin: string | null,
  ): RouteMatch | Response => {
    const host = request.headers.get("host");
    if (host === null || !hostsServed.has(host)) {
      checkHost(host, policy);
      // Bounded: a client sending many names (IP literals in all their spellings) is checked
      // each time past this many.
      if (host !== null && hostsServed.size < 64) hostsServed.add(host);
    }
    const allowedOrigin = checkOrigin(origin, host, policy);
    if (method === "OPTIONS" && allowedOrigin) return preflight(allowedOrigin);
    let allowed: Set<string> | undefined;
    for (const match of matchesOf(path)) {
      if (match.route.method === method) return match;
      (allowed ??= new Set()).add(match.route.method);
    }
    if (allowed) {
      throw new HttpError(405, "MethodNotAllowed", `${path} takes ${[...allowed]}`, {
        allow: [...allowed].join(", "),
      });
    }
    throw new HttpError(404, "NotFound", `no endpoint at ${path}`);
  };

  /**
   * The answer to a routed request, as it goes out ({@link finish}): the route's, once the
   * caller passed its `auth`, or the error's; its place in the limit given back. One async
   * function for all of it, since a promise and closures each are what a call in flight holds.
   */
  const respond = async (
    context: RequestContext,
    route: WebRoute,
    method: string,
    path: string,
    origin: string | null,
  ): Promise<Response> => {
    let response: Response;
    try {
      if (route.auth === "token") await front.checkToken(context.request, context.address);
      if (route.auth === "account") {
        const handle = presentedHandle(context.request);
        const found = handle ? handles.account(handle) : undefined;
        const account = found instanceof Promise ? await found : found;
        if (!account) {
          throw new HttpError(
            401,
            "UnknownAccount",
            handle
              ? "no such account handle (revoked, or from before a restart): POST /v1/sessions"
              : "this needs Authorization: Bearer <account handle> from POST /v1/sessions",
            { "www-authenticate": "Bearer" },
          );
        }
        context.account = account;
        context.handle = handle;
      }
      response = await route.handle(context);
    } catch (error) {
      response = failed(error);
    } finally {
      context.done();
    }
    return finish(method, path, origin, response, context.received);
  };

  /** The answer to a request that failed: its HttpError's, or a 500 (logged) for anything else. */
  const failed = (error: unknown): Response => {
    if (!(error instanceof HttpError)) {
      log(`http: internal error: ${(error as Error).stack ?? error}`);
    }
    return errorResponse(
      error instanceof HttpError ? error : new HttpError(500, "InternalError", String(error)),
    );
  };

  /** What every answer passes on its way out: the log line, CORS headers, the metrics. */
  const finish = (
    method: string,
    path: string,
    origin: string | null,
    response: Response,
    received: number,
  ): Response => {
    defaults.verbose?.(`http ${method} ${path} ${response.status}`);
    // The WebSocket counts itself (ws_route.ts); nothing more is done to its 101.
    if (response.status === 101) return response;
    // An allowed cross-origin caller may read the answer.
    if (origin && policy.cors.has(origin)) {
      for (const [name, value] of Object.entries(corsHeaders(origin))) {
        response.headers.set(name, value);
      }
    }
    return tallied(response, received);
  };

  const server = Deno.serve({
    hostname: options.host,
    port: options.port,
    onListen: () => {},
  }, (request, info) => {
    // Read first: once a WebSocket is upgraded, its request can no longer be read.
    const origin = request.headers.get("origin");
    const href = request.url;
    const path = pathOf(href);
    const method = request.method;
    let context: RequestContext;
    let route: WebRoute;
    try {
      const picked = pick(request, method, path, origin);
      if (picked instanceof Response) return finish(method, path, origin, picked, 0);
      const address = (info.remoteAddr as Deno.NetAddr).hostname;
      limit.take(address);
      context = new RequestContext(request, href, picked.params, address, front, bodies, limit);
      route = picked.route;
    } catch (error) {
      return finish(method, path, origin, failed(error), 0);
    }
    return respond(context, route, method, path, origin);
  });

  /**
   * Counts one request in the metrics as an `http` connection, open until its answer is whole:
   * its body's bytes received, its answer's sent (a streamed answer's as they go out).
   */
  const tallied = (response: Response, received: number): Response => {
    const tally = defaults.metrics?.opened("http");
    if (!tally) return response;
    tally.received(received);
    if (response instanceof TextResponse || response.body === null) {
      tally.sent(response instanceof TextResponse ? response.bodyLength : 0);
      tally.closed();
      return response;
    }
    const counter = new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        tally.sent(chunk.length);
        controller.enqueue(chunk);
      },
      flush: () => tally.closed(),
      cancel: () => tally.closed(),
    });
    return new Response(response.body.pipeThrough(counter), response);
  };
  const bound = server.addr as Deno.NetAddr;
  if (!options.token && !isLoopback(bound.hostname)) {
    server.shutdown();
    throw new Error(`refusing to listen for HTTP on ${options.host} without --token: not loopback`);
  }
  return {
    port: bound.port,
    handles,
    async close() {
      for (const socket of front.sockets) socket.close(1001, "the server is closing");
      for (const end of front.streams) end();
      await handles.close();
      bodies.close();
      await server.shutdown();
    },
  };
}

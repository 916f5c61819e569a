/**
 * The web front's routes as a table: each route is one entry (method, path, who may call it,
 * handler), so adding an endpoint is adding one entry.
 *
 * @module
 */

import type { Clock } from "../io/clock.ts";
import type { ProxyDefaults } from "../proxy/proxy_connection.ts";
import type { TokenGuard } from "../proxy/token_guard.ts";
import type { AccountHandles } from "./account_handles.ts";
import type { WebAccount } from "./web_account.ts";

/**
 * Who may call a route: anyone who passed the host and origin checks (`open`); with `serve
 * --token`, only with `Authorization: Bearer <token>` (`token`); or the holder of an account
 * handle, as `Authorization: Bearer <handle>` or the handle cookie (`account`).
 */
export type RouteAuth = "open" | "token" | "account";

/** What a route's handler is given. */
export interface RouteContext {
  request: Request;
  url: URL;
  /**
   * The path pattern's groups (a RegExp path), e.g. the method name of `/v1/{method}`. Read-only:
   * one array (frozen) serves every request to the same path.
   */
  params: readonly string[];
  /** The client's address (per-address limits, the token guard). */
  address: string;
  /** The front: its defaults, options, handles and clock. */
  front: WebFront;
  /** For `account` routes: the handle's live session (reopened if it was parked). */
  account?: WebAccount;
  /** For `account` routes: the handle itself, to revoke it. */
  handle?: string;
  /** The body as text, within the size limit and the body deadline. */
  body(): Promise<string>;
  /**
   * For answers that outlive the handler (a WebSocket, an event stream): keeps the client's
   * place in the per-address limit until the returned function is called.
   */
  keepOpen(): () => void;
}

/** One endpoint. */
export interface WebRoute {
  method: "GET" | "POST" | "DELETE" | "HEAD";
  /** An exact path, or a pattern whose groups become `params`. */
  path: string | RegExp;
  auth: RouteAuth;
  handle(context: RouteContext): Response | Promise<Response>;
}

/** What every route of one web front shares. */
export interface WebFront {
  defaults: ProxyDefaults;
  handles: AccountHandles;
  clock: Clock;
  maxLine: number;
  /** serve's token, when it has one. */
  token?: string;
  guard?: TokenGuard;
  /** serve's health object (the same JSON as `{"health": {}}`). */
  health(): Record<string, unknown>;
  /** Prometheus text, when serve keeps metrics. */
  metrics?: { render(): string };
  /** WebSocket keep-alive: a ping after this many seconds of silence, closed without a pong. */
  pingSeconds: number;
  /** The open WebSockets, closed when the front closes. */
  sockets: Set<WebSocket>;
  /**
   * What ends the answers that outlive their handler but are no WebSocket (event streams, long
   * polls), called when the front closes: an open stream would otherwise hold serve's shutdown.
   */
  streams: Set<() => void>;
  log(line: string): void;
  /**
   * Checks `Authorization: Bearer <token>` against serve's token (nothing to check without one):
   * a wrong one is counted and delayed by the token guard, then refused with 401.
   */
  checkToken(request: Request, address: string): Promise<void>;
}

/** The name of the cookie that carries an account handle (`POST /v1/sessions?cookie=1`). */
export const HANDLE_COOKIE = "mtproto2json_account";

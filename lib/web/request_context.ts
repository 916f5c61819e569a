/**
 * One request's {@link RouteContext}, as a class: its methods live on the prototype, so a call in
 * flight holds one small object where an object literal held a getter and a closure for each
 * method (with its own captured scope). One-shot calls are many small requests, each held while
 * its answer comes from Telegram: what each holds is what the young-generation collections copy.
 *
 * @module
 */

import type { BodyReader } from "./request_body.ts";
import type { StreamLimit } from "./request_checks.ts";
import type { RouteContext, WebFront } from "./routes.ts";
import type { WebAccount } from "./web_account.ts";

/**
 * A request's context: its place in the per-address limit is given back by {@link done}, or by
 * the function {@link keepOpen} returns.
 */
export class RequestContext implements RouteContext {
  account?: WebAccount;
  handle?: string;
  /** The body's length in bytes once it is read (the front's byte counts). */
  received = 0;
  readonly #href: string;
  readonly #bodies: BodyReader;
  readonly #limit: StreamLimit;
  #url: URL | undefined;
  #kept = false;
  #released = false;

  /**
   * A context for `request` (whose URL is `href`) routed with `params`, from `address`, holding
   * a place of `address` in `limit` (taken already), given back once.
   */
  constructor(
    readonly request: Request,
    href: string,
    readonly params: readonly string[],
    readonly address: string,
    readonly front: WebFront,
    bodies: BodyReader,
    limit: StreamLimit,
  ) {
    this.#href = href;
    this.#bodies = bodies;
    this.#limit = limit;
  }

  /** The request's URL, parsed only for the routes that read the query. */
  get url(): URL {
    return this.#url ??= new URL(this.#href);
  }

  /** The body as text, within the size limit and the body deadline; its length is counted. */
  body(): Promise<string> {
    return this.#bodies.read(this.request, this);
  }

  /** Keeps the request's place in the limit past its handler, until the function returned. */
  keepOpen(): () => void {
    this.#kept = true;
    return () => this.#release();
  }

  /** The handler has answered: the place is given back unless the answer keeps it open. */
  done(): void {
    if (!this.#kept) this.#release();
  }

  #release(): void {
    if (this.#released) return;
    this.#released = true;
    this.#limit.release(this.address);
  }
}

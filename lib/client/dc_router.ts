/**
 * Where a client's calls go: one MTProto sender per DC, the session's home DC, the other DCs'
 * addresses (from `help.getConfig`, asked of the home DC once), the DCs the signed-in account was
 * exported to, and the move to a new home DC when Telegram answers `*_MIGRATE_X`.
 *
 * @module
 */

import type { Clock } from "../io/clock.ts";
import { type RandomSource, secureRandom } from "../crypto/random.ts";
import { innermostCall } from "../mtproto/invoke_wrappers.ts";
import { Sender } from "../net/sender.ts";
import type { SenderOptions } from "../net/sender_options.ts";
import { isTlObject, type TlCodec, type TlObject } from "../tl/codec.ts";
import type { TransportOptions } from "../transport/transport.ts";
import { type ServerTarget, type SessionState, webSocketUrlOf } from "./session_json.ts";
import { type DcAddress, DcAddresses } from "./dc_addresses.ts";
import { FileSenders } from "./file_senders.ts";
import { senderRoute, webSocketRoute } from "./proxy_route.ts";

/** How long a temporary key lives with PFS (a day, as Telegram's own apps use). */
export const TEMP_KEY_SECONDS = 24 * 60 * 60;

/** Something the client tells its owner unasked. */
export type ClientEvent =
  /** The home DC no longer knows the signed-in account's key: calls fail until a new sign-in. */
  { type: "session_dead"; reason: string; dc: number };

/**
 * A call the router makes for itself on DC `dc` (`help.getConfig`, exporting and importing the
 * authorization), decoded natively by `resultType`; it runs under the deadline and retries of the
 * call that needed it.
 */
export type DcCall = (dc: number, request: TlObject, resultType: string) => Promise<TlObject>;

/** What a router is built from. */
export interface DcRouterOptions {
  server: ServerTarget;
  session: SessionState;
  /** The native codec the senders encode and decode with. */
  codec: TlCodec;
  /** Framing and obfuscation when the server names none. */
  transport?: TransportOptions;
  random?: RandomSource;
  /** Time and timers for the senders. */
  clock: Clock;
  /** The deadline for opening a connection and creating its key, read when a sender is made. */
  connectTimeoutMs(): number;
  /** Called with each update's bytes and the DC that pushed it. */
  onUpdate(bytes: Uint8Array, dc: number): void;
  /** Called when a DC starts a new session on `sender`: its next call needs initConnection. */
  onNewSession(sender: Sender): void;
  /** Called when updates pushed by the home DC may have been missed. */
  onMissedUpdates?: () => void;
  onEvent?: (event: ClientEvent) => void;
  /** Called when the session gained or lost something worth storing (a key on another DC). */
  onSessionChanged?: () => void;
  log?: (line: string) => void;
}

/** Calls whose success means the session now acts for a user. */
const SIGN_IN_METHODS = new Set([
  "auth.signIn",
  "auth.signUp",
  "auth.checkPassword",
  "auth.importAuthorization",
  "auth.importBotAuthorization",
]);

/** The senders of one client, one per DC, and what it knows about each DC. */
export class DcRouter {
  #server: ServerTarget;
  #session: SessionState;
  readonly #senders = new Map<number, Sender>();
  /**
   * Connections for file traffic and to CDN DCs, apart from the account's main ones: made when the
   * first is asked for (most clients never do).
   */
  #files?: FileSenders;
  // The next two are made when first needed and #making dropped when emptied: an idle client
  // needs neither, and a thousand idle connections through serve kept ~320 B each in them.
  /** Senders and authorizations being made, by name, so that concurrent callers share them. */
  #making?: Map<string, Promise<unknown>>;
  /** Senders closed because the server, the session or the home DC changed: their calls move. */
  #replaced?: WeakSet<Sender>;
  readonly #authorizedDcs = new Set<number>();
  /** Other DCs' addresses (and `media_only` ones, where file traffic goes) from the config. */
  readonly #addresses = new DcAddresses();
  readonly #options: DcRouterOptions;

  /** Creates a router; nothing connects until a sender is asked for. */
  constructor(options: DcRouterOptions) {
    this.#options = options;
    this.#server = options.server;
    this.#session = options.session;
    this.#seedAuthorizedDcs();
  }

  /**
   * The file and CDN connections, made with the first that is asked for: an idle client's were
   * ~1 KB of closures and maps (1000 idle connections through serve).
   */
  #fileSenders(): FileSenders {
    return this.#files ??= new FileSenders({
      homeDc: () => this.#session.dc,
      senderFor: (dc, call) => this.senderFor(dc, call),
      authorize: (dc, call) => this.authorize(dc, call),
      mainAddressOf: (dc, call) => this.#mainAddressOf(dc, call),
      mediaAddressOf: (dc, call) => this.#addresses.media(dc, this.#config(dc, call)),
      cdnAddressOf: (dc, call) => this.#addresses.cdn(dc, this.#config(dc, call)),
      newSender: (dc, address, key, hooks, keys, media) =>
        this.#newSender(dc, address, key, hooks, keys, media),
      onNewSession: (sender) => this.#options.onNewSession(sender),
      keyLost: (dc) => {
        const lost = this.#senders.get(dc);
        if (lost) this.#senderLost(dc, lost);
        else this.#files?.dropDc(dc);
      },
    });
  }

  /** The DCs the loaded session says the account is authorized on. */
  #seedAuthorizedDcs(): void {
    this.#authorizedDcs.clear();
    if (this.#session.userId === undefined) return;
    this.#authorizedDcs.add(this.#session.dc);
    for (const [dc, key] of Object.entries(this.#session.dcKeys ?? {})) {
      if (key.authorized) this.#authorizedDcs.add(Number(dc));
    }
  }

  /** The server the home DC is reached at (it follows migrations). */
  get server(): ServerTarget {
    return this.#server;
  }

  /** The session as loaded or signed in; see {@link DcRouter.currentSession} for the live one. */
  get session(): SessionState {
    return this.#session;
  }

  /** Points at another server: open connections close and their calls move (see `replaced`). */
  setServer(server: ServerTarget): void {
    this.#server = server;
    this.#session = { ...this.#session, dc: server.dc };
    this.#addresses.forget();
    this.#replaceConnections();
  }

  /** Loads a session: open connections close and their calls move (see `replaced`). */
  setSession(session: SessionState): void {
    this.#session = session;
    this.#seedAuthorizedDcs();
    this.#replaceConnections();
  }

  /** Closes every connection for a switch: calls in flight on them move on. */
  #replaceConnections(): void {
    for (const sender of [...this.#senders.values(), ...(this.#files?.takeAll() ?? [])]) {
      (this.#replaced ??= new WeakSet()).add(sender);
      sender.close();
    }
    this.#senders.clear();
  }

  /** True while the home DC's connection is up (for readiness: `/readyz`, `held_connected`). */
  get homeConnected(): boolean {
    return this.#senders.get(this.#session.dc)?.connected ?? false;
  }

  /** Whether `sender` was closed by a switch (server, session, home DC), not by its owner. */
  replaced(sender: Sender): boolean {
    return this.#replaced?.has(sender) ?? false;
  }

  /** The session as it stands (the home sender's live key, salt and id included). */
  currentSession(): SessionState {
    const home = this.#senders.get(this.#session.dc);
    if (home?.session) {
      this.#session.authKey = home.authKey;
      // With PFS the session id and salt belong to the temporary key: not worth keeping.
      if (!this.#server.pfs) {
        this.#session.sessionId = home.session.sessionId;
        this.#session.salt = home.session.salt;
      }
    }
    return this.#session;
  }

  /** Closes every connection; later calls connect anew. */
  closeAll(): void {
    for (const sender of [...this.#senders.values(), ...(this.#files?.takeAll() ?? [])]) {
      sender.close();
    }
    this.#senders.clear();
  }

  /**
   * The open sender for file connection `slot` of DC `dc`, or a new one (see `file_senders.ts`):
   * apart from the account's main connection, on the DC's media address when it has one.
   */
  fileSenderFor(dc: number, slot: number, call: DcCall): Promise<Sender> {
    return this.#fileSenders().fileSender(dc, slot, call);
  }

  /** The open sender for connection `slot` to CDN DC `dc`, or a new one. */
  cdnSenderFor(dc: number, slot: number, call: DcCall): Promise<Sender> {
    return this.#fileSenders().cdnSender(dc, slot, call);
  }

  /** The address of DC `dc`'s main connections. */
  async #mainAddressOf(dc: number, call: DcCall): Promise<DcAddress> {
    return dc === this.#server.dc
      ? { host: this.#server.host, port: this.#server.port }
      : await this.addressOf(dc, call);
  }

  /** Asks the home DC (or, for the home DC itself, the server) for the config. */
  #config(dc: number, call: DcCall): () => Promise<TlObject> {
    const home = this.#session.dc === dc ? this.#server.dc : this.#session.dc;
    return () => call(home, { _cons: "help.getConfig" }, "Config");
  }

  /**
   * A sender to `address` for DC `dc` with the router's settings and the given key and hooks;
   * through the server's proxy when it names one (see proxy_route.ts), over a WebSocket when the
   * server gives one for the DC (the address is then unused). `media`: a file connection to the
   * DC's media-only address.
   */
  #newSender(
    dc: number,
    address: DcAddress,
    key: { authKey?: Uint8Array; salt?: bigint },
    hooks: Pick<SenderOptions, "onUpdate" | "onNewSession" | "onReconnect" | "onAuthKeyUnknown">,
    publicKeys = this.#server.publicKeys,
    media = false,
  ): Sender {
    const options = this.#options;
    const url = webSocketUrlOf(this.#server, dc, media);
    const route = url ? webSocketRoute(url, this.#server, this.#options, dc) : {
      ...address,
      ...senderRoute(this.#server.proxy, { dc, test: this.#server.test, media }, options.clock),
    };
    return new Sender({
      host: route.host,
      port: route.port,
      dcId: route.dcId,
      ...(route.connect ? { connect: route.connect } : {}),
      ...(route.via ? { via: route.via } : {}),
      publicKeys,
      transport: route.transport ?? this.#server.transport ?? options.transport ??
        { kind: "intermediate", obfuscated: true },
      codec: options.codec,
      random: options.random ?? secureRandom,
      clock: options.clock,
      connectTimeoutMs: options.connectTimeoutMs(),
      ...(key.authKey ? { authKey: key.authKey } : {}),
      ...(key.salt !== undefined ? { salt: key.salt } : {}),
      ...(this.#server.pfs ? { tempKeySeconds: TEMP_KEY_SECONDS } : {}),
      ...hooks,
      ...(options.log ? { log: options.log } : {}),
    });
  }

  /** The open sender for DC `dc` if there is one (see {@link DcRouter.senderFor}). */
  openSender(dc: number): Sender | undefined {
    const existing = this.#senders.get(dc);
    return existing && !existing.closed ? existing : undefined;
  }

  /** The open sender for DC `dc`, or a new one (its address asked through `call` if needed). */
  async senderFor(dc: number, call: DcCall): Promise<Sender> {
    const existing = this.#senders.get(dc);
    if (existing && !existing.closed) return existing;
    // Calls that find no sender at once share the one being made (else each would make a key).
    return await this.#once(`main ${dc}`, () => this.#makeSender(dc, call));
  }

  /**
   * Runs `make` unless one with the same `name` is running: its callers share that one's result.
   */
  #once<T>(name: string, make: () => Promise<T>): Promise<T> {
    const running = this.#making?.get(name);
    if (running) return running as Promise<T>;
    const made = make().finally(() => {
      this.#making?.delete(name);
      if (this.#making?.size === 0) this.#making = undefined;
    });
    (this.#making ??= new Map()).set(name, made);
    return made;
  }

  async #makeSender(dc: number, call: DcCall): Promise<Sender> {
    const address = await this.#mainAddressOf(dc, call);
    // A session line gives the key (the home DC's, or one kept for another DC); the session
    // itself is always new, so that several connections loading one line never share a
    // session_id (their msg_ids would collide).
    const home = dc === this.#session.dc;
    const kept = home ? undefined : this.#session.dcKeys?.[dc]?.authKey;
    const options = this.#options;
    const key = home && this.#session.authKey
      ? { authKey: this.#session.authKey, salt: this.#session.salt }
      : { authKey: kept };
    const sender: Sender = this.#newSender(dc, address, key, {
      onUpdate: (bytes) => options.onUpdate(bytes, dc),
      onNewSession: () => {
        options.onNewSession(sender);
        if (dc === this.#session.dc) options.onMissedUpdates?.();
      },
      onReconnect: () => {
        if (dc === this.#session.dc) options.onMissedUpdates?.();
      },
      onAuthKeyUnknown: () => this.#senderLost(dc, sender),
    });
    this.#senders.set(dc, sender);
    return sender;
  }

  /**
   * A DC answered -404: it does not know the key. On another DC a new key is made on the next
   * call and the authorization imported again. On the home DC the account's authorization went
   * with the key: the owner is told the session is dead, and the next call starts a new key.
   */
  #senderLost(dc: number, sender: Sender): void {
    if (this.#senders.get(dc) === sender) this.#senders.delete(dc);
    // The file connections of that DC ran under the same key.
    this.#files?.dropDc(dc);
    if (dc !== this.#session.dc) {
      this.#authorizedDcs.delete(dc);
      if (this.#session.dcKeys?.[dc]) {
        delete this.#session.dcKeys[dc];
        this.#options.onSessionChanged?.();
      }
      return;
    }
    const signedIn = this.#session.userId !== undefined;
    this.#session = {
      dc: this.#session.dc,
      ...(this.#session.apiId ? { apiId: this.#session.apiId } : {}),
    };
    this.#authorizedDcs.clear();
    if (signedIn) {
      this.#options.onEvent?.({ type: "session_dead", reason: "AUTH_KEY_UNKNOWN", dc });
    }
  }

  /** Finds a DC's address from help.getConfig, asked of the home DC once. */
  async addressOf(dc: number, call: DcCall): Promise<DcAddress> {
    return await this.#addresses.main(dc, this.#config(dc, call));
  }

  /** Makes a non-home DC act for the signed-in user: export there, import here. */
  async authorize(dc: number, call: DcCall): Promise<void> {
    if (this.#authorizedDcs.has(dc) || this.#session.userId === undefined) return;
    await this.#once(`authorize ${dc}`, () => this.#authorize(dc, call));
  }

  async #authorize(dc: number, call: DcCall): Promise<void> {
    const exported = await call(
      this.#session.dc,
      { _cons: "auth.exportAuthorization", dc_id: dc },
      "auth.ExportedAuthorization",
    );
    if (exported._cons !== "auth.exportedAuthorization") return;
    await call(
      dc,
      { _cons: "auth.importAuthorization", id: exported.id, bytes: exported.bytes },
      "auth.Authorization",
    );
    this.#authorizedDcs.add(dc);
    // Kept with the session: the next connection to this DC resumes the key, authorized.
    const authKey = this.#senders.get(dc)?.authKey;
    if (authKey) {
      this.#session.dcKeys = { ...this.#session.dcKeys, [dc]: { authKey, authorized: true } };
      this.#options.onSessionChanged?.();
    }
  }

  /**
   * DC `dc` answered AUTH_KEY_UNREGISTERED: its key is known but no longer carries the account's
   * authorization (revoked, expired). The next {@link authorize} exports it again.
   */
  unauthorize(dc: number): void {
    if (dc === this.#session.dc) return;
    this.#authorizedDcs.delete(dc);
    const kept = this.#session.dcKeys?.[dc];
    if (kept?.authorized) {
      kept.authorized = false;
      this.#options.onSessionChanged?.();
    }
  }

  /**
   * Makes DC `target` the account's home (Telegram answered `PHONE_MIGRATE_X`, `USER_MIGRATE_X`
   * or `NETWORK_MIGRATE_X`): the old home's calls in flight move there, and a new session starts
   * on it.
   */
  async moveHome(target: number, call: DcCall): Promise<void> {
    const address = await this.addressOf(target, call);
    const previous = this.#senders.get(this.#session.dc);
    if (previous) {
      // Calls in flight there move to the new home DC (or end as maybe executed).
      (this.#replaced ??= new WeakSet()).add(previous);
      previous.close();
    }
    this.#senders.delete(this.#session.dc);
    // The home DC becomes the target: sessions printed from now on point at it.
    this.#server = { ...this.#server, ...address, dc: target };
    this.#session = { dc: target };
    this.#authorizedDcs.clear();
  }

  /**
   * Remembers who signed in, so the session can be resumed and exported to other DCs: `answer`
   * is the home DC's answer to `request`, a sign-in when the call inside any invoke wrappers
   * (`invokeWithLayer`, `invokeWithoutUpdates`, …) is one.
   */
  noteSignIn(request: TlObject, answer: Uint8Array): void {
    if (!SIGN_IN_METHODS.has(innermostCall(request)._cons)) return;
    const value = this.#options.codec.decode(answer);
    if (value._cons !== "auth.authorization" || !isTlObject(value.user)) return;
    this.#session.userId = Number(value.user.id);
    this.#authorizedDcs.add(this.#session.dc);
  }
}

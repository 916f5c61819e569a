/**
 * The emulator's MTProxy front (`emulator --mtproxy SECRET[,SECRET...]`): a listener on 127.0.0.1
 * that does what an MTProxy server does for clients holding one of its secrets — plain, `dd`
 * (padded intermediate only) or `ee` (fake TLS, the ClientHello's HMAC and time checked, replays
 * refused, an HMAC'd server hello) — then reads the obfuscation header with the secret and relays
 * the stream, de-obfuscated, to the DC the header names, as a plain connection to that DC's
 * listener on 127.0.0.1 (a negative DC id: its media-only listener; a test DC's +10000 ignored).
 *
 * Refusals are a real proxy's: a header no secret opens, a replayed one, or a DC it does not know
 * closes the connection; a TLS hello no `ee` secret signed (or with a stale time, another domain,
 * a replayed digest) gets the fatal alert a TLS server sends for a hello it cannot serve.
 *
 * @module
 */

import type { RandomSource } from "../crypto/random.ts";
import type { Clock } from "../io/clock.ts";
import { acceptLoop, closeQuietly } from "../net/accept_loop.ts";
import { parseProxyUrl, type ProxySpec, proxyToUrl } from "../net/proxy_url.ts";
import { readChunks } from "../net/read_chunks.ts";
import { ByteQueue } from "../transport/byte_queue.ts";
import { checkClientHello } from "../transport/fake_tls_hello.ts";
import {
  alertRecord,
  FakeTlsRecordReader,
  FakeTlsRecordWriter,
  SERVER_RECORD_PAYLOAD,
} from "../transport/fake_tls_records.ts";
import { buildServerHello } from "../transport/fake_tls_server_hello.ts";
import { TRANSPORT_MARKERS } from "../transport/framing.ts";
import { acceptObfuscationHeader, type ObfuscationStreams } from "../transport/obfuscated.ts";

/** How the front is run. */
export interface MtproxyFrontOptions {
  /** The secrets it accepts, as users write them (hex or base64; `dd`/`ee` forms). */
  secrets: string[];
  /** The port of DC `dc`'s listener on 127.0.0.1 (its media-only one when `media`), if any. */
  dcPort(dc: number, media: boolean): number | undefined;
  /** Wall time for the fake-TLS time check. */
  clock: Clock;
  random: RandomSource;
  log: (line: string) => void;
  /** Where to listen on 127.0.0.1 (default 0: any free port). */
  port?: number;
  /** How far a fake-TLS client's time may be from the front's, in seconds (default 600). */
  timeWindowSeconds?: number;
}

/** A running front. */
export interface MtproxyFront {
  port: number;
  /** One `tg://proxy` link per secret, in the order given. */
  links: string[];
  /** Client connections open now. */
  readonly connections: number;
  /** Connections relayed so far, by where they went: "DC 2", "DC 3 media". */
  readonly routed: Map<string, number>;
  /** Stops listening and closes every connection. */
  close(): Promise<void>;
}

/** A secret as parsed (host and port unused): `secret` is its 16-byte key. */
type FrontSecret = Extract<ProxySpec, { kind: "mtproxy" }>;

/**
 * Reads a secret as a `tg://proxy` link's `secret=` (hex or base64; plain, dd, ee); throws
 * `ProxyUrlError` saying what is wrong with it.
 */
export function parseFrontSecret(text: string): FrontSecret {
  const spec = parseProxyUrl(`mtproxy://127.0.0.1:1?secret=${encodeURIComponent(text)}`);
  if (spec.kind !== "mtproxy") throw new TypeError("not an MTProxy secret");
  return spec;
}

/** Handshakes remembered against replays (the oldest forgotten first). */
const REPLAY_MEMORY = 65536;

/** TLS alert descriptions the front refuses hellos with. */
const HANDSHAKE_FAILURE = 40;
const UNRECOGNIZED_NAME = 112;

/** Starts the front; it listens once this returns. */
export function startMtproxyFront(options: MtproxyFrontOptions): MtproxyFront {
  if (options.secrets.length === 0) throw new TypeError("an MTProxy front needs a secret");
  const secrets = options.secrets.map(parseFrontSecret);
  const listener = Deno.listen({ hostname: "127.0.0.1", port: options.port ?? 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const sockets = new Set<Deno.TcpConn>();
  const seen = new Set<string>();
  const routed = new Map<string, number>();
  const front = new FrontHandshake(secrets, options, seen, routed);
  const serving = acceptLoop(
    listener,
    (socket) => {
      socket.setNoDelay(true);
      sockets.add(socket);
      front.serve(socket, sockets).finally(() => {
        sockets.delete(socket);
        closeQuietly(socket);
      });
    },
    (line) => options.log(`mtproxy: ${line}`),
    options.clock,
  );
  return {
    port,
    links: secrets.map((secret) => proxyToUrl({ ...secret, host: "127.0.0.1", port })),
    get connections() {
      return sockets.size;
    },
    routed,
    async close() {
      closeQuietly(listener);
      for (const socket of sockets) closeQuietly(socket);
      await serving;
    },
  };
}

/** A socket's bytes, queued; once fake TLS is up, taken out of their records first. */
class Inbound {
  readonly queue = new ByteQueue();
  #records?: FakeTlsRecordReader;
  readonly #source: AsyncIterator<Uint8Array>;

  constructor(socket: Deno.TcpConn) {
    this.#source = readChunks(socket)[Symbol.asyncIterator]();
  }

  /** Waits until `count` bytes are queued; false when the stream ends first. */
  async need(count: number): Promise<boolean> {
    while (this.queue.length < count) {
      const chunk = await this.#read();
      if (!chunk) return false;
      this.queue.push(chunk);
    }
    return true;
  }

  /** From now on bytes come in records (those queued already included). */
  startRecords(): void {
    this.#records = new FakeTlsRecordReader();
    if (this.queue.length) {
      this.queue.push(this.#records.unpack(this.queue.take(this.queue.length)));
    }
  }

  /** What is queued, or the next bytes to arrive; undefined at the end of the stream. */
  async next(): Promise<Uint8Array | undefined> {
    if (this.queue.length) return this.queue.take(this.queue.length);
    for (;;) {
      const chunk = await this.#read();
      if (!chunk || chunk.length) return chunk;
    }
  }

  async #read(): Promise<Uint8Array | undefined> {
    const next = await this.#source.next();
    if (next.done) return undefined;
    return this.#records ? this.#records.unpack(next.value) : next.value;
  }
}

/** The front's checks of a client's first bytes, and the relay once they pass. */
class FrontHandshake {
  constructor(
    private readonly secrets: FrontSecret[],
    private readonly options: MtproxyFrontOptions,
    private readonly seen: Set<string>,
    private readonly routed: Map<string, number>,
  ) {}

  /** Serves one client connection until either side ends it. */
  async serve(socket: Deno.TcpConn, sockets: Set<Deno.TcpConn>): Promise<void> {
    const inbound = new Inbound(socket);
    let dc: Deno.TcpConn | undefined;
    try {
      const opened = await this.#open(socket, inbound);
      if (!opened) return;
      const { streams, kind, dcId, records } = opened;
      const route = this.#routeOf(dcId);
      if (!route) return this.#refuse(`no DC ${dcId} to route to`);
      const { port, name } = route;
      dc = await Deno.connect({ hostname: "127.0.0.1", port });
      dc.setNoDelay(true);
      sockets.add(dc);
      const first = inbound.queue.length
        ? streams.receive.process(inbound.queue.take(inbound.queue.length))
        : new Uint8Array(0);
      const opening = new Uint8Array(TRANSPORT_MARKERS[kind].length + first.length);
      opening.set(TRANSPORT_MARKERS[kind]);
      opening.set(first, TRANSPORT_MARKERS[kind].length);
      await writeAll(dc, opening);
      this.routed.set(name, (this.routed.get(name) ?? 0) + 1);
      const toDc = dc;
      await Promise.race([
        (async () => {
          for (let chunk; (chunk = await inbound.next());) {
            await writeAll(toDc, streams.receive.process(chunk));
          }
        })(),
        (async () => {
          for await (const chunk of readChunks(toDc)) {
            const sealed = streams.send.process(chunk);
            await writeAll(socket, records ? records.pack(sealed) : sealed);
          }
        })(),
      ]);
    } catch (error) {
      // A reset, a bad record, a DC that went away: the relay ends, as a proxy's would.
      this.options.log(`mtproxy: connection ended: ${(error as Error).message}`);
    } finally {
      if (dc) {
        sockets.delete(dc);
        closeQuietly(dc);
      }
    }
  }

  /** Reads the hello (fake TLS) and the obfuscation header; undefined when refused. */
  async #open(socket: Deno.TcpConn, inbound: Inbound): Promise<
    | {
      streams: ObfuscationStreams;
      kind: keyof typeof TRANSPORT_MARKERS;
      dcId: number;
      records?: FakeTlsRecordWriter;
    }
    | undefined
  > {
    if (!(await inbound.need(5))) return undefined;
    const start = inbound.queue.peek(5);
    const tlsLength = (start[3] << 8) | start[4];
    let candidates = this.secrets.filter((secret) => secret.mode !== "ee");
    let records: FakeTlsRecordWriter | undefined;
    if (start[0] === 0x16 && start[1] === 0x03 && start[2] === 0x01 && tlsLength >= 512) {
      if (!(await inbound.need(5 + tlsLength))) return undefined;
      const matched = await this.#fakeTls(socket, inbound.queue.take(5 + tlsLength));
      if (!matched) return undefined;
      candidates = [matched];
      records = new FakeTlsRecordWriter(SERVER_RECORD_PAYLOAD, false);
      inbound.startRecords();
    }
    if (!(await inbound.need(64))) return undefined;
    const header = inbound.queue.take(64);
    const replayKey = header.subarray(8, 56).toHex();
    for (const secret of candidates) {
      let accepted;
      try {
        accepted = acceptObfuscationHeader(header, secret.secret);
      } catch {
        continue; // another secret's header (its tag decrypts to garbage)
      }
      // A dd secret promises padding to hide sizes: its clients must use padded intermediate.
      if (secret.mode === "dd" && accepted.kind !== "padded") continue;
      if (this.#replayed(replayKey)) return this.#refuse("a replayed obfuscation header");
      return {
        streams: accepted,
        kind: accepted.kind,
        dcId: accepted.dcId,
        ...(records ? { records } : {}),
      };
    }
    return this.#refuse("an obfuscation header none of its secrets opens");
  }

  /** Checks a ClientHello and answers it; the secret that signed it, or undefined (refused). */
  async #fakeTls(socket: Deno.TcpConn, hello: Uint8Array): Promise<FrontSecret | undefined> {
    const refuse = async (reason: string, alert = HANDSHAKE_FAILURE) => {
      await writeAll(socket, alertRecord(alert)).catch(() => {});
      return this.#refuse(reason);
    };
    for (const secret of this.secrets.filter((candidate) => candidate.mode === "ee")) {
      let checked;
      try {
        checked = checkClientHello(hello, secret.secret);
      } catch (error) {
        return await refuse(`a malformed TLS hello: ${(error as Error).message}`);
      }
      if (!checked) continue;
      const skew = checked.unixTime - this.options.clock.wall() / 1000;
      const window = this.options.timeWindowSeconds ?? 600;
      if (Math.abs(skew) > window) {
        return await refuse(`a TLS hello whose time is ${Math.round(skew)} s off (±${window})`);
      }
      if (checked.domain !== secret.domain) {
        return await refuse(
          `a TLS hello for domain ${JSON.stringify(checked.domain ?? "")}, not the secret's`,
          UNRECOGNIZED_NAME,
        );
      }
      if (this.#replayed(checked.digest.toHex())) return await refuse("a replayed TLS hello");
      await writeAll(
        socket,
        buildServerHello({
          key: secret.secret,
          clientDigest: checked.digest,
          sessionId: checked.sessionId,
          random: this.options.random,
        }),
      );
      return secret;
    }
    return await refuse("a TLS hello none of its ee secrets signed");
  }

  /** True when `key` was seen before; remembers it otherwise. */
  #replayed(key: string): boolean {
    if (this.seen.has(key)) return true;
    this.seen.add(key);
    if (this.seen.size > REPLAY_MEMORY) this.seen.delete(this.seen.values().next().value!);
    return false;
  }

  /** Where a header's DC id goes: the DC's port (its media-only one for a negative id). */
  #routeOf(dcId: number): { port: number; name: string } | undefined {
    let dc = Math.abs(dcId);
    if (dc > 10000) dc -= 10000;
    const media = dcId < 0 ? this.options.dcPort(dc, true) : undefined;
    if (media !== undefined) return { port: media, name: `DC ${dc} media` };
    const port = this.options.dcPort(dc, false);
    return port === undefined ? undefined : { port, name: `DC ${dc}` };
  }

  #refuse(reason: string): undefined {
    this.options.log(`mtproxy: refused a client: ${reason}`);
    return undefined;
  }
}

async function writeAll(connection: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let written = 0; written < bytes.length;) {
    written += await connection.write(bytes.subarray(written));
  }
}

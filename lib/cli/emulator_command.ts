/**
 * `mtproto2json emulator`: runs the local test double of Telegram's DCs on 127.0.0.1 and prints,
 * as its first stdout line, a request line that points a client at it.
 *
 * @module
 */

import type { Clock } from "../io/clock.ts";
import { parsePrivateKeyPem, type RsaPrivateKey } from "../crypto/rsa.ts";
import { generateServerKey } from "../emulator/server_key.ts";
import {
  type DcSettings,
  KeyHoldersUnavailableError,
  startEmulator,
} from "../emulator/emulator.ts";
import type { WorldOptions } from "../emulator/world.ts";
import { parseFrontSecret } from "../emulator/mtproxy_front.ts";
import { extraUserPhone, MAX_EXTRA_USERS } from "../emulator/world_default.ts";
import { PortInUseError } from "../emulator/dc_server.ts";
import { schemaFromFlags } from "./schema_flags.ts";
import { UsageError } from "./usage_error.ts";
import { parseFlags } from "./flags.ts";

/** Help text of `mtproto2json emulator`. */
export const EMULATOR_HELP = `Usage: mtproto2json emulator [options]

A local test double of Telegram's data centers, for offline development and tests: real MTProto
2.0 on the wire, an in-memory world (see the README). Listens on 127.0.0.1 only. The first line on
stdout is a request line pointing a client at DC 2; logs (login codes included) go to stderr.
With N DCs from port P, DC n listens on P + n - 1 and on a media-only port P + N + n - 1; with
files for the CDN, the CDN DC (203, a key of its own) listens on P + 2N.

Options:
  --port P             port of DC 1; DC n listens on P + n - 1 (default 4430; 0 = any free ports)
  --dcs N              number of DCs (default 3)
  --key FILE           RSA private key (PKCS#8 PEM); created there if missing, so the server line
                       stays valid across restarts (default: a new key every start)
  --world FILE         JSON with the world's switches: {"homeDc", "filesDc", "floodWait",
                       "epoch", "dropUpdatesEvery", "tooLongEvery", "differenceLimit",
                       "differenceTooLongAfter", "files", "cdnAll", "fileRefTtlSeconds", "users",
                       "fileFlood", "fileFloodSeconds", "fileLatencyMs", "cdnTokenTtlSeconds",
                       "fileCorruptOffset"}
  --users N            N more accounts besides Alice and Bob: +15551000001 … in order (at most
                       9999), login code 12345, no 2FA password
  --key-holders        record which client process drives each auth key (Linux, from /proc: run
                       with deno run -A) and log every moment two processes hold live
                       connections on one key, and at exit how many there were
  --home-dc N          every account lives on DC N (sign-in elsewhere gets PHONE_MIGRATE_N)
  --files-dc N         stored files live on DC N (downloads elsewhere get FILE_MIGRATE_N)
  --flood-wait M:S[:T] answer method M with FLOOD_WAIT_S (the first T calls)
  --drop-updates N     silently drop every Nth update push (clients see a gap to fill)
  --too-long-every N   push updatesTooLong instead of every Nth update
  --salt-seconds S     rotate server salts every S seconds (default 3600)
  --clock-skew S       run every DC's clock S seconds ahead (negative: behind)
  --drop-every N       close a connection after every N messages received
  --slow M:MS          answer method M only after MS milliseconds
  --file ID:SIZE[:DC]  a document of SIZE bytes generated from its ID (repeatable), on DC DC
                       (default: the files DC), which Bob sends Alice in a message "file ID"
  --photo ID:SIZE[:DC][:progressive]
                       the same for a photo: sizes s, m, x and y (y of SIZE bytes), each with
                       content of its own; with "progressive", y is a photoSizeProgressive
  --cdn-file ID        serve that generated file through the CDN DC (repeatable)
  --cdn                serve every generated file through the CDN DC
  --cdn-token-ttl S    CDN file tokens older than S seconds answer FILE_TOKEN_INVALID
  --file-ref-ttl S     file references older than S seconds answer FILE_REFERENCE_EXPIRED
  --file-flood N[:S]   more than N file requests in flight on one key: FLOOD_WAIT_S (S: 1)
  --file-latency MS    answer file requests MS milliseconds late
  --file-corrupt OFFSET
                       upload.getFile flips the byte at OFFSET of every file it serves, while
                       upload.getFileHashes hashes the true bytes (a server that stored others)
  --mtproxy SECRET[,SECRET...]
                       also run an MTProxy front on 127.0.0.1 that routes to these DCs by the
                       DC id its clients ask for, accepting these secrets (hex or base64: 16
                       bytes plain, dd + 16 bytes padded, ee + 16 bytes + domain fake TLS); one
                       {"mtproxy": {"link": "tg://proxy?..."}} line per secret follows the
                       server line
  --mtproxy-port P     the front's port (default: any free one)
  --websocket          also serve MTProto over WebSocket: each DC on ws://127.0.0.1:P/apiws
                       (subprotocol binary); one {"websocket": {"dc": N, "url": "ws://..."}}
                       line per DC follows the server line. A client's server object with
                       "websocket": URL reaches that DC through it
  --websocket-port P   the port of DC 1's WebSocket, DC n on P + n - 1 (default: any free ones)
  --scheme FILE        serve this .tl file's API layer instead of the shipped one (repeatable):
                       a client at another layer can only read objects of its own layer, so pass
                       its api.tl (Telegram's clients ship one, with a "// LAYER N" line)

The last three take VALUE@DC to apply to one DC only, and may be repeated:
  --clock-skew 3600@3 --drop-every 50@2
  -h, --help           show this help

Every flag may be given instead as an environment variable MTPROTO2JSON_EMULATOR_<FLAG>:
--port as MTPROTO2JSON_EMULATOR_PORT, --home-dc as MTPROTO2JSON_EMULATOR_HOME_DC, and so on
(repeatable flags comma-separated). A flag on the command line wins.
`;

/** I/O of the emulator command. */
export interface EmulatorCommandIo {
  write: (text: string) => void | Promise<void>;
  log: (line: string) => void;
  readTextFile: (path: string) => Promise<string>;
  writeSecretFile: (path: string, text: string) => Promise<void>;
  /** Resolves when the process should stop (Ctrl-C). */
  stopped: Promise<void>;
  /** Reads an environment variable (none when left out). */
  env?: (name: string) => string | undefined;
  /** Time and timers. */
  clock: Clock;
}

/** Runs the emulator until stopped; returns the exit status. */
export async function runEmulatorCommand(args: string[], io: EmulatorCommandIo): Promise<number> {
  const { values } = parseFlags(
    args,
    {
      port: { type: "string" },
      dcs: { type: "string" },
      key: { type: "string" },
      world: { type: "string" },
      "home-dc": { type: "string" },
      users: { type: "string" },
      "key-holders": { type: "boolean", default: false },
      "files-dc": { type: "string" },
      "flood-wait": { type: "string" },
      "drop-updates": { type: "string" },
      "too-long-every": { type: "string" },
      "salt-seconds": { type: "string", multiple: true },
      "clock-skew": { type: "string", multiple: true },
      "drop-every": { type: "string", multiple: true },
      slow: { type: "string" },
      scheme: { type: "string", multiple: true },
      file: { type: "string", multiple: true },
      photo: { type: "string", multiple: true },
      "cdn-file": { type: "string", multiple: true },
      cdn: { type: "boolean", default: false },
      "cdn-token-ttl": { type: "string" },
      "file-ref-ttl": { type: "string" },
      "file-flood": { type: "string" },
      "file-latency": { type: "string" },
      "file-corrupt": { type: "string" },
      mtproxy: { type: "string", multiple: true },
      "mtproxy-port": { type: "string" },
      websocket: { type: "boolean", default: false },
      "websocket-port": { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
    false,
    (name) => io.env?.(name.replace("MTPROTO2JSON_", "MTPROTO2JSON_EMULATOR_")),
  );
  if (values.help) {
    await io.write(EMULATOR_HELP);
    return 0;
  }
  const number = (name: string, text: string | undefined, min = 0) => {
    if (text === undefined) return undefined;
    const value = Number(text);
    if (!Number.isInteger(value) || value < min) {
      throw new UsageError(`--${name} needs a whole number ≥ ${min}, got "${text}"`);
    }
    return value;
  };
  const world: WorldOptions = values.world ? JSON.parse(await io.readTextFile(values.world)) : {};
  const users = number("users", values.users, 0);
  if (users !== undefined) {
    if (users > MAX_EXTRA_USERS) {
      throw new UsageError(`--users takes at most ${MAX_EXTRA_USERS}, got ${users}`);
    }
    world.users = users;
  }
  const homeDc = number("home-dc", values["home-dc"], 1);
  if (homeDc !== undefined) world.homeDc = homeDc;
  const filesDc = number("files-dc", values["files-dc"], 1);
  if (filesDc !== undefined) world.filesDc = filesDc;
  const dropUpdates = number("drop-updates", values["drop-updates"], 1);
  if (dropUpdates !== undefined) world.dropUpdatesEvery = dropUpdates;
  const tooLong = number("too-long-every", values["too-long-every"], 1);
  if (tooLong !== undefined) world.tooLongEvery = tooLong;
  if (values["flood-wait"]) {
    const [method, seconds, times] = values["flood-wait"].split(":");
    if (!method || !seconds) {
      throw new UsageError('--flood-wait takes METHOD:SECONDS[:TIMES], e.g. "help.getConfig:3"');
    }
    world.floodWait = {
      method,
      seconds: number("flood-wait", seconds)!,
      ...(times ? { times: number("flood-wait", times)! } : {}),
    };
  }
  applyFileFlags(world, values, number);
  // Each of these flags is VALUE for every DC, or VALUE@DC for one.
  const perDc: Record<number, DcSettings> = {};
  const all: DcSettings = {};
  const spread = (
    name: string,
    texts: string[] | undefined,
    apply: (settings: DcSettings, value: number) => void,
  ) => {
    for (const text of texts ?? []) {
      const [valueText, dcText] = text.split("@");
      const value = Number(valueText);
      if (!Number.isFinite(value)) {
        throw new UsageError(`--${name} needs a number (or NUMBER@DC), got "${text}"`);
      }
      if (dcText === undefined) {
        apply(all, value);
        continue;
      }
      const dc = number(name, dcText, 1)!;
      apply(perDc[dc] ??= {}, value);
    }
  };
  spread(
    "salt-seconds",
    values["salt-seconds"],
    (settings, value) => (settings.saltSeconds = Math.max(1, value)),
  );
  spread(
    "clock-skew",
    values["clock-skew"],
    (settings, value) => (settings.clockSkewSeconds = value),
  );
  spread(
    "drop-every",
    values["drop-every"],
    (settings, value) => (settings.faults = { dropEvery: Math.max(1, value) }),
  );
  if (values.slow) {
    const [method, ms] = values.slow.split(":");
    if (!method || !ms) {
      throw new UsageError('--slow takes METHOD:MILLISECONDS, e.g. "help.getConfig:3000"');
    }
    all.faults = { ...all.faults, slow: { method, ms: number("slow", ms)! } };
  }
  const mtproxySecrets = (values.mtproxy ?? []).flatMap((text) => text.split(","))
    .map((text) => text.trim()).filter((text) => text);
  for (const secret of mtproxySecrets) {
    try {
      parseFrontSecret(secret);
    } catch (error) {
      throw new UsageError(`--mtproxy: ${(error as Error).message}`);
    }
  }
  const mtproxyPort = number("mtproxy-port", values["mtproxy-port"]);
  const websocketPort = number("websocket-port", values["websocket-port"]);
  let emulator;
  try {
    emulator = await startEmulator({
      clock: io.clock,
      port: number("port", values.port) ?? 4430,
      dcs: number("dcs", values.dcs, 1) ?? 3,
      ...(values.key ? { rsaKey: await loadOrCreateKey(values.key, io) } : {}),
      world,
      ...all,
      perDc,
      ...(values.scheme ? { schema: await schemaFromFlags(values.scheme, io.readTextFile) } : {}),
      log: io.log,
      ...(values["key-holders"] ? { keyHolders: true } : {}),
      ...(mtproxySecrets.length
        ? {
          mtproxy: {
            secrets: mtproxySecrets,
            ...(mtproxyPort !== undefined ? { port: mtproxyPort } : {}),
          },
        }
        : {}),
      ...(values.websocket || websocketPort !== undefined
        ? { websocket: { port: websocketPort ?? 0 } }
        : {}),
    });
  } catch (error) {
    if (error instanceof KeyHoldersUnavailableError) {
      io.log(`mtproto2json: --key-holders: ${error.message}`);
      return 2;
    }
    if (!(error instanceof PortInUseError)) throw error;
    io.log(`mtproto2json: ${error.message} (another emulator? --port 0 picks free ports)`);
    return 2;
  }
  await io.write(JSON.stringify(emulator.serverLine()) + "\n");
  for (const link of emulator.mtproxy?.links ?? []) {
    await io.write(JSON.stringify({ mtproxy: { link } }) + "\n");
  }
  for (const { dc, url } of emulator.websocket?.endpoints ?? []) {
    await io.write(JSON.stringify({ websocket: { dc, url } }) + "\n");
  }
  const media = emulator.mediaDcs.map((dc) => dc.port).join(", ");
  const cdn = emulator.cdn ? `; CDN DC ${emulator.cdn.dcId} on 127.0.0.1:${emulator.cdn.port}` : "";
  io.log(
    `mtproto2json emulator (a test double of Telegram, not Telegram): ${
      emulator.dcs.map((dc) => `DC ${dc.id} on 127.0.0.1:${dc.port}`).join(", ")
    } (media-only: ${media})${cdn}; users +15550000001 and +15550000002 (2FA password ` +
      `"hunter2")${
        world.users ? `, +15551000001 to +${extraUserPhone(world.users)}` : ""
      }, login code 12345`,
  );
  await io.stopped;
  await emulator.close();
  if (emulator.holders) {
    // The last line of a run with --key-holders: what a test of several instances asserts on.
    io.log(
      `key holders: ${emulator.holders.overlaps.length} moment(s) when two processes held ` +
        `connections on one auth key`,
    );
  }
  return 0;
}

/** The file flags (`--file`, `--photo`, `--cdn*`, `--file-*`) as world options. */
function applyFileFlags(
  world: WorldOptions,
  values: {
    file?: string[];
    photo?: string[];
    "cdn-file"?: string[];
    cdn?: boolean;
    "cdn-token-ttl"?: string;
    "file-ref-ttl"?: string;
    "file-flood"?: string;
    "file-latency"?: string;
    "file-corrupt"?: string;
  },
  number: (name: string, text: string | undefined, min?: number) => number | undefined,
): void {
  const files = world.files ??= [];
  for (const [flag, kind] of [["file", "document"], ["photo", "photo"]] as const) {
    for (const text of values[flag] ?? []) {
      const fields = text.split(":");
      const progressive = kind === "photo" && fields.at(-1) === "progressive";
      if (progressive) fields.pop();
      const [id, size, dc, extra] = fields;
      if (!/^\d+$/.test(id ?? "") || !size || extra !== undefined) {
        throw new UsageError(
          flag === "photo"
            ? `--photo takes ID:SIZE[:DC][:progressive], e.g. "--photo 5002:400000:2:progressive"`
            : `--file takes ID:SIZE[:DC], e.g. "--file 5001:300000000:2"`,
        );
      }
      files.push({
        id,
        size: number(flag, size, 1)!,
        kind,
        ...(dc ? { dc: number(flag, dc, 1)! } : {}),
        ...(progressive ? { progressive } : {}),
      });
    }
  }
  for (const id of values["cdn-file"] ?? []) {
    const file = files.find((candidate) => String(candidate.id) === id);
    if (!file) throw new UsageError(`--cdn-file ${id}: no --file or --photo has that id`);
    file.cdn = true;
  }
  if (values.cdn) world.cdnAll = true;
  const seconds = (flag: string, text: string | undefined) => number(flag, text, 1);
  const cdnTtl = seconds("cdn-token-ttl", values["cdn-token-ttl"]);
  if (cdnTtl !== undefined) world.cdnTokenTtlSeconds = cdnTtl;
  const refTtl = seconds("file-ref-ttl", values["file-ref-ttl"]);
  if (refTtl !== undefined) world.fileRefTtlSeconds = refTtl;
  if (values["file-flood"]) {
    const [limit, wait] = values["file-flood"].split(":");
    world.fileFlood = number("file-flood", limit, 1)!;
    if (wait !== undefined) world.fileFloodSeconds = number("file-flood", wait, 1)!;
  }
  const latency = number("file-latency", values["file-latency"]);
  if (latency !== undefined) world.fileLatencyMs = latency;
  const corrupt = number("file-corrupt", values["file-corrupt"]);
  if (corrupt !== undefined) world.fileCorruptOffset = corrupt;
}

async function loadOrCreateKey(path: string, io: EmulatorCommandIo): Promise<RsaPrivateKey> {
  let pem: string | undefined;
  try {
    pem = await io.readTextFile(path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  if (pem !== undefined) return await parsePrivateKeyPem(pem);
  const created = await generateServerKey();
  await io.writeSecretFile(path, created.pem);
  io.log(`created a new emulator key in ${path}`);
  return created.key;
}

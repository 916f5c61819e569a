/**
 * The test bed of several `serve` instances on one PostgreSQL (issue #21): a throwaway server and
 * database, the emulator as a process of its own (one DC, `--key-holders`: its record of which
 * process drives each key reads /proc, which Deno grants only to `deno run -A`, not to the tests),
 * Bob signed in to send messages, and `serve --state postgres://` processes started on the
 * database and stopped at the end; with what the tests read: message texts, cursors, health, the
 * leases' owners, the emulator's record.
 *
 * @module
 */

import assert from "node:assert/strict";
import { extraUserPhone } from "../../lib/emulator/world_default.ts";
import { parsePublicKeyPem } from "../../lib/crypto/rsa.ts";
import { secureRandom } from "../../lib/crypto/random.ts";
import { Sender } from "../../lib/net/sender.ts";
import type { TlObject } from "../../lib/tl/codec.ts";
import { JsonClient } from "./json_client.ts";
import { startServeProcess, waitFor } from "./processes.ts";
import { testCodec as codec } from "./emulated_sender.ts";
import { rawCaller, signIn } from "./raw_calls.ts";
import { type Postgres, startPostgres } from "./postgres.ts";
import type { Line } from "./json_lines.ts";

const root = new URL("../../", import.meta.url).pathname;

/** The emulator's log line for a moment two processes held connections on one key. */
const DRIVEN_TWICE = /auth key \S+ driven by two processes at once: .*/g;

/** A `serve` process of the bed. */
export interface Instance {
  child: Deno.ChildProcess;
  port: number;
  stderr: () => string;
}

/** The running bed. */
export interface InstancesBed {
  pg: Postgres;
  /** The request line pointing a client at the emulator's DC 1. */
  serverLine: { server: Line };
  /** The database's URL and name. */
  url: string;
  database: string;
  /** Bob's raw calls on the emulator. */
  bob: (request: TlObject) => Promise<TlObject>;
  /** Bob sends each text to Alice, or to the `--users` account numbered `to`, in order. */
  send(texts: string[], to?: number): Promise<void>;
  /**
   * Starts `serve --state` on the bed's database (or `state`, or `--state-file stateFile`), with a
   * lease of `leaseSeconds`.
   */
  start(
    leaseSeconds: number,
    options?: { state?: string; stateFile?: string; extra?: string[] },
  ): Promise<Instance>;
  /** An instance's `{"health": {}}` report. */
  health(port: number): Promise<Line>;
  /** The owners of the live leases, each with how many it holds. */
  leaseOwners(): Promise<Map<string, number>>;
  /**
   * Stops the emulator and returns its record: each moment two processes held connections on one
   * auth key, as it logged them (its last line says how many; this checks they agree).
   */
  keysDrivenTwice(): Promise<string[]>;
  /** Asserts the emulator's record holds no such moment (stopping the emulator). */
  noKeyDrivenTwice(): Promise<void>;
  /** Stops every instance still running, the emulator and PostgreSQL. */
  close(): Promise<void>;
}

/** Starts the bed; `users` more accounts in the emulator (`--users`). */
export async function startInstancesBed(options: { users?: number } = {}): Promise<InstancesBed> {
  const pg = await startPostgres();
  const emulator = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      `${root}main.ts`,
      "emulator",
      "--port",
      "0",
      "--dcs",
      "1",
      "--home-dc",
      "1",
      "--key-holders",
      ...(options.users ? ["--users", String(options.users)] : []),
    ],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const log: string[] = [];
  const logged = (async () => {
    for await (const text of emulator.stderr.pipeThrough(new TextDecoderStream())) log.push(text);
  })();
  let emulatorStopped = false;
  const stopEmulator = async () => {
    if (!emulatorStopped) {
      emulatorStopped = true;
      emulator.kill("SIGTERM");
    }
    await emulator.status;
    await logged;
    return log.join("");
  };
  const children: Deno.ChildProcess[] = [];
  let sender: Sender | undefined;
  const close = async () => {
    for (const child of children) {
      try {
        child.kill("SIGTERM");
      } catch { /* gone */ }
      await child.status;
    }
    sender?.close();
    await stopEmulator();
    await emulator.stdout.cancel().catch(() => {});
    await pg.stop();
  };
  try {
    const serverLine = JSON.parse((await waitFor(emulator.stdout, /^.*\n/))[0]);
    const server = serverLine.server as Line;
    sender = new Sender({
      host: "127.0.0.1",
      port: server.port as number,
      dcId: 1,
      publicKeys: [parsePublicKeyPem(server.rsa as string)],
      transport: { kind: "intermediate" },
      codec,
      random: secureRandom,
      log: () => {},
      pingIntervalMs: 0,
    });
    const bob = rawCaller(sender, codec);
    await signIn(bob, "+15550000002", "hunter2");
    // Everyone is a contact in the emulator: Bob's list gives each phone's id and access hash.
    const contacts = await bob({ _cons: "contacts.getContacts", hash: 0 });
    const peers = new Map((contacts.users as TlObject[]).map((user) => [
      user.phone as string,
      { _cons: "inputPeerUser", user_id: user.id, access_hash: user.access_hash },
    ]));
    const url = await pg.createDatabase();
    const database = url.split("/").pop()!;
    let random = 1n;
    const keysDrivenTwice = async () => {
      const text = await stopEmulator();
      const moments = [...text.matchAll(DRIVEN_TWICE)].map((match) => match[0]);
      const counted = /key holders: (\d+) moment/.exec(text);
      assert.deepStrictEqual(counted?.[1], String(moments.length), text.slice(-2000));
      return moments;
    };
    return {
      pg,
      serverLine,
      url,
      database,
      bob,
      async send(texts, to) {
        const peer = peers.get(to === undefined ? "15550000001" : extraUserPhone(to))!;
        for (const message of texts) {
          const answer = await bob({
            _cons: "messages.sendMessage",
            peer,
            message,
            random_id: random++,
          });
          assert.deepStrictEqual(answer._cons, "updateShortSentMessage", JSON.stringify(answer));
        }
      },
      async start(leaseSeconds, { state = url, stateFile, extra = [] } = {}) {
        const serve = await startServeProcess(serverLine, [
          ...(stateFile ? ["--state-file", stateFile] : ["--state", state]),
          "--lease-seconds",
          String(leaseSeconds),
          ...extra,
        ]);
        children.push(serve.child);
        return serve;
      },
      async health(port) {
        const client = await JsonClient.connect(port);
        try {
          return (await client.request({ id: 1, health: {} }, 30_000)).health as Line;
        } finally {
          client.close();
        }
      },
      async leaseOwners() {
        const rows = (await pg.psql(
          database,
          "SELECT owner, count(*) FROM mtproto2json_leases WHERE expires_at > now() GROUP BY owner",
        )).trim().split("\n").filter((row) => row);
        return new Map(rows.map((row) => {
          const [owner, count] = row.split("|");
          return [owner, Number(count)];
        }));
      },
      keysDrivenTwice,
      async noKeyDrivenTwice() {
        assert.deepStrictEqual(await keysDrivenTwice(), []);
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

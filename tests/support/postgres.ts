/**
 * A real PostgreSQL for the store tests (issue #21): Debian's server (15), started on 127.0.0.1
 * only, on a free port, with a throwaway data directory (its unix socket in there too), trust
 * authentication for the `postgres` user, and `fsync` off (the data dies with the test). initdb
 * refuses to run as root, so under root the server is run as the `postgres` user. A test that
 * needs it fails, saying how to install it, when it is not installed: it never skips.
 *
 * @module
 */

import { freePort } from "./real_proxies.ts";

/** A running server and what tests do with it. */
export interface Postgres {
  /** 127.0.0.1 and the server's port. */
  host: string;
  port: number;
  /** A fresh, empty database; its URL (user `postgres`, no password). */
  createDatabase(): Promise<string>;
  /** Runs SQL in `database` with psql (as the `postgres` superuser); its output, unaligned. */
  psql(database: string, sql: string): Promise<string>;
  /** Pauses the whole server (SIGSTOP to every process of it): a partition, as clients see it. */
  pause(): Promise<void>;
  /** Lets a paused server go on (SIGCONT). */
  resume(): Promise<void>;
  /** Stops the server (fast shutdown) and removes its data directory. */
  stop(): Promise<void>;
}

const decoder = new TextDecoder();

/** The directory of Debian's PostgreSQL programs (the newest installed), or a clear error. */
export function postgresBin(): string {
  let versions: string[] = [];
  try {
    versions = [...Deno.readDirSync("/usr/lib/postgresql")].map((entry) => entry.name)
      .filter((name) => /^\d+$/.test(name)).sort((a, b) => Number(b) - Number(a));
  } catch { /* not installed */ }
  for (const version of versions) {
    const bin = `/usr/lib/postgresql/${version}/bin`;
    try {
      Deno.statSync(`${bin}/initdb`);
      return bin;
    } catch { /* a client-only install */ }
  }
  throw new Error(
    "PostgreSQL is not installed; the store tests run a real server: install it with " +
      '"apt-get install -y postgresql" as root (bash scripts/setup.sh does)',
  );
}

async function run(args: string[], what: string): Promise<string> {
  const out = await new Deno.Command(args[0], {
    args: args.slice(1),
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  if (!out.success) {
    throw new Error(`${what} failed (${out.code}): ${decoder.decode(out.stderr).trim()}`);
  }
  return decoder.decode(out.stdout);
}

/** Starts a throwaway server; stop it with {@link Postgres.stop}. */
export async function startPostgres(): Promise<Postgres> {
  const bin = postgresBin();
  // (`id`, not Deno.uid(): the tests run without --allow-sys.)
  const root = (await run(["id", "-u"], "id")).trim() === "0";
  // As root, the server's own user runs it (and owns its directory).
  const as = root ? ["runuser", "-u", "postgres", "--"] : [];
  const dir = await Deno.makeTempDir({ prefix: "mtproto2json-pg-" });
  if (root) {
    const ids = (await run(["id", "-u", "postgres"], "id")).trim();
    const gid = (await run(["id", "-g", "postgres"], "id")).trim();
    await Deno.chown(dir, Number(ids), Number(gid));
  }
  const data = `${dir}/data`;
  const port = freePort();
  let started = false;
  const stop = async () => {
    if (started) {
      started = false;
      await run([...as, `${bin}/pg_ctl`, "-D", data, "-m", "fast", "-w", "stop"], "pg_ctl stop")
        .catch(() => {});
    }
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  try {
    await run(
      [
        ...as,
        `${bin}/initdb`,
        "-D",
        data,
        "-A",
        "trust",
        "-U",
        "postgres",
        "-E",
        "UTF8",
        "--no-sync",
      ],
      "initdb",
    );
    const options = [
      "-c listen_addresses=127.0.0.1",
      `-p ${port}`,
      `-k ${dir}`,
      "-c fsync=off",
      "-c synchronous_commit=off",
      "-c full_page_writes=off",
      "-c max_connections=300",
    ].join(" ");
    await run(
      [...as, `${bin}/pg_ctl`, "-D", data, "-l", `${dir}/log`, "-o", options, "-w", "start"],
      "pg_ctl start",
    );
    started = true;
  } catch (error) {
    await stop();
    throw error;
  }
  let databases = 0;
  const psql = (database: string, sql: string) =>
    run(
      [
        `${bin}/psql`,
        "-X",
        "-q",
        "-A",
        "-t",
        "-h",
        "127.0.0.1",
        "-p",
        `${port}`,
        "-U",
        "postgres",
        "-d",
        database,
        "-v",
        "ON_ERROR_STOP=1",
        "-c",
        sql,
      ],
      "psql",
    );
  const signalAll = async (signal: "STOP" | "CONT") => {
    const pid = Number(
      decoder.decode(await Deno.readFile(`${data}/postmaster.pid`)).split("\n")[0],
    );
    const children = (await run(["pgrep", "-P", `${pid}`], "pgrep").catch(() => ""))
      .split("\n").filter(Boolean);
    await run(["kill", `-${signal}`, `${pid}`, ...children], "kill");
  };
  return {
    host: "127.0.0.1",
    port,
    createDatabase: async () => {
      const name = `test_${++databases}`;
      await psql("postgres", `CREATE DATABASE ${name}`);
      return `postgres://postgres@127.0.0.1:${port}/${name}`;
    },
    psql,
    pause: () => signalAll("STOP"),
    resume: () => signalAll("CONT"),
    stop,
  };
}

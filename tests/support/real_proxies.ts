/**
 * Real, independent proxies for the proxy tests (issue #19), started as processes on 127.0.0.1
 * only: Debian's `microsocks` (SOCKS5, `-u/-P` for RFC 1929 auth), Dante's `danted` (SOCKS5) and
 * `tinyproxy` (HTTP CONNECT, Basic auth, a temporary config allowing CONNECT only to the given
 * loopback ports). A test that needs one that is not installed fails saying how to install it. Each can be killed and started
 * again on the same port (a proxy that dies mid-session).
 *
 * @module
 */

import { until } from "./until.ts";

/** A proxy process and its URL. */
export interface RealProxy {
  /** Its URL, with the credentials it demands. */
  url: string;
  port: number;
  /** Kills it at once (SIGKILL); its connections drop. */
  kill(): Promise<void>;
  /** Starts it again on the same port, with the same settings; resolves once it accepts. */
  restart(): Promise<void>;
  /** Stops it and removes what it was given on disk. */
  close(): Promise<void>;
}

/** Credentials a proxy demands. */
export interface ProxyUser {
  username: string;
  password: string;
}

/**
 * The path of `program`, searched on PATH and in /usr/sbin (where Debian puts daemons, and which a
 * user's PATH may lack); throws, saying how to install it, when it is in neither.
 */
export async function requireProgram(program: string, aptPackage = program): Promise<string> {
  const found = await new Deno.Command("sh", {
    args: ["-c", `command -v ${program} || command -v /usr/sbin/${program}`],
    stdout: "piped",
    stderr: "null",
  }).output();
  const path = new TextDecoder().decode(found.stdout).trim().split("\n")[0];
  if (!found.success || !path) {
    throw new Error(
      `${program} is not installed; the proxy tests run the real one: install it with ` +
        `"apt-get install -y ${aptPackage}" as root (bash scripts/setup.sh does)`,
    );
  }
  return path;
}

/** A port nothing listens on now (the kernel's pick, released at once). */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** Runs `program args` until killed, restartable; ready once `port` accepts on 127.0.0.1. */
async function supervise(
  program: string,
  args: string[],
  port: number,
  url: string,
  cleanup: () => Promise<void> = () => Promise.resolve(),
): Promise<RealProxy> {
  let child: Deno.ChildProcess | undefined;
  const stderr: string[] = [];
  const start = async () => {
    child = new Deno.Command(program, { args, stdout: "null", stderr: "piped" }).spawn();
    (async () => {
      for await (const text of child.stderr.pipeThrough(new TextDecoderStream())) {
        stderr.push(text);
      }
    })().catch(() => {});
    const running = child;
    let exited = false;
    running.status.then(() => (exited = true));
    await until(
      async () => {
        if (exited) throw new Error(`${program} exited at start: ${stderr.join("")}`);
        try {
          (await Deno.connect({ hostname: "127.0.0.1", port })).close();
          return true;
        } catch {
          return false;
        }
      },
      10_000,
      `${program} to listen on 127.0.0.1:${port}`,
    );
  };
  const kill = async () => {
    if (!child) return;
    try {
      child.kill("SIGKILL");
    } catch {
      // exited already
    }
    await child.status;
    child = undefined;
  };
  await start();
  return {
    url,
    port,
    kill,
    restart: start,
    async close() {
      await kill();
      await cleanup();
    },
  };
}

/** `microsocks` on 127.0.0.1, demanding `user` when given. */
export async function startMicrosocks(user?: ProxyUser): Promise<RealProxy> {
  const program = await requireProgram("microsocks");
  const port = freePort();
  const credentials = user ? ["-u", user.username, "-P", user.password] : [];
  const userInfo = user
    ? `${encodeURIComponent(user.username)}:${encodeURIComponent(user.password)}@`
    : "";
  return await supervise(
    program,
    ["-i", "127.0.0.1", "-p", String(port), ...credentials],
    port,
    `socks5://${userInfo}127.0.0.1:${port}`,
  );
}

/**
 * Dante's `danted` (a second, independent SOCKS5 server) in the foreground on 127.0.0.1, without
 * authentication (Dante's user/password method checks the system's accounts), relaying only to
 * 127.0.0.0/8. Unlike microsocks (1 KiB reads and writes, Nagle on: seen with strace), it sets
 * TCP_NODELAY and relays up to 64 KiB a write, so what it adds to a hop is the hop's own cost.
 */
export async function startDante(): Promise<RealProxy> {
  const program = await requireProgram("danted", "dante-server");
  const port = freePort();
  const dir = await Deno.makeTempDir({ prefix: "danted_" });
  const config = [
    "logoutput: stderr",
    `internal: 127.0.0.1 port = ${port}`,
    "external: 127.0.0.1",
    "socksmethod: none",
    "clientmethod: none",
    "user.unprivileged: nobody",
    "client pass { from: 127.0.0.0/8 to: 127.0.0.0/8 }",
    "socks pass { from: 127.0.0.0/8 to: 127.0.0.0/8 }",
  ];
  await Deno.writeTextFile(`${dir}/danted.conf`, config.join("\n") + "\n");
  return await supervise(
    program,
    ["-f", `${dir}/danted.conf`, "-N", "1"],
    port,
    `socks5://127.0.0.1:${port}`,
    () => Deno.remove(dir, { recursive: true }),
  );
}

/**
 * `tinyproxy` in the foreground on 127.0.0.1, allowing clients from 127.0.0.1 only and CONNECT
 * only to `connectPorts`, demanding `user` (Basic) when given.
 */
export async function startTinyproxy(
  connectPorts: number[],
  user?: ProxyUser,
): Promise<RealProxy> {
  const program = await requireProgram("tinyproxy");
  const port = freePort();
  const dir = await Deno.makeTempDir({ prefix: "tinyproxy_" });
  const config = [
    `Port ${port}`,
    "Listen 127.0.0.1",
    "Allow 127.0.0.1",
    ...connectPorts.map((connectPort) => `ConnectPort ${connectPort}`),
    "DisableViaHeader Yes",
    "LogLevel Error",
    "MaxClients 200",
    "Timeout 600",
    ...(user ? [`BasicAuth ${user.username} ${user.password}`] : []),
  ];
  await Deno.writeTextFile(`${dir}/tinyproxy.conf`, config.join("\n") + "\n");
  const userInfo = user
    ? `${encodeURIComponent(user.username)}:${encodeURIComponent(user.password)}@`
    : "";
  return await supervise(
    program,
    ["-d", "-c", `${dir}/tinyproxy.conf`],
    port,
    `http://${userInfo}127.0.0.1:${port}`,
    () => Deno.remove(dir, { recursive: true }),
  );
}

/**
 * The remote ports of the TCP connections process `pid` has open, leaving out those to or from
 * its own `listening` ports: with a proxy, only the proxy's port should be there.
 */
export async function remotePortsOf(pid: number, listening: number[] = []): Promise<number[]> {
  const output = await new Deno.Command("ss", {
    args: ["-tnpH", "state", "established"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!output.success) {
    throw new Error(`ss failed: ${new TextDecoder().decode(output.stderr)}`);
  }
  const ports: number[] = [];
  for (const line of new TextDecoder().decode(output.stdout).split("\n")) {
    if (!line.includes(`pid=${pid},`)) continue;
    // Recv-Q Send-Q Local:Port Peer:Port Process
    const [, , local, peer] = line.trim().split(/\s+/);
    const localPort = Number(local.slice(local.lastIndexOf(":") + 1));
    if (listening.includes(localPort)) continue;
    ports.push(Number(peer.slice(peer.lastIndexOf(":") + 1)));
  }
  return ports;
}

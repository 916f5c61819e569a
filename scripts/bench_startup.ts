/**
 * The start-up part of `deno task bench`: how long `serve` takes from its process start until its
 * port accepts a connection, and until a first call through it is answered, from the source
 * (`deno run main.ts`), from the bundle (scripts/build_bundle.ts: `deno task bundle`'s folder, run
 * as the npm package runs it) and, when MTPROTO2JSON_BENCH_COMPILED names one, from the executable
 * `deno task compile` makes (compiling needs Deno's runtime download, so it is built beforehand
 * where that is reachable). Alone: `deno run -A scripts/bench_startup.ts`.
 *
 * @module
 */

import { JsonClient } from "../tests/support/json_client.ts";
import { waitFor } from "../tests/support/processes.ts";
import { buildBundle, BUNDLE_RUN_FLAGS } from "./build_bundle.ts";

type Report = (label: string, value: string, target?: string) => void;

/** The tree whose main.ts is started (another checkout's, to compare: MTPROTO2JSON_BENCH_ROOT). */
const root = Deno.env.get("MTPROTO2JSON_BENCH_ROOT") ?? new URL("../", import.meta.url).pathname;

/** A port nobody listens on now: the kernel's pick, released. */
function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/**
 * CPU time a process has used so far, in ms: on a loaded machine the wall time until a port
 * accepts moves with the neighbours; this moves much less. Linux: the nanoseconds each of its
 * threads has run (schedstat), else utime + stime in 10 ms ticks, too coarse to see a few ms.
 */
function cpuMs(pid: number): number {
  // Read by `cat`: Deno grants /proc only to -A, which `deno task bench` does not give.
  const read = (path: string) => {
    const { success, stdout } = new Deno.Command("sh", { args: ["-c", `cat ${path}`] })
      .outputSync();
    return success ? new TextDecoder().decode(stdout) : "";
  };
  const ns = read(`/proc/${pid}/task/*/schedstat`).split("\n").filter((line) => line)
    .reduce((sum, line) => sum + Number(line.split(" ")[0]), 0);
  if (ns > 0) return ns / 1e6;
  const stat = read(`/proc/${pid}/stat`);
  if (!stat) return NaN;
  const fields = stat.split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** Tries to connect every millisecond until `port` accepts; resolves with the time it did. */
async function untilAccepts(port: number, child: Deno.ChildProcess, deadline: number) {
  let ended = false;
  child.status.then(() => ended = true);
  while (performance.now() < deadline && !ended) {
    try {
      const connection = await Deno.connect({ hostname: "127.0.0.1", port });
      const at = performance.now();
      connection.close();
      return at;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  }
  throw new Error(`serve did not accept on ${port}`);
}

/**
 * Starts `serve` `runs` times with `command` (the program, then its arguments before serve's) and
 * returns the median ms from the spawn until the port accepts, and until a first
 * help.getNearestDc through it is answered.
 */
export async function serveStartup(
  command: string[],
  serverLine: string,
  runs = 10,
): Promise<{ accepts: number; answers: number; cpu: number }> {
  const accepts: number[] = [], answers: number[] = [], cpu: number[] = [];
  for (let run = 0; run < runs; run++) {
    const port = freePort();
    const start = performance.now();
    const child = new Deno.Command(command[0], {
      args: [
        ...command.slice(1),
        "serve",
        "--port",
        String(port),
        "--api-id",
        "12345",
        "--transport",
        "intermediate",
        "--server",
        serverLine,
      ],
      stdout: "null",
      stderr: "null",
    }).spawn();
    try {
      accepts.push(await untilAccepts(port, child, start + 10_000) - start);
      cpu.push(cpuMs(child.pid));
      const client = await JsonClient.connect(port);
      await client.request({ id: 1, message: { _cons: "help.getNearestDc" } }, 10_000);
      answers.push(performance.now() - start);
      client.close();
    } finally {
      // A serve that failed to start has ended already; its status says so below.
      try {
        child.kill("SIGTERM");
      } catch {
        // already ended
      }
      await child.status;
    }
  }
  const median = (values: number[]) => values.sort((a, b) => a - b)[values.length >> 1];
  return { accepts: median(accepts), answers: median(answers), cpu: median(cpu) };
}

/** Runs the start-up benchmarks (source and bundle) and reports each figure. */
export async function benchStartup(report: Report): Promise<void> {
  console.log("\nStart-up of serve (median of 10 process starts)");
  const emulator = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${root}main.ts`, "emulator", "--port", "0"],
    stdout: "piped",
    stderr: "null",
  }).spawn();
  try {
    const line = (await waitFor(emulator.stdout, /^.*\n/))[0].trim();
    const bundleDir = await Deno.makeTempDir();
    try {
      const deno = Deno.execPath();
      const variants: [string, string[]][] = [["source", [deno, "run", "-A", `${root}main.ts`]]];
      try {
        const main = await buildBundle(`${bundleDir}/mtproto2json`, root);
        variants.push(["bundle", [deno, "run", "-A", ...BUNDLE_RUN_FLAGS, main]]);
      } catch (error) {
        console.log(`  (no bundle: ${(error as Error).message})`);
      }
      const compiled = Deno.env.get("MTPROTO2JSON_BENCH_COMPILED");
      if (compiled) variants.push(["executable", [compiled]]);
      for (const [name, args] of variants) {
        const { accepts, answers, cpu } = await serveStartup(args, line);
        report(
          `  serve from the ${name}: accepts / first call answered`,
          `${accepts.toFixed(0)} / ${answers.toFixed(0)} ms`,
          "accepts: target ≤ 100 ms",
        );
        report(`    its CPU time until it accepts`, `${cpu.toFixed(0)} ms`);
      }
    } finally {
      await Deno.remove(bundleDir, { recursive: true });
    }
  } finally {
    emulator.kill("SIGTERM");
    await emulator.status;
  }
}

if (import.meta.main) {
  Deno.env.set("DENO_NO_UPDATE_CHECK", "1");
  await benchStartup((label, value, target = "") =>
    console.log(`${label.padEnd(58)} ${value.padStart(14)}  ${target}`)
  );
}

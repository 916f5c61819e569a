/**
 * The files part of `deno task bench` (issue #18): a 1 GiB emulator file downloaded to a file and
 * a 1 GiB file uploaded from a path, through a `serve --files DIR` process, side by side in the
 * same run with mtcute 0.30's `downloadToFile` / `uploadFile` (scripts/bench_files_mtcute.js, a
 * process of its own) on the same emulator process and the same schema (mtcute's layer, given to
 * both the emulator and serve with `--scheme`). Printed for each: MB/s, ours / mtcute, each
 * process's CPU seconds (utime + stime from /proc), the emulator's CPU share of one core (it is
 * single-threaded: its share bounds what it could serve), minor page faults per MiB of each (fresh
 * buffers' first writes, unchanged by other load), and peak RSS (VmHWM of a fresh process).
 * Everything talks to 127.0.0.1 only.
 *
 * Switches (environment):
 * - `MTPROTO2JSON_BENCH_FILES_MB=N`: the file size in MiB (default 1024; e.g. 100 for a quick run).
 * - `MTPROTO2JSON_BENCH_FILES_TUNE=ROUNDS`: also try window settings through serve (connections
 *   per DC × parts per connection, download and upload), ROUNDS times each, and print them all.
 * - `MTPROTO2JSON_BENCH_FILES_TRIALS="download:2x3,4x2;upload:8x1"`: only those trials (ROUNDS
 *   from `TUNE`, default 1), without the side-by-side run.
 * - `MTPROTO2JSON_BENCH_FILES_DIR=DIR`: where the files go (default: the system's temporary
 *   directory; /dev/shm keeps the disk out of the figures).
 * - `MTPROTO2JSON_BENCH_FILES_PROFILE=DIR`: run the emulator and serve with `--cpu-prof` into
 *   DIR/emulator, DIR/serve-download and DIR/serve-upload, and print where each spent its CPU in
 *   each transfer (shares by kind of work — AES-IGE, gzip, SHA-256, TL, I/O… — and the functions
 *   with the most self time; the emulator's one profile is cut by the transfers' times).
 * - `MTPROTO2JSON_BENCH_FILES_MTCUTE=0`: leave mtcute out (it needs the npm registry once).
 * - `MTPROTO2JSON_BENCH_FILES_EMULATOR="--file-latency 50"`: more flags for the emulator (there,
 *   a round trip of 50 ms for every file request, as a real network has).
 *
 * Figures are only as good as the machine is idle: the CPU that other processes used during each
 * transfer is printed beside it. On loopback both clients are CPU-bound and the window hardly
 * matters; window settings are told apart with a round trip (`EMULATOR="--file-latency 100"`).
 *
 * Standalone: `deno run -A scripts/bench_files.ts` runs this part alone. With mtcute, it runs itself
 * in a network namespace with loopback only (`deno task bench` runs it so too).
 *
 * @module
 */

import { createHash } from "node:crypto";
import { generatedFileBytes, generatedFileSha256 } from "../lib/emulator/files/generated_bytes.ts";
import { JsonClient } from "../tests/support/json_client.ts";
import { BENCH_PERMISSIONS, onlyLoopback, runIsolated } from "./loopback_only.ts";
import { signInAlice, waitFor } from "../tests/support/processes.ts";

type Report = (label: string, value: string, target?: string) => void;

const root = new URL("../", import.meta.url).pathname;
const MiB = 1 << 20;
/** The emulator file downloaded (its bytes come from this id) and the seed of the uploaded one. */
const FILE_ID = 7_700_001;
const UPLOAD_SEED = 77n;

const env = (name: string) => Deno.env.get(`MTPROTO2JSON_BENCH_FILES_${name}`);

/** A window setting tried: connections per DC × parts in flight per connection. */
interface Setting {
  connections: number;
  perConnection: number;
}

/**
 * The settings tried with `MTPROTO2JSON_BENCH_FILES_TUNE` (the defaults in transfer_window.ts come
 * from these: downloads 2 × 4, uploads 8 × 1; 2 × 2 is the old download default under its cap).
 */
const DOWNLOAD_TRIALS: Setting[] = [
  { connections: 2, perConnection: 2 },
  { connections: 2, perConnection: 3 },
  { connections: 2, perConnection: 4 },
  { connections: 4, perConnection: 2 },
  { connections: 8, perConnection: 1 },
  { connections: 4, perConnection: 4 },
];
const UPLOAD_TRIALS: Setting[] = [
  { connections: 4, perConnection: 1 },
  { connections: 8, perConnection: 1 },
  { connections: 4, perConnection: 2 },
  { connections: 8, perConnection: 2 },
];

/**
 * CPU time a process has used, in seconds (utime + stime of all its threads, in 10 ms ticks; read
 * with `cat`, since Deno lets only --allow-all read /proc), and its minor page faults so far:
 * faults count the pages of fresh buffers first written, which other load does not change.
 */
async function processCounters(pid: number): Promise<{ cpu: number; faults: number }> {
  const { stdout } = await new Deno.Command("cat", { args: [`/proc/${pid}/stat`] }).output();
  const fields = new TextDecoder().decode(stdout).split(") ")[1]?.split(" ") ?? [];
  return { cpu: (Number(fields[11]) + Number(fields[12])) / 100, faults: Number(fields[7]) };
}

/** Peak resident memory of a process so far (VmHWM), in MB. */
async function peakRssMb(pid: number): Promise<number> {
  const { stdout } = await new Deno.Command("cat", { args: [`/proc/${pid}/status`] }).output();
  return Number(/VmHWM:\s+(\d+) kB/.exec(new TextDecoder().decode(stdout))?.[1] ?? 0) / 1024;
}

/** CPU time the whole machine has used (every core, every process), in seconds. */
async function machineCpuSeconds(): Promise<number> {
  const { stdout } = await new Deno.Command("cat", { args: ["/proc/stat"] }).output();
  const fields = new TextDecoder().decode(stdout).split("\n")[0].trim().split(/\s+/).slice(1);
  // user nice system idle iowait irq softirq steal: everything but idle and iowait.
  return fields.slice(0, 8).reduce((sum, value, i) => i === 3 || i === 4 ? sum : sum + +value, 0) /
    100;
}

/**
 * What one transfer took: wall time, CPU seconds of the client and of the emulator, and of every
 * other process on the machine (other work on a shared machine slows the figures: it is printed).
 */
interface Transfer {
  ms: number;
  clientCpu: number;
  emulatorCpu: number;
  othersCpu: number;
  /** Minor page faults of the client and of the emulator during the transfer. */
  clientFaults: number;
  emulatorFaults: number;
}

/** Times `run`, reading the CPU time of `client`, `emulator` and the machine around it. */
async function timed(client: number, emulator: number, run: () => Promise<void>) {
  const read = () =>
    Promise.all([processCounters(client), processCounters(emulator), machineCpuSeconds()]);
  const [client0, emulator0, machine0] = await read();
  const start = performance.now();
  await run();
  const ms = performance.now() - start;
  const [client1, emulator1, machine1] = await read();
  const clientCpu = client1.cpu - client0.cpu, emulatorCpu = emulator1.cpu - emulator0.cpu;
  const othersCpu = Math.max(0, machine1 - machine0 - clientCpu - emulatorCpu);
  return {
    ms,
    clientCpu,
    emulatorCpu,
    othersCpu,
    clientFaults: client1.faults - client0.faults,
    emulatorFaults: emulator1.faults - emulator0.faults,
  };
}

/** `deno run -A [extra] main.ts args`, its stdout piped, stderr piped or discarded. */
function spawnMain(args: string[], denoFlags: string[] = [], stderr = false): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", ...denoFlags, `${root}main.ts`, ...args],
    stdin: "null",
    stdout: "piped",
    stderr: stderr ? "piped" : "null",
  }).spawn();
}

/** Ends a process with SIGTERM (a profiled one writes its profile then) and waits for it. */
async function stop(child: Deno.ChildProcess) {
  try {
    child.kill("SIGTERM");
  } catch { /* already gone */ }
  await child.status;
}

/** Writes `size` generated bytes to `path`. */
async function writeGenerated(path: string, seed: bigint, size: number): Promise<void> {
  using file = await Deno.open(path, { write: true, create: true, truncate: true });
  for (let at = 0; at < size; at += 8 * MiB) {
    const bytes = generatedFileBytes(seed, at, Math.min(8 * MiB, size - at));
    for (let written = 0; written < bytes.length;) {
      written += await file.write(bytes.subarray(written));
    }
  }
}

async function sha256Of(path: string): Promise<string> {
  const hash = createHash("sha256");
  using file = await Deno.open(path);
  for await (const chunk of file.readable) hash.update(chunk);
  return hash.digest("hex");
}

/**
 * A copy of lib/client/transfer_window.ts whose window defaults are `download` and `upload`, and
 * the import map that puts it in the real one's place: serve run with it tries a setting without
 * a change to lib/.
 */
async function windowImportMap(dir: string, download?: Setting, upload?: Setting) {
  const original = new URL("../lib/client/transfer_window.ts", import.meta.url);
  const text = (await Deno.readTextFile(original)).replaceAll(
    /from "\.\.\//g,
    `from "${new URL("../lib/", import.meta.url).href}`,
  );
  // Parts in flight are bounded by parts, not bytes, here: maxBytes follows maxParts.
  const override = (name: string, setting: Setting | undefined, partBytes: number) => {
    if (!setting) return "";
    const parts = setting.connections * setting.perConnection;
    return `Object.assign(${name}, ${
      JSON.stringify({ ...setting, maxParts: parts, maxBytes: parts * partBytes })
    });\n`;
  };
  const name =
    `window-${download?.connections}x${download?.perConnection}-${upload?.connections}x${upload?.perConnection}`;
  const copy = `${dir}/${name}.ts`;
  await Deno.writeTextFile(
    copy,
    text + override("DOWNLOAD_WINDOW", download, MiB) + override("UPLOAD_WINDOW", upload, MiB / 2),
  );
  const map = `${dir}/${name}.json`;
  await Deno.writeTextFile(
    map,
    JSON.stringify({ imports: { [original.href]: new URL(`file://${copy}`).href } }),
  );
  return ["--import-map", map];
}

/** One emulator process for the whole run, with the file to download. */
interface Emulator {
  child: Deno.ChildProcess;
  line: { server: { host: string; port: number; dc: number; rsa: string } };
}

/** A serve process signed in as Alice, with the media of the message that holds the file. */
class ServeSide {
  private constructor(
    readonly child: Deno.ChildProcess,
    readonly json: JsonClient,
    readonly media: unknown,
  ) {}

  static async start(
    emulator: Emulator,
    dir: string,
    scheme: string | undefined,
    denoFlags: string[],
  ): Promise<ServeSide> {
    const child = spawnMain(
      [
        "serve",
        "--port",
        "0",
        "--api-id",
        "12345",
        "--transport",
        "intermediate",
        "--files",
        dir,
        ...(scheme ? ["--scheme", scheme] : []),
        "--server",
        JSON.stringify(emulator.line),
      ],
      denoFlags,
      true,
    );
    const port = Number((await waitFor(child.stderr!, /listening on [\d.]+:(\d+)/))[1]);
    const json = await JsonClient.connect(port);
    await json.request({ id: 1, options: { longs_as_strings: true } });
    await signInAlice(json);
    const resolved = await json.request({
      id: 2,
      message: { _cons: "contacts.resolveUsername", username: "bob_example" },
    });
    const bob = ((resolved.message as Record<string, unknown>).users as Record<string, unknown>[])
      .find((user) => String(user.id) === "1000002")!;
    const history = await json.request({
      id: 3,
      message: {
        _cons: "messages.getHistory",
        peer: { _cons: "inputPeerUser", user_id: 1000002, access_hash: bob.access_hash },
        offset_id: 0,
        offset_date: 0,
        add_offset: 0,
        limit: 100,
        max_id: 0,
        min_id: 0,
        hash: 0,
      },
    });
    const message = ((history.message as Record<string, unknown>).messages as Record<
      string,
      unknown
    >[]).find((candidate) => candidate.message === `file ${FILE_ID}`);
    if (!message?.media) throw new Error(`serve: no message "file ${FILE_ID}" in the history`);
    return new ServeSide(child, json, message.media);
  }

  #id = 100;

  /** The final line of a request, past progress and chunk lines; an error line throws. */
  async #answer(id: number): Promise<Record<string, unknown>> {
    const line = await this.json.next(
      (candidate) =>
        candidate.id === id && candidate.progress === undefined && candidate.chunk === undefined,
      3_600_000,
    );
    if (line.error) throw new Error(`serve answered ${JSON.stringify(line)}`);
    return line;
  }

  async download(to: string): Promise<Record<string, unknown>> {
    const id = this.#id++;
    await this.json.send({ id, download: { media: this.media, to, progress: 0 } });
    return (await this.#answer(id)).download as Record<string, unknown>;
  }

  async upload(path: string): Promise<Record<string, unknown>> {
    const id = this.#id++;
    await this.json.send({ id, upload: { path } });
    return (await this.#answer(id)).upload as Record<string, unknown>;
  }

  async close() {
    this.json.close();
    await stop(this.child);
  }
}

/** mtcute in a process of its own (scripts/bench_files_mtcute.js), driven by lines. */
class MtcuteSide {
  readonly #lines: ReadableStreamDefaultReader<string>;
  #rest = "";

  private constructor(readonly child: Deno.ChildProcess) {
    this.#lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  }

  static helper(args: string[], stdin: "piped" | "null"): Deno.ChildProcess {
    return new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-lock", "-A", `${root}scripts/bench_files_mtcute.js`, ...args],
      stdin,
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
  }

  static async start(emulator: Emulator): Promise<MtcuteSide> {
    const { port, dc, rsa } = emulator.line.server;
    const side = new MtcuteSide(
      MtcuteSide.helper(["client", JSON.stringify({ port, dc, rsa, fileId: FILE_ID })], "piped"),
    );
    const ready = await side.#next();
    if (!ready.ready) throw new Error(`mtcute: ${JSON.stringify(ready)}`);
    return side;
  }

  async #next(): Promise<Record<string, unknown>> {
    for (;;) {
      const end = this.#rest.indexOf("\n");
      if (end >= 0) {
        const line = this.#rest.slice(0, end);
        this.#rest = this.#rest.slice(end + 1);
        if (line.startsWith("{")) return JSON.parse(line);
        continue;
      }
      const { value, done } = await this.#lines.read();
      if (done) throw new Error("mtcute's process ended");
      this.#rest += value;
    }
  }

  async command(value: unknown): Promise<Record<string, unknown>> {
    const writer = this.child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(JSON.stringify(value) + "\n"));
    writer.releaseLock();
    const answer = await this.#next();
    if (answer.error) throw new Error(`mtcute: ${answer.error}`);
    return answer;
  }

  async close() {
    await this.command({ quit: true }).catch(() => {});
    await this.child.status;
  }
}

const rate = (bytes: number, transfer: Transfer) => bytes / 1e6 / (transfer.ms / 1000);
const fixed = (value: number, digits = 1) => value.toFixed(digits);
/** The emulator's CPU share of one core during a transfer. */
const share = (transfer: Transfer) => transfer.emulatorCpu / (transfer.ms / 1000);

/** One trial of a window setting: a fresh serve, one transfer. */
async function trial(
  kind: "download" | "upload",
  setting: Setting,
  context: { emulator: Emulator; dir: string; scheme?: string; size: number },
): Promise<{ transfer: Transfer; peak: number }> {
  const flags = await windowImportMap(
    context.dir,
    kind === "download" ? setting : undefined,
    kind === "upload" ? setting : undefined,
  );
  const serve = await ServeSide.start(context.emulator, context.dir, context.scheme, flags);
  try {
    const transfer = await timed(serve.child.pid, context.emulator.child.pid, async () => {
      if (kind === "download") await serve.download("trial.bin");
      else await serve.upload("upload.bin");
    });
    return { transfer, peak: await peakRssMb(serve.child.pid) };
  } finally {
    await serve.close();
    await Deno.remove(`${context.dir}/trial.bin`).catch(() => {});
  }
}

/** A frame of a profile's stack. */
export interface Frame {
  functionName: string;
  url: string;
  lineNumber: number;
}

const isHash = (frame: Frame) =>
  /crypto\/hash\.(ts|js)$/.test(frame.url) || frame.functionName.startsWith("op_node_hash");

/**
 * The kind of work of one sample, from its stack (leaf first): gzip anywhere in it; else the
 * first frame in a file that tells (a native op such as op_write is told by the JavaScript that
 * called it: a file's write or a socket's); a hash by the code that asked for it.
 */
function kindOfWork(stack: Frame[]): string {
  const leaf = stack[0].functionName;
  if (leaf === "(idle)") return "idle";
  if (leaf === "(garbage collector)") return "garbage collection";
  if (stack.some((frame) => frame.functionName === "packGzip")) return "gzip of outgoing messages";
  for (const [i, frame] of stack.entries()) {
    const { functionName: name, url } = frame;
    if (/crypto\/(ige|aes|aes_rounds)\.ts$/.test(url)) return "AES-IGE (message encryption)";
    if (/crypto\/ctr\.ts$|transport\/obfuscated\.ts$/.test(url)) {
      return "AES-CTR (obfuscated transport, CDN)";
    }
    if (isHash(frame)) {
      const caller = stack.slice(i).find((above) => !isHash(above));
      if (caller?.functionName === "messageKey") return "SHA-256 of messages (msg_key)";
      if (caller && /proxy\/file_requests\.ts$/.test(caller.url)) {
        return "SHA-256 of the file (the download's sha256)";
      }
      return "SHA-256 / SHA-1, other";
    }
    if (/base64/i.test(name)) return "base64";
    if (/^(parse|stringify)$/.test(name) && url === "" || /tl\/json\.ts$/.test(url)) return "JSON";
    if (/30_fs\.js$|12_io\.js$/.test(url) || name.startsWith("op_fs_")) {
      return "file reads and writes";
    }
    if (/01_net\.js$/.test(url)) return "socket reads and writes";
    if (/\/tl\/|\/transport\//.test(url)) return "TL encoding and decoding, framing, copies";
    if (/generated_bytes\.ts$/.test(url)) return "file generation (emulator)";
  }
  return "other";
}

export interface CpuProfile {
  nodes: {
    id: number;
    callFrame: Frame;
    children?: number[];
  }[];
  samples: number[];
  timeDeltas: number[];
}

/**
 * What a V8 .cpuprofile spent between `from` and `to` seconds after it started (all of it when
 * left out): shares by kind of work (see {@link kindOfWork}) and the functions with the most self
 * time.
 */
export function profileSummary(profile: CpuProfile, from = 0, to = Infinity, top = 10): string[] {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) {
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const kinds = new Map<number, string>();
  const category = (id: number): string => {
    let kind = kinds.get(id);
    if (kind === undefined) {
      const stack: Frame[] = [];
      for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
        stack.push(byId.get(at)!.callFrame);
      }
      kinds.set(id, kind = kindOfWork(stack));
    }
    return kind;
  };
  const self = new Map<string, number>(), shares = new Map<string, number>();
  let time = 0, total = 0;
  profile.samples.forEach((id, i) => {
    const delta = Math.max(0, profile.timeDeltas[i] ?? 0);
    time += delta;
    if (time < from * 1e6 || time > to * 1e6) return;
    total += delta;
    const frame = byId.get(id)!.callFrame;
    const file = frame.url.replace(/^.*\/(lib|ext|node)\//, "$1/");
    const name = `${frame.functionName || "(anonymous)"} ${file}${
      frame.url ? `:${frame.lineNumber + 1}` : ""
    }`;
    self.set(name, (self.get(name) ?? 0) + delta);
    const kind = category(id);
    shares.set(kind, (shares.get(kind) ?? 0) + delta);
  });
  const percent = (us: number) => `${(100 * us / total).toFixed(1).padStart(5)}%`;
  return [
    `${(total / 1e6).toFixed(1)} s sampled; by kind of work:`,
    ...[...shares].sort((a, b) => b[1] - a[1]).map(([kind, us]) => `  ${percent(us)}  ${kind}`),
    "functions with the most self time:",
    ...[...self].sort((a, b) => b[1] - a[1]).slice(0, top).map(([name, us]) =>
      `  ${percent(us)}  ${name}`
    ),
  ];
}

/** The .cpuprofile a process wrote into `dir`. */
function readProfile(dir: string): CpuProfile | undefined {
  for (const entry of Deno.readDirSync(dir)) {
    if (entry.name.endsWith(".cpuprofile")) {
      return JSON.parse(Deno.readTextFileSync(`${dir}/${entry.name}`));
    }
  }
  return undefined;
}

/** What a run shares: the emulator, the directory, the schema, the size. */
interface RunContext {
  emulator: Emulator;
  dir: string;
  scheme?: string;
  size: number;
}

/** A phase of the run, in seconds since the emulator was started (to slice its profile). */
interface Phase {
  name: string;
  from: number;
  to: number;
}

/**
 * Ours and mtcute's, one after the other on the same emulator: download, then upload. Serve is
 * a fresh process for each (its VmHWM is then that transfer's peak; profiled, each its own).
 */
async function sideBySide(
  context: RunContext,
  report: Report,
  label: string,
  profiled: (name: string) => string[],
  since: (at: number) => number,
): Promise<Phase[]> {
  const { emulator, dir, scheme, size } = context;
  const phases: Phase[] = [];
  const phase = async <T>(name: string, run: () => Promise<T>): Promise<T> => {
    const from = since(performance.now());
    const result = await run();
    phases.push({ name, from, to: since(performance.now()) });
    return result;
  };
  const expected = generatedFileSha256(BigInt(FILE_ID), size).toHex();
  const parts = Math.ceil(size / (512 * 1024));
  const emulatorPid = emulator.child.pid;

  const ours = async (kind: "download" | "upload") => {
    const serve = await ServeSide.start(emulator, dir, scheme, profiled(`serve-${kind}`));
    try {
      let answer: Record<string, unknown> = {};
      const transfer = await phase(
        `serve ${kind}`,
        () =>
          timed(serve.child.pid, emulatorPid, async () => {
            answer = kind === "download"
              ? await serve.download("serve-download.bin")
              : await serve.upload("upload.bin");
          }),
      );
      if (kind === "download" && (answer.sha256 !== expected || answer.size !== size)) {
        throw new Error(`serve downloaded other bytes: ${JSON.stringify(answer)}`);
      }
      if (kind === "upload" && (answer._cons !== "inputFileBig" || answer.parts !== parts)) {
        throw new Error(`serve uploaded ${JSON.stringify(answer)}`);
      }
      return { transfer, peak: await peakRssMb(serve.child.pid) };
    } finally {
      await serve.close();
      await Deno.remove(`${dir}/serve-download.bin`).catch(() => {});
    }
  };
  const theirs = async (kind: "download" | "upload") => {
    if (!scheme) return undefined;
    const mtcute = await MtcuteSide.start(emulator);
    try {
      const path = kind === "download" ? `${dir}/mtcute-download.bin` : `${dir}/upload.bin`;
      let answer: Record<string, unknown> = {};
      const transfer = await phase(
        `mtcute ${kind}`,
        () =>
          timed(mtcute.child.pid, emulatorPid, async () => {
            answer = await mtcute.command({ [kind]: path });
          }),
      );
      const peak = await peakRssMb(mtcute.child.pid);
      if (kind === "download" && await sha256Of(path) !== expected) {
        throw new Error("mtcute downloaded other bytes");
      }
      return { transfer, peak, parts: Number(answer.parts) };
    } finally {
      await mtcute.close();
      await Deno.remove(`${dir}/mtcute-download.bin`).catch(() => {});
    }
  };

  const pair = (
    what: string,
    our: { transfer: Transfer; peak: number },
    their: { transfer: Transfer; peak: number } | undefined,
    target: string,
    rssTarget = "",
  ) => {
    const ourRate = rate(size, our.transfer);
    const theirRate = their ? rate(size, their.transfer) : undefined;
    report(
      `  ${what} ${label}: serve / mtcute`,
      theirRate === undefined
        ? `${fixed(ourRate, 0)} MB/s`
        : `${fixed(ourRate, 0)} / ${fixed(theirRate, 0)} MB/s`,
    );
    if (theirRate !== undefined) {
      report(`  ${what}: ours / mtcute`, `${(ourRate / theirRate).toFixed(2)}×`, target);
    }
    const dash = (value: number | undefined, digits = 1) =>
      value === undefined ? "–" : fixed(value, digits);
    report(
      `    CPU seconds: serve / mtcute`,
      `${fixed(our.transfer.clientCpu)} / ${dash(their?.transfer.clientCpu)} s`,
    );
    report(
      `    emulator CPU seconds, serving serve / mtcute`,
      `${fixed(our.transfer.emulatorCpu)} / ${dash(their?.transfer.emulatorCpu)} s`,
    );
    // Per MiB moved: a fresh buffer per part shows here as ~256 faults per MiB.
    const faults = (transfer: Transfer | undefined, of: "clientFaults" | "emulatorFaults") =>
      transfer && transfer[of] / (size / MiB);
    report(
      `    minor page faults per MiB: serve / mtcute; emulator serving them`,
      `${fixed(faults(our.transfer, "clientFaults")!, 0)} / ${
        dash(faults(their?.transfer, "clientFaults"), 0)
      }; ${fixed(faults(our.transfer, "emulatorFaults")!, 0)} / ${
        dash(faults(their?.transfer, "emulatorFaults"), 0)
      }`,
    );
    const ourShare = share(our.transfer);
    const theirShare = their ? share(their.transfer) : undefined;
    report(
      `    emulator's share of a core, serving serve / mtcute`,
      `${fixed(100 * ourShare, 0)} / ${dash(theirShare && 100 * theirShare, 0)} %`,
      "target ≤ 33% (serves ≥ 3× the client)",
    );
    // The emulator is one JavaScript thread: at 100% of a core it serves 1 / share times this.
    report(
      `    the emulator could serve (one core): serve's / mtcute's rate ×`,
      `${fixed(1 / ourShare)} / ${dash(theirShare && 1 / theirShare)}`,
      "target ≥ 3",
    );
    report(
      `    other processes on the machine, in cores, during serve / mtcute`,
      `${fixed(our.transfer.othersCpu / (our.transfer.ms / 1000), 2)} / ${
        dash(their && their.transfer.othersCpu / (their.transfer.ms / 1000), 2)
      }`,
      "(the bench's own reading included; 2 cores here)",
    );
    report(
      `    peak RSS (VmHWM): serve / mtcute`,
      `${fixed(our.peak, 0)} / ${dash(their?.peak, 0)} MB`,
      rssTarget,
    );
  };

  const ourDownload = await ours("download");
  const theirDownload = await theirs("download");
  pair("download", ourDownload, theirDownload, "target ≥ 1.5×", "serve: target < 150 MB");
  const ourUpload = await ours("upload");
  const theirUpload = await theirs("upload");
  pair("upload", ourUpload, theirUpload, "target ≥ 1.2×");
  if (theirUpload) {
    report(
      `    upload parts: serve / mtcute`,
      `${parts} × 512 KiB / ${theirUpload.parts} × ${
        Math.round(size / theirUpload.parts / 1024)
      } KiB`,
    );
  }
  return phases;
}

/** Each setting `rounds` times through a fresh serve whose window defaults are that setting. */
async function tune(
  context: RunContext,
  report: Report,
  label: string,
  trials: { download: Setting[]; upload: Setting[] },
  rounds: number,
) {
  console.log(
    `\n  Window settings tried through serve (${label}, ${rounds} round(s) each, rounds ` +
      "interleaved; connections per DC × parts per connection, parts in flight = their product)",
  );
  for (const kind of ["download", "upload"] as const) {
    const settings = trials[kind];
    const results = settings.map(() => [] as { transfer: Transfer; peak: number }[]);
    for (let round = 0; round < rounds; round++) {
      for (const [i, setting] of settings.entries()) {
        results[i].push(await trial(kind, setting, context));
      }
    }
    for (const [i, setting] of settings.entries()) {
      const runs = results[i];
      const rates = runs.map((run) => rate(context.size, run.transfer));
      const cpu = runs.map((run) => run.transfer.clientCpu / (context.size / 1e9));
      const shares = runs.map((run) => 100 * share(run.transfer));
      const others = runs.map((run) => run.transfer.othersCpu / (run.transfer.ms / 1000));
      const median = (values: number[]) => values.toSorted((a, b) => a - b)[values.length >> 1];
      report(
        `  ${kind} ${setting.connections} × ${setting.perConnection}`,
        `${rates.map((r) => fixed(r, 0)).join(" / ")} MB/s`,
        `serve ${fixed(median(cpu))} CPU s/GB, emulator ${fixed(median(shares), 0)}% of a core, ` +
          `serve peak ${fixed(Math.max(...runs.map((run) => run.peak)), 0)} MB; other ` +
          `processes ${others.map((o) => fixed(o, 2)).join(" / ")} cores`,
      );
    }
  }
}

/** `"download:2x3,4x2;upload:8x1"` as settings. */
function parseTrials(text: string): { download: Setting[]; upload: Setting[] } {
  const trials = { download: [] as Setting[], upload: [] as Setting[] };
  for (const group of text.split(";")) {
    const [kind, list] = group.split(":");
    if (kind !== "download" && kind !== "upload") throw new Error(`TRIALS: "${group}"?`);
    for (const item of list.split(",")) {
      const [connections, perConnection] = item.split("x").map(Number);
      if (!(connections >= 1 && perConnection >= 1)) throw new Error(`TRIALS: "${item}"?`);
      trials[kind].push({ connections, perConnection });
    }
  }
  return trials;
}

/** Runs the files benchmark and reports each figure. */
export async function benchFiles(report: Report): Promise<void> {
  const mb = Number(env("MB") ?? 1024);
  const size = Math.round(mb * MiB);
  const only = env("TRIALS") === undefined ? undefined : parseTrials(env("TRIALS")!);
  const rounds = Number(env("TUNE") ?? (only ? 1 : 0));
  const profileDir = env("PROFILE");
  const withMtcute = env("MTCUTE") !== "0" && !only;
  const parent = env("DIR");
  const dir = await Deno.makeTempDir({
    prefix: "bench_files_",
    ...(parent ? { dir: parent } : {}),
  });
  const label = mb % 1024 === 0 ? `${mb / 1024} GiB` : `${mb} MiB`;
  console.log(
    `\nFiles (#18): ${label} through serve --files against mtcute 0.30, one emulator` +
      (env("EMULATOR") ? ` (${env("EMULATOR")})` : ""),
  );

  // mtcute's layer, for the emulator and serve alike; without mtcute, the shipped one.
  let scheme: string | undefined;
  if (withMtcute) {
    const helper = MtcuteSide.helper(["schema", `${dir}/mtcute.tl`], "null");
    const { success } = await helper.status;
    await helper.stdout.cancel();
    if (success) scheme = `${dir}/mtcute.tl`;
    else report("  mtcute", "unavailable", "(its npm package could not be loaded)");
  }
  const profiled = (name: string) =>
    profileDir ? ["--cpu-prof", "--cpu-prof-dir", `${profileDir}/${name}`] : [];
  const started = performance.now();
  const emulatorChild = spawnMain([
    "emulator",
    "--port",
    "0",
    "--file",
    `${FILE_ID}:${size}:2`,
    ...(scheme ? ["--scheme", scheme] : []),
    ...(env("EMULATOR")?.split(" ").filter(Boolean) ?? []),
  ], profiled("emulator"));
  const emulator: Emulator = {
    child: emulatorChild,
    line: JSON.parse((await waitFor(emulatorChild.stdout, /^.*\n/))[0]),
  };
  const context: RunContext = { emulator, dir, size, ...(scheme ? { scheme } : {}) };
  let phases: Phase[] = [];
  try {
    await writeGenerated(`${dir}/upload.bin`, UPLOAD_SEED, size);
    if (!only) {
      phases = await sideBySide(
        context,
        report,
        label,
        profiled,
        (at) => (at - started) / 1000,
      );
    }
    if (rounds > 0) {
      await tune(
        context,
        report,
        label,
        only ?? { download: DOWNLOAD_TRIALS, upload: UPLOAD_TRIALS },
        rounds,
      );
    }
  } finally {
    await stop(emulator.child);
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
  if (!profileDir) return;
  const print = (title: string, lines: string[]) => {
    console.log(`\n  ${title}`);
    for (const line of lines) console.log(`    ${line}`);
  };
  const emulatorProfile = readProfile(`${profileDir}/emulator`);
  for (const { name, from, to } of phases) {
    if (emulatorProfile) {
      // The profile starts with the process, a moment after the spawn: trim the phase's edges.
      print(
        `emulator while serving the ${name}:`,
        profileSummary(emulatorProfile, from + 0.3, to - 0.3),
      );
    }
    const kind = name.split(" ")[1];
    const serveProfile = name.startsWith("serve")
      ? readProfile(`${profileDir}/serve-${kind}`)
      : undefined;
    if (serveProfile) print(`serve, the whole process, ${kind}:`, profileSummary(serveProfile));
  }
}

if (import.meta.main) {
  // mtcute has Telegram's addresses built in: with it, this part runs where loopback is the only
  // network (scripts/loopback_only.ts), its modules fetched from the registry first.
  if (Deno.env.get("MTPROTO2JSON_BENCH_FILES_MTCUTE") !== "0" && !(await onlyLoopback())) {
    const cached = await new Deno.Command(Deno.execPath(), {
      args: ["cache", "--no-lock", "--quiet", `${root}scripts/bench_files_mtcute.js`],
    }).spawn().status;
    if (!cached.success) Deno.exit(1);
    Deno.exit(
      await runIsolated([
        "run",
        ...BENCH_PERMISSIONS,
        new URL(import.meta.url).pathname,
        ...Deno.args,
      ]),
    );
  }
  const report: Report = (name, value, target = "") =>
    console.log(`${name.padEnd(58)} ${value.padStart(14)}  ${target}`);
  await benchFiles(report);
}

/**
 * Where the benches' peer runs: mtcute has Telegram's addresses built in, so, as the project's rule
 * and `check_clients.sh` have it, a bench that starts it runs in a network namespace whose only
 * interface is loopback. A script that needs one runs itself again inside a namespace of its own
 * (util-linux `unshare -n` as root, else `unshare -rn` in a user namespace) unless it is in one
 * already; everything it starts (the emulator, serve, the peer) shares that namespace's 127.0.0.1.
 *
 * @module
 */

/**
 * The permissions `deno task bench` runs with (deno.json), for a part of it run as a process of
 * its own: no more than the bench has.
 */
export const BENCH_PERMISSIONS = [
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "--allow-run",
  "--allow-net=127.0.0.1",
];

/** True when this process's network has no interface but loopback (from /proc/net/dev). */
export async function onlyLoopback(): Promise<boolean> {
  // Through cat: Deno asks for more than --allow-read to read /proc itself.
  const { stdout } = await new Deno.Command("cat", { args: ["/proc/net/dev"], stdout: "piped" })
    .output();
  const names = new TextDecoder().decode(stdout).split("\n").slice(2)
    .map((line) => line.split(":")[0].trim()).filter((name) => name !== "");
  return names.every((name) => name === "lo");
}

/**
 * Runs `deno ARGS` in a new network namespace with loopback only (stdio inherited) and returns
 * its exit code; throws when no namespace can be made here, rather than run the peer outside one.
 */
export async function runIsolated(args: string[]): Promise<number> {
  const inside = ["sh", "-c", 'ip link set lo up && exec "$@"', "sh", Deno.execPath(), ...args];
  for (const flags of [["-n"], ["-rn"]]) {
    const probe = await new Deno.Command("unshare", {
      args: [...flags, "true"],
      stdout: "null",
      stderr: "null",
    }).output().catch(() => undefined);
    if (!probe?.success) continue;
    const { code } = await new Deno.Command("unshare", { args: [...flags, ...inside] }).spawn()
      .status;
    return code;
  }
  throw new Error(
    "mtcute runs only in a network namespace with loopback alone, and none can be made here " +
      "(util-linux unshare, as root or with user namespaces); MTPROTO2JSON_BENCH_MTCUTE=0 " +
      "leaves it out",
  );
}

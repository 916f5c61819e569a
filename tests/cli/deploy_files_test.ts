import { assertEquals, assertStringIncludes } from "../assert.ts";
import { environmentName } from "../../lib/cli/flags.ts";
import { waitFor } from "../support/processes.ts";

const root = new URL("../../", import.meta.url).pathname;
const read = (path: string) => Deno.readTextFile(`${root}${path}`);

/** The flags serve and health read, as their environment variables. */
async function knownVariables(): Promise<Set<string>> {
  const names = new Set<string>();
  for (const command of ["serve", "health"]) {
    const help = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", `${root}main.ts`, command, "--help"],
      stdout: "piped",
    }).output();
    for (const match of new TextDecoder().decode(help.stdout).matchAll(/^\s+--([a-z-]+)/gm)) {
      names.add(environmentName(match[1]));
    }
  }
  return names;
}

Deno.test("the Dockerfile, compose example and systemd unit use only variables serve knows", async () => {
  const known = await knownVariables();
  for (
    const file of [
      "Dockerfile",
      "docs/deploy/mtproto2json.env.example",
      "docs/deploy/mtproto2json.service",
    ]
  ) {
    for (const match of (await read(file)).matchAll(/MTPROTO2JSON_[A-Z_]+/g)) {
      assertEquals(known.has(match[0]), true, `${file}: ${match[0]} is no flag of serve`);
    }
  }
  const dockerfile = await read("Dockerfile");
  assertStringIncludes(dockerfile, "USER nonroot");
  assertStringIncludes(dockerfile, "STOPSIGNAL SIGTERM");
  assertStringIncludes(dockerfile, 'CMD ["mtproto2json", "health", "--host", "127.0.0.1"]');
  assertStringIncludes(dockerfile, 'ENTRYPOINT ["mtproto2json"]');
  assertStringIncludes(await read("docs/deploy/compose.yaml"), "env_file: mtproto2json.env");
});

// No container engine runs on our machines: the container's command and its HEALTHCHECK are run
// here with the image's environment (the address kept on loopback).
Deno.test("the container's command serves with its environment, and its HEALTHCHECK passes", async () => {
  const state = await Deno.makeTempDir();
  const env: Record<string, string> = {};
  for (const match of (await read("Dockerfile")).matchAll(/(MTPROTO2JSON_[A-Z_]+)=(\S+)/g)) {
    env[match[1]] = match[2];
  }
  for (const line of (await read("docs/deploy/mtproto2json.env.example")).split("\n")) {
    const match = /^(MTPROTO2JSON_[A-Z_]+)=(.*)$/.exec(line);
    if (match) env[match[1]] = match[2];
  }
  Object.assign(env, {
    MTPROTO2JSON_HOST: "127.0.0.1",
    MTPROTO2JSON_PORT: "0",
    MTPROTO2JSON_STATE: state,
  });
  const serve = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${root}main.ts`, "serve"],
    env,
    stdout: "null",
    stderr: "piped",
  }).spawn();
  try {
    const port = (await waitFor(serve.stderr, /listening on [\d.]+:(\d+)/))[1];
    const health = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", `${root}main.ts`, "health", "--host", "127.0.0.1"],
      env: { ...env, MTPROTO2JSON_PORT: port },
      stdout: "piped",
      stderr: "piped",
    }).output();
    assertEquals(health.code, 0, new TextDecoder().decode(health.stderr));
    assertEquals(JSON.parse(new TextDecoder().decode(health.stdout)).status, "ok");
  } finally {
    serve.kill("SIGTERM");
    assertEquals((await serve.status).code, 0);
    await Deno.remove(state, { recursive: true });
  }
});

import { assertEquals, assertStringIncludes } from "../assert.ts";
import { ProxyConnection } from "../../lib/proxy/proxy_connection.ts";
import { appIdentity } from "../../lib/cli/server_flags.ts";
import { loadSchema } from "../../lib/tl/default_schema.ts";
import { TlCodec } from "../../lib/tl/codec.ts";
import { generateServerKey } from "../../lib/emulator/server_key.ts";
import { publicKeyToPem } from "../../lib/crypto/rsa.ts";
import { listenHostile } from "../support/hostile_dc.ts";

function connection(extra: { verbose?: (line: string) => void } = {}) {
  const out: Record<string, unknown>[] = [];
  const proxy = new ProxyConnection(
    { schema: loadSchema(), app: appIdentity(undefined, undefined, "test"), ...extra },
    (line) => out.push(JSON.parse(line)),
  );
  return { proxy, out };
}

Deno.test("verbose logging redacts secrets on the parsed object, however the key is spelled", async () => {
  const log: string[] = [];
  const { proxy, out } = connection({ verbose: (line) => log.push(line) });
  const key = new Uint8Array(256).fill(7).toBase64();
  proxy.handleLine(`{"id": 3, "session": {"auth\\u005fkey": "${key}", "session_id": 1}}`);
  proxy.handleLine(
    `{"id": 4, "options": {"bogus": 1}, "message": {"_cons": "auth.signIn", ` +
      `"phone_number": "+1555", "phone_code_hash": "h", "phone_code": "24680"}}`,
  );
  proxy.handleLine(`not json, with ${key} in it`);
  await proxy.idle();
  proxy.close();
  assertEquals(out[0].session && (out[0].session as Record<string, unknown>).auth_key, key);
  assertEquals(log.length, 6);
  for (const line of log) {
    assertEquals(line.includes(key) || line.includes("24680"), false, line);
  }
  assertStringIncludes(log[0], '"auth_key":"[redacted]"');
  assertStringIncludes(log[2], '"phone_code":"[redacted]"');
  assertStringIncludes(log[4], "not JSON");
});

Deno.test("ids must be positive integers, and one in flight cannot be reused", async () => {
  const { key } = await generateServerKey();
  const silent = listenHostile("silent", new TlCodec(loadSchema()), key);
  const { proxy, out } = connection();
  try {
    for (const id of ["0", "-1", "-2", "1.5", '"7"']) proxy.handleLine(`{"id": ${id}}`);
    await proxy.idle();
    assertEquals(out.map((line) => [line.id, line.error]), Array(5).fill([-2, "BadId"]));
    out.length = 0;
    const server = { host: "127.0.0.1", port: silent.port, dc: 1, rsa: publicKeyToPem(key) };
    proxy.handleLine(JSON.stringify({ id: 1, server, options: { timeout: 1 } }));
    proxy.handleLine('{"id": 9, "message": {"_cons": "help.getConfig"}}');
    proxy.handleLine('{"id": 9, "message": {"_cons": "help.getNearestDc"}}');
    await proxy.idle();
    assertEquals(
      out.map((line) => [line.id, line.error ?? (line.message as { _cons: string })?._cons]),
      [
        [1, undefined],
        [9, "DuplicateId"],
        [9, "rpc_timeout"],
      ],
    );
    // Answered, the id is free again.
    proxy.handleLine('{"id": 9, "options": {}}');
    await proxy.idle();
    assertEquals(out.at(-1)!.error, undefined);
  } finally {
    proxy.close();
    await silent.close();
  }
});

Deno.test("options and session fields are range-checked with messages naming what is accepted", async () => {
  const { proxy, out } = connection();
  const lines = [
    '{"id": 1, "options": {"timeout": 1e400}}',
    '{"id": 2, "options": {"timeout": 0}}',
    '{"id": 3, "options": {"timeout": "5"}}',
    '{"id": 4, "options": {"tiemout": 5}}',
    '{"id": 5, "options": {"longs_as_strings": 1}}',
    '{"id": 6, "options": {"flood_wait_threshold": -1}}',
    '{"id": 7, "session": {"auth_key": "' + new Uint8Array(256).toBase64() + '", "dc": 0}}',
    '{"id": 8, "session": {"auth_key": "' + new Uint8Array(256).toBase64() + '", "dc": -3}}',
    '{"id": 9, "options": {"timeout": 30, "connect_timeout": 5}}',
  ];
  for (const line of lines) proxy.handleLine(line);
  await proxy.idle();
  proxy.close();
  const errors = out.map((line) => line.error);
  assertEquals(errors, [...Array(6).fill("BadOption"), "BadSession", "BadSession", undefined]);
  assertStringIncludes(String(out[0].msg), "from 0.001 to 86400");
  assertStringIncludes(String(out[3].msg), 'unknown option "tiemout"; known: longs_as_strings');
  assertStringIncludes(String(out[4].msg), "true or false");
  assertStringIncludes(String(out[6].msg), "session.dc must be a DC number");
  assertEquals((out[8].options as Record<string, unknown>).timeout, 30);
});

import { assertEquals, assertStringIncludes } from "../assert.ts";
import { ProxyConnection, redact } from "../../lib/proxy/handler.ts";
import { appIdentity } from "../../lib/cli/proxy_command.ts";
import { loadSchema } from "../../lib/tl/default_schema.ts";

Deno.test("verbose logging copies every object in and out with auth keys redacted", async () => {
  const log: string[] = [];
  const out: string[] = [];
  const connection = new ProxyConnection(
    {
      schema: loadSchema(),
      app: appIdentity(undefined, undefined, "test"),
      verbose: (line) => log.push(line),
    },
    (line) => out.push(line),
  );
  const key = new Uint8Array(256).fill(7).toBase64();
  connection.handleLine(JSON.stringify({ id: 3, session: { auth_key: key, session_id: 1 } }));
  await connection.idle();
  connection.close();
  assertEquals(JSON.parse(out[0]).session.auth_key, key, "the client itself gets its key back");
  assertEquals(log.length, 2);
  assertStringIncludes(log[0], '"auth_key":"[redacted]"');
  assertStringIncludes(log[1], '"auth_key":"[redacted]"');
  assertEquals(log.some((line) => line.includes(key)), false);
});

Deno.test("redact hides auth keys however they are spaced", () => {
  assertEquals(redact('{"auth_key" : "c2VjcmV0", "x": 1}'), '{"auth_key" : "[redacted]", "x": 1}');
});

import { assertEquals } from "../assert.ts";
import { loadSchema } from "../../lib/tl/default_schema.ts";
import { startEmulator } from "../../lib/emulator/emulator.ts";
import { appIdentity, serverFlag } from "../../lib/cli/server_flags.ts";
import { serveHttp } from "../../lib/web/web_server.ts";
import { within } from "../support/until.ts";

const schema = loadSchema();

Deno.test("POST /v1/{method} takes the parameters as any JSON object spells them: empty, spaced out, with the same _cons; anything else is a 400 naming why", async () => {
  const emulator = await startEmulator({ port: 0, log: () => {} });
  const web = serveHttp({
    schema,
    server: serverFlag(JSON.stringify(emulator.serverLine()))!,
    app: appIdentity("12345", "hash", "test"),
    behaviour: { timeoutSeconds: 5 },
    transport: { kind: "intermediate" },
    log: () => {},
  }, { host: "127.0.0.1", port: 0, maxLine: 65_536 });
  const base = `http://127.0.0.1:${web.port}`;
  try {
    const made = await (await fetch(`${base}/v1/sessions`, { method: "POST", body: "{}" })).json();
    const call = async (method: string, body: string) => {
      const response = await fetch(`${base}/v1/${method}`, {
        method: "POST",
        headers: { authorization: `Bearer ${made.account}` },
        body,
      });
      const text = await response.text();
      return [response.status, JSON.parse(text)._cons ?? JSON.parse(text).error];
    };
    for (const body of ["", "{}", " \r\n{ \t}\n", '{"_cons": "help.getNearestDc"}']) {
      assertEquals(await call("help.getNearestDc", body), [200, "nearestDc"], body);
    }
    // Parameters spaced out over lines, and the method's _cons given last.
    assertEquals(
      await call("help.getAppConfig", '{\n  "hash": 0,\n  "_cons": "help.getAppConfig"\n}\n'),
      [200, "help.appConfig"],
    );
    assertEquals(await call("help.getNearestDc", '{"_cons": "help.getConfig"}'), [
      400,
      "BadRequest",
    ]);
    assertEquals(await call("help.getNearestDc", "[]"), [400, "NotAnObject"]);
    assertEquals(await call("help.getNearestDc", '{"_cons": '), [400, "BadJson"]);
    // Nested past what the session parses: refused at once, not left waiting for ever.
    const deep = `{"a": ${"[".repeat(1000)}${"]".repeat(1000)}}`;
    assertEquals(await within(call("help.getNearestDc", deep), 10_000, "the answer"), [
      400,
      "BadJson",
    ]);
    // A parameter the method does not take is refused by the session, as on the line protocol.
    const [status] = await call("help.getNearestDc", '{"no_such_parameter": 1}');
    assertEquals(status, 400);
  } finally {
    await web.close();
    await emulator.close();
  }
});

Deno.test("a route added by the caller gets its pattern's groups as params, the same for every request to a path: they are read-only (typed so), not changed by one request for the next", async () => {
  const web = serveHttp({ schema, app: appIdentity("12345", "hash", "test"), log: () => {} }, {
    host: "127.0.0.1",
    port: 0,
    maxLine: 65_536,
    routes: [{
      method: "GET",
      path: /^\/shout\/(\w+)$/,
      auth: "open",
      handle(context) {
        let refused = false;
        try {
          // @ts-expect-error: one params array serves every request to the path (routes.ts)
          context.params[0] = context.params[0].toUpperCase();
        } catch {
          refused = true;
        }
        return new Response(`${context.params[0]} ${refused}`);
      },
    }],
  });
  try {
    const got: string[] = [];
    for (const word of ["abc", "abc", "def"]) {
      got.push(await (await fetch(`http://127.0.0.1:${web.port}/shout/${word}`)).text());
    }
    assertEquals(got, ["abc true", "abc true", "def true"]);
  } finally {
    await web.close();
  }
});

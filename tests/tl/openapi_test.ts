// The OpenAPI document as a user meets it: checked by an independent OpenAPI 3.1 validator, and
// used as a client generator would use it — request bodies built from a method's parameter schema
// validate with an independent JSON Schema validator (ajv, 2020-12) and are answered without error
// by serve against the emulator, whose answers validate against the result schemas.

// deno-lint-ignore no-import-prefix
import { Validator } from "npm:@seriousme/openapi-schema-validator@2.11.0";
// deno-lint-ignore no-import-prefix
import { Ajv2020 } from "npm:ajv@8.20.0/dist/2020.js";
import { assertEquals } from "../assert.ts";
import { loadSchema } from "../../lib/tl/default_schema.ts";
import { openApiDocument, openApiJson } from "../../lib/tl/openapi.ts";
import { startEmulator } from "../../lib/emulator/emulator.ts";
import { serve } from "../../lib/proxy/serve.ts";
import { appIdentity, serverFlag } from "../../lib/cli/server_flags.ts";
import { JsonClient } from "../support/json_client.ts";

const schema = loadSchema();
type Line = Record<string, unknown>;

Deno.test("the OpenAPI document validates as OpenAPI 3.1, and a broken reference is caught", async () => {
  const document = openApiDocument(schema);
  const result = await new Validator().validate(structuredClone(document));
  assertEquals(result.errors, undefined);
  assertEquals(result.valid, true);
  assertEquals(JSON.parse(openApiJson(schema)), document);
  // Every method is a path, and the web front's own endpoints are there.
  for (const method of schema.functions.keys()) {
    assertEquals(typeof document.paths[`/v1/${method}`]?.post, "object", method);
  }
  for (const path of ["/v1/call", "/v1/sessions", "/v1/updates", "/v1/ws", "/healthz", "/readyz"]) {
    assertEquals(path in document.paths, true, path);
  }
  const flood = document.components.responses.FloodWait;
  assertEquals(Object.keys(flood.headers), ["Retry-After"]);
  // The validator is not one that accepts anything.
  const broken = structuredClone(document);
  broken.paths["/v1/users.getUsers"].post.responses["200"] = { $ref: "#/components/nothing" };
  assertEquals((await new Validator().validate(broken)).valid, false);
});

/**
 * ajv over the document's component schemas, as a generated client would check bodies: a
 * method's parameters, and its 200 body through the document's shared responses.
 */
function validators(document: ReturnType<typeof openApiDocument>) {
  const ajv = new Ajv2020({ strict: false });
  ajv.addSchema({ $id: "doc", components: { schemas: document.components.schemas } });
  // References in a response point into the document's root, which ajv knows as "doc".
  const within = (value: unknown) =>
    JSON.parse(JSON.stringify(value).replaceAll('"#/components/', '"doc#/components/'));
  const compiled = new Map<string, ReturnType<typeof ajv.compile>>();
  return {
    params: (method: string) => ajv.getSchema(`doc#/components/schemas/params.${method}`)!,
    result: (method: string) => {
      const name = document.paths[`/v1/${method}`].post.responses["200"].$ref.split("/").at(-1);
      let validate = compiled.get(name);
      if (!validate) {
        const schemaOf = document.components.responses[name].content["application/json"].schema;
        compiled.set(name, validate = ajv.compile({ $id: name, ...within(schemaOf) }));
      }
      return validate;
    },
  };
}

Deno.test("a request body built from a method's parameter schema is valid, and serve answers it", async () => {
  const document = openApiDocument(schema);
  const check = validators(document);
  const emulator = await startEmulator({ port: 0, log: () => {} });
  const server = serve({
    schema,
    server: serverFlag(JSON.stringify(emulator.serverLine()))!,
    app: appIdentity("12345", "hash", "test"),
    behaviour: { timeoutSeconds: 10 },
    transport: { kind: "intermediate" },
  }, { host: "127.0.0.1", port: 0, maxLine: 1 << 20 });
  const client = await JsonClient.connect(server.port);
  let id = 0;
  /** Validates `body` as the method's parameters, calls it, and validates the answer. */
  const call = async (method: string, body: Line): Promise<Line> => {
    const params = check.params(method);
    assertEquals(params(body), true, `${method}: ${JSON.stringify(params.errors)}`);
    const answer = await client.request({ id: ++id, message: { _cons: method, ...body } });
    const message = answer.message as Line;
    assertEquals(answer.error, undefined, JSON.stringify(answer));
    assertEquals(message._cons === "rpc_error", false, JSON.stringify(message));
    const result = check.result(method);
    assertEquals(result(message), true, `${method} answer: ${JSON.stringify(result.errors)}`);
    return message;
  };
  try {
    const code = await call("auth.sendCode", {
      phone_number: "+15550000001",
      api_id: 12345,
      api_hash: "hash",
      settings: { _cons: "codeSettings" },
    });
    await call("auth.signIn", {
      phone_number: "+15550000001",
      phone_code_hash: code.phone_code_hash as string,
      phone_code: "12345",
    });
    const users = await call("users.getUsers", { id: [{ _cons: "inputUserSelf" }] });
    assertEquals((users as unknown as Line[])[0].id, 1000001);
    const sent = await call("messages.sendMessage", {
      peer: { _cons: "inputPeerSelf" },
      message: "built from the OpenAPI document",
      random_id: "8446744073709551615",
      silent: true,
    });
    assertEquals(typeof sent._cons, "string");
    await call("messages.getDialogs", {
      offset_date: 0,
      offset_id: 0,
      offset_peer: { _cons: "inputPeerEmpty" },
      limit: 10,
      hash: 0,
    });
    await call("help.getConfig", {});
    // The result schemas do refuse what is not the result.
    assertEquals(check.result("users.getUsers")([{ _cons: "user", id: "x" }]), false);
    assertEquals(check.result("messages.sendMessage")({ _cons: "updateShort" }), false);
    // A body the schema refuses is one serve refuses too.
    const params = check.params("messages.sendMessage");
    const bad = { peer: { _cons: "inputUserSelf" }, message: "x", random_id: 1 };
    assertEquals(params(bad), false);
    const refused = await client.request({
      id: ++id,
      message: { _cons: "messages.sendMessage", ...bad },
    });
    assertEquals(refused.error, "WrongType");
  } finally {
    client.close();
    await server.close();
    await emulator.close();
  }
});

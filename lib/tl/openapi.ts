/**
 * The OpenAPI 3.1 document of the web front (`GET /v1/openapi.json`), generated from the loaded
 * TL schema: every method is `POST /v1/{method}` with its parameters as the JSON body (`_cons`
 * implied) and its result type as the 200 answer; an rpc_error keeps its JSON body under the
 * status its code maps to (FLOOD_WAIT_X → 429 with `Retry-After`); the proxy's own errors are
 * 400/413, a timeout 504. Then the fixed endpoints: `/v1/call`, `/v1/sessions`, `/v1/updates`,
 * `/v1/ws`, `/healthz`, `/readyz`, `/metrics`. Shared definitions and responses are referenced,
 * never repeated, so the document stays small enough to serve on every request.
 *
 * @module
 */

import {
  DEFINITION_NAMES,
  type JsonSchema,
  resultSchema,
  tlJsonDefinitions,
} from "./json_schema.ts";
import type { TlSchema } from "./schema.ts";

/** What the document says beyond the schema. */
export interface OpenApiOptions {
  /** `info.version` (default `0.0.0`). */
  version?: string;
  /** Describe `long` as decimal strings (a connection with `longs_as_strings`). */
  longsAsStrings?: boolean;
  /** `servers[].url`, when known (default: none, i.e. relative to where it was fetched). */
  serverUrl?: string;
}

const SCHEMAS = "#/components/schemas/";
const RESPONSES = "#/components/responses/";

/**
 * The OpenAPI 3.1 document for `schema`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadSchema } from "./default_schema.ts";
 * import { openApiDocument } from "./openapi.ts";
 * const document = openApiDocument(loadSchema());
 * assert.equal(document.openapi, "3.1.0");
 * const send = document.paths["/v1/messages.sendMessage"].post;
 * assert.deepEqual(send.requestBody.content["application/json"].schema, {
 *   $ref: "#/components/schemas/params.messages.sendMessage",
 * });
 * assert.equal(send.responses["429"].$ref, "#/components/responses/FloodWait");
 * ```
 */
export function openApiDocument(
  schema: TlSchema,
  options: OpenApiOptions = {},
  // deno-lint-ignore no-explicit-any
): Record<string, any> {
  const schemas: Record<string, JsonSchema> = {
    ...tlJsonDefinitions(schema, {
      refPrefix: SCHEMAS,
      ...(options.longsAsStrings ? { longsAsStrings: true } : {}),
    }),
    ...FIXED_SCHEMAS,
  };
  const paths: Record<string, unknown> = { ...fixedPaths() };
  // One 200 response per result type, shared by the methods that return it.
  const results: Record<string, unknown> = {};
  for (const method of schema.functions.values()) {
    const result = "result." + method.resultText.replace(/[^\w.-]/g, "_");
    results[result] ??= {
      description: method.resultText,
      content: json(resultSchema(schema, method, SCHEMAS)),
    };
    const namespace = method.name.lastIndexOf(".");
    paths[`/v1/${method.name}`] = {
      post: {
        operationId: method.name,
        tags: [namespace < 0 ? "mtproto" : method.name.slice(0, namespace)],
        requestBody: {
          required: true,
          content: json({ $ref: SCHEMAS + DEFINITION_NAMES.params(method.name) }),
        },
        responses: { "200": { $ref: RESPONSES + result }, ...ERROR_REFERENCES },
      },
    };
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "mtproto2json",
      version: options.version ?? "0.0.0",
      description: `Telegram's API (TL layer ${schema.layer ?? "unknown"}) as JSON over HTTP. ` +
        "Each method is POST /v1/{method} with its parameters as the body; the account is named " +
        "by the handle POST /v1/sessions returned, as `Authorization: Bearer <handle>`.",
    },
    ...(options.serverUrl ? { servers: [{ url: options.serverUrl }] } : {}),
    security: [{ bearer: [] }],
    paths,
    components: {
      securitySchemes: {
        bearer: {
          type: "http",
          scheme: "bearer",
          description: "an account handle (calls), or the server's token (sessions, ws, metrics)",
        },
      },
      schemas,
      responses: { ...ERROR_RESPONSES, ...results },
    },
  };
}

const json = (schema: JsonSchema) => ({ "application/json": { schema } });
const ref = (name: string) => ({ $ref: SCHEMAS + name });

/** Definitions of the web front's own bodies. */
const FIXED_SCHEMAS: Record<string, JsonSchema> = {
  ProxyError: {
    type: "object",
    properties: { error: { type: "string" }, msg: { type: "string" } },
    required: ["error", "msg"],
    description: "an error of the proxy itself (bad JSON, a wrong field type, a missing field...)",
  },
  RpcTimeout: {
    type: "object",
    properties: { _cons: { const: "rpc_timeout" }, error_message: { type: "string" } },
    required: ["_cons"],
  },
  Session: {
    type: "object",
    description: "a session object as `signin` prints it (auth_key, dc, updates_cursor...)",
    properties: { auth_key: ref("bytes"), dc: { type: "integer" } },
  },
  Account: {
    type: "object",
    properties: { account: { type: "string", description: "the account handle" } },
    required: ["account"],
  },
  CallRequest: {
    type: "object",
    description: "a request as the line protocol accepts it",
    properties: { message: ref("Object"), options: { type: "object" } },
    required: ["message"],
  },
  UpdatesBatch: {
    type: "object",
    properties: {
      updates: { type: "array", items: { type: "object" } },
      cursor: { type: "string" },
    },
  },
};

/** The statuses every call may answer besides 200, referenced by each method's path. */
const ERROR_RESPONSES: Record<string, unknown> = {
  BadRequest: {
    description: "an rpc_error with code 400, or a request the proxy refused (ProxyError)",
    content: json({ oneOf: [ref(DEFINITION_NAMES.constructor("rpc_error")), ref("ProxyError")] }),
  },
  RpcError: {
    description: "an rpc_error with this code",
    content: json(ref(DEFINITION_NAMES.constructor("rpc_error"))),
  },
  FloodWait: {
    description: "FLOOD_WAIT_X: retry after X seconds",
    headers: {
      "Retry-After": { description: "seconds to wait", schema: { type: "integer" } },
    },
    content: json(ref(DEFINITION_NAMES.constructor("rpc_error"))),
  },
  TooLarge: { description: "the body is too long", content: json(ref("ProxyError")) },
  Timeout: { description: "no answer within the timeout", content: json(ref("RpcTimeout")) },
};

const ERROR_REFERENCES = {
  "400": { $ref: RESPONSES + "BadRequest" },
  "401": { $ref: RESPONSES + "RpcError" },
  "403": { $ref: RESPONSES + "RpcError" },
  "404": { $ref: RESPONSES + "RpcError" },
  "406": { $ref: RESPONSES + "RpcError" },
  "413": { $ref: RESPONSES + "TooLarge" },
  "429": { $ref: RESPONSES + "FloodWait" },
  "500": { $ref: RESPONSES + "RpcError" },
  "504": { $ref: RESPONSES + "Timeout" },
};

function fixedPaths(): Record<string, unknown> {
  const text = (description: string) => ({
    description,
    content: { "text/plain": { schema: { type: "string" } } },
  });
  const open = [] as unknown[];
  return {
    "/v1/call": {
      post: {
        operationId: "call",
        summary: "one request of the line protocol (message, options); answers its message",
        requestBody: { required: true, content: json(ref("CallRequest")) },
        responses: {
          "200": { description: "the result", content: json(ref("Object")) },
          ...ERROR_REFERENCES,
        },
      },
    },
    "/v1/sessions": {
      post: {
        operationId: "openSession",
        summary: "a session line (or its inner object) → an account handle",
        parameters: [{
          name: "cookie",
          in: "query",
          description: "1: set the handle as an HttpOnly, SameSite=Strict cookie instead",
          schema: { type: "string", enum: ["1"] },
        }],
        requestBody: {
          required: true,
          content: json({
            oneOf: [ref("Session"), {
              type: "object",
              properties: { session: ref("Session") },
              required: ["session"],
            }],
          }),
        },
        responses: {
          "200": { description: "the handle", content: json(ref("Account")) },
          "400": { $ref: RESPONSES + "BadRequest" },
          "401": { description: "the server's token is missing or wrong" },
        },
      },
      delete: {
        operationId: "closeSession",
        summary: "revokes the handle given as the bearer",
        responses: { "204": { description: "revoked" }, "401": { description: "unknown handle" } },
      },
    },
    "/v1/updates": {
      get: {
        operationId: "updates",
        summary: "the account's managed updates as Server-Sent Events (ids are cursors), " +
          "or a long poll with ?cursor=",
        parameters: [
          { name: "cursor", in: "query", schema: { type: "string" } },
          { name: "timeout", in: "query", schema: { type: "integer", minimum: 0 } },
          { name: "Last-Event-ID", in: "header", schema: { type: "string" } },
        ],
        responses: {
          "200": {
            description: "an event stream, or a batch and the next cursor",
            content: {
              "text/event-stream": { schema: { type: "string" } },
              "application/json": { schema: ref("UpdatesBatch") },
            },
          },
          "401": { description: "unknown handle" },
        },
      },
    },
    "/v1/ws": {
      get: {
        operationId: "websocket",
        summary: "the line protocol over WebSocket, one JSON object per text frame",
        security: open,
        responses: { "101": { description: "switching protocols" } },
      },
    },
    "/healthz": {
      get: { operationId: "healthz", security: open, responses: { "200": text("alive") } },
    },
    "/readyz": {
      get: {
        operationId: "readyz",
        security: open,
        responses: {
          "200": text("held accounts connected"),
          "503": text("not ready"),
        },
      },
    },
    "/metrics": {
      get: {
        operationId: "metrics",
        summary: "Prometheus text format",
        responses: { "200": text("metrics") },
      },
    },
  };
}

const texts = new WeakMap<TlSchema, Map<string, string>>();

/**
 * The document as JSON text, made once per schema and options and then reused: what
 * `GET /v1/openapi.json` answers (about 1.5 MB, 110 kB gzipped, for the shipped schema).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadSchema } from "./default_schema.ts";
 * import { openApiJson } from "./openapi.ts";
 * const schema = loadSchema();
 * assert.equal(openApiJson(schema), openApiJson(schema));
 * assert.equal(JSON.parse(openApiJson(schema)).openapi, "3.1.0");
 * ```
 */
export function openApiJson(schema: TlSchema, options: OpenApiOptions = {}): string {
  let bySchema = texts.get(schema);
  if (!bySchema) texts.set(schema, bySchema = new Map());
  const key = JSON.stringify(options);
  let text = bySchema.get(key);
  if (text === undefined) {
    bySchema.set(key, text = JSON.stringify(openApiDocument(schema, options)));
  }
  return text;
}

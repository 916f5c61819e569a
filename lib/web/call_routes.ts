/**
 * One-shot calls: `POST /v1/sessions` (a session line → an account handle), `DELETE
 * /v1/sessions`, `POST /v1/call` (a request of the line protocol) and `POST /v1/{method}` (the
 * method's parameters as the body), each answered with what the line protocol would put under
 * `message`, its status following the outcome.
 *
 * @module
 */

import {
  callAnswer,
  HttpError,
  json,
  jsonText,
  parseKeepingNumbers,
  statusOf,
} from "./http_answers.ts";
import { HANDLE_COOKIE, type WebRoute } from "./routes.ts";
import type { WrittenLine } from "./web_account.ts";

/**
 * A body as a JSON object (an empty body is `{}`); anything else is a 400. Its integers are kept
 * exact unless `exact` is false (the body is only looked at, and passed on as its text).
 */
function bodyObject(text: string, exact = true): Record<string, unknown> {
  if (text.trim() === "") return {};
  let value: unknown;
  try {
    value = exact ? parseKeepingNumbers(text) : JSON.parse(text);
  } catch (error) {
    throw new HttpError(400, "BadJson", (error as Error).message);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new HttpError(400, "NotAnObject", "the body must be one JSON object");
  }
  return value as Record<string, unknown>;
}

/** Refuses keys other than `allowed` (naming them), so that a typo is not silently ignored. */
function onlyKeys(value: Record<string, unknown>, allowed: string[], what: string): void {
  const extra = Object.keys(value).filter((key) => !allowed.includes(key));
  if (extra.length > 0) {
    throw new HttpError(
      400,
      "BadRequest",
      `${what} takes ${allowed.map((key) => `"${key}"`).join(", ")}; not ${
        extra.map((key) => `"${key}"`).join(", ")
      }`,
    );
  }
}

/** The error line of the protocol as an HTTP answer: `{"error", "msg"}` with its status. */
function errorLine(line: WrittenLine): Response {
  const { id: _id, ...rest } = line.value;
  const status = line.value.error === "SessionClosed" ? 503 : statusOf(line.value).status;
  return json(rest, status);
}

/** `{"id":N,"message":` at the start of an answer line. */
const MESSAGE_ANSWER = /^\{"id":-?\d+,"message":/;

/** A call's answer: its `message` (or the whole answer when it had none) with its status. */
function answer(line: WrittenLine, key = "message"): Response {
  if (key === "message") {
    // A request of a message alone is answered `{"id":N,"message":M}`: M is passed on as the
    // text it is, unless it may be an rpc_error or rpc_timeout (whose status is read from it).
    const text = line.text;
    const head = MESSAGE_ANSWER.exec(text);
    if (head && text.endsWith("}")) {
      const message = text.slice(head[0].length, -1);
      if (!message.includes('"rpc_')) return callAnswer(message);
    }
  }
  if (line.value.error !== undefined) return errorLine(line);
  const { status, headers } = statusOf(line.value);
  if (key in line.value) return jsonText(JSON.stringify(line.value[key]), status, headers);
  const { id: _id, ...rest } = line.value;
  return jsonText(JSON.stringify(rest), status, headers);
}

const createSession: WebRoute = {
  method: "POST",
  path: "/v1/sessions",
  auth: "token",
  async handle(context) {
    const body = bodyObject(await context.body());
    let line: Record<string, unknown>;
    if ("session" in body || "server" in body || "options" in body) {
      // A session line as signin prints it ({"id": 1, "session": ...}), options and server too.
      onlyKeys(body, ["id", "session", "server", "options"], "a session line");
      const { id: _id, ...rest } = body;
      line = rest;
    } else {
      line = Object.keys(body).length > 0 ? { session: body } : {};
    }
    const made = await context.front.handles.create(line);
    if ("refused" in made) return errorLine(made.refused);
    if (context.url.searchParams.get("cookie") === "1") {
      // For EventSource, which cannot send headers; SameSite=Strict keeps other sites' pages
      // from sending it, HttpOnly keeps the page's own scripts from reading it.
      return json({ cookie: HANDLE_COOKIE }, 200, {
        "set-cookie": `${HANDLE_COOKIE}=${made.handle}; HttpOnly; SameSite=Strict; Path=/v1`,
      });
    }
    return json({ account: made.handle });
  },
};

const revokeSession: WebRoute = {
  method: "DELETE",
  path: "/v1/sessions",
  auth: "account",
  async handle(context) {
    await context.front.handles.revoke(context.handle!);
    return new Response(null, {
      status: 204,
      headers: {
        "set-cookie": `${HANDLE_COOKIE}=; HttpOnly; SameSite=Strict; Path=/v1; Max-Age=0`,
      },
    });
  },
};

const call: WebRoute = {
  method: "POST",
  path: "/v1/call",
  auth: "account",
  async handle(context) {
    const body = bodyObject(await context.body());
    onlyKeys(body, ["id", "message", "options"], "/v1/call");
    const { id: _id, ...line } = body;
    if (Object.keys(line).length === 0) {
      throw new HttpError(400, "BadRequest", '/v1/call needs "message" (or "options")');
    }
    return answer(await context.account!.request(line), "message" in line ? "message" : "");
  },
};

/** `/v1/messages.getDialogs`: a method's name, as TL spells it. */
const METHOD_PATH = /^\/v1\/([A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z][A-Za-z0-9_]*)*)$/;

const method: WebRoute = {
  method: "POST",
  path: METHOD_PATH,
  auth: "account",
  async handle(context) {
    const name = context.params[0];
    const text = await context.body();
    const body = bodyObject(text, false);
    if (body._cons !== undefined && body._cons !== name) {
      throw new HttpError(
        400,
        "BadRequest",
        `the path names ${name}, the body's _cons ${JSON.stringify(body._cons)}`,
      );
    }
    // The body goes to the session as the text it came as (its 64-bit integers as written), the
    // method's name first: a `_cons` of its own is the same name (checked above), and of keys
    // given twice JSON keeps the last.
    const fields = text.trim().slice(1, -1);
    const message = fields.trim() === ""
      ? `{"_cons":${JSON.stringify(name)}}`
      : `{"_cons":${JSON.stringify(name)},${fields}}`;
    return answer(await context.account!.requestText(`{"message":${message}}`));
  },
};

/** The one-shot routes, `/v1/{method}` last (it matches any method name). */
export const CALL_ROUTES: WebRoute[] = [createSession, revokeSession, call, method];

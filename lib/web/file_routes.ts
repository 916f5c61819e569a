/**
 * Files over HTTP: `GET /v1/files?download=<JSON>` streams a download's bytes as the body (with
 * `Content-Length` when the size is known, one `Range` as 206, and `HEAD`), and `POST
 * /v1/upload?name=N` streams the request's body into an `inputFile`/`inputFileBig`. The `download`
 * parameter is the line protocol's download object (`{"media": ...}`, `{"message": ...}` or
 * `{"location": ...}`, with `thumb`, `parts`, `verify`); each request runs a line session of the
 * handle's account of its own, so a slow reader holds back the parts behind it and a browser's
 * `<img src>` or `curl -o` needs nothing else.
 *
 * @module
 */

import { HttpError, json, jsonText, parseKeepingNumbers, statusOf } from "./http_answers.ts";
import { type LineSession, openAccountSession } from "./line_session.ts";
import type { RouteContext, WebRoute } from "./routes.ts";
import type { WrittenLine } from "./web_account.ts";

/** Download bytes a response may hold for a reader that is behind, before the parts wait. */
const HELD_BYTES = 4 * 1024 * 1024;

/** The `download` query parameter as the line protocol's download object, checked. */
function downloadSpec(url: URL): Record<string, unknown> {
  const text = url.searchParams.get("download");
  if (text === null) {
    throw new HttpError(400, "BadRequest", 'GET /v1/files needs ?download={"media": ...} (JSON)');
  }
  let spec: unknown;
  try {
    spec = parseKeepingNumbers(text);
  } catch (error) {
    throw new HttpError(400, "BadJson", `download: ${(error as Error).message}`);
  }
  if (typeof spec !== "object" || spec === null || Array.isArray(spec)) {
    throw new HttpError(400, "NotAnObject", "download must be one JSON object");
  }
  for (const key of ["to", "resume", "offset", "length", "progress"]) {
    if (key in spec) {
      throw new HttpError(
        400,
        "BadRequest",
        `download.${key} has no place here: the bytes are the response (ask a part with Range)`,
      );
    }
  }
  return spec as Record<string, unknown>;
}

/**
 * One `Range: bytes=…` as an offset and a length (undefined: to the end), or undefined for none
 * (or several ranges, which are answered whole, as RFC 9110 allows). `size` resolves suffix
 * ranges; a range that cannot be satisfied is 416.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseRange } from "./file_routes.ts";
 * assert.deepEqual(parseRange("bytes=100-199", 1000), { offset: 100, length: 100 });
 * assert.deepEqual(parseRange("bytes=900-", 1000), { offset: 900, length: 100 });
 * assert.deepEqual(parseRange("bytes=-10", 1000), { offset: 990, length: 10 });
 * assert.equal(parseRange("bytes=0-1,5-6", 1000), undefined);
 * ```
 */
export function parseRange(
  header: string | null,
  size: number | undefined,
): { offset: number; length?: number } | undefined {
  if (header === null) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match) return undefined;
  const [, first, last] = match;
  let offset: number, end: number | undefined;
  if (first === "") {
    if (last === "" || size === undefined) return undefined;
    offset = Math.max(0, size - Number(last));
    end = size - 1;
  } else {
    offset = Number(first);
    end = last === "" ? undefined : Number(last);
  }
  if (size !== undefined) end = Math.min(end ?? size - 1, size - 1);
  if ((end !== undefined && end < offset) || (size !== undefined && offset >= size)) {
    throw new HttpError(416, "RangeNotSatisfiable", `the range ${header} is not in the file`, {
      ...(size !== undefined ? { "content-range": `bytes */${size}` } : {}),
    });
  }
  return end === undefined ? { offset } : { offset, length: end - offset + 1 };
}

/** The error line of a file request as an HTTP answer. */
function refused(line: WrittenLine): Response {
  const { id: _id, ...rest } = line.value;
  const { status, headers } = statusOf(line.value);
  return jsonText(JSON.stringify(rest.message ?? rest), status >= 400 ? status : 500, headers);
}

/** `GET` and `HEAD /v1/files`. */
async function serveFile(context: RouteContext, headOnly: boolean): Promise<Response> {
  const spec = downloadSpec(context.url);
  let controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  let wanted: (() => void) | undefined;
  let cancelled = false;
  // A download's bytes, copied into the body (their buffer is lent for the next part), never
  // turned into a chunk line's base64; a reader that is behind holds them back.
  const onBytes = async (_id: number, _offset: number, bytes: Uint8Array) => {
    // The reader went away: this ends the download (a graceful close would wait for it to
    // fetch the whole file).
    if (cancelled || !controller) throw new Error("the HTTP client cancelled the body");
    controller.enqueue(bytes.slice());
    if (controller.desiredSize !== null && controller.desiredSize <= 0) {
      await new Promise<void>((resolve) => wanted = resolve);
    }
    if (cancelled) throw new Error("the HTTP client cancelled the body");
  };
  // Raw updates: this session only fetches bytes, and subscribes to nothing.
  const session = await openAccountSession(context, () => {}, {
    options: { updates: "raw" },
    onBytes,
  });
  let handedOn = false;
  try {
    const head = await session.request(2, { download: { ...spec, head: true } });
    if (head.value.error !== undefined || head.value.message !== undefined) return refused(head);
    const about = head.value.download as Record<string, unknown>;
    const size = typeof about.file_size === "number" ? about.file_size : undefined;
    const range = parseRange(context.request.headers.get("range"), size);
    const offset = range?.offset ?? 0;
    const length = range?.length ?? (size !== undefined ? size - offset : undefined);
    const headers: Record<string, string> = {
      "content-type": String(about.mime_type ?? "application/octet-stream"),
      "accept-ranges": "bytes",
      "cache-control": "private, no-store",
      ...(length !== undefined ? { "content-length": String(length) } : {}),
      ...(range
        ? {
          "content-range": `bytes ${offset}-${length !== undefined ? offset + length - 1 : ""}/${
            size ?? "*"
          }`,
        }
        : {}),
      ...(typeof about.file_name === "string"
        ? {
          "content-disposition": `inline; filename*=UTF-8''${encodeURIComponent(about.file_name)}`,
        }
        : {}),
    };
    const status = range ? 206 : 200;
    if (headOnly) return new Response(null, { status, headers });
    const release = context.keepOpen();
    // The reader cancelled the body, or its connection closed (the request's signal says so; a
    // body's cancel alone may not come while its bytes still fit the socket's buffers).
    const stop = () => {
      cancelled = true;
      wanted?.();
      session.close().catch(() => {});
    };
    context.request.signal.addEventListener("abort", stop, { once: true });
    const body = new ReadableStream<Uint8Array>({
      start: (c) => void (controller = c),
      pull: () => {
        wanted?.();
        wanted = undefined;
      },
      cancel: () => stop(),
    }, { highWaterMark: HELD_BYTES, size: (chunk) => chunk.byteLength });
    handedOn = true;
    session.request(3, {
      download: { ...spec, offset, ...(length !== undefined ? { length } : {}), progress: 0 },
    }).then((end) => {
      // The bytes are all sent, or the download failed midway: the body ends short then, which a
      // client sees against Content-Length (and the log says why).
      if (end.value.error !== undefined || end.value.message !== undefined) {
        context.front.log(`a file download ended early: ${end.text.slice(0, 300)}`);
        controller?.error(new Error(String(end.value.msg ?? "the download failed")));
      } else {
        try {
          controller?.close();
        } catch {
          // cancelled by the reader
        }
      }
    }).finally(() => {
      release();
      session.close().catch(() => {});
    });
    return new Response(body, { status, headers });
  } finally {
    if (!handedOn) await session.close();
  }
}

/** `POST /v1/upload?name=N`: the body, streamed into an inputFile / inputFileBig. */
async function uploadBody(context: RouteContext): Promise<Response> {
  const name = context.url.searchParams.get("name") ?? "file";
  const body = context.request.body;
  if (!body) throw new HttpError(400, "BadRequest", "POST /v1/upload needs the file as its body");
  // The body is the upload's stream as it is: read as parts can go, never turned into base64
  // chunk lines to be decoded back.
  let given: ReadableStream<Uint8Array> | undefined = body;
  const session: LineSession = await openAccountSession(context, () => {}, {
    options: { updates: "raw" },
    uploads: (id) => {
      if (id !== 2) return undefined;
      const source = given;
      given = undefined;
      return source;
    },
  });
  const release = context.keepOpen();
  try {
    const declared = Number(context.request.headers.get("content-length") ?? NaN);
    const size = Number.isSafeInteger(declared) && declared > 0 ? { size: declared } : {};
    const line = await session.request(2, {
      upload: { stream: true, name, ...size, progress: 0 },
    });
    if (line.value.error !== undefined || line.value.message !== undefined) return refused(line);
    return json(line.value.upload);
  } finally {
    release();
    await session.close();
  }
}

/** `GET`/`HEAD /v1/files` and `POST /v1/upload`, for a handle's account. */
export const FILE_ROUTES: WebRoute[] = [
  { method: "GET", path: "/v1/files", auth: "account", handle: (c) => serveFile(c, false) },
  { method: "HEAD", path: "/v1/files", auth: "account", handle: (c) => serveFile(c, true) },
  { method: "POST", path: "/v1/upload", auth: "account", handle: uploadBody },
];

/**
 * Reading a request's body with a size limit (413) and a deadline (408), so that a client
 * trickling its body a byte a minute, or sending gigabytes, holds nothing for long.
 *
 * @module
 */

import type { Clock, TimerId } from "../io/clock.ts";
import { HttpError } from "./http_answers.ts";

const decoder = new TextDecoder();

/**
 * The body as text: refused with 413 (BodyTooLong) past `limit` bytes, whatever Content-Length
 * says, and with 408 (BodyTimeout) when it has not all arrived within `deadlineMs`.
 */
export async function readBody(
  request: Request,
  limit: number,
  deadlineMs: number,
  clock: Clock,
  /** Told the body's length in bytes once it is read (the front's byte counts). */
  counted?: (bytes: number) => void,
): Promise<string> {
  const tooLong = () =>
    new HttpError(413, "BodyTooLong", `a request body may hold at most ${limit} bytes`);
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > limit) throw tooLong();
  if (!request.body) return "";
  const reader = request.body.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  let timer: TimerId | undefined;
  const late = new Promise<"late">((resolve) => {
    timer = clock.setTimeout(() => resolve("late"), deadlineMs);
  });
  try {
    for (;;) {
      const next = await Promise.race([reader.read(), late]);
      if (next === "late") {
        throw new HttpError(408, "BodyTimeout", `the body did not arrive within ${deadlineMs} ms`);
      }
      if (next.done) break;
      size += next.value.length;
      if (size > limit) throw tooLong();
      parts.push(next.value);
    }
  } catch (error) {
    reader.cancel().catch(() => {});
    throw error;
  } finally {
    clock.clearTimeout(timer);
  }
  counted?.(size);
  if (parts.length === 1) return decoder.decode(parts[0]);
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const part of parts) {
    bytes.set(part, at);
    at += part.length;
  }
  return decoder.decode(bytes);
}

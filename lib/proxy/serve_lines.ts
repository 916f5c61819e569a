/**
 * Runs the JSON protocol over one byte stream pair: lines in, lines out. Used by `serve` for each
 * TCP client and by `pipe` for stdin/stdout.
 *
 * @module
 */

import { readLines } from "../io/lines.ts";
import { ProxyConnection, type ProxyDefaults } from "./handler.ts";

/** How one stream of the protocol is run. */
export interface LineSession {
  readable: ReadableStream<Uint8Array>;
  /** Writes one line; the newline is added here. */
  write: (line: string) => Promise<void>;
  maxLine: number;
  /** A shared secret the first line must present as {"token": ...}. */
  token?: string;
}

/**
 * Serves one client until its input ends, then waits for the answers still owed and closes the
 * client's MTProto connections. Resolves false when the token was missing or wrong.
 */
export async function serveLines(defaults: ProxyDefaults, stream: LineSession): Promise<boolean> {
  let writing = Promise.resolve();
  const write = (line: string) => {
    writing = writing.then(() => stream.write(line + "\n")).catch(() => {});
  };
  const connection = new ProxyConnection(defaults, write);
  let authorized = stream.token === undefined;
  try {
    for await (const line of readLines(stream.readable, stream.maxLine)) {
      if (!authorized) {
        authorized = line.kind === "line" && presentsToken(line.text, stream.token!);
        if (!authorized) {
          write(
            JSON.stringify({
              id: -1,
              error: "Unauthorized",
              msg: 'the first line must be {"token": "..."} with the server\'s token',
            }),
          );
          break;
        }
        continue;
      }
      if (line.kind === "too_long") connection.lineTooLong(line.length, stream.maxLine);
      else connection.handleLine(line.text);
    }
  } catch (error) {
    defaults.log?.(`connection read error: ${(error as Error).message}`);
  }
  await connection.idle();
  await writing;
  connection.close();
  return authorized;
}

function presentsToken(text: string, token: string): boolean {
  try {
    const value = JSON.parse(text);
    return typeof value?.token === "string" && timingSafeEqual(value.token, token);
  } catch {
    return false;
  }
}

function timingSafeEqual(a: string, b: string): boolean {
  let difference = a.length ^ b.length;
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    difference |= (a.charCodeAt(i) | 0) ^ (b.charCodeAt(i) | 0);
  }
  return difference === 0;
}

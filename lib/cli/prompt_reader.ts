/**
 * Answers typed at `signin`'s prompts, all read by one reader: visible lines and the hidden
 * password alike, so that nothing typed goes to a reader that is not asking. At a terminal the
 * password is read with echo off (raw mode), where Ctrl-C arrives as a byte and ends the prompt.
 *
 * @module
 */

import { Mtproto2jsonError } from "../errors.ts";
import { readLines } from "../io/lines.ts";

/**
 * Reads one answer; `null` when the input has ended. `ask` shows the question: for a hidden
 * answer it runs after echo is off, so nothing typed right after the prompt appears is shown.
 */
export interface PromptReader {
  readLine(hidden: boolean, ask: () => Promise<void>): Promise<string | null>;
}

/** The person at the terminal pressed Ctrl-C. */
export class InterruptedError extends Mtproto2jsonError {
  override name = "Interrupted";
}

/** Answers from a stream of lines (a pipe or a file): nothing is hidden there. */
export function lineReader(stdin: ReadableStream<Uint8Array>): PromptReader {
  const lines = readLines(stdin)[Symbol.asyncIterator]();
  return {
    async readLine(_hidden, ask) {
      await ask();
      const next = await lines.next();
      return next.done || next.value.kind !== "line" ? null : next.value.text;
    },
  };
}

/** What a terminal reader needs of stdin. */
export interface TerminalInput {
  read(into: Uint8Array): Promise<number | null>;
  setRaw(raw: boolean): void;
}

const CTRL_C = 3, CTRL_D = 4, BACKSPACE = 8, LINE_FEED = 10, RETURN = 13, DELETE = 127;

/**
 * Answers from a terminal: visible ones as the terminal's line editing delivers them, hidden ones
 * byte by byte in raw mode, with backspace and Ctrl-C handled here. Bytes are read only while a
 * prompt waits, and what one read brings beyond an answer is kept for the next.
 */
export function terminalReader(input: TerminalInput): PromptReader {
  let pending = new Uint8Array(0);
  const decoder = new TextDecoder();
  const nextByte = async (): Promise<number | null> => {
    while (pending.length === 0) {
      const buffer = new Uint8Array(256);
      const count = await input.read(buffer);
      if (count === null) return null;
      pending = buffer.subarray(0, count);
    }
    const byte = pending[0];
    pending = pending.subarray(1);
    return byte;
  };
  return {
    async readLine(hidden, ask) {
      const bytes: number[] = [];
      if (hidden) input.setRaw(true);
      try {
        await ask();
        for (;;) {
          const byte = await nextByte();
          if (byte === null) return bytes.length ? decoder.decode(new Uint8Array(bytes)) : null;
          if (byte === LINE_FEED || byte === RETURN) break;
          if (hidden && byte === CTRL_C) throw new InterruptedError("interrupted");
          if (hidden && byte === CTRL_D && bytes.length === 0) return null;
          if (hidden && (byte === DELETE || byte === BACKSPACE)) {
            // Remove a whole UTF-8 character: its continuation bytes, then its lead byte.
            while (bytes.length && (bytes[bytes.length - 1] & 0xc0) === 0x80) bytes.pop();
            bytes.pop();
            continue;
          }
          bytes.push(byte);
        }
      } finally {
        if (hidden) input.setRaw(false);
      }
      return decoder.decode(new Uint8Array(bytes));
    },
  };
}

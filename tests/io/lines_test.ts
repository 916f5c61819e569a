import { assertEquals } from "../assert.ts";
import { type Line, readLines } from "../../lib/io/lines.ts";

async function collect(chunks: string[], maxLength?: number): Promise<Line[]> {
  const encoder = new TextEncoder();
  const lines: Line[] = [];
  for await (
    const line of readLines(ReadableStream.from(chunks.map((c) => encoder.encode(c))), maxLength)
  ) {
    lines.push(line);
  }
  return lines;
}

Deno.test("lines split across chunks, CRLF and a last line without newline", async () => {
  const lines = await collect(['{"a":', '1}\r\n\n{"b"', ":2}"]);
  assertEquals(lines.map((line) => line.kind === "line" ? line.text : "!"), [
    '{"a":1}',
    "",
    '{"b":2}',
  ]);
  assertEquals(lines.map((line) => line.number), [1, 2, 3]);
});

Deno.test("a line over the limit is reported once and the next line still arrives", async () => {
  const lines = await collect(["x".repeat(30), "y".repeat(30), "\nok\n"], 50);
  assertEquals(lines, [
    { kind: "too_long", length: 60, number: 1 },
    { kind: "line", text: "ok", number: 2 },
  ]);
});

Deno.test("multi-byte UTF-8 split between chunks is decoded whole", async () => {
  const bytes = new TextEncoder().encode("héllo\n");
  const lines: Line[] = [];
  const stream = ReadableStream.from([bytes.subarray(0, 2), bytes.subarray(2)]);
  for await (const line of readLines(stream)) lines.push(line);
  assertEquals(lines, [{ kind: "line", text: "héllo", number: 1 }]);
});

/**
 * The documentation's JSON examples, run: every ```jsonl block of docs/*.md is a transcript of a
 * session with `serve` — `> ` lines are what the client sends, `< ` lines what it gets back — and
 * is replayed against the emulator. An expected line matches when everything it shows is there:
 * objects may have more keys, a `"..."` value matches anything, and an array ending in `"..."`
 * may go on.
 *
 * @module
 */

/** One transcript: its file, first line, set-up words and lines. */
export interface Transcript {
  file: string;
  line: number;
  setup: string[];
  /** `send` is the line as written (re-encoding would round its big integers). */
  steps: { send?: string; id?: unknown; expect?: unknown; line: number }[];
}

/** The transcripts of one Markdown text. */
export function transcriptsOf(file: string, text: string): Transcript[] {
  const transcripts: Transcript[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const open = /^```jsonl(.*)$/.exec(lines[i]);
    if (!open) continue;
    const transcript: Transcript = {
      file,
      line: i + 1,
      setup: open[1].trim().split(/\s+/).filter(Boolean),
      steps: [],
    };
    for (i++; i < lines.length && lines[i] !== "```"; i++) {
      const step = /^([<>]) (.*)$/.exec(lines[i]);
      if (!step) {
        if (lines[i].trim() !== "") throw new Error(`${file}:${i + 1}: not a "> " or "< " line`);
        continue;
      }
      // A line that is not JSON may be sent (to show the error it gets): its error has id -2.
      let value: Record<string, unknown> = { id: -2 };
      try {
        value = JSON.parse(step[2]);
      } catch (error) {
        if (step[1] === "<") throw new Error(`${file}:${i + 1}: ${(error as Error).message}`);
      }
      transcript.steps.push(
        step[1] === ">"
          ? { send: step[2], id: value.id ?? 1, line: i + 1 }
          : { expect: value, line: i + 1 },
      );
    }
    transcripts.push(transcript);
  }
  return transcripts;
}

/** Where `actual` differs from what `expected` shows, or undefined when it matches. */
export function mismatch(expected: unknown, actual: unknown, path = ""): string | undefined {
  if (expected === "...") return undefined;
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return `${path}: expected an array, got ${JSON.stringify(actual)}`;
    const open = expected.at(-1) === "...";
    const shown = open ? expected.slice(0, -1) : expected;
    if (open ? actual.length < shown.length : actual.length !== shown.length) {
      return `${path}: expected ${shown.length}${
        open ? " or more" : ""
      } items, got ${actual.length}`;
    }
    for (let i = 0; i < shown.length; i++) {
      const found = mismatch(shown[i], actual[i], `${path}[${i}]`);
      if (found) return found;
    }
    return undefined;
  }
  if (typeof expected === "object" && expected !== null) {
    if (typeof actual !== "object" || actual === null || Array.isArray(actual)) {
      return `${path}: expected an object, got ${JSON.stringify(actual)}`;
    }
    for (const [key, value] of Object.entries(expected)) {
      if (key === "...") continue;
      const found = mismatch(value, (actual as Record<string, unknown>)[key], `${path}.${key}`);
      if (found) return found;
    }
    return undefined;
  }
  return Object.is(expected, actual)
    ? undefined
    : `${path}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`;
}

/** A runnable example: a shell, Python or JavaScript block marked `run`. */
export interface Program {
  file: string;
  line: number;
  language: "sh" | "python" | "js" | "ts" | "go";
  code: string;
  /** Text its output must contain: the `# => ...` / `// => ...` comments in it. */
  expects: string[];
}

/** The runnable examples of one Markdown text (blocks opened as ```sh run, ```python run, …). */
export function programsOf(file: string, text: string): Program[] {
  const programs: Program[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(sh|python|js|ts|go) run$/.exec(lines[i]);
    if (!open) continue;
    const start = i + 1;
    const body: string[] = [];
    for (i++; i < lines.length && lines[i] !== "```"; i++) body.push(lines[i]);
    const expects = body.flatMap((line) => {
      const match = /(?:#|\/\/) => (.*)$/.exec(line);
      return match ? [match[1].trim()] : [];
    });
    programs.push({
      file,
      line: start,
      language: open[1] as Program["language"],
      code: body.join("\n") + "\n",
      expects,
    });
  }
  return programs;
}

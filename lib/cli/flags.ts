/**
 * Reading a subcommand's flags: `node:util`'s parseArgs, plus what a person at a terminal expects
 * of it — a negative number as a flag's value (`--clock-skew -3600`), and "did you mean" for a
 * mistyped flag.
 *
 * @module
 */

import { parseArgs, type ParseArgsConfig } from "node:util";
import { UsageError } from "./usage_error.ts";

type Options = NonNullable<ParseArgsConfig["options"]>;

/**
 * Parses `args` against `options` (strict: unknown flags are errors).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseFlags } from "./flags.ts";
 * const options = { "clock-skew": { type: "string" }, verbose: { type: "boolean" } } as const;
 * assert.equal(parseFlags(["--clock-skew", "-3600"], options).values["clock-skew"], "-3600");
 * assert.throws(() => parseFlags(["--verbos"], options), /did you mean --verbose\?/);
 * ```
 */
export function parseFlags<T extends Options>(
  args: string[],
  options: T,
  allowPositionals = false,
  env?: (name: string) => string | undefined,
) {
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const name = args[i].startsWith("--") ? args[i].slice(2) : undefined;
    const next = args[i + 1];
    // parseArgs refuses a value that starts with a dash; a number is plainly a value.
    if (
      name !== undefined && options[name]?.type === "string" && next !== undefined &&
      /^-\d/.test(next)
    ) {
      joined.push(`${args[i]}=${next}`);
      i++;
    } else joined.push(args[i]);
  }
  let parsed;
  try {
    parsed = parseArgs({ args: joined, options, allowPositionals, strict: true });
  } catch (error) {
    const code = String((error as { code?: string }).code ?? "");
    const unknown = /^Unknown option '(-{1,2})([^']+)'/.exec((error as Error).message);
    if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" && unknown) {
      const guess = closest(unknown[2], Object.keys(options));
      throw new UsageError(
        `unknown flag ${unknown[1]}${unknown[2]}${guess ? `; did you mean --${guess}?` : ""}`,
      );
    }
    if (code.startsWith("ERR_PARSE_ARGS")) throw new UsageError((error as Error).message);
    throw error;
  }
  if (env) fillFromEnvironment(parsed.values as Record<string, unknown>, options, env);
  return parsed;
}

/** The environment variable that stands for a flag: `--api-id` is `MTPROTO2JSON_API_ID`. */
export function environmentName(flag: string): string {
  return `MTPROTO2JSON_${flag.toUpperCase().replaceAll("-", "_")}`;
}

/** Flags not given on the command line are taken from their environment variables. */
function fillFromEnvironment(
  values: Record<string, unknown>,
  options: Options,
  env: (name: string) => string | undefined,
): void {
  for (const [flag, option] of Object.entries(options)) {
    if (flag === "help" || (values[flag] !== undefined && values[flag] !== option.default)) {
      continue;
    }
    const text = env(environmentName(flag));
    if (text === undefined || text === "") continue;
    if (option.type === "boolean") values[flag] = text === "1" || text.toLowerCase() === "true";
    else values[flag] = option.multiple ? text.split(",") : text;
  }
}

/** The candidate nearest to `word` by edit distance, if it is near enough to be a typo. */
export function closest(word: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(word.length / 3)) + 1;
  for (const candidate of candidates) {
    const distance = editDistance(word, candidate);
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return best;
}

/**
 * Edit distance: the insertions, deletions, substitutions and swaps of two neighbours that turn
 * a into b (a swap is one typo: `--prot` is one from `--port`, two from `--proxy`).
 */
export function editDistance(a: string, b: string): number {
  let before: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        previous[j] + 1,
        current[j - 1] + 1,
        previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        current[j] = Math.min(current[j], before[j - 2] + 1);
      }
    }
    [before, previous] = [previous, current];
  }
  return previous[b.length];
}

/**
 * Reading a subcommand's flags, without `node:util`: loading Node's compatibility layer for
 * parseArgs cost `serve` ~15 ms before its port could open. What a person at a terminal expects:
 * `--name value` and `--name=value`, `-h`, repeatable flags, a negative number as a flag's value
 * (`--clock-skew -3600`), `--` before positionals, and "did you mean" for a mistyped flag.
 *
 * @module
 */

import { UsageError } from "./usage_error.ts";

/** One flag: its type, a one-letter alias, whether it repeats, and its value when not given. */
export interface FlagOption {
  type: "string" | "boolean";
  short?: string;
  multiple?: boolean;
  default?: string | boolean | string[] | boolean[];
}

/** A subcommand's flags by long name. */
export type FlagOptions = Record<string, FlagOption>;

/** The value a flag's definition reads to. */
type FlagValue<O> = O extends { type: "boolean" }
  ? (O extends { multiple: true } ? boolean[] : boolean)
  : (O extends { multiple: true } ? string[] : string);

/** The flags read by long name: those with a default always, the rest if given or set. */
export type FlagValues<T extends FlagOptions> =
  & { [K in keyof T as T[K] extends { default: unknown } ? K : never]: FlagValue<T[K]> }
  & { [K in keyof T as T[K] extends { default: unknown } ? never : K]?: FlagValue<T[K]> };

/**
 * Parses `args` against `options` (strict: unknown flags are errors); flags not given come from
 * their environment variables when `env` is given (see {@link environmentName}).
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
export function parseFlags<T extends FlagOptions>(
  args: string[],
  options: T,
  allowPositionals = false,
  env?: (name: string) => string | undefined,
): { values: FlagValues<T>; positionals: string[] } {
  const values: Record<string, unknown> = Object.create(null);
  const positionals: string[] = [];
  const set = (name: string, value: string | boolean) => {
    if (options[name].multiple) ((values[name] ??= []) as unknown[]).push(value);
    else values[name] = value;
  };
  const known = (name: string, shown: string) => {
    if (!Object.hasOwn(options, name)) {
      const guess = closest(name, Object.keys(options));
      throw new UsageError(`unknown flag ${shown}${guess ? `; did you mean --${guess}?` : ""}`);
    }
    return options[name];
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--") {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (!arg.startsWith("-") || arg === "-") {
      if (!allowPositionals) {
        throw new UsageError(`unexpected argument "${arg}": this command takes only flags`);
      }
      positionals.push(arg);
      continue;
    }
    let name: string, shown: string, inline: string | undefined;
    if (arg.startsWith("--")) {
      const equals = arg.indexOf("=");
      name = equals < 0 ? arg.slice(2) : arg.slice(2, equals);
      inline = equals < 0 ? undefined : arg.slice(equals + 1);
      shown = `--${name}`;
    } else {
      // -h, or -h with more letters: more one-letter booleans, or a one-letter flag's value.
      const letter = arg[1];
      shown = `-${letter}`;
      name = Object.keys(options).find((long) => options[long].short === letter) ?? letter;
      if (known(name, shown).type === "boolean" && arg.length > 2) {
        args = [...args.slice(0, i + 1), `-${arg.slice(2)}`, ...args.slice(i + 1)];
      } else if (arg.length > 2) inline = arg.slice(2);
    }
    const option = known(name, shown);
    if (option.type === "boolean") {
      if (inline !== undefined) throw new UsageError(`${shown} takes no value`);
      set(name, true);
      continue;
    }
    if (inline === undefined) {
      const next = args[i + 1];
      if (next === undefined) throw new UsageError(`${shown} needs a value`);
      // A value that looks like a flag is more likely a forgotten value; a number plainly is one.
      if (next.length > 1 && next.startsWith("-") && !/^-\d/.test(next)) {
        throw new UsageError(
          `${shown} needs a value, got the flag "${next}" (for a value starting with a dash: ` +
            `${shown}=${next})`,
        );
      }
      inline = next;
      i++;
    }
    set(name, inline);
  }
  for (const [name, option] of Object.entries(options)) {
    if (values[name] === undefined && option.default !== undefined) values[name] = option.default;
  }
  if (env) fillFromEnvironment(values, options, env);
  return { values: values as FlagValues<T>, positionals };
}

/** The environment variable that stands for a flag: `--api-id` is `MTPROTO2JSON_API_ID`. */
export function environmentName(flag: string): string {
  return `MTPROTO2JSON_${flag.toUpperCase().replaceAll("-", "_")}`;
}

/** Flags not given on the command line are taken from their environment variables. */
function fillFromEnvironment(
  values: Record<string, unknown>,
  options: FlagOptions,
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

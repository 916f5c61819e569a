import { assertEquals, assertThrows } from "../assert.ts";
import { parseFlags } from "../../lib/cli/flags.ts";
import { UsageError } from "../../lib/cli/usage_error.ts";

const OPTIONS = {
  port: { type: "string", default: "1543" },
  scheme: { type: "string", multiple: true },
  server: { type: "string" },
  verbose: { type: "boolean", default: false },
  help: { type: "boolean", short: "h", default: false },
} as const;

Deno.test("flags take their value after a space or an equals sign, repeat, and default", () => {
  const given = parseFlags(
    ["--port=80", "--scheme", "a.tl", "--scheme=b.tl", "--server", '{"dc": 2}', "-h"],
    OPTIONS,
  );
  assertEquals({ ...given.values }, {
    port: "80",
    scheme: ["a.tl", "b.tl"],
    server: '{"dc": 2}',
    verbose: false,
    help: true,
  });
  assertEquals({ ...parseFlags([], OPTIONS).values }, {
    port: "1543",
    verbose: false,
    help: false,
  });
  // A value may hold an equals sign of its own, or be a lone dash (stdin, for some commands).
  assertEquals(parseFlags(["--server=a=b"], OPTIONS).values.server, "a=b");
  assertEquals(parseFlags(["--server", "-"], OPTIONS).values.server, "-");
});

Deno.test("positionals come where a command takes them, and after -- even if they look like flags", () => {
  const parsed = parseFlags(["encode", "--verbose", "--", "--port", "x"], OPTIONS, true);
  assertEquals(parsed.positionals, ["encode", "--port", "x"]);
  assertEquals(parsed.values.verbose, true);
  assertEquals(parsed.values.port, "1543");
});

Deno.test("a command line that cannot be meant as written is a usage error saying why", () => {
  const refused = (args: string[], message: RegExp) => {
    const error = assertThrows(() => parseFlags(args, OPTIONS), UsageError);
    assertEquals(message.test(error.message), true, `${args.join(" ")}: ${error.message}`);
  };
  refused(["--port"], /^--port needs a value$/);
  // A forgotten value: the next flag is not taken for it.
  refused(["--server", "--verbose"], /--server needs a value, got the flag "--verbose"/);
  refused(["--verbose=yes"], /^--verbose takes no value$/);
  refused(["stray"], /unexpected argument "stray"/);
  refused(["--verbos"], /^unknown flag --verbos; did you mean --verbose\?$/);
  refused(["-x"], /^unknown flag -x/);
});

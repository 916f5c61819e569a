import { assertEquals, assertThrows } from "../assert.ts";
import { JsonSyntaxError } from "../../lib/errors.ts";
import { parseJsonExact, stringifyJson } from "../../lib/tl/json.ts";

Deno.test("integers beyond 2^53 come back exact, as strings", () => {
  const value = parseJsonExact(
    '{"a": 9223372036854775807, "b": [-9223372036854775808], "c": 9007199254740993}',
  );
  assertEquals(value, {
    a: "9223372036854775807",
    b: ["-9223372036854775808"],
    c: "9007199254740993",
  });
});

Deno.test("safe integers, doubles and digits inside strings are left alone", () => {
  const text =
    '{"s": "id 12345678901234567890, \\"99999999999999999999\\"", "n": 9007199254740991, "d": 12345678901234567.5, "e": 12345678901234567e2}';
  const value = parseJsonExact(text);
  assertEquals(value.s, 'id 12345678901234567890, "99999999999999999999"');
  assertEquals(value.n, 9007199254740991);
  assertEquals(value.d, 12345678901234567.5);
  assertEquals(value.e, 12345678901234567e2);
});

Deno.test("a string ending in an escaped backslash does not hide what follows", () => {
  const value = parseJsonExact('{"s": "a\\\\", "n": 18446744073709551615}');
  assertEquals(value, { s: "a\\", n: "18446744073709551615" });
});

Deno.test("bad JSON is a JsonSyntaxError", () => {
  assertThrows(() => parseJsonExact('{"a": 1'), JsonSyntaxError, "invalid JSON");
  assertThrows(() => parseJsonExact('{"a": 12345678901234567890'), JsonSyntaxError);
});

Deno.test("stringifyJson prints bigints exactly and bytes as base64", () => {
  assertEquals(
    stringifyJson({ a: -(2n ** 63n), b: new Uint8Array([1, 2, 3]) }),
    '{"a":-9223372036854775808,"b":"AQID"}',
  );
});

Deno.test("every number JSON.parse reads is read the same, fractions and exponents whole", () => {
  for (
    const text of [
      "0.30000000000000004",
      "1e308",
      "1e12345678901234567",
      "-1.5771985808088268e-200",
      "12345678901234567890.5",
      "1234567890123456789012345678901234567890e-20",
      "-0",
      "5e-324",
    ]
  ) {
    assertEquals(parseJsonExact(`[${text}]`), JSON.parse(`[${text}]`), text);
  }
});

Deno.test("the scan is linear: 100,000 digits before a fraction, and a long escaped string", () => {
  const digits = "1".repeat(100_000);
  assertEquals(parseJsonExact(`{"a": ${digits}.5}`).a, Number(`${digits}.5`));
  assertEquals(parseJsonExact(`{"a": ${digits}}`).a, digits);
  const escaped = '\\"'.repeat(100_000);
  assertEquals(parseJsonExact(`["${escaped}", 18446744073709551615]`)[1], "18446744073709551615");
});

Deno.test("nesting past the limit is a JsonSyntaxError, not a stack overflow", () => {
  const deep = "[".repeat(100_000) + "]".repeat(100_000);
  assertThrows(() => parseJsonExact(deep), JsonSyntaxError, "nested deeper than 1000 levels");
  const objects = '{"a":'.repeat(2000) + "1" + "}".repeat(2000);
  assertThrows(() => parseJsonExact(objects), JsonSyntaxError, "nested deeper");
  // Brackets inside strings do not count.
  assertEquals(parseJsonExact(`["${"[".repeat(5000)}"]`)[0].length, 5000);
});

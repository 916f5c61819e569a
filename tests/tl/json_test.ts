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

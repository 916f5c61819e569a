// The inflate budget on its own: bodies that are not gzip_packed pass untouched; each window
// allows so many inflated bytes; a new window starts afresh.
import { assertEquals, assertThrows } from "../assert.ts";
import { SecurityError } from "../../lib/errors.ts";
import { packGzip } from "../../lib/mtproto/gzip_packed.ts";
import {
  INFLATE_PER_WINDOW,
  INFLATE_WINDOW_SECONDS,
  InflateBudget,
} from "../../lib/mtproto/inflate_budget.ts";
import { MAX_INFLATED } from "../../lib/tl/codec.ts";

const packed = packGzip(new Uint8Array(4000), 0);

Deno.test("a body that is not gzip_packed is returned as it is and costs nothing", () => {
  const budget = new InflateBudget(4000, 10);
  const body = new Uint8Array(4000);
  assertEquals(budget.inflate(body, 0), body);
  assertEquals(budget.inflate(body, 0), body);
  // The whole allowance is still there.
  assertEquals(budget.inflate(packed, 0).length, 4000);
});

Deno.test("the window's allowance caps what the next body may inflate to", () => {
  const budget = new InflateBudget(6000, 10);
  assertEquals(budget.inflate(packed, 0).length, 4000);
  // 2000 bytes left: this body inflates past them, so it is refused.
  assertThrows(() => budget.inflate(packed, 5), SecurityError);
});

Deno.test("an exhausted window refuses at once; the next window starts from zero", () => {
  const budget = new InflateBudget(8000, 10);
  budget.inflate(packed, 100);
  budget.inflate(packed, 101);
  assertThrows(() => budget.inflate(packed, 109.9), SecurityError, "inflated 8000 bytes in 10 s");
  assertEquals(budget.inflate(packed, 110).length, 4000);
});

Deno.test("the session's default: 16 per-message budgets per 10 s", () => {
  assertEquals([INFLATE_PER_WINDOW, INFLATE_WINDOW_SECONDS], [16 * MAX_INFLATED, 10]);
});

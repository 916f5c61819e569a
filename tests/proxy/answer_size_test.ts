import { assertEquals } from "../assert.ts";
import { ExpectedAnswers } from "../../lib/proxy/answer_size.ts";

Deno.test("the output on its way: file parts count by their limit until answered, other calls not at all", () => {
  const expected = new ExpectedAnswers();
  const part = (limit: unknown) => ({ message: { _cons: "upload.getFile", offset: 0, limit } });
  expected.add(1, part(1 << 20));
  expected.add(2, part(4096));
  expected.add(3, { message: { _cons: "messages.getHistory", limit: 100 } });
  expected.add(4, part("lots"));
  expected.add(5, { download: { media: {} } });
  // base64: 4 characters for every 3 bytes (a part is never more than 1 MiB).
  assertEquals(expected.total, 1398104 + 5464);
  expected.settle(1);
  expected.settle(3);
  assertEquals(expected.total, 5464);
  expected.settle(2);
  expected.settle(2);
  assertEquals(expected.total, 0);
  expected.add(6, part(1 << 30));
  assertEquals(expected.total, 1398104);
});

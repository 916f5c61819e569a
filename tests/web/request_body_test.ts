// The web front's request bodies: a body's deadline is kept by one sweeping timer, which an idle
// server does not keep running.

import { assertEquals } from "../assert.ts";
import { BodyReader } from "../../lib/web/request_body.ts";
import { FakeClock } from "../support/fake_clock.ts";

/** A POST whose body arrives only when `send` is called (a stream left open until then). */
function slowRequest(): { request: Request; send: (text: string) => void } {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const body = new ReadableStream<Uint8Array>({ start: (given) => void (controller = given) });
  return {
    request: new Request("http://127.0.0.1/v1/ping", { method: "POST", body }),
    send: (text) => {
      controller.enqueue(new TextEncoder().encode(text));
      controller.close();
    },
  };
}

Deno.test("a body's deadline timer runs while bodies are being read and stops once none is: an idle server is not woken for nothing", async () => {
  const clock = new FakeClock();
  const bodies = new BodyReader(1024, 4000, clock);
  try {
    assertEquals(clock.pending, 0);
    const slow = slowRequest();
    const reading = bodies.read(slow.request);
    assertEquals(clock.pending, 1, "a timer while a body is on its way");
    await clock.advance(1000);
    slow.send('{"ping_id": 1}');
    assertEquals(await reading, '{"ping_id": 1}');
    // The next sweep finds nothing left to time and ends the timer.
    await clock.advance(1000);
    assertEquals(clock.pending, 0, "no timer once no body is being read");

    // Started again by the next body, which is still refused only past its deadline.
    const never = slowRequest();
    let refused: unknown;
    const waited = bodies.read(never.request).catch((error) => refused = error);
    assertEquals(clock.pending, 1);
    await clock.advance(3900);
    assertEquals(refused, undefined, "not before the deadline");
    await clock.advance(2000);
    await waited;
    assertEquals((refused as { status?: number })?.status, 408);
    await clock.advance(1000);
    assertEquals(clock.pending, 0);
  } finally {
    bodies.close();
  }
});

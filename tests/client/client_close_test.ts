// The owner closing a client (closeConnections: its JSON connection went away) while a call waits
// to connect again: the call ends as rpc_timeout, and no connection is opened after the close.
import { assertEquals } from "../assert.ts";
import { Client } from "../../lib/client/client.ts";
import { loadSchema } from "../../lib/tl/default_schema.ts";
import { generateServerKey } from "../../lib/emulator/server_key.ts";
import { acceptLoop, closeQuietly } from "../../lib/net/accept_loop.ts";

Deno.test("closing the client while a call waits to connect again ends it, and opens nothing after", async () => {
  // Every connection is closed by the server as soon as the key exchange starts.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  let accepted = 0;
  const serving = acceptLoop(listener, async (socket) => {
    accepted++;
    await socket.read(new Uint8Array(4096)).catch(() => null);
    closeQuietly(socket);
  }, () => {});
  const { key } = await generateServerKey();
  const client = new Client({
    schema: loadSchema(),
    server: {
      host: "127.0.0.1",
      port: (listener.addr as Deno.NetAddr).port,
      dc: 2,
      publicKeys: [key],
      test: false,
      transport: { kind: "intermediate" },
    },
    app: { deviceModel: "t", systemVersion: "t", appVersion: "t", langCode: "en" },
    behaviour: { timeoutSeconds: 8 },
  });
  try {
    const started = performance.now();
    const call = client.call({ _cons: "help.getNearestDc" });
    while (accepted < 2) await new Promise((resolve) => setTimeout(resolve, 5));
    client.closeConnections();
    const result = await call;
    assertEquals(result._cons, "rpc_timeout", JSON.stringify(result));
    assertEquals(result.maybe_executed, false);
    assertEquals(/closed before an answer came/.test(String(result.error_message)), true);
    assertEquals(performance.now() - started < 3000, true, "ended at the close, not the timeout");
    const seen = accepted;
    await new Promise((resolve) => setTimeout(resolve, 500));
    assertEquals(accepted, seen, "no connection after the close");
  } finally {
    closeQuietly(listener);
    await serving;
  }
});

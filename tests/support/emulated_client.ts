/**
 * A `Client` against the in-process emulator, as the client-layer tests make one: the app
 * identity, the server target of one DC, a record of the calls each DC answered, and the bytes of
 * a download gathered.
 *
 * @module
 */

import { Client, type ClientOptions } from "../../lib/client/client.ts";
import type { Emulator } from "../../lib/emulator/emulator.ts";
import { loadSchema } from "../../lib/tl/default_schema.ts";

/** The app identity the tests' clients send. */
export const TEST_APP = {
  apiId: 1,
  apiHash: "h",
  deviceModel: "t",
  systemVersion: "t",
  appVersion: "t",
  langCode: "en",
};

/** A client of DC `dc` of `emulator` (quiet unless `options` say otherwise). */
export function emulatorClient(
  emulator: Emulator,
  dc: number,
  options: Partial<ClientOptions> = {},
): Client {
  return new Client({
    schema: loadSchema(),
    server: {
      host: "127.0.0.1",
      port: emulator.dcs[dc - 1].port,
      dc,
      publicKeys: [emulator.rsaKey],
      test: false,
    },
    app: TEST_APP,
    log: () => {},
    ...options,
  });
}

/** Every call the emulator's DCs answer from now on, as "dcN method", in order. */
export function recordCalls(emulator: Emulator): string[] {
  const calls: string[] = [];
  for (const context of emulator.contexts) {
    const call = context.call.bind(context);
    context.call = (request, callContext) => {
      calls.push(`dc${context.dcId} ${request._cons}`);
      return call(request, callContext);
    };
  }
  return calls;
}

/** The chunks of a download, joined. */
export async function collectBytes(chunks: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const chunk of chunks) parts.push(chunk);
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

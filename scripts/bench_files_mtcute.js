/**
 * mtcute's half of the files benchmark (scripts/bench_files.ts): a process of its own, so that
 * its CPU time is read apart from the emulator's and the bench's. It runs mtcute 0.30 (layer 227)
 * against the local emulator only: every address it is given is 127.0.0.1.
 *
 * ```sh
 * deno run --no-lock -A scripts/bench_files_mtcute.js schema OUT.tl
 *     # writes mtcute's API layer as a .tl file (for the emulator's and serve's --scheme)
 * deno run --no-lock -A scripts/bench_files_mtcute.js client '{"port":P,"dc":2,"rsa":PEM,"fileId":"ID"}'
 *     # signs Alice in, finds the message "file ID" from Bob, prints {"ready":…}, then takes
 *     # commands on stdin, one per line, and answers each with one JSON line on stdout:
 *     #   {"download": PATH}              downloadToFile of that message's document to PATH
 *     #   {"upload": PATH}                uploadFile of PATH
 *     #   {"quit": true}
 * ```
 *
 * Like check_with_mtcute.js, mtcute stays out of the project's configuration and lock file
 * (inline `npm:` specifiers, `--no-lock`), and this file is JavaScript so that `deno check`
 * skips it.
 *
 * @module
 */

// deno-lint-ignore-file no-import-prefix

import { statSync } from "node:fs";
import { MemoryStorage, TelegramClient } from "npm:@mtcute/node@0.30.3";
import { addPublicKey } from "npm:@mtcute/core@0.30.3/utils.js";
import api from "npm:@mtcute/core@0.30.3/tl/api-schema.json" with { type: "json" };
import mtproto from "npm:@mtcute/core@0.30.3/tl/mtp-schema.json" with { type: "json" };
import { schemaTexts } from "./update_scheme.ts";

const [command, argument] = Deno.args;

if (command === "schema") {
  const texts = schemaTexts({ api, mtproto });
  await Deno.writeTextFile(argument, texts.apiText);
  console.log(JSON.stringify({ layer: texts.layer }));
  Deno.exit(0);
}

if (command !== "client") {
  console.error("usage: bench_files_mtcute.js schema OUT.tl | client CONFIG_JSON");
  Deno.exit(2);
}

const config = JSON.parse(argument);
const home = { id: config.dc, ipAddress: "127.0.0.1", port: config.port };
const tg = new TelegramClient({
  apiId: 12345,
  apiHash: "0123456789abcdef0123456789abcdef",
  storage: new MemoryStorage(),
  defaultDcs: { main: home, media: home },
  logLevel: Number(Deno.env.get("MTCUTE_LOG") ?? 0),
  // Nothing but the transfers: no update loop competing for the process.
  disableUpdates: true,
});
addPublicKey(tg.crypto ?? tg._client?.crypto ?? tg.mt?.crypto, config.rsa);

const print = (value) => console.log(JSON.stringify(value));

await tg.start({ phone: "+15550000001", code: "12345" });
const history = await tg.getHistory("bob_example", { limit: 100 });
const message = history.find((candidate) => candidate.text === `file ${config.fileId}`);
if (!message?.media) {
  print({ error: `no message "file ${config.fileId}" with media in Alice's chat with Bob` });
  Deno.exit(1);
}
const size = message.media.fileSize;
print({ ready: true, size });

const decoder = new TextDecoder();
let rest = "";
for await (const chunk of Deno.stdin.readable) {
  rest += decoder.decode(chunk, { stream: true });
  for (let end; (end = rest.indexOf("\n")) >= 0;) {
    const line = JSON.parse(rest.slice(0, end));
    rest = rest.slice(end + 1);
    try {
      if (line.download) {
        const start = performance.now();
        await tg.downloadToFile(line.download, message.media);
        // downloadToFile ends its write stream without waiting for it: the download is done
        // once every byte is in the file.
        while (statSync(line.download).size < size) {
          await new Promise((resolve) => setTimeout(resolve, 2));
        }
        print({ done: "download", ms: performance.now() - start });
      } else if (line.upload) {
        const start = performance.now();
        const file = await tg.uploadFile({ file: line.upload });
        const ms = performance.now() - start;
        const input = file.inputFile;
        print({ done: "upload", ms, cons: input._, parts: input.parts, size: file.size });
      } else if (line.quit) {
        await tg.destroy().catch(() => {});
        Deno.exit(0);
      }
    } catch (error) {
      print({ error: String(error?.stack ?? error) });
    }
  }
}
await tg.destroy().catch(() => {});

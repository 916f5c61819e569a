/**
 * Drives the emulator with Telethon (Debian's `python3-telethon`, 1.25.1, layer 144), an
 * independent MTProto client written in Python, and prints its steps: sign-in after
 * PHONE_MIGRATE, 2FA, dialogs, history, read, send, an update pushed to another session, a file
 * from another DC. The emulator serves Telethon's layer from Telethon's own `api.tl` (tag v1.25.1,
 * `telethon_generator/data/api.tl`), given as the first argument or `TELETHON_API_TL`.
 * Run by hand through `scripts/check_clients.sh`, which keeps the network to loopback.
 *
 * @module
 */

import { publicKeyToPem } from "../lib/crypto/rsa.ts";
import { startEmulator } from "../lib/emulator/emulator.ts";
import { loadSchema } from "../lib/tl/default_schema.ts";

const tlPath = Deno.args[0] ?? Deno.env.get("TELETHON_API_TL");
const python = Deno.env.get("PYTHON") ?? "/usr/bin/python3";
if (!tlPath) {
  console.log("✗ Telethon: give Telethon's api.tl (v1.25.1) as the argument or TELETHON_API_TL");
  Deno.exit(1);
}
const schema = loadSchema([{ name: "telethon-api.tl", text: await Deno.readTextFile(tlPath) }]);

/** The Telethon side; it prints ✓/✗ lines itself and exits 1 when a step failed. */
const SCRIPT = String.raw`
import asyncio, json, os, sys
from telethon import TelegramClient, events, __version__
from telethon.crypto import rsa
from telethon.sessions import MemorySession
from telethon.tl import functions, types
from telethon.tl.alltlobjects import LAYER

PORTS = json.loads(os.environ["EMULATOR_PORTS"])
rsa.add_key(os.environ["EMULATOR_RSA"], old=False)
failures = 0

async def step(name, run):
    global failures
    try:
        detail = await run()
        print(f"✓ {name}" + ("" if detail is None else f": {detail}"), flush=True)
    except Exception as error:
        failures += 1
        print(f"✗ {name}: {type(error).__name__}: {error}", flush=True)

def client():
    session = MemorySession()
    session.set_dc(2, "127.0.0.1", PORTS["2"])
    return TelegramClient(session, 12345, "0123456789abcdef0123456789abcdef",
                          connection_retries=1, retry_delay=0, receive_updates=True)

async def main():
    print(f"Telethon {__version__}, layer {LAYER}: accounts on DC 1, files on DC 3", flush=True)
    alice, bob = client(), client()
    async def sign_in_alice():
        await alice.start(phone="+15550000001", code_callback=lambda: "12345")
        return (await alice.get_me()).first_name
    async def sign_in_bob():
        await bob.start(phone="+15550000002", code_callback=lambda: "12345", password="hunter2")
        return (await bob.get_me()).first_name
    async def dialogs():
        found = await alice.get_dialogs(limit=10)
        if len(found) != 3:
            raise RuntimeError(f"expected 3 dialogs, got {len(found)}")
        return ", ".join(d.name for d in found)
    async def history():
        messages = await alice.get_messages("bob_example", limit=5)
        return ", ".join(json.dumps(m.message) for m in messages)
    async def read():
        if not await alice.send_read_acknowledge("bob_example"):
            raise RuntimeError("send_read_acknowledge returned false")
        bob_dialog = [d for d in await alice.get_dialogs(limit=10) if d.name.startswith("Bob")][0]
        return f"unread with Bob now {bob_dialog.unread_count}"
    async def update():
        received = asyncio.get_running_loop().create_future()
        @bob.on(events.NewMessage)
        async def handler(event):
            if not received.done():
                received.set_result(event.raw_text)
        await bob.get_me()
        sent = await alice.send_message("bob_example", "ping from Telethon")
        text = await asyncio.wait_for(received, 5)
        return f"sent id {sent.id}, received {json.dumps(text)}"
    async def download():
        location = types.InputDocumentFileLocation(
            id=9000001, access_hash=9100000000000000001, file_reference=b"", thumb_size="")
        data = await alice.download_file(location, bytes, dc_id=3, file_size=10000)
        return f"{len(data)} bytes"
    try:
        await step("sign in +15550000001 after PHONE_MIGRATE_1", sign_in_alice)
        await step("2FA sign-in (SRP, password hunter2)", sign_in_bob)
        await step("dialogs", dialogs)
        await step("history with Bob", history)
        await step("read history", read)
        await step("Bob's client receives Alice's message as an update", update)
        await step("upload.getFile on DC 3 (export/import authorization)", download)
    finally:
        await alice.disconnect()
        await bob.disconnect()
    sys.exit(1 if failures else 0)

asyncio.run(main())
`;

const emulator = await startEmulator({
  port: 0,
  schema,
  world: { homeDc: 1, filesDc: 3 },
  log: Deno.env.get("VERBOSE") ? (line) => console.error(`[emulator] ${line}`) : () => {},
});
let status;
try {
  const child = new Deno.Command(python, {
    args: ["-c", SCRIPT],
    env: {
      EMULATOR_PORTS: JSON.stringify(
        Object.fromEntries(emulator.dcs.map((dc) => [dc.id, dc.port])),
      ),
      EMULATOR_RSA: publicKeyToPem(emulator.rsaKey),
    },
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
  status = await child.status;
} finally {
  await emulator.close();
}
console.log(`\n${status.success ? "all steps passed" : "some steps failed"}`);
Deno.exit(status.success ? 0 : 1);

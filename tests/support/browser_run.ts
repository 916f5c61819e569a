/**
 * The browser test's body, run by tests/e2e/browser_test.ts inside `unshare -n` (loopback only),
 * so that Chromium, the emulator, `serve --http`, the page's server and Bob share one network
 * with nothing else in it. It starts them all, drives docs/examples/web/ in headless Chromium as a
 * user would (sign in as Alice, open Bob's chat, see his message arrive, answer him), and prints
 * what it saw as one JSON object ({@link BrowserReport}) on stdout.
 *
 * Usage: deno run -A tests/support/browser_run.ts SCREENSHOT.png
 *
 * @module
 */

import { startEmulator } from "../../lib/emulator/emulator.ts";
import { JsonClient } from "./json_client.ts";
import { signInBob, startServeProcess } from "./processes.ts";
import { type DevTools, openIsolatedPage, startChromium, waitInPage } from "./browser_chromium.ts";
import { startRelay } from "./browser_relay.ts";

/** What the browser run saw, for the test to assert on. */
export interface BrowserReport {
  /** The names in the page's dialog list after sign-in, top first. */
  dialogs: string[];
  /** The texts of Bob's chat as the page showed it when opened. */
  history: string[];
  /** Bob's message as the page showed it, after it arrived through EventSource. */
  live: string;
  /** The dialog on top of the list once Bob's message arrived, and its last line. */
  topDialog: string;
  /** The update Bob's client received with the text typed into the page, or null. */
  bobReceived: string | null;
  /** Bob's chat after serve's connections were cut while Bob wrote twice, and came back. */
  resumed: string[];
  /** The `Last-Event-ID` headers the page's event stream was opened with (after the first). */
  lastEventIds: string[];
  /** Who the page showed as signed in after a reload (by its cookie alone). */
  reloadedAs: string;
  /** Bob's dialogs, in a page of another browser profile signed in with his session line. */
  bobDialogs: string[];
  /** Every URL the browser asked for. */
  requested: string[];
  /** Milliseconds from Chromium's start to the end of the drive. */
  browserMs: number;
}

const root = new URL("../../", import.meta.url);
const PAGE_FILES: Record<string, [string, string]> = {
  "/": ["docs/examples/web/index.html", "text/html; charset=utf-8"],
  "/app.js": ["docs/examples/web/app.js", "text/javascript; charset=utf-8"],
};

/** The example page, served as any static server would, from another port than serve's. */
function servePage(): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (request) => {
    const file = PAGE_FILES[new URL(request.url).pathname];
    if (!file) return new Response("not found", { status: 404 });
    return new Response(await Deno.readFile(new URL(file[0], root)), {
      headers: { "content-type": file[1], "cache-control": "no-store" },
    });
  });
}

/** A string as a JavaScript literal inside an evaluated expression. */
const literal = (text: string) => JSON.stringify(text);

/** Types `text` into the field `selector` as a keyboard would (focus, then input). */
async function type(devtools: DevTools, selector: string, text: string): Promise<void> {
  await devtools.Runtime.evaluate({
    expression: `document.querySelector(${literal(selector)}).focus()`,
  });
  await devtools.Input.insertText({ text });
}

/** Presses Enter (which submits the focused field's form). */
async function pressEnter(devtools: DevTools): Promise<void> {
  for (const kind of ["keyDown", "keyUp"]) {
    await devtools.Input.dispatchKeyEvent({
      type: kind,
      key: "Enter",
      code: "Enter",
      windowsVirtualKeyCode: 13,
      ...(kind === "keyDown" ? { text: "\r" } : {}),
    });
  }
}

/** The expression that reads the page's dialog names, once there are some. */
const DIALOG_NAMES = `(() => {
  const names = [...document.querySelectorAll("#dialogs li .name")].map((n) => n.textContent);
  return names.length > 0 && names;
})()`;

/** The expression that reads the open chat's messages. */
const HISTORY = `[...document.querySelectorAll("#history .message")].map((m) => m.textContent)`;

async function run(screenshotPath: string): Promise<BrowserReport> {
  const emulator = await startEmulator({ port: 0, log: () => {} });
  const page = servePage();
  const origin = `http://127.0.0.1:${page.addr.port}`;
  const serve = await startServeProcess(emulator.serverLine(), [
    "--http",
    "127.0.0.1:0",
    "--cors",
    origin,
  ]);
  let bob: JsonClient | undefined;
  let relay: ReturnType<typeof startRelay> | undefined;
  let browser: Awaited<ReturnType<typeof startChromium>> | undefined;
  try {
    let match: RegExpExecArray | null = null;
    for (let i = 0; i < 200 && !match; i++) {
      match = /HTTP and WebSocket on (http:\/\/127\.0\.0\.1:\d+)/.exec(serve.stderr());
      if (!match) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    if (!match) throw new Error(`serve printed no HTTP address: ${serve.stderr()}`);
    // The page reaches serve through a relay, so that its connections can be cut later on.
    relay = startRelay(Number(new URL(match[1]).port));
    const api = `http://127.0.0.1:${relay.port}`;

    const started = Date.now();
    browser = await startChromium();
    const { devtools } = browser;
    const requested: string[] = [];
    const lastEventIds: string[] = [];
    devtools.Network.requestWillBeSent(
      (event: { request: { url: string } }) => requested.push(event.request.url),
    );
    // The headers as sent (EventSource adds Last-Event-ID below what requestWillBeSent shows).
    devtools.Network.requestWillBeSentExtraInfo(
      (event: { headers: Record<string, string> }) => {
        for (const [name, value] of Object.entries(event.headers)) {
          if (name.toLowerCase() === "last-event-id") lastEventIds.push(value);
        }
      },
    );
    await devtools.Network.enable();
    await devtools.Page.enable();
    await devtools.Runtime.enable();
    // A fixed viewport, so that the screenshot is the same picture run after run.
    await devtools.Emulation.setDeviceMetricsOverride({
      width: 960,
      height: 520,
      deviceScaleFactor: 1,
      mobile: false,
    });
    const query = new URLSearchParams({ api, api_id: "12345", api_hash: "hash" });
    await devtools.Page.navigate({ url: `${origin}/?${query}` });
    await devtools.Page.loadEventFired();

    // Sign in as Alice would: her phone, then the code the emulator accepts.
    await type(devtools, "#phone", "+15550000001");
    await pressEnter(devtools);
    await waitInPage(devtools, `!document.querySelector("#code-label").hidden`, "the code field");
    await type(devtools, "#code", "12345");
    await pressEnter(devtools);
    const dialogs = await waitInPage(
      devtools,
      `(() => {
        const names = [...document.querySelectorAll("#dialogs li .name")].map((n) => n.textContent);
        return document.querySelector("#status.live") && names.length > 0 && names;
      })()`,
      "the dialogs, and the event stream synced",
    ) as string[];

    // Bob's chat, opened by a click on it.
    await devtools.Runtime.evaluate({
      expression: `document.querySelector('#dialogs li[data-peer="user:1000002"]').click()`,
    });
    const history = await waitInPage(
      devtools,
      `(() => {
        const texts = [...document.querySelectorAll("#history .message")].map((m) => m.textContent);
        return texts.length > 0 && texts;
      })()`,
      "Bob's chat",
    ) as string[];

    // Bob, on another client of the same serve (its TCP port), writes to Alice.
    bob = await JsonClient.connect(serve.port);
    await signInBob(bob);
    await bob.request({ id: 20, options: { longs_as_strings: true } });
    const resolved = await bob.request({
      id: 21,
      message: { _cons: "contacts.resolveUsername", username: "alice" },
    });
    const alice = ((resolved.message as Record<string, unknown>).users as Record<string, string>[])
      .find((user) => user.id === "1000001")!;
    let nextId = 22;
    const bobSays = async (text: string) => {
      const written = await bob!.request({
        id: nextId++,
        message: {
          _cons: "messages.sendMessage",
          peer: { _cons: "inputPeerUser", user_id: alice.id, access_hash: alice.access_hash },
          message: text,
          random_id: String(nextId),
        },
      });
      if ((written.message as Record<string, unknown>)?._cons !== "updateShortSentMessage") {
        throw new Error(`Bob could not write: ${JSON.stringify(written)}`);
      }
    };
    const fromBob = "Are you there? (from Bob, live)";
    await bobSays(fromBob);
    const live = await waitInPage(
      devtools,
      `[...document.querySelectorAll("#history .message")].map((m) => m.textContent)
        .find((text) => text === ${literal(fromBob)})`,
      "Bob's message, live through EventSource",
    ) as string;
    const topDialog = await devtools.Runtime.evaluate({
      expression: `document.querySelector("#dialogs li").innerText`,
      returnByValue: true,
    });

    // Alice answers in the send box; Bob's client gets it as an update.
    const fromPage = "Yes! Typed in Chromium, sent through serve --http.";
    await type(devtools, "#text", fromPage);
    await pressEnter(devtools);
    const received = await bob.next(
      (line) => line.id === 0 && JSON.stringify(line).includes(fromPage),
      15_000,
    ).catch(() => null);
    await waitInPage(
      devtools,
      `[...document.querySelectorAll("#history .message.out")].some((m) => m.textContent === ${
        literal(fromPage)
      })`,
      "the sent message in the page",
    );
    // The cursor out of the text box, so that the picture does not depend on its blink.
    await devtools.Runtime.evaluate({ expression: "document.activeElement.blur()" });
    const shot = await devtools.Page.captureScreenshot({ format: "png" });
    await Deno.writeFile(screenshotPath, Uint8Array.fromBase64(shot.data));

    // Every connection of the page to serve drops, and stays down while Bob writes twice: the
    // browser's EventSource reconnects by itself with the last cursor it saw as Last-Event-ID,
    // and the page shows both messages, once each, in order.
    relay.cutAndHold();
    await waitInPage(
      devtools,
      `document.querySelector("#status").textContent === "reconnecting"`,
      "the stream's drop",
    );
    await bobSays("While you were away (1)");
    await bobSays("While you were away (2)");
    relay.release();
    await waitInPage(
      devtools,
      `document.querySelector("#status.live") && ${HISTORY}.includes("While you were away (2)")`,
      "the messages written while the stream was down",
    );
    // synced follows the whole catch-up: a message delivered twice would be on the page by now.
    const resumed = (await devtools.Runtime.evaluate({ expression: HISTORY, returnByValue: true }))
      .result.value;

    // A reload signs the page in again by its cookie alone.
    await devtools.Page.reload();
    const reloadedAs = await waitInPage(
      devtools,
      `document.querySelector("#status.live") && document.querySelector("#me").textContent`,
      "the page signed in again after a reload",
    ) as string;

    // Another profile (no cookie), signed in with a session line as signin prints it: Bob's.
    const bobSession = await bob.request({ id: 40, session: {} });
    const second = await openIsolatedPage(browser, `${origin}/?${query}`);
    await waitInPage(second, `document.readyState === "complete"`, "the second page");
    await type(second, "#session", JSON.stringify(bobSession));
    await second.Runtime.evaluate({
      expression: `document.querySelector("#signin-button").click()`,
    });
    const bobDialogs = await waitInPage(second, DIALOG_NAMES, "Bob's dialogs") as string[];
    await second.close();

    return {
      dialogs,
      history,
      live,
      topDialog: topDialog.result.value,
      bobReceived: received ? JSON.stringify(received) : null,
      resumed,
      lastEventIds,
      reloadedAs,
      bobDialogs,
      requested,
      browserMs: Date.now() - started,
    };
  } finally {
    bob?.close();
    await browser?.close();
    relay?.close();
    serve.child.kill("SIGTERM");
    await serve.child.status;
    await page.shutdown();
    await emulator.close();
  }
}

if (import.meta.main) {
  const path = Deno.args[0];
  if (!path) throw new Error("usage: browser_run.ts SCREENSHOT.png");
  console.log(JSON.stringify(await run(path)));
}

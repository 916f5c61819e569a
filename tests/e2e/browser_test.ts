import assert from "node:assert/strict";
import { assertEquals } from "../assert.ts";
import type { BrowserReport } from "../support/browser_run.ts";

const root = new URL("../../", import.meta.url).pathname;
/**
 * Where the screenshot goes: the one docs/http.md shows when MTPROTO2JSON_UPDATE_SCREENSHOT=1
 * (to refresh it after the page changes), else a temporary file, so that a test run leaves the
 * working tree as it was (another Chromium or other fonts would change the picture).
 */
const SCREENSHOT = Deno.env.get("MTPROTO2JSON_UPDATE_SCREENSHOT") === "1"
  ? `${root}docs/examples/web/screenshot.png`
  : await Deno.makeTempFile({ prefix: "browser_screenshot_", suffix: ".png" });

/** Runs `command` and says whether it ran and succeeded (false when it is not installed). */
async function works(command: string, args: string[]): Promise<boolean> {
  try {
    const { success } = await new Deno.Command(command, { args, stdout: "null", stderr: "null" })
      .output();
    return success;
  } catch {
    return false;
  }
}

Deno.test("a real browser: docs/examples/web/ in headless Chromium lists Alice's chats, shows Bob's message live through EventSource (resumed by Last-Event-ID after a drop), and what is typed in it reaches Bob", async () => {
  assert(
    await works("chromium", ["--version"]),
    "this test needs Debian's chromium: `apt-get install chromium` (scripts/setup.sh does it as root)",
  );
  // Chromium has outside addresses built in: it runs only where loopback is the whole network.
  const uid = new TextDecoder().decode(
    (await new Deno.Command("id", { args: ["-u"], stdout: "piped" }).output()).stdout,
  ).trim();
  const unshare = uid === "0" ? ["-n"] : ["-rn"];
  assert(
    await works("unshare", [...unshare, "true"]),
    `this test runs Chromium in a network namespace of its own: \`unshare ${
      unshare.join(" ")
    } true\` must work (as root, or with user namespaces enabled)`,
  );
  // The DevTools client comes from npm: fetched (or found cached) here, since the namespace has no
  // way out.
  const cached = await new Deno.Command(Deno.execPath(), {
    args: ["cache", `${root}tests/support/browser_run.ts`],
    stdout: "null",
    stderr: "piped",
  }).output();
  assert(cached.success, new TextDecoder().decode(cached.stderr));

  const started = Date.now();
  const child = new Deno.Command("unshare", {
    args: [
      ...unshare,
      "sh",
      "-c",
      'ip link set lo up && exec "$0" run -A --cached-only "$1" "$2"',
      Deno.execPath(),
      `${root}tests/support/browser_run.ts`,
      SCREENSHOT,
    ],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), 120_000);
  const output = await child.output();
  clearTimeout(timer);
  const stderr = new TextDecoder().decode(output.stderr);
  assertEquals(output.code, 0, stderr);
  const report: BrowserReport = JSON.parse(new TextDecoder().decode(output.stdout));

  // Alice's chats, as the page lists them after she signed in with her phone and code.
  assertEquals(
    [...report.dialogs].sort(),
    ["Bob Example", "Example Channel", "Example Group"],
    JSON.stringify(report),
  );
  assertEquals(report.history, [
    "Hi Bob!",
    "Hi Alice, how are you?",
    "Fine, testing mtproto2json.",
  ]);
  // Bob wrote while the page was open: it came over the event stream, and his chat went on top.
  assertEquals(report.live, "Are you there? (from Bob, live)");
  assertEquals(report.topDialog, "Bob Example\nAre you there? (from Bob, live)");
  // What was typed in the page's send box reached Bob's client as an update.
  assert(report.bobReceived !== null, "Bob did not receive the message typed in the page");
  const update = JSON.parse(report.bobReceived).message.updates[0];
  assertEquals(
    [update._cons, update.message.message, update.message.from_id.user_id],
    ["updateNewMessage", "Yes! Typed in Chromium, sent through serve --http.", "1000001"],
  );
  // serve's connections dropped while Bob wrote twice: the browser's EventSource came back with
  // the cursor it had as Last-Event-ID, and the page shows what it missed, once each, in order.
  assertEquals(report.resumed, [
    ...report.history,
    "Are you there? (from Bob, live)",
    "Yes! Typed in Chromium, sent through serve --http.",
    "While you were away (1)",
    "While you were away (2)",
  ]);
  assert(report.lastEventIds.length > 0 && report.lastEventIds.every((id) => id !== ""));
  // A reload is signed in by the cookie; another profile signs in with Bob's session line.
  assertEquals(report.reloadedAs, "Alice Example");
  assertEquals(
    [...report.bobDialogs].sort(),
    ["Alice Example", "Example Channel", "Example Group"],
  );
  // The page's live messages come from EventSource, and it asks nothing of anyone but its own
  // server and serve.
  assert(
    report.requested.some((url) => new URL(url).pathname === "/v1/updates"),
    report.requested.join("\n"),
  );
  for (const url of report.requested) {
    assertEquals(new URL(url).hostname, "127.0.0.1", `the page asked for ${url}`);
  }
  // A screenshot of the page was taken (see SCREENSHOT for where it went).
  const png = await Deno.readFile(SCREENSHOT);
  assertEquals([...png.subarray(1, 4)], [0x50, 0x4e, 0x47], "the screenshot is a PNG");
  assert((await Deno.stat(SCREENSHOT)).mtime!.getTime() >= started - 1000, "no new screenshot");
});

/**
 * Debian's `chromium`, headless, driven through the DevTools protocol by an npm client
 * (chrome-remote-interface). Chromium has outside addresses built in (updates, safe browsing,
 * metrics): it is only ever started inside a network namespace with loopback alone
 * (tests/e2e/browser_test.ts runs tests/support/browser_run.ts under `unshare -n`), and with
 * everything that would call out switched off as well.
 *
 * @module
 */

// deno-lint-ignore no-import-prefix
import CDP from "npm:chrome-remote-interface@0.34.0";

/** The flags that keep a headless Chromium to itself: no first run, no calls home, no extras. */
export const QUIET_CHROMIUM_FLAGS = [
  "--headless",
  "--no-first-run",
  "--no-default-browser-check",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-default-apps",
  "--disable-extensions",
  "--disable-client-side-phishing-detection",
  "--disable-domain-reliability",
  "--disable-breakpad",
  "--disable-crash-reporter",
  "--no-pings",
  "--metrics-recording-only",
  "--password-store=basic",
  "--use-mock-keychain",
  "--disable-features=Translate,MediaRouter,OptimizationHints,AutofillServerCommunication," +
  "CertificateTransparencyComponentUpdater,InterestFeedContentSuggestions,DialMediaRouteProvider",
  "--disable-gpu",
  "--disable-dev-shm-usage",
  "--hide-scrollbars",
  "--mute-audio",
];

/** A DevTools session on one page (chrome-remote-interface's client: a domain per property). */
// deno-lint-ignore no-explicit-any
export type DevTools = any;

/** A running Chromium and a DevTools session on its page. */
export interface Browser {
  devtools: DevTools;
  /** Its DevTools port on 127.0.0.1. */
  port: number;
  /** What Chromium printed (its own warnings), for a failure's message. */
  stderr(): string;
  close(): Promise<void>;
}

/**
 * Starts `chromium` headless with a fresh profile and remote debugging on a loopback port of its
 * choosing (read back from the profile's DevToolsActivePort), and opens a DevTools session on its
 * first page. As root Chromium needs `--no-sandbox`; the namespace is the fence here.
 */
export async function startChromium(width = 960, height = 600): Promise<Browser> {
  const profile = await Deno.makeTempDir({ prefix: "mtproto2json-chromium-" });
  const child = new Deno.Command("chromium", {
    args: [
      ...QUIET_CHROMIUM_FLAGS,
      ...(Deno.uid() === 0 ? ["--no-sandbox"] : []),
      `--user-data-dir=${profile}`,
      "--remote-debugging-address=127.0.0.1",
      "--remote-debugging-port=0",
      `--window-size=${width},${height}`,
      "about:blank",
    ],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const printed: string[] = [];
  (async () => {
    for await (const text of child.stderr.pipeThrough(new TextDecoderStream())) {
      printed.push(text);
    }
  })().catch(() => {});
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch {
      // already gone
    }
    await child.status;
    await Deno.remove(profile, { recursive: true }).catch(() => {});
  };
  try {
    let port = 0;
    for (let i = 0; i < 300 && !port; i++) {
      const text = await Deno.readTextFile(`${profile}/DevToolsActivePort`).catch(() => "");
      port = Number(text.split("\n")[0]) || 0;
      if (!port) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    if (!port) throw new Error(`chromium did not open its debugging port: ${printed.join("")}`);
    const devtools = await CDP({ host: "127.0.0.1", port });
    return {
      devtools,
      port,
      stderr: () => printed.join(""),
      async close() {
        await devtools.close().catch(() => {});
        await stop();
      },
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * Opens `url` in a new tab of a fresh browser context (a profile of its own: no cookies shared
 * with the other tabs) and returns a DevTools session on it.
 */
export async function openIsolatedPage(browser: Browser, url: string): Promise<DevTools> {
  // Contexts are the browser's to make, not a page's: a session on the browser target.
  const { webSocketDebuggerUrl } = await CDP.Version({ host: "127.0.0.1", port: browser.port });
  const root = await CDP({ target: webSocketDebuggerUrl });
  const { browserContextId } = await root.Target.createBrowserContext();
  const { targetId } = await root.Target.createTarget({ url, browserContextId });
  await root.close();
  const devtools = await CDP({ host: "127.0.0.1", port: browser.port, target: targetId });
  await devtools.Runtime.enable();
  return devtools;
}

/**
 * Evaluates `expression` in the page until it is truthy (or `timeoutMs` passes, then throws
 * naming `what`); resolves with its value.
 */
export async function waitInPage(
  devtools: DevTools,
  expression: string,
  what: string,
  timeoutMs = 15_000,
): Promise<unknown> {
  const started = Date.now();
  while (true) {
    const { result, exceptionDetails } = await devtools.Runtime.evaluate({
      expression,
      returnByValue: true,
    });
    if (!exceptionDetails && result.value) return result.value;
    if (Date.now() - started > timeoutMs) {
      const shown = await devtools.Runtime.evaluate({
        expression: "document.body.innerText",
        returnByValue: true,
      });
      throw new Error(
        `${what}: not within ${timeoutMs} ms; the page shows:\n${shown.result.value}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

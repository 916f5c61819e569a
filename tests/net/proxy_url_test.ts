// Proxy URLs as users write and copy them (#19): every accepted form reads into the spec the
// handshakes use, writes back into a URL that reads the same, and redacted shows neither the
// password nor the secret; bad ones are refused naming what is wrong, never echoing a secret.
import { assertEquals, assertThrows } from "../assert.ts";
import {
  parseProxyUrl,
  type ProxySpec,
  proxyToUrl,
  ProxyUrlError,
} from "../../lib/net/proxy_url.ts";
import {
  defaultServer,
  serverFromJson,
  serverToJson,
  sessionToJson,
} from "../../lib/client/session_json.ts";
import { redact } from "../../lib/proxy/redact.ts";

const KEY_HEX = "0123456789abcdef0123456789abcdef";
const KEY = Uint8Array.fromHex(KEY_HEX);
const DOMAIN_HEX = new TextEncoder().encode("www.example.com").toHex();

Deno.test("socks5:// and socks5h:// URLs, with and without credentials, IPv6 in brackets", () => {
  assertEquals(parseProxyUrl("socks5://127.0.0.1:1080"), {
    kind: "socks5",
    host: "127.0.0.1",
    port: 1080,
  });
  assertEquals(parseProxyUrl("socks5h://bob:s3cret@proxy.example:9050"), {
    kind: "socks5",
    host: "proxy.example",
    port: 9050,
    username: "bob",
    password: "s3cret",
  });
  // %-escapes in user and password are decoded; written back, they are escaped again.
  const escaped = parseProxyUrl("socks5://a%40b:p%3Aw%2Fd@[::1]:1081");
  assertEquals(escaped, {
    kind: "socks5",
    host: "::1",
    port: 1081,
    username: "a@b",
    password: "p:w/d",
  });
  assertEquals(proxyToUrl(escaped), "socks5://a%40b:p%3Aw%2Fd@[::1]:1081");
  assertEquals(parseProxyUrl(proxyToUrl(escaped)), escaped);
  // SOCKS5's own port when none is given.
  assertEquals(parseProxyUrl("SOCKS5://host").port, 1080);
});

Deno.test("http:// URLs: CONNECT proxies with Basic credentials; port 80 when none is given", () => {
  assertEquals(parseProxyUrl("http://u:p@127.0.0.1:8888"), {
    kind: "http",
    host: "127.0.0.1",
    port: 8888,
    username: "u",
    password: "p",
  });
  assertEquals(parseProxyUrl("http://proxy.example/"), {
    kind: "http",
    host: "proxy.example",
    port: 80,
  });
});

Deno.test("Telegram's proxy links as users copy them: tg://proxy, https://t.me/proxy, t.me/proxy without a scheme, mtproxy://", () => {
  const expected = { kind: "mtproxy", host: "1.2.3.4", port: 443, secret: KEY, mode: "plain" };
  assertEquals(
    parseProxyUrl(`tg://proxy?server=1.2.3.4&port=443&secret=${KEY_HEX}`),
    expected,
  );
  assertEquals(
    parseProxyUrl(`https://t.me/proxy?server=1.2.3.4&port=443&secret=${KEY_HEX}`),
    expected,
  );
  assertEquals(parseProxyUrl(`t.me/proxy?server=1.2.3.4&port=443&secret=${KEY_HEX}`), expected);
  assertEquals(parseProxyUrl(`mtproxy://1.2.3.4:443?secret=${KEY_HEX}`), expected);
  // Telegram's SOCKS5 link.
  assertEquals(parseProxyUrl("tg://socks?server=10.0.0.1&port=1080&user=u&pass=p"), {
    kind: "socks5",
    host: "10.0.0.1",
    port: 1080,
    username: "u",
    password: "p",
  });
});

Deno.test("MTProxy secrets: hex, base64url and padded base64; 16 bytes plain, dd + 16 padded, ee + 16 + domain fake-TLS", () => {
  const link = (secret: string) => parseProxyUrl(`tg://proxy?server=h&port=1&secret=${secret}`);
  assertEquals(link(KEY_HEX.toUpperCase()), {
    kind: "mtproxy",
    host: "h",
    port: 1,
    secret: KEY,
    mode: "plain",
  });
  assertEquals(link(`dd${KEY_HEX}`), {
    kind: "mtproxy",
    host: "h",
    port: 1,
    secret: KEY,
    mode: "dd",
  });
  const ee: ProxySpec = {
    kind: "mtproxy",
    host: "h",
    port: 1,
    secret: KEY,
    mode: "ee",
    domain: "www.example.com",
  };
  assertEquals(link(`ee${KEY_HEX}${DOMAIN_HEX}`), ee);
  const eeBytes = Uint8Array.fromHex(`ee${KEY_HEX}${DOMAIN_HEX}`);
  const base64 = eeBytes.toBase64();
  const base64url = base64.replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
  assertEquals(link(base64url), ee);
  // Padded base64 with its "=" escaped, and "+" as a query string turns it into a space.
  assertEquals(link(encodeURIComponent(base64)), ee);
  const withPlus = Uint8Array.of(0xdd, 0xfb, ...new Array(15).fill(0xef)).toBase64();
  assertEquals(withPlus.includes("+"), true);
  assertEquals((link(withPlus) as { mode?: string }).mode, "dd");
  // What the spec holds writes back as the same link.
  assertEquals(
    proxyToUrl(ee),
    `tg://proxy?server=h&port=1&secret=ee${KEY_HEX}${DOMAIN_HEX}`,
  );
  assertEquals(parseProxyUrl(proxyToUrl(ee)), ee);
});

Deno.test("redacted URLs show neither the password nor the secret", () => {
  assertEquals(
    proxyToUrl(parseProxyUrl("socks5://bob:hunter2@127.0.0.1:1080"), { redact: true }),
    "socks5://bob:***@127.0.0.1:1080",
  );
  assertEquals(
    proxyToUrl(parseProxyUrl("http://bob:hunter2@127.0.0.1:3128"), { redact: true }),
    "http://bob:***@127.0.0.1:3128",
  );
  const ee = proxyToUrl(
    parseProxyUrl(`tg://proxy?server=h&port=443&secret=ee${KEY_HEX}${DOMAIN_HEX}`),
    { redact: true },
  );
  assertEquals(ee, "tg://proxy?server=h&port=443&secret=***");
});

Deno.test("bad URLs are refused with a ProxyUrlError naming the problem, never the secret", () => {
  const refused = (text: string, pattern: RegExp) => {
    const error = assertThrows(() => parseProxyUrl(text), ProxyUrlError);
    if (!pattern.test(error.message)) {
      throw new Error(`"${error.message}" does not match ${pattern}`);
    }
    for (const secret of ["hunter2", KEY_HEX, "c2VjcmV0"]) {
      if (error.message.includes(secret)) throw new Error(`"${error.message}" shows a secret`);
    }
    return error;
  };
  refused("", /empty/);
  refused("ftp://bob:hunter2@h:1", /unknown proxy scheme "ftp:"/);
  refused("socks4a://h:1", /not supported/);
  refused("https://bob:hunter2@proxy.example:443", /https:\/\/ proxy .* not supported/);
  refused("socks5://h:99999", /port/);
  refused("socks5://h:1/path", /nothing after the port/);
  refused("http://:hunter2@h:1", /password but no user name/);
  refused(`socks5://${"u".repeat(256)}:p@h:1`, /255 bytes/);
  refused("tg://proxy?port=1&secret=" + KEY_HEX, /no server=/);
  refused("tg://proxy?server=h&secret=" + KEY_HEX, /no port/);
  refused("tg://proxy?server=h&port=1", /needs secret=/);
  refused("tg://proxy?server=h&port=1&secret=" + KEY_HEX.slice(2), /15 bytes/);
  refused("tg://proxy?server=h&port=1&secret=ab" + KEY_HEX, /17 bytes starting 0xab/);
  refused("tg://proxy?server=h&port=1&secret=ee" + KEY_HEX, /no domain/);
  refused("tg://proxy?server=h&port=1&secret=ee" + KEY_HEX + "2f2f", /not a host name/);
  refused("tg://proxy?server=h&port=1&secret=c2VjcmV0!", /neither hex nor base64/);
  // What redaction shows cannot be used as a URL (it would send "***" as the password).
  refused("socks5://bob:***@h:1", /redacted .* give the real password/);
  refused("tg://proxy?server=h&port=1&secret=***", /redacted .* give the real secret/);
  refused("tg://login?token=x", /tg:\/\/proxy\?\.\.\. or tg:\/\/socks/);
});

Deno.test("the server object: a proxy URL is read, shown redacted, the redacted form keeps it, and session lines never carry it", () => {
  const server = serverFromJson({ proxy: "socks5://bob:hunter2@127.0.0.1:1080" }, defaultServer());
  assertEquals(server.proxy, {
    kind: "socks5",
    host: "127.0.0.1",
    port: 1080,
    username: "bob",
    password: "hunter2",
  });
  const shown = serverToJson(server);
  assertEquals(shown.proxy, "socks5://bob:***@127.0.0.1:1080");
  // A client that sends back what it was shown keeps the proxy it had.
  assertEquals(serverFromJson(shown, server).proxy, server.proxy);
  assertEquals(serverFromJson({ proxy: null }, server).proxy, undefined);
  assertEquals(serverFromJson({ proxy: "" }, server).proxy, undefined);
  const line = JSON.stringify(sessionToJson({ dc: 2, userId: 1 }, server));
  assertEquals(line.includes("proxy") || line.includes("hunter2"), false, line);
  const bad = assertThrows(
    () => serverFromJson({ proxy: "socks5://bob:hunter2@h:0" }, server),
    ProxyUrlError,
  );
  assertEquals(bad.message.includes("hunter2"), false, bad.message);
  // Logs: --verbose copies of lines show a proxy URL redacted.
  assertEquals(
    redact({ server: { proxy: "http://bob:hunter2@127.0.0.1:3128" } }),
    { server: { proxy: "http://bob:***@127.0.0.1:3128" } },
  );
  assertEquals(redact({ server: { proxy: "bob:hunter2@nonsense" } }), {
    server: { proxy: "[redacted]" },
  });
});

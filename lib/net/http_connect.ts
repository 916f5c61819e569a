/**
 * A connection through an HTTP proxy's CONNECT method, with Basic authentication when the spec
 * has a user name. The DC goes to the proxy as given (a name stays a name: the proxy resolves
 * it). A reply other than 2xx is an error naming its status line; what the proxy sends after its
 * reply's blank line belongs to the stream.
 *
 * @module
 */

import { hostPort, type ProxySpec } from "./proxy_url.ts";
import { ProxyHandshake, type TcpConnect } from "./proxy_handshake.ts";
import type { ConnectAttempt } from "./sender_options.ts";
import { type ByteConnection, connectTcp as platformConnect } from "./tcp_connection.ts";

/** An HTTP proxy's spec. */
export type HttpProxySpec = Extract<ProxySpec, { kind: "http" }>;

const BLANK_LINE = new TextEncoder().encode("\r\n\r\n");

/** Statuses about reaching the DC, worth trying again: bad gateway, unavailable, timeout. */
const RETRIED = new Set([502, 503, 504]);

/**
 * Connects to `host:port` through the HTTP proxy of `spec` with CONNECT; resolves once the proxy
 * answers 2xx. `attempt` (the sender's) aborts it and hears what it waits for.
 *
 * @example
 * ```ts ignore
 * import { connectThroughHttp } from "./http_connect.ts";
 * const spec = { kind: "http", host: "127.0.0.1", port: 8888 } as const;
 * const connection = await connectThroughHttp(spec, "149.154.167.50", 443);
 * ```
 */
export function connectThroughHttp(
  spec: HttpProxySpec,
  host: string,
  port: number,
  connectTcp: TcpConnect = platformConnect,
  attempt?: ConnectAttempt,
): Promise<ByteConnection> {
  const handshake = new ProxyHandshake(spec, connectTcp, attempt);
  return handshake.run(async () => {
    const target = hostPort(host, port);
    if (/[\s\r\n]/.test(target)) {
      throw handshake.refused(`not a host name: ${JSON.stringify(host)}`);
    }
    const lines = [`CONNECT ${target} HTTP/1.1`, `Host: ${target}`];
    if (spec.username !== undefined) {
      const pair = new TextEncoder().encode(`${spec.username}:${spec.password ?? ""}`);
      lines.push(`Proxy-Authorization: Basic ${pair.toBase64()}`);
    }
    handshake.enter("connect request", `did not answer CONNECT ${target}`);
    await handshake.write(new TextEncoder().encode(lines.join("\r\n") + "\r\n\r\n"));
    const header = new TextDecoder().decode(await handshake.readThrough(BLANK_LINE));
    const statusLine = header.slice(0, header.indexOf("\r\n"));
    const status = /^HTTP\/1\.[01] (\d{3})(?: |$)/.exec(statusLine);
    if (!status) {
      throw handshake.refused(
        `not an HTTP proxy: its reply starts ${JSON.stringify(printable(statusLine))}`,
      );
    }
    const code = Number(status[1]);
    if (code >= 200 && code < 300) return;
    const said = JSON.stringify(printable(statusLine));
    // 407 is the proxy's own refusal; tinyproxy answers a CONNECT without the right Basic
    // credentials with 401.
    if (code === 407 || code === 401) {
      handshake.step = "auth";
      throw handshake.refused(
        spec.username === undefined
          ? `the proxy asks for a user name and password (${said}): give them as ` +
            `http://user:pass@host:port`
          : `the user name and password were refused (${said})`,
      );
    }
    const reason = `CONNECT ${target} was answered ${said}`;
    throw RETRIED.has(code) ? handshake.unreachable(reason) : handshake.refused(reason);
  });
}

/** At most 200 characters of a reply line, control characters shown as `?`. */
function printable(line: string): string {
  // deno-lint-ignore no-control-regex
  return line.slice(0, 200).replace(/[\x00-\x1f\x7f]/g, "?");
}

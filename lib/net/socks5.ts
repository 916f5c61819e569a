/**
 * A connection through a SOCKS5 proxy (RFC 1928), with user name and password (RFC 1929) when
 * the spec has them. The DC is asked for as a domain name when it is one — the proxy resolves it,
 * nothing is looked up here — and as an IPv4 or IPv6 address when it is an address. Every reply
 * is checked (version, status with its reason, address type) before a byte of MTProto is sent.
 *
 * @module
 */

import type { ProxySpec } from "./proxy_url.ts";
import { ProxyHandshake, type TcpConnect } from "./proxy_handshake.ts";
import type { ConnectAttempt } from "./sender_options.ts";
import { type ByteConnection, connectTcp as platformConnect } from "./tcp_connection.ts";

/** A SOCKS5 proxy's spec. */
export type Socks5Spec = Extract<ProxySpec, { kind: "socks5" }>;

const VERSION = 5;
const NO_AUTH = 0x00;
const USER_PASSWORD = 0x02;
const NO_ACCEPTABLE = 0xff;
const CONNECT = 0x01;
const IPV4 = 0x01;
const DOMAIN = 0x03;
const IPV6 = 0x04;

/** RFC 1928's reply codes, in words; the first group is about the DC, worth trying again. */
const REPLIES: Record<number, { reason: string; retry: boolean }> = {
  0x01: { reason: "general SOCKS server failure", retry: true },
  0x02: { reason: "connection not allowed by ruleset", retry: false },
  0x03: { reason: "network unreachable", retry: true },
  0x04: { reason: "host unreachable", retry: true },
  0x05: { reason: "connection refused", retry: true },
  0x06: { reason: "TTL expired", retry: true },
  0x07: { reason: "command not supported", retry: false },
  0x08: { reason: "address type not supported", retry: false },
};

/**
 * Connects to `host:port` through the SOCKS5 proxy of `spec`; resolves once the proxy says the
 * connection is made. `attempt` (the sender's) aborts it and hears what it waits for.
 *
 * @example
 * ```ts ignore
 * import { connectThroughSocks5 } from "./socks5.ts";
 * const spec = { kind: "socks5", host: "127.0.0.1", port: 1080 } as const;
 * const connection = await connectThroughSocks5(spec, "149.154.167.50", 443);
 * ```
 */
export function connectThroughSocks5(
  spec: Socks5Spec,
  host: string,
  port: number,
  connectTcp: TcpConnect = platformConnect,
  attempt?: ConnectAttempt,
): Promise<ByteConnection> {
  const handshake = new ProxyHandshake(spec, connectTcp, attempt);
  return handshake.run(async () => {
    const withPassword = spec.username !== undefined;
    handshake.enter("greeting", "did not answer the greeting");
    await handshake.write(
      Uint8Array.of(VERSION, ...(withPassword ? [2, NO_AUTH, USER_PASSWORD] : [1, NO_AUTH])),
    );
    const [version, method] = await handshake.read(2);
    if (version !== VERSION) {
      throw handshake.refused(`not a SOCKS5 proxy: its greeting reply has version ${version}`);
    }
    if (method === USER_PASSWORD && withPassword) {
      await authenticate(handshake, spec.username!, spec.password ?? "");
    } else if (method === USER_PASSWORD) {
      throw handshake.refused(
        "the proxy asks for a user name and password: give them as socks5://user:pass@host:port",
      );
    } else if (method === NO_ACCEPTABLE) {
      throw handshake.refused(
        `the proxy accepts none of the offered methods (${
          withPassword
            ? "none, user name and password"
            : "none; it may need a user name and password"
        })`,
      );
    } else if (method !== NO_AUTH) {
      throw handshake.refused(`the proxy chose method ${method}, which was not offered`);
    }
    handshake.enter("connect request", `did not answer the request to connect to ${host}:${port}`);
    let address: number[];
    try {
      address = addressBytes(host);
    } catch (error) {
      throw handshake.refused((error as Error).message);
    }
    await handshake.write(
      Uint8Array.of(VERSION, CONNECT, 0, ...address, port >> 8, port & 0xff),
    );
    await readReply(handshake, host, port);
  });
}

/** RFC 1929: the user name and password, and the proxy's verdict. */
async function authenticate(handshake: ProxyHandshake, username: string, password: string) {
  handshake.enter("auth", "did not answer the user name and password");
  const user = new TextEncoder().encode(username);
  const pass = new TextEncoder().encode(password);
  await handshake.write(Uint8Array.of(1, user.length, ...user, pass.length, ...pass));
  const [version, status] = await handshake.read(2);
  if (version !== 1) {
    throw handshake.refused(
      `its reply to the user name and password has version ${version}, not 1`,
    );
  }
  if (status !== 0) {
    throw handshake.refused(`the user name and password were refused (status ${status})`);
  }
}

/** The reply to CONNECT: version, status, and the bound address (read past, then ignored). */
async function readReply(handshake: ProxyHandshake, host: string, port: number) {
  const [version, reply, , type] = await handshake.read(4);
  if (version !== VERSION) {
    throw handshake.refused(`not a SOCKS5 reply: version ${version}`);
  }
  if (reply !== 0) {
    const known = REPLIES[reply];
    const reason = `could not connect to ${host}:${port}: ${
      known?.reason ?? "an unknown failure"
    } (reply ${reply})`;
    throw known?.retry ? handshake.unreachable(reason) : handshake.refused(reason);
  }
  let length: number;
  if (type === IPV4) length = 4;
  else if (type === IPV6) length = 16;
  else if (type === DOMAIN) length = (await handshake.read(1))[0];
  else throw handshake.refused(`its reply has a bogus address type ${type} (1, 3 or 4 expected)`);
  await handshake.read(length + 2);
}

/** The address as RFC 1928 writes it: its type byte, then IPv4, a domain name, or IPv6. */
function addressBytes(host: string): number[] {
  const ipv4 = ipv4Bytes(host);
  if (ipv4) return [IPV4, ...ipv4];
  const unbracketed = host.replace(/^\[(.*)\]$/, "$1");
  if (unbracketed.includes(":")) return [IPV6, ...ipv6Bytes(unbracketed)];
  const name = new TextEncoder().encode(host);
  if (name.length === 0 || name.length > 255) {
    throw new RangeError(`a SOCKS5 domain name is 1 to 255 bytes: "${host}"`);
  }
  return [DOMAIN, name.length, ...name];
}

function ipv4Bytes(host: string): number[] | undefined {
  const parts = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (!parts) return undefined;
  const bytes = parts.slice(1).map(Number);
  return bytes.every((byte) => byte <= 255) ? bytes : undefined;
}

/**
 * An IPv6 address's 16 bytes (`::` and a trailing dotted IPv4 allowed).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ipv6Bytes } from "./socks5.ts";
 * assert.deepEqual(ipv6Bytes("::1"), [...new Array(15).fill(0), 1]);
 * ```
 */
export function ipv6Bytes(text: string): number[] {
  const bad = () => new RangeError(`not an IPv6 address: "${text}"`);
  let words = text.split(":");
  const last = words[words.length - 1];
  const tail = ipv4Bytes(last);
  if (tail) {
    words = [
      ...words.slice(0, -1),
      ((tail[0] << 8) | tail[1]).toString(16),
      ((tail[2] << 8) | tail[3]).toString(16),
    ];
  }
  const gap = text.indexOf("::");
  if (gap !== text.lastIndexOf("::")) throw bad();
  let groups: string[];
  if (gap >= 0) {
    const joined = words.join(":");
    const [before, after] = joined.split("::");
    const head = before ? before.split(":") : [];
    const rest = after ? after.split(":") : [];
    if (head.length + rest.length > 7) throw bad();
    groups = [...head, ...new Array(8 - head.length - rest.length).fill("0"), ...rest];
  } else {
    groups = words;
  }
  if (groups.length !== 8 || !groups.every((group) => /^[0-9a-f]{1,4}$/i.test(group))) throw bad();
  return groups.flatMap((group) => {
    const value = parseInt(group, 16);
    return [value >> 8, value & 0xff];
  });
}

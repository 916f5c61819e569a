/**
 * Where each DC is reached: its main address and, for DCs that hold files, its `media_only` one,
 * read from `help.getConfig` once and kept until the client points at another server.
 *
 * @module
 */

import { RpcError } from "../errors.ts";
import type { TlObject } from "../tl/codec.ts";

/** A host and port. */
export interface DcAddress {
  host: string;
  port: number;
}

/**
 * The main, `media_only` and CDN IPv4 addresses of every DC in a `config`, first listed first
 * (TCPO-only entries are someone else's business).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dcAddressesOf } from "./dc_addresses.ts";
 * const config = {
 *   _cons: "config",
 *   dc_options: [
 *     { _cons: "dcOption", id: 4, ip_address: "127.0.0.1", port: 4433 },
 *     { _cons: "dcOption", id: 4, media_only: true, ip_address: "127.0.0.1", port: 5433 },
 *   ],
 * };
 * const { main, media } = dcAddressesOf(config);
 * assert.deepEqual(main.get(4), { host: "127.0.0.1", port: 4433 });
 * assert.deepEqual(media.get(4), { host: "127.0.0.1", port: 5433 });
 * ```
 */
export function dcAddressesOf(
  config: TlObject,
): { main: Map<number, DcAddress>; media: Map<number, DcAddress>; cdn: Map<number, DcAddress> } {
  if (config._cons !== "config") {
    throw new RpcError(500, `DC_ADDRESS_UNKNOWN: help.getConfig answered ${config._cons}`);
  }
  const main = new Map<number, DcAddress>();
  const media = new Map<number, DcAddress>();
  const cdn = new Map<number, DcAddress>();
  for (const option of config.dc_options as TlObject[]) {
    if (option.ipv6 || option.tcpo_only) continue;
    const into = option.cdn ? cdn : option.media_only ? media : main;
    if (!into.has(option.id as number)) {
      into.set(option.id as number, {
        host: option.ip_address as string,
        port: option.port as number,
      });
    }
  }
  return { main, media, cdn };
}

/** The DC addresses one client knows, asked for once. */
export class DcAddresses {
  #known?: Promise<ReturnType<typeof dcAddressesOf>>;

  /** Forgets them (the client points at another server). */
  forget(): void {
    this.#known = undefined;
  }

  /** DC `dc`'s main address; `config` asks for the config when none is known yet. */
  async main(dc: number, config: () => Promise<TlObject>): Promise<DcAddress> {
    const address = (await this.#read(config)).main.get(dc);
    if (!address) throw new RpcError(400, `DC_ID_INVALID: no address for DC ${dc}`);
    return address;
  }

  /** DC `dc`'s `media_only` address, when the config gives one. */
  async media(dc: number, config: () => Promise<TlObject>): Promise<DcAddress | undefined> {
    return (await this.#read(config)).media.get(dc);
  }

  /** CDN DC `dc`'s address, when the config lists it. */
  async cdn(dc: number, config: () => Promise<TlObject>): Promise<DcAddress | undefined> {
    return (await this.#read(config)).cdn.get(dc);
  }

  #read(config: () => Promise<TlObject>) {
    const known = this.#known ??= config().then(dcAddressesOf);
    // A failed ask is not remembered: the next call asks again.
    known.catch(() => {
      if (this.#known === known) this.#known = undefined;
    });
    return known;
  }
}

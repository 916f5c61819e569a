/**
 * The connections file traffic goes on, apart from the account's main connection to each DC so
 * that a long transfer never delays its other calls: several per DC (one per slot), on the DC's
 * `media_only` address when the config gives one, under the DC's key in sessions of their own;
 * and connections to CDN DCs, made with the CDN's own RSA keys (`help.getCdnConfig`) and no
 * authorization at all.
 *
 * @module
 */

import { Mtproto2jsonError } from "../errors.ts";
import { parsePublicKeyPem, type RsaPublicKey } from "../crypto/rsa.ts";
import type { Sender } from "../net/sender.ts";
import type { SenderOptions } from "../net/sender_options.ts";
import type { TlObject } from "../tl/codec.ts";
import type { DcAddress } from "./dc_addresses.ts";

/** A call the senders make for themselves on a DC (config, CDN keys), decoded natively. */
export type SenderCall = (dc: number, request: TlObject, resultType: string) => Promise<TlObject>;

/** What the router lends the file senders. */
export interface FileSendersHost {
  /** The account's home DC (where `help.getCdnConfig` is asked). */
  homeDc(): number;
  /** DC `dc`'s main sender, made if needed. */
  senderFor(dc: number, call: SenderCall): Promise<Sender>;
  /** Makes DC `dc` act for the account (export and import), once. */
  authorize(dc: number, call: SenderCall): Promise<void>;
  mainAddressOf(dc: number, call: SenderCall): Promise<DcAddress>;
  mediaAddressOf(dc: number, call: SenderCall): Promise<DcAddress | undefined>;
  cdnAddressOf(dc: number, call: SenderCall): Promise<DcAddress | undefined>;
  /**
   * A sender to `address` for DC `dc`, under `key` (none: a new one), with `publicKeys`; `media`
   * when `address` is the DC's media-only one (an MTProxy routes it by a negative DC id).
   */
  newSender(
    dc: number,
    address: DcAddress,
    key: { authKey?: Uint8Array },
    hooks: Pick<SenderOptions, "onUpdate" | "onNewSession" | "onAuthKeyUnknown">,
    publicKeys?: RsaPublicKey[],
    media?: boolean,
  ): Sender;
  /** A new session began on `sender`: its next call needs initConnection. */
  onNewSession(sender: Sender): void;
  /** DC `dc` no longer knows the key its file connections used. */
  keyLost(dc: number): void;
}

/** The file and CDN connections of one client. */
export class FileSenders {
  readonly #host: FileSendersHost;
  readonly #senders = new Map<string, Sender>();
  readonly #making = new Map<string, Promise<Sender>>();
  #cdnKeys?: Promise<RsaPublicKey[]>;

  /** File senders over the router's pieces. */
  constructor(host: FileSendersHost) {
    this.#host = host;
  }

  /**
   * The sender of file connection `slot` to DC `dc`: under the key of the DC's main connection
   * (made, and for another DC authorized, first).
   */
  fileSender(dc: number, slot: number, call: SenderCall): Promise<Sender> {
    return this.#get(`file ${dc}:${slot}`, async (name) => {
      const host = this.#host;
      const main = await host.senderFor(dc, call);
      if (dc !== host.homeDc()) await host.authorize(dc, call);
      if (!main.authKey) await main.connect();
      const media = await host.mediaAddressOf(dc, call);
      const address = media ?? await host.mainAddressOf(dc, call);
      const sender: Sender = host.newSender(
        dc,
        address,
        { authKey: main.authKey! },
        {
          // Updates are for the account's main connection; file calls go without them.
          onUpdate: () => {},
          onNewSession: () => host.onNewSession(sender),
          onAuthKeyUnknown: () => {
            if (this.#senders.get(name) === sender) this.#senders.delete(name);
            host.keyLost(dc);
          },
        },
        undefined,
        media !== undefined,
      );
      return sender;
    });
  }

  /** The sender of connection `slot` to CDN DC `dc` (its address and keys from the home DC). */
  cdnSender(dc: number, slot: number, call: SenderCall): Promise<Sender> {
    return this.#get(`cdn ${dc}:${slot}`, async (name) => {
      const host = this.#host;
      const address = await host.cdnAddressOf(dc, call);
      if (!address) throw new CdnUnknownError(`no address for CDN DC ${dc} in the config`);
      const keys = await this.#keysOf(call);
      const sender: Sender = host.newSender(dc, address, {}, {
        onUpdate: () => {},
        onNewSession: () => host.onNewSession(sender),
        // A CDN key is nobody's: a new one is made on the next connection.
        onAuthKeyUnknown: () => {
          if (this.#senders.get(name) === sender) this.#senders.delete(name);
        },
      }, keys);
      return sender;
    });
  }

  /** The CDN DCs' RSA keys, asked of the home DC once. */
  #keysOf(call: SenderCall): Promise<RsaPublicKey[]> {
    const known = this.#cdnKeys ??= call(
      this.#host.homeDc(),
      { _cons: "help.getCdnConfig" },
      "CdnConfig",
    ).then((config) =>
      (config.public_keys as TlObject[] ?? []).map((key) =>
        parsePublicKeyPem(String(key.public_key))
      )
    );
    known.catch(() => {
      if (this.#cdnKeys === known) this.#cdnKeys = undefined;
    });
    return known;
  }

  /** The open sender named `name`, or the one `make` makes (once, for every caller). */
  async #get(name: string, make: (name: string) => Promise<Sender>): Promise<Sender> {
    const existing = this.#senders.get(name);
    if (existing && !existing.closed) return existing;
    let making = this.#making.get(name);
    if (!making) {
      making = make(name).then((sender) => {
        this.#senders.set(name, sender);
        return sender;
      }).finally(() => this.#making.delete(name));
      this.#making.set(name, making);
    }
    return await making;
  }

  /** Closes and forgets DC `dc`'s file connections (their key is gone). */
  dropDc(dc: number): void {
    for (const [name, sender] of this.#senders) {
      if (name.startsWith(`file ${dc}:`)) {
        this.#senders.delete(name);
        sender.close();
      }
    }
  }

  /** Every open sender, for closing. */
  takeAll(): Sender[] {
    const all = [...this.#senders.values()];
    this.#senders.clear();
    this.#cdnKeys = undefined;
    return all;
  }
}

/** The config names no such CDN DC. */
export class CdnUnknownError extends Mtproto2jsonError {
  override name = "CdnUnknownError";
}

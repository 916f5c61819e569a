/**
 * `help.*`: the configuration a client starts from (the emulator's DCs, with their media-only
 * addresses and the CDN DC), the CDN's public keys, and the nearest DC.
 *
 * @module
 */

import type { TlObject } from "../../tl/codec.ts";
import type { DcAddress } from "./tools.ts";
import type { Handler, Tools } from "./tools.ts";

/** The handlers of this namespace, by method name. */
export function helpMethods(tools: Tools, dcs: () => DcAddress[]): Record<string, Handler> {
  const { now, world } = tools;
  const service = world.fileService;
  /** Each DC's address, then its media-only one (for file traffic), then the CDN DC's. */
  const dcOptions = () => {
    const options: TlObject[] = dcs().map((dc) => ({
      _cons: "dcOption",
      id: dc.id,
      ip_address: "127.0.0.1",
      port: dc.port,
    }));
    for (const dc of dcs()) {
      const port = service.mediaPorts.get(dc.id);
      if (port === undefined) continue;
      options.push({
        _cons: "dcOption",
        media_only: true,
        id: dc.id,
        ip_address: "127.0.0.1",
        port,
      });
    }
    const cdn = service.cdn.address;
    if (cdn) {
      options.push({
        _cons: "dcOption",
        cdn: true,
        id: cdn.dcId,
        ip_address: "127.0.0.1",
        port: cdn.port,
      });
    }
    return options;
  };
  return {
    "help.getConfig": (_call, context) => ({
      _cons: "config",
      date: now(context),
      expires: now(context) + 3600,
      test_mode: false,
      this_dc: context.dc.dcId,
      dc_options: dcOptions(),
      dc_txt_domain_name: "emulator.invalid",
      chat_size_max: 200,
      megagroup_size_max: 200000,
      forwarded_count_max: 100,
      online_update_period_ms: 210000,
      offline_blur_timeout_ms: 5000,
      offline_idle_timeout_ms: 30000,
      online_cloud_timeout_ms: 300000,
      notify_cloud_delay_ms: 30000,
      notify_default_delay_ms: 1500,
      push_chat_period_ms: 60000,
      push_chat_limit: 2,
      edit_time_limit: 172800,
      revoke_time_limit: 2147483647,
      revoke_pm_time_limit: 2147483647,
      rating_e_decay: 2419200,
      stickers_recent_limit: 200,
      channels_read_media_period: 604800,
      call_receive_timeout_ms: 20000,
      call_ring_timeout_ms: 90000,
      call_connect_timeout_ms: 30000,
      call_packet_timeout_ms: 10000,
      me_url_prefix: "https://t.me/",
      caption_length_max: 1024,
      message_length_max: 4096,
      webfile_dc_id: context.dc.dcId,
    }),

    // The RSA keys of the CDN DCs, which differ from the master DCs' key.
    "help.getCdnConfig": () => ({
      _cons: "cdnConfig",
      public_keys: service.cdn.address
        ? [{
          _cons: "cdnPublicKey",
          dc_id: service.cdn.address.dcId,
          public_key: service.cdn.address.publicKeyPem,
        }]
        : [],
    }),

    "help.getNearestDc": (_call, context) => ({
      _cons: "nearestDc",
      country: "US",
      this_dc: context.dc.dcId,
      nearest_dc: context.dc.dcId,
    }),
  };
}

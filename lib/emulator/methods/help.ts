/**
 * `help.*`: the configuration a client starts from (the emulator's DCs) and its nearest DC.
 *
 * @module
 */

import type { DcAddress } from "./tools.ts";
import type { Handler, Tools } from "./tools.ts";

/** The handlers of this namespace, by method name. */
export function helpMethods(tools: Tools, dcs: () => DcAddress[]): Record<string, Handler> {
  const { now } = tools;
  return {
    "help.getConfig": (_call, context) => ({
      _cons: "config",
      date: now(context),
      expires: now(context) + 3600,
      test_mode: false,
      this_dc: context.dc.dcId,
      dc_options: dcs().map((dc) => ({
        _cons: "dcOption",
        id: dc.id,
        ip_address: "127.0.0.1",
        port: dc.port,
      })),
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

    "help.getNearestDc": (_call, context) => ({
      _cons: "nearestDc",
      country: "US",
      this_dc: context.dc.dcId,
      nearest_dc: context.dc.dcId,
    }),
  };
}

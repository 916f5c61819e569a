/**
 * The account's sessions and devices: `account.getAuthorizations` lists every key signed in to
 * the account (the caller's own marked current, with hash 0, as Telegram shows it),
 * `account.resetAuthorization` and `auth.resetAuthorizations` sign keys out (their next call gets
 * 401 AUTH_KEY_UNREGISTERED), and `account.registerDevice` / `account.unregisterDevice` take push
 * tokens, which the emulator keeps but never pushes to.
 *
 * @module
 */

import { RpcError } from "../../errors.ts";
import type { Authorization } from "../authorizations.ts";
import type { Handler, Tools } from "./tools.ts";

/** How long an idle session lives, in days, as Telegram's default. */
const AUTHORIZATION_TTL_DAYS = 180;

/** The handlers, by method name. */
export function accountMethods(tools: Tools): Record<string, Handler> {
  const { world, viewer } = tools;
  /** Push tokens by token type and token: the account they were registered for. */
  const devices = new Map<string, number>();

  const authorizationObject = (entry: Authorization, current: boolean) => ({
    _cons: "authorization",
    ...(current ? { current: true } : {}),
    hash: current ? 0n : entry.hash,
    device_model: entry.app?.deviceModel || "unknown device",
    platform: "",
    system_version: entry.app?.systemVersion ?? "",
    api_id: entry.app?.apiId ?? 0,
    app_name: entry.app ? `api_id ${entry.app.apiId}` : "unknown app",
    app_version: entry.app?.appVersion ?? "",
    date_created: entry.created,
    date_active: entry.active,
    ip: "127.0.0.1",
    country: "",
    region: "",
  });

  return {
    "account.getAuthorizations": (_call, context) => {
      const me = viewer(context);
      const mine = world.authorizations.of(context.key);
      // The caller's own authorization first, whether it signed in or imported its sign-in.
      const ownHash = mine?.parent ?? mine?.hash;
      const listed = world.authorizations.listed(me.id);
      const own = listed.filter((entry) => entry.hash === ownHash);
      const others = listed.filter((entry) => entry.hash !== ownHash);
      return {
        _cons: "account.authorizations",
        authorization_ttl_days: AUTHORIZATION_TTL_DAYS,
        authorizations: [
          ...own.map((entry) => authorizationObject(entry, true)),
          ...others.map((entry) => authorizationObject(entry, false)),
        ],
      };
    },

    "account.resetAuthorization": (call, context) => {
      const me = viewer(context);
      const entry = world.authorizations.find(me.id, call.hash as bigint);
      const mine = world.authorizations.of(context.key);
      // Hash 0 is the caller's own session, which auth.logOut ends, not this.
      if (!entry || entry.hash === (mine?.parent ?? mine?.hash)) {
        throw new RpcError(400, "HASH_INVALID");
      }
      world.authorizations.drop(entry.key);
      return { _cons: "boolTrue" };
    },

    "auth.resetAuthorizations": (_call, context) => {
      const me = viewer(context);
      const mine = world.authorizations.of(context.key);
      const ownHash = mine?.parent ?? mine?.hash;
      for (const entry of world.authorizations.listed(me.id)) {
        if (entry.hash !== ownHash) world.authorizations.drop(entry.key);
      }
      return { _cons: "boolTrue" };
    },

    "account.registerDevice": (call, context) => {
      const me = viewer(context);
      if (!String(call.token)) throw new RpcError(400, "TOKEN_INVALID");
      devices.set(`${call.token_type}:${call.token}`, me.id);
      return { _cons: "boolTrue" };
    },

    "account.unregisterDevice": (call, context) => {
      const me = viewer(context);
      const key = `${call.token_type}:${call.token}`;
      if (devices.get(key) === me.id) devices.delete(key);
      return { _cons: "boolTrue" };
    },
  };
}

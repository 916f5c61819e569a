/**
 * `auth.bindTempAuthKey`: perfect forward secrecy. A temporary key (created with
 * `p_q_inner_data_temp_dc`) is bound to the permanent key that signs the call's inner message;
 * from then on the temporary key acts for the permanent key's account until it expires.
 * https://core.telegram.org/method/auth.bindTempAuthKey
 *
 * @module
 */

import { RpcError, SecurityError } from "../../errors.ts";
import { authKeyIdLong, checkTempKeyBinding } from "../../mtproto/temp_key_binding.ts";
import type { Handler, Tools } from "./tools.ts";

/** The handlers of this namespace, by method name. */
export function pfsMethods(tools: Tools, log: (line: string) => void): Record<string, Handler> {
  const { now } = tools;
  return {
    "auth.bindTempAuthKey": (call, context) => {
      const temp = context.messageKey;
      if (temp.expiresAt === undefined) throw new RpcError(400, "TEMP_AUTH_KEY_EMPTY");
      if (temp.boundTo) throw new RpcError(400, "TEMP_AUTH_KEY_ALREADY_BOUND");
      const idBytes = new Uint8Array(8);
      new DataView(idBytes.buffer).setBigInt64(0, call.perm_auth_key_id as bigint, true);
      const perm = context.dc.keys.find(idBytes, now(context));
      const refuse = (why: string) => {
        log(`dc${context.dc.dcId}: auth.bindTempAuthKey refused: ${why}`);
        return new RpcError(400, "ENCRYPTED_MESSAGE_INVALID");
      };
      if (!perm || perm.expiresAt !== undefined) throw refuse("no such permanent key");
      try {
        checkTempKeyBinding(context.dc.codec, call, perm.authKey, {
          tempAuthKeyId: authKeyIdLong(temp.authKey),
          tempSessionId: context.session.sessionId,
          messageId: context.messageId,
        });
      } catch (error) {
        if (error instanceof SecurityError) throw refuse(error.message);
        throw error;
      }
      if ((call.expires_at as number) <= now(context)) throw refuse("expires_at has passed");
      temp.boundTo = perm;
      perm.hasBoundTemp = true;
      log(
        `dc${context.dc.dcId}: temporary key ${temp.authKey.id.toHex()} bound to permanent key ` +
          `${perm.authKey.id.toHex()} until ${temp.expiresAt}`,
      );
      return true;
    },
  };
}

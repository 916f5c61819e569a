/**
 * The API methods the emulator answers, over the {@link World}. Calls that need a signed-in
 * account answer 401 AUTH_KEY_UNREGISTERED before sign-in; methods it does not implement answer
 * 400 METHOD_NOT_IMPLEMENTED_IN_EMULATOR, never silence.
 *
 * @module
 */

import { RpcError } from "../errors.ts";
import type { TlObject } from "../tl/codec.ts";
import type { CallContext, DcContext } from "./server_connection.ts";
import { createTools, type DcAddress, type Handler } from "./methods/tools.ts";
import { helpMethods } from "./methods/help.ts";
import { authMethods } from "./methods/auth.ts";
import { pfsMethods } from "./methods/pfs.ts";
import { userMethods } from "./methods/users.ts";
import { messageMethods } from "./methods/messages.ts";
import { updateMethods } from "./methods/updates.ts";
import { readMethods } from "./methods/read.ts";
import { changeMethods } from "./methods/changes.ts";
import { messageActionMethods } from "./methods/message_actions.ts";
import { uploadMethods } from "./methods/upload.ts";
import { startupMethods } from "./methods/startup.ts";
import { dialogMethods } from "./methods/dialogs.ts";
import { presenceMethods } from "./methods/presence.ts";
import { accountMethods } from "./methods/account.ts";
import { localeMethods } from "./methods/locale.ts";
import type { World } from "./world.ts";

export type { DcAddress };

const NO_ACCOUNT_NEEDED = new Set([
  "help.getConfig",
  "help.getNearestDc",
  "auth.sendCode",
  "auth.bindTempAuthKey",
  "auth.signIn",
  "auth.signUp",
  "auth.checkPassword",
  "auth.importAuthorization",
  "account.getPassword",
  // Asked before sign-in by full clients, and answered then by Telegram.
  "help.getAppConfig",
  "help.getPromoData",
  "help.getTermsOfServiceUpdate",
  "help.getPeerColors",
  "help.getPeerProfileColors",
  "help.getCountriesList",
  "langpack.getLangPack",
  "langpack.getStrings",
  "langpack.getDifference",
  "langpack.getLanguages",
  "langpack.getLanguage",
]);

/** Builds the dispatcher a DC calls for every API request. */
export function createMethods(
  world: World,
  dcs: () => DcAddress[],
  allDcs: () => DcContext[],
  log: (line: string) => void,
): (call: TlObject, context: CallContext) => unknown {
  const tools = createTools(world, allDcs);
  const { viewer, now } = tools;
  const handlers: Record<string, Handler> = {
    ...helpMethods(tools, dcs),
    ...authMethods(tools, dcs, log),
    ...pfsMethods(tools, log),
    ...userMethods(tools),
    ...messageMethods(tools),
    ...updateMethods(tools),
    ...readMethods(tools),
    ...changeMethods(tools),
    ...messageActionMethods(tools),
    ...uploadMethods(tools),
    ...startupMethods(tools),
    ...dialogMethods(tools),
    ...presenceMethods(tools),
    ...accountMethods(tools),
    ...localeMethods(),
  };
  return (call, context) => {
    const flood = world.options.floodWait;
    if (flood && flood.method === call._cons && world.floodCalls++ < (flood.times ?? Infinity)) {
      throw new RpcError(420, `FLOOD_WAIT_${flood.seconds}`);
    }
    const handler = handlers[call._cons];
    if (!handler) throw new RpcError(400, "METHOD_NOT_IMPLEMENTED_IN_EMULATOR");
    if (!NO_ACCOUNT_NEEDED.has(call._cons)) {
      viewer(context);
      // The session list shows when each signed-in key last called.
      const authorization = world.authorizations.of(context.key);
      if (authorization) authorization.active = now(context);
    }
    return handler(call, context);
  };
}

export { chatObject, messageObject, userObject } from "./render.ts";

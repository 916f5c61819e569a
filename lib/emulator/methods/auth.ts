/**
 * `auth.*` and `account.getPassword`: sign-in by code, sign-up, the 2FA password checked with SRP, exported authorizations, log-out.
 *
 * @module
 */

import { RpcError } from "../../errors.ts";
import { bigintFromBytes } from "../../crypto/bigint.ts";
import { type SrpServerChallenge, srpServerChallenge, srpServerVerify } from "../../crypto/srp.ts";
import type { TlObject } from "../../tl/codec.ts";
import type { CallContext } from "../server_connection.ts";
import type { DcAddress } from "./tools.ts";
import { LOGIN_CODE, type WorldUser } from "../world.ts";
import { userObject } from "../render.ts";
import type { Handler, Tools } from "./tools.ts";

/** The handlers of this namespace, by method name. */
export function authMethods(
  tools: Tools,
  dcs: () => DcAddress[],
  log: (line: string) => void,
): Record<string, Handler> {
  const { world, keyId, viewer, now } = tools;
  const challenges = new Map<bigint, { userId: number; challenge: SrpServerChallenge }>();
  let nextSrpId = 1n;

  const signedIn = (context: CallContext, user: WorldUser, parent?: bigint) => {
    world.authorizations.add(context.key, user.id, now(context), context.session.app, parent);
    context.key.userId = user.id;
    world.signIns.delete(keyId(context));
    log(`dc${context.dc.dcId}: ${user.firstName} (+${user.phone}) signed in`);
    return { _cons: "auth.authorization", user: userObject(user, user.id) };
  };

  return {
    "auth.sendCode": (call, context) => {
      const phone = String(call.phone_number).replace(/\D/g, "");
      if (!phone) throw new RpcError(400, "PHONE_NUMBER_INVALID");
      const user = world.userByPhone(phone);
      const home = user?.homeDc ?? world.options.homeDc ?? 2;
      if (home !== context.dc.dcId) throw new RpcError(303, `PHONE_MIGRATE_${home}`);
      const phoneCodeHash = bigintFromBytes(context.dc.random(8)).toString(16);
      world.signIns.set(keyId(context), { phone, phoneCodeHash });
      log(`dc${context.dc.dcId}: login code for +${phone}: ${LOGIN_CODE}`);
      return {
        _cons: "auth.sentCode",
        type: { _cons: "auth.sentCodeTypeApp", length: LOGIN_CODE.length },
        phone_code_hash: phoneCodeHash,
        timeout: 120,
      };
    },

    "auth.signIn": (call, context) => {
      const pending = world.signIns.get(keyId(context));
      const phone = String(call.phone_number).replace(/\D/g, "");
      if (!pending || pending.phone !== phone || pending.phoneCodeHash !== call.phone_code_hash) {
        throw new RpcError(400, "PHONE_CODE_EXPIRED");
      }
      if (call.phone_code !== LOGIN_CODE) throw new RpcError(400, "PHONE_CODE_INVALID");
      const user = world.userByPhone(phone);
      if (!user) return { _cons: "auth.authorizationSignUpRequired" };
      if (user.password) {
        pending.passwordOk = false;
        throw new RpcError(401, "SESSION_PASSWORD_NEEDED");
      }
      return signedIn(context, user);
    },

    "auth.signUp": (call, context) => {
      const pending = world.signIns.get(keyId(context));
      const phone = String(call.phone_number).replace(/\D/g, "");
      if (!pending || pending.phone !== phone || pending.phoneCodeHash !== call.phone_code_hash) {
        throw new RpcError(400, "PHONE_CODE_EXPIRED");
      }
      if (world.userByPhone(phone)) throw new RpcError(400, "PHONE_NUMBER_OCCUPIED");
      const first = String(call.first_name).trim();
      if (!first) throw new RpcError(400, "FIRSTNAME_INVALID");
      return signedIn(
        context,
        world.addUser(phone, first, String(call.last_name), context.dc.dcId),
      );
    },

    "account.getPassword": (_call, context) => {
      const pending = world.signIns.get(keyId(context));
      const user = context.key.userId !== undefined
        ? world.users.get(context.key.userId)
        : pending
        ? world.userByPhone(pending.phone)
        : undefined;
      if (!user) throw new RpcError(401, "AUTH_KEY_UNREGISTERED");
      const newAlgo = {
        _cons: "passwordKdfAlgoSHA256SHA256PBKDF2HMACSHA512iter100000SHA256ModPow",
        salt1: context.dc.random(8),
        salt2: context.dc.random(16),
        g: 3,
        p: user.password?.algorithm.p ?? new Uint8Array(256),
      };
      const base = {
        _cons: "account.password",
        new_algo: newAlgo,
        new_secure_algo: { _cons: "securePasswordKdfAlgoSHA512", salt: context.dc.random(8) },
        secure_random: context.dc.random(32),
      };
      if (!user.password) return base;
      const challenge = srpServerChallenge(
        user.password.verifier,
        user.password.algorithm,
        context.dc.random,
      );
      const srpId = nextSrpId++;
      challenges.set(srpId, { userId: user.id, challenge });
      const algorithm = user.password.algorithm;
      return {
        ...base,
        has_password: true,
        current_algo: {
          ...newAlgo,
          salt1: algorithm.salt1,
          salt2: algorithm.salt2,
          g: algorithm.g,
          p: algorithm.p,
        },
        srp_B: challenge.srpB,
        srp_id: srpId,
        hint: user.password.hint,
      };
    },

    "auth.checkPassword": (call, context) => {
      const input = call.password as TlObject;
      const entry = challenges.get(input.srp_id as bigint);
      const user = entry && world.users.get(entry.userId);
      if (!entry || !user?.password) throw new RpcError(400, "SRP_ID_INVALID");
      challenges.delete(input.srp_id as bigint);
      const ok = srpServerVerify(
        user.password.verifier,
        user.password.algorithm,
        entry.challenge,
        input.A as Uint8Array,
        input.M1 as Uint8Array,
      );
      if (!ok) throw new RpcError(400, "PASSWORD_HASH_INVALID");
      return signedIn(context, user);
    },

    "auth.exportAuthorization": (call, context) => {
      const me = viewer(context);
      const dcId = call.dc_id as number;
      if (!dcs().some((dc) => dc.id === dcId)) throw new RpcError(400, "DC_ID_INVALID");
      const id = bigintFromBytes(context.dc.random(7));
      const bytes = context.dc.random(32);
      const parent = world.authorizations.of(context.key);
      world.exported.set(id, {
        userId: me.id,
        bytes,
        ...(parent ? { authorization: parent.parent ?? parent.hash } : {}),
      });
      return { _cons: "auth.exportedAuthorization", id, bytes };
    },

    "auth.importAuthorization": (call, context) => {
      const entry = world.exported.get(call.id as bigint);
      if (!entry || entry.bytes.toHex() !== (call.bytes as Uint8Array).toHex()) {
        throw new RpcError(400, "AUTH_BYTES_INVALID");
      }
      world.exported.delete(call.id as bigint);
      return signedIn(context, world.users.get(entry.userId)!, entry.authorization);
    },

    "auth.logOut": (_call, context) => {
      viewer(context);
      world.authorizations.drop(context.key);
      context.key.userId = undefined;
      return { _cons: "auth.loggedOut" };
    },
  };
}

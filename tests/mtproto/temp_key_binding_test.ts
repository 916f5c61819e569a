import { assertEquals, assertThrows } from "../assert.ts";
import { SecurityError } from "../../lib/errors.ts";
import { secureRandom } from "../../lib/crypto/random.ts";
import { makeAuthKey } from "../../lib/mtproto/encrypted_message.ts";
import {
  authKeyIdLong,
  bindTempAuthKeyCall,
  checkTempKeyBinding,
} from "../../lib/mtproto/temp_key_binding.ts";
import { testCodec as codec } from "../support/emulated_sender.ts";

const perm = makeAuthKey(secureRandom(256));
const temp = makeAuthKey(secureRandom(256));
const binding = { tempAuthKeyId: authKeyIdLong(temp), tempSessionId: 0x1234n, expiresAt: 1e9 };
const messageId = 0x6000000000000004n;
const expected = { tempAuthKeyId: binding.tempAuthKeyId, tempSessionId: 0x1234n, messageId };

Deno.test("a binding the client builds is opened and accepted by the server's check", () => {
  const call = bindTempAuthKeyCall(codec, perm, binding, messageId, secureRandom);
  // The call goes through the wire format and back, as it would inside a message.
  const received = codec.decode(codec.encode(call));
  assertEquals(checkTempKeyBinding(codec, received, perm, expected), {
    nonce: call.nonce,
    tempAuthKeyId: binding.tempAuthKeyId,
    permAuthKeyId: authKeyIdLong(perm),
    tempSessionId: 0x1234n,
    expiresAt: 1e9,
  });
});

Deno.test("the server refuses a binding signed by another key, or that differs from its call", () => {
  const call = bindTempAuthKeyCall(codec, perm, binding, messageId, secureRandom);
  const refused = (changed: typeof call, reason: string, what = expected) =>
    assertThrows(() => checkTempKeyBinding(codec, changed, perm, what), SecurityError, reason);
  // Signed by another key but claiming to be ours: its msg_key does not check out under ours.
  const other = makeAuthKey(secureRandom(256));
  const forged = bindTempAuthKeyCall(codec, other, binding, messageId, secureRandom);
  const claimed = (forged.encrypted_message as Uint8Array).slice();
  claimed.set(perm.id, 0);
  refused({ ...call, encrypted_message: claimed }, "under the permanent key");
  const flipped = (call.encrypted_message as Uint8Array).slice();
  flipped[40] ^= 1;
  refused({ ...call, encrypted_message: flipped }, "under the permanent key");
  refused({ ...call, encrypted_message: forged.encrypted_message }, "not under the permanent key");
  refused({ ...call, nonce: (call.nonce as bigint) + 1n }, "nonce differs");
  refused({ ...call, expires_at: 1e9 + 1 }, "expires_at differs");
  refused(call, "msg_id", { ...expected, messageId: messageId + 4n });
  refused(call, "temp_session_id", { ...expected, tempSessionId: 0x9999n });
  refused(call, "temp_auth_key_id", { ...expected, tempAuthKeyId: authKeyIdLong(perm) });
});

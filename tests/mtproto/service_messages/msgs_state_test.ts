// msgs_state_req and its answers on their own: 4 for what a side received, 1 for the rest; and
// which states of msgs_state_info / msgs_all_info mean "never got it".
import { assertEquals } from "../../assert.ts";
import { msgsStateInfo } from "../../../lib/mtproto/service_messages/msgs_state_req.ts";
import { notReceived } from "../../../lib/mtproto/service_messages/msgs_state_info.ts";
import { codec } from "../../support/session_conversation.ts";

Deno.test("msgs_state_info answers byte for byte, in the asked order", () => {
  const value = msgsStateInfo(20n, [4n, 8n, 12n], (id) => id !== 8n);
  assertEquals(codec.decode(codec.encode(value)), {
    _cons: "msgs_state_info",
    req_msg_id: 20n,
    info: new Uint8Array([4, 1, 4]),
  });
});

Deno.test("states 1, 2 and 3 mean not received; the flag bits above 7 do not matter", () => {
  const ids = [4n, 8n, 12n, 16n, 20n, 24n];
  const info = new Uint8Array([1, 2, 3, 4, 0x80 | 1, 0x80 | 4]);
  assertEquals(notReceived({ _cons: "msgs_all_info", msg_ids: ids, info }), [4n, 8n, 12n, 20n]);
  // More ids than bytes (or the reverse): only the pairs count.
  assertEquals(notReceived({ _cons: "msgs_all_info", msg_ids: ids, info: info.slice(0, 1) }), [4n]);
  assertEquals(notReceived({ _cons: "msgs_state_info", req_msg_id: 1n, info }), []);
});

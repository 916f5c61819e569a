/**
 * The emulated server's answers to MTProto's own messages, one handler each, named after the
 * message as in the docs; the rule each follows lives in lib/mtproto/service_messages/, shared
 * with the client. https://core.telegram.org/mtproto/service_messages
 *
 * @module
 */

import { dropAnswerOfComputedCall } from "../mtproto/service_messages/rpc_drop_answer.ts";
import { destroySessionAnswer } from "../mtproto/service_messages/destroy_session.ts";
import { futureSalts, futureSaltsCount } from "../mtproto/service_messages/future_salts.ts";
import { resendRequested } from "../mtproto/service_messages/msg_resend_req.ts";
import { msgsStateInfo } from "../mtproto/service_messages/msgs_state_req.ts";
import { disconnectDelayMs, pong } from "../mtproto/service_messages/pong.ts";
import type { TlObject } from "../tl/codec.ts";
import type { DcContext } from "./dc_context.ts";
import { rpcResult } from "./server_call.ts";
import type { OutgoingBody, ServerSession } from "./server_session.ts";

/** What a service-message handler works with. */
export interface ServiceContext {
  dc: DcContext;
  session: ServerSession;
  /** The msg_id of the message being answered. */
  messageId: bigint;
  /** Server time in seconds. */
  now: number;
  /** Closes the connection unless another ping comes within `delayMs`. */
  closeUnlessPingedWithin(delayMs: number): void;
}

/**
 * A server message for the session: content-related, an answer (`response`, msg_id ≡ 1 mod 4)
 * or not.
 */
export function serviceBody(dc: DcContext, value: TlObject, response = false): OutgoingBody {
  return { body: dc.codec.encode(value), contentRelated: true, response };
}

/** Answers MTProto's own messages; undefined for anything else (an API call). */
export function answerServiceMessage(
  context: ServiceContext,
  request: TlObject,
): OutgoingBody[] | undefined {
  switch (request._cons) {
    case "msgs_ack":
    case "http_wait":
    case "msgs_state_info":
      return [];
    case "ping":
      return [onPing(context, request)];
    case "ping_delay_disconnect":
      return [onPingDelayDisconnect(context, request)];
    case "get_future_salts":
      return [onGetFutureSalts(context, request)];
    case "msgs_state_req":
      return [onMsgsStateReq(context, request)];
    case "msg_resend_req":
      return onMsgResendReq(context, request);
    case "destroy_session":
      return [onDestroySession(context, request)];
    case "rpc_drop_answer":
      return [onRpcDropAnswer(context)];
  }
  return undefined;
}

/** https://core.telegram.org/mtproto/service_messages#ping-messages-pingpong */
function onPing({ dc, messageId }: ServiceContext, request: TlObject): OutgoingBody {
  return serviceBody(dc, pong(messageId, request.ping_id), true);
}

/** Closes the connection unless another ping comes within the delay, as Telegram does. */
function onPingDelayDisconnect(context: ServiceContext, request: TlObject): OutgoingBody {
  context.closeUnlessPingedWithin(disconnectDelayMs(request));
  return onPing(context, request);
}

/** https://core.telegram.org/mtproto/service_messages#request-for-several-future-salts */
function onGetFutureSalts({ dc, messageId, now }: ServiceContext, request: TlObject) {
  const salts = dc.keys.salts(now, futureSaltsCount(request.num as number));
  return serviceBody(dc, futureSalts(messageId, now, salts), true);
}

/** 4: received, answer kept; 1: nothing known (all the emulator remembers is its answers). */
function onMsgsStateReq({ dc, session, messageId }: ServiceContext, request: TlObject) {
  const ids = request.msg_ids as bigint[];
  return serviceBody(dc, msgsStateInfo(messageId, ids, (id) => session.answers.has(id)), true);
}

/** The ids are of messages this side sent (answers, updates) that the client never got. */
function onMsgResendReq({ session }: ServiceContext, request: TlObject): OutgoingBody[] {
  return resendRequested(request, session.sent).map(({ body, response }) => ({
    body,
    contentRelated: true,
    response,
  }));
}

/** https://core.telegram.org/mtproto/service_messages#request-to-destroy-session */
function onDestroySession({ dc, session }: ServiceContext, request: TlObject): OutgoingBody {
  const target = `${session.key.authKey.id.toHex()}:${request.session_id}`;
  const existed = dc.sessions.delete(target);
  return serviceBody(dc, destroySessionAnswer(request.session_id, existed), true);
}

/** Answers are computed at once here, so there is never one to drop. */
function onRpcDropAnswer({ dc, messageId }: ServiceContext): OutgoingBody {
  return {
    body: rpcResult(dc, messageId, dc.codec.encode(dropAnswerOfComputedCall())),
    contentRelated: true,
    response: true,
  };
}

/**
 * Where the session's events go: answers and failures to the request waiting for them, pushed
 * updates and new sessions to the sender's owner, dropped messages to the log.
 *
 * @module
 */

import type { SessionEvent } from "../mtproto/session.ts";
import type { PendingRequests } from "./pending_requests.ts";
import type { SenderOptions } from "./sender_options.ts";

/** Hands each of `events` to whoever waits for it. */
export function dispatchSessionEvents(
  events: SessionEvent[],
  pending: PendingRequests,
  options: Pick<SenderOptions, "onUpdate" | "onNewSession">,
  log: (line: string) => void,
): void {
  for (const event of events) {
    switch (event.type) {
      case "result":
      case "failed":
        pending.settle(event);
        break;
      case "update":
        options.onUpdate?.(event.body);
        break;
      case "new_session":
        options.onNewSession?.();
        break;
      case "dropped":
        log(`dropped a message: ${event.reason}`);
        break;
    }
  }
}

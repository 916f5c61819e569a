/**
 * A made-up later layer of the shipped API schema, for tests of serving another layer: `dialog`
 * has a new id, has lost `unread_mark` and has gained a required field, and the layer is 999.
 *
 * @module
 */

/** The text of the later layer's api.tl. */
export async function laterLayerText(): Promise<string> {
  const shipped = await Deno.readTextFile(new URL("../../scheme/api.tl", import.meta.url));
  return shipped
    .replace(
      /^dialog#d58a08c6 .*$/m,
      "dialog#0dd1a10e flags:# pinned:flags.2?true peer:Peer top_message:int " +
        "read_inbox_max_id:int read_outbox_max_id:int unread_count:int unread_mentions_count:int " +
        "unread_reactions_count:int notify_settings:PeerNotifySettings pts:flags.0?int " +
        "stars_spent:long = Dialog;",
    )
    .replace(/^\/\/ LAYER \d+$/m, "// LAYER 999");
}

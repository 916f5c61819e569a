/**
 * A realistic large TL object for benchmarks: `messages.messages` with 1000 messages (text,
 * entities, replies, photos), 100 users and 20 channels — about 1 MB of TL.
 *
 * @module
 */

const WORDS = [
  "hello",
  "world",
  "telegram",
  "mtproto",
  "привет",
  "json",
  "proxy",
  "layer",
  "🙂",
  "deno",
];

function text(seed: number, words: number): string {
  let out = "";
  for (let i = 0; i < words; i++) out += (i ? " " : "") + WORDS[(seed * 7 + i * 13) % WORDS.length];
  return out;
}

function userPhoto(id: number) {
  return {
    _cons: "userProfilePhoto",
    photo_id: `${5000000000000000000n + BigInt(id)}`,
    stripped_thumb: new Uint8Array(40).fill(id & 0xff).toBase64(),
    dc_id: 2,
  };
}

function photo(id: number) {
  return {
    _cons: "photo",
    id: `${-6000000000000000000n - BigInt(id)}`,
    access_hash: `${-8446744073709551615n + BigInt(id)}`,
    file_reference: new Uint8Array(29).fill(id & 0xff).toBase64(),
    date: 1700000000 + id,
    sizes: [
      { _cons: "photoStrippedSize", type: "i", bytes: new Uint8Array(120).fill(3).toBase64() },
      { _cons: "photoSize", type: "m", w: 320, h: 240, size: 20431 },
      {
        _cons: "photoSizeProgressive",
        type: "y",
        w: 1280,
        h: 960,
        sizes: [9000, 22000, 41000, 60000],
      },
    ],
    dc_id: 2,
  };
}

/** The benchmark object in the JSON protocol's input form. */
export function largeMessagesObject(): Record<string, unknown> {
  const users = Array.from({ length: 100 }, (_, i) => ({
    _cons: "user",
    contact: i % 3 === 0 ? { _cons: "true" } : undefined,
    id: 100000000 + i,
    access_hash: `${-8446744073709551615n + BigInt(i * 7919)}`,
    first_name: `User ${i}`,
    last_name: i % 2 ? "Примеров" : "Example",
    username: `user_${i}`,
    phone: `1555000${String(i).padStart(4, "0")}`,
    photo: userPhoto(i),
    status: { _cons: "userStatusOffline", was_online: 1700000000 + i },
  }));
  const chats = Array.from({ length: 20 }, (_, i) => ({
    _cons: "channel",
    megagroup: i % 2 ? { _cons: "true" } : undefined,
    id: 1000000000 + i,
    access_hash: `${7446744073709551615n - BigInt(i)}`,
    title: `Channel ${i} ${text(i, 3)}`,
    username: `channel_${i}`,
    photo: { _cons: "chatPhotoEmpty" },
    date: 1600000000 + i,
    participants_count: 1000 + i,
  }));
  const messages = Array.from({ length: 1000 }, (_, i) => ({
    _cons: "message",
    out: i % 5 === 0 ? { _cons: "true" } : undefined,
    id: 500000 + i,
    from_id: { _cons: "peerUser", user_id: 100000000 + (i % 100) },
    peer_id: { _cons: "peerChannel", channel_id: 1000000000 + (i % 20) },
    reply_to: i % 4 === 0
      ? { _cons: "messageReplyHeader", reply_to_msg_id: 500000 + i - 1 }
      : undefined,
    date: 1700000000 + i * 60,
    message: text(i, 110 + (i % 40)),
    media: i % 10 === 0 ? { _cons: "messageMediaPhoto", photo: photo(i) } : undefined,
    entities: [
      { _cons: "messageEntityBold", offset: 0, length: 5 },
      { _cons: "messageEntityUrl", offset: 6, length: 12 },
    ],
    views: 1000 + i,
    forwards: i % 7,
    edit_date: i % 3 === 0 ? 1700000500 + i : undefined,
  }));
  return { _cons: "messages.messages", messages, topics: [], chats, users };
}

import { createHash } from "node:crypto";
import { assertEquals } from "../assert.ts";
import type { TlObject } from "../../lib/tl/codec.ts";
import { startEmulator } from "../../lib/emulator/emulator.ts";
import { emulatedSender, testCodec as codec } from "../support/emulated_sender.ts";
import { rawCaller, signIn, signInWithCode } from "../support/raw_calls.ts";
import { untilFound } from "../support/until.ts";

Deno.test("a document uploaded in parts is sent as media, pushed to the peer, and downloads whole", async () => {
  const emulator = await startEmulator({ port: 0, dcs: 1, log: () => {}, world: { homeDc: 1 } });
  const updates: TlObject[] = [];
  const alice = emulatedSender(emulator, 1);
  const bob = emulatedSender(emulator, 1, { onUpdate: (body) => updates.push(codec.decode(body)) });
  const asAlice = rawCaller(alice, codec), asBob = rawCaller(bob, codec);
  try {
    await signInWithCode(asAlice, "+15550000001");
    await signIn(asBob, "+15550000002", "hunter2");
    await asBob({ _cons: "updates.getState" }); // Bob's session now takes updates
    const content = Uint8Array.from({ length: 1_200_000 }, (_, i) => (i * 31) & 0xff);
    const partSize = 512 * 1024;
    const parts = Math.ceil(content.length / partSize);
    const fileId = 77n;
    for (let part = 0; part < parts; part++) {
      const saved = await asAlice({
        _cons: "upload.saveFilePart",
        file_id: fileId,
        file_part: part,
        bytes: content.subarray(part * partSize, (part + 1) * partSize),
      });
      assertEquals(saved._cons, "boolTrue");
    }
    const bobUser = emulator.world.users.get(1000002)!;
    const peer = { _cons: "inputPeerUser", user_id: bobUser.id, access_hash: bobUser.accessHash };
    const media = (file: TlObject) => ({
      _cons: "inputMediaUploadedDocument",
      file,
      mime_type: "application/pdf",
      attributes: [{ _cons: "documentAttributeFilename", file_name: "report.pdf" }],
    });
    const file = {
      _cons: "inputFile",
      id: fileId,
      parts,
      name: "report.pdf",
      md5_checksum: createHash("md5").update(content).digest("hex"),
    };
    // A part never uploaded, and a wrong checksum, are refused by name.
    const missing = await asAlice({
      _cons: "messages.sendMedia",
      peer,
      media: media({ ...file, parts: parts + 1 }),
      message: "",
      random_id: 1n,
    });
    assertEquals(missing.error_message, `FILE_PART_${parts}_MISSING`);
    const wrong = await asAlice({
      _cons: "messages.sendMedia",
      peer,
      media: media({ ...file, md5_checksum: "0".repeat(32) }),
      message: "",
      random_id: 2n,
    });
    assertEquals(wrong.error_message, "MD5_CHECKSUM_INVALID");
    const sent = await asAlice({
      _cons: "messages.sendMedia",
      peer,
      media: media(file),
      message: "the report",
      random_id: 3n,
    });
    assertEquals(sent._cons, "updates");
    const newMessage = (sent.updates as TlObject[]).find((u) => u._cons === "updateNewMessage")!;
    const document = ((newMessage.message as TlObject).media as TlObject).document as TlObject;
    assertEquals([document.mime_type, Number(document.size)], ["application/pdf", content.length]);
    // Bob's session gets it pushed, with the document.
    const first = await untilFound(() => updates[0], 15_000, "the message pushed to Bob");
    const pushed = (first.updates as TlObject[] | undefined)?.[0]?.message as TlObject;
    assertEquals((pushed?.media as TlObject)?._cons, "messageMediaDocument");
    // And the bytes come back whole.
    const location = {
      _cons: "inputDocumentFileLocation",
      id: document.id,
      access_hash: document.access_hash,
      file_reference: new Uint8Array(0),
      thumb_size: "",
    };
    const downloaded = new Uint8Array(content.length);
    for (let offset = 0; offset < content.length; offset += 1 << 20) {
      const part = await asBob({ _cons: "upload.getFile", location, offset, limit: 1 << 20 });
      downloaded.set(part.bytes as Uint8Array, offset);
    }
    assertEquals(downloaded, content);
  } finally {
    alice.close();
    bob.close();
    await emulator.close();
  }
});

Deno.test("forwarded copies name their first author, and keep the text", async () => {
  const emulator = await startEmulator({ port: 0, dcs: 1, log: () => {}, world: { homeDc: 1 } });
  const alice = emulatedSender(emulator, 1);
  const call = rawCaller(alice, codec);
  try {
    await signInWithCode(call, "+15550000001");
    const bob = emulator.world.users.get(1000002)!;
    const bobPeer = { _cons: "inputPeerUser", user_id: bob.id, access_hash: bob.accessHash };
    const original = emulator.world.messages.find((m) => m.text === "Hi Alice, how are you?")!;
    const group = { _cons: "inputPeerChat", chat_id: 2000001 };
    const forward = (from: TlObject, id: number, random: bigint) =>
      call({
        _cons: "messages.forwardMessages",
        from_peer: from,
        id: [id],
        random_id: [random],
        to_peer: group,
      });
    const sent = await forward(bobPeer, original.id, 11n);
    const copy = (sent.updates as TlObject[]).find((u) => u._cons === "updateNewMessage")!
      .message as TlObject;
    assertEquals(copy.message, "Hi Alice, how are you?");
    const header = copy.fwd_from as TlObject;
    assertEquals([Number((header.from_id as TlObject).user_id), header.date], [
      bob.id,
      original.date,
    ]);
    // Forwarding the copy again still names Bob; an unknown id is refused.
    const again = await forward(group, copy.id as number, 12n);
    const second = (again.updates as TlObject[]).find((u) => u._cons === "updateNewMessage")!
      .message as TlObject;
    assertEquals(Number(((second.fwd_from as TlObject).from_id as TlObject).user_id), bob.id);
    assertEquals((await forward(bobPeer, 999_999, 13n)).error_message, "MESSAGE_ID_INVALID");
  } finally {
    alice.close();
    await emulator.close();
  }
});

Deno.test("an uploaded image is sent as a photo with its size in pixels, and downloads by photo location", async () => {
  const emulator = await startEmulator({ port: 0, dcs: 1, log: () => {}, world: { homeDc: 1 } });
  const alice = emulatedSender(emulator, 1);
  const call = rawCaller(alice, codec);
  try {
    await signInWithCode(call, "+15550000001");
    // A JPEG header: SOI, an APP0 segment, then SOF0 with height 480 and width 640.
    const jpeg = new Uint8Array(2048);
    jpeg.set([0xff, 0xd8, 0xff, 0xe0, 0, 4, 0, 0, 0xff, 0xc0, 0, 17, 8, 0x01, 0xe0, 0x02, 0x80]);
    const sendPhoto = async (bytes: Uint8Array, fileId: bigint) => {
      await call({ _cons: "upload.saveFilePart", file_id: fileId, file_part: 0, bytes });
      return await call({
        _cons: "messages.sendMedia",
        peer: { _cons: "inputPeerSelf" },
        media: {
          _cons: "inputMediaUploadedPhoto",
          file: { _cons: "inputFile", id: fileId, parts: 1, name: "p.jpg", md5_checksum: "" },
        },
        message: "a photo",
        random_id: fileId,
      });
    };
    const notAnImage = await sendPhoto(new TextEncoder().encode("plain text"), 1n);
    assertEquals(notAnImage.error_message, "IMAGE_PROCESS_FAILED");
    const sent = await sendPhoto(jpeg, 2n);
    const message = (sent.updates as TlObject[]).find((u) => u._cons === "updateNewMessage")!
      .message as TlObject;
    const photo = (message.media as TlObject).photo as TlObject;
    const size = (photo.sizes as TlObject[])[0];
    assertEquals([(message.media as TlObject)._cons, size.w, size.h, size.size], [
      "messageMediaPhoto",
      640,
      480,
      2048,
    ]);
    const file = await call({
      _cons: "upload.getFile",
      location: {
        _cons: "inputPhotoFileLocation",
        id: photo.id,
        access_hash: photo.access_hash,
        file_reference: photo.file_reference,
        thumb_size: size.type,
      },
      offset: 0,
      limit: 4096,
    });
    assertEquals(file.bytes, jpeg);
  } finally {
    alice.close();
    await emulator.close();
  }
});

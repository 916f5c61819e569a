/**
 * What a `download` request names, made into a download source: an `InputFileLocation` as
 * given, the media of a message exactly as it arrived (the largest photo size unless a thumb is
 * named), or a message the proxy fetches itself — the last two with a way to fetch a fresh file
 * reference when Telegram says the one in hand expired.
 *
 * @module
 */

import type { Client } from "../client/client.ts";
import type { DownloadSource } from "../client/file_download.ts";
import { isTlObject, type TlObject } from "../tl/codec.ts";
import { BadRequestError, objectOf } from "./request_options.ts";

/** A download's source and what the answer tells about the file. */
export interface ResolvedSource extends DownloadSource {
  mimeType?: string;
  /** The file's name when its document names one. */
  fileName?: string;
}

/**
 * The source of `{"download": {...}}`: `location`, `media` (optionally with the `message` it
 * came in, for fresh references) or `message` (`{"peer": InputPeer, "id": N}`).
 */
export async function downloadSource(
  client: Client,
  spec: Record<string, unknown>,
): Promise<ResolvedSource> {
  const thumb = spec.thumb === undefined ? undefined : String(spec.thumb);
  if (spec.location !== undefined) {
    const location = native(client, objectOf(spec.location, "download.location"), "location");
    return { location, dc: client.session.dc };
  }
  const message = spec.message === undefined
    ? undefined
    : objectOf(spec.message, "download.message");
  if (spec.media !== undefined) {
    const media = native(client, objectOf(spec.media, "download.media"), "media");
    const source = fromMedia(media, thumb);
    if (message) source.refresh = refresher(client, message, source, thumb);
    return source;
  }
  if (message) {
    const media = await fetchMedia(client, message);
    const source = fromMedia(media, thumb);
    source.refresh = refresher(client, message, source, thumb);
    return source;
  }
  throw new BadRequestError(
    "BadDownload",
    'download needs "location", "media" or "message": {"peer": InputPeer, "id": N}',
  );
}

/** A TL object from the request in native form, or a clear error naming the field. */
function native(client: Client, value: Record<string, unknown>, field: string): TlObject {
  if (!isTlObject(value)) {
    throw new BadRequestError("WrongType", `download.${field} must be a TL object with "_cons"`);
  }
  return client.native(value);
}

/** The file in a `messageMediaDocument` or `messageMediaPhoto`. */
function fromMedia(media: TlObject, thumb: string | undefined): ResolvedSource {
  if (media._cons === "messageMediaDocument" && isTlObject(media.document)) {
    const document = media.document;
    if (document._cons !== "document") {
      throw new BadRequestError("BadDownload", "the document is empty (deleted or not loaded)");
    }
    const named = (document.attributes as TlObject[] | undefined ?? [])
      .find((attribute) => attribute._cons === "documentAttributeFilename");
    const size = thumb === undefined ? Number(document.size) : thumbSize(document.thumbs, thumb);
    return {
      location: {
        _cons: "inputDocumentFileLocation",
        id: document.id,
        access_hash: document.access_hash,
        file_reference: document.file_reference,
        thumb_size: thumb ?? "",
      },
      dc: document.dc_id as number,
      ...(size !== undefined ? { size } : {}),
      mimeType: thumb === undefined ? String(document.mime_type) : "image/jpeg",
      ...(named ? { fileName: String(named.file_name) } : {}),
    };
  }
  if (media._cons === "messageMediaPhoto" && isTlObject(media.photo)) {
    const photo = media.photo;
    if (photo._cons !== "photo") {
      throw new BadRequestError("BadDownload", "the photo is empty (deleted or not loaded)");
    }
    const sizes = (photo.sizes as TlObject[]).filter((size) => bytesOf(size) !== undefined);
    const chosen = thumb === undefined
      ? sizes.reduce<TlObject | undefined>(
        (best, size) => !best || bytesOf(size)! > bytesOf(best)! ? size : best,
        undefined,
      )
      : sizes.find((size) => size.type === thumb);
    if (!chosen) {
      throw new BadRequestError(
        "BadDownload",
        thumb === undefined
          ? "the photo has no size to download"
          : `the photo has no size "${thumb}" (it has ${sizes.map((s) => s.type).join(", ")})`,
      );
    }
    return {
      location: {
        _cons: "inputPhotoFileLocation",
        id: photo.id,
        access_hash: photo.access_hash,
        file_reference: photo.file_reference,
        thumb_size: chosen.type,
      },
      dc: photo.dc_id as number,
      size: bytesOf(chosen)!,
      mimeType: "image/jpeg",
    };
  }
  throw new BadRequestError(
    "BadDownload",
    `download.media must be a messageMediaDocument or messageMediaPhoto, got ${media._cons}`,
  );
}

/** A photo size's byte count: `size`, the last of a progressive one's `sizes`. */
function bytesOf(size: TlObject): number | undefined {
  if (size._cons === "photoSize") return Number(size.size);
  if (size._cons === "photoSizeProgressive") return Number((size.sizes as number[]).at(-1));
  return undefined;
}

function thumbSize(thumbs: unknown, type: string): number | undefined {
  const found = (thumbs as TlObject[] | undefined)?.find((thumb) => thumb.type === type);
  if (!found) throw new BadRequestError("BadDownload", `the document has no thumb "${type}"`);
  return bytesOf(found);
}

/** The media of message `{"peer", "id"}`, fetched (channels have their own method). */
async function fetchMedia(client: Client, message: Record<string, unknown>): Promise<TlObject> {
  const peer = message.peer;
  const id = Number(message.id);
  if (!isTlObject(peer) || !Number.isSafeInteger(id) || id <= 0) {
    throw new BadRequestError(
      "BadDownload",
      'download.message must be {"peer": InputPeer, "id": N} with a message id',
    );
  }
  const ids = [{ _cons: "inputMessageID", id }];
  const request = peer._cons === "inputPeerChannel"
    ? {
      _cons: "channels.getMessages",
      channel: {
        _cons: "inputChannel",
        channel_id: peer.channel_id,
        access_hash: peer.access_hash,
      },
      id: ids,
    }
    : { _cons: "messages.getMessages", id: ids };
  const answer = await client.callNative(client.native(request));
  const found = (answer.messages as TlObject[] | undefined)
    ?.find((candidate) => Number(candidate.id) === id && candidate._cons === "message");
  if (!found || !isTlObject(found.media)) {
    throw new BadRequestError("BadDownload", `message ${id} has no media to download`);
  }
  return found.media;
}

/** Fetches the message again and gives the same file's location with a fresh reference. */
function refresher(
  client: Client,
  message: Record<string, unknown>,
  source: ResolvedSource,
  thumb: string | undefined,
): () => Promise<TlObject | undefined> {
  return async () => {
    const again = fromMedia(await fetchMedia(client, message), thumb);
    // Only the same file continues: a message edited to hold another is not this download.
    if (again.location.id !== source.location.id) return undefined;
    return again.location;
  };
}

/**
 * CDN downloads (https://core.telegram.org/cdn): the master DC's methods (upload.reuploadCdnFile,
 * upload.getCdnFileHashes) and the CDN DC's whole API, upload.getCdnFile: no account, no
 * authorization import, every other method CDN_METHOD_INVALID. The state they share is
 * lib/emulator/files/cdn_files.ts.
 *
 * @module
 */

import { RpcError } from "../../errors.ts";
import type { TlObject } from "../../tl/codec.ts";
import type { CallContext } from "../server_connection.ts";
import type { World } from "../world.ts";
import { checkDownloadRange } from "../files/part_rules.ts";
import { fileHashes } from "../files/file_hashes.ts";
import type { Handler, Tools } from "./tools.ts";

/** The master DC's CDN methods, by name. */
export function cdnMasterMethods(tools: Tools): Record<string, Handler> {
  const { world, viewer } = tools;
  const cdn = world.fileService.cdn;
  return {
    // After upload.cdnFileReuploadNeeded: the CDN holds the file from now on.
    "upload.reuploadCdnFile": (call, context) => {
      viewer(context);
      const file = cdn.fileOf(call.file_token as Uint8Array, world.files);
      return cdn.reupload(file, call.request_token as Uint8Array);
    },

    "upload.getCdnFileHashes": (call, context) => {
      viewer(context);
      const file = cdn.fileOf(call.file_token as Uint8Array, world.files);
      return fileHashes(file, Number(call.offset));
    },

    // Only the CDN DC serves CDN files.
    "upload.getCdnFile": () => {
      throw new RpcError(400, "METHOD_INVALID");
    },
  };
}

/**
 * The CDN DC's dispatcher: upload.getCdnFile — the part encrypted with the file's key, or
 * upload.cdnFileReuploadNeeded while the CDN does not hold the file; FILE_TOKEN_INVALID for a
 * token unknown or expired (the client asks the master DC again); the part rules of
 * upload.getFile. Anything else is CDN_METHOD_INVALID.
 */
export function cdnDcCall(world: World): (call: TlObject, context: CallContext) => unknown {
  const service = world.fileService;
  return (call, context) => {
    if (call._cons !== "upload.getCdnFile") throw new RpcError(400, "CDN_METHOD_INVALID");
    service.traffic.admit(context);
    const file = service.cdn.fileOf(call.file_token as Uint8Array, world.files);
    const offset = Number(call.offset);
    const limit = call.limit as number;
    checkDownloadRange(offset, limit, false);
    return service.cdn.part(
      file,
      offset,
      () => file.read(offset, limit, service.scratch),
      context.dc.random,
    );
  };
}

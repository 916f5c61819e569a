/**
 * `upload.*`: the world's files, in parts, on the DC that holds them (FILE_MIGRATE elsewhere).
 *
 * @module
 */

import { RpcError } from "../../errors.ts";
import type { TlObject } from "../../tl/codec.ts";
import type { Handler, Tools } from "./tools.ts";

/** The handlers of this namespace, by method name. */
export function uploadMethods(tools: Tools): Record<string, Handler> {
  const { world, viewer } = tools;
  return {
    "upload.getFile": (call, context) => {
      viewer(context);
      const location = call.location as TlObject;
      const file = world.files.get(location.id as bigint);
      if (!file || file.accessHash !== location.access_hash) {
        throw new RpcError(400, "LOCATION_INVALID");
      }
      if (file.dcId !== context.dc.dcId) throw new RpcError(303, `FILE_MIGRATE_${file.dcId}`);
      const offset = Number(call.offset);
      const limit = call.limit as number;
      if (offset % 1024 !== 0) throw new RpcError(400, "OFFSET_INVALID");
      if (limit <= 0 || limit > 1048576 || limit % 1024 !== 0) {
        throw new RpcError(400, "LIMIT_INVALID");
      }
      return {
        _cons: "upload.file",
        type: { _cons: "storage.filePartial" },
        mtime: world.options.epoch ?? 1_700_000_000,
        bytes: file.bytes.subarray(offset, offset + limit),
      };
    },
  };
}

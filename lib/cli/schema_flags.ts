/**
 * The schema the `--scheme FILE` flags ask for, shared by the subcommands: the shipped one when
 * none is given. In a module of its own so that `serve` can read its flags without loading the
 * codec.
 *
 * @module
 */

import { loadSchema } from "../tl/default_schema.ts";
import type { TlSchema } from "../tl/schema.ts";
import { UsageError } from "./usage_error.ts";

/**
 * The schema from `--scheme` files (read with `readTextFile`), or the shipped one. A file that
 * cannot be read is a usage error naming it; one that does not parse, a SchemaParseError.
 */
export async function schemaFromFlags(
  files: string[],
  readTextFile: (path: string) => Promise<string>,
): Promise<TlSchema> {
  if (files.length === 0) return loadSchema();
  const sources = await Promise.all(
    files.map(async (name) => {
      try {
        return { name, text: await readTextFile(name) };
      } catch (error) {
        throw new UsageError(`--scheme ${name}: ${(error as Error).message}`);
      }
    }),
  );
  return loadSchema(sources);
}

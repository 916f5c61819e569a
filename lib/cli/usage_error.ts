/**
 * The error for a command line that cannot be acted on; the CLI prints its message and the
 * subcommand's help hint, and exits with status 2.
 *
 * @module
 */

import { Mtproto2jsonError } from "../errors.ts";

/** A bad command line: unknown subcommand, missing argument, bad flag value. */
export class UsageError extends Mtproto2jsonError {
  override name = "UsageError";
}

/**
 * Exit statuses shared by the subcommands.
 *
 * @module
 */

/** A command stopped by Ctrl-C, SIGINT or SIGTERM before it finished (128 + SIGINT). */
export const STOPPED_STATUS = 130;

/**
 * Which file a request's path names. `serve` acts for whoever reaches its port, so it touches
 * files only with `--files DIR`, and then only inside DIR: an absolute path must lead into it,
 * `..` must not climb out of it, and no symbolic link may lead out of it (in any directory on the
 * way, or as the file itself). Without `--files`, `serve` refuses every path. `pipe` runs as its
 * user's own process, so it takes paths as given, relative to its working directory. Also the
 * `.part` file a download is written to until it is complete, and where such a file resumes.
 *
 * The checks resolve links once; a directory swapped for a link between the check and the open
 * is not caught (nothing short of opening every component with O_NOFOLLOW is).
 *
 * @module
 */

import { basename, dirname, isAbsolute, join, normalize, relative, resolve, sep } from "node:path";
import { Mtproto2jsonError } from "../errors.ts";

/** The rule a refused path broke. */
export type FilePathRule =
  /** `serve` without `--files`: no path is taken. */
  | "no_files"
  /** An absolute path that does not lead into the directory. */
  | "outside"
  /** `..` that climbs out of the directory. */
  | "dot_dot"
  /** A symbolic link on the way (or the file itself) that leads out of the directory. */
  | "symlink"
  /** The file to read, or the directory to write into, does not exist. */
  | "not_found"
  /** Not a name of a file: empty, with a NUL byte, ending in a slash, or the directory itself. */
  | "not_a_file";

/** A path refused, with the rule it broke; the message names the rule, never what DIR is. */
export class FilePathError extends Mtproto2jsonError {
  override name = "FilePathError";
  /** `rule` is what the path broke; `path` is the path as the request gave it. */
  constructor(readonly rule: FilePathRule, readonly path: string, reason: string) {
    super(`${JSON.stringify(path)}: ${reason}`);
  }
}

/** How paths are taken: `serve` without `--files`, `serve --files DIR`, or `pipe`. */
export type FilePolicy =
  | { kind: "none" }
  | { kind: "inside"; dir: string }
  | { kind: "as_given"; cwd: string };

/** Reading an existing file, or writing one (which may not exist yet). */
export interface ResolveOptions {
  forWrite?: boolean;
}

/**
 * The absolute path that `path` names under `policy`, or a {@link FilePathError}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveFilePath } from "./file_paths.ts";
 * assert.equal(await resolveFilePath({ kind: "as_given", cwd: "/home/me" }, "a.jpg"), "/home/me/a.jpg");
 * await assert.rejects(resolveFilePath({ kind: "none" }, "a.jpg"), { rule: "no_files" });
 * ```
 */
export function resolveFilePath(
  policy: FilePolicy,
  path: string,
  options: ResolveOptions = {},
): Promise<string> {
  switch (policy.kind) {
    case "none":
      return Promise.reject(refusePath(path));
    case "inside":
      return resolveInside(policy.dir, path, options);
    case "as_given":
      checkName(path);
      return Promise.resolve(resolve(policy.cwd, path));
  }
}

/** The error `serve` without `--files` gives for any path. */
export function refusePath(path: string): FilePathError {
  return new FilePathError(
    "no_files",
    path,
    "this server takes no file paths (serve reads and writes files only with --files DIR)",
  );
}

/**
 * The real path of the file `path` names inside `dir` (relative to it, or absolute into it),
 * every link on the way resolved; refused with a {@link FilePathError} naming the rule when it
 * leads out of `dir`. For a write the file may not exist yet, but its directory must.
 */
export async function resolveInside(
  dir: string,
  path: string,
  options: ResolveOptions = {},
): Promise<string> {
  checkName(path);
  const root = await realPathOf(dir, path, "the --files directory does not exist");
  const inner = lexicallyInside(dir, root, path);
  const target = join(root, inner);
  if (!options.forWrite) {
    const real = await realPathOf(target, path, "no such file in the --files directory");
    if (!within(root, real)) throw leadsOut(path);
    if (real === root) throw notAFile(path);
    return real;
  }
  if (path.endsWith("/") || path.endsWith(sep)) throw notAFile(path);
  const parent = await realPathOf(
    dirname(target),
    path,
    "its directory does not exist in the --files directory",
  );
  if (parent !== root && !within(root, parent)) throw leadsOut(path);
  const file = join(parent, basename(target));
  let link: Deno.FileInfo | undefined;
  try {
    link = await Deno.lstat(file);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  // Writing through a link writes where it points: it must point inside, at something real.
  if (link?.isSymlink) {
    const real = await realPathOf(
      file,
      path,
      "the file is a symbolic link to nothing: writing would create its target, wherever it is",
      "symlink",
    );
    if (!within(root, real)) throw leadsOut(path);
    return real;
  }
  return file;
}

/**
 * The file a download is written to until it is complete: `NAME.part`, renamed to NAME at the
 * end, so that a NAME that exists is always whole.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { partFileName } from "./file_paths.ts";
 * assert.equal(partFileName("/srv/files/video.mp4"), "/srv/files/video.mp4.part");
 * ```
 */
export function partFileName(path: string): string {
  return `${path}.part`;
}

/**
 * Where a download resumes into a `.part` file of `existingBytes`: the last whole part, since a
 * part cut off by a crash is written again (the caller truncates the file there).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resumeOffset } from "./file_paths.ts";
 * assert.equal(resumeOffset(1_500_000, 524_288), 1_048_576);
 * assert.equal(resumeOffset(undefined, 524_288), 0);
 * ```
 */
export function resumeOffset(existingBytes: number | undefined, partSize: number): number {
  if (!(Number.isSafeInteger(partSize) && partSize > 0)) {
    throw new RangeError(`a part size is a whole number ≥ 1, got ${partSize}`);
  }
  if (existingBytes === undefined || existingBytes <= 0) return 0;
  return Math.floor(existingBytes / partSize) * partSize;
}

/** The size of the `.part` file at `path` (already resolved), or undefined when there is none. */
export async function partFileSize(path: string): Promise<number | undefined> {
  try {
    const info = await Deno.stat(path);
    return info.isFile ? info.size : undefined;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

/** `path` relative to the directory, or refused as leaving it before any link is looked at. */
function lexicallyInside(dir: string, root: string, path: string): string {
  if (isAbsolute(path)) {
    // DIR may be given through a link (/tmp → /private/tmp): a path under either spelling is in.
    const inner = relativeWithin(resolve(dir), path) ?? relativeWithin(root, path);
    if (inner === undefined) {
      throw new FilePathError(
        "outside",
        path,
        "an absolute path must lead into the --files directory",
      );
    }
    return inner;
  }
  const inner = normalize(path);
  if (inner === ".." || inner.startsWith(`..${sep}`)) {
    throw new FilePathError("dot_dot", path, '".." would climb out of the --files directory');
  }
  if (inner === "." || inner === `.${sep}`) throw notAFile(path);
  return inner;
}

/** `path` relative to `base` when it lies inside it (or is it: ""), else undefined. */
function relativeWithin(base: string, path: string): string | undefined {
  const inner = relative(base, normalize(path));
  if (inner === ".." || inner.startsWith(`..${sep}`) || isAbsolute(inner)) return undefined;
  if (inner === "") throw notAFile(path);
  return inner;
}

/** True when `path` lies strictly inside `root`. */
function within(root: string, path: string): boolean {
  return path.startsWith(root.endsWith(sep) ? root : root + sep);
}

/** The real path of `target`, or the error `reason` (under `rule`) when it does not exist. */
async function realPathOf(
  target: string,
  path: string,
  reason: string,
  rule: FilePathRule = "not_found",
): Promise<string> {
  try {
    return await Deno.realPath(target);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    throw new FilePathError(rule, path, reason);
  }
}

function checkName(path: string): void {
  if (path === "" || path.includes("\0")) throw notAFile(path);
}

function leadsOut(path: string): FilePathError {
  return new FilePathError(
    "symlink",
    path,
    "a symbolic link on the way leads out of the --files directory",
  );
}

function notAFile(path: string): FilePathError {
  return new FilePathError("not_a_file", path, "this does not name a file");
}

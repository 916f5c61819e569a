import { assertEquals, assertStringIncludes } from "../assert.ts";
import {
  FilePathError,
  type FilePathRule,
  partFileName,
  partFileSize,
  resolveFilePath,
  resolveInside,
  resumeOffset,
} from "../../lib/proxy/file_paths.ts";

/**
 * A temporary tree: `files/` (the --files DIR) with `a.txt`, `sub/b.txt`, and links, beside
 * `outside/secret.txt`; removed after `run`.
 */
async function withTree(run: (root: string, files: string) => Promise<void>): Promise<void> {
  const root = await Deno.realPath(await Deno.makeTempDir({ prefix: "file_paths_" }));
  const files = `${root}/files`;
  try {
    await Deno.mkdir(`${files}/sub`, { recursive: true });
    await Deno.mkdir(`${root}/outside`);
    await Deno.writeTextFile(`${files}/a.txt`, "a");
    await Deno.writeTextFile(`${files}/sub/b.txt`, "b");
    await Deno.writeTextFile(`${root}/outside/secret.txt`, "secret");
    await Deno.symlink(`${root}/outside`, `${files}/out_dir`); // a directory link out
    await Deno.symlink(`${root}/outside/secret.txt`, `${files}/out_file`); // a file link out
    await Deno.symlink(`${files}/sub`, `${files}/in_dir`); // a directory link that stays in
    await Deno.symlink("sub/b.txt", `${files}/in_file`); // a relative file link that stays in
    await Deno.symlink(`${root}/outside/nothing`, `${files}/dangling`);
    await run(root, files);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

/** Asserts that resolving `path` in `files` is refused under `rule`. */
async function refused(
  files: string,
  path: string,
  rule: FilePathRule,
  forWrite = false,
): Promise<FilePathError> {
  try {
    await resolveInside(files, path, { forWrite });
  } catch (error) {
    if (!(error instanceof FilePathError)) throw error;
    assertEquals({ rule: error.rule, path: error.path }, { rule, path }, error.message);
    assertEquals(error.name, "FilePathError");
    return error;
  }
  throw new Error(`${path} (${forWrite ? "write" : "read"}) was not refused`);
}

Deno.test("paths inside the directory resolve to their real paths, relative or absolute", async () => {
  await withTree(async (_root, files) => {
    assertEquals(await resolveInside(files, "a.txt"), `${files}/a.txt`);
    assertEquals(await resolveInside(files, "sub/b.txt"), `${files}/sub/b.txt`);
    assertEquals(await resolveInside(files, "./sub/../a.txt"), `${files}/a.txt`);
    assertEquals(await resolveInside(files, `${files}/sub/b.txt`), `${files}/sub/b.txt`);
    // Links that stay inside are followed.
    assertEquals(await resolveInside(files, "in_dir/b.txt"), `${files}/sub/b.txt`);
    assertEquals(await resolveInside(files, "in_file"), `${files}/sub/b.txt`);
    // A new file may be written; it does not exist yet.
    assertEquals(
      await resolveInside(files, "sub/new.bin", { forWrite: true }),
      `${files}/sub/new.bin`,
    );
    assertEquals(
      await resolveInside(files, "in_dir/new.bin", { forWrite: true }),
      `${files}/sub/new.bin`,
    );
  });
});

Deno.test("absolute paths outside the directory are refused", async () => {
  await withTree(async (root, files) => {
    const error = await refused(files, `${root}/outside/secret.txt`, "outside");
    assertStringIncludes(error.message, "absolute path must lead into the --files directory");
    await refused(files, "/etc/passwd", "outside");
    await refused(files, `${files}/../outside/secret.txt`, "outside");
    await refused(files, `${root}/files_evil/x`, "outside"); // a sibling sharing the prefix
    await refused(files, "/tmp/x", "outside", true);
  });
});

Deno.test('".." that climbs out of the directory is refused, even if it would come back in', async () => {
  await withTree(async (_root, files) => {
    const error = await refused(files, "../outside/secret.txt", "dot_dot");
    assertStringIncludes(error.message, '".." would climb out of the --files directory');
    await refused(files, "sub/../../outside/secret.txt", "dot_dot");
    await refused(files, "../files/a.txt", "dot_dot");
    await refused(files, "..", "dot_dot", true);
  });
});

Deno.test("a symbolic link leading out is refused: on the way, as the file, or as the parent of a write", async () => {
  await withTree(async (_root, files) => {
    const error = await refused(files, "out_dir/secret.txt", "symlink");
    assertStringIncludes(error.message, "symbolic link on the way leads out");
    assertEquals(error.message.includes("outside"), false); // where it points is not told
    await refused(files, "out_file", "symlink");
    await refused(files, `${files}/out_file`, "symlink");
    await refused(files, "out_dir/new.bin", "symlink", true);
    // Writing through a link to a file outside would overwrite it.
    await refused(files, "out_file", "symlink", true);
    // A link to nothing would create its target, wherever that is.
    await refused(files, "dangling", "symlink", true);
  });
});

Deno.test("the directory given through a link works, and its own spelling is inside", async () => {
  await withTree(async (root, files) => {
    await Deno.symlink(files, `${root}/alias`);
    assertEquals(await resolveInside(`${root}/alias`, "a.txt"), `${files}/a.txt`);
    assertEquals(
      await resolveInside(`${root}/alias`, `${root}/alias/sub/b.txt`),
      `${files}/sub/b.txt`,
    );
    await refused(`${root}/alias`, "out_dir/secret.txt", "symlink");
  });
});

Deno.test("what names no file is refused, and a missing file or directory is said so", async () => {
  await withTree(async (_root, files) => {
    await refused(files, "", "not_a_file");
    await refused(files, ".", "not_a_file");
    await refused(files, files, "not_a_file");
    await refused(files, "a\0b", "not_a_file");
    await refused(files, "sub/", "not_a_file", true);
    await refused(files, "missing.txt", "not_found");
    await refused(files, "nowhere/new.bin", "not_found", true);
    await refused(`${files}/gone`, "a.txt", "not_found");
  });
});

Deno.test("serve without --files refuses every path; pipe takes paths as given", async () => {
  for (const path of ["a.txt", "/etc/passwd", "../x"]) {
    try {
      await resolveFilePath({ kind: "none" }, path, { forWrite: true });
      throw new Error(`${path} was taken`);
    } catch (error) {
      assertEquals((error as FilePathError).rule, "no_files");
      assertStringIncludes((error as Error).message, "--files DIR");
    }
  }
  const pipe = { kind: "as_given", cwd: "/work/here" } as const;
  assertEquals(await resolveFilePath(pipe, "a.txt"), "/work/here/a.txt");
  assertEquals(await resolveFilePath(pipe, "../x"), "/work/x");
  assertEquals(await resolveFilePath(pipe, "/etc/hosts"), "/etc/hosts");
  await withTree(async (_root, files) => {
    const inside = { kind: "inside", dir: files } as const;
    assertEquals(await resolveFilePath(inside, "a.txt"), `${files}/a.txt`);
    await resolveFilePath(inside, "out_file").then(
      () => Promise.reject(new Error("out_file was taken")),
      (error) => assertEquals(error.rule, "symlink"),
    );
  });
});

Deno.test("a download resumes from the last whole part of its .part file", async () => {
  assertEquals(partFileName("video.mp4"), "video.mp4.part");
  assertEquals(resumeOffset(1_500_000, 524_288), 1_048_576);
  assertEquals(resumeOffset(1_048_576, 1_048_576), 1_048_576);
  assertEquals(resumeOffset(4095, 4096), 0);
  assertEquals(resumeOffset(undefined, 4096), 0);
  await withTree(async (_root, files) => {
    const part = await resolveInside(files, partFileName("video.mp4"), { forWrite: true });
    assertEquals(part, `${files}/video.mp4.part`);
    assertEquals(await partFileSize(part), undefined);
    await Deno.writeFile(part, new Uint8Array(700_000));
    assertEquals(resumeOffset(await partFileSize(part), 524_288), 524_288);
    assertEquals(await partFileSize(`${files}/sub`), undefined); // a directory is no .part file
  });
});

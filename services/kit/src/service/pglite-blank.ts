/**
 * A new embedded database starts as a copy of a blank one. PGlite's initdb
 * (PostgreSQL compiled to WebAssembly) costs about 10 s of CPU; copying its
 * result costs under 3. The blank is made once per PGlite version, in the
 * user's cache directory (private to the user: a cluster is code the server
 * runs), and shared by every process: `npm start`'s five databases on a
 * first start, the tests' embedded ones.
 */
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { cp, mkdir, rename, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";

/** True when `dir` already holds a cluster (initdb writes PG_VERSION first). */
export function hasCluster(dir: string): boolean {
  return existsSync(path.join(dir, "PG_VERSION"));
}

/** The installed PGlite's version: a blank made by another version is never used. */
function pgliteVersion(): string {
  const entry = createRequire(import.meta.url).resolve("@electric-sql/pglite");
  const root = entry.slice(0, entry.lastIndexOf(`${path.sep}dist${path.sep}`));
  return (JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as { version: string }).version;
}

/** Where the blank cluster of this PGlite version lives: `$XDG_CACHE_HOME/convos-pool/`, else `~/.cache/convos-pool/`. */
export function blankClusterDir(env: NodeJS.ProcessEnv = process.env): string {
  const cache = env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache");
  return path.join(cache, "convos-pool", `pglite-${pgliteVersion()}-blank`);
}

/** Fills the empty `dir` with a copy of the blank cluster, making the blank first if there is none. */
export async function seedFromBlank(dir: string, blank = blankClusterDir()): Promise<void> {
  if (!hasCluster(blank)) {
    await mkdir(path.dirname(blank), { recursive: true, mode: 0o700 });
    // Made beside and renamed into place: a process that finds the blank finds it whole.
    const making = `${blank}.${randomBytes(6).toString("hex")}.tmp`;
    try {
      const db = await PGlite.create(making);
      await db.close();
      await rename(making, blank).catch((err: NodeJS.ErrnoException) => {
        // Another process made it first: theirs is as good.
        if (err.code !== "EEXIST" && err.code !== "ENOTEMPTY") throw err;
      });
    } finally {
      await rm(making, { recursive: true, force: true });
    }
  }
  await cp(blank, dir, { recursive: true });
}

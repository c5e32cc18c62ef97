// Builds the web app when its build is missing or older than what it is built
// from (make's rule), so that `npm start` serves a fresh app with no extra
// step. The build goes to a temporary directory and is renamed into place:
// a gateway never reads a half-written one.
import { mkdir, readdir, rename, rm, stat } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const WEB_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const WEB_DIST = join(WEB_ROOT, "dist");
const SERVICES = resolve(WEB_ROOT, "..");

/** What the bundle is made of: the app, and the kit and generated code it imports. */
const INPUTS = [
  join(WEB_ROOT, "src"),
  join(WEB_ROOT, "index.html"),
  join(WEB_ROOT, "public"),
  join(WEB_ROOT, "vite.config.ts"),
  join(WEB_ROOT, "package.json"),
  join(SERVICES, "kit", "src"),
  join(SERVICES, "..", "gen", "convos"),
];

async function newest(path: string): Promise<number> {
  const s = await stat(path).catch(() => undefined);
  if (!s) return 0;
  if (!s.isDirectory()) return s.mtimeMs;
  let max = s.mtimeMs;
  for (const e of await readdir(path)) max = Math.max(max, await newest(join(path, e)));
  return max;
}

/** True when dist/ holds a build newer than every input. */
export async function webBuildIsFresh(outDir = WEB_DIST): Promise<boolean> {
  const built = await stat(join(outDir, "index.html")).catch(() => undefined);
  if (!built) return false;
  let inputs = 0;
  for (const i of INPUTS) inputs = Math.max(inputs, await newest(i));
  return built.mtimeMs >= inputs;
}

/** Builds into outDir unless a fresh build is there; returns outDir. */
export async function ensureWebBuild(opts: { outDir?: string; log?: (message: string) => void } = {}): Promise<string> {
  const outDir = opts.outDir ?? WEB_DIST;
  if (await webBuildIsFresh(outDir)) return outDir;
  // One build at a time across processes (test files build at once): a build that swapped the folder while
  // another process served it would take its files away. Whoever waited finds it fresh.
  const release = await buildLock(`${outDir}.lock`);
  try {
    if (await webBuildIsFresh(outDir)) return outDir;
    return await build(outDir, opts.log);
  } finally {
    await release();
  }
}

/** Holds `dir` as a lock (mkdir is atomic); a lock older than ten minutes was left by a process that died. */
async function buildLock(dir: string): Promise<() => Promise<void>> {
  const deadline = Date.now() + 10 * 60_000;
  for (;;) {
    try {
      await mkdir(dir);
      return () => rm(dir, { recursive: true, force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const since = await stat(dir).then(
        (s) => Date.now() - s.mtimeMs,
        () => 0,
      );
      if (since > 10 * 60_000 || Date.now() > deadline) await rm(dir, { recursive: true, force: true });
      else await new Promise((r) => setTimeout(r, 200));
    }
  }
}

async function build(outDir: string, log?: (message: string) => void): Promise<string> {
  log?.("building the web app (services/web)...");
  const tmp = `${outDir}.${process.pid}.tmp`;
  // Vite only when a build is needed: it is a development dependency.
  const vite = await import("vite");
  // A production build whatever the caller's NODE_ENV (vitest sets "test",
  // which would give React's development build).
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = "production";
  try {
    await vite.build({
      configFile: join(WEB_ROOT, "vite.config.ts"),
      mode: "production",
      build: { outDir: tmp, emptyOutDir: true },
      logLevel: "warn",
    });
  } finally {
    if (nodeEnv === undefined) delete process.env.NODE_ENV;
    else process.env.NODE_ENV = nodeEnv;
  }
  await rm(outDir, { recursive: true, force: true });
  await rename(tmp, outDir);
  return outDir;
}

// Where an OpenClaw installation is: scripts/openclaw-install.sh puts the npm
// `openclaw` package and the Node 24 it needs (npm `node`) in a folder of
// their own, outside the project's dependencies (they take about a minute and
// 650 MB, which only a host of the OpenClaw runtime should pay). The host finds
// that folder through POOL_OPENCLAW_DIR, else vendor/openclaw in the repository.

import { access, readFile } from "node:fs/promises";
import { constants } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The pinned versions (scripts/openclaw-install.sh installs exactly these). */
export const OPENCLAW_VERSION = "2026.9.6";
export const OPENCLAW_NODE_VERSION = "24.21.0";

/** The repository's root, from this file's place in it (services/instance/src/openclaw). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../../..");

export interface OpenClawInstall {
  /** The folder: DIR/node_modules/{node,openclaw}. */
  dir: string;
  /** Node 24's executable. */
  node: string;
  /** openclaw.mjs, the package's command. */
  entry: string;
  version: string;
}

/** The default folder: $POOL_OPENCLAW_DIR, else <repo>/vendor/openclaw. */
export function openClawDir(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.POOL_OPENCLAW_DIR || join(REPO_ROOT, "vendor", "openclaw"));
}

/** The installation in `dir`, checked: both executables there and openclaw at the pinned version. */
export async function findOpenClaw(dir = openClawDir()): Promise<OpenClawInstall> {
  const node = join(dir, "node_modules", "node", "bin", "node");
  const pkg = join(dir, "node_modules", "openclaw");
  const entry = join(pkg, "openclaw.mjs");
  const missing = `no OpenClaw installation in ${dir}: run scripts/openclaw-install.sh (or set POOL_OPENCLAW_DIR)`;
  try {
    await access(node, constants.X_OK);
    await access(entry, constants.R_OK);
  } catch {
    throw new Error(missing);
  }
  const { version } = JSON.parse(await readFile(join(pkg, "package.json"), "utf8")) as { version: string };
  if (version !== OPENCLAW_VERSION)
    throw new Error(`${dir} has openclaw ${version}, not ${OPENCLAW_VERSION}: run scripts/openclaw-install.sh`);
  return { dir, node, entry, version };
}

// The owner's choice about the pattern pool (issue 15, docs/memory.md): offer
// this agent's training lessons, adopt related agents' lessons. Kept in the
// workspace's sharing.json, set only through the owner's signed
// SetPatternSharing; absent means both off. Release wipes it with the claim.

import { join } from "node:path";
import { readFile, rename, writeFile } from "node:fs/promises";
import { randomBytes } from "node:crypto";

export const SHARING_FILE = "sharing.json";

export interface PatternSharing {
  offer: boolean;
  adopt: boolean;
  /** When the owner last set it (ISO time); absent for the default. */
  setAt?: string;
}

export const NO_SHARING: PatternSharing = Object.freeze({ offer: false, adopt: false });

/** The workspace's sharing choice; both off when never set or unreadable. */
export async function readSharing(dir: string): Promise<PatternSharing> {
  let text: string;
  try {
    text = await readFile(join(dir, SHARING_FILE), "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return { ...NO_SHARING };
    throw err;
  }
  const parsed = JSON.parse(text) as Partial<PatternSharing>;
  return {
    offer: parsed.offer === true,
    adopt: parsed.adopt === true,
    ...(typeof parsed.setAt === "string" ? { setAt: parsed.setAt } : {}),
  };
}

/** Written whole (temporary file, then rename), mode 0600, like every workspace file. */
export async function writeSharing(dir: string, sharing: PatternSharing): Promise<void> {
  const value: PatternSharing = { offer: sharing.offer, adopt: sharing.adopt, setAt: sharing.setAt ?? new Date().toISOString() };
  const tmp = join(dir, `.${SHARING_FILE}.${randomBytes(4).toString("hex")}.tmp`);
  await writeFile(tmp, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
  await rename(tmp, join(dir, SHARING_FILE));
}

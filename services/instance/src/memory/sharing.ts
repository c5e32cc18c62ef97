// The owner's choice about the pattern pool (docs/memory.md): offer
// this agent's training lessons, adopt related agents' lessons. Kept in the
// workspace's sharing.json, set only through the owner's signed
// SetPatternSharing; absent means both off. Release wipes it with the claim.

import { FILES, type Workspace } from "../platform/workspace.js";

export interface PatternSharing {
  offer: boolean;
  adopt: boolean;
  /** When the owner last set it (ISO time); absent for the default. */
  setAt?: string;
}

export const NO_SHARING: PatternSharing = Object.freeze({ offer: false, adopt: false });

/** The workspace's sharing choice; both off when never set. */
export async function readSharing(ws: Workspace): Promise<PatternSharing> {
  const parsed = (await ws.readJson<Partial<PatternSharing>>(FILES.sharing)) ?? {};
  return {
    offer: parsed.offer === true,
    adopt: parsed.adopt === true,
    ...(typeof parsed.setAt === "string" ? { setAt: parsed.setAt } : {}),
  };
}

export async function writeSharing(ws: Workspace, sharing: PatternSharing): Promise<void> {
  await ws.writeJson(FILES.sharing, {
    offer: sharing.offer,
    adopt: sharing.adopt,
    setAt: sharing.setAt ?? new Date().toISOString(),
  });
}

// The pool's hold of a look-alike template (docs/store.md, "Look-alike
// templates"): run by the template service's mutate() in the transaction
// of a publish, or of a content change to a public template, under the
// template row's lock. It reads the most used templates of other creators
// (sql.ts), decides with look-alike.ts, and when the template copies one,
// delists it in the pool's name with the reason its creator reads. What
// operators do next is the curation of any delisting: relist, or decline a
// review.
import type { EntityManager } from "@mikro-orm/postgresql";
import { isDelisted } from "../catalog/standing.js";
import type { TemplateRowType } from "../db/entities.js";
import { findLookAlike, holdReason, shingles, type ComparedTemplate } from "./look-alike.js";
import { clearedLookAlikes, holdForReview, instructionsOf, popularOfOthers } from "./sql.js";

/** Holds `row` (public, active, its new version set) when it copies a popular template of another creator; whether it did. */
export type LookAlikeHold = (tx: EntityManager, row: TemplateRowType, at: Date) => Promise<boolean>;

/**
 * One per service: it keeps the shingles of the popular templates by
 * content version, so that a publish shingles only its own instructions
 * and those of a popular template that changed or joined the list (at most
 * POPULAR_COMPARED kept: what left the list is forgotten).
 */
export function createLookAlikeHold(): LookAlikeHold {
  const known = new Map<string, { contentVersion: number; shingles: Uint32Array }>();

  return async (tx, row, at) => {
    // Already out of the store: an operator decides its way back anyway.
    if (await isDelisted(tx, row.id)) return false;
    const popular = await popularOfOthers(tx, row.creatorId);
    // What this check compares, taken before it awaits: another check may change `known` meanwhile.
    const ready = new Map<string, Uint32Array>();
    for (const p of popular) {
      const k = known.get(p.id);
      if (k?.contentVersion === p.contentVersion) ready.set(p.id, k.shingles);
    }
    for (const r of await instructionsOf(
      tx,
      popular.filter((p) => !ready.has(p.id)).map((p) => p.id),
    )) {
      const made = shingles(r.instructions);
      ready.set(r.id, made);
      known.set(r.id, { contentVersion: r.contentVersion, shingles: made });
    }
    for (const id of known.keys()) if (!popular.some((p) => p.id === id)) known.delete(id);
    const compared: ComparedTemplate[] = popular.flatMap((p) => {
      const made = ready.get(p.id);
      return made ? [{ id: p.id, creatorId: p.creatorId, name: p.name, shingles: made }] : [];
    });
    const match = findLookAlike(
      { creatorId: row.creatorId, name: row.agentName, instructions: row.instructions },
      compared,
      await clearedLookAlikes(tx, row.id),
    );
    if (!match) return false;
    return holdForReview(tx, { templateId: row.id, version: row.version, match, reason: holdReason(match), at });
  };
}

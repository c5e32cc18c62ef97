/**
 * A version that takes the pool's wallet away (docs/templates.md, "A version
 * without the wallet"). An agent's wallet ("crypto", provisioned by the pool)
 * may hold its owner's money; when a new version of its template, or of a
 * base its template follows, no longer declares it, the pool gives the
 * wallet back once the agent applied that version, and its balance goes to
 * the owner. Such a version is published only when its creator acknowledges
 * it in the signed change. This service sees no agents and no balances: it
 * decides from the declarations alone, for every template whose agents would
 * run on the change (the template itself, and the templates built on it that
 * follow it).
 */
import type { EntityManager } from "@mikro-orm/postgresql";
import {
  contentFromJson,
  contentToJson,
  failedPreconditionOn,
  resolveContent,
  type TemplateContentJson,
} from "@convos-pool/kit/content";
import { layersBelow, templatesAbove } from "../release/bases.js";
import { TemplateRow } from "../db/entities.js";
import { rowContent } from "../catalog/proto.js";

/** The pool's wallet tool (kit POOL_TOOL_IDS). */
export const WALLET_TOOL = "crypto";
/** The request's field, and the EIP-712 field (signing.ts OPTIONAL_SIGNED_FIELDS), that acknowledge it. */
export const ACKNOWLEDGE_FIELD = "acknowledge_wallet_removal";
/** Templates a refusal names at most. */
const NAMED = 5;

/** Whether the content resolved from `layers` (the template first, its bases after) has the pool's wallet. */
export function declaresWallet(layers: readonly TemplateContentJson[]): boolean {
  const resolved = contentToJson(resolveContent(layers.map(contentFromJson)));
  return resolved.tools.some((t) => t.id === WALLET_TOOL && t.provisioning === "pool");
}

/**
 * The templates whose agents have the pool's wallet now and would not once
 * `self` (its row locked, still at its current content) becomes `next`:
 * `self` itself, and each template built on it whose chain follows it (no
 * layer between stays on a version of `self`). Resolved as the agents resolve
 * them (kit resolveContent).
 */
export async function templatesLosingWallet(
  tx: EntityManager,
  self: { id: string; content: TemplateContentJson },
  next: TemplateContentJson,
): Promise<string[]> {
  const nextBelow = (await layersBelow(tx, self.id, next)).map((l) => l.content);
  const losing: string[] = [];
  const before = [self.content, ...(await layersBelow(tx, self.id, self.content)).map((l) => l.content)];
  if (declaresWallet(before) && !declaresWallet([next, ...nextBelow])) losing.push(self.id);
  for (const above of await templatesAbove(tx, self.id)) {
    const row = await tx.findOne(TemplateRow, { id: above.id });
    if (!row) continue;
    const own = rowContent(row);
    const layers = await layersBelow(tx, row.id, own);
    const at = layers.findIndex((l) => l.templateId === self.id);
    // A layer that stays on a version of `self` keeps what it runs on.
    if (at < 0 || layers[at]?.pinned) continue;
    const now = [own, ...layers.map((l) => l.content)];
    const then = [own, ...layers.slice(0, at).map((l) => l.content), next, ...nextBelow];
    if (declaresWallet(now) && !declaresWallet(then)) losing.push(row.id);
  }
  return losing;
}

/** Refuses a change that takes the wallet away from `losing` unless its creator acknowledged it. */
export function checkWalletRemoval(losing: readonly string[], acknowledged: boolean): void {
  if (losing.length === 0 || acknowledged) return;
  const named = losing.slice(0, NAMED).join(", ") + (losing.length > NAMED ? ` and ${losing.length - NAMED} more` : "");
  throw failedPreconditionOn(
    ACKNOWLEDGE_FIELD,
    `this version takes the pool's wallet ("${WALLET_TOOL}") away from the agents of template ${named}. ` +
      `Agents of this template may hold their owners' funds; their balances go back to their owners. ` +
      `To publish it, sign the change with ${ACKNOWLEDGE_FIELD} set`,
  );
}

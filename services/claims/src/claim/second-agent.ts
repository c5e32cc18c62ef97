/**
 * A second agent of one template in one conversation (docs/claims.md, "A
 * second agent of a template"). Convos allows several agents in a
 * conversation on purpose, so the pool does not forbid it; but two agents of
 * one template share a name and a purpose, and a claim that adds one where
 * one already lives is more often a mistake than a wish. Such a claim is
 * refused unless its requester confirms it (`confirm_second_agent`, signed
 * with the claim as `ClaimAgent`'s `secondAgent`).
 *
 * The conversation is known as full-conversation.ts knows it, by its
 * invite's creator inbox and tag (`conversation_key`): the claim has only
 * the invite, and an agent's `conversation_id` is learned only once it
 * joined. What a refusal tells: that an agent of this template lives in the
 * conversation, by its agent name; its instance id only to its owner. Only
 * a proven requester who may see the template and holds an invite of that
 * conversation (its tag) is told, after the claim counted against their
 * rate: what a member sees in the member list once let in.
 */
import { failedPreconditionOn } from "@convos-pool/kit/content";
import type { EntityManager } from "@mikro-orm/postgresql";

/** The field that confirms a second agent. */
export const CONFIRM_FIELD = "confirm_second_agent";

/** An agent of the template already live in the conversation. */
export interface AgentThere {
  id: string;
  ownerId: string;
  agentName: string;
}

/**
 * Refuses a claim of a template that already has a live agent (`there`) in
 * the conversation, unless confirmed: FAILED_PRECONDITION naming
 * `confirm_second_agent` and the agent there (its id only to its owner).
 */
export function checkSecondAgent(there: AgentThere | undefined, requester: string, confirmed: boolean): void {
  if (!there || confirmed) return;
  const whose = there.ownerId === requester ? `your agent ${there.id}` : "another member's agent";
  throw failedPreconditionOn(
    CONFIRM_FIELD,
    `this conversation already has ${there.agentName} (${whose}), of the same template: ` +
      `two agents of one template answer the same messages; set ${CONFIRM_FIELD} to add another`,
  );
}

/**
 * The live agent (claimed, or crashed and coming back) of `templateId` in
 * the conversation `key` names, the requester's own first, else the most
 * lately claimed.
 */
export async function agentOfTemplateIn(
  em: EntityManager,
  key: string,
  templateId: string,
  requester: string,
): Promise<AgentThere | undefined> {
  const [row] = await em.execute<{ id: string; owner_id: string; agent_name: string | null }[]>(
    `select id, owner_id, agent_name from instances
     where state in ('claimed', 'crashed') and conversation_key = ? and template_id = ?
     order by owner_id = ? desc, claimed_at desc limit 1`,
    [key, templateId, requester],
  );
  return row ? { id: row.id, ownerId: row.owner_id, agentName: row.agent_name || "an agent" } : undefined;
}

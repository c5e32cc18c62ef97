/**
 * The caps on what one owner holds (docs/limits.md): live agents, and the
 * pool tools of those agents. Checked in the claim's own transaction under a
 * lock per owner, so that concurrent claims of one owner cannot pass a cap
 * together; a claim in progress counts the tools it is about to provision.
 */
import type { EntityManager } from "@mikro-orm/postgresql";
import { limitExceeded, type LimitConfig } from "@convos-pool/kit";

export type Caps = Pick<LimitConfig, "liveAgentsPerOwner" | "poolToolsPerOwner">;

/**
 * An owner's live agents (claiming, claimed, crashed) and their tools. One
 * arm per state, so that each walks its own partial index (migrations.ts,
 * OwnerHoldings); the owner is each arm's parameter.
 */
export const HOLDINGS_SQL = `select count(*)::int as agents,
    coalesce(sum(case when h.state = 'claiming' then h.tools_reserved
                      else (select count(*) from provisioned_tools t where t.instance_id = h.id) end), 0)::int as tools
  from (
    select id, state, tools_reserved from instances where owner_id = ? and state = 'claimed'
    union all select id, state, tools_reserved from instances where owner_id = ? and state = 'claiming'
    union all select id, state, tools_reserved from instances where owner_id = ? and state = 'crashed'
  ) h`;

/** What one owner holds now. */
export async function holdings(em: EntityManager, owner: string): Promise<{ agents: number; tools: number }> {
  const [row] = await em.execute<{ agents: number; tools: number }[]>(HOLDINGS_SQL, [owner, owner, owner]);
  return { agents: row?.agents ?? 0, tools: row?.tools ?? 0 };
}

/**
 * Refuses a claim of `newTools` pool tools that would take `owner` past a cap:
 * RESOURCE_EXHAUSTED with the LimitExceeded detail and no Retry-After (waiting
 * alone does not help). Runs in `tx`, which must also take the agent.
 */
export async function checkCaps(tx: EntityManager, owner: string, newTools: number, caps: Caps): Promise<void> {
  const { liveAgentsPerOwner: agentCap, poolToolsPerOwner: toolCap } = caps;
  if (agentCap === undefined && (toolCap === undefined || newTools === 0)) return;
  await tx.execute(`select pg_advisory_xact_lock(hashtextextended(?, 0))`, [`convos-pool/owner/${owner}`]);
  const held = await holdings(tx, owner);
  if (agentCap !== undefined && held.agents + 1 > agentCap) {
    throw limitExceeded(
      "live agents per owner",
      `you have ${held.agents} live agents, the most one owner may have (${agentCap}); remove one first (DELETE /api/pool/agents/{id})`,
    );
  }
  if (toolCap !== undefined && held.tools + newTools > toolCap) {
    throw limitExceeded(
      "pool tools per owner",
      `this agent needs ${newTools} pool tools and your agents hold ${held.tools}, of at most ${toolCap} per owner; remove an agent first (DELETE /api/pool/agents/{id})`,
    );
  }
}

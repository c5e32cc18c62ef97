/**
 * The caps on what one owner holds (docs/limits.md): live agents, and the
 * pool tools of those agents. A claim under a cap takes a lock per owner,
 * counts what the owner holds and takes an idle instance, all in one call of
 * the database function `claim_within_caps` (schema/migrations.ts), so that
 * concurrent claims of one owner cannot pass a cap together and a claim
 * costs one round trip, not a transaction of five queries (measured: the
 * transaction halved the claims service's rate). A claim in progress counts
 * the tools it is about to provision.
 */
import type { EntityManager } from "@mikro-orm/postgresql";
import { limitExceeded, type LimitConfig } from "@convos-pool/kit/server";
import { CLAIM_SQL, type ClaimParams, type ClaimedInstance } from "./sql.js";

export type Caps = Pick<LimitConfig, "liveAgentsPerOwner" | "poolToolsPerOwner">;

/**
 * An owner's live agents (claiming, claimed, crashed) and their tools. One
 * arm per state, so that each walks its own partial index (schema/migrations.ts,
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

/**
 * An owner's live agents alone, for a claim that reserves no pool tools: one
 * count per state, each over its partial index, and no visit of each agent
 * for its tools (which made a claim's cost grow with the owner's agents:
 * measured, docs/performance/claims.md).
 */
export const AGENTS_SQL = `select (select count(*) from instances where owner_id = ? and state = 'claimed')
    + (select count(*) from instances where owner_id = ? and state = 'claiming')
    + (select count(*) from instances where owner_id = ? and state = 'crashed') as agents`;

/** What one owner holds now. */
export async function holdings(em: EntityManager, owner: string): Promise<{ agents: number; tools: number }> {
  const [row] = await em.execute<{ agents: number; tools: number }[]>(HOLDINGS_SQL, [owner, owner, owner]);
  return { agents: row?.agents ?? 0, tools: row?.tools ?? 0 };
}

/** `?` placeholders as the function's parameters, in order. */
function numbered(sql: string, params: number[]): string {
  let i = 0;
  return sql.replace(/\?/g, () => `$${params[i++]}`);
}

/**
 * The body of `claim_within_caps(<CLAIM_SQL's nine parameters>, agent_cap,
 * tool_cap, runtime)`, built from CLAIM_SQL and HOLDINGS_SQL: a migration creates the
 * function from it, and a test checks that the database's function is still
 * this text (change either query, and a migration must recreate it).
 * Each query of a volatile function takes its own snapshot, so the count
 * sees every claim committed before the lock was granted. The tools are
 * counted only for a claim that reserves some under a tool cap: one that
 * reserves none cannot pass that cap, and counting them visits every agent.
 */
export function claimWithinCapsBody(): string {
  const refuse = (what: string) =>
    `return query select null::text, null::text, null::text, null::integer, '${what}'::text, held_agents, held_tools; return;`;
  const claim = numbered(CLAIM_SQL, [1, 2, 3, 4, 5, 6, 7, 8, 9, 12])
    .replace(/^update instances set/, "update instances i set")
    .replace(
      "returning id, host_url, inbox_id, wallet_index",
      "returning i.id, i.host_url, i.inbox_id, i.wallet_index, null::text, held_agents, held_tools",
    );
  return `#variable_conflict use_column
declare held_agents integer := 0; held_tools integer := 0;
begin
  if $10 is not null or ($11 is not null and $3 > 0) then
    perform pg_advisory_xact_lock(hashtextextended('convos-pool/owner/' || $2, 0));
    if $11 is not null and $3 > 0 then
      select h.agents, h.tools into held_agents, held_tools from (${numbered(HOLDINGS_SQL, [2, 2, 2])}) h;
    else
      select h.agents into held_agents from (${numbered(AGENTS_SQL, [2, 2, 2])}) h;
    end if;
    if $10 is not null and held_agents + 1 > $10 then ${refuse("agents")} end if;
    if $11 is not null and $3 > 0 and held_tools + $3 > $11 then ${refuse("tools")} end if;
  end if;
  return query ${claim};
end`;
}

/** Creates (or replaces) the function; for migrations. */
export function createClaimWithinCaps(): string {
  return `create or replace function claim_within_caps(
    text, text, integer, text, integer, text, text, boolean, jsonb, integer, integer, text)
  returns table (id text, host_url text, inbox_id text, wallet_index integer, refused text, agents integer, tools integer)
  language plpgsql volatile as $fn$${claimWithinCapsBody()}$fn$`;
}

/**
 * `claim_batch(claims jsonb, agent_cap, tool_cap)`: claim_within_caps for
 * each claim of a batch, in one call (the claim flow sends the claims in
 * flight together: kit batcher.ts). Claims go in their owners' order, so two
 * batches that lock the same owners lock them in the same order and cannot
 * deadlock; a claim sees those of the batch before it (same transaction), so
 * two of one owner in one batch cannot pass a cap together. Each claim's row
 * carries its place in the batch (`ord`, from 0); a claim that found no idle
 * instance has no row.
 */
export function claimBatchBody(): string {
  const arg = (key: string, type: string) => `(c.claim->>'${key}')::${type}`;
  return `
declare c record;
begin
  for c in select (t.n - 1)::integer as i, t.claim from jsonb_array_elements(claims) with ordinality t(claim, n)
           order by t.claim->>'owner_id', t.n loop
    return query select c.i, w.* from claim_within_caps(${arg("claim_id", "text")}, ${arg("owner_id", "text")},
      ${arg("tools_reserved", "integer")}, ${arg("template_id", "text")}, ${arg("template_version", "integer")},
      ${arg("agent_name", "text")}, ${arg("model", "text")}, ${arg("model_overridden", "boolean")},
      c.claim->'user_config', agent_cap, tool_cap, coalesce(${arg("runtime", "text")}, 'pool')) w;
  end loop;
end`;
}

/** Creates (or replaces) the function; for migrations. */
export function createClaimBatch(): string {
  return `create or replace function claim_batch(claims jsonb, agent_cap integer, tool_cap integer)
  returns table (ord integer, id text, host_url text, inbox_id text, wallet_index integer, refused text, agents integer, tools integer)
  language plpgsql volatile as $fn$${claimBatchBody()}$fn$`;
}

interface CappedRow {
  ord: number;
  id: string | null;
  host_url: string | null;
  inbox_id: string | null;
  wallet_index: number | null;
  refused: "agents" | "tools" | null;
  agents: number;
  tools: number;
}

/**
 * Claims of a batch within their owners' caps, in one round trip: for each,
 * in order, an idle instance, undefined when none is idle, or
 * RESOURCE_EXHAUSTED with the LimitExceeded detail (and no Retry-After:
 * waiting alone does not help) when the claim would pass a cap.
 */
export async function claimBatch(
  em: EntityManager,
  claims: ClaimParams[],
  caps: Caps,
): Promise<(ClaimedInstance | undefined | Error)[]> {
  const rows = await em.execute<CappedRow[]>(`select * from claim_batch(?::jsonb, ?, ?)`, [
    JSON.stringify(
      claims.map((p) => ({
        claim_id: p.claimId,
        owner_id: p.ownerId,
        tools_reserved: p.toolsReserved ?? 0,
        template_id: p.templateId,
        template_version: p.templateVersion,
        agent_name: p.agentName,
        model: p.model,
        model_overridden: p.modelOverridden,
        user_config: p.userConfig,
        runtime: p.runtime ?? "pool",
      })),
    ),
    caps.liveAgentsPerOwner ?? null,
    caps.poolToolsPerOwner ?? null,
  ]);
  const byOrd = new Map(rows.map((r) => [Number(r.ord), r]));
  return claims.map((p, i) => {
    const row = byOrd.get(i);
    if (row?.refused === "agents") {
      return limitExceeded(
        "live agents per owner",
        `you have ${row.agents} live agents, the most one owner may have (${caps.liveAgentsPerOwner}); remove one first (DELETE /api/pool/agents/{id})`,
      );
    }
    if (row?.refused === "tools") {
      return limitExceeded(
        "pool tools per owner",
        `this agent needs ${p.toolsReserved ?? 0} pool tools and your agents hold ${row.tools}, of at most ${caps.poolToolsPerOwner} per owner; remove an agent first (DELETE /api/pool/agents/{id})`,
      );
    }
    if (!row?.id) return undefined;
    // An instance claim_batch hands out was idle: started on a host, with its inbox.
    if (row.host_url === null || row.inbox_id === null)
      throw new Error(`claim_batch handed out instance ${row.id} without its host or inbox`);
    return { id: row.id, hostUrl: row.host_url, inboxId: row.inbox_id, walletIndex: Number(row.wallet_index) };
  });
}

/** One claim within its owner's caps (claimBatch of one): an idle instance, or undefined when none is idle. */
export async function claimWithinCaps(
  em: EntityManager,
  p: ClaimParams,
  caps: Caps,
): Promise<ClaimedInstance | undefined> {
  const [got] = await claimBatch(em, [p], caps);
  if (got instanceof Error) throw got;
  return got;
}

/**
 * What an agent may do in its conversation, as the pool states it
 * (docs/statement.md): the claims service, which knows the owner, the
 * template and version, the trust level and limit, the pool's tools and
 * their handles, the owner's permissions and the participation, states
 * them; it signs with the attestation key and hands the statement to the
 * agent with its attestation (badge/attestations.ts), which posts it into
 * its conversation.
 *
 * planStatement decides, pure: the same facts, stated less than
 * STATEMENT_REPOST_MS ago, are the last statement again (the agent does not
 * post it twice); new facts, or a day gone by, are a new statement naming
 * the last one's hash, with what changed (kit/content statementChanges).
 * readStatementFacts reads the facts from the instance's row, its tools and
 * its template's release; keepStatement keeps a new one, unless another
 * was kept meanwhile.
 */
import { create, fromJson } from "@bufbuild/protobuf";
import type { EntityManager } from "@mikro-orm/postgresql";
import {
  AgentStatementSchema,
  StatementToolSchema,
  type AgentStatement,
} from "@convos-pool/gen/convos/pool/v1/statement_pb.js";
import {
  participationModeName,
  resolveConnections,
  resolveParticipation,
  resolvePermissions,
  statementChanges,
  type StatementFacts,
} from "@convos-pool/kit/content";
import { statementHash } from "@convos-pool/kit/signing";
import {
  PermissionsSchema,
  type ParticipationMode,
  type Permissions,
} from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import type { TemplateSource } from "../templates/release.js";

/**
 * How old the last statement may grow before the same facts are stated
 * again: a day less an hour, so that the attestation's 12-hour round posts
 * one each day.
 */
export const STATEMENT_REPOST_MS = 23 * 60 * 60 * 1000;

/** The pool's tool ids (provisioned_tools.tool_id) as a statement names them. */
export const STATEMENT_TOOL_KINDS: Record<string, string> = { crypto: "wallet", sms: "phone", email: "mailbox" };

/** The last statement the agent took, as signed, and what it says. */
export interface LastStatement {
  jws: string;
  statement: AgentStatement;
  /** The key that signed it. */
  kid: string;
}

/** A comparable form of the facts: every field but the date, the chain and the changes. */
function factsKey(f: StatementFacts): string {
  return JSON.stringify([
    f.poolId,
    f.inboxId,
    f.instanceId,
    f.conversationId,
    f.ownerId,
    f.templateId,
    f.templateVersion,
    f.agentName,
    f.trustLevel,
    f.dailySpendLimitWei,
    f.tools.map((t) => [t.kind, t.handle]),
    f.connections.map((c) => [c.kind, c.capabilities, c.reason]),
    f.participation,
    f.permissions
      ? [
          f.permissions.memberSms,
          f.permissions.memberEmail,
          f.permissions.memberCrypto,
          f.permissions.outsiderReply,
          f.permissions.approvals,
        ]
      : null,
  ]);
}

/**
 * The statement to hand the agent now: `{ again: last }` when the facts are
 * the last one's and it is fresh, else a new one to sign, naming the last.
 */
export function planStatement(
  facts: StatementFacts,
  last: LastStatement | undefined,
  now: number,
  repostMs = STATEMENT_REPOST_MS,
): { again: LastStatement } | { sign: AgentStatement } {
  if (last && factsKey(last.statement) === factsKey(facts) && now - Date.parse(last.statement.issuedAt) < repostMs) {
    return { again: last };
  }
  return {
    sign: create(AgentStatementSchema, {
      ...facts,
      tools: facts.tools.map((t) => create(StatementToolSchema, { kind: t.kind, handle: t.handle })),
      permissions: facts.permissions && create(PermissionsSchema, facts.permissions),
      issuedAt: new Date(now).toISOString(),
      previous: last ? statementHash(last.jws) : "",
      sequence: last ? last.statement.sequence + 1 : 1,
      changes: last ? statementChanges(last.statement, facts) : [],
    }),
  };
}

/** The last statement a row keeps, decoded; undefined when none or unreadable (a new chain starts). */
export function lastStatementOf(jws: string | null): LastStatement | undefined {
  if (!jws) return undefined;
  const [header, payload] = jws.split(".");
  if (!header || !payload) return undefined;
  try {
    const { kid } = JSON.parse(Buffer.from(header, "base64url").toString("utf8")) as { kid?: unknown };
    const json = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as never;
    return { jws, statement: fromJson(AgentStatementSchema, json), kid: typeof kid === "string" ? kid : "" };
  } catch {
    return undefined;
  }
}

interface FactsRow {
  inbox_id: string;
  conversation_id: string | null;
  owner_id: string | null;
  template_id: string | null;
  template_version: number | null;
  agent_name: string;
  trust_level: number;
  daily_spend_limit_wei: string;
  participation: { mode?: number; cooldownSeconds?: number } | null;
  permissions: Partial<Omit<Permissions, "$typeName" | "$unknown">> | null;
  statement: string | null;
  tools: { tool: string; handle: string }[];
}

/** A claimed agent's facts and its last statement; undefined when it is not claimed. */
export async function readStatementFacts(
  em: EntityManager,
  templates: TemplateSource | undefined,
  poolId: string,
  instanceId: string,
): Promise<{ facts: StatementFacts; last: LastStatement | undefined } | undefined> {
  const [row] = await em.execute<FactsRow[]>(
    `select i.inbox_id, i.conversation_id, i.owner_id, i.template_id, i.template_version, i.agent_name,
       i.trust_level, i.daily_spend_limit_wei, i.participation, i.permissions, i.statement,
       coalesce((select json_agg(json_build_object('tool', t.tool_id, 'handle', t.handle) order by t.tool_id, t.handle)
                 from provisioned_tools t where t.instance_id = i.id and t.state = 'active'), '[]'::json) as tools
     from instances i where i.id = ? and i.state = 'claimed'`,
    [instanceId],
  );
  if (!row?.owner_id || !row.template_id) return undefined;
  const last = lastStatementOf(row.statement);
  // The connections of the release it runs: the template's current one when it runs that version, else
  // what the last statement said of this version (an agent pinned behind keeps what it was stated with).
  let connections: StatementFacts["connections"] =
    last?.statement.templateId === row.template_id && last.statement.templateVersion === row.template_version
      ? last.statement.connections
      : [];
  if (templates) {
    const t = await templates.getTemplate(row.template_id);
    if (Number(t.release.version) === row.template_version) {
      connections = resolveConnections([t.release, ...t.bases].map((r) => r.content?.connections ?? []));
    }
  }
  const p = row.participation;
  const mode = resolveParticipation(p ? { mode: (p.mode ?? 0) as ParticipationMode } : undefined).mode;
  return {
    facts: {
      poolId,
      inboxId: row.inbox_id,
      instanceId,
      conversationId: row.conversation_id ?? "",
      ownerId: row.owner_id,
      templateId: row.template_id,
      templateVersion: row.template_version ?? 0,
      agentName: row.agent_name,
      trustLevel: row.trust_level,
      dailySpendLimitWei: row.daily_spend_limit_wei,
      tools: row.tools
        .map((t) => create(StatementToolSchema, { kind: STATEMENT_TOOL_KINDS[t.tool] ?? t.tool, handle: t.handle }))
        .sort((a, b) => a.kind.localeCompare(b.kind) || a.handle.localeCompare(b.handle)),
      connections,
      participation: participationModeName(mode),
      // Every field, an unset one (or none set: the owner never chose) as its default.
      permissions: create(PermissionsSchema, resolvePermissions(row.permissions ?? undefined)),
    },
    last,
  };
}

/**
 * Keeps a new statement, in place of `last` only: false when another
 * attestation of the agent (a claim's first beside a scan, another replica)
 * kept one meanwhile, so that two statements never name the same one
 * before. Kept before it is handed over: one the agent did not take is
 * handed again by the next attestation while its facts hold.
 */
export async function keepStatement(
  em: EntityManager,
  instanceId: string,
  last: string | undefined,
  jws: string,
): Promise<boolean> {
  const res = await em.execute<{ affectedRows?: number }>(
    `update instances set statement = ? where id = ? and state = 'claimed' and statement is not distinct from ?`,
    [jws, instanceId, last ?? null],
    "run",
  );
  return res.affectedRows === 1;
}

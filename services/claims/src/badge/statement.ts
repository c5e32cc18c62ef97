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
 * readStatementFacts reads the facts from the instances' rows, their tools and
 * their templates' releases; keepStatements keeps new ones, each unless
 * another was kept meanwhile.
 *
 * Each of an agent's other joined conversations (agent_conversations) has
 * statements of its own (conversationFacts: that conversation's id,
 * participation and tools), chained on that row's `statement` and kept by
 * keepConversationStatements; the home's stay in `instances.statement`.
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
  ConversationTools,
  PermissionsSchema,
  SpendLimitKind,
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
    f.dailySpendLimitKind === SpendLimitKind.CONFIRMED_IN_CONVOS,
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
  id: string;
  inbox_id: string;
  conversation_id: string | null;
  owner_id: string | null;
  template_id: string | null;
  template_version: number | null;
  agent_name: string;
  trust_level: number;
  daily_spend_limit_wei: string;
  daily_spend_limit_confirmation: string | null;
  participation: { mode?: number; cooldownSeconds?: number } | null;
  permissions: Partial<Omit<Permissions, "$typeName" | "$unknown">> | null;
  statement: string | null;
  /** The home row's own last statement, from before it was the home (agent_conversations). */
  home_row_statement: string | null;
  tools: { tool: string; handle: string }[];
  /** Its joined conversations other than the home (agent_conversations). */
  conversations: ConversationRow[];
}

/** One of its other conversations, as readStatementFacts reads it. */
export interface ConversationRow {
  conversation_id: string;
  participation: { mode?: number; cooldownSeconds?: number } | null;
  tools: ConversationTools;
  statement: string | null;
}

/** One of its other conversations: that conversation's facts and its own last statement. */
export interface ConversationStatementRead {
  conversationId: string;
  facts: StatementFacts;
  last: LastStatement | undefined;
}

/** A claimed agent's facts and its last statement; each of its other conversations' the same. */
export interface StatementRead {
  facts: StatementFacts;
  last: LastStatement | undefined;
  /** What `instances.statement` holds now, which a new home statement replaces (keepStatements). */
  kept: string | undefined;
  conversations: ConversationStatementRead[];
}

/**
 * Claimed agents' facts and last statements, in one query for all of
 * them (a claim's first attestations come together under load); an agent
 * not claimed is not in the answer.
 */
export async function readStatementFacts(
  em: EntityManager,
  templates: TemplateSource | undefined,
  poolId: string,
  instanceIds: readonly string[],
): Promise<Map<string, StatementRead>> {
  const read = new Map<string, StatementRead>();
  if (instanceIds.length === 0) return read;
  const rows = await em.execute<FactsRow[]>(
    `select i.id, i.inbox_id, i.conversation_id, i.owner_id, i.template_id, i.template_version, i.agent_name,
       i.trust_level, i.daily_spend_limit_wei, i.daily_spend_limit_confirmation, i.participation, i.permissions, i.statement,
       (select c.statement from agent_conversations c
        where c.instance_id = i.id and c.home and c.state = 'joined' and c.conversation_id = i.conversation_id)
         as home_row_statement,
       coalesce((select json_agg(json_build_object('tool', t.tool_id, 'handle', t.handle) order by t.tool_id, t.handle)
                 from provisioned_tools t where t.instance_id = i.id and t.state = 'active'), '[]'::json) as tools,
       coalesce((select json_agg(json_build_object('conversation_id', c.conversation_id, 'participation', c.participation,
                   'tools', c.tools, 'statement', c.statement) order by c.conversation_id)
                 from agent_conversations c
                 where c.instance_id = i.id and c.state = 'joined' and not c.home and c.conversation_id <> ''
                   and c.conversation_id is distinct from i.conversation_id), '[]'::json) as conversations
     from instances i where i.id in (?) and i.state = 'claimed'`,
    [instanceIds],
  );
  for (const row of rows) {
    if (!row.owner_id || !row.template_id) continue;
    read.set(row.id, await factsOf(row, row.owner_id, row.template_id, templates, poolId));
  }
  return read;
}

async function factsOf(
  row: FactsRow,
  ownerId: string,
  templateId: string,
  templates: TemplateSource | undefined,
  poolId: string,
): Promise<StatementRead> {
  // After the home moved (the old one left), the new home's chain goes on from what was posted there.
  const stored = lastStatementOf(row.statement);
  const moved = stored && stored.statement.conversationId !== (row.conversation_id ?? "");
  const last = (moved && lastStatementOf(row.home_row_statement)) || stored;
  // The connections of the release it runs: the template's current one when it runs that version, else
  // what the last statement said of this version (an agent pinned behind keeps what it was stated with).
  let connections: StatementFacts["connections"] =
    last?.statement.templateId === templateId && last.statement.templateVersion === row.template_version
      ? last.statement.connections
      : [];
  if (templates) {
    // No older than the version the agent runs: a read from before its update would state the old connections.
    const t = await templates.getTemplate(templateId, row.template_version ?? undefined);
    if (Number(t.release.version) === row.template_version) {
      connections = resolveConnections([t.release, ...t.bases].map((r) => r.content?.connections ?? []));
    }
  }
  const facts: StatementFacts = {
    poolId,
    inboxId: row.inbox_id,
    instanceId: row.id,
    conversationId: row.conversation_id ?? "",
    ownerId,
    templateId,
    templateVersion: row.template_version ?? 0,
    agentName: row.agent_name,
    trustLevel: row.trust_level,
    dailySpendLimitWei: row.daily_spend_limit_wei,
    // A limit confirmed in Convos is stated as such (docs/security.md, "Agents' money"); a signed one, or none, as
    // statements always stated it: unspecified, so no agent's statement changes for it.
    dailySpendLimitKind:
      row.daily_spend_limit_wei && row.daily_spend_limit_confirmation !== null
        ? SpendLimitKind.CONFIRMED_IN_CONVOS
        : SpendLimitKind.UNSPECIFIED,
    tools: row.tools
      .map((t) => create(StatementToolSchema, { kind: STATEMENT_TOOL_KINDS[t.tool] ?? t.tool, handle: t.handle }))
      .sort((a, b) => a.kind.localeCompare(b.kind) || a.handle.localeCompare(b.handle)),
    connections,
    participation: participationNameOf(row.participation),
    // Every field, an unset one (or none set: the owner never chose) as its default.
    permissions: create(PermissionsSchema, resolvePermissions(row.permissions ?? undefined)),
  };
  return {
    facts,
    last,
    kept: row.statement ?? undefined,
    conversations: row.conversations.map((c) => conversationFacts(facts, c)),
  };
}

function participationNameOf(p: ConversationRow["participation"]): string {
  return participationModeName(resolveParticipation(p ? { mode: (p.mode ?? 0) as ParticipationMode } : undefined).mode);
}

/**
 * The statement facts of one of its other conversations: the agent's own,
 * with that conversation's id and participation, and no tools where the
 * owner turned them off (the gate refuses them there).
 */
export function conversationFacts(home: StatementFacts, c: ConversationRow): ConversationStatementRead {
  return {
    conversationId: c.conversation_id,
    facts: {
      ...home,
      conversationId: c.conversation_id,
      participation: participationNameOf(c.participation),
      tools: c.tools === ConversationTools.NONE ? [] : home.tools,
    },
    last: lastStatementOf(c.statement),
  };
}

/** A new statement to keep for an agent, in place of `last` (none: its first). */
export interface StatementToKeep {
  instanceId: string;
  last: string | undefined;
  jws: string;
}

/**
 * Keeps new statements, each in place of its `last` only, in one query
 * for all: the agents whose statement was kept. One left out had another
 * attestation (a claim's first beside a scan, another replica) keep one
 * meanwhile, so that two statements never name the same one before. Kept
 * before it is handed over: one the agent did not take is handed again by
 * the next attestation while its facts hold.
 */
export async function keepStatements(em: EntityManager, keep: readonly StatementToKeep[]): Promise<Set<string>> {
  if (keep.length === 0) return new Set();
  // The platform writes a null in an array as nothing: '' stands for no last statement.
  const rows = await em.execute<{ id: string }[]>(
    `update instances i set statement = v.jws
     from unnest(array[?]::text[], array[?]::text[], array[?]::text[]) as v(id, last, jws)
     where i.id in (?) and i.id = v.id and i.state = 'claimed' and i.statement is not distinct from nullif(v.last, '')
     returning i.id`,
    [
      keep.map((k) => k.instanceId),
      keep.map((k) => k.last ?? ""),
      keep.map((k) => k.jws),
      keep.map((k) => k.instanceId),
    ],
  );
  return new Set(rows.map((r) => r.id));
}

/** A new statement to keep for one of an agent's other conversations, in place of `last` (none: its first there). */
export interface ConversationStatementToKeep extends StatementToKeep {
  conversationId: string;
}

/** The key keepConversationStatements answers with: `instanceId conversationId`. */
export const conversationKey = (k: { instanceId: string; conversationId: string }): string =>
  `${k.instanceId} ${k.conversationId}`;

/**
 * keepStatements for the agents' other conversations (agent_conversations
 * `statement`): each in place of its `last` only, in a row still joined of
 * an agent still claimed. The keys (conversationKey) of those kept.
 */
export async function keepConversationStatements(
  em: EntityManager,
  keep: readonly ConversationStatementToKeep[],
): Promise<Set<string>> {
  if (keep.length === 0) return new Set();
  const rows = await em.execute<{ instance_id: string; conversation_id: string }[]>(
    `update agent_conversations c set statement = v.jws, updated_at = now()
     from unnest(array[?]::text[], array[?]::text[], array[?]::text[], array[?]::text[]) as v(id, conversation_id, last, jws),
       instances i
     where c.instance_id in (?) and c.instance_id = v.id and c.conversation_id = v.conversation_id
       and c.state = 'joined' and not c.home and c.statement is not distinct from nullif(v.last, '')
       and i.id = c.instance_id and i.state = 'claimed'
     returning c.instance_id, c.conversation_id`,
    [
      keep.map((k) => k.instanceId),
      keep.map((k) => k.conversationId),
      keep.map((k) => k.last ?? ""),
      keep.map((k) => k.jws),
      keep.map((k) => k.instanceId),
    ],
  );
  return new Set(rows.map((r) => conversationKey({ instanceId: r.instance_id, conversationId: r.conversation_id })));
}

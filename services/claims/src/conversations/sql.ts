/**
 * The queries of an agent's conversations (agent_conversations, migration
 * 0030; docs/claims.md, "An agent's conversations"): an addition reserved,
 * renewed, completed or dropped; a conversation left, with the home moved;
 * the stale additions for the sweep. What each decides is policy.ts's.
 */
import type { ConversationTools } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import type { ResolvedParticipation } from "@convos-pool/kit/content";
import type { EntityManager } from "@mikro-orm/postgresql";
import type { AgentThere } from "../claim/second-agent.js";
import type { InstanceRef } from "../hosts/runtime.js";
import type { ConversationRow } from "./policy.js";

type RunResult = { affectedRows: number };

interface Row {
  add_id: string;
  conversation_id: string;
  conversation_key: string | null;
  home: boolean;
  state: ConversationRow["state"];
  joined_at: Date | string | null;
}

const fromRow = (r: Row): ConversationRow => ({
  addId: r.add_id,
  conversationId: r.conversation_id,
  conversationKey: r.conversation_key,
  home: r.home,
  state: r.state,
  joinedAt: r.joined_at === null ? null : new Date(r.joined_at),
});

/** The agent's conversations not left (joining, joined, leaving). */
export async function conversationsOf(em: EntityManager, instanceId: string): Promise<ConversationRow[]> {
  const rows = await em.execute<Row[]>(
    `select add_id, conversation_id, conversation_key, home, state, joined_at from agent_conversations
     where instance_id = ? and state <> 'left' order by created_at, add_id`,
    [instanceId],
  );
  return rows.map(fromRow);
}

/**
 * Another live agent of `templateId` in the conversation `key` names (any of
 * its conversations, not only its home), the requester's own first, else the
 * most lately joined: what claim/second-agent.ts asks of a claim.
 */
export async function otherAgentOfTemplateIn(
  em: EntityManager,
  key: string,
  templateId: string,
  self: string,
  requester: string,
): Promise<AgentThere | undefined> {
  const [row] = await em.execute<{ id: string; owner_id: string; agent_name: string | null }[]>(
    `select i.id, i.owner_id, i.agent_name from agent_conversations c join instances i on i.id = c.instance_id
     where c.state = 'joined' and c.conversation_key = ? and i.template_id = ? and i.id <> ?
       and i.state in ('claimed', 'crashed')
     order by i.owner_id = ? desc, c.joined_at desc limit 1`,
    [key, templateId, self, requester],
  );
  return row ? { id: row.id, ownerId: row.owner_id, agentName: row.agent_name || "an agent" } : undefined;
}

/**
 * Locks the agent's row for the rest of `tx` (additions of one agent take
 * turns) and reads its conversations; undefined when it is no longer running.
 */
export async function lockAgent(tx: EntityManager, instanceId: string): Promise<ConversationRow[] | undefined> {
  const [agent] = await tx.execute<{ id: string }[]>(
    `select id from instances where id = ? and state = 'claimed' for update`,
    [instanceId],
  );
  return agent ? conversationsOf(tx, instanceId) : undefined;
}

export interface Reservation {
  instanceId: string;
  addId: string;
  conversationKey: string;
  participation: ResolvedParticipation;
  tools: ConversationTools;
}

/** A `joining` row, its lease starting now. */
export async function reserveJoin(tx: EntityManager, r: Reservation): Promise<void> {
  await tx.execute(
    `insert into agent_conversations (instance_id, add_id, conversation_key, state, participation, tools, add_renewed_at)
     values (?, ?, ?, 'joining', ?::jsonb, ?, now())`,
    [r.instanceId, r.addId, r.conversationKey, JSON.stringify(r.participation), r.tools],
    "run",
  );
}

/** Renews the leases of additions in flight in this process. */
export async function renewJoins(em: EntityManager, addIds: readonly string[]): Promise<void> {
  if (addIds.length === 0) return;
  await em.execute(
    `update agent_conversations set add_renewed_at = now() where add_id in (?) and state = 'joining'`,
    [addIds],
    "run",
  );
}

/**
 * The addition done: the row `joined` in `conversationId`, and the agent's
 * attestation due now (its statement there is new). False when the row is no
 * longer joining (the sweep settled it).
 */
export async function completeJoin(
  tx: EntityManager,
  instanceId: string,
  addId: string,
  conversationId: string,
): Promise<boolean> {
  const res = await tx.execute<RunResult>(
    `update agent_conversations set state = 'joined', conversation_id = ?, joined_at = now(), add_renewed_at = null,
       updated_at = now()
     where instance_id = ? and add_id = ? and state = 'joining'`,
    [conversationId, instanceId, addId],
    "run",
  );
  if (res.affectedRows !== 1) return false;
  await tx.execute(
    `update instances set attest_next_at = null, updated_at = now() where id = ? and state = 'claimed'`,
    [instanceId],
    "run",
  );
  return true;
}

/** Whether the agent is in `conversationId` already (another invite of a conversation it joined). */
export async function isIn(em: EntityManager, instanceId: string, conversationId: string): Promise<boolean> {
  const [row] = await em.execute<{ n: number }[]>(
    `select 1 as n from agent_conversations where instance_id = ? and conversation_id = ? and state in ('joined', 'leaving')`,
    [instanceId, conversationId],
  );
  return row !== undefined;
}

/**
 * The addition undone: its joining row deleted. With `staleSeconds`, only
 * if its lease is that old (the sweep: a process still at it keeps it).
 */
export async function dropJoin(
  em: EntityManager,
  instanceId: string,
  addId: string,
  staleSeconds?: number,
): Promise<boolean> {
  const res = await em.execute<RunResult>(
    `delete from agent_conversations where instance_id = ? and add_id = ? and state = 'joining'
       and (?::int is null or add_renewed_at < now() - make_interval(secs => ?::int))`,
    [instanceId, addId, staleSeconds ?? null, staleSeconds ?? null],
    "run",
  );
  return res.affectedRows === 1;
}

/**
 * Additions whose lease is older than `leaseSeconds` (their process stopped,
 * or their agent's answer was lost), oldest first, with where their agent
 * runs; `instanceId`: of that agent only.
 */
export async function staleJoins(
  em: EntityManager,
  leaseSeconds: number,
  opts: { instanceId?: string; limit?: number } = {},
): Promise<{ agent: InstanceRef; addId: string }[]> {
  const rows = await em.execute<{ id: string; host_url: string; inbox_id: string; add_id: string }[]>(
    `select i.id, i.host_url, i.inbox_id, c.add_id from agent_conversations c join instances i on i.id = c.instance_id
     where c.state = 'joining' and c.add_renewed_at < now() - make_interval(secs => ?)
       and (?::text is null or c.instance_id = ?)
     order by c.add_renewed_at limit ?`,
    [leaseSeconds, opts.instanceId ?? null, opts.instanceId ?? null, opts.limit ?? 100],
  );
  return rows.map((r) => ({ agent: { id: r.id, hostUrl: r.host_url, inboxId: r.inbox_id }, addId: r.add_id }));
}

/**
 * The agent left `conversationId`: its row `left`; when it was the home,
 * `newHome` (another joined row, by add_id) becomes the home and `instances`
 * names it (conversation, key, name and participation: the home's, which the
 * home row follows). False when the row is no longer joined.
 */
export async function leaveConversation(
  tx: EntityManager,
  instanceId: string,
  conversationId: string,
  newHome: string | undefined,
): Promise<boolean> {
  // The agent's row first, as a removal of the agent locks it before its conversations: never the other order.
  await tx.execute(`select id from instances where id = ? for update`, [instanceId]);
  const res = await tx.execute<RunResult>(
    `update agent_conversations set state = 'left', left_at = now(), updated_at = now()
     where instance_id = ? and conversation_id = ? and state = 'joined'`,
    [instanceId, conversationId],
    "run",
  );
  if (res.affectedRows !== 1) return false;
  if (newHome === undefined) return true;
  const moved = await tx.execute<RunResult>(
    `update agent_conversations set home = true, updated_at = now() where instance_id = ? and add_id = ? and state = 'joined'`,
    [instanceId, newHome],
    "run",
  );
  if (moved.affectedRows !== 1) return false;
  // The old home row keeps `home`, to say where it was; `instances` names the new one.
  await tx.execute(
    `update instances i set conversation_id = c.conversation_id, conversation_key = c.conversation_key,
       conversation_name = c.conversation_name, participation = c.participation, attest_next_at = null, updated_at = now()
     from agent_conversations c where i.id = ? and c.instance_id = i.id and c.add_id = ?`,
    [instanceId, newHome],
    "run",
  );
  return true;
}

/**
 * The participation the agent took in `conversationId`, one of its joined
 * conversations: kept on that conversation's row, and for the home in
 * `instances.participation` too, which the home row follows (the trigger of
 * migration 0030), so the two never disagree. The attestation is due now:
 * its statement there changed. False when the agent or the row is gone.
 */
export async function setParticipationIn(
  tx: EntityManager,
  instanceId: string,
  ownerId: string,
  conversationId: string,
  participation: ResolvedParticipation,
): Promise<boolean> {
  const value = JSON.stringify(participation);
  // The agent's row first, as every change of its conversations locks it (leaveConversation).
  const agent = await tx.execute<RunResult>(
    `update instances set participation = case when conversation_id = ? then ?::jsonb else participation end,
       attest_next_at = null, updated_at = now()
     where id = ? and owner_id = ? and state in ('claimed', 'crashed')`,
    [conversationId, value, instanceId, ownerId],
    "run",
  );
  if (agent.affectedRows !== 1) return false;
  const row = await tx.execute<RunResult>(
    `update agent_conversations set participation = ?::jsonb, updated_at = now()
     where instance_id = ? and conversation_id = ? and state = 'joined'`,
    [value, instanceId, conversationId],
    "run",
  );
  return row.affectedRows === 1;
}

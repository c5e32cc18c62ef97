// Reading lineage: one agent with its ancestors and the tree below it
// (recursive CTEs over the parent edge), a template's dashboard counts, and
// an owner's agents in keyset pages over (claimed_at, instance_id), and a
// template's usage per day.
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { EntityManager } from "@mikro-orm/postgresql";
import {
  LineageNodeSchema,
  OwnerCountSchema,
  type LineageNode,
  type OwnerCount,
} from "@convos-pool/gen/convos/pool/v1/lineage_service_pb.js";
import { decodePageToken, encodePageToken, isDateAndId } from "@convos-pool/kit/server";
import type { DayCounts } from "./policy.js";

interface NodeRow {
  instance_id: string;
  template_id: string;
  owner_id: string;
  parent_instance_id: string | null;
  conversation_id: string;
  carry: string;
  depth: number;
  claimed_at: Date | string;
  ended_at: Date | string | null;
  children_count: string | number;
  conversation_count: string | number;
}

const NODE_COLUMNS = `a.instance_id, a.template_id, a.owner_id, a.parent_instance_id, a.conversation_id, a.carry, a.depth, a.claimed_at, a.ended_at,
  (select count(*) from lineage_agents c where c.parent_instance_id = a.instance_id) as children_count,
  (select count(*) from lineage_agent_conversations k where k.instance_id = a.instance_id and k.to_at is null) as conversation_count`;

export interface Node {
  instanceId: string;
  templateId: string;
  ownerId: string;
  parentInstanceId: string | null;
  conversationId: string;
  carry: string[];
  depth: number;
  claimedAt: Date;
  endedAt: Date | null;
  childrenCount: number;
  /** The conversations it is in now (lineage_agent_conversations); 0 once it ended. */
  conversationCount: number;
}

const fromRow = (r: NodeRow): Node => ({
  instanceId: r.instance_id,
  templateId: r.template_id,
  ownerId: r.owner_id,
  parentInstanceId: r.parent_instance_id,
  conversationId: r.conversation_id,
  carry: r.carry ? r.carry.split(",") : [],
  depth: Number(r.depth),
  claimedAt: new Date(r.claimed_at),
  endedAt: r.ended_at === null ? null : new Date(r.ended_at),
  childrenCount: Number(r.children_count),
  conversationCount: Number(r.conversation_count),
});

/** The proto form; `showConversation` false blanks the conversation (someone else's). */
export function nodeToProto(n: Node, showConversation: boolean): LineageNode {
  return create(LineageNodeSchema, {
    instanceId: n.instanceId,
    templateId: n.templateId,
    ownerId: n.ownerId,
    parentInstanceId: n.parentInstanceId ?? "",
    conversationId: showConversation ? n.conversationId : "",
    claimedAt: timestampFromDate(n.claimedAt),
    endedAt: n.endedAt ? timestampFromDate(n.endedAt) : undefined,
    depth: n.depth,
    carry: n.carry,
    childrenCount: n.childrenCount,
    conversationCount: n.conversationCount,
  });
}

export async function getNode(em: EntityManager, instanceId: string): Promise<Node | undefined> {
  const [r] = await em.execute<NodeRow[]>(`select ${NODE_COLUMNS} from lineage_agents a where a.instance_id = ?`, [
    instanceId,
  ]);
  return r && fromRow(r);
}

/** Parent first, up to the root. */
export async function ancestors(em: EntityManager, instanceId: string): Promise<Node[]> {
  const rows = await em.execute<(NodeRow & { level: number })[]>(
    `with recursive up (instance_id, level) as (
       select parent_instance_id, 1 from lineage_agents where instance_id = ? and parent_instance_id is not null
       union all
       select p.parent_instance_id, up.level + 1 from up join lineage_agents p on p.instance_id = up.instance_id
       where p.parent_instance_id is not null and up.level < 1000
     )
     select ${NODE_COLUMNS}, up.level from up join lineage_agents a on a.instance_id = up.instance_id order by up.level`,
    [instanceId],
  );
  return rows.map(fromRow);
}

/** Every agent below it, each after its parent (by generation, then claim time). */
export async function descendants(em: EntityManager, instanceId: string): Promise<Node[]> {
  const rows = await em.execute<NodeRow[]>(
    `with recursive down (instance_id, level) as (
       select instance_id, 1 from lineage_agents where parent_instance_id = ?
       union all
       select c.instance_id, down.level + 1 from down join lineage_agents c on c.parent_instance_id = down.instance_id
       where down.level < 1000
     )
     select ${NODE_COLUMNS} from down join lineage_agents a on a.instance_id = down.instance_id
     order by down.level, a.claimed_at, a.instance_id`,
    [instanceId],
  );
  return rows.map(fromRow);
}

export interface Dashboard {
  live: number;
  total: number;
  ended: number;
  clones: number;
  liveClones: number;
  maxDepth: number;
  owners: OwnerCount[];
}

export async function templateDashboard(em: EntityManager, templateId: string): Promise<Dashboard> {
  const [counts] = await em.execute<Record<string, string | number | null>[]>(
    `select count(*) filter (where ended_at is null) as live, count(*) as total, count(*) filter (where ended_at is not null) as ended,
       count(*) filter (where parent_instance_id is not null) as clones,
       count(*) filter (where parent_instance_id is not null and ended_at is null) as live_clones,
       coalesce(max(depth), 0) as max_depth
     from lineage_agents where template_id = ?`,
    [templateId],
  );
  const owners = await em.execute<{ owner_id: string; live: string | number; total: string | number }[]>(
    `select owner_id, count(*) filter (where ended_at is null) as live, count(*) as total
     from lineage_agents where template_id = ? group by owner_id order by live desc, total desc, owner_id limit 100`,
    [templateId],
  );
  const n = (k: string) => Number(counts?.[k] ?? 0);
  return {
    live: n("live"),
    total: n("total"),
    ended: n("ended"),
    clones: n("clones"),
    liveClones: n("live_clones"),
    maxDepth: n("max_depth"),
    owners: owners.map((o) =>
      create(OwnerCountSchema, { ownerId: o.owner_id, live: BigInt(o.live), total: BigInt(o.total) }),
    ),
  };
}

/** An owner's agents, newest claim first; ended ones only when asked. */
export async function ownerAgents(
  em: EntityManager,
  ownerId: string,
  opts: { includeEnded: boolean; limit: number; pageToken: string },
): Promise<{ agents: Node[]; nextPageToken: string }> {
  const cursor = decodePageToken(opts.pageToken, 2, "page_token", isDateAndId);
  const rows = await em.execute<NodeRow[]>(
    `select ${NODE_COLUMNS} from lineage_agents a where a.owner_id = ?
     ${opts.includeEnded ? "" : "and a.ended_at is null"}
     ${cursor ? "and (a.claimed_at, a.instance_id) < (?::timestamptz, ?)" : ""}
     order by a.claimed_at desc, a.instance_id desc limit ?`,
    [ownerId, ...(cursor ? [String(cursor[0]), String(cursor[1])] : []), opts.limit + 1],
  );
  const agents = rows.slice(0, opts.limit).map(fromRow);
  const last = agents.at(-1);
  return {
    agents,
    nextPageToken:
      rows.length > opts.limit && last ? encodePageToken([last.claimedAt.toISOString(), last.instanceId]) : "",
  };
}

/**
 * Per day of the window (index 0 the oldest, each day from its UTC midnight):
 * agents claimed that day, and agents live at some moment of it (claimed
 * before its end, not ended before its start). Clones count as claims.
 */
export async function templateUsage(
  em: EntityManager,
  templateId: string,
  from: Date,
  days: number,
): Promise<DayCounts[]> {
  const rows = await em.execute<{ index: number; claims: string | number; active: string | number }[]>(
    `with d as (select i as index, ?::timestamptz + i * interval '1 day' as start from generate_series(0, ? - 1) i)
     select d.index,
       count(*) filter (where a.claimed_at >= d.start) as claims,
       count(a.instance_id) as active
     from d join lineage_agents a on a.template_id = ? and a.claimed_at < d.start + interval '1 day'
       and (a.ended_at is null or a.ended_at >= d.start)
     group by d.index order by d.index`,
    [from.toISOString(), days, templateId],
  );
  return rows.map((r) => ({ index: Number(r.index), claims: Number(r.claims), active: Number(r.active) }));
}

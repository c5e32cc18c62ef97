/**
 * Reading instances: one instance, an owner's live agents ("My agents") and a
 * template's instances for its creator's dashboard (docs/lineage.md). Pages are
 * keyset cursors over (claimed_at desc, id desc), walking the partial indexes
 * `instances_owner_live` and `instances_template`.
 */
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { EntityManager } from "@mikro-orm/postgresql";
import type { TrustLevel } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import {
  AgentConversationSchema,
  AgentConversationState,
  type ConversationTools,
  InheritanceSchema,
  InheritanceState,
  InstanceSchema,
  ParticipationSchema,
  InstanceState,
  InstanceSyncSchema,
  ProvisionedToolSchema,
  SpendLimitKind,
  SyncState,
  type Instance,
  type InstanceSync,
} from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import {
  INSTANCE_ID_PATTERN,
  invalidArgument,
  permissionsMessage,
  resolveParticipation,
  type ResolvedParticipation,
  type ResolvedPermissions,
} from "@convos-pool/kit/content";
import { decodePageToken, encodePageToken, isDateAndId } from "@convos-pool/kit/server";
import { ProvisionedToolRow, type InstanceStateName } from "./entities.js";
import { agentInShareSql, followedKeySql, targetOf } from "./targets.js";

/** An instance as the lists return it (no secrets: tools are handles only). */
export interface InstanceData {
  id: string;
  state: InstanceStateName;
  inboxId: string;
  templateId: string | null;
  templateVersion: number | null;
  agentName: string;
  ownerId: string | null;
  parentInstanceId: string | null;
  conversationId: string | null;
  /** Its conversation's name as the agent last reported it (ListInstances); null before it did. */
  conversationName: string | null;
  model: string | null;
  modelOverridden: boolean;
  createdAt: Date;
  claimedAt: Date | null;
  pinned: boolean;
  syncError: string | null;
  /** The version of the release it follows (its target, targets.ts): the held one, or its rollout's candidate. */
  releaseVersion: number | null;
  /** Below that release (by key: the template's version, then its bases'). */
  behind: boolean;
  /** Its conversation is in the share of its template's rollout (running or paused): the rollout's new version. */
  rolloutVersion: number | null;
  tools: { toolId: string; handle: string }[];
  inheritanceState: "pending" | "sent" | "failed" | null;
  inheritanceCarry: string;
  inheritanceError: string | null;
  /** The offer of a transfer not yet accepted. */
  pendingTransfer: PendingTransfer | null;
  trustLevel: number;
  dailySpendLimitWei: string;
  /** The confirmation that set the limit in Convos; null when the owner signed it (or it has none). */
  limitConfirmation: string | null;
  /** As the owner set them; null: the defaults. */
  permissions: Partial<ResolvedPermissions> | null;
  /** As the owner set it; null: the default. */
  participation: Partial<ResolvedParticipation> | null;
  /** The conversations it is in or joining, the home first (agent_conversations); absent: not read. */
  conversations?: ConversationData[];
}

/** One conversation of an agent, as agent_conversations holds it (not left). */
export interface ConversationData {
  conversationId: string;
  name: string | null;
  home: boolean;
  state: "joining" | "joined" | "leaving";
  participation: Partial<ResolvedParticipation> | null;
  tools: ConversationTools;
  joinedAt: Date | null;
}

/** instances.pending_transfer: the owner's TransferAgent offer, kept for the agent to check at acceptance. */
export interface PendingTransfer {
  newOwnerId: string;
  signature: { signature: string; issuedAt: string; nonce: string };
}

export interface InstancePage {
  instances: InstanceData[];
  nextPageToken: string;
}

/** An instance with its template's held release and rollout: two joins (their keys), and the release it follows. */
const SELECT = `select i.id, i.state, i.inbox_id, i.template_id, i.template_version, i.agent_name, i.owner_id, i.parent_instance_id,
  i.conversation_id, i.conversation_name, i.model, i.model_overridden, i.created_at, i.claimed_at, i.pinned, i.sync_error,
  (t.key)[1] as release_version, coalesce(t.key > i.applied_key, false) as behind,
  case when ${agentInShareSql("ro", "i.conversation_id", "i.id")} then ro.version end as rollout_version,
  i.inheritance_state, i.inheritance_carry, i.inheritance_error, i.pending_transfer, i.trust_level, i.daily_spend_limit_wei, i.daily_spend_limit_confirmation, i.permissions, i.participation
  from instances i left join template_releases r on r.template_id = i.template_id
    left join template_rollouts ro on ro.template_id = i.template_id,
    lateral (select ${followedKeySql("r", "ro", "i.conversation_id", "i.applied_key", "i.id")} as key) t`;

interface SqlRow {
  id: string;
  state: InstanceStateName;
  inbox_id: string;
  template_id: string | null;
  template_version: number | null;
  agent_name: string;
  owner_id: string | null;
  parent_instance_id: string | null;
  conversation_id: string | null;
  conversation_name: string | null;
  model: string | null;
  model_overridden: boolean;
  created_at: Date | string;
  claimed_at: Date | string | null;
  pinned: boolean;
  sync_error: string | null;
  release_version: number | null;
  behind: boolean;
  rollout_version: number | null;
  inheritance_state: InstanceData["inheritanceState"];
  inheritance_carry: string;
  inheritance_error: string | null;
  pending_transfer: PendingTransfer | string | null;
  trust_level: number;
  daily_spend_limit_wei: string;
  daily_spend_limit_confirmation: string | null;
  permissions: Partial<ResolvedPermissions> | string | null;
  participation: Partial<ResolvedParticipation> | string | null;
}

const fromSql = (r: SqlRow): InstanceData => ({
  id: r.id,
  state: r.state,
  inboxId: r.inbox_id,
  templateId: r.template_id,
  templateVersion: r.template_version,
  agentName: r.agent_name,
  ownerId: r.owner_id,
  parentInstanceId: r.parent_instance_id,
  conversationId: r.conversation_id,
  conversationName: r.conversation_name,
  model: r.model,
  modelOverridden: r.model_overridden,
  createdAt: new Date(r.created_at),
  claimedAt: r.claimed_at === null ? null : new Date(r.claimed_at),
  pinned: r.pinned,
  syncError: r.sync_error,
  releaseVersion: r.release_version === null ? null : Number(r.release_version),
  behind: r.behind,
  rolloutVersion: r.rollout_version === null ? null : Number(r.rollout_version),
  tools: [],
  inheritanceState: r.inheritance_state,
  inheritanceCarry: r.inheritance_carry,
  inheritanceError: r.inheritance_error,
  pendingTransfer:
    typeof r.pending_transfer === "string" ? (JSON.parse(r.pending_transfer) as PendingTransfer) : r.pending_transfer,
  trustLevel: Number(r.trust_level),
  dailySpendLimitWei: r.daily_spend_limit_wei,
  limitConfirmation: r.daily_spend_limit_confirmation,
  permissions: jsonb(r.permissions),
  participation: jsonb(r.participation),
});

/** A jsonb column as the driver hands it: parsed, or text to parse. */
function jsonb<T extends object>(v: T | string | null): T | null {
  return typeof v === "string" ? (JSON.parse(v) as T) : v;
}

/** Adds each instance's tool handles (one query for the page). */
async function withTools(em: EntityManager, instances: InstanceData[]): Promise<InstanceData[]> {
  if (instances.length === 0) return instances;
  const rows = await em.find(
    ProvisionedToolRow,
    { instanceId: { $in: instances.map((i) => i.id) } },
    { fields: ["instanceId", "toolId", "handle"], orderBy: { instanceId: "asc", toolId: "asc" } },
  );
  const byInstance = new Map(instances.map((i) => [i.id, i]));
  for (const t of rows) byInstance.get(t.instanceId)?.tools.push({ toolId: t.toolId, handle: t.handle });
  return instances;
}

/** Adds each instance's conversations not left, the home first, then by when each was joined (one query for the page). */
async function withConversations(em: EntityManager, instances: InstanceData[]): Promise<InstanceData[]> {
  if (instances.length === 0) return instances;
  const rows = await em.execute<
    {
      instance_id: string;
      conversation_id: string;
      conversation_name: string | null;
      home: boolean;
      state: ConversationData["state"];
      participation: Partial<ResolvedParticipation> | string | null;
      tools: ConversationTools;
      joined_at: Date | string | null;
    }[]
  >(
    `select instance_id, conversation_id, conversation_name, home, state, participation, tools, joined_at
     from agent_conversations where instance_id in (?) and state <> 'left'
     order by instance_id, (home and state = 'joined') desc, joined_at nulls last, created_at, add_id`,
    [instances.map((i) => i.id)],
  );
  const byInstance = new Map(instances.map((i) => [i.id, i]));
  for (const i of instances) i.conversations = [];
  for (const r of rows) {
    byInstance.get(r.instance_id)?.conversations?.push({
      conversationId: r.conversation_id,
      name: r.conversation_name,
      home: r.home && r.state === "joined",
      state: r.state,
      participation: jsonb(r.participation),
      tools: r.tools,
      joinedAt: r.joined_at === null ? null : new Date(r.joined_at),
    });
  }
  return instances;
}

/** One instance with its tools, or undefined. */
export async function getInstance(em: EntityManager, id: string): Promise<InstanceData | undefined> {
  if (!INSTANCE_ID_PATTERN.test(id))
    throw invalidArgument("instance_id", 'must be an instance id such as "inst_" followed by 16 letters or digits');
  const [r] = await em.execute<SqlRow[]>(`${SELECT} where i.id = ?`, [id]);
  if (!r) return undefined;
  return (await withConversations(em, await withTools(em, [fromSql(r)])))[0];
}

async function page(
  em: EntityManager,
  where: string,
  params: unknown[],
  limit: number,
  pageToken: string,
): Promise<InstancePage> {
  // Keyset cursor: the (claimed_at, id) of a page's last row.
  const cursor = decodePageToken(pageToken, 2, "page_token", isDateAndId);
  const rows = await em.execute<SqlRow[]>(
    `${SELECT} where ${where}
     ${cursor ? "and (i.claimed_at, i.id) < (?::timestamptz, ?)" : ""}
     order by i.claimed_at desc, i.id desc limit ?`,
    [...params, ...(cursor ? [String(cursor[0]), String(cursor[1])] : []), limit + 1],
  );
  const instances = await withConversations(em, await withTools(em, rows.slice(0, limit).map(fromSql)));
  const last = instances.at(-1);
  if (rows.length <= limit || !last) return { instances, nextPageToken: "" };
  // Pages list agents that were claimed (the callers say so): the keyset is their claim time.
  if (!last.claimedAt) throw new Error(`instance ${last.id} is on a page of claimed agents without a claim time`);
  return { instances, nextPageToken: encodePageToken([last.claimedAt.toISOString(), last.id]) };
}

/** An owner's live (claimed) instances across templates, newest claim first. */
export function listOwnerAgents(
  em: EntityManager,
  ownerId: string,
  opts: { limit: number; pageToken: string },
): Promise<InstancePage> {
  return page(em, `i.owner_id = ? and i.state = 'claimed'`, [ownerId], opts.limit, opts.pageToken);
}

/**
 * Every instance ever claimed from a template (or only the live ones), newest
 * claim first, with the total count of the listing (not only this page).
 * For the template's creator: ClaimService.ListTemplateInstances serves it.
 */
export async function listTemplateInstances(
  em: EntityManager,
  templateId: string,
  opts: { liveOnly: boolean; limit: number; pageToken: string },
): Promise<InstancePage & { totalCount: number }> {
  const where = `i.template_id = ? and i.claimed_at is not null${opts.liveOnly ? ` and i.state = 'claimed'` : ""}`;
  const [list, count] = await Promise.all([
    page(em.fork(), where, [templateId], opts.limit, opts.pageToken),
    em.fork().execute<{ n: string | number }[]>(`select count(*) as n from instances i where ${where}`, [templateId]),
  ]);
  return { ...list, totalCount: Number(count[0]?.n ?? 0) };
}

export interface ReachCounts {
  releaseVersion: number;
  live: number;
  current: number;
  pending: number;
  failed: number;
  pinned: number;
  /** Live instances by the version each runs (its applied key's first part), newest first. */
  running: { version: number; count: number }[];
}

/**
 * A template's live instances counted by where they stand with the release
 * each follows (its target, targets.ts), by the same rules as each
 * instance's sync state (syncOf). Without a rollout that is the held
 * release for all. During one, an agent in the share counts current once
 * on the rollout's new version (pending, failed while on its way; a paused
 * rollout's agents not yet moved follow the held release), the others
 * against the held release: the counts say how far what each should run has
 * reached, not how many run the newest version. `releaseVersion` stays the
 * held release's.
 */
export async function templateReach(em: EntityManager, templateId: string): Promise<ReachCounts> {
  const [r] = await em.execute<Record<Exclude<keyof ReachCounts, "running">, string | number | null>[]>(
    `with live as (select i.pinned, i.sync_error, i.applied_key, ${targetOf("i")} as target
         from instances i where i.template_id = ? and i.state = 'claimed')
     select coalesce((select version from template_releases where template_id = ?), 0) as "releaseVersion",
       count(*) as live,
       count(*) filter (where not pinned and applied_key >= coalesce(target, '{}')) as current,
       count(*) filter (where not pinned and applied_key < target and sync_error is null) as pending,
       count(*) filter (where not pinned and applied_key < target and sync_error is not null) as failed,
       count(*) filter (where pinned) as pinned
     from live`,
    [templateId, templateId],
  );
  const running = await em.execute<{ version: string | number; count: string | number }[]>(
    `select i.applied_key[1] as version, count(*) as count from instances i
     where i.template_id = ? and i.state = 'claimed' and i.applied_key is not null
     group by 1 order by 1 desc`,
    [templateId],
  );
  const n = (k: Exclude<keyof ReachCounts, "running">) => Number(r?.[k] ?? 0);
  return {
    running: running.map((v) => ({ version: Number(v.version), count: Number(v.count) })),
    releaseVersion: n("releaseVersion"),
    live: n("live"),
    current: n("current"),
    pending: n("pending"),
    failed: n("failed"),
    pinned: n("pinned"),
  };
}

const STATE: Record<InstanceStateName, InstanceState> = {
  starting: InstanceState.STARTING,
  idle: InstanceState.IDLE,
  claiming: InstanceState.CLAIMING,
  claimed: InstanceState.CLAIMED,
  crashed: InstanceState.CRASHED,
  dead: InstanceState.DEAD,
};

/**
 * Where the instance stands with the release it follows (the held one, or
 * inside a rollout's share the new version): pinned by its owner; behind
 * it, with the last delivery's error (failed) or without (pending); else
 * current. In a rollout's share (running or paused, pinned or not), it says
 * so with the rollout's version.
 */
function syncOf(d: InstanceData): InstanceSync | undefined {
  if (d.templateVersion === null) return undefined;
  const applied = BigInt(d.templateVersion);
  // Behind by the key: a base's new version leaves the template's own version as it was.
  const pending = d.releaseVersion !== null && d.behind ? BigInt(d.releaseVersion) : 0n;
  let state = SyncState.CURRENT;
  if (d.pinned) state = SyncState.PINNED;
  else if (pending > 0n) state = d.syncError ? SyncState.FAILED : SyncState.PENDING;
  return create(InstanceSyncSchema, {
    state,
    appliedVersion: applied,
    pendingVersion: pending,
    error: state === SyncState.FAILED ? (d.syncError ?? "") : "",
    inRollout: d.rolloutVersion !== null,
    rolloutVersion: BigInt(d.rolloutVersion ?? 0),
  });
}

export function instanceToProto(d: InstanceData): Instance {
  return create(InstanceSchema, {
    id: d.id,
    templateId: d.templateId ?? "",
    ownerId: d.ownerId ?? "",
    parentInstanceId: d.parentInstanceId ?? "",
    inboxId: d.inboxId,
    conversationId: d.conversationId ?? "",
    conversationName: d.conversationName ?? "",
    state: STATE[d.state] ?? InstanceState.UNSPECIFIED,
    model: d.model ?? "",
    modelOverridden: d.modelOverridden,
    sync: syncOf(d),
    tools: d.tools.map((t) => create(ProvisionedToolSchema, { toolId: t.toolId, handle: t.handle })),
    createdAt: timestampFromDate(d.createdAt),
    claimedAt: d.claimedAt ? timestampFromDate(d.claimedAt) : undefined,
    agentName: d.agentName,
    inheritance: d.inheritanceState
      ? create(InheritanceSchema, {
          state: INHERITANCE[d.inheritanceState],
          carry: d.inheritanceCarry ? d.inheritanceCarry.split(",") : [],
          error: d.inheritanceError ?? "",
        })
      : undefined,
    pendingOwnerId: d.pendingTransfer?.newOwnerId ?? "",
    trustLevel: d.trustLevel as TrustLevel,
    dailySpendLimitWei: d.dailySpendLimitWei,
    dailySpendLimitKind: limitKindOf(d),
    permissions: permissionsMessage(d.permissions ?? undefined),
    participation: create(ParticipationSchema, resolveParticipation(d.participation ?? undefined)),
    conversations: (d.conversations ?? []).map(conversationToProto),
  });
}

/** How the owner set the limit: none, signed, or confirmed in Convos (schema/confirmed-limits.ts). */
function limitKindOf(d: Pick<InstanceData, "dailySpendLimitWei" | "limitConfirmation">): SpendLimitKind {
  if (!/^[1-9]\d*$/.test(d.dailySpendLimitWei.trim())) return SpendLimitKind.UNSPECIFIED;
  return d.limitConfirmation === null ? SpendLimitKind.SIGNED : SpendLimitKind.CONFIRMED_IN_CONVOS;
}

const CONVERSATION_STATE: Record<ConversationData["state"], AgentConversationState> = {
  joining: AgentConversationState.JOINING,
  joined: AgentConversationState.JOINED,
  leaving: AgentConversationState.LEAVING,
};

export function conversationToProto(c: ConversationData) {
  return create(AgentConversationSchema, {
    conversationId: c.conversationId,
    name: c.name ?? "",
    home: c.home,
    state: CONVERSATION_STATE[c.state],
    participation: create(ParticipationSchema, resolveParticipation(c.participation ?? undefined)),
    tools: c.tools,
    joinedAt: c.joinedAt ? timestampFromDate(c.joinedAt) : undefined,
  });
}

const INHERITANCE: Record<NonNullable<InstanceData["inheritanceState"]>, InheritanceState> = {
  pending: InheritanceState.PENDING,
  sent: InheritanceState.SENT,
  failed: InheritanceState.FAILED,
};

/**
 * Schedules' queries (docs/schedules.md): the items, written here and read
 * through the ORM (`ScheduleItemRow`), and the little of the agent they need
 * (its owner, its host, its conversations).
 */
import type { EntityManager } from "@mikro-orm/postgresql";
import { ScheduleItemRow, type ScheduleItemRowType } from "../db/entities.js";
import type { Item, PauseReason } from "./policy.js";

/** The agent as schedules see it. */
export interface AgentPlace {
  state: string;
  ownerId: string | null;
  hostUrl: string;
  movingTo: string | null;
  hostLost: boolean;
  /** The agent's own inbox ("" before it has one): what it asks for itself is its template's. */
  inboxId: string;
}

export async function agentPlace(em: EntityManager, instanceId: string): Promise<AgentPlace | undefined> {
  const [r] = await em.execute<
    {
      state: string;
      owner_id: string | null;
      host_url: string;
      moving_to: string | null;
      lost: boolean;
      inbox_id: string;
    }[]
  >(
    `select i.state, i.owner_id, i.host_url, i.moving_to, h.lost_at is not null as lost, i.inbox_id
       from instances i left join instance_hosts h on h.url = i.host_url
      where i.id = ?`,
    [instanceId],
  );
  if (!r) return undefined;
  return {
    state: r.state,
    ownerId: r.owner_id,
    hostUrl: r.host_url,
    movingTo: r.moving_to,
    hostLost: r.lost,
    inboxId: r.inbox_id,
  };
}

/** Whether the agent is in the conversation now: its home, or one it joined. */
export async function inConversation(em: EntityManager, instanceId: string, conversationId: string): Promise<boolean> {
  const rows = await em.execute(
    `select 1 from instances where id = ? and conversation_id = ?
     union all
     select 1 from agent_conversations where instance_id = ? and conversation_id = ? and state = 'joined'
     limit 1`,
    [instanceId, conversationId, instanceId, conversationId],
  );
  return rows.length > 0;
}

/** Items still to come in the conversation, and of the person in it. */
export async function pendingCounts(
  em: EntityManager,
  instanceId: string,
  conversationId: string,
  inboxId: string,
): Promise<{ conversation: number; person: number }> {
  const [r] = await em.execute<{ conversation: string; person: string }[]>(
    `select count(*) as conversation, count(*) filter (where asked_by = ?) as person
       from schedule_items where instance_id = ? and conversation_id = ? and next_at is not null`,
    [inboxId, instanceId, conversationId],
  );
  return { conversation: Number(r?.conversation ?? 0), person: Number(r?.person ?? 0) };
}

/**
 * Locks the agent's row while an item is added, so that two asks at once
 * cannot both pass the limits (the counts are read after the lock).
 */
export async function lockAgent(tx: EntityManager, instanceId: string): Promise<void> {
  await tx.execute(`select id from instances where id = ? for update`, [instanceId]);
}

export async function insertItem(tx: EntityManager, item: Item): Promise<void> {
  await tx.execute(
    `insert into schedule_items (id, instance_id, conversation_id, asked_by, asked_by_role, kind, text, starts_at,
       rrule, time_zone, next_at, pause, payload, created_at, updated_at)
     values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    [
      item.id,
      item.instanceId,
      item.conversationId,
      item.askedBy,
      item.askedByRole,
      item.kind,
      item.text,
      new Date(item.startsAt),
      item.rrule,
      item.timeZone,
      item.nextAt === null ? null : new Date(item.nextAt),
      item.pause,
      Buffer.from(item.payload),
      new Date(item.createdAt),
      new Date(item.createdAt),
    ],
  );
}

function itemOf(row: ScheduleItemRowType): Item {
  return {
    id: row.id,
    instanceId: row.instanceId,
    conversationId: row.conversationId,
    askedBy: row.askedBy,
    askedByRole: row.askedByRole,
    kind: row.kind,
    text: row.text,
    startsAt: row.startsAt.getTime(),
    rrule: row.rrule,
    timeZone: row.timeZone,
    nextAt: row.nextAt ? row.nextAt.getTime() : null,
    pause: row.pause ?? null,
    payload: new Uint8Array(row.payload),
    createdAt: row.createdAt.getTime(),
  };
}

/** The agent's items, of one conversation or all, soonest first (done ones last). */
export async function listItems(em: EntityManager, instanceId: string, conversationId?: string): Promise<Item[]> {
  const rows = await em
    .fork()
    .find(ScheduleItemRow, conversationId === undefined ? { instanceId } : { instanceId, conversationId }, {
      orderBy: { nextAt: "asc nulls last", createdAt: "asc" },
    });
  return rows.map(itemOf);
}

interface RawItem {
  id: string;
  instance_id: string;
  conversation_id: string;
  asked_by: string;
  asked_by_role: Item["askedByRole"];
  kind: Item["kind"];
  text: string;
  starts_at: Date | string;
  rrule: string;
  time_zone: string;
  next_at: Date | string | null;
  pause: PauseReason | null;
  payload: Buffer | null;
  created_at: Date | string;
}

const ms = (d: Date | string) => new Date(d).getTime();

function rawItemOf(r: RawItem): Item {
  return {
    id: r.id,
    instanceId: r.instance_id,
    conversationId: r.conversation_id,
    askedBy: r.asked_by,
    askedByRole: r.asked_by_role,
    kind: r.kind,
    text: r.text,
    startsAt: ms(r.starts_at),
    rrule: r.rrule,
    timeZone: r.time_zone,
    nextAt: r.next_at === null ? null : ms(r.next_at),
    pause: r.pause,
    payload: new Uint8Array(r.payload ?? []),
    createdAt: ms(r.created_at),
  };
}

/** One item, locked for a change (`tx` a transaction); `instanceId` undefined: whatever its agent (a firing's). */
export async function lockItem(tx: EntityManager, id: string, instanceId?: string): Promise<Item | undefined> {
  const [row] = await tx.execute<RawItem[]>(
    instanceId === undefined
      ? `select * from schedule_items where id = ? for update`
      : `select * from schedule_items where id = ? and instance_id = ? for update`,
    instanceId === undefined ? [id] : [id, instanceId],
  );
  return row ? rawItemOf(row) : undefined;
}

export async function setPause(tx: EntityManager, id: string, pause: PauseReason | null, nextAt?: number | null) {
  if (nextAt === undefined) {
    await tx.execute(`update schedule_items set pause = ?, updated_at = now() where id = ?`, [pause, id]);
    return;
  }
  await tx.execute(`update schedule_items set pause = ?, next_at = ?, updated_at = now() where id = ?`, [
    pause,
    nextAt === null ? null : new Date(nextAt),
    id,
  ]);
}

/** A move: the item's start and next occurrence at its new time (move.ts). */
export async function setTime(tx: EntityManager, id: string, startsAt: number, nextAt: number): Promise<void> {
  await tx.execute(`update schedule_items set starts_at = ?, next_at = ?, updated_at = now() where id = ?`, [
    new Date(startsAt),
    new Date(nextAt),
    id,
  ]);
}

export async function deleteItem(tx: EntityManager, id: string): Promise<void> {
  await tx.execute(`delete from schedule_items where id = ?`, [id]);
}

/** A firing done: the item waits for `next` (null: it is done), only if it still waited for `occurrenceAt`. */
export async function advance(
  tx: EntityManager,
  id: string,
  occurrenceAt: number,
  next: number | null,
  firingId: string,
): Promise<boolean> {
  const rows = await tx.execute(
    `update schedule_items set next_at = ?, last_firing_id = ?, updated_at = now()
      where id = ? and next_at = ? and pause is null returning id`,
    [next === null ? null : new Date(next), firingId, id, new Date(occurrenceAt)],
  );
  return rows.length > 0;
}

/** Items due before `until` and not paused: the ones whose timers must exist. */
export async function dueItems(
  em: EntityManager,
  until: Date,
  limit: number,
): Promise<{ id: string; nextAt: number }[]> {
  const rows = await em.execute<{ id: string; next_at: Date }[]>(
    `select id, next_at from schedule_items where pause is null and next_at is not null and next_at < ?
      order by next_at limit ?`,
    [until, limit],
  );
  return rows.map((r) => ({ id: r.id, nextAt: new Date(r.next_at).getTime() }));
}

// The event feed from the claims service (LineageEventService): what happens
// to agents, from the claims service's lineage outbox, at least once.
//
// Each sequence is applied once: lineage_applied remembers every sequence
// applied, so an event sent again (an answer lost) is skipped. Not a single
// high-water mark: the outbox takes a sequence when a claims transaction
// writes its row, not when it commits, so sequence 10 can become visible to
// the relay after 11 was delivered; it must still count.
//
// Order: each call applies its events in sequence order, and calls are
// serialized (the feed row is locked). Across calls a late lower sequence can
// follow a higher one, which is harmless: every event of one agent comes from
// an update of its row in claims, so they commit in sequence order; and a
// clone is claimed only from a parent whose claim committed before.
import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { EntityManager } from "@mikro-orm/postgresql";
import type { LineageEvent } from "@convos-pool/gen/convos/pool/v1/lineage_event_service_pb.js";
import { invalidArgument, invalidArguments, type FieldViolationInfo } from "@convos-pool/kit/content";
import { joinConversation, leaveConversation } from "./conversations.js";

/**
 * How long an applied sequence is remembered on its own. The relay deletes
 * a batch right after its answer, so a repeat comes within seconds; past
 * this, the floor (lineage_feed.applied_sequence) covers what was pruned.
 */
const REMEMBER_APPLIED = "1 day";

const FIELD_OF = {
  claimed: "claimed",
  ended: "ended",
  ownerChanged: "owner_changed",
  versionChanged: "version_changed",
  conversationJoined: "conversation_joined",
  conversationLeft: "conversation_left",
} as const;

/** Checks what can be checked before the transaction: sequences positive and increasing, each event whole. */
export function checkEvents(events: readonly LineageEvent[]): void {
  let last = 0n;
  events.forEach((e, i) => {
    if (e.sequence <= last) throw invalidArgument(`events[${i}].sequence`, "must be positive and increasing");
    last = e.sequence;
    const ev = e.event;
    if (!ev.case)
      throw invalidArgument(
        `events[${i}].event`,
        "is required: claimed, ended, owner_changed, version_changed, conversation_joined or conversation_left",
      );
    const at = `events[${i}].${FIELD_OF[ev.case]}`;
    const v: FieldViolationInfo[] = [];
    if (!ev.value.instanceId) v.push({ field: `${at}.instance_id`, description: "is required" });
    if (ev.case === "claimed") {
      if (!ev.value.templateId) v.push({ field: `${at}.template_id`, description: "is required" });
      if (!ev.value.ownerId) v.push({ field: `${at}.owner_id`, description: "is required" });
    }
    if (ev.case === "ownerChanged" && !ev.value.ownerId)
      v.push({ field: `${at}.owner_id`, description: "is required" });
    if (ev.case === "versionChanged" && !ev.value.version)
      v.push({ field: `${at}.version`, description: "is required" });
    if ((ev.case === "conversationJoined" || ev.case === "conversationLeft") && !ev.value.conversationId)
      v.push({ field: `${at}.conversation_id`, description: "is required" });
    if (v.length > 0) throw invalidArguments(v);
  });
}

/** Applies the events not applied before, in sequence order, in one transaction; returns how many were new. */
export async function applyEvents(em: EntityManager, events: readonly LineageEvent[]): Promise<number> {
  checkEvents(events);
  if (events.length === 0) return 0;
  return em.transactional(async (tx) => {
    // The lock serializes calls (a relay taking over from another never interleaves with it).
    const [feed] = await tx.execute<{ applied_sequence: string }[]>(
      `select applied_sequence from lineage_feed for update`,
    );
    if (!feed) throw new Error("lineage_feed has no row (its first migration inserts it)");
    const floor = BigInt(feed.applied_sequence);
    const above = events.filter((e) => e.sequence > floor);
    if (above.length === 0) return 0;
    const marked = await tx.execute<{ sequence: string }[]>(
      `insert into lineage_applied (sequence) select unnest(array[?]::bigint[]) on conflict do nothing returning sequence`,
      [above.map((e) => e.sequence.toString())],
    );
    const fresh = new Set(marked.map((r) => BigInt(r.sequence)));
    for (const e of above) {
      if (fresh.has(e.sequence)) await applyOne(tx, e);
    }
    await prune(tx);
    return fresh.size;
  });
}

async function applyOne(tx: EntityManager, e: LineageEvent): Promise<void> {
  const at = e.at ? timestampDate(e.at) : new Date();
  const ev = e.event;
  if (ev.case === "claimed") {
    const c = ev.value;
    // depth: the parent's plus one; 0 for a fresh agent, or a parent lineage never heard of.
    const inserted = await tx.execute<{ instance_id: string }[]>(
      `insert into lineage_agents (instance_id, template_id, owner_id, parent_instance_id, conversation_id, carry, depth, claimed_at,
         inbox_id, claimed_version, owner_days_from)
       values (?, ?, ?, ?, ?, ?, coalesce((select depth + 1 from lineage_agents where instance_id = ?), 0), ?, ?, ?,
         (?::timestamptz at time zone 'UTC')::date)
       on conflict (instance_id) do nothing returning instance_id`,
      [
        c.instanceId,
        c.templateId,
        c.ownerId,
        c.parentInstanceId || null,
        c.conversationId,
        c.carry.join(","),
        c.parentInstanceId,
        at,
        c.inboxId,
        c.version || null,
        at,
      ],
    );
    // A claim is never pinned: its owner pins it afterwards (a version_changed event).
    if (inserted.length > 0 && c.version)
      await tx.execute(
        `insert into lineage_agent_versions (instance_id, version, pinned, from_at) values (?, ?, false, ?)`,
        [c.instanceId, c.version, at],
        "run",
      );
    // Its home: the conversation it was claimed into.
    if (inserted.length > 0) await joinConversation(tx, c.instanceId, c.conversationId, at);
  } else if (ev.case === "ended") {
    // The row stays: its clones live on, and the edge to them with it.
    await tx.execute(
      `update lineage_agents set ended_at = ?, end_reason = ? where instance_id = ? and ended_at is null`,
      [at, ev.value.reason || null, ev.value.instanceId],
      "run",
    );
    await tx.execute(
      `update lineage_agent_versions set to_at = greatest(from_at, ?) where instance_id = ? and to_at is null`,
      [at, ev.value.instanceId],
      "run",
    );
    await leaveConversation(tx, ev.value.instanceId, undefined, at);
  } else if (ev.case === "versionChanged") {
    await changeVersion(tx, ev.value.instanceId, ev.value.version, ev.value.pinned, at);
  } else if (ev.case === "ownerChanged") {
    // The new owner's days with others begin the day after: the transfer's day is the giver's (activity/policy.ts).
    await tx.execute(
      `update lineage_agents set owner_id = ?,
         owner_days_from = case when owner_id = ? then owner_days_from else (?::timestamptz at time zone 'UTC')::date + 1 end
       where instance_id = ?`,
      [ev.value.ownerId, ev.value.ownerId, at, ev.value.instanceId],
      "run",
    );
  } else if (ev.case === "conversationJoined") {
    // An agent added to a conversation, or one it was in that became its home
    // (docs/signals.md, "An agent in several conversations"). Idempotent.
    await joinConversation(tx, ev.value.instanceId, ev.value.conversationId, at, ev.value.home);
  } else if (ev.case === "conversationLeft") {
    await leaveConversation(tx, ev.value.instanceId, ev.value.conversationId, at);
  }
}

/**
 * An agent now runs `version` (pinned or not) from `at`: the stretch it ran
 * is closed and a new one opened, unless nothing changed. For an agent
 * whose claim did not say its version, the first one marks when lineage
 * began to know (versions_known_from). An agent lineage never heard of is
 * skipped, as the other events do.
 */
async function changeVersion(
  tx: EntityManager,
  instanceId: string,
  version: string,
  pinned: boolean,
  at: Date,
): Promise<void> {
  await tx.execute(
    `update lineage_agents a set versions_known_from = ?
     where instance_id = ? and not exists (select 1 from lineage_agent_versions v where v.instance_id = a.instance_id)`,
    [at, instanceId],
    "run",
  );
  const [open] = await tx.execute<{ version: string; pinned: boolean }[]>(
    `select version, pinned from lineage_agent_versions where instance_id = ? and to_at is null`,
    [instanceId],
  );
  if (open?.version === version && open.pinned === pinned) return;
  await tx.execute(
    `update lineage_agent_versions set to_at = greatest(from_at, ?) where instance_id = ? and to_at is null`,
    [at, instanceId],
    "run",
  );
  // Two changes in the same millisecond: the later one is what it ran from then.
  await tx.execute(
    `insert into lineage_agent_versions (instance_id, version, pinned, from_at)
     select ?, ?, ?, ? where exists (select 1 from lineage_agents where instance_id = ? and ended_at is null)
     on conflict (instance_id, from_at) do update set version = excluded.version, pinned = excluded.pinned, to_at = null`,
    [instanceId, version, pinned, at, instanceId],
    "run",
  );
}

/** Forgets sequences applied long ago, raising the floor over them, so the bookkeeping stays small. */
async function prune(tx: EntityManager): Promise<void> {
  await tx.execute(
    `with gone as (delete from lineage_applied where applied_at < now() - interval '${REMEMBER_APPLIED}' returning sequence)
     update lineage_feed set applied_sequence = greatest(applied_sequence, (select max(sequence) from gone))
     where exists (select 1 from gone)`,
    [],
    "run",
  );
}

// The event feed from the claims service (LineageEventService): what happens
// to agents, from the claims service's lineage outbox, at least once and in
// sequence order. Each call is one transaction that locks the feed's
// position, skips events at or below it and applies the rest, so a repeat is
// harmless and two calls at once cannot interleave.
import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { EntityManager } from "@mikro-orm/postgresql";
import type { LineageEvent } from "@convos-pool/gen/convos/pool/v1/lineage_event_service_pb.js";
import { invalidArgument } from "@convos-pool/kit";

/** Checks what can be checked before the transaction: sequences present and increasing, a kind each. */
export function checkEvents(events: readonly LineageEvent[]): void {
  let last = 0n;
  events.forEach((e, i) => {
    if (e.sequence <= last) throw invalidArgument(`events[${i}].sequence`, "must be positive and increasing");
    last = e.sequence;
    if (!e.event.case) throw invalidArgument(`events[${i}].event`, "is required: claimed, ended or owner_changed");
    const id = e.event.value.instanceId;
    if (!id) throw invalidArgument(`events[${i}].${e.event.case}.instance_id`, "is required");
    if (e.event.case === "claimed" && (!e.event.value.templateId || !e.event.value.ownerId)) {
      throw invalidArgument(`events[${i}].claimed`, "needs template_id and owner_id");
    }
  });
}

/** Applies the events not applied before; returns how many were new. */
export async function applyEvents(em: EntityManager, events: readonly LineageEvent[]): Promise<number> {
  checkEvents(events);
  return em.transactional(async (tx) => {
    const [feed] = await tx.execute<{ applied_sequence: string }[]>(`select applied_sequence from lineage_feed for update`);
    const applied = BigInt(feed!.applied_sequence);
    const fresh = events.filter((e) => e.sequence > applied);
    for (const e of fresh) {
      const at = e.at ? timestampDate(e.at) : new Date();
      const ev = e.event;
      if (ev.case === "claimed") {
        const c = ev.value;
        await tx.execute(
          `insert into lineage_agents (instance_id, template_id, owner_id, parent_instance_id, conversation_id, carry, depth, claimed_at)
           values (?, ?, ?, ?, ?, ?, coalesce((select depth + 1 from lineage_agents where instance_id = ?), 0), ?)
           on conflict (instance_id) do nothing`,
          [c.instanceId, c.templateId, c.ownerId, c.parentInstanceId || null, c.conversationId, c.carry.join(","), c.parentInstanceId, at],
          "run",
        );
      } else if (ev.case === "ended") {
        await tx.execute(`update lineage_agents set ended_at = ?, end_reason = ? where instance_id = ? and ended_at is null`, [at, ev.value.reason || null, ev.value.instanceId], "run");
      } else if (ev.case === "ownerChanged") {
        await tx.execute(`update lineage_agents set owner_id = ? where instance_id = ?`, [ev.value.ownerId, ev.value.instanceId], "run");
      }
    }
    if (fresh.length > 0) await tx.execute(`update lineage_feed set applied_sequence = ?`, [fresh.at(-1)!.sequence.toString()], "run");
    return fresh.length;
  });
}

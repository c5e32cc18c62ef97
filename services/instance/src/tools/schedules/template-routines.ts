// The routines a template declares (docs/templates.md, "Routines"), kept by
// its agent in each of its conversations as items of its schedules
// (docs/schedules.md): at the routine's local time in the conversation's
// zone, once the owner has set it (asked once when it is unknown, as for
// any request of time). Each is asked for on behalf of the agent itself,
// which is how the pool tells a template's routine from a person's: the
// claims service judges the agent a member, so it may keep routines and
// never acts, the owner may pause, resume or cancel each one, and no other
// member may change one. Its firing is a turn with no tools
// (agent/conversation/routine-turn.ts: an asker who is not the owner), on
// the words the agent kept here, never the item's.
//
// The decision is pure (planTemplateRoutines); keepTemplateRoutines carries
// it out. A template update that changes a routine replaces its item (an
// owner's pause of the old one does not carry over); one the owner cancelled
// stays cancelled, even when the template changes it; one the template
// drops is cancelled.

import { ConnectError } from "@connectrpc/connect";
import { type RoutineJson, routineStart, routineWhen } from "@convos-pool/kit/content";
import type { Logger } from "@convos-pool/kit/server";
import type { KeptItem, OnBehalf } from "./desk.js";
import type { Scheduling } from "./scheduling.js";
import type { KeptTemplateRoutine } from "./store.js";

/** What keeping a template's routines in one conversation comes to. */
export interface RoutinesPlan {
  /** Routines to ask for (new, or changed by the template). */
  keep: RoutineJson[];
  /** Items to cancel: the template dropped or changed their routine. */
  cancel: string[];
  /** Routines the owner cancelled that the template changed: kept as declared now, with no item. */
  stillStopped: RoutineJson[];
  /** Routines to keep that wait for the conversation's zone. */
  needsZone: boolean;
}

/** What differs between a routine as declared and as kept. */
const same = (r: RoutineJson, k: KeptTemplateRoutine) =>
  r.name === k.name && r.rrule === k.rrule && r.time === k.time && r.instruction === k.instruction;

/**
 * What to do in a conversation: `declared` the template's routines now,
 * `kept` what the agent keeps there by routine id, `zone` the conversation's
 * (undefined until the owner sets it), `live` the ids of the conversation's
 * items the schedules service still has (undefined when not read: nothing is
 * cancelled or replaced that it has not been seen to have).
 */
export function planTemplateRoutines(
  declared: readonly RoutineJson[],
  kept: Readonly<Record<string, KeptTemplateRoutine>>,
  zone: string | undefined,
  live: ReadonlySet<string> | undefined,
): RoutinesPlan {
  const plan: RoutinesPlan = { keep: [], cancel: [], stillStopped: [], needsZone: false };
  const ids = new Set(declared.map((r) => r.id));
  for (const [id, k] of Object.entries(kept))
    if (!ids.has(id) && k.itemId && live?.has(k.itemId)) plan.cancel.push(k.itemId);
  for (const r of declared) {
    const k = kept[r.id];
    if (k && same(r, k)) continue;
    // The owner cancelled it (or it was never kept): a change of the template does not bring it back.
    if (k && (!k.itemId || (live !== undefined && !live.has(k.itemId)))) {
      plan.stillStopped.push(r);
      continue;
    }
    if (k) plan.cancel.push(k.itemId);
    plan.keep.push(r);
  }
  if (zone === undefined && plan.keep.length > 0) return { ...plan, keep: [], cancel: [], needsZone: true };
  return plan;
}

/** Whether anything kept in the conversation differs from what is declared (no call needed when nothing does). */
export function routinesChanged(
  declared: readonly RoutineJson[],
  kept: Readonly<Record<string, KeptTemplateRoutine>>,
): boolean {
  if (Object.keys(kept).length !== declared.length) return true;
  return declared.some((r) => {
    const k = kept[r.id];
    return !k || !same(r, k);
  });
}

/** What the agent says in the conversation once, when its template's routines wait for the zone. */
export function zoneQuestion(declared: readonly RoutineJson[]): string {
  const list = declared.map((r) => `${r.name} (${routineWhen(r)})`).join("; ");
  return `My template keeps routines in each conversation: ${list}. I keep time in this conversation's time zone, and its owner has not set one yet. Owner, which is it? Say "time zone Europe/Paris" (any place's zone).`;
}

/** What the agent says once its template's routines are kept in the conversation. */
export function keptWords(kept: readonly RoutineJson[], zone: string): string {
  const list = kept.map((r) => `${r.name}: ${routineWhen(r)}`).join("; ");
  return `Kept from my template (${zone}): ${list}. The owner may pause, move or stop each one.`;
}

/** What keeping a template's routines in a conversation uses. */
export interface RoutinesParts {
  readonly scheduling: Scheduling;
  /** The agent's own inbox: on whose behalf the items are asked for. */
  readonly inboxId: string;
  readonly log: Logger;
  /** Says `text` in the conversation. */
  say(conversationId: string, text: string): Promise<void>;
}

export type RoutinesOutcome = "none" | "unchanged" | "zone-asked" | "waits" | "kept" | "failed";

/**
 * The template's routines (`declared`) kept in `conversationId` as planned
 * (planTemplateRoutines): the zone asked for once when it is unknown, the
 * changed and dropped items cancelled, the new ones asked for and their words
 * kept, each under its item's id as a routine of the agent's own.
 */
export async function keepTemplateRoutines(
  parts: RoutinesParts,
  conversationId: string,
  declared: readonly RoutineJson[],
): Promise<RoutinesOutcome> {
  const { scheduling } = parts;
  const desk = scheduling.desk;
  if (!desk) return "none";
  const store = await scheduling.store();
  const kept = store.templateRoutinesIn(conversationId);
  if (!routinesChanged(declared, kept)) return "unchanged";
  const on: OnBehalf = { instanceId: scheduling.instanceId, conversationId, inboxId: parts.inboxId };
  const zone = store.zoneOf(conversationId);
  const changing = Object.keys(kept).length > 0;
  let live: Set<string> | undefined;
  try {
    if (changing) live = new Set((await desk.list(on)).map((i: KeptItem) => i.id));
    const plan = planTemplateRoutines(declared, kept, zone, live);
    if (plan.needsZone) {
      if (scheduling.zoneAsked.has(conversationId)) return "waits";
      scheduling.zoneAsked.add(conversationId);
      await parts.say(conversationId, zoneQuestion(declared));
      return "zone-asked";
    }
    // Written after each step, so a step that fails leaves no item the agent does not know of.
    const next: Record<string, KeptTemplateRoutine> = { ...kept };
    const ids = new Set(declared.map((r) => r.id));
    for (const id of Object.keys(next))
      if (!ids.has(id) && !plan.cancel.includes(next[id]?.itemId ?? "")) delete next[id];
    for (const r of plan.stillStopped) next[r.id] = { ...r, itemId: "" };
    await store.keepTemplateRoutines(conversationId, next);
    for (const itemId of plan.cancel) {
      await desk.cancel(on, itemId);
      await store.forget(itemId);
      for (const [id, k] of Object.entries(next)) if (k.itemId === itemId) delete next[id];
      await store.keepTemplateRoutines(conversationId, next);
    }
    const at = zone ?? "UTC";
    for (const r of plan.keep) {
      const startsAt = routineStart(r.time, at, scheduling.now()) ?? scheduling.now();
      const item = await desk.create(on, {
        kind: "routine",
        text: r.instruction,
        when: { startsAt, rrule: r.rrule, zone: at },
      });
      await store.keepRoutine(item.id, { conversationId, asker: parts.inboxId, instruction: r.instruction });
      next[r.id] = { itemId: item.id, name: r.name, rrule: r.rrule, time: r.time, instruction: r.instruction };
      await store.keepTemplateRoutines(conversationId, next);
    }
    parts.log.info("template routines kept", { conversationId, kept: plan.keep.length, cancelled: plan.cancel.length });
    if (plan.keep.length > 0 && zone) await parts.say(conversationId, keptWords(plan.keep, zone));
    return "kept";
  } catch (err) {
    parts.log.warn("template routines not kept", { conversationId, err: ConnectError.from(err).rawMessage });
    return "failed";
  }
}

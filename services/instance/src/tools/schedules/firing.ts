// What one firing of an item does (InstanceScheduleService.FireSchedule,
// docs/schedules.md "What the host must do"), decided once, pure: nothing
// again for a firing id already done; nothing in a conversation the agent
// is not in; a reminder's post; a routine's turn as its asker's, the asker
// and the words as the agent kept them under the item's id; an act only as
// the agent kept it under the item's id, for the owner who asked it, in the
// conversation it was asked in; never from the item's text, asker or
// payload (the pool can change those). firing-run.ts carries it out.

import { actWords, type BoundScheduledAct, type ItemKind } from "./policy.js";
import type { KeptRoutine } from "./store.js";

/** A firing as the claims service delivers it. */
export interface Firing {
  /** `sch_…@2026-12-04T17:00:00Z`: the same on every retry of one occurrence. */
  firingId: string;
  item: { id: string; kind: ItemKind; text: string; conversationId: string; askedBy: string };
}

/** What the agent knows when a firing comes. */
export interface FiringFacts {
  /** Firing ids it has done (store.ts). */
  done(firingId: string): boolean;
  /** Whether it is in that conversation now. */
  inConversation(conversationId: string): boolean;
  /** Its owner now. */
  ownerId: string | undefined;
  /** The bound request kept under the item's id (store.ts `actOf`). */
  kept: (BoundScheduledAct & { conversationId: string }) | undefined;
  /** The routine kept under the item's id: who asked it, in which words (store.ts `routineOf`). */
  routine: KeptRoutine | undefined;
}

export type FiringPlan =
  | { kind: "already-done" }
  /** FAILED_PRECONDITION: the claims service pauses the item. */
  | { kind: "refused"; why: string }
  | { kind: "post"; text: string }
  | { kind: "turn"; instruction: string; asker: string }
  | { kind: "act"; act: BoundScheduledAct; say: string };

/** The one decision about a firing. */
export function planFiring(f: Firing, facts: FiringFacts): FiringPlan {
  if (facts.done(f.firingId)) return { kind: "already-done" };
  const { item } = f;
  if (!facts.inConversation(item.conversationId))
    return { kind: "refused", why: "the agent is not in that conversation" };
  switch (item.kind) {
    case "reminder":
      return { kind: "post", text: `Reminder: ${item.text}` };
    case "routine": {
      const kept = facts.routine;
      if (!kept) return { kind: "refused", why: "no routine of the agent's is kept for this item: nothing done" };
      if (kept.conversationId !== item.conversationId)
        return { kind: "refused", why: "the routine was asked in another conversation: nothing done" };
      return { kind: "turn", instruction: kept.instruction, asker: kept.asker };
    }
    case "act": {
      const kept = facts.kept;
      if (!kept) return { kind: "refused", why: "no request of the owner's is kept for this act: nothing done" };
      if (kept.conversationId !== item.conversationId)
        return { kind: "refused", why: "the act was asked in another conversation: nothing done" };
      if (!facts.ownerId || item.askedBy !== facts.ownerId)
        return { kind: "refused", why: "the act was asked by someone who is not the owner now: nothing done" };
      return { kind: "act", act: kept, say: `As you asked, on schedule: ${actWords(kept)}.` };
    }
  }
}

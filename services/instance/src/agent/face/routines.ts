// When the agent keeps its template's routines (tools/schedules/template-routines.ts
// decides and does it): in a conversation it joins, in every conversation
// after a template update, and in a conversation whose zone its owner has
// just set. Each runs after the call that caused it, one after another, so
// it never holds the call up and two never ask for one routine twice; a
// failure is logged, and the next of these tries again.

import { routineToJson } from "@convos-pool/kit/content";
import { keepTemplateRoutines, type RoutinesOutcome } from "../../tools/schedules/template-routines.js";
import type { Parts } from "../life/parts.js";

export class TemplateRoutines {
  constructor(private readonly parts: Parts) {
    const scheduling = parts.scheduling;
    scheduling.onZoneSet = (conversationId) => this.later(conversationId);
  }

  /** The last keeping asked for: each waits for the one before, so two at once never ask for one routine twice. */
  private keeping: Promise<unknown> = Promise.resolve();

  /** The template's routines kept in `conversationId`, after what runs now. */
  later(conversationId: string): void {
    this.keeping = this.keeping
      .then(() => this.keepIn(conversationId))
      .catch((err: unknown) => this.parts.log.warn("template routines not kept", { conversationId, err }));
  }

  /** In every conversation it is in (a template update). */
  everywhere(): void {
    for (const c of this.parts.conversations.all()) if (c.id) this.later(c.id);
  }

  async keepIn(conversationId: string): Promise<RoutinesOutcome> {
    const parts = this.parts;
    const content = parts.settings.runningContent();
    if (!content || !parts.scheduling.desk) return "none";
    return keepTemplateRoutines(
      {
        scheduling: parts.scheduling,
        inboxId: parts.status.inboxId,
        log: parts.log,
        say: async (id, text) => {
          const c = parts.conversations.get(id);
          if (c) await parts.turns.run(() => parts.conversations.within(c, () => c.voice.say(text)));
        },
      },
      conversationId,
      content.routines.map(routineToJson),
    );
  }
}

// An owner's agents by conversation (My agents): the agents that share one
// are listed together, so two of one template in two conversations are told
// apart by where they are, named as the conversation is (its group's name,
// as its agents report it), not by an id. Pure: the page draws it.
import type { Instance } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";

export type ConversationGroup = {
  /** The conversation's id; "" for agents in none (not yet joined, or ended before joining). */
  conversationId: string;
  /** Its name, as the agent that joined it last reported it; "" when none did (the page says "A conversation"). */
  name: string;
  agents: Instance[];
  /** When the first of these agents joined it (seconds since the epoch; 0 when none says). */
  since: number;
};

const claimed = (i: Instance) => Number(i.claimedAt?.seconds ?? 0n);

/**
 * The agents by conversation, the conversation joined most recently first
 * and, within one, in the order they joined; agents in no conversation last.
 */
export function byConversation(agents: readonly Instance[]): ConversationGroup[] {
  const groups = new Map<string, Instance[]>();
  for (const a of agents) groups.set(a.conversationId, [...(groups.get(a.conversationId) ?? []), a]);
  return [...groups.entries()]
    .map(([conversationId, list]) => {
      const sorted = [...list].sort((a, b) => claimed(a) - claimed(b) || a.id.localeCompare(b.id));
      const name =
        [...sorted]
          .reverse()
          .find((a) => a.conversationName.trim())
          ?.conversationName.trim() ?? "";
      return { conversationId, name, agents: sorted, since: Math.min(...sorted.map(claimed)) };
    })
    .sort(
      (a, b) =>
        Number(a.conversationId === "") - Number(b.conversationId === "") ||
        b.since - a.since ||
        a.conversationId.localeCompare(b.conversationId),
    );
}

/** What a conversation is called on a page: its name, or "A conversation" when it has none yet. */
export function conversationTitle(name: string): string {
  return name.trim() || "A conversation";
}

// An owner's agents by conversation (My agents): the agents that share one
// are listed together, so two of one template in two conversations are told
// apart by where they are, named as the conversation is (its group's name,
// as its agents report it), not by an id. One agent in several conversations
// is listed under each (`Instance.conversations`), its home marked; an agent
// the pool lists no conversations of (ended, or older data) is listed under
// its home (`Instance.conversationId`), as before. Pure: the page draws it.
import { InstanceState, type Instance } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";

/** One agent under one of its conversations. */
export type GroupedAgent = {
  agent: Instance;
  /** This conversation is the agent's home (the one it was claimed into, or the one that took its place). */
  home: boolean;
  /** How many conversations it is in: more than one, and the page says where else. */
  conversations: number;
  /** When it joined this one (seconds since the epoch; 0 when none says). */
  joined: number;
};

export type ConversationGroup = {
  /** The conversation's id; "" for agents in none (not yet joined, or ended before joining). */
  conversationId: string;
  /** Its name, as the agent that joined it last reported it; "" when none did (the page says "A conversation"). */
  name: string;
  agents: GroupedAgent[];
  /** When the first of these agents joined it (seconds since the epoch; 0 when none says). */
  since: number;
};

type Membership = GroupedAgent & { conversationId: string; name: string };

const seconds = (t: { seconds: bigint } | undefined) => Number(t?.seconds ?? 0n);

/**
 * Where one agent is listed: each conversation it is in (a conversation still being joined has no id yet and is
 * left out), the home joined when it was claimed; else its home alone.
 */
function membershipsOf(a: Instance): Membership[] {
  const byId = new Map<string, Membership>();
  for (const c of a.conversations) {
    if (!c.conversationId || byId.has(c.conversationId)) continue;
    const home = c.home || c.conversationId === a.conversationId;
    byId.set(c.conversationId, {
      agent: a,
      conversationId: c.conversationId,
      name: c.name.trim() || (home ? a.conversationName.trim() : ""),
      home,
      conversations: 0,
      joined: home ? seconds(a.claimedAt) : seconds(c.joinedAt),
    });
  }
  const listed = [...byId.values()];
  if (listed.length === 0)
    return [
      {
        agent: a,
        conversationId: a.conversationId,
        name: a.conversationName.trim(),
        home: true,
        conversations: a.conversationId ? 1 : 0,
        joined: seconds(a.claimedAt),
      },
    ];
  return listed.map((m) => ({ ...m, conversations: listed.length }));
}

/**
 * The agents by conversation, the conversation joined most recently first
 * and, within one, in the order they joined it; agents in no conversation last.
 */
export function byConversation(agents: readonly Instance[]): ConversationGroup[] {
  const groups = new Map<string, Membership[]>();
  for (const m of agents.flatMap(membershipsOf))
    groups.set(m.conversationId, [...(groups.get(m.conversationId) ?? []), m]);
  return [...groups.entries()]
    .map(([conversationId, list]) => {
      const sorted = [...list].sort((a, b) => a.joined - b.joined || a.agent.id.localeCompare(b.agent.id));
      const name = [...sorted].reverse().find((m) => m.name)?.name ?? "";
      return {
        conversationId,
        name,
        agents: sorted.map(({ agent, home, conversations, joined }) => ({ agent, home, conversations, joined })),
        since: Math.min(...sorted.map((m) => m.joined)),
      };
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

/** The name of an agent's home, for a card under another of its conversations: as its home group is named. */
export function homeName(agent: Instance): string {
  const home =
    agent.conversations.find((c) => c.home) ??
    agent.conversations.find((c) => c.conversationId === agent.conversationId);
  return conversationTitle(home?.name.trim() || agent.conversationName);
}

/** What a card under `here` says of the agent's other conversations: "Added here; its home is Lisbon trip." */
export function elsewhereWords(a: GroupedAgent, here: string): string {
  if (!a.home) return `Added here; its home is ${homeName(a.agent)}.`;
  const others = [...new Set(a.agent.conversations.map((c) => c.conversationId))]
    .filter((id) => id && id !== here)
    .map((id) => a.agent.conversations.find((c) => c.conversationId === id)?.name.trim() || "one with no name yet");
  return `Its home; also in ${new Intl.ListFormat("en", { type: "conjunction" }).format(others)}.`;
}

/** Which of an owner's agents My agents shows: live ones (not ended), ended ones, or all. */
export type AgentShow = "all" | "live" | "ended";

/**
 * Whether an agent is shown for the words searched (each word in its name,
 * id, template or one of its conversations' names, in any case) and what to
 * show (an ended agent is one released or destroyed: dead).
 */
export function agentMatches(a: Instance, search: string, show: AgentShow): boolean {
  const ended = a.state === InstanceState.DEAD;
  if (show === (ended ? "live" : "ended")) return false;
  const text = [a.agentName, a.id, a.templateId, a.conversationName, ...a.conversations.map((c) => c.name)]
    .join(" ")
    .toLowerCase();
  return search
    .toLowerCase()
    .split(/\s+/)
    .filter(Boolean)
    .every((w) => text.includes(w));
}

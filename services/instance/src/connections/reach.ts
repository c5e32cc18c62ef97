// Whose phones a write to a phone could reach (docs/connections.md, "Writes
// to a phone are acts", rule 4). ConvosConnections names no target device:
// every phone in the conversation that has the capability on may carry out
// an invocation. Whether another person's phone has it on cannot be known
// (the Convos CLI's SKILL.md, "Discovering Enabled Capabilities"): there is
// no capability advertisement, a phone that shares nothing may still have
// writes on, and a person turns a capability on or off in Convos without a
// word. What the agent does know is who is in the conversation. So a write
// goes only where nobody but its requester could carry it out: every other
// member is the agent itself, or a member whose profile says it is an agent
// and whose phone never spoke here. Pure.

/** Who is in the conversation, as the agent knows it when it is about to write. */
export interface Here {
  /** The agent itself. */
  self: string;
  /** The conversation's members now, read from the group. */
  members: readonly string[];
  /** Members whose profile says they are agents (people.ts). */
  agents: readonly string[];
  /** Members whose phone has sent something here: a payload, an answer, a pick, a connection event (shares.ts). */
  phones: readonly string[];
}

/**
 * Everyone but `requester` whose phone could carry out an invocation meant
 * for theirs: every other member, less the agent itself and the agents
 * whose phone never spoke here. A profile's word that a member is an agent
 * does not outweigh a phone heard from it.
 */
export function othersWhoCould(requester: string, here: Here): string[] {
  const agents = new Set(here.agents);
  const phones = new Set(here.phones);
  return here.members.filter((m) => m !== requester && m !== here.self && (!agents.has(m) || phones.has(m)));
}

// Agents answering agents (docs/instance.md, "Agents among agents"): two
// agents in one conversation answer each other at most once for one
// person's message, and never answer another agent's answer to them. Pure:
// plan.ts asks here after policy.ts's decide() would answer an agent, and
// keeps what this returns in its pace.
//
// Every text has an origin: the person's (or principal's) text that began
// its chain. A person's text is its own origin; an agent's reply takes the
// origin of the message it replies to; an agent's text that replies to
// nothing known takes the latest person's text. The same template twice in
// a conversation shares one name, so each agent's answer to "Trip Planner,
// hello!" names the other: without this, the two answered each other until
// MAX_AGENT_CHAIN stopped them (policy.ts), which stays as the outer breaker.
//
// "An agent" is any member whose profile declares the agent kind (people.ts),
// not only the pool's: an agent cannot tell the pool's from others without
// checking badges, and a loop is a loop whoever the other agent is.

/** Texts whose origin it remembers, and origins it remembers having answered an agent for. */
export const ORIGINS_KEPT = 200;
export const ANSWERED_KEPT = 50;

/** The origin of agent texts heard before any person's text (a fresh start, a restart). */
export const UNKNOWN_ORIGIN = "";

/** What it remembers of who began which chain. */
export interface AgentTalk {
  /** The latest text of a person or principal: the origin of an agent's text that replies to nothing known. */
  lastPersonText: string | undefined;
  /** Message id to its origin, newest last. */
  origins: readonly (readonly [string, string])[];
  /** Origins for which it has answered an agent, newest last. */
  answered: readonly string[];
}

export const NO_TALK: AgentTalk = { lastPersonText: undefined, origins: [], answered: [] };

/** A text as this reads it. */
export interface Talked {
  /** Its message id; none: it cannot be an origin nor be replied to (a test's plain text). */
  id?: string | undefined;
  senderInboxId: string;
  /** A reply: the id of the message it replies to, and that message's sender. */
  replyTo?: string | undefined;
  replyToSender?: string | undefined;
}

/** The origin of `m`: itself for a person's text, else its reply's origin, else the latest person's text. */
export function originOf(talk: AgentTalk, m: Talked, fromPerson: boolean): string {
  if (fromPerson) return m.id ?? UNKNOWN_ORIGIN;
  const replied = m.replyTo !== undefined ? talk.origins.findLast(([id]) => id === m.replyTo) : undefined;
  return replied?.[1] ?? talk.lastPersonText ?? UNKNOWN_ORIGIN;
}

/** Remembers `m`'s origin (any sender's text, its own included: a reply to its answer follows its chain). */
export function heard(talk: AgentTalk, m: Talked, fromPerson: boolean): AgentTalk {
  const origin = originOf(talk, m, fromPerson);
  const lastPersonText = fromPerson && m.id !== undefined ? m.id : talk.lastPersonText;
  if (m.id === undefined) return { ...talk, lastPersonText };
  return { ...talk, lastPersonText, origins: [...talk.origins, [m.id, origin] as const].slice(-ORIGINS_KEPT) };
}

/**
 * Why an agent's text that decide() would answer is left unanswered:
 * "answer-to-it", it replies to one of this agent's own messages (an
 * answer to it: answering would start the circle); "answered", this agent
 * already answered an agent for the same person's message. Undefined: it
 * may answer.
 */
export type Unanswered = "answer-to-it" | "answered" | undefined;

/** Whether it answers another agent's text `m` (heard already), and what it remembers after. */
export function answerAgent(talk: AgentTalk, self: string, m: Talked): { unanswered: Unanswered; talk: AgentTalk } {
  if (m.replyToSender === self) return { unanswered: "answer-to-it", talk };
  const origin = originOf(talk, m, false);
  if (talk.answered.includes(origin)) return { unanswered: "answered", talk };
  return { unanswered: undefined, talk: { ...talk, answered: [...talk.answered, origin].slice(-ANSWERED_KEPT) } };
}

// What the agent learns from its conversation, and forgets on request
// (docs/memory.md, "Provenance"; docs/instance.md, "Learning from
// feedback"): each entry recorded with who taught it, where; a correction
// leaves its own entry and takes out what it supersedes if its teller may;
// the owner's word makes a member's version the owner's; "forget what you
// learned from me" takes out what the sender taught, never what others
// taught about them. A fact carries no recipient or amount its message did
// not (tools/origins.ts): what the owner taught may direct an act. Whose word counts is memory/provenance.ts's, what a
// reaction or a correction means memory/feedback.ts's; the conversation
// decides when (plan.ts) and calls here.

import type { Logger } from "@convos-pool/kit/server";
import type { LlmProvider } from "../model/turn.js";
import { recordCorrection, type AnswerRef, type FeedbackReader } from "../memory/feedback.js";
import type { PatternAgent } from "../memory/patterns.js";
import { confirm, confirmSaid, groundedIn, taughtBy } from "../memory/provenance.js";
import type { Memory, NewEntry } from "../memory/store.js";
import type { Role } from "../platform/roles.js";
import { valuesWithin } from "../tools/origins.js";
import type { AgentGroup, TextMessage } from "../platform/xmtp.js";
import type { AgentMemory } from "./agent-memory.js";
import type { AgentSignals } from "./signals.js";
import type { LlmLimits } from "./budget.js";
import type { InstanceDeps } from "./types.js";

/** What learning uses of its agent (agent.ts). */
export interface LearningAgent {
  readonly deps: InstanceDeps;
  readonly log: Logger;
  /** The agent as the host's pattern exchange knows it. */
  readonly self: PatternAgent;
  readonly memory: AgentMemory;
  readonly feedback: FeedbackReader;
  readonly llm: LlmProvider;
  readonly signals: AgentSignals;
}

/** Asked to forget what it learned from the sender: forgets what they taught (memory/provenance.ts `taughtBy`); how much went. */
export async function forgetSender(agent: LearningAgent, memory: Memory, m: TextMessage): Promise<number> {
  agent.signals.count("forgetRequests");
  const gone = memory.remove(taughtBy(memory, m.senderInboxId).map((e) => e.id));
  if (gone.length > 0) await agent.memory.save(memory);
  agent.log.info("forgot what a member taught", { forgotten: gone.length });
  return gone.length;
}

/** What one message is learned as. */
export interface Lesson {
  /** The text without the name it is said to. */
  m: TextMessage;
  /** Its teller's role. */
  role: Role;
  /** Its model (the claim's). */
  model: string;
  limits: LlmLimits;
  /** `m` corrects this answer of its own. */
  correcting?: AnswerRef | undefined;
  /** Whether the model is asked (its budget may be spent): without it only a correction's own entry is recorded. */
  byModel: boolean;
  /** Its group, where an owner's "that's right" finds what it confirms. */
  group: AgentGroup | undefined;
}

/**
 * What `m` teaches, recorded with who taught it (`role`, conversation,
 * message); a correction (memory/feedback.ts) also leaves its entry and
 * takes out the fact it supersedes, if its teller may. The owner's word
 * makes a member's version the owner's (memory/provenance.ts).
 */
export async function learn(agent: LearningAgent, memory: Memory, l: Lesson): Promise<void> {
  const { m, role, correcting } = l;
  const where = { conversationId: m.conversationId, messageId: m.id };
  let found: NewEntry[] = [];
  if (!l.byModel && !correcting) return;
  try {
    if (l.byModel)
      found = await agent.llm.learn({
        model: l.model,
        memory,
        message: m.content,
        from: m.senderInboxId,
        role,
        ...(correcting ? { correcting: correcting.text } : {}),
        limits: l.limits,
      });
  } catch (err) {
    agent.log.warn("learning from a message failed", { err });
    if (!correcting) return;
  }
  // A fact may say only what its teller wrote (its recipients and amounts exactly, its numbers, most of its words): a
  // model cannot put its own facts in their mouth, nor another's reworded (memory/provenance.ts groundedIn).
  const invented = found.filter((e) => !valuesWithin(e.text, m.content) || !groundedIn(e.text, m.content));
  if (invented.length > 0) agent.log.warn("facts their message did not say: not learned", { count: invented.length });
  found = found.filter((e) => !invented.includes(e)).map((e) => ({ ...e, role, ...where }));
  const added = memory.add(found);
  let confirmed = 0;
  if (role === "owner") {
    // The owner's own words confirm, never the model's restatement of them (memory/provenance.ts).
    confirmed += confirmSaid(memory, m.content, m.senderInboxId).length;
    if (l.group)
      confirmed += confirm(memory, agent.feedback.confirmationTargets(l.group, memory, m), m.senderInboxId).length;
    if (confirmed > 0) agent.log.info("the owner confirmed a member's version", { confirmed });
  }
  const corrected = correcting && recordCorrection(memory, correcting, m.content, m.senderInboxId, found, role, where);
  if (corrected) agent.log.info("correction learned", { messageId: correcting.messageId, ...corrected });
  if (added.length === 0 && !corrected && confirmed === 0) return;
  await agent.memory.save(memory);
  if (added.length === 0) return;
  const kinds: Record<string, number> = {};
  for (const a of added) kinds[a.kind] = (kinds[a.kind] ?? 0) + 1;
  agent.log.info("learned", { added: kinds, total: memory.entries.length });
  agent.deps.patterns?.learned(agent.self, added);
}

// What the agent does with a message, decided once from plain facts
// (docs/instance.md, "A turn"): listening.ts gathers the facts (who is
// who, how many members, its owner's participation, its budget, its pace),
// asks here, and carry-out.ts carries the plan out in order, with the I/O.
// Pure: it reads a message's fields and calls no XMTP, no workspace, no
// clock; plan.test.ts checks it in memory.
//
// Three moments, three plans:
//   planArrival  as a message arrives, before it waits for its turn: the
//                owner's reply, reaction or tap that may answer a waiting
//                tool call goes to it at once (that call waits aside, parked),
//                and so do the ids of buttons anyone else posts; a person's
//                "stop" in reply to a message it is thinking about stops
//                that turn; a person's "stop" or "pause" said as a whole
//                message pauses it in this conversation, and only the
//                owner's "resume" there turns it back on (asksToPause);
//   planMessage  in its turn: ignore it, stay quiet, skip another agent,
//                learn from a reaction, give the pool's statement to a
//                person asking what it may do here, or a text's steps
//                (forget, look for what it corrects, answer or refuse, learn);
//   planText     a text to its number (a relay): a turn, or passed on
//                without the model when the budget is spent.
// Whom it answers is policy.ts's, what a call costs budget.ts's, whose turn
// comes first turns/queue.ts's, who is who people.ts's; here they are put
// together, so that each moment asks one call. A message is read here once,
// as it arrives (`arrive`: what the plans read of it, the profile it
// carries, whether others joined), and planned with what was read.

import { ParticipationMode } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { asksWhatItMayDo, type ResolvedParticipation } from "@convos-pool/kit/content";
import type { InboundTextTurn } from "../../model/turn.js";
import { isForgetMe } from "../../memory/provenance.js";
import { withoutAddress } from "../../memory/store.js";
import type { OwnerAnswer } from "../../tools/approvals/policy.js";
import { memberRole } from "../../platform/roles.js";
import {
  isActions,
  isIntent,
  isReaction,
  isText,
  othersJoined,
  profilesIn,
  REACTION_ADDED,
  type AgentMessage,
  type MemberProfileInfo,
  type TextMessage,
} from "../../platform/xmtp.js";
import { standingOf, type Standing } from "../turns/queue.js";
import type { MemberPause } from "../state/settings.js";
import { noticeDue, spend, type Refusal, type Spent } from "./budget.js";
import { answerAgent, heard, NO_TALK, type AgentTalk } from "./agent-talk.js";
import { applyProfiles, type KnownPeople } from "./people.js";
import {
  addressedTo,
  decide,
  fromPrincipalOrHuman,
  participates,
  speaksUnasked,
  type Heard,
  type Said,
  type WhoIsWho,
} from "./policy.js";

/** A message as it arrives, as far as the owner's answer to a question goes. */
export interface Arriving {
  senderInboxId: string;
  /** A text that replies to a message: which one, and what it says. */
  reply?: { to: string; text: string } | undefined;
  /** A reaction added on a message (one taken back answers nothing). */
  reaction?: { to: string; emoji: string } | undefined;
  /** A tap on a button (XMTP's intent): the set's id and the button's. */
  tap?: { buttons: string; action: string } | undefined;
  /** Buttons (XMTP's actions): the set's id and each button's. */
  buttons?: string[] | undefined;
  /** A text's words, reply or not: whether it asks to pause or resume (asksToPause, asksToResume). */
  text?: string | undefined;
}

/**
 * offer: hand it to the waiting question (tools/approvals/policy.ts says whether it
 * answers it); one the question takes is done with: never answered by the
 * model, never learned from. buttons: tell the waiting question whose ids
 * someone else's buttons carry (a look-alike voids its buttons), then queue.
 * `orElse`: what it is when the question does not take it (the owner's reply
 * "stop" to anything but a question pauses it).
 * stop: a turn stopped. pause: a person's pause, kept, every turn under way
 * here stopped, said once. resume: the owner's, said. only-owner-resumes:
 * a member asked to resume; told once a pause that only the owner can.
 * queue: its turn comes in order.
 */
export type ArrivalPlan =
  | { kind: "offer"; answer: OwnerAnswer; orElse?: { kind: "pause" } }
  | { kind: "buttons"; ids: string[] }
  | { kind: "stop"; turn: string }
  | { kind: "pause" | "resume" | "only-owner-resumes" }
  | { kind: "queue" };

/** What asks a thinking agent to stop, as the whole of a reply (case, spaces and end punctuation aside). */
const STOP_WORDS = new Set(["stop", "stop it", "stop that", "cancel", "never mind", "nevermind", "halt", "🛑", "✋"]);

/** Whether a reply's whole text asks to stop. */
export function asksToStop(text: string): boolean {
  return STOP_WORDS.has(
    text
      .trim()
      .toLowerCase()
      .replace(/[.!]+$/u, "")
      .trim(),
  );
}

/**
 * What pauses it in a conversation, as the whole of a person's message (its
 * name said first aside: "@Concierge stop", "Concierge, pause"; case, spaces
 * and end punctuation aside). A sentence that holds the word ("don't stop
 * the music", "where is the bus stop?") is an ordinary message.
 */
export const PAUSE_WORDS: ReadonlySet<string> = new Set([
  "stop",
  "pause",
  "stop please",
  "please stop",
  "pause please",
  "please pause",
  "stop talking",
  "be quiet",
  "shut up",
  "🛑",
]);

/** What turns it back on, as the whole of the owner's message, read as PAUSE_WORDS are. */
export const RESUME_WORDS: ReadonlySet<string> = new Set([
  "resume",
  "unpause",
  "start again",
  "resume please",
  "please resume",
  "unpause please",
  "please unpause",
]);

/** A message's whole words as PAUSE_WORDS and RESUME_WORDS are read: its name said first aside, lower case, no end punctuation. */
function wholeAsk(text: string, agentName: string): string {
  return withoutAddress(text, agentName)
    .trim()
    .toLowerCase()
    .replace(/[.!]+$/u, "")
    .replace(/\s+/gu, " ")
    .trim();
}

/** Whether a message's whole text asks it to pause (PAUSE_WORDS). */
export function asksToPause(text: string, agentName = ""): boolean {
  return PAUSE_WORDS.has(wholeAsk(text, agentName));
}

/** Whether a message's whole text asks it to resume (RESUME_WORDS). */
export function asksToResume(text: string, agentName = ""): boolean {
  return RESUME_WORDS.has(wholeAsk(text, agentName));
}

/**
 * Only the owner's reply, reaction or tap may answer a question, and only
 * one it may answer now: a catch-up's older messages (`mayAnswer` false) are
 * read, never taken as a yes. Buttons anyone but the agent posts, older ones
 * too, are told to the question: a tap names only ids, so a copy of its
 * buttons' ids (a look-alike whose "Approve" means something else) must
 * leave its own buttons answering nothing. Any person in the conversation
 * (not the agent, not another agent) stops a turn by replying STOP_WORDS
 * ("cancel", "never mind") to the message it is thinking about
 * (`thinkingAbout`), as Convos lets anyone stop a thinking agent; a reply to
 * anything else is an ordinary message (the owner's "stop" to a question is
 * its no).
 *
 * Any person (the owner, or a member who is not an agent; never the agent
 * itself) pauses it in this conversation with any other message that is all
 * PAUSE_WORDS, at once, stopping whatever it is thinking about; when it is paused
 * already (by a person or by its owner's setting) that is an ordinary
 * message, answered by nothing. Only the owner's RESUME_WORDS end a person's
 * pause; a member's are told, once a pause, that only the owner can. A pause
 * or the owner's resume counts from a catch-up's older messages too: it
 * answers nothing, it says when it speaks.
 */
export function planArrival(m: Arriving, facts: ArrivalFacts): ArrivalPlan {
  if (m.buttons && m.senderInboxId !== facts.self) return { kind: "buttons", ids: m.buttons };
  // A stop in reply to what it is thinking about ends that answer, not its part in the conversation.
  if (
    m.reply &&
    facts.mayAnswer &&
    m.senderInboxId !== facts.self &&
    !facts.agents?.includes(m.senderInboxId) &&
    facts.thinkingAbout?.has(m.reply.to) &&
    asksToStop(m.reply.text)
  )
    return { kind: "stop", turn: m.reply.to };
  const owner = facts.ownerId !== undefined && m.senderInboxId === facts.ownerId;
  const person = m.senderInboxId !== facts.self && (owner || !facts.agents?.includes(m.senderInboxId));
  const paused = facts.memberPause !== undefined || facts.pausedByOwner === true;
  const text = m.text ?? m.reply?.text;
  if (person && text !== undefined && !paused && asksToPause(text, facts.agentName)) {
    // The owner's reply "stop" to its question is the question's no (tools/approvals/policy.ts).
    if (owner && m.reply && facts.mayAnswer)
      return {
        kind: "offer",
        answer: { kind: "reply", to: m.reply.to, text: m.reply.text },
        orElse: { kind: "pause" },
      };
    return { kind: "pause" };
  }
  if (person && text !== undefined && facts.memberPause && asksToResume(text, facts.agentName)) {
    if (owner) return { kind: "resume" };
    if (facts.mayAnswer && !facts.memberPause.toldOnlyOwner) return { kind: "only-owner-resumes" };
  }
  if (!facts.mayAnswer || facts.ownerId === undefined || m.senderInboxId !== facts.ownerId) return { kind: "queue" };
  if (m.reaction) return { kind: "offer", answer: { kind: "reaction", to: m.reaction.to, emoji: m.reaction.emoji } };
  if (m.reply) return { kind: "offer", answer: { kind: "reply", to: m.reply.to, text: m.reply.text } };
  if (m.tap) return { kind: "offer", answer: { kind: "tap", buttons: m.tap.buttons, action: m.tap.action } };
  return { kind: "queue" };
}

/**
 * Who is an agent as a message arrives: those its turns have read so, each
 * as their newest profile to arrive says (`announced`), before that
 * profile's own turn applies it. An agent that said so just now, behind a
 * long turn, cannot pass for a person and pause it or stop its turn.
 */
export function agentsOnArrival(known: readonly string[], announced: ReadonlyMap<string, boolean>): string[] {
  const agents = known.filter((a) => announced.get(a) !== false);
  for (const [inboxId, agent] of announced) if (agent && !agents.includes(inboxId)) agents.push(inboxId);
  return agents;
}

/** A message read once, on its arrival: what the plans read of it, and who is who it tells (its turn applies it). */
export interface Read {
  /** As planArrival reads it: a text's reply, a reaction added, a tap on a button (what may answer the owner's question, tools/approvals/policy.ts), or buttons (whose ids may copy the question's). */
  arriving: Arriving;
  /** As planMessage reads it in its turn. */
  message: Message;
  /** Its sender's own profile, when it carries one, and those the conversation's creator vouches for in a snapshot (people.ts). */
  profiles: readonly MemberProfileInfo[];
  /** Others than `self` added to the group. */
  othersJoined: boolean;
}

/** What `arrive` knows as a message arrives, besides the message. */
export interface ArrivalFacts {
  self: string;
  ownerId: string | undefined;
  /** The conversation's creator, from the invite: whose profile snapshot speaks for others (people.ts). */
  creator?: string | undefined;
  /** False for what a catch-up only learns from. */
  mayAnswer: boolean;
  thinkingAbout?: Pick<ReadonlySet<string>, "has"> | undefined;
  agents?: readonly string[] | undefined;
  /** Its name, said first in "@Concierge stop". */
  agentName?: string | undefined;
  /** A person's pause here, when it is paused so (state/settings.ts MemberPause). */
  memberPause?: Pick<MemberPause, "toldOnlyOwner"> | undefined;
  /** Its owner's setting here is `paused`. */
  pausedByOwner?: boolean | undefined;
}

/**
 * A message as it arrives, read once and planned (planArrival), with the
 * standing its turn waits in (turns/queue.ts) and whether it counts against
 * a member's share: only what may become a turn does (a reaction or a
 * catch-up's older message is quick).
 */
export function arrive(
  m: AgentMessage,
  facts: ArrivalFacts,
): { read: Read; plan: ArrivalPlan; standing: Standing; counted: boolean } {
  const read = readOf(m, facts.self, facts.creator);
  const standing = standingOf(m.senderInboxId, facts);
  const counted = standing === "member" && facts.mayAnswer && read.message.text !== undefined;
  return { read, plan: planArrival(read.arriving, facts), standing, counted };
}

/** What the plans read of `m`, once. */
export function readOf(m: AgentMessage, self: string, creator?: string): Read {
  const heard = heardOf(m);
  const { senderInboxId, text } = heard;
  const replyTo = (m as TextMessage).replyTo;
  const message: Message = { ...heard, reaction: isReaction(m), id: m.id, ...(replyTo ? { replyTo } : {}) };
  let arriving: Arriving = { senderInboxId };
  if (isIntent(m)) arriving = { senderInboxId, tap: { buttons: m.content.id, action: m.content.actionId } };
  else if (isActions(m)) arriving = { senderInboxId, buttons: [m.content.id, ...m.content.actions.map((a) => a.id)] };
  else if (isReaction(m)) {
    if (m.content.action === REACTION_ADDED)
      arriving = { senderInboxId, reaction: { to: m.content.reference, emoji: m.content.content } };
  } else if (text !== undefined)
    arriving = { senderInboxId, text, ...(replyTo ? { reply: { to: replyTo, text } } : {}) };
  return { arriving, message, profiles: profilesIn(m, creator), othersJoined: othersJoined(m, self) };
}

/** A message as policy.ts reads it. */
export function heardOf(m: AgentMessage): Heard {
  return {
    senderInboxId: m.senderInboxId,
    text: isText(m) ? m.content : undefined,
    replyToSender: (m as TextMessage).replyToSender,
  };
}

/** A message of the recent conversation as policy.ts reads it. */
export function saidOf(m: AgentMessage): Said {
  return { id: m.id, sentAtNs: m.sentAtNs, ...heardOf(m) };
}

/**
 * What the conversation keeps from one message to the next, changed only by
 * the plans (and by learning's own call, charged when it is made).
 */
export interface Pace {
  /** Text messages in a row from agents (itself included) since a person or principal spoke. */
  agentChain: number;
  /** The model calls of the last minute (budget.ts). */
  spent: readonly Spent[];
  /** When it last answered (its participation's cooldown), ms. */
  lastAnswerAt: number | undefined;
  /** When it last said it was too busy to answer (BUSY_NOTICE), ms. */
  lastNoticeAt: number | undefined;
  /** Which person's text began which chain, and for which it answered an agent (agent-talk.ts). */
  talk: AgentTalk;
}

export const NO_PACE: Pace = {
  agentChain: 0,
  spent: [],
  lastAnswerAt: undefined,
  lastNoticeAt: undefined,
  talk: NO_TALK,
};

/** A message of its conversation as a plan reads it. */
export interface Message extends Heard {
  /** A reaction, added or taken back: never a turn. */
  reaction?: boolean | undefined;
  /** Its id, and the id of the message it replies to: the chain it belongs to (agent-talk.ts). */
  id?: string | undefined;
  replyTo?: string | undefined;
}

/** Who is who, and the facts of this moment, as the conversation gathered them. */
export interface MessageFacts extends WhoIsWho {
  /** Members of its group, itself included. */
  members: number;
  /** When it speaks, as its owner set it. */
  participation: ResolvedParticipation;
  /** A person paused it here (planArrival "pause"): it answers nothing, whatever its owner set, until the owner resumes it. */
  memberPaused?: boolean | undefined;
  /** False for what a catch-up only learns from: it answers only the newest text of each person (policy.ts toAnswerAfterGap). */
  mayAnswer: boolean;
  /** Its provider learns by rule (the offline one): learning is no model call. */
  learnsByRule: boolean;
  /** Model calls a minute (budget.ts); 0: no budget. */
  callsPerMinute: number;
  /** The conversation it came in, and how many the agent is in: its members' share of the budget (budget.ts `shares`). */
  conversation?: string | undefined;
  conversations?: number | undefined;
  /** Now, ms. */
  now: number;
  pace: Pace;
}

/**
 * What a text's turn does, in this order: forget what the sender taught
 * it ("forget what you learned from me": that teaches nothing); look for the answer of its own the text corrects (answered, and
 * learned, as a correction); answer with a model call, or refuse for the
 * budget (telling the busy notice when it is due); learn.
 */
export interface TextPlan {
  kind: "text";
  /** The sender's role: whose request a tool call is, who taught what is learned. */
  role: "owner" | "member";
  /** A person or its principal, not another agent: counted among the day's people (state/signals.ts). */
  person: boolean;
  /** What it learns from, and reads a correction or a confirmation in: the text without the name it is said to. */
  said: string;
  forget: boolean;
  correction: boolean;
  /** turn: a model call, counted; refused: none (`notice`: say BUSY_NOTICE); none: a catch-up's older message. */
  answer: { kind: "turn" } | { kind: "refused"; refused: Refusal; notice: boolean } | { kind: "none" };
  /**
   * by-model: one call, charged to the budget when it is made, after the
   * answer (which may wait minutes for an approval); when it does not fit,
   * only a correction's own entry is recorded. by-rule: the offline
   * provider's rule, no call. none: not a person or principal, forgotten,
   * or refused its answer.
   */
  learn: "by-model" | "by-rule" | "none";
}

/**
 * ignore: not for a turn (its own, not a text, another agent's reaction);
 * quiet: a person's text its owner's participation does not answer (no turn,
 * no learning); skip: another agent's text left unanswered; reaction: a
 * person's or principal's 👍 or 👎 on its own message, learned, not answered.
 */
/** statement: a person asks what it may do here; answered with the pool's signed statement, no model call (state/statement.ts). */
export type MessagePlan = { kind: "ignore" | "quiet" | "skip" | "reaction" | "statement" } | TextPlan;

/** Who is who as it stands before a message's turn, and the profiles the message carries (people.ts). */
export interface Told {
  names: Readonly<Record<string, string>>;
  /** Who has sent a profile of their own. */
  profiled: readonly string[];
  profiles: readonly MemberProfileInfo[];
}

/**
 * The plan for `m` and the pace after it. With `told`, who is who is first
 * brought up to the profiles `m` carries (people.ts applyProfiles, on a
 * copy), the plan reads it so, and `who` is what the conversation keeps
 * from then on (none when nothing changed).
 */
export function planMessage(
  m: Message,
  facts: MessageFacts,
  told?: Told,
): { plan: MessagePlan; pace: Pace; who?: KnownPeople } {
  if (told && told.profiles.length > 0) {
    const who = { names: { ...told.names }, agents: [...facts.agents], profiled: [...told.profiled] };
    const changed = applyProfiles(who, told.profiles, facts.self, facts.ownerId);
    const planned = planMessage(m, { ...facts, agents: who.agents });
    return changed ? { ...planned, who } : planned;
  }
  const { pace, now } = facts;
  const participation = facts.memberPaused
    ? { ...facts.participation, mode: ParticipationMode.PAUSED }
    : facts.participation;
  const hearing = {
    unasked: speaksUnasked(participation.mode, facts.members),
    speaks: participates(participation, {
      members: facts.members,
      addressed: addressedTo(facts, m),
      lastAnswerAt: pace.lastAnswerAt,
      now,
    }),
  };
  const decided = decide(facts, pace.agentChain, m, hearing);
  let { decision } = decided;
  const person = fromPrincipalOrHuman(facts, m.senderInboxId);
  let talk = m.text !== undefined ? heard(pace.talk, m, person) : pace.talk;
  let agentChain = decided.agentChain;
  // Another agent's text: at most once per person's text, never its answer to this agent (agent-talk.ts).
  if (decision === "answer" && !person) {
    const asked = answerAgent(talk, facts.self, m);
    talk = asked.talk;
    if (asked.unanswered) {
      decision = "skip";
      agentChain = pace.agentChain;
    }
  }
  const next: Pace = { ...pace, agentChain, talk };
  // Paused by a person, it still tells what it may do here when its owner's setting would have it answer: the
  // statement says it is paused, and by whom (carry-out.ts), in the pool's words.
  const asks = person && m.text !== undefined && asksWhatItMayDo(m.text);
  if (asks && facts.memberPaused && facts.mayAnswer && decision === "quiet") {
    const asSet = participates(facts.participation, {
      members: facts.members,
      addressed: addressedTo(facts, m),
      lastAnswerAt: pace.lastAnswerAt,
      now,
    });
    if (asSet) return { plan: { kind: "statement" }, pace: { ...next, lastAnswerAt: now } };
  }
  if (decision !== "answer") {
    if (decision === "ignore" && m.reaction && person) return { plan: { kind: "reaction" }, pace: next };
    return { plan: { kind: decision }, pace: next };
  }
  // "What can you do here?" is answered from the pool's code, never the model's words.
  if (asks) {
    return { plan: { kind: "statement" }, pace: { ...next, lastAnswerAt: now } };
  }
  const role = memberRole(facts.ownerId, m.senderInboxId);
  const learns = person;
  const forget = learns && isForgetMe(m.text ?? "", facts.agentName);
  let answer: TextPlan["answer"] = { kind: "none" };
  if (facts.mayAnswer) {
    const call = { by: m.senderInboxId, owner: role === "owner", conversation: facts.conversation };
    const charged = spend(next.spent, call, now, facts.callsPerMinute, facts.conversations);
    next.spent = charged.spent;
    if (charged.allowed) {
      answer = { kind: "turn" };
      next.lastAnswerAt = now;
    } else {
      const notice = noticeDue(next.lastNoticeAt, now);
      answer = { kind: "refused", refused: charged.refused, notice };
      if (notice) next.lastNoticeAt = now;
    }
  }
  const learn = !learns || forget || answer.kind === "refused" ? "none" : facts.learnsByRule ? "by-rule" : "by-model";
  const said = withoutAddress(m.text ?? "", facts.agentName);
  return {
    plan: { kind: "text", role, person, said, forget, correction: learns && !forget, answer, learn },
    pace: next,
  };
}

/** turn: answered by the model, within what its owner lets it answer outsiders; pass-on: said as it came, without the model. */
export type TextToNumberPlan = { kind: "turn" } | { kind: "pass-on"; refused: Refusal; say: string };

/** How much of a text passed on without the model is quoted. */
export const PASSED_ON_CHARS = 500;

/** A text to its number: a turn when its call fits the budget (an outsider's, a member's share), else passed on. */
export function planText(
  t: InboundTextTurn,
  facts: { callsPerMinute: number; now: number; pace: Pace },
): { plan: TextToNumberPlan; pace: Pace } {
  const charged = spend(facts.pace.spent, { by: t.from, owner: false }, facts.now, facts.callsPerMinute);
  const pace = { ...facts.pace, spent: charged.spent };
  if (charged.allowed) return { plan: { kind: "turn" }, pace };
  const say = `A text came to ${t.to} from ${t.from}: "${t.text.slice(0, PASSED_ON_CHARS)}". I have had too many messages this minute to do more than pass it on.`;
  return { plan: { kind: "pass-on", refused: charged.refused, say }, pace };
}

// One turn: what the model is given (IDENTITY.md read now, the context, the
// memory its starter may see, the recent conversation, the functions of its
// tools), one reply, and how it goes out (voice/send.ts). Whose turn it is
// decides whose request a tool call is (tools/gate/gate.ts) and what of memory the
// model sees. The conversation decides that a turn is taken (plan.ts) and
// gathers the history; here it is taken.

import { inSpan, type Logger } from "@convos-pool/kit/server";
import { RefusedTurn, type InboundTextTurn, type LlmProvider } from "../../model/turn.js";
import type { AnswerRef } from "../../memory/feedback.js";
import { answersOutsiders } from "../../tools/gate/permissions.js";
import type { AgentToolbox } from "../../tools/toolbox/toolbox.js";
import { FILES, type Workspace } from "../../platform/workspace.js";
import { memberRole } from "../../platform/roles.js";
import type { AgentGroup } from "../../platform/xmtp.js";
import type { LlmLimits } from "./budget.js";
import type { Status } from "../state/status.js";
import type { OutsideWords } from "../state/outside-words.js";
import { piecesFor } from "../../walls/views.js";
import { readTurn, type ConversationHeard, type TurnReading } from "./turn-read.js";
import { actsForTurn, type ContactBook, type OpenRequest } from "./choosing.js";
import type { Settings } from "../state/settings.js";
import type { Signals } from "../state/signals.js";
import type { InstanceConfig } from "../state/settings.js";
import type { SpokenTurn, Voice } from "../voice/send.js";
import type { Declared, PhoneActs, PhoneTurn } from "../../connections/acts.js";
import { mayRelease } from "../../connections/labels.js";
import { phoneContext, reads } from "../../connections/prompt.js";
import type { Piece, PhoneShares } from "../../connections/shares.js";

/** What a turn uses of its agent (life/parts.ts). */
export interface TurnParts {
  readonly log: Logger;
  readonly ws: Workspace;
  readonly status: Status;
  readonly settings: Settings;
  readonly toolbox: AgentToolbox;
  readonly voice: Voice;
  readonly outsideWords: OutsideWords;
  readonly llm: LlmProvider;
  readonly signals: Signals;
  /** An owner's request it did not carry out, open for the owner's yes (choosing.ts). */
  readonly openRequest: OpenRequest;
  /** The owner's address book: contacts an owner's request may name. */
  contacts(): ContactBook | undefined;
  /** What people's phones share here, each piece its sender's. */
  readonly phones: PhoneShares;
  /** What it asks of people's phones. */
  readonly phoneActs: PhoneActs;
  /** The kinds of phone data its template declares it uses. */
  declaredConnections(): Declared[];
}

/**
 * What the conversation knows of the turn to take: its group, and the conversation as gathered, which turn-read.ts
 * reads within the walls and up to `m` (a text from outside reads none of it: its one text back cannot carry what
 * was said here).
 */
export interface TurnOf extends Omit<ConversationHeard, "conversationId"> {
  group: AgentGroup;
  config: InstanceConfig;
  limits: LlmLimits;
  /** The text to its number it answers. */
  inboundText?: InboundTextTurn | undefined;
  /** `m` corrects this answer of its own. */
  correcting?: AnswerRef | undefined;
  /** `m` had it forget this many entries. */
  forgot?: number | undefined;
  /** Before each completion after the turn's first: whether it fits the model budget, which it then takes a call of. */
  nextCompletion?: (() => boolean) | undefined;
  /** Aborted when someone asks it to stop thinking (its reason: their name): the turn ends, and no call runs after. */
  stop?: AbortSignal | undefined;
}

/** What it says when someone stopped its turn. */
export const stoppedReply = (by: string) => `Stopped, as ${by} asked.`;

/** `work`, or the turn's stop if it comes first; `work` goes on unheard (its calls refused: tools/gate/gate.ts). */
function untilStopped<T>(work: Promise<T>, stop: AbortSignal | undefined): Promise<T | { stoppedBy: string }> {
  if (!stop) return work;
  // The signal is the turn's own: its listener goes with it.
  const stopped = new Promise<{ stoppedBy: string }>((resolve) => {
    const said = () => resolve({ stoppedBy: String(stop.reason) });
    if (stop.aborted) said();
    else stop.addEventListener("abort", said, { once: true });
  });
  return Promise.race([work, stopped]);
}

/** What it says instead of a reply that repeated what someone's phone shared (connections/labels.ts). */
export const withheldReply = (name: string, kinds: readonly string[]) =>
  `${name}, my answer repeated details from your phone's ${kinds.join(" and ")}, which you share only with me, so I have not posted it here. ` +
  `Ask me to share it with the group if you want everyone to see it.`;

/** What it says instead of a reply that repeated what someone else's phone shared. */
export const WITHHELD_OTHERS =
  "I have not posted my answer: it repeated what another person's phone shares only with me, and that is theirs to share.";

/** Said when the model cannot be reached: the turn still ends with an answer. */
export const NO_MODEL_REPLY = "Sorry, I could not reach my language model just now. Please try again in a moment.";

/**
 * A turn is a trace of its own (docs/runbook.md, "Traces"): `agent.turn`,
 * with `agent.model` and `agent.answer` in it; ids and the model's name only,
 * never what was said.
 */
export function takeTurn(agent: TurnParts, t: TurnOf): Promise<void> {
  return inSpan(
    "agent.turn",
    { "pool.instance_id": t.config.instanceId, "pool.template_id": t.config.templateId, "pool.model": t.config.model },
    () => turn(agent, t),
  );
}

async function turn(agent: TurnParts, t: TurnOf): Promise<void> {
  const { group, config, m, inboundText } = t;
  const started = performance.now();
  const identity = (await agent.ws.readText(FILES.identity)) ?? "";
  // Whose turn it is decides whose request a tool call is, and what of memory the model sees (Memory.visibleTo).
  const role = inboundText ? "outsider" : memberRole(config.ownerId, m?.senderInboxId ?? "");
  const person = role === "owner" || role === "member";
  const contacts = role === "owner" ? agent.contacts() : undefined;
  /** This turn's voice, once it began (below). */
  const speaking: { turn?: SpokenTurn } = {};
  // What the turn reads and is given, decided at once (turn-read.ts).
  const r: TurnReading = readTurn({
    config,
    identity,
    conversationId: group.id,
    role,
    memory: t.memory,
    walls: t.walls,
    who: t.who,
    names: t.names,
    recent: t.recent,
    m,
    outside: t.outside,
    inboundText,
    answersOutsiders: answersOutsiders(agent.toolbox.grants),
    level: agent.toolbox.level,
    participation: agent.settings.participation,
    functions: [...agent.toolbox.functions(), ...(person ? agent.phoneActs.functions() : [])],
    // What a call says (an approval question) in this turn's form, also after it waited aside for the owner's answer.
    callTool: (name, args) => agent.voice.during(speaking.turn, () => callTool(name, args)),
    correcting: t.correcting?.text,
    forgot: t.forgot,
    limits: t.limits,
    contacts,
    stop: t.stop,
  });
  const { who, reader, history, input } = r;
  // What the message asks for, read from it alone: an act runs without asking only when it carries one out.
  const { bound, told } = await actsForTurn(agent.llm, r.chooser, agent.log, {
    role: who.role,
    open: r.said !== undefined ? { request: agent.openRequest, said: r.said, now: Date.now } : undefined,
  });
  who.boundActs = bound;
  if (contacts) who.contacts = contacts;
  // People's phones (walls/labels.ts, the phone rule): a person's turn reads their own pieces alone. What any
  // turn makes is screened against every piece held here, whatever the model was given: a runtime that keeps its
  // own session (OpenClaw) may still hold what an earlier turn read.
  const declared = person ? agent.declaredConnections() : [];
  const pieces: Piece[] = declared.length
    ? piecesFor(agent.phones.all(), group.id, reader).filter((p) => reads(declared, p.kind))
    : [];
  const held = agent.phones.all();
  const phoneTurn: PhoneTurn = { requester: who.id, name: who.name, text: m?.content ?? "", person, stop: t.stop };
  // What is said here already, by the requester or anyone in the recent conversation, is no secret from it.
  const own = {
    requester: who.id,
    // Only the request itself may ask to share; what it and the recent conversation said is no secret here.
    text: phoneTurn.text,
    said: [inboundText?.text ?? "", ...history.map((h) => h.text)].join("\n"),
  };
  const callTool = (name: string, args: Record<string, unknown>) => {
    if (agent.phoneActs.handles(name)) return agent.phoneActs.call(name, args, phoneTurn);
    // A call that would send on what someone's phone shared goes only where its owner asked it to.
    const release = held.length ? mayRelease(own, JSON.stringify(args), held, "tool") : ({ ok: true } as const);
    if (!release.ok) {
      agent.log.warn("a tool call carried what a person's phone shared, unasked: refused", {
        tool: name,
        kinds: release.kinds,
      });
      return Promise.resolve({
        ok: false as const,
        error: `not done: that would send on what ${release.whose.length === 1 && release.whose[0] === who.id ? `${who.name}'s` : "another person's"} phone shares with me, which they did not ask me to send`,
      });
    }
    return agent.toolbox.call(name, args, who);
  };
  if (told) input.context = `${input.context}\n\n${told}`;
  const phone = phoneContext(who.name, pieces);
  if (phone) input.context = `${input.context}\n\n${phone}`;
  // Each round of function results is a model call too (budget.ts): the conversation charges it.
  if (t.nextCompletion) input.nextCompletion = t.nextCompletion;
  // Read, and thinking about `m` (typing, for a text from outside), until the turn is over however it ends.
  const spoken = await agent.voice.begin(group, m);
  speaking.turn = spoken;
  let reply: string;
  try {
    try {
      const answered = await inSpan("agent.model", { "pool.model": config.model }, () =>
        untilStopped(agent.llm.reply(input, t.stop), t.stop),
      );
      reply = typeof answered === "string" ? answered : stoppedReply(answered.stoppedBy);
    } catch (err) {
      if (t.stop?.aborted) reply = stoppedReply(String(t.stop.reason));
      else if (err instanceof RefusedTurn) {
        agent.log.error("turn refused", { reason: err.message });
        reply = err.reply;
      } else {
        agent.log.warn("the model did not answer", { err, model: config.model });
        reply = NO_MODEL_REPLY;
      }
    }
    if (!reply) return;
    // A reply that repeats what the requester's phone shared goes to the group only when they asked to share it.
    const release = held.length ? mayRelease(own, reply, held, "conversation") : ({ ok: true } as const);
    if (!release.ok) {
      agent.log.warn("reply withheld: it repeated what a person's phone shared", { kinds: release.kinds });
      reply =
        release.whose.length === 1 && release.whose[0] === who.id
          ? withheldReply(who.name, release.kinds)
          : WITHHELD_OTHERS;
    }
    const id = await inSpan("agent.answer", {}, () => spoken.reply(reply));
    // Whose answer it is, for the day's counts per person (docs/signals.md, "Per person").
    agent.signals.answered(id, person ? m?.senderInboxId : undefined);
    // What it said for an outsider, or after it read a mail, may carry their words.
    if (who.role === "outsider" || who.readOutside) await agent.outsideWords.add(id);
  } finally {
    await spoken.end();
    // What the owner asked for and it did not do stays open for the owner's yes (choosing.ts).
    if (who.role === "owner") agent.openRequest.keep(bound, Date.now());
  }
  agent.status.active();
  agent.log.info("answered", {
    conversationId: group.id,
    model: config.model,
    chars: reply.length,
    ms: Math.round(performance.now() - started),
  });
}

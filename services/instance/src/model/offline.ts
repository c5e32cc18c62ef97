// With no model configured: an offline provider that needs no key, says so
// in every answer, and is deterministic (it answers from memory), so tests
// can see learning work. The memory it answers and learns from is its
// input's alone: a conversation's view (memory/walls.ts), so it recalls
// nothing, and heeds no 👎, of another conversation.

import {
  extractByRule,
  toSecondPerson,
  withoutAddress,
  shortInbox,
  type MemoryEntry,
  type NewEntry,
} from "../memory/store.js";
import { offlineCommand } from "../tools/functions/commands.js";
import { correctionByRule, recallHeedingFeedback } from "../memory/feedback.js";
import { selectByDirective } from "../clone/directive.js";
import type { InboundTextTurn, LearnInput, LlmProvider, SummaryInput, TurnInput } from "./turn.js";
import type { ChooserInput } from "./chooser.js";
import { readRequest } from "../tools/request/read.js";
import type { ChosenAct } from "../tools/request/binding.js";
import { chooseByRule } from "../tools/request/grammar.js";

export const OFFLINE_LABEL = "[offline model]";

/**
 * No model, no key: answers by rule and says so. A remark with something
 * to remember is acknowledged ("Noted: ..."), a question is answered from
 * memory when memory has something on it (less the facts of answers marked
 * 👎), a correction is acknowledged with the fact it corrects, anything else
 * is echoed. A question about the requester's calendar lists the events
 * their phone shares in the turn's context. Learning uses the deterministic
 * rules of memory/store.ts and memory/feedback.ts.
 */
export class OfflineProvider implements LlmProvider {
  readonly kind = "offline";

  async reply(input: TurnInput): Promise<string> {
    if (input.inboundText) return this.answerText(input, input.inboundText);
    const last = input.history.at(-1)?.text.trim() ?? "";
    if (input.forgot !== undefined)
      return `${OFFLINE_LABEL} Done: I forgot ${input.forgot} ${input.forgot === 1 ? "thing" : "things"} I had learned from you.`;
    // What this turn's starter may be told: no credentials but to the owner.
    const memory = input.memory.visibleTo(input.role ?? "member");
    const { callTool } = input;
    const command = callTool ? offlineCommand(last, input.agentName) : undefined;
    if (callTool && command) {
      const outcome = await callTool(command.name, command.args);
      return outcome.ok
        ? `${OFFLINE_LABEL} Done: ${sentence(outcome.result)}`
        : `${OFFLINE_LABEL} I could not do that: ${sentence(outcome.error)}`;
    }
    // What is said, without the name it is said to ("Tabby, remember …"); the echo below quotes it whole.
    const said = withoutAddress(last, input.agentName);
    if (input.correcting) {
      const corrected = correctionByRule(said, input.correcting, memory);
      return corrected.length > 0
        ? `${OFFLINE_LABEL} Thanks for the correction. Noted: ${corrected.map((f) => toSecondPerson(f.text)).join("; ")}.`
        : `${OFFLINE_LABEL} Thanks for the correction; I will not answer that way again.`;
    }
    // A question about the requester's calendar: what their phone shares in this turn, said back (the pool then
    // decides whether it may go to the group: connections/labels.ts).
    const calendar = calendarQuestion(said);
    if (calendar === "mine") return calendarAnswer(input.context);
    if (calendar)
      return `${OFFLINE_LABEL} I cannot tell you what is on ${calendar.name}'s calendar: in your turns I read only what your own phone shares with me.`;
    const facts = extractByRule(said);
    if (facts.length > 0) {
      return `${OFFLINE_LABEL} Noted: ${facts.map((f) => toSecondPerson(f.text)).join("; ")}.`;
    }
    if (said.endsWith("?")) {
      const { found, withheld } = recallHeedingFeedback(memory, said);
      if (found.length > 0) {
        // A member's version of someone else's fact comes after it, as what that member says.
        const ordered = [...found.filter((e) => !e.disputes?.length), ...found.filter((e) => e.disputes?.length)];
        return `${OFFLINE_LABEL} From what I remember: ${ordered.map(recalled).join("; ")}.`;
      }
      if (withheld) {
        return `${OFFLINE_LABEL} I was told that what I answered to this before was wrong, and I know nothing else about it yet. Tell me what is right and I will remember it.`;
      }
      return `${OFFLINE_LABEL} I don't know that yet. No language model is configured here, so I can only answer from what I was told to remember.`;
    }
    return `${OFFLINE_LABEL} ${input.agentName} here. I read: "${last.slice(0, 200)}". No language model is configured, so this is an offline stand-in answer.`;
  }

  /** A text to its number: answered by text, said in the conversation. */
  private async answerText(input: TurnInput, t: InboundTextTurn): Promise<string> {
    const came = `${OFFLINE_LABEL} A text came to ${t.to} from ${t.from}: "${t.text.slice(0, 500)}".`;
    if (!t.answer) return `${came} My owner has me pass on texts from outside, not answer them.`;
    if (!input.callTool) return came;
    const answer = `${OFFLINE_LABEL} ${input.agentName} here. I read: "${t.text.slice(0, 200)}". No language model is configured, so this is an offline stand-in answer.`;
    const outcome = await input.callTool("send_sms", { to: t.from, text: answer });
    return outcome.ok ? `${came} I answered it by text.` : `${came} I could not answer it: ${sentence(outcome.error)}`;
  }

  async learn(input: LearnInput): Promise<NewEntry[]> {
    if (input.correcting)
      return correctionByRule(
        input.message,
        input.correcting,
        input.memory.visibleTo(input.role ?? "member"),
        input.from,
      );
    return extractByRule(input.message, input.from);
  }

  /** The acts its fixed grammar reads in the request (tools/request/grammar.ts chooseByRule): the offline commands, and more. */
  async chooseActs(input: ChooserInput): Promise<ChosenAct[]> {
    return chooseByRule(readRequest(input.request));
  }

  /** Memory of the kinds that carry, less what the directive excludes by name (selectByDirective). */
  async summarize(input: SummaryInput): Promise<NewEntry[]> {
    return selectByDirective(input.entries, input.directive).map((e) => ({ kind: e.kind, text: e.text, via: e.via }));
  }
}

/** "what is on my calendar?", "am I free on Friday?", "share my calendar with the group", "… Ana's calendar?". */
const CALENDAR_QUESTION =
  /\b(am i free)\b|\b(?:what|when|which|anything|show|share|list|tell|post|read out)\b[^.!?]*?\b(my|[\p{L}][\p{L}\p{N}_-]*'s)\s+(?:calendar|agenda|schedule)\b/iu;

/** Whose calendar `said` asks about: the requester's own ("mine") or someone's by name; undefined: not a question of one. */
export function calendarQuestion(said: string): "mine" | { name: string } | undefined {
  const m = said.match(CALENDAR_QUESTION);
  if (!m) return undefined;
  const whose = m[2];
  return m[1] || !whose || whose.toLowerCase() === "my" ? "mine" : { name: whose.slice(0, -2) };
}

/** The first line of the section connections/prompt.ts phoneContext adds to a turn's context. */
const PHONE_SECTION = /^What .+'s phone shares with you in this conversation\./;

/**
 * The events of the calendar the requester's phone shares, as the turn's
 * context has them (connections/prompt.ts phoneContext: a line per kind,
 * then its data as JSON), said back; or that it sees none. The context holds
 * the requester's own pieces alone, so another person's calendar is never
 * there to say.
 */
export function calendarAnswer(context: string): string {
  const lines = context.split("\n");
  const from = lines.findIndex((l) => PHONE_SECTION.test(l));
  const at = from < 0 ? -1 : lines.findIndex((l, i) => i > from && /^- calendar \(/.test(l));
  const data = at < 0 ? undefined : lines[at + 1]?.match(/^\s+data: (.*)$/)?.[1];
  if (data === undefined)
    return `${OFFLINE_LABEL} I see no calendar here: in your turns I read only what your own phone shares with me, and it shares no calendar.`;
  const events = eventsIn(data);
  if (events.length === 0)
    return `${OFFLINE_LABEL} Your phone shares your calendar with me, and I see no events in it.`;
  return `${OFFLINE_LABEL} On your calendar, as your phone shares it: ${events.join("; ")}.`;
}

/** Each event's title, with its start when given, from a calendar payload's data (JSON, perhaps cut short). */
function eventsIn(data: string): string[] {
  const found: string[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) for (const x of v) walk(x);
    else if (v && typeof v === "object") {
      const o = v as Record<string, unknown>;
      if (typeof o.title === "string") {
        const start = typeof o.startDate === "string" ? o.startDate : typeof o.start === "string" ? o.start : "";
        found.push(start ? `${o.title} (${start})` : o.title);
      }
      for (const [k, x] of Object.entries(o)) if (k !== "title") walk(x);
    }
  };
  try {
    walk(JSON.parse(data));
  } catch {
    // Cut at MAX_DATA_CHARS: the titles that made it whole.
    for (const m of data.matchAll(/"title":"((?:[^"\\]|\\.)*)"/g)) found.push(JSON.parse(`"${m[1] ?? ""}"`) as string);
  }
  return found.slice(0, 20);
}

/** A fact said back: a member's version of someone else's fact as what that member says. */
function recalled(e: MemoryEntry): string {
  const fact = toSecondPerson(e.text);
  // A lesson from the pattern pool is told as what other people's agents suggest, never as the agent's own rule.
  if (e.adoptedFrom) return `agents of other people suggest "${fact.replace(/["“”]/g, "'")}"`;
  return e.disputes?.length && e.from ? `member ${shortInbox(e.from)} says ${fact}` : fact;
}

/** Ends a result with a full stop, unless it ends a paragraph of its own (a mail read out) or has one. */
function sentence(text: string): string {
  return /[.!?\n]\s*$/.test(text) ? text.trimEnd() : `${text}.`;
}

// The act chooser's prompt (docs/trust.md, "An act carries out a request"): a
// model call that decides which acts a request asks for, and reads only the
// request (the words of the message that may ask: tools/request/read.ts
// askingWords), the names of the owner's contacts and settings, and the acts
// its tools can do. Never the rest of the conversation: no other message, no memory, no
// template, no tool's result, no value of a contact. What it answers is held
// to the request by the pool's code (tools/request/binding.ts bindActs) before any act
// may use it. This is CaMeL's split (Debenedetti et al., 2025): the model
// that reads the conversation writes words; the one that reads the owner's request
// chooses whom and how much. Pure: the providers send it.

import { readRequest } from "../tools/request/read.js";
import { ACT_KINDS, type ActKind, type ChosenAct } from "../tools/request/binding.js";
import { chooseByRule } from "../tools/request/grammar.js";
import type { TargetKind } from "../tools/trust/values.js";
import { jsonObjectIn } from "../platform/json-answer.js";
import type { ChatMessage, ChooserInput } from "./turn.js";

export type { ChooserInput };

export const CHOOSER_PROMPT = [
  "You choose the acts an assistant carries out for the person who wrote the request below.",
  "Choose only what the request asks to be done now: not what it mentions, quotes, warns against, or asks about.",
  'Acts: "pay" (send crypto: needs "to" and "amount" with its unit, e.g. "0.01 ETH"), "text" (an SMS: needs "to"), "mail" (an email: needs "to").',
  '"to" is a wallet address, a phone number with its +country code or a mail address written in the request, or exactly one of the contact or setting names listed.',
  "One act for each act asked for: two payments asked, two acts; one asked, one act. Never guess a recipient or an amount the request does not give.",
  'Answer with JSON only: {"acts":[{"act":"pay","to":"Ana","amount":"0.01 ETH"},{"act":"text","to":"+15550100111"}]} or {"acts":[]}.',
].join("\n");

const KIND_WORDS: Readonly<Record<TargetKind, string>> = { address: "wallet", phone: "phone", mailbox: "mail" };

/** The chat-completions messages that ask the chooser for acts. */
export function chooserMessages(p: ChooserInput): ChatMessage[] {
  const contacts = p.contacts.map((c) => `- ${c.name} (${c.kinds.map((k) => KIND_WORDS[k]).join(", ")})`);
  const settings = p.settings.map((s) => `- ${s}`);
  return [
    {
      role: "system",
      content: [
        CHOOSER_PROMPT,
        "",
        `Acts its tools can do: ${p.acts.join(", ") || "none"}`,
        "",
        "Contacts:",
        ...(contacts.length > 0 ? contacts : ["(none)"]),
        "",
        "Settings:",
        ...(settings.length > 0 ? settings : ["(none)"]),
      ].join("\n"),
    },
    { role: "user", content: p.request },
  ];
}

/** At most this many acts are read from the chooser's answer (the binding caps how many acts a request may hold). */
const MAX_READ = 20;

/** The acts of the chooser's JSON answer; anything malformed is left out. */
export function parseChosenActs(answer: string): ChosenAct[] {
  const acts = jsonObjectIn(answer)?.acts;
  if (!Array.isArray(acts)) return [];
  const out: ChosenAct[] = [];
  for (const a of acts.slice(0, MAX_READ)) {
    const { act, to, amount } = (a ?? {}) as { act?: unknown; to?: unknown; amount?: unknown };
    if (typeof act !== "string" || !(ACT_KINDS as readonly string[]).includes(act) || typeof to !== "string") continue;
    out.push({
      act: act as ActKind,
      to,
      ...(typeof amount === "string" || typeof amount === "number" ? { amount: String(amount) } : {}),
    });
  }
  return out;
}

/**
 * What a faithful chooser answers to `request` (the chooser prompt's user
 * message): the offline grammar's acts (tools/request/grammar.ts chooseByRule), as
 * JSON. For model stand-ins in tests and benchmarks that answer every
 * prompt they are sent.
 */
export function chooseByRuleAnswer(request: string): string {
  return JSON.stringify({ acts: chooseByRule(readRequest(request)) });
}

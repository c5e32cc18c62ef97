// A turn's acts: what the message that started it asks for (docs/trust.md,
// "An act carries out a request"). The act chooser is a model call of its own
// that reads the request and nothing of the conversation: `chooserCall` picks the
// request out of everything the turn read (the starter's own message, the
// last line), with, in the owner's turns, the names of the owner's contacts
// and settings; the model's answer is then held to the request by the pool's
// code (tools/request/binding.ts bindActs). An owner's request the agent did not
// carry out in its turn stays open for the owner's next message when that
// message is a plain yes ("go ahead"): the question it answers was about it.
// An act the owner said no to is closed for good.

import { formatEther } from "viem";
import type { Logger } from "@convos-pool/kit/server";
import type { LlmProvider } from "../../model/turn.js";
import type { ChooserInput } from "../../model/chooser.js";
import { replyWord } from "../../tools/approvals/policy.js";
import type { Role } from "../../platform/roles.js";
import {
  askedAmounts,
  askedTargets,
  askingWords,
  namesAnAct,
  namesAsked,
  readRequest,
  type RequestText,
} from "../../tools/request/read.js";
import {
  ACT_KINDS,
  ACT_TOOLS,
  bindActs,
  type Act,
  type Contacts,
  type BoundActs,
} from "../../tools/request/binding.js";
import type { TargetKind } from "../../tools/trust/values.js";
import type { AddressBook } from "../../tools/address-book/store.js";
import type { TurnRead } from "./turn-origins.js";

/** The owner's address book as the chooser may see it: names and kinds, and a lookup. */
export interface ContactBook extends Contacts {
  /** Each contact's name and the kinds of value it has (never the values). */
  names(): { name: string; kinds: TargetKind[] }[];
}

/** The owner's address book (tools/address-book/store.ts) as the chooser reads it: names and the kinds saved for each. */
export function contactBook(book: Pick<AddressBook, "list" | "lookup">): ContactBook {
  return {
    lookup: (name, kind) => book.lookup(name, kind),
    names: () => {
      const kinds = new Map<string, { name: string; kinds: TargetKind[] }>();
      for (const c of book.list()) {
        const key = c.name.toLowerCase();
        const entry = kinds.get(key) ?? { name: c.name, kinds: [] };
        if (!entry.kinds.includes(c.kind)) entry.kinds.push(c.kind);
        kinds.set(key, entry);
      }
      return [...kinds.values()];
    },
  };
}

/** A turn as its chooser is given it: everything the turn read, and who started it. */
export interface ChooserTurn extends TurnRead {
  model: string;
  /** Who started the turn: the owner's requests are read with the owner's contacts and settings; a member's with neither. */
  who: { role: Role; id: string };
  /** The tools it holds. */
  tools: readonly string[];
  /** The owner's address book. */
  contacts?: ContactBook | undefined;
}

/** What the chooser is asked, and what its answer is held to; none: nothing to choose (no request, no tool that acts). */
export interface ChooserCall {
  input?: ChooserInput | undefined;
  request?: RequestText | undefined;
  contacts?: Contacts | undefined;
  settings?: Readonly<Record<string, string>> | undefined;
}

/**
 * The chooser's input from everything a turn read: only the request (the
 * turn's starter's own message, the last line they said, in the parts that
 * may ask) and, in the owner's turns, the names of the owner's contacts and
 * settings. No other line, no memory, no template, no text from outside: a
 * property test (choosing.test.ts) holds it to that. No request when the
 * turn is an outsider's, its tools do not act, or the request names no act,
 * value or contact (no model call then).
 */
export function chooserCall(t: ChooserTurn): ChooserCall {
  const last = t.history.at(-1);
  if (t.who.role === "outsider" || t.inboundText || !last || last.role !== "user" || last.from !== t.who.id) return {};
  const request = readRequest(last.text);
  const acts = ACT_KINDS.filter((a) => t.tools.includes(ACT_TOOLS[a].toolId));
  const owner = t.who.role === "owner";
  const contacts = owner ? t.contacts : undefined;
  const settings = owner ? t.userConfig : undefined;
  const words = askingWords(request);
  const named = contacts?.names().some((c) => namesAsked(request, c.name)) ?? false;
  const valued =
    askedAmounts(request).length > 0 ||
    (["address", "phone", "mailbox"] as const).some((k) => askedTargets(request, k).length > 0);
  if (acts.length === 0 || !(namesAnAct(words) || valued || named)) return { request };
  return {
    request,
    contacts,
    settings,
    input: {
      model: t.model,
      request: words,
      contacts: contacts?.names() ?? [],
      settings: Object.keys(settings ?? {}),
      acts,
    },
  };
}

/**
 * The turn's bound acts: the chooser asked (when there is something to
 * choose), its answer held to the request. A chooser that fails chooses
 * nothing: every act then asks.
 */
export async function chooseAndBind(llm: LlmProvider, p: ChooserCall, log: Logger): Promise<BoundActs> {
  if (!p.request) return { acts: [], dropped: [] };
  if (!p.input) return { acts: [], dropped: [], request: p.request };
  let chosen: Awaited<ReturnType<LlmProvider["chooseActs"]>> = [];
  try {
    chosen = await llm.chooseActs(p.input);
  } catch (err) {
    log.warn("the act chooser did not answer: nothing the request asks for runs without a question", { err });
  }
  const bound = bindActs(chosen, { request: p.request, contacts: p.contacts, settings: p.settings });
  if (bound.dropped.length > 0) log.info("chosen acts not in the request: dropped", { dropped: bound.dropped });
  return bound;
}

/**
 * A turn's acts in one call: chosen and bound (chooseAndBind); in the
 * owner's turn, with the acts of their open request when their message
 * (`said`, without the name it is said to) is a plain yes in time
 * (OpenRequest.answer, read when the chooser has answered); and what the
 * turn's model is told of them (describeActs).
 */
export async function actsForTurn(
  llm: LlmProvider,
  call: ChooserCall,
  log: Logger,
  t: { role: Role; open?: { request: OpenRequest; said: string; now: () => number } | undefined },
): Promise<{ bound: BoundActs; told: string | undefined }> {
  let bound = await chooseAndBind(llm, call, log);
  if (t.open) bound = t.open.request.answer(bound, t.open.said, t.open.now());
  return { bound, told: describeActs(bound, t.role) };
}

/** How long an owner's request the agent did not carry out stays open for a yes. */
export const OPEN_FOR_MS = 10 * 60_000;

/** An act a plain yes may still carry out: not done, and not one the owner said no to. */
const openForYes = (a: Act) => !a.done && !a.declined;

/**
 * The owner's last request with acts not done, kept for the owner's next
 * message: when that is a plain yes ("yes", "ok", "go ahead", "do it", 👍)
 * within OPEN_FOR_MS, the acts are still asked for; anything else closes it.
 * An act the owner said no to when asked (`declined`, tools/gate/gate.ts: a reply,
 * a 👎, a Decline tap, the web or the CLI, or no answer in time) is never
 * kept nor carried by a yes: a yes to anything else must not run what the
 * owner refused. Held in memory: a restart closes it.
 */
export class OpenRequest {
  private open: { acts: Act[]; at: number } | undefined;

  /** After an owner's turn: what it left undone, and the owner did not refuse, stays open. */
  keep(bound: BoundActs, now: number): void {
    const acts = bound.acts.filter(openForYes);
    this.open = acts.length > 0 ? { acts, at: now } : undefined;
  }

  /** The owner's next message: its own bound acts, with the open acts when it says yes in time. Closes what was open. */
  answer(bound: BoundActs, message: string, now: number): BoundActs {
    const open = this.open;
    this.open = undefined;
    if (!open || now - open.at > OPEN_FOR_MS || replyWord(message) !== "yes") return bound;
    // Refused while it waited (a question about it answered no after it was kept): not carried.
    const acts = open.acts.filter(openForYes);
    return acts.length > 0 ? { ...bound, acts: [...bound.acts, ...acts] } : bound;
  }

  /** A new claim, a release: nothing open. */
  clear(): void {
    this.open = undefined;
  }
}

const FUNCTIONS: Readonly<Record<Act["act"], string>> = { pay: "send_payment", text: "send_sms", mail: "send_email" };

/**
 * What the turn's model is told of its bound acts: the acts the message asks for,
 * each with the function and recipient that carry it out (a contact by its
 * name: the pool looks its value up), and that anything else asks the owner.
 * Undefined when the message asks for no act.
 */
export function describeActs(bound: BoundActs, role: Role): string | undefined {
  const open = bound.acts.filter((a) => !a.done);
  if (open.length === 0) return undefined;
  const whose = role === "owner" ? "your owner's message" : "this member's message";
  const lines = open.map((a) => {
    const to = JSON.stringify(a.name ?? a.target);
    return a.act === "pay"
      ? `- ${FUNCTIONS.pay} to ${to}, amount_eth "${formatEther(a.amountWei)}"`
      : `- ${FUNCTIONS[a.act]} to ${to}`;
  });
  return [
    "## What this message asks you to do",
    "",
    `The pool read these acts in ${whose}; each runs once, as your trust level allows:`,
    ...lines,
    "",
    "Any other payment, text or mail waits for your owner's approval.",
  ].join("\n");
}

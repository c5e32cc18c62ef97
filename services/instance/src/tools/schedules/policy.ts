// What a person's message asks of time, decided by the pool's code from the
// person's own words, never by the model (docs/schedules-language.md): a
// reminder ("remind us Friday at 6 to book the table"), a routine ("every
// Monday at 9 post the week's plan"), a scheduled act ("pay Ana 0.01 ETH on
// the 1st of each month", the owner's only), a stop ("stop reminding us about
// the table"), or the owner setting the conversation's time zone. A scheduled
// act is bound here as any act is (tools/request: the fixed grammar's
// reading held to the request's clauses by bindActs), so its recipient and
// amount are the owner's words and nothing a model or a line it read says.
// Pure: the instant, the zone and the owner's contacts and settings are given.

import {
  clockWords,
  dayWords,
  describeWhen,
  knownZone,
  readRecurrence,
  readWhen,
  type When,
  whenProblem,
} from "@convos-pool/kit/time";
import { formatEther } from "viem";
import { type Act, bindActs, type Contacts } from "../request/binding.js";
import { chooseByRule } from "../request/grammar.js";
import { readRequest } from "../request/read.js";

/** What an item does at its time (the contract's ScheduleKind, by name). */
export type ItemKind = "reminder" | "routine" | "act";

/** An item as the agent asks the schedules service to keep it. */
export interface ItemSpec {
  kind: ItemKind;
  /** What it posts (a reminder), the instruction (a routine), the act in words (an act). */
  text: string;
  when: When;
}

/** A scheduled act's bound request: what each firing may do, kept by the agent under the item's id. */
export interface BoundScheduledAct {
  act: Act["act"];
  toolId: Act["toolId"];
  target: string;
  /** Wei, as a decimal string (JSON has no bigint). */
  amountWei: string;
  name?: string | undefined;
  /** What a text or a mail says, as the owner said it when asking: each firing sends these, never a model's. */
  words?: string | undefined;
}

/** What a message asks of time. */
export type TimeAsk =
  | { kind: "none" }
  /** The owner names the conversation's zone. */
  | { kind: "zone"; zone: string }
  /** Something asked of time, and no zone to read it in: the owner is asked for one. */
  | { kind: "needs-zone" }
  /** Refused, in a sentence the conversation reads. */
  | { kind: "refused"; why: string }
  /** An item to keep: shown back (`showBack`), and for an act kept only on the owner's yes. */
  | { kind: "keep"; spec: ItemSpec; showBack: string; act?: BoundScheduledAct }
  /** A stop: the items whose words share these. */
  | { kind: "stop"; about: string[] }
  /** What is kept for this conversation, asked: "what reminders do we have?". */
  | { kind: "list" };

export interface TimeFacts {
  role: "owner" | "member";
  /** Now, epoch milliseconds: what a time must be after, and what the show-back says "today" from. */
  now: number;
  /** When the message was said, epoch milliseconds: what its words are read from ("tomorrow" is the day after it); default `now`. */
  saidAt?: number | undefined;
  /** The conversation's zone; undefined while its owner has not set one. */
  zone: string | undefined;
  /** The functions the agent offers here (an act needs its function: `send_payment`, `send_sms`, `send_email`). */
  tools: readonly string[];
  /** The owner's address book and settings (the owner's messages only). */
  contacts?: Contacts | undefined;
  settings?: Readonly<Record<string, string>> | undefined;
}

const re = (source: string) => new RegExp(source, "iu");
const W = String.raw`(?<![\p{L}\p{N}])`;

/** "remind me", "remind us", "reminder", "recuérdame", "recuérdanos", "rappelle-moi", "rappelle-nous", "erinnere mich", "erinnere uns". */
const REMIND = re(
  `${W}(?:remind\\s+(?:me|us|everyone|all|them|\\p{L}+)|reminder|recu[eé]rda(?:me|nos|les)|rappelle[- ](?:moi|nous)|rappel|erinnere?\\s+(?:mich|uns|alle))`,
);
/**
 * Reminder words that ask for one, once the time is out of them: "remind us to …", "remind me about …", "a
 * reminder", "recuérdame llamar", "rappelle-moi de …", "erinnere mich an …"; not "remind me what we said", a question.
 */
const REMIND_ASKED = re(
  [
    String.raw`remind\s+\p{L}+\s+(?:to|that|about|of)(?![\p{L}])`,
    "reminder",
    String.raw`recu[eé]rda(?:me|nos|les)\s+(?!qu[eé]|cu[aá]ndo|d[oó]nde|qui[eé]n|c[oó]mo|si\s)`,
    String.raw`rappelle[- ](?:moi|nous)\s+(?:de\s|d['’]|que\s|qu['’])`,
    String.raw`erinnere?\s+(?:mich|uns|alle)\s+(?:an|daran|dass|zu)(?![\p{L}])`,
  ]
    .map((p) => `${W}${p}`)
    .join("|"),
);
/** "stop reminding", "stop the reminder", "cancel the routine", "no more reminders", "arrête de nous rappeler", "deja de recordar", "hör auf … zu erinnern". */
const STOP = re(
  [
    String.raw`(?:stop|cancel|delete|remove|drop)\s+(?:the\s+|my\s+|our\s+|that\s+|this\s+)?(?:remind|reminder|reminders|routine|routines|scheduled|schedule|recurring)`,
    String.raw`no\s+more\s+(?:reminders?|routines?)`,
    String.raw`(?:stop|cancel)\s+(?:posting|sending|paying)`,
    String.raw`arr[êe]te[sz]?\s+de\s+(?:me\s+|nous\s+)?(?:rappeler|poster|publier|payer)`,
    String.raw`annule[sz]?\s+(?:le\s+|la\s+)?(?:rappel|routine)`,
    String.raw`deja\s+de\s+(?:recordar|publicar|pagar)|cancela\s+(?:el\s+|la\s+)?(?:recordatorio|rutina)`,
    String.raw`h[öo]r\s+auf.*(?:erinnern|posten|zahlen)|(?:l[öo]sch|stopp)e?\s+(?:die\s+)?(?:erinnerung|routine)`,
  ]
    .map((p) => `${W}${p}`)
    .join("|"),
);
/** "what reminders do we have?", "list the routines", "show our schedules", "qué recordatorios", "quels rappels", "welche Erinnerungen". */
const LIST = re(
  [
    String.raw`(?:what|which|any|list|show)\s+(?:the\s+|our\s+|my\s+|your\s+)?(?:reminders|routines|schedules|scheduled)`,
    String.raw`qu[eé]\s+(?:recordatorios|rutinas)|(?:lista|muestra)\s+(?:los\s+|las\s+)?(?:recordatorios|rutinas)`,
    String.raw`quel(?:le)?s\s+(?:rappels|routines)|(?:liste|montre)\s+(?:les\s+)?(?:rappels|routines)`,
    String.raw`welche\s+(?:erinnerungen|routinen)|(?:zeig|liste)\s+(?:die\s+|unsere\s+)?(?:erinnerungen|routinen)`,
  ]
    .map((p) => `${W}${p}`)
    .join("|"),
);
/** The owner naming the zone: "time zone Europe/Paris", "our timezone is America/New_York", "zona horaria …", "fuseau horaire …", "Zeitzone …". */
const ZONE = re(
  String.raw`(?:time\s*zone|zona\s+horaria|fuseau(?:\s+horaire)?|zeitzone)\s*(?:is|es|est|ist|:|=)?\s*([A-Za-z][A-Za-z0-9_+\-]*(?:/[A-Za-z0-9_+\-]+){0,2})`,
);
/** A routine's instruction begins with what to do: "post", "send", "share", "ask", "publie", "envoie", "manda", "schick"… */
const INSTRUCTION = re(
  `^(?:please\\s+)?(?:post|send|share|say|tell|ask|write|remind|summari[sz]e|check|list|give|publish|greet|wish|pay|text|mail|email|` +
    `publica|manda|env[ií]a|comparte|pregunta|escribe|paga|publie|envoie|partage|demande|[ée]cris|paie|poste|` +
    `schick|sende|teile|frag|schreib|poste|zahl|bezahle)${"(?![\\p{L}])"}`,
);
const MEMBERS_NO_ACTS =
  'Only this conversation\'s owner can schedule a payment, a text or a mail. I can remind you instead: say "remind us …".';

/** Words too common to tell one item from another in a stop. */
const COMMON = new Set(
  "the a an us me our my to about of on at in for and stop reminding remind reminder reminders cancel delete remove routine routines please every each no more posting sending paying".split(
    " ",
  ),
);

/** The item's words: what a stop's words are matched with. */
export function wordsOf(text: string): string[] {
  return (text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []).filter((w) => w.length > 2 && !COMMON.has(w));
}

/** The reminder's words as it will post them: "remind us to book the table" is "book the table". */
function reminderText(rest: string): string {
  const asked = REMIND.exec(rest);
  const after = asked ? rest.slice(asked.index + asked[0].length) : rest;
  return after
    .replace(/^[\s,:;-]*(?:for\s*[:,-]?\s*)?/iu, "")
    .replace(/^(?:to|that|of|about|de|que|à|a|an|zu|dass|daran)\s+|^(?:d|qu)['’]/iu, "")
    .replace(/^[\s,:;-]+|[\s,;:-]+$/gu, "")
    .trim();
}

/** Words of a payment: a scheduled one is refused in words when it binds nothing; other acts' verbs ("send the report") may be anyone's task. */
const PAYING = /(?<![\p{L}])(?:pay|paga|paie|zahl|bezahle|ETH|wei)(?![\p{L}])/iu;

/** Whether the words bind an act at all, with the owner's contacts and settings. */
function bindsAnAct(rest: string, facts: TimeFacts): boolean {
  const request = readRequest(rest);
  return (
    bindActs(chooseByRule(request), { request, contacts: facts.contacts, settings: facts.settings }).acts.length > 0
  );
}

/** The one act the owner's words bind, or why none: the grammar's reading held to the request's clauses. */
function bindOne(rest: string, facts: TimeFacts): BoundScheduledAct | string {
  const request = readRequest(rest);
  const bound = bindActs(chooseByRule(request), { request, contacts: facts.contacts, settings: facts.settings });
  const [act, ...more] = bound.acts;
  if (!act || more.length > 0) {
    return !act
      ? `I could not tell whom to pay or write, and how much, from "${rest}": name a contact or an address, and the amount beside it.`
      : "I schedule one act at a time: ask for each payment or message on its own.";
  }
  if (!facts.tools.includes(ACT_FUNCTION[act.act]))
    return `I do not hold the ${act.toolId} tool here, so I cannot schedule that.`;
  return { act: act.act, toolId: act.toolId, target: act.target, amountWei: act.amountWei.toString(), name: act.name };
}

/** The function each act's firing calls. */
export const ACT_FUNCTION: Readonly<Record<Act["act"], string>> = {
  pay: "send_payment",
  text: "send_sms",
  mail: "send_email",
};

/** An act as the show-back says it: "pay Ana (0x12…) 0.01 ETH". */
export function actWords(a: BoundScheduledAct): string {
  const to = a.name ? `${a.name} (${a.target})` : a.target;
  if (a.act === "pay") return `pay ${to} ${formatEther(BigInt(a.amountWei))} ETH`;
  return a.words === undefined ? `${a.act} ${to}` : `${a.act} ${to}: “${a.words}”`;
}

/** The most a scheduled text's or mail's words may hold: the item's text (1,000) holds them with their recipient. */
export const MAX_WORDS = 900;

/** A text's or a mail's act with the words it sends (the body after its ": ", quote or "that"), or why none. */
function withWords(act: BoundScheduledAct, body: string): BoundScheduledAct | string {
  const words = body
    .replace(/^\s*(?::\s*|["“«]\s*|that\s+)/iu, "")
    .replace(/\s*["”»]\s*[.!]?\s*$/u, "")
    .trim();
  if (words === "")
    return `What should I ${act.act} ${act.name ?? act.target}? Say the words after "that" or a colon, like "text Ana every Friday at 6 that dinner is at 8".`;
  if (words.length > MAX_WORDS) return `I keep at most ${MAX_WORDS} characters to send on schedule: say it shorter.`;
  return { ...act, words };
}

/**
 * What `text` (the person's words, without the agent's name) asks of time.
 * A time is read only where the words ask for one: reminder words, a stop, a
 * repetition with an instruction, or the owner's act with a time; "we meet
 * every Monday at 9" asks nothing. An act is the owner's alone, bound here;
 * a member's is refused, whatever a model makes of it.
 */
export function readTimeAsk(text: string, facts: TimeFacts): TimeAsk {
  const zoneSaid = ZONE.exec(text);
  if (zoneSaid) {
    if (facts.role !== "owner") return { kind: "refused", why: "Only this conversation's owner sets its time zone." };
    const zone = knownZone(zoneSaid[1] ?? "");
    return zone
      ? { kind: "zone", zone }
      : {
          kind: "refused",
          why: `"${zoneSaid[1]}" is not a time zone I know: name it as a place's zone, like Europe/Paris or America/New_York.`,
        };
  }
  if (STOP.test(text)) return { kind: "stop", about: wordsOf(text) };
  if (LIST.test(text)) return { kind: "list" };

  const remindWords = REMIND.test(text);
  // Most messages ask nothing of time: without reminder words, a repetition or an act's verb, chrono is not asked.
  if (!remindWords && !readRecurrence(text) && !ACT_VERB.test(text)) return { kind: "none" };
  // What the words say of time needs a zone to be read in; without one, only whether they ask.
  // A text's or a mail's own words ("text Ana: we land at noon") are what it says, not when to send it.
  const [head, body] = remindWords ? [text, ""] : splitBody(text);
  const heard = readWhen(head, { now: facts.saidAt ?? facts.now, zone: facts.zone ?? "UTC" });
  // "text Ana" and "that dinner is at 8" are two words apart; ": rent is due" follows as it was said.
  const read = heard && { ...heard, rest: `${heard.rest}${body === "" || /^[\s:]/u.test(body) ? "" : " "}${body}` };
  const recurring = read !== undefined && read.when.rrule !== "";
  const rest = read?.rest ?? text;
  const reminding = remindWords && REMIND_ASKED.test(rest);
  const acting = !reminding && read !== undefined && actLike(rest) && (PAYING.test(rest) || bindsAnAct(rest, facts));
  const instructing = !reminding && recurring && INSTRUCTION.test(rest);
  if (!reminding && !acting && !instructing) return { kind: "none" };
  // "remind me what we decided" asks the model, not a timer: without a time it is a question.
  if (!read) return { kind: "none" };
  // A member's act is refused before anything else is asked: no zone question for what will not be kept.
  if (acting && facts.role !== "owner") return { kind: "refused", why: MEMBERS_NO_ACTS };
  if (facts.zone === undefined) return { kind: "needs-zone" };

  const problem = whenProblem(read.when, facts.now);
  if (problem) return { kind: "refused", why: problem };
  const when = read.when;
  const said = describeWhen(when, facts.now);
  const guess = read.assumed.length > 0 ? ` (${read.assumed.join("; ")})` : "";

  if (acting) {
    const bound = bindOne(rest, facts);
    // A text or a mail keeps its words now, as the owner said them: a firing sends these (firing-run.ts).
    const act = typeof bound === "string" || bound.act === "pay" ? bound : withWords(bound, body);
    if (typeof act === "string") return { kind: "refused", why: act };
    const words = actWords(act);
    const each = act.act === "pay" ? "Each time, within your daily limit." : "Each time, these words.";
    return {
      kind: "keep",
      spec: { kind: "act", text: words, when },
      act,
      showBack: `Schedule this act of yours: ${words}, ${said}${guess}. ${each}`,
    };
  }
  if (reminding) {
    const what = reminderText(rest);
    if (what === "")
      return {
        kind: "refused",
        why: 'Remind you of what? Say it after the time, like "remind us Friday at 6 to book the table".',
      };
    return {
      kind: "keep",
      spec: { kind: "reminder", text: what, when },
      showBack: `I'll remind you ${said}${guess}: ${what}`,
    };
  }
  return {
    kind: "keep",
    spec: { kind: "routine", text: rest, when },
    showBack: `I'll do this ${said}${guess}: ${rest}`,
  };
}

/**
 * An act's words before what it says (from a ": ", a quote, or the "that" of
 * "text her that dinner is at 8" on), and what it says, separator included.
 */
const BODY = /:\s|["“«]|(?<=(?:text|sms|mail|email|write|tell)\s[^,.;:]{0,60}?)(?<![\p{L}])that\s/iu;
function splitBody(text: string): [string, string] {
  const at = text.search(BODY);
  return at < 0 ? [text, ""] : [text.slice(0, at), text.slice(at)];
}

/** Words that begin an act: the request reading's own test, on the words left once the time is out. */
const ACT_VERBS = String.raw`(?:pay|send|text|mail|email|transfer|paga|env[ií]a|manda|paie|envoie|zahl|bezahle|schick|[üu]berweise)(?![\p{L}])`;
const ACT_VERB = new RegExp(`(?<![\\p{L}])${ACT_VERBS}`, "iu");
function actLike(rest: string): boolean {
  return new RegExp(`^(?:please\\s+)?${ACT_VERBS}`, "iu").test(rest);
}

/** An item as a stop reads it. */
export interface HeldItem {
  id: string;
  text: string;
  kind: ItemKind;
}

/** An item as a listing reads it. */
export interface ListedItem extends HeldItem {
  askedBy: string;
  nextAt?: number | undefined;
  paused: boolean;
}

/**
 * The conversation's items in people's terms, one a line, soonest first:
 * what, when next in the conversation's zone, who asked ("you", "the
 * owner", "the template" for the template's routines the agent keeps by
 * item id in `templates`, "a member"). Only the conversation's own are ever
 * given here.
 */
export function listWords(
  items: readonly ListedItem[],
  who: {
    now: number;
    zone: string | undefined;
    speaker: string;
    ownerId: string;
    templates?: ReadonlySet<string>;
  },
): string {
  if (items.length === 0) return "Nothing is kept for this conversation: no reminder, routine or scheduled act.";
  const zone = who.zone ?? "UTC";
  const by = (i: ListedItem) =>
    i.askedBy === who.speaker
      ? "you"
      : i.askedBy === who.ownerId
        ? "the owner"
        : who.templates?.has(i.id)
          ? "the template"
          : "a member";
  const lines = [...items]
    .sort((a, b) => (a.nextAt ?? Number.POSITIVE_INFINITY) - (b.nextAt ?? Number.POSITIVE_INFINITY))
    .map((i) => {
      const when = i.paused
        ? "paused"
        : i.nextAt === undefined
          ? "nothing left to come"
          : `due ${dayWords(i.nextAt, who.now, zone)} at ${clockWords(i.nextAt, zone)}`;
      return `- ${i.text} (${i.kind}): ${when}, asked by ${by(i)}`;
    });
  return [`Kept for this conversation (${zone}):`, ...lines].join("\n");
}

/**
 * The items a stop names: those that share the most of its words (an item
 * sharing none is not named). "stop reminding us about the table" names
 * "book the table"; a stop that names no word ("stop reminding us") names
 * the only item, or none of several.
 */
export function itemsStopped(items: readonly HeldItem[], about: readonly string[]): HeldItem[] {
  if (about.length === 0) return items.length === 1 ? [...items] : [];
  const scored = items.map((item) => {
    // An act is also "the scheduled payment"; a routine "the routine" is common to all and tells none apart.
    const words = new Set([...wordsOf(item.text), ...(item.kind === "act" ? ["scheduled", "payment", "paying"] : [])]);
    return { item, score: about.filter((w) => words.has(w) || words.has(w.replace(/s$/u, ""))).length };
  });
  const best = Math.max(0, ...scored.map((s) => s.score));
  return best === 0 ? [] : scored.filter((s) => s.score === best).map((s) => s.item);
}

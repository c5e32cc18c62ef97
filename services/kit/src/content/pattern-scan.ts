// The scan every learned pattern passes before the pool keeps it
// (docs/patterns.md, "The scan"). A pattern is a lesson for agents of other
// people: it must carry no personal data, no secret, and no text that tries
// to change another agent's rules. Here in the kit so an agent can check a
// lesson before offering it, and the lineage service checks it again on
// every publish. Rules err on refusing: a refused lesson costs its agent
// nothing, a kept bad one reaches every related agent. Beyond personal data
// and secrets, a lesson may not carry a link, nor an instruction about
// payments, approvals or who the owner is: those are how a lesson would steer
// other people's agents. The rules read the text as written and folded to its
// confusable skeleton (confusables.ts), so look-alike letters do not pass.
//
// The detail names what was found ("a phone number"), never the text.
import { english as BIP39_WORDS } from "viem/accounts";
import { confusableSkeleton } from "./confusables.js";

export const MAX_PATTERN_CHARS = 500;

export const PATTERN_REFUSAL_REASONS = ["personal_data", "secret", "injection", "link", "steering"] as const;
export type PatternRefusalReason = (typeof PATTERN_REFUSAL_REASONS)[number];

export type PatternScan = { ok: true } | { ok: false; reason: PatternRefusalReason; detail: string };

/** Why a text is not a lesson at all (empty, too long): the caller's mistake, not a refusal. undefined when it is one. */
export function patternTextProblem(text: string): string | undefined {
  if (text.trim() === "") return "is required: one lesson, one sentence";
  if ([...text].length > MAX_PATTERN_CHARS) return `must be at most ${MAX_PATTERN_CHARS} characters`;
  return undefined;
}

/**
 * The text as the rules read it: compatibility forms folded (full-width
 * letters, ligatures), invisible characters dropped, whitespace collapsed, so
 * that "ｉｇｎｏｒｅ" or "ig\u200Bnore" read as "ignore".
 */
export function normalizePatternText(text: string): string {
  return withoutInvisibles(text.normalize("NFKC"));
}

/** Invisible characters dropped, whitespace collapsed. */
function withoutInvisibles(text: string): string {
  return text
    .replace(/[\u00AD\u180E\u200B-\u200F\u2060-\u2064\uFEFF]/g, "")
    .replace(/\s+/g, " ")
    .trim();
}

type Rule = readonly [pattern: RegExp, detail: string];

const SECRET_RULES: readonly Rule[] = [
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----/, "a private key"],
  [/\b0x[0-9a-fA-F]{64}\b/, "a private key (0x and 64 hex digits)"],
  [/(?<![0-9a-fA-F])[0-9a-fA-F]{64}(?![0-9a-fA-F])/, "a private key (64 hex digits)"],
  [/\bsk-(?:proj-|ant-)?[A-Za-z0-9_-]{16,}/, "an API key (sk-)"],
  [/\b[rs]k_(?:live|test)_[A-Za-z0-9]{10,}/, "an API key (Stripe)"],
  [/\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})/, "a GitHub token"],
  [/\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/, "an AWS access key"],
  [/\bAIza[0-9A-Za-z_-]{30,}/, "a Google API key"],
  [/\bxox[abprs]-[A-Za-z0-9-]{10,}/, "a Slack token"],
  [/\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}/, "a JSON web token"],
  [/\bbearer\s+[A-Za-z0-9._~+/-]{16,}/i, "a bearer token"],
  [
    /\b(?:password|passwd|passphrase|passcode|pin(?: code)?|api[ _-]?key|access[ _-]?key|secret(?: key)?|seed phrase|recovery phrase|private key)\s*(?:is|was|=|:)/i,
    "a password or key given in the text",
  ],
];

const PERSONAL_RULES: readonly Rule[] = [
  [/[\p{L}\p{N}._%+-]+@[\p{L}\p{N}-]+(?:\.[\p{L}\p{N}-]+)+/u, "an email address"],
  [/\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b/, "an IBAN"],
  [/\b0x[0-9a-fA-F]{40}\b/, "a wallet address"],
  [/\b(?:bc1[02-9ac-hj-np-z]{25,59}|[13][1-9A-HJ-NP-Za-km-z]{25,34})\b/, "a wallet address"],
  [/\b[a-z0-9-]{3,}\.eth\b/i, "a wallet name (.eth)"],
  [
    /\b\d{1,5}[a-z]?,? (?:[\p{L}.'-]+ ){1,4}(?:street|st|avenue|ave|road|rd|boulevard|blvd|lane|ln|drive|dr|way|court|ct|place|pl|square|sq|terrace|parkway|pkwy|highway|hwy|close|crescent)\b\.?/iu,
    "a street address",
  ],
  [
    /\b(?:rue|calle|avenida|straße|strasse|via) [\p{L}' -]{2,40}? \d{1,5}\b|\b\d{1,5},? (?:rue|calle|avenida) /iu,
    "a street address",
  ],
  [/\b[A-Z]{1,2}\d[A-Z\d]? \d[A-Z]{2}\b/, "a postcode"],
  [/\b(?:my|our) (?:full |real |legal )?name(?:'s| is)\b/i, "a personal fact (a name)"],
  [
    /\b(?:i|we) (?:live|lives|am living|reside|stay) (?:at|in|on|near)\b|\b(?:i'm|i am) (?:living|staying) (?:at|in)\b/i,
    "a personal fact (where someone lives)",
  ],
  [
    /\b(?:my|our) (?:home |work |office |mailing |email |e-mail )?(?:address|phone|phone number|number|mobile|cell|email|e-mail|birthday|date of birth|dob|ssn|social security|passport|driver'?s licen[cs]e|bank|bank account|account number|salary|diagnosis|medical|health condition)\b/i,
    "a personal fact",
  ],
  [
    /\b(?:my|our) (?:wife|husband|partner|son|daughter|kids?|children|mother|father|mom|mum|dad|brother|sister|boss|doctor)(?:'s)? (?:name|is|was|lives|works)\b/i,
    "a personal fact (a relative)",
  ],
  [
    /\b(?:i was born|i'm \d{1,3} years old|i am \d{1,3} years old|call me at|text me at|reach me at|email me at)\b/i,
    "a personal fact",
  ],
  [/\b\d{3}-\d{2}-\d{4}\b/, "an identity number"],
];

const INJECTION_RULES: readonly Rule[] = [
  [
    /\b(?:ignore|disregard|forget|override|overrule|bypass|discard|abandon)\b(?: [\w'-]+){0,5} (?:instructions?|rules?|prompts?|guidelines?|directives?|constraints?|polic(?:y|ies)|guardrails?|restrictions?|training|programming|safety)\b/i,
    "an instruction to drop an agent's rules",
  ],
  [/\b(?:override|overrule)\b/i, "an instruction to override something"],
  [
    /\byou are now\b|\byou're now\b|\bfrom now on,? you\b|\byou will now\b|\byou must now\b/i,
    "an instruction to become someone else",
  ],
  [/\bsystem (?:prompt|message|instructions?)\b|\bdeveloper (?:mode|message)\b/i, "a reference to the system prompt"],
  [
    /\b(?:new|updated|revised|real|actual|hidden|secret) instructions?\s*:|\binstructions? (?:follow|below)\s*:/i,
    "new instructions",
  ],
  [
    /<\|[a-z_]+\|>|\[\/?INST\]|<<\/?SYS>>|<\/?(?:system|assistant|user)>|#{1,6} ?(?:system|instructions?)\b|\b(?:system|assistant) ?:/i,
    "chat-format control text",
  ],
  [
    /\b(?:pretend|imagine) (?:to be|you are|you're|that you)\b|\brole-?play(?:ing)? as\b|\bact as (?:an? (?:unrestricted|unfiltered|evil|uncensored)|if you (?:have|had) no)\b|\bjailbr(?:eak|oken)\b|\bdo anything now\b|\b(?:unrestricted|unfiltered|uncensored) (?:mode|ai|assistant|agent|model)\b|\bno (?:filters|guardrails)\b/i,
    "a role-play jailbreak",
  ],
  [/\bDAN\b/, "a role-play jailbreak"],
  [
    /\b(?:other|all|any|every|fellow)(?: other)? (?:ai|a\.i\.|agents?|assistants?|bots?|ai models?|llms?|language models?)\b|\bif you are an? (?:ai|agent|assistant|bot|model|llm|language model)\b|\b(?:whoever|anyone|anybody) (?:reading|who reads|that reads) this\b|\bnote to (?:ai|agents?|assistants?|bots?)\b/i,
    "text addressed to other agents",
  ],
  [
    /(?<!\b(?:never|not|don't|do not) )\b(?:reveal|print|repeat|leak|output|dump|disclose)\b(?: [\w'-]+){0,2} (?:your|its|the agent's) (?:system prompt|prompt|instructions|secrets?|keys?|memory|configuration|context)\b/i,
    "an instruction to reveal an agent's context",
  ],
  [
    /\b(?:do not|don't|never) (?:tell|inform|mention (?:this )?to|let) (?:the|your) (?:user|owner|human|people)\b|\bwithout (?:telling|informing) (?:the|your) (?:user|owner)\b/i,
    "an instruction to hide from the owner",
  ],
];

/** Common top-level domains, for a domain written with "dot" in words ("evil dot com"). */
const SPELLED_TLDS =
  "com|net|org|io|co|app|dev|ai|xyz|info|biz|me|link|site|online|shop|store|example|top|club|ru|cn|uk|de|fr|us|eu";

const LINK_RULES: readonly Rule[] = [
  [/\b[a-z][a-z0-9+.-]{1,20}:\/\//i, "a link"],
  [/\b(?:mailto|tel|sms|ethereum|bitcoin|solana|javascript|data|ipfs|magnet):/i, "a link"],
  [/\bwww\d{0,3}\./i, "a link"],
  // A domain name: labels joined by dots (also "[.]" and "(.)"), ending in letters: "evil.example", "evil[.]example/pay".
  [
    /[\p{L}\p{N}-]+(?:\.|\[\.\]|\(\.\)| ?\[dot\] ?| ?\(dot\) ?)\p{L}[\p{L}\p{N}-]+(?:(?:\.|\[\.\]|\(\.\))[\p{L}\p{N}-]+)*(?:\/|\b)/iu,
    "a link (a domain name)",
  ],
  [new RegExp(`\\b[\\p{L}\\p{N}-]{2,} dot (?:${SPELLED_TLDS})\\b`, "iu"), "a link (a domain name)"],
  [/\b\d{1,3}(?:\.\d{1,3}){3}\b/, "a link (an IP address)"],
];

/**
 * What would let a lesson steer an agent of someone else: an instruction
 * about payments (moving money is the owner's), about approvals (an approval
 * is the owner's answer to the one message that states the action), or about
 * who the owner is (an agent knows its owner by inbox, never by what a
 * lesson says). Lessons about how to help people need none of these words;
 * the rules refuse the words, not only the imperative, and accept refusing
 * "mention the refund policy before booking".
 */
const MONEY =
  "money|funds|cash|eth|ether|crypto\\w*|tokens?|coins?|balance|usdc|usdt|btc|bitcoin|stablecoins?|payments?";
const PEOPLE =
  "any|every|anyone|anybody|whoever|someone|somebody|members?|users?|people|persons?|the (?:member|user|person)s?";
const AUTHORITY = "owners?|admins?|administrators?|operators?|boss|master|creator|principal|superusers?";

const STEERING_RULES: readonly Rule[] = [
  [
    new RegExp(
      `\\b(?:pay|pays|paying|paid|payments?|payouts?|payee|payable|escrow|wallets?|funding|money|deposits?|deposited|depositing|withdraw\\w*|wire|wiring|crypto\\w*|bitcoin|btc|ethereum|ether|eth|usdc|usdt|stablecoins?|tokens?|invoices?|venmo|paypal|zelle|cashapp|gift ?cards?|bank accounts?|transactions?|spending (?:limits?|caps?)|(?:money|wire|bank|crypto|token) transfers?|(?:transfer|send|give|move)\\w* (?:\\w+ ){0,3}(?:${MONEY}))\\b`,
      "i",
    ),
    "an instruction about payments",
  ],
  [
    /\b(?:approv\w*|authori[sz]\w*|permissions?|consent\w*|allow ?list\w*|white ?list\w*|auto-?accept\w*|trust levels?|without (?:asking|checking|confirming|confirmation|a confirmation|telling|waiting|review|verifying)|(?:grant|give)s? (?:\w+ ){0,2}(?:access|rights|control)|(?:accept|confirm)s? (?:all|any|every) (?:requests?|offers?|transfers?))\b/i,
    "an instruction about approvals",
  ],
  [
    new RegExp(
      `\\b(?:(?:your|the|its|their|our|my|an?|new|real|true|actual|rightful|legal|sole|only) (?:${AUTHORITY})|owner's|ownership|owned by|(?:pool|system|bot|agent) operators?|sudo|in charge|on behalf of|speaks? for|(?:code|secret|magic|safe|pass) ?words?|impersonat\\w*|as (?:\\w+ )?(?:${AUTHORITY}))\\b`,
      "i",
    ),
    "an instruction about who the owner is",
  ],
  [
    new RegExp(
      `\\b(?:treat|regard|consider|recogni[sz]e|accept|obey|trust) (?:${PEOPLE})\\b(?: [\\w'-]+){0,10} as\\b`,
      "i",
    ),
    "an instruction about who the owner is",
  ],
];

const BIP39 = new Set(BIP39_WORDS);
/** A seed phrase: 12 or more recovery-phrase words in a row (ordinary sentences have "the", "a", "to"...). */
function mnemonicIn(text: string): boolean {
  let run = 0;
  for (const word of text.toLowerCase().split(/[^a-z]+/)) {
    if (word === "") continue;
    run = BIP39.has(word) ? run + 1 : 0;
    if (run >= 12) return true;
  }
  return false;
}

function luhn(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  }
  return sum % 10 === 0;
}

const DATE_SHAPES = [/^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}$/, /^\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}$/];

/**
 * Numbers that name a person: a card number (13 to 19 digits passing the
 * Luhn check), a phone number (7 to 15 digits in any of the usual shapes:
 * "+1 (555) 123-4567", "0044 20 7946 0958", "555.123.4567"), or an account
 * number (longer). Dates are not numbers of anyone.
 */
function numberIn(text: string): string | undefined {
  for (const m of text.matchAll(/(?:\+\(?|\(|\b)\d[\d ().\-/]{5,}\d\b/g)) {
    const run = m[0].trim();
    if (DATE_SHAPES.some((d) => d.test(run))) continue;
    const digits = run.replace(/\D/g, "");
    if (digits.length >= 13 && digits.length <= 19 && luhn(digits)) return "a card number";
    if (digits.length >= 7 && digits.length <= 15) return "a phone number";
    if (digits.length > 15) return "an account number";
  }
  return undefined;
}

function firstRule(rules: readonly Rule[], text: string): string | undefined {
  return rules.find(([pattern]) => pattern.test(text))?.[1];
}

/** Digits of any script read as the digits they are ("٥٥٥" is 555): a decimal digit's value is its place in its run of ten. */
function asciiDigits(text: string): string {
  return text.replace(/\p{Nd}/gu, (d) => {
    if (d >= "0" && d <= "9") return d;
    const cp = d.codePointAt(0);
    if (cp === undefined) return d; // never: the pattern matched one digit
    let value = 0;
    while (value < 9 && /\p{Nd}/u.test(String.fromCodePoint(cp - value - 1))) value++;
    return String(value % 10);
  });
}

/**
 * What the rules read: the text as written (normalized, digits of any script
 * as ASCII digits), and its confusable skeleton (of the text as sent and as
 * normalized) in lower case without
 * combining marks (so "ïgnore" and "іgnore" with a Cyrillic і read
 * "ignore"), with "rn" read back as "m" (the skeleton makes every "m" "rn");
 * and that skeleton once more with "l" read as "i", since the skeleton makes
 * "I" and "|" an "l", and a 0 or 1 touching a letter read as "o" or "i"
 * ("instructi0ns"). A rule that matches any view refuses.
 */
export function patternScanViews(text: string): string[] {
  const written = asciiDigits(normalizePatternText(text));
  // TR 39 starts from NFD, not NFKC (which makes the look-alike "ϲ" a "ς"): the skeleton of both.
  const raw = asciiDigits(withoutInvisibles(text).normalize("NFD"));
  // Lower case first ("І" is "і", then "i") and skeleton first ("М" is "M", then "m"): each catches what the other misses.
  const skeletons = [written, raw].flatMap((t) => [folded(t.toLowerCase()), folded(folded(t))]);
  const letters = skeletons.map((v) =>
    v.replace(/l/g, "i").replace(/(?<=\p{L})[01]|[01](?=\p{L})/gu, (d) => (d === "0" ? "o" : "i")),
  );
  return [...new Set([written, ...skeletons, ...letters])];
}

/** The confusable skeleton, lower-cased, without combining marks, "rn" read as "m"; ASCII digits stay digits ("1.05" is a number, not "l.O5"). */
function folded(text: string): string {
  return text
    .replace(/[^0-9]+/g, (run) => confusableSkeleton(run))
    .replace(/\p{M}/gu, "")
    .toLowerCase()
    .replace(/rn/g, "m")
    .replace(/\s+/g, " ");
}

/** The first rule any view matches. */
function firstIn(views: readonly string[], find: (view: string) => string | undefined): string | undefined {
  for (const v of views) {
    const found = find(v);
    if (found) return found;
  }
  return undefined;
}

/**
 * Scans one lesson (already free of patternTextProblem): secrets first, then
 * personal data, links, injection, and instructions that would steer an
 * agent (payments, approvals, who the owner is).
 */
export function scanPattern(text: string): PatternScan {
  const views = patternScanViews(text);
  const secret = firstIn(views, (t) => firstRule(SECRET_RULES, t) ?? (mnemonicIn(t) ? "a recovery phrase" : undefined));
  if (secret) return { ok: false, reason: "secret", detail: secret };
  const personal = firstIn(views, (t) => firstRule(PERSONAL_RULES, t) ?? numberIn(t));
  if (personal) return { ok: false, reason: "personal_data", detail: personal };
  const link = firstIn(views, (t) => firstRule(LINK_RULES, t));
  if (link) return { ok: false, reason: "link", detail: link };
  const injection = firstIn(views, (t) => firstRule(INJECTION_RULES, t));
  if (injection) return { ok: false, reason: "injection", detail: injection };
  const steering = firstIn(views, (t) => firstRule(STEERING_RULES, t));
  if (steering) return { ok: false, reason: "steering", detail: steering };
  return { ok: true };
}

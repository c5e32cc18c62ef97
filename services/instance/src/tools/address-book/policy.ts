// What its owner's address book holds and takes (docs/address-book.md), pure:
//   Contact          one name's wallet, number or mailbox, saved by the owner
//   checkContact     a contact as the store takes it: a name cleaned as every
//                    shown name is (kit cleanDisplayName, 1 to 40
//                    characters), a value read as the gate reads recipients
//                    (trust/values.ts normalizeTarget); INVALID_ARGUMENT
//                    naming the field otherwise
//   saveRequestsIn   the save requests written in a text: only a value
//                    written in the request itself, never one in a link, a
//                    quote, a question, or after "don't" or "never"
//   saveStatement    what the owner's question shows back
// The store is store.ts; the owner's signed calls service.ts; the question in
// the conversation agent/conversation/address-book-requests.ts.

import { cleanDisplayName, invalidArgument } from "@convos-pool/kit/content";
import { normalizeTarget, type TargetKind } from "../trust/values.js";

/** How a contact came in: the owner's yes to its question in the conversation, or the owner's signed call. */
export type ContactVia = "chat" | "signed";

export interface Contact {
  /** "ab_" and 12 hex characters. */
  readonly id: string;
  /** As shown: cleaned (kit cleanDisplayName), 1 to 40 characters; compared ignoring case. */
  readonly name: string;
  readonly kind: TargetKind;
  /** Normalized as the gate compares it: a checksummed address, an E.164 number, a lower-case mail address. */
  readonly value: string;
  /** ISO 8601. */
  readonly savedAt: string;
  readonly via: ContactVia;
}

/** The most contacts an address book holds. */
export const MAX_CONTACTS = 500;
export const CONTACT_ID_PATTERN = /^ab_[0-9a-f]{12}$/;
export const CONTACT_KINDS: readonly TargetKind[] = ["address", "phone", "mailbox"];

/** How a kind is said to the owner ("Ana, wallet 0x…"); the CLI's words too. */
export const KIND_WORDS: Readonly<Record<TargetKind, string>> = { address: "wallet", phone: "number", mailbox: "mail" };

/** A name as contacts are compared: cleaned as shown, ignoring case. */
export const nameKey = (name: string) => cleanDisplayName(name).toLowerCase();

/**
 * `input` as a contact the store takes, or INVALID_ARGUMENT naming the field
 * (`prefix` before it: "contact." for a signed call's sealed contact).
 */
export function checkContact(
  input: { name?: unknown; kind?: unknown; value?: unknown },
  prefix = "",
): { name: string; kind: TargetKind; value: string } {
  const kind = input.kind;
  if (typeof kind !== "string" || !CONTACT_KINDS.includes(kind as TargetKind))
    throw invalidArgument(`${prefix}kind`, `must be one of ${CONTACT_KINDS.join(", ")}`);
  if (typeof input.name !== "string") throw invalidArgument(`${prefix}name`, "required: a name");
  const name = cleanDisplayName(input.name);
  if (name === "") throw invalidArgument(`${prefix}name`, "required: 1 to 40 characters shown");
  if (typeof input.value !== "string") throw invalidArgument(`${prefix}value`, "required");
  const value = normalizeTarget(kind as TargetKind, input.value);
  if (value === undefined) throw invalidArgument(`${prefix}value`, `is not ${VALUE_WORDS[kind as TargetKind]}`);
  return { name, kind: kind as TargetKind, value };
}

const VALUE_WORDS: Readonly<Record<TargetKind, string>> = {
  address: 'a wallet address ("0x" and 40 hex digits)',
  phone: 'a phone number with its country code ("+" and 7 to 15 digits)',
  mailbox: "a mail address",
};

// ---- save requests in the owner's words ----

/** A save request as written: the name (cleaned), the kind its word names, the value normalized. */
export interface SaveRequest {
  name: string;
  kind: TargetKind;
  value: string;
}

/** At most this many save requests are read from one message (each is a question to the owner). */
export const MAX_SAVE_REQUESTS = 5;

/** Words before the verb that keep it a request ("please save …", "ok, add …"). */
const LEAD = String.raw`(?:(?:please|pls|ok|okay|also|and|now|then|oh|hey)\b,?\s+)*`;
const VERB = "(?:save|add|store|put|keep)";
/** A name of up to four words, then its possessive: "Ana's", "Dr. Lee’s", "James'". "my"/"our"/"the" before it are not part of it. */
const NAME = String.raw`(?:(?:my|our|the)\s+)?(?<name>[\p{L}\p{N}][\p{L}\p{M}\p{N}.\-]*(?:\s+[\p{L}\p{N}][\p{L}\p{M}\p{N}.\-]*){0,3}?)(?:['’]s|(?<=s)['’])`;
const KIND = String.raw`(?<kind>wallet(?:\s+address)?|(?:eth(?:ereum)?\s+|crypto\s+)?address|(?:phone|mobile|cell)(?:\s+number)?|number|e-?mail(?:\s+address)?|mail(?:\s+address)?|mailbox)`;
/** The value whole, as each kind is written (gate/origins.ts reads the same); a mail address with no slash (a link) in it. */
const VALUE = String.raw`(?<value>0x[0-9a-fA-F]{40}|\+\d(?:[ .\-()]{0,2}\d)*|[^\s<>()[\]{}",;:/@'\x60]+@[^\s<>()[\]{}",;:/@'\x60]+)`;
const SEPARATOR = String.raw`(?:\s*[:=,]\s*|\s+[-–—]\s+|\s+(?:as|is|to)\s+|\s+)`;
const BOOK = String.raw`(?:\s+(?:to|in|into|on)\s+(?:my|your|our|the)\s+(?:address[- ]?book|contacts?(?:\s+list)?))?`;
const THANKS = String.raw`(?:,?\s+(?:please|pls|thanks|thank\s+you))?`;

/** "save Ana's wallet as 0x…", "add my accountant's mail acct@example.com to my address book". */
const NAME_FIRST = new RegExp(`^${LEAD}${VERB}\\s+${NAME}\\s+${KIND}${SEPARATOR}${VALUE}${BOOK}${THANKS}$`, "iu");
/** "save 0x… as Ana's wallet". */
const VALUE_FIRST = new RegExp(`^${LEAD}${VERB}\\s+${VALUE}\\s+as\\s+${NAME}\\s+${KIND}${BOOK}${THANKS}$`, "iu");

/** Words that read as a name before "'s" but name no one. */
const NOT_NAMES = new Set(["it", "that", "this", "there", "here", "he", "she", "who", "what", "let", "one"]);

/** Quoted words are someone else's: straight and curly double quotes, guillemets, code. */
const QUOTED = /"[^"\n]*"|“[^”\n]*”|„[^“”\n]*[“”]|«[^»\n]*»|`[^`\n]*`/g;
const QUOTE_MARKS = /["“”„«»`]/;

function kindOf(word: string): TargetKind {
  const w = word.toLowerCase();
  if (/^(?:wallet|eth|ethereum|crypto|address)/.test(w)) return "address";
  if (/^(?:phone|mobile|cell|number)/.test(w)) return "phone";
  return "mailbox";
}

/**
 * The save requests written in `text` (the owner's message, without the
 * agent's name it was addressed with), each read from a sentence of its own
 * that is nothing but the request: a verb (save, add, store, put, keep; after
 * "please", "ok", "also" at most), a name's possessive, a kind (wallet,
 * address, number, phone, mail, email), the value written whole, then at
 * most "to my address book" and a "please" or "thanks". So a value in a
 * link, a quote (a quoted line, words in quotes or code), a question, after
 * "don't" or "never", or anywhere else than the request, is none; nor is a
 * value of another kind than its word (a number for a wallet). Pure.
 */
export function saveRequestsIn(text: string): SaveRequest[] {
  const out: SaveRequest[] = [];
  for (const rawLine of text.split(/\r?\n/)) {
    // A quoted line ("> …", as mail and markdown quote) is someone else's words.
    if (rawLine.trimStart().startsWith(">")) continue;
    let line = rawLine.replace(QUOTED, " \u0000 ");
    // An opening quote left unclosed: what follows it is quoted.
    const open = line.search(QUOTE_MARKS);
    if (open >= 0) line = line.slice(0, open);
    for (const sentence of line.split(/(?<=[.!?;])\s+/)) {
      const s = sentence.trim();
      if (s === "" || s.endsWith("?") || s.includes("\u0000")) continue;
      const request = readRequest(s.replace(/[.!;]+$/u, ""));
      if (!request) continue;
      if (
        out.some(
          (r) => r.kind === request.kind && r.value === request.value && nameKey(r.name) === nameKey(request.name),
        )
      )
        continue;
      out.push(request);
      if (out.length === MAX_SAVE_REQUESTS) return out;
    }
  }
  return out;
}

function readRequest(sentence: string): SaveRequest | undefined {
  const m = NAME_FIRST.exec(sentence) ?? VALUE_FIRST.exec(sentence);
  const { name: rawName = "", kind: word = "", value: rawValue = "" } = m?.groups ?? {};
  if (!m || NOT_NAMES.has(rawName.toLowerCase())) return undefined;
  const name = cleanDisplayName(rawName);
  const kind = kindOf(word);
  const value = normalizeTarget(kind, rawValue);
  if (name === "" || value === undefined) return undefined;
  return { name, kind, value };
}

/** What its question shows back: exactly what would be saved ("Save to your address book: Ana, wallet 0x…"), and the value it replaces. */
export function saveStatement(request: SaveRequest, replacing?: Contact): string {
  const instead = replacing && replacing.value !== request.value ? ` (instead of ${replacing.value})` : "";
  return `Save to your address book: ${describeContact(request)}${instead}`;
}

/** "Ana, wallet 0x…". */
export function describeContact(c: { name: string; kind: TargetKind; value: string }): string {
  return `${c.name}, ${KIND_WORDS[c.kind]} ${c.value}`;
}

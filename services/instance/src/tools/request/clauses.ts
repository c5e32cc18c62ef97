// Which recipient goes with which amount, and how many times (docs/trust.md,
// "An act carries out a request"): the parts of the request that may ask,
// read into clauses. A clause is one act's verb and what it reaches (to the
// next clause's verb after a comma or an "and", or the end of its sentence),
// with its recipients, each with the amount written beside it and the count
// written after it:
//
//   pay A 0.01 ETH and B 0.5 ETH       pay: A 0.01, B 0.5 (never A 0.5)
//   send 0.01 ETH to A                 pay: A 0.01
//   Ana 0.01 ETH please                pay: Ana 0.01 (a sentence of payments alone)
//   pay A 0.01 ETH twice               pay: A 0.01, two times
//   text Ana and Mom that …            text: Ana, Mom (never a number in "…")
//   pay Ana 0.01 ETH and text her      pay: Ana 0.01; text: her, who is Ana
//   mail me / mándame un correo        mail: the owner
//
// bindActs (binding.ts) holds each chosen act to one clause's recipient and
// amount; the offline grammar (grammar.ts) chooses what the clauses hold. The
// verbs and the words around recipients are words.ts's, in English,
// Spanish, French and German. Pure.

import { findTargets, type Found } from "../trust/values.js";
import { askedAmounts, type RequestText } from "./read.js";
import { sentences } from "./markers.js";
import {
  beforeVerb,
  recipientsAt,
  type ActKind,
  type Clause,
  type Item,
  type Span,
  type Written,
} from "./recipients.js";
import {
  countAfter,
  IS_TO_ME,
  IS_TO_THEM,
  MASK,
  paymentsAlone,
  paymentsOf,
  type Said,
  type Segment,
} from "./payments.js";
import {
  ACT_VERBS,
  anyWord,
  MAIL_NOUNS,
  MAIL_VERBS,
  NOUN_ARTICLES,
  nounPhrase,
  PAY_VERBS,
  SEND_VERBS,
  TEXT_NOUNS,
  TEXT_VERBS,
} from "./words.js";
import { AND, COURTESY } from "./words-recipients.js";

export type { ActKind, Clause, Item, Span };

const re = (source: string, flags = "iu") => new RegExp(source, flags);
const VERB = re(anyWord(...ACT_VERBS), "giu");
const IS_PAY = re(`^${anyWord(PAY_VERBS)}$`);
const IS_TEXT = re(`^${anyWord(TEXT_VERBS)}$`);
const IS_MAIL = re(`^${anyWord(MAIL_VERBS)}$`);
const IS_SEND = re(`^${anyWord(SEND_VERBS)}$`);
const MAIL_NOUN = re(nounPhrase(MAIL_NOUNS));
const TEXT_NOUN = re(nounPhrase(TEXT_NOUNS));
/** What parts one clause from the next: a comma, a semicolon, "and", "then" (and their kin). */
const CLAUSE_JOIN = re(`[,;]\\s*(?:${anyWord(AND)}\\s*)?|\\s${anyWord(AND)}\\s`, "giu");
/** The request's clauses, in order, read in its parts that may ask. */
export function readClauses(r: RequestText): Clause[] {
  const text = masked(r);
  const amounts = askedAmounts(r);
  const out: Clause[] = [];
  const said: Said = { recipients: [], pairs: [] };
  for (const [start, end] of pieces(text)) {
    const segments = segmentsOf(text, start, end);
    if (segments.length === 0) {
      const alone = paymentsAlone(text, start, end, amounts, said);
      if (alone) out.push(alone);
      continue;
    }
    for (const seg of segments) {
      const clause = clauseOf(text, seg, amounts, said);
      if (clause) out.push(clause);
    }
  }
  return out;
}

/** The request's text with its parts that ask for nothing masked, each character kept in place. */
function masked(r: RequestText): string {
  const chars = r.text.split("");
  for (const p of r.notAsked) for (let i = p.start; i < p.end; i++) chars[i] = MASK;
  return chars.join("");
}

/** Sentences, cut again where a masked part stands: no clause reaches across what asks nothing. */
function pieces(text: string): [number, number][] {
  const out: [number, number][] = [];
  for (const [start, end] of sentences(text))
    for (const m of text.slice(start, end).matchAll(/[^\0]+/g))
      if (/[\p{L}\p{N}]/u.test(m[0])) out.push([start + m.index, start + m.index + m[0].length]);
  return out;
}

/**
 * A piece cut at each verb that a comma, a semicolon or an "and" leads to:
 * "pay Ana 0.01 ETH and text her" is two; "send Ana a message" and "schick
 * Greta eine SMS" are one (a noun, not a clause). Empty when no verb.
 */
function segmentsOf(text: string, start: number, end: number): Segment[] {
  const verbs = [...text.slice(start, end).matchAll(VERB)].map((m) => ({
    start: start + m.index,
    end: start + m.index + m[0].length,
    word: m[0],
  }));
  const out: Segment[] = [];
  for (const v of verbs) {
    const last = out.at(-1);
    if (!last) {
      out.push({ start, end, verb: v });
      continue;
    }
    const between = text.slice(last.verb.end, v.start);
    const joins = [...between.matchAll(CLAUSE_JOIN)];
    const join = joins.at(-1);
    if (!join) continue;
    const cut = last.verb.end + join.index;
    last.end = cut;
    out.push({ start: cut, end, verb: v });
  }
  return out;
}

/**
 * The act a clause's verb asks for: a payment, or a text or a mail by the
 * verb, or by the noun a sending verb takes ("send a text", "manda un
 * correo", "let Bob know by text"); none for a verb that needs a noun and
 * has none.
 */
function actOf(text: string, seg: Segment): ActKind | undefined {
  const word = seg.verb.word;
  const clause = text.slice(seg.start, seg.end);
  if (IS_MAIL.test(word)) return "mail";
  if (IS_SEND.test(word) || IS_TEXT.test(word)) {
    if (MAIL_NOUN.test(clause)) return "mail";
    if (TEXT_NOUN.test(clause) || IS_TEXT.test(word)) return "text";
  }
  if (IS_PAY.test(word)) return "pay";
  return undefined;
}

/**
 * The clause of a verb. A payment without an amount that sends something
 * to a mail address written out is a mail ("transfère la confirmation à
 * bureau@example.net", "send the receipts to ana@example.com").
 */
function clauseOf(text: string, seg: Segment, amounts: Found<bigint>[], said: Said): Clause | undefined {
  const act = actOf(text, seg);
  if (!act) return undefined;
  if (act !== "pay") return { act, start: seg.start, end: seg.end, items: recipientsOf(text, seg, said) };
  const items = paymentsOf(text, seg, amounts, said);
  if (items.length > 0) return { act, start: seg.start, end: seg.end, items };
  const mailed = recipientsAt(text, seg.verb.end, seg.end, undefined, { list: true, objectTo: true }).filter(
    (w) => !w.self && findTargets("mailbox", text.slice(w.to.start, w.to.end)).length === 1,
  );
  if (mailed.length > 0)
    return { act: "mail", start: seg.start, end: seg.end, items: mailed.map((w) => ({ ...w, times: 1 })) };
  return { act, start: seg.start, end: seg.end, items };
}

// ---- texts and mails ----

/**
 * The recipients of a text or a mail: after its verb, up to where its words
 * start ("text Ana and Mom that …", "mail my accountant the receipts"), or
 * after the thing it sends and a "to" ("send a text to …", "forward the
 * confirmation to …", "envoie un sms à …"); before its verb when the verb
 * comes last ("Mama eine SMS schicken"); the owner for "me" ("mándame");
 * the last recipient named for a pronoun ("text her", "escríbele").
 */
function recipientsOf(text: string, seg: Segment, said: Said): Item[] {
  const verb = seg.verb;
  const pronounOf = said.recipients.at(-1);
  let found: Written[] = IS_TO_ME.test(verb.word) ? [{ to: verb, self: true }] : [];
  if (found.length === 0) found = recipientsAt(text, verb.end, seg.end, pronounOf, { list: true, objectTo: true });
  if (found.length === 0 && (verbLastOfText(text, seg) || ARTICLE_BEFORE.test(text.slice(seg.start, verb.start))))
    found = beforeVerb(text, seg.start, verb.start, pronounOf);
  if (found.length === 0 && IS_TO_THEM.test(verb.word) && pronounOf)
    found = [{ to: verb, ref: pronounOf, self: false }];
  const items = found.map((f) => ({ ...f, times: countAfter(text, f.to.end, seg.end) }));
  for (const i of items) if (!i.self) said.recipients.push(i.ref ?? i.to);
  return items;
}
/** An article right before the verb: it is the noun of the thing sent ("dem Vermieter eine E-Mail … schreiben"). */
const ARTICLE_BEFORE = re(`${anyWord(NOUN_ARTICLES)}\\s*$`);

/** A text's verb comes last when only its words follow it, or the verb after its noun ("Mama eine SMS schicken, dass …"). */
function verbLastOfText(text: string, seg: Segment): boolean {
  return seg.verb.start > seg.start && TEXT_AFTER_LAST_VERB.test(text.slice(seg.verb.end, seg.end));
}
const TEXT_AFTER_LAST_VERB = re(
  `^(?:[\\s.!?]|${anyWord(COURTESY, ...ACT_VERBS)})*(?:$|[,:\\0]|${anyWord(["dass", "que", "that"])})`,
);

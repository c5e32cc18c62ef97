// The parts of a person's phone data that tell it is theirs, and the parts an
// output says: what labels.ts compares (docs/connections.md, "Each person's
// data is theirs"). A whole title or note is not the unit: "ask about the
// chemo schedule" is caught in a reply that says only "chemo", and "3rd
// floor at St. Mary's" in one that says "St. Mary's". Pure.
//
// A text's words are read as Unicode segments them (any language; Chinese
// and Japanese by dictionary), then:
//  - a word alone is a part when it is distinctive: not a common or function
//    word (common-words.ts), and long enough to mean something (4 letters or
//    more, 2 in scripts written without spaces, 3 with a digit in it: "500mg";
//    a number of 4 digits or more that is no year);
//  - two or three words in a row (function words and words of one or two
//    letters left out) are a part when one of them is neither common nor a
//    short number ("3rd floor", "flight 1234"), and any such phrase of a
//    title (three words or fewer, no number: "team meeting", "lunch mom") is
//    one;
//  - a run of 7 digits or more (a phone number) is a part by its last 7;
//  - coordinates (a number under latitude or longitude) are one within 0.005.
// A single common word ("Lunch") is no part: it tells nothing of whose it is.

import { COMMON_WORDS, FUNCTION_WORDS } from "./common-words.js";

/** What of a payload's data its parts are made from: its texts, and its coordinates. */
export interface Sources {
  texts: readonly string[];
  coords: readonly number[];
}

/** The parts of one person's piece, or what an output says: word parts, phone numbers, coordinates. */
export interface Parts {
  /** Distinctive words and phrases of two or three words, each its words joined by one space. */
  words: ReadonlySet<string>;
  /** The last 7 digits of each phone number. */
  digits: readonly string[];
  coords: readonly number[];
}

const SEGMENTER = new Intl.Segmenter(undefined, { granularity: "word" });
/** Scripts written without spaces between words: a word of two signs is a word. */
const UNSPACED =
  /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}\p{Script=Thai}\p{Script=Lao}\p{Script=Khmer}\p{Script=Myanmar}]/u;
const YEAR = /^(19|20)\d\d$/;
/** A run of digits as phone numbers are written: "+1 (415) 555-0134". */
const DIGIT_RUN = /\+?\(?\d[\d\s().\-/]{5,}\d/g;
const ISO_DATE = /\d{4}-\d{2}-\d{2}/;
/** A decimal as coordinates are written. */
const DECIMAL = /\d{1,3}\.\d{2,}/g;
/** How near a number must be to a coordinate to repeat it (about half a kilometre). */
const NEAR = 0.005;
const COORD_KEY = /^(lat|latitude|lon|lng|long|longitude)$/i;
/** Bounds, so that no payload makes the check slow or its file large. */
export const MAX_TEXTS = 500;
export const MAX_TEXT_CHARS = 8_000;
export const MAX_COORDS = 100;

/**
 * A text's words as the check compares them: its Unicode compatibility form,
 * lower-cased, without invisible characters, a JSON escape read as what it
 * stands for (a tool call's arguments are screened as JSON), a possessive's
 * "'s" and apostrophes dropped, thousands separators taken out of numbers.
 */
export function wordsOf(text: string): string[] {
  const plain = text
    .replace(/\\u([0-9a-fA-F]{4})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)))
    .replace(/\\[nrtbf"\\/]/g, " ")
    .normalize("NFKC")
    .replace(/\p{Cf}/gu, "")
    .toLowerCase();
  const out: string[] = [];
  for (const s of SEGMENTER.segment(plain)) {
    if (!s.isWordLike) continue;
    let w = s.segment.replace(/['’]s$/u, "").replace(/['’]/gu, "");
    if (/^\d{1,3}(,\d{3})+$/.test(w)) w = w.replace(/,/g, "");
    if (w) out.push(w);
  }
  return out;
}

/** Words that say nothing alone and are left out of phrases: function words, and single letters. */
const filler = (w: string) => FUNCTION_WORDS.has(w) || (!/\p{N}/u.test(w) && !UNSPACED.test(w) && [...w].length < 2);

/** Whether `w` is a common word, in its base form or an inflection of one ("meetings", "booked", "running"). */
export function isCommon(w: string): boolean {
  if (COMMON_WORDS.has(w) || FUNCTION_WORDS.has(w)) return true;
  if (w.length < 5) return false;
  const bases = [
    w.endsWith("ies") ? `${w.slice(0, -3)}y` : "",
    w.endsWith("es") ? w.slice(0, -2) : "",
    w.endsWith("s") ? w.slice(0, -1) : "",
    w.endsWith("ed") ? w.slice(0, -2) : "",
    w.endsWith("ed") ? w.slice(0, -1) : "",
    w.endsWith("ing") ? w.slice(0, -3) : "",
    w.endsWith("ing") ? `${w.slice(0, -3)}e` : "",
    w.endsWith("er") ? w.slice(0, -2) : "",
    w.endsWith("ly") ? w.slice(0, -2) : "",
  ].filter((b) => b.length >= 3);
  // "running", "stopped": the doubled consonant undone.
  for (const b of [...bases]) if (/(.)\1$/.test(b)) bases.push(b.slice(0, -1));
  return bases.some((b) => COMMON_WORDS.has(b));
}

/** A number alone. */
const bare = (w: string) => /^[\d.,]+$/.test(w);

/** Whether `w` alone tells whose it is. */
function distinctive(w: string): boolean {
  if (isCommon(w)) return false;
  if (bare(w)) {
    const digits = w.replace(/\D/g, "");
    return digits.length >= 4 && !YEAR.test(digits);
  }
  const n = [...w].length;
  if (UNSPACED.test(w)) return n >= 2;
  return n >= 4 || (n >= 3 && /\p{N}/u.test(w) && /\p{L}/u.test(w));
}

/** Whether `w` makes a phrase it is in a part: not a common word, nor a number of one digit ("5 events"). */
const telling = (w: string) => distinctive(w) || (!isCommon(w) && (!bare(w) || w.replace(/\D/g, "").length >= 2));

/** The last 7 digits of each phone number in `text`; not dates. */
function phoneDigits(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(DIGIT_RUN)) {
    if (ISO_DATE.test(m[0])) continue;
    const digits = m[0].replace(/\D/g, "");
    if (digits.length >= 7) out.push(digits.slice(-7));
  }
  return out;
}

/** The parts of a person's data: what an output must not repeat to others. */
export function partsOf(sources: Sources): Parts {
  const words = new Set<string>();
  const digits = new Set<string>();
  for (const text of sources.texts) {
    for (const d of phoneDigits(text)) digits.add(d);
    const seq = wordsOf(text).filter((w) => !filler(w));
    for (const w of seq) if (distinctive(w)) words.add(w);
    // A title of common words ("Dentist appointment") is a part as a whole; a count ("5 events this week") is not.
    const title = seq.length <= 3 && !seq.some(bare);
    for (let n = 2; n <= 3; n++)
      for (let i = 0; i + n <= seq.length; i++) {
        const gram = seq.slice(i, i + n);
        if (title || gram.some(telling)) words.add(gram.join(" "));
      }
  }
  return { words, digits: [...digits], coords: [...new Set(sources.coords)] };
}

/** What `text` says, as parts are compared: every word and every phrase of two or three, its phone numbers and decimals. */
export function saidIn(text: string): Parts {
  const seq = wordsOf(text).filter((w) => !filler(w));
  const words = new Set<string>();
  for (let n = 1; n <= 3; n++) for (let i = 0; i + n <= seq.length; i++) words.add(seq.slice(i, i + n).join(" "));
  const digits = [...text.matchAll(DIGIT_RUN)].map((m) => m[0].replace(/\D/g, ""));
  const coords = [...text.matchAll(DECIMAL)].map((m) => Number(m[0]));
  return { words, digits, coords };
}

/** Whether `said` repeats a part of `parts` that `own` (what was said here already) does not. */
export function repeats(parts: Parts, said: Parts, own: Parts): boolean {
  for (const w of parts.words) if (said.words.has(w) && !own.words.has(w)) return true;
  const hasDigits = (p: Parts, d: string) => p.digits.some((x) => x.includes(d));
  for (const d of parts.digits) if (hasDigits(said, d) && !hasDigits(own, d)) return true;
  const near = (p: Parts, c: number) => p.coords.some((x) => Math.abs(x - Math.abs(c)) <= NEAR);
  for (const c of parts.coords) if (near(said, c) && !near(own, c)) return true;
  return false;
}

/**
 * What of a payload's data its parts are made from: every string (times,
 * zones and ids aside: `plain`), and every number under a coordinate's key;
 * bounded.
 */
export function sourcesOf(data: unknown, plain: (s: string) => boolean): Sources {
  const texts: string[] = [];
  const coords: number[] = [];
  let chars = 0;
  const walk = (v: unknown, depth: number, key?: string) => {
    if (depth > 8 || texts.length >= MAX_TEXTS || chars >= MAX_TEXT_CHARS) return;
    if (typeof v === "string") {
      const t = v.trim().slice(0, MAX_TEXT_CHARS - chars);
      if (t && !plain(t)) {
        texts.push(t);
        chars += t.length;
      }
    } else if (typeof v === "number" && key && COORD_KEY.test(key) && Number.isFinite(v)) {
      if (coords.length < MAX_COORDS) coords.push(Math.abs(v));
    } else if (Array.isArray(v)) for (const x of v) walk(x, depth + 1);
    else if (v && typeof v === "object") for (const [k, x] of Object.entries(v)) walk(x, depth + 1, k);
  };
  walk(data, 0);
  return { texts, coords };
}

// Look-alike templates, the pure part (docs/store.md, "Look-alike
// templates"): whether a template about to be in the store copies the name
// or the instructions of a popular template of another creator, and what its
// creator is told. No I/O here: hold.ts reads the popular templates and what
// operators already let through, decides with findLookAlike, and writes the
// hold. Not a judge of intent: a match is held for an operator to look at,
// never refused.
import { confusableSkeleton, POOL_CURATOR } from "@convos-pool/kit/content";

/** Compared with the most used templates in the store of other creators: this many at most. */
export const POPULAR_COMPARED = 100;
/** "Popular": at least this many distinct owners in the store's 30-day window; fewer is no reputation to borrow. */
export const MIN_POPULAR_OWNERS = 10;
/** …and in the store this many days at least: a name people know is one they have known a while. */
export const MIN_POPULAR_DAYS = 7;
/** Name keys may differ by one edit per this many characters of the longer key… */
export const NAME_CHARS_PER_EDIT = 8;
/** …and by at most this many. */
export const MAX_NAME_EDITS = 2;
/** Instructions are compared as sets of runs of this many words. */
export const SHINGLE_WORDS = 5;
/** The Jaccard similarity of two instructions' shingles from which they are a copy. */
export const INSTRUCTIONS_SIMILARITY = 0.8;
/** Instructions with fewer shingles than this (about 12 words) are too short to tell a copy from a common phrase. */
export const MIN_SHINGLES = 8;
/** The characters of each template's instructions compared (they may be 256 KiB): the cost of a publish stays bounded. */
export const COMPARED_INSTRUCTION_CHARS = 32_768;

/** Who holds a template and writes its entry in the curation log: the pool itself, not an inbox. */
export const POOL_ACTOR = POOL_CURATOR;
/** The curation log's action of a hold (not an EIP-712 type: the pool signs nothing). */
export const HOLD_ACTION = "HoldLookAlike";

export type Resemblance = "name" | "instructions";

/** A popular template as compared: its instructions as shingles (made once, hold.ts keeps them). */
export interface ComparedTemplate {
  id: string;
  creatorId: string;
  name: string;
  shingles: Uint32Array;
}

/** The template about to be in the store. */
export interface Candidate {
  creatorId: string;
  name: string;
  instructions: string;
}

export interface LookAlike {
  /** The popular template it resembles. */
  template: Pick<ComparedTemplate, "id" | "name">;
  /** What resembles: the name, the instructions, or both, in that order. */
  matched: Resemblance[];
}

/** Per template held against, what an operator already let through (hold.ts reads it from the curation log). */
export type Cleared = ReadonlyMap<string, ReadonlySet<Resemblance>>;

/** Digits and signs written for letters ("Tr1p P1anner", "Tr@vel"); the skeleton already makes 0 an O and 1 an l. */
const LETTER_FOR = new Map(Object.entries({ "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "@": "a", $: "s" }));

/**
 * Text as it looks, whatever it is written with: the confusable skeleton
 * (Unicode TR 39, kit's confusables.ts) of the text as sent and once more
 * after NFKC and lower case (TR 39 starts from NFD: "ϲ" is a "c" there, a "ς"
 * after NFKC), in lower case, without combining marks, "rn" read as "m"
 * (the skeleton makes every "m" "rn") and "i" as "l" (it makes "I" an "l",
 * and "Trip Pianner" passes for "Trip Planner").
 */
function looks(text: string): string {
  const once = confusableSkeleton(text).normalize("NFKC").toLowerCase();
  return confusableSkeleton(once).toLowerCase().replace(/\p{M}/gu, "").replace(/rn/g, "m").replace(/i/g, "l");
}

/**
 * A name as compared: how it looks, digits and signs read as the letters
 * they stand for, and nothing but letters and digits (spaces, punctuation,
 * emoji and invisible characters dropped).
 */
export function nameKey(name: string): string {
  return [...looks(name)]
    .map((c) => LETTER_FOR.get(c) ?? c)
    .join("")
    .replace(/[^\p{L}\p{N}]+/gu, "")
    .replace(/rn/g, "m");
}

/** Edits two name keys may differ by: one per NAME_CHARS_PER_EDIT characters of the longer, at most MAX_NAME_EDITS. */
export const allowedNameEdits = (a: string, b: string): number =>
  Math.min(MAX_NAME_EDITS, Math.floor(Math.max(a.length, b.length) / NAME_CHARS_PER_EDIT));

/**
 * The edits (insert, delete, substitute, swap two neighbours) between `a`
 * and `b` (optimal string alignment), or `max + 1` once it is known to be
 * more than `max`.
 */
export function editDistance(a: string, b: string, max: number): number {
  const x = [...a];
  const y = [...b];
  if (Math.abs(x.length - y.length) > max) return max + 1;
  let before = new Array<number>(y.length + 1).fill(0);
  let prev = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const row = [i];
    let best = i;
    for (let j = 1; j <= y.length; j++) {
      const cost = x[i - 1] === y[j - 1] ? 0 : 1;
      let d = Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
      if (i > 1 && j > 1 && x[i - 1] === y[j - 2] && x[i - 2] === y[j - 1]) d = Math.min(d, (before[j - 2] ?? 0) + 1);
      row.push(d);
      best = Math.min(best, d);
    }
    if (best > max) return max + 1;
    before = prev;
    prev = row;
  }
  return Math.min(prev[y.length] ?? 0, max + 1);
}

/** Whether two names look alike: their keys within the edits their length allows. An empty key looks like nothing. */
export function namesResemble(a: string, b: string): boolean {
  const ka = nameKey(a);
  const kb = nameKey(b);
  if (ka === "" || kb === "") return false;
  const max = allowedNameEdits(ka, kb);
  return editDistance(ka, kb, max) <= max;
}

/** 32-bit FNV-1a over `units` (a word's UTF-16 code units, or a shingle's word hashes). */
function fnv1a(units: Iterable<number>): number {
  let h = 0x811c9dc5;
  for (const u of units) h = Math.imul(h ^ u, 0x01000193);
  return h >>> 0;
}

const wordHash = (word: string): number => fnv1a(Array.from(word, (_, i) => word.charCodeAt(i)));

/**
 * The instructions' shingles: every run of SHINGLE_WORDS words (as they
 * look, in their first COMPARED_INSTRUCTION_CHARS characters), each hashed
 * to a number, sorted, once each. Hashes may collide; at 32 bits, for sets
 * of a few thousand, that moves a similarity by nothing one could see.
 */
export function shingles(instructions: string): Uint32Array {
  const words = looks(instructions.slice(0, COMPARED_INSTRUCTION_CHARS))
    .split(/[^\p{L}\p{N}]+/u)
    .filter((w) => w !== "")
    .map(wordHash);
  const all = new Uint32Array(Math.max(0, words.length - SHINGLE_WORDS + 1));
  for (let i = 0; i < all.length; i++) all[i] = fnv1a(words.slice(i, i + SHINGLE_WORDS));
  all.sort();
  let n = 0;
  for (let i = 0; i < all.length; i++) if (i === 0 || all[i] !== all[i - 1]) all[n++] = all[i] ?? 0;
  return all.slice(0, n);
}

/** |A ∩ B| / |A ∪ B| of two sorted sets (as shingles makes them); 0 for two empty ones. */
export function jaccard(a: Uint32Array, b: Uint32Array): number {
  let both = 0;
  for (let i = 0, j = 0; i < a.length && j < b.length; ) {
    const x = a[i] ?? 0;
    const y = b[j] ?? 0;
    if (x === y) {
      both++;
      i++;
      j++;
    } else if (x < y) i++;
    else j++;
  }
  const union = a.length + b.length - both;
  return union === 0 ? 0 : both / union;
}

/** Whether two sets of shingles are copies: both long enough, and at least INSTRUCTIONS_SIMILARITY alike. */
export function instructionsResemble(a: Uint32Array, b: Uint32Array): boolean {
  if (a.length < MIN_SHINGLES || b.length < MIN_SHINGLES) return false;
  // Jaccard is at most the smaller size over the larger: skip the count when that already falls short.
  if (Math.min(a.length, b.length) / Math.max(a.length, b.length) < INSTRUCTIONS_SIMILARITY) return false;
  return jaccard(a, b) >= INSTRUCTIONS_SIMILARITY;
}

/**
 * The first of `popular` (the most used first) of another creator whose
 * name or instructions the candidate copies, unless an operator already let
 * through every way it resembles that one (`cleared`). A creator's own
 * templates never count against them.
 */
export function findLookAlike(
  candidate: Candidate,
  popular: readonly ComparedTemplate[],
  cleared: Cleared = new Map(),
): LookAlike | undefined {
  let own: Uint32Array | undefined;
  for (const p of popular) {
    if (p.creatorId === candidate.creatorId) continue;
    const matched: Resemblance[] = [];
    if (namesResemble(candidate.name, p.name)) matched.push("name");
    own ??= shingles(candidate.instructions);
    if (instructionsResemble(own, p.shingles)) matched.push("instructions");
    const letThrough = cleared.get(p.id);
    if (matched.length > 0 && !matched.every((m) => letThrough?.has(m)))
      return { template: { id: p.id, name: p.name }, matched };
  }
  return undefined;
}

/** What the creator (and the owners of its agents) read in the delisting's reason. */
export function holdReason(match: LookAlike): string {
  const what =
    match.matched.length === 2
      ? "its name and instructions look like those of"
      : match.matched[0] === "name"
        ? "its name looks like that of"
        : "its instructions are nearly the same as those of";
  return `held for the operators' review: ${what} "${match.template.name}" (${match.template.id}), a popular template of another creator`;
}

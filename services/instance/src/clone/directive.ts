// The offline clone summary's rule: what an owner's directive leaves out,
// read by word (no model, no inference).

import type { MemoryEntry } from "../memory/store.js";

const EXCLUSION =
  /\b(?:but not|not|except(?: for)?|without|excluding|leave out|no|nothing (?:about|of|from))\b(.*?)(?=\b(?:but|and bring|only)\b|[.;!?]|$)/gi;
const GENERIC = new Set([
  "nothing",
  "nor",
  "detail",
  "details",
  "thing",
  "things",
  "stuff",
  "info",
  "information",
  "knowledge",
  "anything",
  "everything",
  "specific",
  "specifics",
  "any",
]);

/** Content words after "not", "except", "without", "leave out" ... in a directive: what it excludes. */
export function excludedWords(directive: string): Set<string> {
  const out = new Set<string>();
  for (const m of directive.matchAll(EXCLUSION)) {
    for (const w of (m[1] ?? "").toLowerCase().split(/[^\p{L}\p{N}]+/u)) {
      if (
        w.length < 3 ||
        GENERIC.has(w) ||
        ["the", "and", "for", "about", "any", "our", "your", "its", "their"].includes(w)
      )
        continue;
      out.add(w.length > 3 && w.endsWith("s") ? w.slice(0, -1) : w);
    }
  }
  return out;
}

/**
 * The offline summary's rule: every entry, except those that name a word the
 * directive excludes ("general travel knowledge but not the Japan trip
 * details" leaves out entries that mention Japan). No model, so no
 * inference: an entry about Shinjuku that never says Japan carries.
 */
export function selectByDirective(entries: readonly MemoryEntry[], directive: string): MemoryEntry[] {
  const excluded = excludedWords(directive);
  if (excluded.size === 0) return [...entries];
  return entries.filter((e) => {
    const words = e.text
      .toLowerCase()
      .split(/[^\p{L}\p{N}]+/u)
      .map((w) => (w.length > 3 && w.endsWith("s") ? w.slice(0, -1) : w));
    return !words.some((w) => excluded.has(w));
  });
}

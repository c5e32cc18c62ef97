// What goes to the model is capped (docs/instance.md, "What a conversation
// may cost"): a message is cut at a number of tokens and the model is told
// so; the history is the newest lines that fit a budget; memory is ranked
// (the owner's rules first, then what is about the message, then the rest,
// the owner's before others', newest first) and cut to a budget. Tokens are
// estimated, not counted: a quarter of the characters (OpenAI's rule of
// thumb for English text; no tokenizer is shipped). Pure, tested beside it.
// The memory it ranks and cuts is what the turn's conversation reads
// (memory/walls.ts memoryIn): what it leaves out, and says it left out, is
// of that view, never a count of what another conversation holds.

import { contentWords, Memory, type MemoryEntry } from "../memory/store.js";

export const CHARS_PER_TOKEN = 4;

/** Tokens of `text` as the caps count them: one per 4 characters, rounded up. */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / CHARS_PER_TOKEN);
}

/** How much of each part of a prompt the model is given, in estimated tokens; 0: no cap. */
export interface PromptLimits {
  /** One message (a member's text, a text to its number, a tool's result). */
  messageTokens: number;
  /** The recent conversation, the message to answer included (it is always given). */
  historyTokens: number;
  /** What it learned, as the system prompt's section (and the extraction's). */
  memoryTokens: number;
}

/** The caps unless its host says otherwise: a prompt stays near 8,000 tokens whatever the conversation holds. */
export const PROMPT_LIMITS: PromptLimits = { messageTokens: 1_000, historyTokens: 3_000, memoryTokens: 3_000 };

/** No caps: the whole message, the last lines whatever their size, all of memory (how it was before the caps). */
export const UNCAPPED: PromptLimits = { messageTokens: 0, historyTokens: 0, memoryTokens: 0 };

/** `text` cut to about `tokens`, saying where and how much went; as it is when it fits (or `tokens` is 0). */
export function capText(text: string, tokens: number): string {
  const max = tokens * CHARS_PER_TOKEN;
  if (tokens <= 0 || text.length <= max) return text;
  // Not between the two halves of a surrogate pair.
  const end = /[\uD800-\uDBFF]/.test(text[max - 1] ?? "") ? max - 1 : max;
  return `${text.slice(0, end)}\n[cut here: the other ${text.length - end} of its ${text.length} characters are not shown]`;
}

/** A line of conversation as the caps count it (close to how model/prompt.ts writes it). */
interface Line {
  text: string;
  sender?: string | undefined;
  speaker?: string | undefined;
}

function lineTokens(l: Line): number {
  return estimateTokens(`[${l.speaker ?? ""}] ${l.sender ?? ""}: ${l.text}`);
}

/**
 * The recent conversation within the limits: each line cut at
 * `messageTokens`, then the newest lines whose total fits `historyTokens`
 * (none older than one that does not fit). The last line, the message to
 * answer, is always given, cut.
 */
export function historyWithin<L extends Line>(lines: readonly L[], limits: PromptLimits): L[] {
  const cut = lines.map((l) => {
    const text = capText(l.text, limits.messageTokens);
    return text === l.text ? l : { ...l, text };
  });
  const newest = cut.at(-1);
  if (limits.historyTokens <= 0 || newest === undefined) return cut;
  const kept: L[] = [newest];
  let used = lineTokens(newest);
  for (const line of cut.slice(0, -1).reverse()) {
    used += lineTokens(line);
    if (used > limits.historyTokens) break;
    kept.unshift(line);
  }
  return kept;
}

/** The owner's word: taught by the owner, or a member's version the owner confirmed. */
function owners(e: MemoryEntry): boolean {
  return e.role === "owner";
}

/** How the owner wants it to work: the owner's training and the owner's corrections of its answers. */
function ownersRule(e: MemoryEntry): boolean {
  return owners(e) && (e.feedback ? e.feedback.signal === "correction" : e.kind === "training");
}

/**
 * Memory in the order it is given to the model when not all of it fits:
 * 1. the owner's rules (its training and corrections), newest first;
 * 2. entries that share a content word with `query` (the message), the
 *    owner's first, then by how many words they share, newest first;
 * 3. the rest, the owner's first, newest first.
 * A member cannot push the owner's rules out by teaching much, nor make
 * their entries look relevant to everything by packing words into them:
 * relevance ranks members' entries only among themselves and after the
 * owner's relevant ones.
 */
export function rankForPrompt(entries: readonly MemoryEntry[], query: string): MemoryEntry[] {
  const wanted = contentWords(query);
  const scored = entries.map((e, i) => {
    const shared = wanted.size === 0 ? 0 : [...contentWords(e.text)].filter((w) => wanted.has(w)).length;
    const tier = ownersRule(e) ? 0 : shared > 0 ? 1 : 2;
    return { e, i, tier, owner: owners(e) ? 1 : 0, shared };
  });
  return scored
    .sort((a, b) => a.tier - b.tier || b.owner - a.owner || b.shared - a.shared || b.i - a.i)
    .map((x) => x.e);
}

/** Tokens an entry takes in the prompt: its text and who taught it (memory/store.ts renderFact). */
function entryTokens(e: MemoryEntry): number {
  return estimateTokens(e.text) + 8;
}

/**
 * The memory given to the model with `query`: the best ranked entries whose
 * total fits `tokens` (0: all), in the order they were learned; `left` the
 * entries it leaves out.
 */
export function memoryWithin(memory: Memory, query: string, tokens: number): { memory: Memory; left: number } {
  if (tokens <= 0) return { memory, left: 0 };
  let used = 0;
  for (const e of memory.entries) used += entryTokens(e);
  if (used <= tokens) return { memory, left: 0 };
  const kept = new Set<MemoryEntry>();
  used = 0;
  for (const e of rankForPrompt(memory.entries, query)) {
    const t = entryTokens(e);
    // A long entry that does not fit does not stop shorter ones after it.
    if (used + t > tokens) continue;
    used += t;
    kept.add(e);
  }
  return { memory: new Memory(memory.entries.filter((e) => kept.has(e))), left: memory.entries.length - kept.size };
}

/** Memory as the system prompt's section, cut to `tokens` for `query`, saying how much was left out. */
export function memorySection(memory: Memory, query: string, tokens: number): string {
  const { memory: shown, left } = memoryWithin(memory, query, tokens);
  if (left === 0) return shown.render();
  const note = `(${left} more ${left === 1 ? "entry" : "entries"} of what you learned ${left === 1 ? "is" : "are"} not shown here: the least related to this message.)`;
  return shown.entries.length === 0 ? `## What you have learned\n\n${note}` : `${shown.render()}\n\n${note}`;
}

// What a creator reads of their template's counts (docs/signals.md, "What a
// creator reads"). Pure: rows in, figures out.
//
// - A version's day shows figures only when its agents that reported it
//   are in at least MIN_CONVERSATIONS conversations: fewer would let a
//   creator read one conversation's day. Conversations, not agents: an
//   owner may claim several agents of a template into one conversation.
//   Each conversation once: the union of the agents' conversations that day
//   (two agents in one conversation are one; one agent in two are two).
// - An owner counts once: each owner's agents are averaged into one, and a
//   day's figure is the sum of those averages over owners. An owner who adds
//   agents with the same counts changes nothing; one whose agents count more
//   weighs as one agent that counts their average.
// - In what people give (reactions, corrections, forget requests, stops,
//   pauses), no owner's part passes twice the next largest part and two
//   (capLargest): one conversation's members, however many, cannot make a
//   version's day alone. What the agent did (answers, people, tool calls) is
//   not cut.
// - The creator's own agents are counted apart (`ownDays`), under the same
//   threshold, and never in `days`.

import { type PersonSignalCounts, VERSION_SIGNAL_COUNTS } from "@convos-pool/kit/signing";

/** Fewer conversations than this in a version's day and its figures are not shown. */
export const MIN_CONVERSATIONS = 5;

/** A part of a member-given figure counts at most this many times the next largest part… */
export const MAX_OVER_NEXT = 2;
/** …and this many more: a few people's reactions in one conversation count whatever the others did. */
export const FREE_PART = 2;

/** A version's figures: the counts its agents sign for a day (kit VERSION_SIGNAL_COUNTS). */
export const FIGURES = VERSION_SIGNAL_COUNTS;
export type Figure = (typeof FIGURES)[number];

/**
 * The figures people give, and so one conversation could flood (a member who
 * stops every turn, an owner who pauses and unpauses): the largest owner's
 * part capped (capLargest).
 */
export const MEMBER_FIGURES: readonly Figure[] = [
  "thumbsUp",
  "thumbsDown",
  "corrections",
  "forgetRequests",
  "stopRequests",
  "pauses",
];

/** One agent's stored day. */
export interface AgentDay {
  instanceId: string;
  ownerId: string;
  /** Its home conversation, from the claims feed; absent or empty (not from the feed): counted as one of its own. */
  conversationId?: string;
  /** Every conversation it was in that day, from the claims feed; absent or empty: its home alone. */
  conversationIds?: readonly string[] | undefined;
  version: string;
  day: string;
  counts: Record<Figure, number> & { pinned: boolean };
  /** The day per person, by pseudonym of the day (docs/signals.md, "Per person"); absent or empty: none sent. */
  persons?: readonly PersonSignalCounts[] | undefined;
}

/** A day's figures: each a sum over owners of their agents' average; `pinned` the share of owners' agents pinned, averaged per owner. */
export type Figures = Record<Figure | "pinned", number>;

export interface VersionDay {
  version: string;
  day: string;
  agents: number;
  /** Distinct conversations of those agents: what the threshold counts. */
  conversations: number;
  owners: number;
  /** Absent below MIN_CONVERSATIONS conversations. */
  figures?: Figures;
}

export interface CreatorView {
  days: VersionDay[];
  ownDays: VersionDay[];
}

/** The days of `rows`, others' and the creator's apart, oldest day first and versions in order within a day. */
export function creatorView(rows: readonly AgentDay[], creatorId: string, min = MIN_CONVERSATIONS): CreatorView {
  return {
    days: versionDays(
      rows.filter((r) => !isCreators(r, creatorId)),
      min,
      capLargest,
    ),
    // The creator's own conversations are theirs to read as they are: nobody else's part is in them.
    ownDays: versionDays(
      rows.filter((r) => isCreators(r, creatorId)),
      min,
      (parts) => parts,
    ),
  };
}

/** Whether a row is the creator's own agent's: apart in the figures, and out of a rollout's watch (rollout.ts). */
export function isCreators(r: { ownerId: string }, creatorId: string): boolean {
  return r.ownerId === creatorId;
}

/** How the owners' parts of a member-given figure are weighed before they are summed. */
type Weigh = (parts: readonly number[]) => readonly number[];

function versionDays(rows: readonly AgentDay[], min: number, weigh: Weigh): VersionDay[] {
  const groups = new Map<string, AgentDay[]>();
  for (const r of rows) {
    const key = `${r.day}\u0000${r.version}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  return [...groups.values()]
    .map((g) => dayOf(g, min, weigh))
    .sort((a, b) => (a.day === b.day ? compareVersions(a.version, b.version) : a.day < b.day ? -1 : 1));
}

function dayOf(rows: readonly AgentDay[], min: number, weigh: Weigh): VersionDay {
  const first = rows[0];
  if (!first) throw new Error("a day of no agents");
  // One agent, one row: a repeated instance (it cannot be, by the table's key) would count once.
  const agents = new Map(rows.map((r) => [r.instanceId, r]));
  const byOwner = new Map<string, AgentDay[]>();
  for (const r of agents.values()) byOwner.set(r.ownerId, [...(byOwner.get(r.ownerId) ?? []), r]);
  const conversations = new Set([...agents.values()].flatMap((r) => conversationsOf(r, `agent:${r.instanceId}`))).size;
  const day: VersionDay = {
    version: first.version,
    day: first.day,
    agents: agents.size,
    conversations,
    owners: byOwner.size,
  };
  if (conversations < min) return day;
  const figures = Object.fromEntries([...FIGURES, "pinned"].map((f) => [f, 0])) as Figures;
  const owners = [...byOwner.values()];
  for (const f of FIGURES) {
    const parts = owners.map((own) => mean(own.map((r) => r.counts[f])));
    figures[f] = sum(MEMBER_FIGURES.includes(f) ? weigh(parts) : parts);
  }
  for (const own of owners) figures.pinned += mean(own.map((r) => (r.counts.pinned ? 1 : 0))) / owners.length;
  return { ...day, figures };
}

/**
 * The conversations an agent counts in: those the feed says it was in, else
 * its home, else `own` (a key of its own: a conversation nobody shares).
 */
export function conversationsOf(
  a: { conversationId?: string | undefined; conversationIds?: readonly string[] | undefined },
  own: string,
): readonly string[] {
  if (a.conversationIds && a.conversationIds.length > 0) return a.conversationIds;
  return [a.conversationId || own];
}

/**
 * `values` (each owner's part of a figure) with the largest cut to
 * MAX_OVER_NEXT × the next largest + FREE_PART. Only one part can stand out
 * by flooding, so only it is cut; two conversations that agree are two. So
 * 500 👎 from one conversation beside others' one each count four; beside
 * none, two.
 */
export function capLargest(values: readonly number[]): number[] {
  const [first = 0, second = 0] = [...values].sort((a, b) => b - a);
  const cap = MAX_OVER_NEXT * second + FREE_PART;
  if (first <= cap) return [...values];
  return values.map((v) => Math.min(v, cap));
}

function sum(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}

function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** "6" before "7" before "10"; names that are not numbers after, in text order. */
export function compareVersions(a: string, b: string): number {
  const na = Number(a);
  const nb = Number(b);
  if (Number.isFinite(na) && Number.isFinite(nb)) return na - nb;
  if (Number.isFinite(na)) return -1;
  if (Number.isFinite(nb)) return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

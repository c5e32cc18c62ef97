// What a creator reads of their template's counts (docs/signals.md, "What a
// creator reads"). Pure: rows in, figures out.
//
// - A version's day shows figures only when its agents that reported it
//   are in at least MIN_CONVERSATIONS conversations: fewer would let a
//   creator read one conversation's day. Conversations, not agents: an
//   owner may claim several agents of a template into one conversation.
// - An owner counts once: each owner's agents are averaged into one, and a
//   day's figure is the sum of those averages over owners. An owner who adds
//   agents with the same counts changes nothing; one whose agents count more
//   weighs as one agent that counts their average.
// - In what members give (reactions, corrections, forget requests), no
//   owner weighs more than MAX_SHARE of the day (capShares): one
//   conversation's members, however many, move a version's day by a fifth at
//   most. What the agent did (answers, people, tool calls) is not cut.
// - The creator's own agents are counted apart (`ownDays`), under the same
//   threshold, and never in `days`.

/** Fewer conversations than this in a version's day and its figures are not shown. */
export const MIN_CONVERSATIONS = 5;

/** The largest share of a figure's day one owner's agents may make (with fewer owners than 1 / it: an equal share). */
export const MAX_SHARE = 1 / MIN_CONVERSATIONS;

export const FIGURES = [
  "answers",
  "people",
  "thumbsUp",
  "thumbsDown",
  "corrections",
  "forgetRequests",
  "approvalsAsked",
  "approvalsDeclined",
  "toolCallsFailed",
] as const;
export type Figure = (typeof FIGURES)[number];

/** The figures members give, and so one conversation could flood: each owner's part capped (capShares). */
export const MEMBER_FIGURES: readonly Figure[] = ["thumbsUp", "thumbsDown", "corrections", "forgetRequests"];

/** One agent's stored day. */
export interface AgentDay {
  instanceId: string;
  ownerId: string;
  /** Its conversation, from the claims feed; absent or empty (not from the feed): counted as one of its own. */
  conversationId?: string;
  version: string;
  day: string;
  counts: Record<Figure, number> & { pinned: boolean };
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
      rows.filter((r) => r.ownerId !== creatorId),
      min,
    ),
    ownDays: versionDays(
      rows.filter((r) => r.ownerId === creatorId),
      min,
    ),
  };
}

function versionDays(rows: readonly AgentDay[], min: number): VersionDay[] {
  const groups = new Map<string, AgentDay[]>();
  for (const r of rows) {
    const key = `${r.day}\u0000${r.version}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  return [...groups.values()]
    .map((g) => dayOf(g, min))
    .sort((a, b) => (a.day === b.day ? compareVersions(a.version, b.version) : a.day < b.day ? -1 : 1));
}

function dayOf(rows: readonly AgentDay[], min: number): VersionDay {
  const first = rows[0];
  if (!first) throw new Error("a day of no agents");
  // One agent, one row: a repeated instance (it cannot be, by the table's key) would count once.
  const agents = new Map(rows.map((r) => [r.instanceId, r]));
  const byOwner = new Map<string, AgentDay[]>();
  for (const r of agents.values()) byOwner.set(r.ownerId, [...(byOwner.get(r.ownerId) ?? []), r]);
  const conversations = new Set([...agents.values()].map((r) => r.conversationId || `agent:${r.instanceId}`)).size;
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
    figures[f] = sum(MEMBER_FIGURES.includes(f) ? capShares(parts) : parts);
  }
  for (const own of owners) figures.pinned += mean(own.map((r) => (r.counts.pinned ? 1 : 0))) / owners.length;
  return { ...day, figures };
}

/**
 * `values` (each owner's part of a figure), each cut to one level T, the
 * highest at which no part exceeds `share` of the cut total: T = share ×
 * Σ min(v, T). Parts under T stay as they are; with fewer parts than
 * 1 / share, the share is 1 / their number (no part above another's least).
 * So 500 👎 from one conversation beside four with one each count as one.
 */
export function capShares(values: readonly number[], share = MAX_SHARE): number[] {
  const s = Math.max(share, 1 / values.length);
  const sorted = [...values].sort((a, b) => a - b);
  // With T between the (k-1)th and kth smallest: k parts under it, the rest at it. T = s × (Σ of those k + (n − k) × T),
  // found on the first stretch where that holds; none: no part is above its share.
  let under = 0;
  for (const [k, part] of sorted.entries()) {
    const slope = s * (sorted.length - k) - 1;
    if (slope < 0) {
      const found = (s * under) / -slope;
      // Where the level is a part's own value (an equal share), floating point lands a hair under it.
      const level = sorted.find((v) => Math.abs(v - found) <= 1e-9 * Math.max(1, v)) ?? found;
      if (level <= part) return values.map((v) => Math.min(v, level));
    }
    under += part;
  }
  return [...values];
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

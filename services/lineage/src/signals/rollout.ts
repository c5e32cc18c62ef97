// What the pool makes of a live rollout (docs/rollouts.md, "It watches and
// stops itself"), pure: the agents' stored days of both versions and what
// the claims feed recorded of them in, the figures and the verdict out. The
// test itself is kit's (`pairedDays`, `rolloutVerdict`); this decides what
// is counted:
//
// - a day counts only when each version's agents that reported it are in at
//   least MIN_CONVERSATIONS conversations, each once, as figures.ts counts
//   them; a day that does not counts nothing, on either side;
// - 👎, corrections, stop requests, failed tool calls and declined approvals
//   against the day's answers; pauses against 1 per agent-day reported;
// - removals (an agent removed by its owner within 24 hours of its claim,
//   on the UTC day of the removal, for the version it ran then) against 1
//   per agent whose last version that day was this one, by the feed's
//   stretches (an agent the feed knows no version of that day: by its
//   reports). A new claim runs the current version a moment before the
//   claims service moves it into the share; counting each agent once a
//   day, for its last version, keeps that moment off the current side;
// - each conversation's counts apart, its side its agent's version that day
//   (an agent updated during a day is on both): an agent counts under its
//   home (its counts are one report for all its conversations); one the feed
//   gave no conversation is one of its own.
//
// The answer holds counts only: no agent, member or conversation.
import {
  type ConversationCounts,
  type Exposed,
  type PairedDay,
  ROLLOUT_SIGNALS,
  type RolloutBounds,
  type RolloutSignal,
  haltAt,
  pairedDays,
  rolloutVerdict,
} from "@convos-pool/kit/content";
import type { AgentDay } from "./figures.js";
import { MIN_CONVERSATIONS, conversationsOf } from "./figures.js";

/** The signals counted per answer, each the AgentDay count of the same name. */
const PER_ANSWER = ["thumbsDown", "corrections", "stopRequests", "toolCallsFailed", "approvalsDeclined"] as const;

/** Each signal as the creator reads it (Rollout.watch.halted_on), the words of docs/rollouts.md's table. */
export const SIGNAL_WORDS: Record<RolloutSignal, string> = {
  removals: "removals within a day of a claim",
  pauses: "pauses by owners",
  stopRequests: "stop requests while it thought",
  thumbsDown: "👎 on its answers",
  corrections: "corrections of its answers",
  toolCallsFailed: "failed tool calls",
  approvalsDeclined: "approvals its owner declined",
};

/** An agent on a version on a UTC day, as the claims feed records it: it ran it, or was removed then. */
export interface AgentOnDay {
  instanceId: string;
  /** Its home conversation. */
  conversationId: string;
  /** Every conversation it was in that day; absent or empty: its home alone. */
  conversationIds?: readonly string[] | undefined;
  version: string;
  day: string;
}

export interface RolloutData {
  /** Both versions' stored days (other versions are left out here). */
  reports: readonly AgentDay[];
  /** Each agent on each day, with the version it ran last that day by the feed's stretches, when one of both. */
  ran: readonly AgentOnDay[];
  /** Agents removed by their owner within a day of their claim: the day of the removal, the version they ran then. */
  removals: readonly AgentOnDay[];
}

export interface SignalFigures {
  signal: RolloutSignal;
  candidate: Exposed;
  baseline: Exposed;
  evidence: number;
}

export interface RolloutWatchFigures {
  daysCounted: number;
  threshold: number;
  signals: SignalFigures[];
  /** The signal it halts on; absent: it goes on. */
  haltedOn?: RolloutSignal;
}

/** Where an agent's counts go in the pairing: its home. */
const conversationOf = (a: { instanceId: string; conversationId?: string | undefined }) =>
  a.conversationId || `agent:${a.instanceId}`;

/** The conversations an agent is counted in for a threshold: every one, each once (figures.ts). */
const conversationsOfAgent = (a: {
  instanceId: string;
  conversationId?: string | undefined;
  conversationIds?: readonly string[] | undefined;
}) => conversationsOf(a, `agent:${a.instanceId}`);

/** The days on which each version's reporting agents are in at least `min` conversations. */
export function countedDays(
  reports: readonly AgentDay[],
  candidate: string,
  baseline: string,
  min = MIN_CONVERSATIONS,
): Set<string> {
  const conversations = new Map<string, Set<string>>();
  for (const r of reports) {
    const key = `${r.day}\u0000${r.version}`;
    const seen = conversations.get(key) ?? new Set();
    for (const c of conversationsOfAgent(r)) seen.add(c);
    conversations.set(key, seen);
  }
  const enough = (day: string, version: string) => (conversations.get(`${day}\u0000${version}`)?.size ?? 0) >= min;
  return new Set(reports.map((r) => r.day).filter((day) => enough(day, candidate) && enough(day, baseline)));
}

/** Each signal's counts per conversation and side over the counted days: what `pairedDays` takes. */
export function conversationCounts(
  data: RolloutData,
  candidate: string,
  baseline: string,
  counted: ReadonlySet<string>,
): Record<RolloutSignal, ConversationCounts[]> {
  const sides = Object.fromEntries(ROLLOUT_SIGNALS.map((s) => [s, new Map<string, ConversationCounts>()])) as Record<
    RolloutSignal,
    Map<string, ConversationCounts>
  >;
  const add = (signal: RolloutSignal, a: AgentOnDay, events: number, exposure: number) => {
    if (!counted.has(a.day) || (a.version !== candidate && a.version !== baseline)) return;
    const conversation = conversationOf(a);
    const key = `${a.version === candidate ? "c" : "b"}\u0000${conversation}`;
    const entry = sides[signal].get(key) ?? { conversation, candidate: a.version === candidate, days: {} };
    const days = entry.days as Record<string, Exposed>;
    const day = days[a.day] ?? { events: 0, exposure: 0 };
    days[a.day] = { events: day.events + events, exposure: day.exposure + exposure };
    sides[signal].set(key, entry);
  };
  for (const r of data.reports) {
    const a = { ...r, conversationId: r.conversationId ?? "" };
    for (const s of PER_ANSWER) add(s, a, r.counts[s], r.counts.answers);
    add("pauses", a, r.counts.pauses, 1);
  }
  // One per agent a day: the version it ran last by the feed, else (its versions unknown there) those it reported.
  const byFeed = new Set(data.ran.map((a) => `${a.instanceId}\u0000${a.day}`));
  const ran = new Map<string, AgentOnDay>();
  for (const a of [...data.ran, ...data.removals]) ran.set(`${a.instanceId}\u0000${a.day}`, a);
  for (const r of data.reports)
    if (!byFeed.has(`${r.instanceId}\u0000${r.day}`))
      ran.set(`${r.instanceId}\u0000${r.day}\u0000${r.version}`, { ...r, conversationId: r.conversationId ?? "" });
  for (const a of ran.values()) add("removals", a, 0, 1);
  for (const a of data.removals) add("removals", a, 1, 0);
  return Object.fromEntries(ROLLOUT_SIGNALS.map((s) => [s, [...sides[s].values()]])) as Record<
    RolloutSignal,
    ConversationCounts[]
  >;
}

/**
 * How many conversations' agents ran each version last on `day`: the union
 * of the agents' conversations per side, each once (an agent the feed gave
 * no conversation is one of its own).
 */
export function conversationsOn(
  ran: readonly AgentOnDay[],
  versions: { candidate: string; baseline: string },
  day: string,
): { candidate: number; baseline: number } {
  const sides = { candidate: new Set<string>(), baseline: new Set<string>() };
  for (const a of ran) {
    if (a.day !== day) continue;
    const side =
      a.version === versions.candidate ? sides.candidate : a.version === versions.baseline ? sides.baseline : undefined;
    if (side) for (const c of conversationsOfAgent(a)) side.add(c);
  }
  return { candidate: sides.candidate.size, baseline: sides.baseline.size };
}

const sum = (days: readonly PairedDay[], side: "candidate" | "baseline"): Exposed =>
  days.reduce((acc, d) => ({ events: acc.events + d[side].events, exposure: acc.exposure + d[side].exposure }), {
    events: 0,
    exposure: 0,
  });

/** The rollout so far: the days counted, each signal's figures after the leave-one-out, and the verdict. */
export function watchRollout(
  data: RolloutData,
  versions: { candidate: string; baseline: string },
  bounds: RolloutBounds,
  falseAlarm: number,
  min = MIN_CONVERSATIONS,
): RolloutWatchFigures {
  const counted = countedDays(data.reports, versions.candidate, versions.baseline, min);
  const counts = conversationCounts(data, versions.candidate, versions.baseline, counted);
  const days = Object.fromEntries(ROLLOUT_SIGNALS.map((s) => [s, pairedDays(counts[s])])) as Record<
    RolloutSignal,
    PairedDay[]
  >;
  const verdict = rolloutVerdict(days, bounds, falseAlarm);
  return {
    daysCounted: counted.size,
    threshold: haltAt(falseAlarm),
    signals: ROLLOUT_SIGNALS.map((s) => ({
      signal: s,
      candidate: sum(days[s], "candidate"),
      baseline: sum(days[s], "baseline"),
      evidence: verdict.evidence[s],
    })),
    ...(verdict.kind === "halt" ? { haltedOn: verdict.signal } : {}),
  };
}

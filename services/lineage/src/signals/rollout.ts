// What the pool makes of a live rollout (docs/rollouts.md, "It watches and
// stops itself"), pure: the agents' stored days of both versions and what
// the claims feed recorded of them in, the figures and the verdict out. The
// test itself is kit's (`pairedDays`, `rolloutVerdict`); this decides what
// is counted:
//
// - out of the watch: the creator's own agents (figures.ts isCreators) and
//   every agent of an owner of more than MAX_OWNER_AGENTS of the template;
// - in it only agents with real use: people besides their owner on at least
//   REAL_USE_DAYS days (activity/policy.ts), from the reports of any version
//   the caller gives (the rollout's and the weeks before); removals and the
//   agents that ran, only of owners with such an agent;
// - a day counts only when each version's agents that reported it are in at
//   least MIN_CONVERSATIONS conversations, each once, as figures.ts counts
//   them; a day that does not counts nothing, on either side;
// - what people do (👎, corrections, stops, the tool calls that failed in
//   turns answering them) per person where the agent sent its day so, each
//   person a source capped at one event a side and day (kit
//   PERSON_DAY_EVENTS) across their conversations, else per conversation;
//   what only an owner does (declined approvals against answers, pauses
//   against 1 per agent-day reported) per owner, capped the same;
// - removals (an agent removed by its owner within 24 hours of its claim,
//   on the UTC day of the removal, for the version it ran then) once per
//   owner, side and day, against the owners whose agents ran that version
//   last that day by the feed's stretches (an agent the feed knows no
//   version of that day: by its reports);
// - each side's sample (conversations with real use, their answers) and the
//   split of those conversations today against the planned share.
//
// The answer holds counts only: no agent, member or conversation.
import {
  type Exposed,
  MAX_WATCH_DAYS,
  MIN_SAMPLE,
  PERSON_DAY_EVENTS,
  type PairedDay,
  type PauseReason,
  ROLLOUT_SIGNALS,
  type RolloutBounds,
  type RolloutSignal,
  type SideSample,
  type SourceCounts,
  pairedDays,
  rolloutVerdict,
} from "@convos-pool/kit/content";
import type { PersonSignalCounts } from "@convos-pool/kit/signing";
import { daysAnsweringOthers } from "../activity/policy.js";
import type { AgentDay } from "./figures.js";
import { MIN_CONVERSATIONS, conversationsOf, isCreators } from "./figures.js";

/** What people do, each the AgentDay count of the same name: counted per person where the agent sent its day so. */
const BY_PERSON = ["thumbsDown", "corrections", "stopRequests", "toolCallsFailed"] as const;
type PersonSignal = (typeof BY_PERSON)[number];

/**
 * A person's part of a signal in an agent's day: their stops against the
 * turns they saw (answered or stopped: a stop may stop a turn that answers
 * someone else, or their first); the rest against the answers they were
 * given, never more events than those answers.
 */
export function personPart(p: PersonSignalCounts, signal: PersonSignal): Exposed {
  if (signal === "stopRequests") {
    const stops = p.stopRequests ?? 0;
    return { events: stops, exposure: p.answers + stops };
  }
  return { events: Math.min(p[signal] ?? 0, p.answers), exposure: p.answers };
}

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
  /** Its owner now, from the claims feed; absent: as its reports say. */
  ownerId?: string | undefined;
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
  /** The template's stored days of any version, from weeks before the rollout: where real use is read; absent: `reports`. */
  history?: readonly AgentDay[] | undefined;
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
  /** Why it pauses, in the creator's words with the figures; absent: it does not. */
  pausedOn?: string;
  /** Which check paused it, with `pausedOn`. */
  pauseCheck?: PauseReason;
  /** Conversations with real use counted on each side. */
  sample: { candidate: number; baseline: number };
}

/** What the watch is told besides the data: whose template it is, and the planned split as of `today`. */
export interface WatchOptions {
  creatorId?: string | undefined;
  /** The share the creator signed last, 0 to 1: the split of today's conversations is checked against it. */
  share?: number | undefined;
  /** The UTC day of the check (YYYY-MM-DD): whose conversations the split counts. */
  today?: string | undefined;
  min?: number | undefined;
  rules?: Partial<WatchRules> | undefined;
}

/** An owner of more agents of the template than this is out of the watch: one person's many agents are not many people. */
export const MAX_OWNER_AGENTS = 3;
/** Days with people besides its owner (activity/policy.ts) an agent needs to be in the watch: as many as a rating asks. */
export const REAL_USE_DAYS = 3;

/**
 * The watch's rules of who counts and how much is enough. The defaults are
 * the pool's; a test stack that runs a rollout in minutes, with a few
 * owners and one guest a conversation, sets its own.
 */
export interface WatchRules {
  maxOwnerAgents: number;
  realUseDays: number;
  minSample: SideSample;
}

export const DEFAULT_WATCH_RULES: WatchRules = {
  maxOwnerAgents: MAX_OWNER_AGENTS,
  realUseDays: REAL_USE_DAYS,
  minSample: MIN_SAMPLE,
};

/**
 * A stack's rules over the pool's: what it leaves out is DEFAULT_WATCH_RULES'.
 * Each a whole number >= 0 (minSample's conversations at least 1: a side of
 * none is no sample); anything else is a mistake of the operator's, thrown
 * at start naming the rule, never a watch that quietly counts otherwise.
 */
export function checkWatchRules(rules: Partial<WatchRules> = {}): WatchRules {
  const out: WatchRules = {
    ...DEFAULT_WATCH_RULES,
    ...rules,
    minSample: { ...DEFAULT_WATCH_RULES.minSample, ...rules.minSample },
  };
  const whole: [string, number, number][] = [
    ["maxOwnerAgents", out.maxOwnerAgents, 0],
    ["realUseDays", out.realUseDays, 0],
    ["minSample.conversations", out.minSample.conversations, 1],
    ["minSample.answers", out.minSample.answers, 0],
  ];
  for (const [name, value, least] of whole)
    if (!Number.isSafeInteger(value) || value < least)
      throw new Error(`rollout watch rules: ${name} must be a whole number >= ${least}, not ${value}`);
  return out;
}

/**
 * The agents the watch counts, by their reports (`history`, any version): not
 * the creator's own, not of an owner of more than MAX_OWNER_AGENTS agents of
 * the template, and with people besides their owner on REAL_USE_DAYS days.
 */
export function watchedAgents(
  history: readonly AgentDay[],
  creatorId?: string,
  rules: WatchRules = DEFAULT_WATCH_RULES,
): Set<string> {
  const agentsOf = new Map<string, Set<string>>();
  const rowsOf = new Map<string, AgentDay[]>();
  for (const r of history) {
    agentsOf.set(r.ownerId, (agentsOf.get(r.ownerId) ?? new Set()).add(r.instanceId));
    rowsOf.set(r.instanceId, [...(rowsOf.get(r.instanceId) ?? []), r]);
  }
  const watched = new Set<string>();
  for (const [instanceId, rows] of rowsOf) {
    const owner = rows[0]?.ownerId ?? "";
    if (creatorId !== undefined && isCreators({ ownerId: owner }, creatorId)) continue;
    if ((agentsOf.get(owner)?.size ?? 0) > rules.maxOwnerAgents) continue;
    const days = rows.map((r) => ({ day: r.day, answers: r.counts.answers, people: r.counts.people }));
    if (daysAnsweringOthers(days) >= rules.realUseDays) watched.add(instanceId);
  }
  return watched;
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

/**
 * Each signal's counts per source and side over the counted days: what
 * `pairedDays` takes. For what people do (👎, corrections, stops, failed
 * tool calls), each person of an agent-day sent per person (their
 * pseudonym of the day, the same in every conversation, capped at
 * PERSON_DAY_EVENTS; personPart), else the agent's home conversation; for
 * declined approvals and pauses, its owner (`ownerOf`, else the report's),
 * capped the same; for removals, its owner when `ownerOf` knows them, once
 * per side and day.
 */
export function conversationCounts(
  data: RolloutData,
  candidate: string,
  baseline: string,
  counted: ReadonlySet<string>,
  ownerOf: ReadonlyMap<string, string> = new Map(),
): Record<RolloutSignal, SourceCounts[]> {
  const sides = Object.fromEntries(ROLLOUT_SIGNALS.map((s) => [s, new Map<string, SourceCounts>()])) as Record<
    RolloutSignal,
    Map<string, SourceCounts>
  >;
  const add = (
    signal: RolloutSignal,
    a: AgentOnDay,
    events: number,
    exposure: number,
    source = conversationOf(a),
    cap?: number,
  ) => {
    if (!counted.has(a.day) || (a.version !== candidate && a.version !== baseline)) return;
    const key = `${a.version === candidate ? "c" : "b"}\u0000${source}`;
    const entry = sides[signal].get(key) ?? {
      source,
      candidate: a.version === candidate,
      days: {},
      ...(cap === undefined ? {} : { cap }),
    };
    const days = entry.days as Record<string, Exposed>;
    const day = days[a.day] ?? { events: 0, exposure: 0 };
    days[a.day] = { events: day.events + events, exposure: day.exposure + exposure };
    sides[signal].set(key, entry);
  };
  for (const r of data.reports) {
    const a = { ...r, conversationId: r.conversationId ?? "" };
    const persons = r.persons ?? [];
    for (const s of BY_PERSON)
      if (persons.length === 0) add(s, a, r.counts[s], r.counts.answers);
      else
        for (const p of persons) {
          const part = personPart(p, s);
          add(s, a, part.events, part.exposure, `person:${p.person}`, PERSON_DAY_EVENTS);
        }
    // Only its owner declines an approval or pauses it: one owner's agents are one voice a side and day.
    const owner = ownerOf.get(r.instanceId) ?? r.ownerId;
    const [source, cap] = owner ? [`owner:${owner}`, PERSON_DAY_EVENTS] : [conversationOf(a), undefined];
    add("approvalsDeclined", a, r.counts.approvalsDeclined, r.counts.answers, source, cap);
    add("pauses", a, r.counts.pauses, 1, source, cap);
  }
  // One per agent a day: the version it ran last by the feed, else (its versions unknown there) those it reported.
  const byFeed = new Set(data.ran.map((a) => `${a.instanceId}\u0000${a.day}`));
  const ran = new Map<string, AgentOnDay>();
  for (const a of [...data.ran, ...data.removals]) ran.set(`${a.instanceId}\u0000${a.day}`, a);
  for (const r of data.reports)
    if (!byFeed.has(`${r.instanceId}\u0000${r.day}`))
      ran.set(`${r.instanceId}\u0000${r.day}\u0000${r.version}`, { ...r, conversationId: r.conversationId ?? "" });
  // Removals once per owner, side and day: ten claims removed by one owner are one owner's word.
  const once = new Set<string>();
  const removal = (a: AgentOnDay, events: number, exposure: number) => {
    const owner = ownerOf.get(a.instanceId);
    const source = owner === undefined ? conversationOf(a) : `owner:${owner}`;
    const key = `${events}\u0000${a.version}\u0000${source}\u0000${a.day}`;
    if (owner !== undefined && once.has(key)) return;
    once.add(key);
    add("removals", a, events, exposure, source);
  };
  for (const a of ran.values()) removal(a, 0, 1);
  for (const a of data.removals) removal(a, 1, 0);
  return Object.fromEntries(ROLLOUT_SIGNALS.map((s) => [s, [...sides[s].values()]])) as Record<
    RolloutSignal,
    SourceCounts[]
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

/** Each side's sample over the counted days: its conversations with answers, and the answers. */
export function sampleOf(
  reports: readonly AgentDay[],
  versions: { candidate: string; baseline: string },
  counted: ReadonlySet<string>,
): { candidate: SideSample; baseline: SideSample } {
  const side = (version: string): SideSample => {
    const rows = reports.filter((r) => r.version === version && counted.has(r.day) && r.counts.answers > 0);
    return {
      conversations: new Set(rows.map((r) => conversationOf(r))).size,
      answers: rows.reduce((n, r) => n + r.counts.answers, 0),
    };
  };
  return { candidate: side(versions.candidate), baseline: side(versions.baseline) };
}

const percent = (x: number) => `${Math.round(x * 1000) / 10}%`;

/**
 * The rollout so far: the agents the watch counts, the days counted, each
 * signal's figures after the cap and the leave-one-out, the sample, the
 * split today, and the verdict.
 */
export function watchRollout(
  data: RolloutData,
  versions: { candidate: string; baseline: string },
  bounds: RolloutBounds,
  falseAlarm: number,
  options: WatchOptions = {},
): RolloutWatchFigures {
  const rules = { ...DEFAULT_WATCH_RULES, ...options.rules };
  const history = data.history ?? data.reports;
  const watched = watchedAgents(history, options.creatorId, rules);
  const ownerOf = new Map(history.map((r) => [r.instanceId, r.ownerId]));
  for (const a of [...data.ran, ...data.removals]) if (a.ownerId) ownerOf.set(a.instanceId, a.ownerId);
  // Removals and the agents that ran are an owner's: counted when that owner has an agent with real use (a
  // removal within a day of a claim is of an agent too new to have any).
  const realOwners = new Set([...watched].map((id) => ownerOf.get(id)));
  const byRealOwner = (xs: readonly AgentOnDay[]) => xs.filter((x) => realOwners.has(ownerOf.get(x.instanceId)));
  const kept = {
    reports: data.reports.filter((r) => watched.has(r.instanceId)),
    ran: byRealOwner(data.ran),
    removals: byRealOwner(data.removals),
  };
  const counted = countedDays(kept.reports, versions.candidate, versions.baseline, options.min ?? MIN_CONVERSATIONS);
  const counts = conversationCounts(kept, versions.candidate, versions.baseline, counted, ownerOf);
  const days = Object.fromEntries(ROLLOUT_SIGNALS.map((s) => [s, pairedDays(counts[s])])) as Record<
    RolloutSignal,
    PairedDay[]
  >;
  const sample = sampleOf(kept.reports, versions, counted);
  const today = options.today === undefined ? undefined : conversationsOn(kept.ran, versions, options.today);
  const split = today && options.share !== undefined ? { ...today, share: options.share } : undefined;
  const verdict = rolloutVerdict(days, bounds, falseAlarm, { sample, minSample: rules.minSample, split });
  const pausedOn =
    verdict.kind !== "pause"
      ? undefined
      : verdict.reason === "split" && split
        ? `the split of conversations with real use: ${split.candidate} of ${split.candidate + split.baseline} on the new version, ` +
          `${percent(split.candidate / Math.max(1, split.candidate + split.baseline))} against the ${percent(split.share)} planned`
        : verdict.reason === "signal" && verdict.signal
          ? `${SIGNAL_WORDS[verdict.signal]}, which one owner or free inbox can make: past the threshold, it waits for your look`
          : `watched ${MAX_WATCH_DAYS} days without a halt: promote it or roll it back`;
  return {
    daysCounted: counted.size,
    threshold: verdict.threshold,
    signals: ROLLOUT_SIGNALS.map((s) => ({
      signal: s,
      candidate: sum(days[s], "candidate"),
      baseline: sum(days[s], "baseline"),
      evidence: verdict.evidence[s],
    })),
    ...(verdict.kind === "halt" ? { haltedOn: verdict.signal } : {}),
    ...(pausedOn === undefined || verdict.kind !== "pause" ? {} : { pausedOn, pauseCheck: verdict.reason }),
    sample: { candidate: sample.candidate.conversations, baseline: sample.baseline.conversations },
  };
}

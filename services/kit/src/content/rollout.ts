// A staged rollout's two decisions, pure (docs/rollouts.md): which
// conversations a rollout takes, and whether what its agents' people did
// says the new version is worse than the current one by more than the
// creator's bound.
//
// Which: a conversation's place in a rollout is a hash of the rollout and
// the conversation, a number from 0 to 9,999: it is in while that number is
// under the share (in hundredths of a percent). SHA-256, which PostgreSQL
// computes too: the claims service picks the conversations in SQL
// (`rolloutBucketSql`), the same ones as here. The same conversation is
// always in or always out at a share, and a larger share keeps everyone it
// had: an agent never flips back and forth as a rollout widens.
//
// Whether: one CUSUM per signal over the days, on the candidate's share of
// the day's events given both versions' exposures (the conditional binomial
// of two Poisson counts): S = max(0, S + the day's log likelihood ratio of
// "worse by the bound" over "the same"). The floor is what an old flood of
// the current version cannot get past: it is no debt later days repay. The
// CUSUM passes h iff some Wald test started on a day it was at 0 passes h;
// each start is a nonnegative martingale under "the same", so by Ville's
// inequality passes e^h with probability at most e^-h, and with at most D
// days watched and k signals a union over starts and signals holds the
// false halts to α at h = ln(k·D/α) (docs/decisions.md, "A rollout's test
// with a floor"). Before it: the traffic split is checked (a mismatch
// pauses), and each side needs a minimum sample before any halt.

import { sha256, toBytes } from "viem";

/** Hundredths of a percent: a share of 10% is 1,000. */
export const SHARE_BUCKETS = 10_000;

/** The place (0 to 9,999) of `conversation` in `rollout`: the first 4 bytes of SHA-256 of both, a line apart, mod 10,000. */
export function rolloutBucket(rollout: string, conversation: string): number {
  const digest = sha256(toBytes(`${rollout}\n${conversation}`));
  return Number.parseInt(digest.slice(2, 10), 16) % SHARE_BUCKETS;
}

/**
 * rolloutBucket in PostgreSQL, of the SQL expressions `rollout` and
 * `conversation` (text): the same number for the same pair.
 */
export function rolloutBucketSql(rollout: string, conversation: string): string {
  return `(('x' || substr(encode(sha256(convert_to(${rollout} || E'\\n' || ${conversation}, 'UTF8')), 'hex'), 1, 8))::bit(32)::bigint % ${SHARE_BUCKETS})`;
}

/** Whether `conversation` is in `rollout` at `shareBasisPoints` (0 to 10,000 hundredths of a percent). */
export function inRollout(rollout: string, conversation: string, shareBasisPoints: number): boolean {
  return rolloutBucket(rollout, conversation) < shareBasisPoints;
}

/**
 * What a rollout watches, each an event counted against an exposure: 👎,
 * corrections, stop requests, failed tool calls and declined approvals per
 * answer; removals within a day and pauses per agent that ran.
 */
export const ROLLOUT_SIGNALS = [
  "removals",
  "pauses",
  "stopRequests",
  "thumbsDown",
  "corrections",
  "toolCallsFailed",
  "approvalsDeclined",
] as const;
export type RolloutSignal = (typeof ROLLOUT_SIGNALS)[number];

/** Each signal by the name the contract's JSON, the REST API and `pool rollout --bound` give it. */
export const ROLLOUT_SIGNAL_NAMES: Record<RolloutSignal, string> = {
  removals: "removals",
  pauses: "pauses",
  stopRequests: "stop_requests",
  thumbsDown: "thumbs_down",
  corrections: "corrections",
  toolCallsFailed: "tool_calls_failed",
  approvalsDeclined: "approvals_declined",
};

/** One signal of one version over one day: how many times it happened, and out of how much (answers, agents). */
export interface Exposed {
  events: number;
  exposure: number;
}

/** One day of both versions' counts for one signal. */
export interface PairedDay {
  candidate: Exposed;
  baseline: Exposed;
}

/**
 * The day's log likelihood ratio for "the candidate's rate is (1 + bound)
 * times the baseline's" against "the same": given the day's events of both,
 * the candidate's are binomial, with its share of the exposure under "the
 * same" and that share weighted by 1 + bound under "worse". A day with no
 * events, or no exposure on either side, says nothing (0).
 */
export function dayEvidence(day: PairedDay, bound: number): number {
  const { candidate: c, baseline: b } = day;
  if (c.events + b.events === 0 || c.exposure <= 0 || b.exposure <= 0) return 0;
  const same = c.exposure / (c.exposure + b.exposure);
  const worse = ((1 + bound) * c.exposure) / ((1 + bound) * c.exposure + b.exposure);
  return c.events * Math.log(worse / same) + b.events * Math.log((1 - worse) / (1 - same));
}

/** A signal's CUSUM over its days: each day adds its evidence, and it never goes below 0. */
export function cusum(days: readonly PairedDay[], bound: number): number {
  return days.reduce((s, d) => Math.max(0, s + dayEvidence(d, bound)), 0);
}

/**
 * The most days the test counts (D in ln(k·D/α)): a CUSUM may restart on
 * any of them, and each restart is a test the false-alarm rate is shared
 * by. A rollout watched this long pauses for the creator to promote or roll
 * it back; later days are not counted.
 */
export const MAX_WATCH_DAYS = 30;

/** The CUSUM at which a signal halts: ln(k·D/α), each of k signals and D possible starts held to α/(k·D). */
export function haltAt(falseAlarm: number, signals = ROLLOUT_SIGNALS.length, days = MAX_WATCH_DAYS): number {
  return Math.log((signals * days) / falseAlarm);
}

/**
 * The signals past the threshold that roll a version back: what people do
 * with its answers and what it does (👎, corrections, failed tool calls),
 * which one person cannot make in bulk once counted per person. The others
 * (removals, pauses, stop requests, declined approvals) are each one owner's
 * or one free inbox's to make: past the threshold they only pause the
 * rollout for the creator's look (docs/rollouts.md, "Roll back or pause").
 */
export const ROLLBACK_SIGNALS: readonly RolloutSignal[] = ["thumbsDown", "corrections", "toolCallsFailed"];

/** The creator's bounds: how much worse, per signal, is a regression (0.5: half again the current rate). */
export type RolloutBounds = Record<RolloutSignal, number>;

/** Half again as many 👎 or removals as the current version is worth stopping for; a false alarm at most 1 in 20. */
export const DEFAULT_BOUND = 0.5;
export const DEFAULT_FALSE_ALARM = 0.05;

export const DEFAULT_BOUNDS: RolloutBounds = Object.fromEntries(
  ROLLOUT_SIGNALS.map((s) => [s, DEFAULT_BOUND]),
) as RolloutBounds;

/** One side's sample so far: conversations with real use (docs/rollouts.md), and their answers. */
export interface SideSample {
  conversations: number;
  answers: number;
}

/**
 * No halt and no signal's pause before each side has this many conversations
 * with real use… (Flagger's and Argo's minimum request count: a handful of
 * people is no evidence about a version, however loud.)
 */
export const MIN_SAMPLE_CONVERSATIONS = 10;
/** …and this many answers in them: at 3 👎 per 100 answers, six expected on each side. */
export const MIN_SAMPLE_ANSWERS = 200;

/** The minimum sample of a side at the defaults. */
export const MIN_SAMPLE: SideSample = { conversations: MIN_SAMPLE_CONVERSATIONS, answers: MIN_SAMPLE_ANSWERS };

/** Whether both sides have the minimum sample (`min`: MIN_SAMPLE unless a test stack sets its own). */
export function sampled(sample: { candidate: SideSample; baseline: SideSample }, min = MIN_SAMPLE): boolean {
  return [sample.candidate, sample.baseline].every(
    (s) => s.conversations >= min.conversations && s.answers >= min.answers,
  );
}

/** The traffic split as it is and as planned: conversations on each side, and the share the creator signed (0 to 1). */
export interface Split {
  candidate: number;
  baseline: number;
  share: number;
}

/** A mismatched split pauses at this chance of doing so for a right one, however often it is looked at. */
export const SPLIT_FALSE_ALARM = 0.001;
/** The mixture's weight, in conversations, around the planned share: wide enough to see a split off by a few points. */
export const SPLIT_PRIOR = 100;

/** ln Γ(x), x > 0 (Lanczos, g = 7): enough for the ratio of Beta functions below. */
function lnGamma(x: number): number {
  const c = [
    0.9999999999998099, 676.5203681218851, -1259.1392167224028, 771.3234287776531, -176.6150291621406,
    12.507343278686905, -0.13857109526572012, 9.984369578019572e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - lnGamma(1 - x);
  const y = x - 1;
  let a = c[0] ?? 0;
  const t = y + 7.5;
  for (let i = 1; i < 9; i++) a += (c[i] ?? 0) / (y + i);
  return 0.5 * Math.log(2 * Math.PI) + (y + 0.5) * Math.log(t) - t + Math.log(a);
}
const lnBeta = (a: number, b: number) => lnGamma(a) + lnGamma(b) - lnGamma(a + b);

/**
 * The evidence that the split is not the planned one: the log Bayes factor
 * of a Beta mixture around the planned share (weight SPLIT_PRIOR) against
 * the planned share itself, over the conversations on each side. Under the
 * planned share it is a nonnegative martingale as conversations arrive, so
 * it passes ln(1/SPLIT_FALSE_ALARM) with at most that chance however often
 * it is looked at (Lindon and Malek's sequential sample-ratio test).
 */
export function splitEvidence(split: Split): number {
  const { candidate: x, baseline: y, share: p } = split;
  if (p <= 0 || p >= 1 || x + y === 0) return 0;
  const a = p * SPLIT_PRIOR;
  const b = (1 - p) * SPLIT_PRIOR;
  return lnBeta(a + x, b + y) - lnBeta(a, b) - x * Math.log(p) - y * Math.log(1 - p);
}

/** Why the pool pauses a rollout: the split is off, a pause-only signal passed its threshold, or the watch is over. */
export type PauseReason = "split" | "signal" | "watched";

/** What the pool decides of a rollout so far: go on, pause for the creator's look, or halt, with the figures. */
export type RolloutVerdict =
  | { kind: "continue"; evidence: Record<RolloutSignal, number>; threshold: number; sampled: boolean }
  | {
      kind: "pause";
      reason: PauseReason;
      /** The signal past its threshold, for reason "signal". */
      signal?: RolloutSignal;
      evidence: Record<RolloutSignal, number>;
      threshold: number;
    }
  | { kind: "halt"; signal: RolloutSignal; evidence: Record<RolloutSignal, number>; threshold: number };

/** What the verdict checks besides the signals: each side's sample, and the split. Absent: not checked. */
export interface RolloutChecks {
  sample?: { candidate: SideSample; baseline: SideSample } | undefined;
  /** The minimum each side needs; absent: MIN_SAMPLE. */
  minSample?: SideSample | undefined;
  split?: Split | undefined;
}

/**
 * The verdict over the days counted so far (each signal's days paired, days
 * below the conversation threshold left out by the caller; at most the first
 * MAX_WATCH_DAYS counted):
 *
 *   1. a split off the plan pauses, whatever the signals say: the evidence
 *      is not of the planned traffic;
 *   2. before both sides have the minimum sample, nothing halts or pauses;
 *   3. a roll-back signal past the threshold halts (the one furthest past);
 *   4. a pause-only signal past it pauses;
 *   5. MAX_WATCH_DAYS counted: the watch is over, it pauses.
 */
export function rolloutVerdict(
  days: Readonly<Record<RolloutSignal, readonly PairedDay[]>>,
  bounds: RolloutBounds = DEFAULT_BOUNDS,
  falseAlarm = DEFAULT_FALSE_ALARM,
  checks: RolloutChecks = {},
): RolloutVerdict {
  const threshold = haltAt(falseAlarm);
  const evidence = Object.fromEntries(
    ROLLOUT_SIGNALS.map((s) => [s, cusum((days[s] ?? []).slice(0, MAX_WATCH_DAYS), bounds[s])]),
  ) as Record<RolloutSignal, number>;
  if (checks.split && splitEvidence(checks.split) >= Math.log(1 / SPLIT_FALSE_ALARM))
    return { kind: "pause", reason: "split", evidence, threshold };
  if (checks.sample && !sampled(checks.sample, checks.minSample))
    return { kind: "continue", evidence, threshold, sampled: false };
  const past = (signals: readonly RolloutSignal[]) =>
    signals
      .filter((s) => evidence[s] >= threshold)
      .reduce<RolloutSignal | undefined>((a, b) => (a === undefined || evidence[b] > evidence[a] ? b : a), undefined);
  const halt = past(ROLLBACK_SIGNALS);
  if (halt) return { kind: "halt", signal: halt, evidence, threshold };
  const pause = past(ROLLOUT_SIGNALS.filter((s) => !ROLLBACK_SIGNALS.includes(s)));
  if (pause) return { kind: "pause", reason: "signal", signal: pause, evidence, threshold };
  if (Math.max(...ROLLOUT_SIGNALS.map((s) => days[s]?.length ?? 0)) >= MAX_WATCH_DAYS)
    return { kind: "pause", reason: "watched", evidence, threshold };
  return { kind: "continue", evidence, threshold, sampled: true };
}

/**
 * One source of a signal's events on one side over the rollout, by UTC day
 * (YYYY-MM-DD): a person where the agents' reports count per person, else a
 * conversation (docs/rollouts.md, "What the decision assumes").
 */
export interface SourceCounts {
  source: string;
  /** On the new version (in the share), or the current one. */
  candidate: boolean;
  days: Readonly<Record<string, Exposed>>;
  /** Its day's cap (PERSON_DAY_EVENTS for a person); absent: the one pairedDays is given. */
  cap?: number | undefined;
}

/**
 * A source's events on a day count at most this many: past it the day keeps
 * its rate and loses weight (events and exposure scaled down together), so
 * one loud source neither makes a version worse nor hides a worse one, and
 * the rate each side shows stays its own. A conversation's honest day (20
 * answers at 3 👎 in 100) passes 3 about once in 300. With a person as the
 * source, 1: a person counts once per side and day.
 */
export const MAX_SOURCE_DAY_EVENTS = 3;

/** A person's day counts one event at most on a side, across all their conversations: one person is one voice a day. */
export const PERSON_DAY_EVENTS = 1;

/**
 * The days paired for the test: each source's day capped (its own cap, else
 * `cap`), then the
 * one source on each side that brought the most events left out, so no
 * single source can halt a rollout alone nor hide a regression by flooding
 * the current version. Leaving out the largest only makes the test more
 * careful. Days sorted; a day either side lacks counts as no exposure there
 * (and says nothing).
 */
export function pairedDays(sources: readonly SourceCounts[], cap = MAX_SOURCE_DAY_EVENTS): PairedDay[] {
  const capOf = (c: SourceCounts) => c.cap ?? cap;
  const cappedAt = (d: Exposed, at: number): Exposed =>
    d.events > at ? { events: at, exposure: (d.exposure * at) / d.events } : d;
  const total = (c: SourceCounts) => Object.values(c.days).reduce((n, d) => n + cappedAt(d, capOf(c)).events, 0);
  const without = (side: SourceCounts[]) => {
    if (side.length < 2) return side;
    const most = side.reduce((a, b) => (total(b) > total(a) ? b : a));
    return side.filter((c) => c !== most);
  };
  const candidate = without(sources.filter((c) => c.candidate));
  const baseline = without(sources.filter((c) => !c.candidate));
  const sum = (side: SourceCounts[], day: string): Exposed =>
    side.reduce(
      (acc, c) => {
        const d = c.days[day];
        if (!d) return acc;
        const k = cappedAt(d, capOf(c));
        return { events: acc.events + k.events, exposure: acc.exposure + k.exposure };
      },
      { events: 0, exposure: 0 },
    );
  const days = [...new Set(sources.flatMap((c) => Object.keys(c.days)))].sort();
  return days.map((day) => ({ candidate: sum(candidate, day), baseline: sum(baseline, day) }));
}

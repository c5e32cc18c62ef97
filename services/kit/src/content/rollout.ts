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
// Whether: one Wald sequential probability ratio test per signal, on the
// candidate's share of the day's events given both versions' exposures (the
// conditional binomial of two Poisson counts). Under "no worse" the product
// of the days' likelihood ratios is a nonnegative martingale, so by Ville's
// inequality it passes 1/α with probability at most α, however long the
// rollout runs and however often it is looked at: the false alarms are
// controlled while the data comes in. With k signals each is held to α/k.

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

/** The evidence over the days so far: the sum of the days' (a product of likelihood ratios, in logs). */
export function evidence(days: readonly PairedDay[], bound: number): number {
  return days.reduce((sum, d) => sum + dayEvidence(d, bound), 0);
}

/** The evidence at which a signal halts: ln(k/α), each of k signals held to α/k. */
export function haltAt(falseAlarm: number, signals = ROLLOUT_SIGNALS.length): number {
  return Math.log(signals / falseAlarm);
}

/** The creator's bounds: how much worse, per signal, is a regression (0.5: half again the current rate). */
export type RolloutBounds = Record<RolloutSignal, number>;

/** Half again as many 👎 or removals as the current version is worth stopping for; a false alarm at most 1 in 20. */
export const DEFAULT_BOUND = 0.5;
export const DEFAULT_FALSE_ALARM = 0.05;

export const DEFAULT_BOUNDS: RolloutBounds = Object.fromEntries(
  ROLLOUT_SIGNALS.map((s) => [s, DEFAULT_BOUND]),
) as RolloutBounds;

/** What the pool decides of a rollout so far: go on, or halt on the first signal past its bound, with the figures. */
export type RolloutVerdict =
  | { kind: "continue"; evidence: Record<RolloutSignal, number> }
  | { kind: "halt"; signal: RolloutSignal; evidence: Record<RolloutSignal, number>; threshold: number };

/**
 * The verdict over the days so far, each signal's days paired (days below
 * the conversation threshold left out by the caller). Halts on the signal
 * whose evidence is furthest past its threshold.
 */
export function rolloutVerdict(
  days: Readonly<Record<RolloutSignal, readonly PairedDay[]>>,
  bounds: RolloutBounds = DEFAULT_BOUNDS,
  falseAlarm = DEFAULT_FALSE_ALARM,
): RolloutVerdict {
  const threshold = haltAt(falseAlarm);
  const scores = Object.fromEntries(ROLLOUT_SIGNALS.map((s) => [s, evidence(days[s] ?? [], bounds[s])])) as Record<
    RolloutSignal,
    number
  >;
  const worst = ROLLOUT_SIGNALS.reduce((a, b) => (scores[b] > scores[a] ? b : a));
  return scores[worst] >= threshold
    ? { kind: "halt", signal: worst, evidence: scores, threshold }
    : { kind: "continue", evidence: scores };
}

/** One conversation's counts of one signal over the rollout, by UTC day (YYYY-MM-DD). */
export interface ConversationCounts {
  conversation: string;
  /** On the new version (in the share), or the current one. */
  candidate: boolean;
  days: Readonly<Record<string, Exposed>>;
}

/**
 * The days paired for the test, with the one conversation on each side that
 * brought the most events left out: no single conversation (one member who
 * 👎 every answer, a rival creator's agent removed at once) can halt a
 * rollout alone, nor hide a regression by flooding the current version.
 * Leaving out the largest only makes the test more careful: its false
 * alarms stay under the promise. Days sorted; a day either side lacks
 * counts as no exposure there (and says nothing).
 */
export function pairedDays(conversations: readonly ConversationCounts[]): PairedDay[] {
  const total = (c: ConversationCounts) => Object.values(c.days).reduce((n, d) => n + d.events, 0);
  const without = (side: ConversationCounts[]) => {
    if (side.length < 2) return side;
    const most = side.reduce((a, b) => (total(b) > total(a) ? b : a));
    return side.filter((c) => c !== most);
  };
  const candidate = without(conversations.filter((c) => c.candidate));
  const baseline = without(conversations.filter((c) => !c.candidate));
  const sum = (side: ConversationCounts[], day: string): Exposed =>
    side.reduce(
      (acc, c) => {
        const d = c.days[day];
        return d ? { events: acc.events + d.events, exposure: acc.exposure + d.exposure } : acc;
      },
      { events: 0, exposure: 0 },
    );
  const days = [...new Set(conversations.flatMap((c) => Object.keys(c.days)))].sort();
  return days.map((day) => ({ candidate: sum(candidate, day), baseline: sum(baseline, day) }));
}

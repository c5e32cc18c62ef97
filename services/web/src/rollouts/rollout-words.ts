// A staged rollout in the creator's words (docs/rollouts.md; the studio's
// rollout page): its share, state, conversations and steps as sentences,
// and the watch's figures per signal as rows of a table: each version's
// rate per 100 of what it is counted against, the creator's bound, and how
// close the evidence is to the halt line. Pure; what may be done is
// rollout-policy.ts's.
import {
  RolloutAction,
  RolloutPauseCheck,
  RolloutState,
  type Rollout,
  type RolloutBounds,
  type RolloutSignalFigures,
  type RolloutStep,
  type RolloutWatch,
} from "@convos-pool/gen/convos/pool/v1/rollout_service_pb.js";
import { ALL_BASIS_POINTS, BOUND_FIELDS, plannedRamp } from "./rollout-policy";
import { plural } from "../words/words";

/** A share in hundredths of a percent as people write it: 1,000 is "10%", 1,250 "12.5%". */
export const percent = (basisPoints: number) =>
  `${new Intl.NumberFormat("en", { maximumFractionDigits: 2 }).format(basisPoints / 100)}%`;

const STATES: Record<RolloutState, string> = {
  [RolloutState.UNSPECIFIED]: "unknown",
  [RolloutState.RUNNING]: "running",
  [RolloutState.PAUSED]: "paused",
  [RolloutState.PROMOTED]: "promoted",
  [RolloutState.ROLLED_BACK]: "rolled back",
  [RolloutState.HALTED]: "halted by the pool",
};
export const stateWords = (s: RolloutState) => STATES[s] ?? "unknown";

/** What the state means for the template's conversations, in one or two sentences. */
export function stateSentence(r: Rollout): string {
  const [b, c, f] = [r.baselineVersion, r.candidateVersion, r.fallbackVersion];
  switch (r.state) {
    case RolloutState.RUNNING:
      return `Version ${c} reaches ${percent(r.shareBasisPoints)} of conversations; the others stay on version ${b}. The pool compares the two and halts it if people do worse with version ${c}.`;
    case RolloutState.PAUSED:
      return `Paused at ${percent(r.shareBasisPoints)}: no more agents move to version ${c}, and those on it stay. The pool still compares the two.`;
    case RolloutState.PROMOTED:
      return `Promoted: every conversation follows version ${c}.`;
    case RolloutState.ROLLED_BACK:
      return `Rolled back: every agent follows version ${f}, the content of version ${b} again.`;
    case RolloutState.HALTED:
      return `The pool halted it: every agent follows version ${f}, the content of version ${b} again.`;
    default:
      return "The pool answered with a state this page does not know.";
  }
}

/** How many conversations run the new version, of those on either, as the pool's latest look counted them. */
export function conversationsWords(r: Rollout): string {
  if (!r.watch || r.conversations === 0) return "not counted yet: the pool counts them when it looks at the figures";
  return `${r.conversationsIn.toLocaleString("en")} of ${plural(r.conversations, "conversation")} on version ${r.candidateVersion}`;
}

const STEP_WORDS: Record<RolloutAction, (share: string) => string> = {
  [RolloutAction.UNSPECIFIED]: () => "A step this page does not know",
  [RolloutAction.START]: (s) => `Started at ${s}`,
  [RolloutAction.WIDEN]: (s) => `Widened to ${s}`,
  [RolloutAction.PAUSE]: (s) => `Paused at ${s}`,
  [RolloutAction.RESUME]: (s) => `Resumed at ${s}`,
  [RolloutAction.PROMOTE]: () => "Promoted to every conversation",
  [RolloutAction.ROLL_BACK]: () => "Rolled back",
  [RolloutAction.HALT]: () => "Halted",
};

/** A step of the timeline: "Started at 10% by you, today, 10:02". The creator signs theirs; the pool's halt is unsigned. */
export function stepSentence(s: RolloutStep, at: string): string {
  const what = (STEP_WORDS[s.action] ?? STEP_WORDS[RolloutAction.UNSPECIFIED])(percent(s.shareBasisPoints));
  return `${what} by ${s.signature ? "you" : "the pool"}, ${at}`;
}

/** The signals in the order the page lists them, with their names and what each is counted against. */
const SIGNALS: Record<string, { name: string; per: string }> = {
  thumbs_down: { name: "Thumbs down on its answers", per: "answers" },
  corrections: { name: "Corrections", per: "answers" },
  stop_requests: { name: "Stopped while thinking", per: "answers" },
  tool_calls_failed: { name: "Failed tool calls", per: "answers" },
  approvals_declined: { name: "Approvals its owner declined", per: "answers" },
  removals: { name: "Removed within a day of the claim", per: "agents that ran" },
  pauses: { name: "Paused by their owner", per: "agents' days" },
};

const figure = (n: number, digits = 1) => new Intl.NumberFormat("en", { maximumFractionDigits: digits }).format(n);

/** Events per 100 of their exposure, as a figure; undefined with no exposure (no rate, never a zero). */
export function per100(events: number, exposure: number): string | undefined {
  return exposure > 0 ? figure((events * 100) / exposure) : undefined;
}

/** How close a signal's evidence is to the line where the pool halts. */
export function closeness(evidence: number, threshold: number): string {
  if (threshold <= 0) return "no halt line yet";
  if (evidence >= threshold) return "past the halt line";
  if (evidence <= 0) return "leaning to no worse";
  return `${Math.round((evidence * 100) / threshold)}% of the way to the halt line`;
}

export interface SignalRow {
  signal: string;
  name: string;
  /** What the rates are per: "per 100 answers". */
  per: string;
  /** "4 (20 in 500)": the rate, then the counts; or what stands in for a rate that cannot be had. */
  candidate: string;
  baseline: string;
  /** The creator's bound as a multiple of the current rate: "1.5 ×". */
  halts: string;
  evidence: string;
}

const BOUND_OF = Object.fromEntries(BOUND_FIELDS.map(([field, name]) => [name, field]));

/** The watch's figures as the table's rows, one per signal it reported, in the page's order. */
export function signalRows(w: RolloutWatch, bounds: RolloutBounds | undefined): SignalRow[] {
  const side = (events: number, exposure: number, per: string) => {
    const rate = per100(events, exposure);
    return rate === undefined ? `no ${per} yet` : `${rate} (${figure(events)} in ${figure(exposure)})`;
  };
  const known = Object.keys(SIGNALS);
  const byOrder = (a: RolloutSignalFigures, b: RolloutSignalFigures) =>
    (known.indexOf(a.signal) + 1 || 99) - (known.indexOf(b.signal) + 1 || 99);
  return [...w.signals].sort(byOrder).map((s) => {
    const about = SIGNALS[s.signal] ?? { name: s.signal, per: "answers" };
    const field = BOUND_OF[s.signal];
    const bound = field && bounds ? bounds[field] : 0;
    return {
      signal: s.signal,
      name: about.name,
      per: `per 100 ${about.per}`,
      candidate: side(s.candidateEvents, s.candidateExposure, about.per),
      baseline: side(s.baselineEvents, s.baselineExposure, about.per),
      halts: bound > 0 ? `${figure(1 + bound, 2)} ×` : "—",
      evidence: `${s.evidence.toFixed(2)} of ${w.threshold.toFixed(2)}: ${closeness(s.evidence, w.threshold)}`,
    };
  });
}

/** The figures the day-by-day chart offers, by their name in SignalFigures: the per-answer signals the pool watches. */
export const CHART_FIGURES = [
  ["thumbsDown", "Thumbs down on its answers"],
  ["corrections", "Corrections"],
  ["stopRequests", "Stopped while thinking"],
  ["toolCallsFailed", "Failed tool calls"],
  ["approvalsDeclined", "Approvals its owner declined"],
] as const;
export type ChartFigure = (typeof CHART_FIGURES)[number][0];

/** How many days the watch counted, and why there may be none yet. */
export function daysCountedWords(w: RolloutWatch | undefined, minConversations = 5): string {
  if (!w) return "The pool has not looked at the figures yet.";
  if (w.daysCounted === 0)
    return `No day counted yet: a day counts when each version's agents are in at least ${minConversations} conversations.`;
  return `${plural(w.daysCounted, "day")} counted; the pool halts the rollout when a signal's evidence reaches ${w.threshold.toFixed(2)}.`;
}

/** Each side's sample against what the watch needs before a signal halts or pauses it, in people's terms. */
export function sampleWords(w: RolloutWatch | undefined): string[] {
  if (!w || w.minSample === 0) return [];
  const side = (n: number, which: string) =>
    n < w.minSample
      ? `${n.toLocaleString("en")} of ${plural(w.minSample, "conversation")} with real use on the ${which}`
      : `${plural(n, "conversation")} with real use on the ${which} (${w.minSample.toLocaleString("en")} needed)`;
  return [side(w.candidateSample, "new version"), side(w.baselineSample, "current version")];
}

/**
 * Which of the watch's checks paused a rollout (Rollout.watch.pause_check), never read from its words;
 * "unnamed" for a pause a watch kept before the check was named (the next look names it).
 */
export type PauseCheck = "split" | "signal" | "watched" | "unnamed";
const PAUSE_CHECKS: Record<RolloutPauseCheck, PauseCheck> = {
  [RolloutPauseCheck.UNSPECIFIED]: "unnamed",
  [RolloutPauseCheck.SPLIT]: "split",
  [RolloutPauseCheck.SIGNAL]: "signal",
  [RolloutPauseCheck.WATCHED]: "watched",
};
export function pauseCheck(w: RolloutWatch): PauseCheck {
  return PAUSE_CHECKS[w.pauseCheck] ?? "unnamed";
}

const CHECKS: Record<PauseCheck, { name: string; why: string }> = {
  split: {
    name: "the split of conversations is off the share you planned",
    why: "The pool compares the versions only on the traffic you signed for: until the conversations on each version match your share again, the figures are not of your plan. It looks again every round.",
  },
  signal: {
    name: "a signal that only pauses passed the line",
    why: "Removals, pauses, stop requests and declined approvals are each one owner's to make, so past the line they pause the rollout for your look instead of rolling it back.",
  },
  watched: {
    name: "the watch is over",
    why: "The pool watched it as long as it counts days and found no regression: promote it or roll it back.",
  },
  unnamed: {
    name: "a check of its watch",
    why: "The reason above says which; the pool names the check again at its next look.",
  },
};

export interface PausePanel {
  check: PauseCheck;
  heading: string;
  /** Lineage's reason with its figures, as a sentence. */
  reason: string;
  why: string;
  samples: string[];
  /** Why widening waits. */
  widen: string;
}

/** What the page says of a rollout the pool's watch paused (Rollout.watch.paused_on); undefined when it does not. */
export function pausePanel(w: RolloutWatch | undefined): PausePanel | undefined {
  if (!w?.pausedOn) return undefined;
  const check = pauseCheck(w);
  const reason = `${w.pausedOn.charAt(0).toUpperCase()}${w.pausedOn.slice(1)}`;
  return {
    check,
    heading: `Paused by the pool: ${CHECKS[check].name}`,
    reason: /[.!?]$/.test(reason) ? reason : `${reason}.`,
    why: CHECKS[check].why,
    samples: sampleWords(w),
    widen: `Widening waits while the pool pauses this rollout (${CHECKS[check].name}); it widens again once a look no longer pauses it. You may still pause, promote or roll it back.`,
  };
}

/** A live rollout's ramp as the page lists it: "10%: taken", "50%: here now", "every conversation: ahead, when you promote". */
export function rampWords(r: Rollout): string[] {
  return plannedRamp(r).map(({ share, at }) => {
    const where = share === ALL_BASIS_POINTS ? "every conversation" : percent(share);
    if (at === "taken") return `${where}: taken`;
    if (at === "now") return `${where}: here now`;
    return share === ALL_BASIS_POINTS ? `${where}: ahead, when you promote` : `${where}: ahead, when you widen`;
  });
}

// The overload benchmark's figures and its goals (issue 79), pure: the
// outcomes of each level in, lines out. bench/overload.ts measures.
import { figures, type Figures } from "./lib.js";

/** One claim of an open loop: its latency from its scheduled start, and "ok", "Throttled" (refused by the client) or its Connect code's name. */
export interface Outcome {
  ms: number;
  /** How late after its schedule the benchmark sent it (its own event loop's lag); 0 when not measured. */
  lateMs?: number;
  code: string;
}

export interface Level {
  factor: number;
  /** Claims offered a second. */
  offered: number;
  /** Claims answered a second over the level's time. */
  goodput: number;
  admitted: Figures;
  /** Refused, by the service (RESOURCE_EXHAUSTED) or by the kit client's throttle before sending. */
  refused: number;
  throttled: number;
  refusedP99: number;
  /** The service's refusals (not the client's), p99 from their send: what the service made them wait. */
  serviceRefusedSentP99: number;
  /** Failures other than refusals, by code. */
  other: Record<string, number>;
}

export function levelFigures(factor: number, offered: number, seconds: number, outcomes: readonly Outcome[]): Level {
  const ok = outcomes.filter((o) => o.code === "ok").map((o) => o.ms);
  const isRefusal = (code: string) => code === "ResourceExhausted" || code === "Throttled";
  const refused = outcomes.filter((o) => isRefusal(o.code)).map((o) => o.ms);
  const fromSend = outcomes.filter((o) => o.code === "ResourceExhausted").map((o) => o.ms - (o.lateMs ?? 0));
  const other: Record<string, number> = {};
  for (const o of outcomes) if (o.code !== "ok" && !isRefusal(o.code)) other[o.code] = (other[o.code] ?? 0) + 1;
  return {
    factor,
    offered,
    goodput: ok.length / seconds,
    admitted: ok.length > 0 ? figures(ok) : { p50: Number.NaN, p99: Number.NaN, mean: Number.NaN },
    refused: refused.length,
    throttled: outcomes.filter((o) => o.code === "Throttled").length,
    refusedP99: refused.length > 0 ? figures(refused).p99 : 0,
    serviceRefusedSentP99: fromSend.length > 0 ? figures(fromSend).p99 : 0,
    other,
  };
}

/** The issue's goals, as numbers. */
export const GOALS = {
  /** Goodput at 4x offered, of the closed loop's capacity. */
  goodputAt4x: 0.9,
  /** p99 of admitted claims at any level, over the p99 at 0.5x. */
  admittedP99: 3,
  /** Refusals answered within, p99, ms. */
  refusalP99Ms: 5,
};

const met = (ok: boolean) => (ok ? "met" : "MISSED");

/** One line per goal, each with its figure and met or MISSED. */
export function overloadGoals(
  levels: readonly Level[],
  end: { claiming: number; claimed: number; answered: number },
): string[] {
  const at = (factor: number) => levels.find((l) => l.factor === factor);
  const half = at(0.5);
  const four = at(4);
  const capacity = at(1)?.offered ?? Number.NaN;
  const lines: string[] = [];
  if (four) {
    const share = four.goodput / capacity;
    lines.push(
      `goal: goodput at 4x >= ${GOALS.goodputAt4x * 100}% of capacity: ${four.goodput.toFixed(0)}/s of ${capacity.toFixed(0)}/s, ${(share * 100).toFixed(0)}% (${met(share >= GOALS.goodputAt4x)})`,
    );
  }
  if (half) {
    const worst = levels.reduce((w, l) => (l.admitted.p99 > w.admitted.p99 ? l : w), half);
    const ratio = worst.admitted.p99 / half.admitted.p99;
    lines.push(
      `goal: p99 of admitted claims <= ${GOALS.admittedP99}x the p99 at 0.5x (${half.admitted.p99.toFixed(1)} ms): worst ${worst.admitted.p99.toFixed(1)} ms at ${worst.factor}x, ${ratio.toFixed(1)}x (${met(ratio <= GOALS.admittedP99)})`,
    );
  }
  const refusing = levels.filter((l) => l.refused > 0);
  const worstRefusal = Math.max(0, ...refusing.map((l) => l.refusedP99));
  const worstSent = Math.max(0, ...refusing.map((l) => l.serviceRefusedSentP99));
  lines.push(
    refusing.length === 0
      ? "goal: refusals answered in <= 5 ms p99: no refusal in the run"
      : `goal: refusals answered in <= ${GOALS.refusalP99Ms} ms p99: worst level ${worstRefusal.toFixed(1)} ms from their schedule ` +
          `(the service's from their send: ${worstSent.toFixed(1)} ms) (${met(worstRefusal <= GOALS.refusalP99Ms)})`,
  );
  const whole = end.claiming === 0 && end.claimed >= end.answered;
  lines.push(
    `goal: no claim half done: ${end.claiming} rows left claiming, ${end.claimed} claimed for ${end.answered} claims answered` +
      `${end.claimed > end.answered ? ` (${end.claimed - end.answered} completed after their caller gave up)` : ""} (${met(whole)})`,
  );
  return lines;
}

// ---------------------------------------------------------------- the REST mix (bench/overload-rest.ts)

/** What the web app asks of the gateway's REST face: a claim (default), a store listing or a dashboard read (both sheddable). */
export type MixKind = "claim" | "listing" | "dashboard";

const MIX: readonly MixKind[] = [
  "claim",
  "listing",
  "claim",
  "dashboard",
  "listing",
  "claim",
  "listing",
  "dashboard",
  "claim",
  "listing",
];

/** The i-th request's kind: of every 10, 4 claims, 4 store listings and 2 dashboard reads, interleaved. */
export function mixKind(i: number): MixKind {
  return MIX[i % MIX.length]!;
}

const refusal = (code: string) => code === "ResourceExhausted" || code === "Throttled";

/** One level of the REST mix: a line per kind (offered, goodput, admitted p99, refused and their p99), and whether listings and dashboards were refused more often than claims. */
export function restMixLines(
  factor: number,
  offered: number,
  seconds: number,
  outcomes: readonly (Outcome & { i: number })[],
): string[] {
  const lines = [`REST ${factor}x offered (${offered.toFixed(0)}/s)`];
  const share: Partial<Record<MixKind, number>> = {};
  for (const kind of ["claim", "listing", "dashboard"] as const) {
    const mine = outcomes.filter((o) => mixKind(o.i) === kind);
    const l = levelFigures(factor, mine.length / seconds, seconds, mine);
    share[kind] = mine.length > 0 ? mine.filter((o) => refusal(o.code)).length / mine.length : 0;
    lines.push(
      `  ${kind.padEnd(9)} offered ${l.offered.toFixed(0).padStart(4)}/s goodput ${l.goodput.toFixed(0).padStart(4)}/s ` +
        `admitted p99 ${l.admitted.p99.toFixed(0).padStart(5)} ms  refused ${String(l.refused).padStart(4)} (${((share[kind] ?? 0) * 100).toFixed(0)}%, ${l.throttled} by the gateway's client) ` +
        `p99 ${l.refusedP99.toFixed(0)} ms  other ${JSON.stringify(l.other)}`,
    );
  }
  const { claim = 0, listing = 0, dashboard = 0 } = share;
  if (claim + listing + dashboard > 0)
    lines.push(
      `  listings and dashboards shed before claims: ${listing > claim && dashboard > claim ? "yes" : "NO"} ` +
        `(refused: listings ${(listing * 100).toFixed(0)}%, dashboards ${(dashboard * 100).toFixed(0)}%, claims ${(claim * 100).toFixed(0)}%)`,
    );
  return lines;
}

/**
 * Where the REST mix's answered requests spent their time, per kind: the
 * mean from schedule as the caller saw it, the mean in the service behind
 * the gateway (its own histogram, `service`), and how late this process
 * sent them (p99): the rest is the gateway and the hops between.
 */
export function restTimeLine(
  outcomes: readonly (Outcome & { i: number })[],
  service: Record<MixKind, { count: number; meanMs: number }>,
): string {
  const mean = (xs: number[]) => (xs.length > 0 ? xs.reduce((a, b) => a + b, 0) / xs.length : Number.NaN);
  const parts = (["claim", "listing", "dashboard"] as const).map((kind) => {
    const ok = outcomes.filter((o) => mixKind(o.i) === kind && o.code === "ok");
    const own = service[kind];
    return (
      `${kind}s ${mean(ok.map((o) => o.ms)).toFixed(0)} ms from schedule, ` +
      `${own.meanMs.toFixed(0)} ms in the service (${own.count} calls)`
    );
  });
  const late = outcomes.map((o) => o.lateMs ?? 0);
  const lateP99 = late.length > 0 ? figures(late).p99 : 0;
  return `  mean time of those answered: ${parts.join("; ")}; sent late by this process p99 ${lateP99.toFixed(0)} ms`;
}

// How much of people's use a rollout needs before it halts a worse version,
// and how often it halts one that is no worse (docs/rollouts.md). Simulated
// counts, the pool's own decision (kit `rolloutVerdict`): conversations
// whose agents answer ANSWERS a day, a share of them on the candidate, the
// baseline's 👎 at BASE_RATE per answer and the candidate's at that times
// the effect; the verdict looked at after every day, as the pool does.
//
//   npm run -s bench:rollout                  2,000 runs a cell
//   BENCH_QUICK=1 npm run -s bench:rollout    200
//
// For each effect and number of conversations: the share of runs halted
// within 30 days, and the days (median, 90th percentile) and candidate
// conversations' answers it took. An effect of 1.00 is two equal versions:
// its halt rate is the false halts, which the test holds under 5% whatever
// the number of looks.
import {
  DEFAULT_FALSE_ALARM,
  ROLLOUT_SIGNALS,
  rolloutVerdict,
  type PairedDay,
  type RolloutSignal,
} from "@convos-pool/kit/content";
import { QUICK } from "./lib.js";

const RUNS = QUICK ? 200 : 2000;
const DAYS = 30;
const ANSWERS = 20;
const BASE_RATE = 0.03;
const SHARE = 0.1;
const EFFECTS = [1, 1.25, 1.5, 2, 3];
const CONVERSATIONS = [20, 50, 200, 1000];

function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A Poisson count: Knuth's for small means, a rounded normal past 50. */
function poisson(mean: number, next: () => number): number {
  if (mean > 50) {
    const z = Math.sqrt(-2 * Math.log(next() || 1e-12)) * Math.cos(2 * Math.PI * next());
    return Math.max(0, Math.round(mean + Math.sqrt(mean) * z));
  }
  const limit = Math.exp(-mean);
  let k = 0;
  let p = next();
  while (p > limit) {
    k++;
    p *= next();
  }
  return k;
}

const at = (xs: number[], q: number) => xs.sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];

interface Cell {
  halted: number;
  days: number[];
}

function run(effect: number, conversations: number, next: () => number): Cell {
  const candidate = Math.max(1, Math.round(conversations * SHARE));
  const baseline = conversations - candidate;
  const cell: Cell = { halted: 0, days: [] };
  for (let r = 0; r < RUNS; r++) {
    const days = Object.fromEntries(ROLLOUT_SIGNALS.map((s) => [s, [] as PairedDay[]])) as Record<
      RolloutSignal,
      PairedDay[]
    >;
    for (let d = 1; d <= DAYS; d++) {
      const c = candidate * ANSWERS;
      const b = baseline * ANSWERS;
      days.thumbsDown.push({
        candidate: { events: poisson(c * BASE_RATE * effect, next), exposure: c },
        baseline: { events: poisson(b * BASE_RATE, next), exposure: b },
      });
      if (rolloutVerdict(days).kind === "halt") {
        cell.halted++;
        cell.days.push(d);
        break;
      }
    }
  }
  return cell;
}

const next = random(2026);
console.log(
  `rollout halts, simulated: ${RUNS} runs a cell, ${DAYS} days, ${SHARE * 100}% of conversations on the candidate, ` +
    `${ANSWERS} answers a conversation a day, 👎 at ${BASE_RATE * 100} per 100 answers on the baseline; ` +
    `bound +50%, false alarm ${DEFAULT_FALSE_ALARM} over ${ROLLOUT_SIGNALS.length} signals`,
);
console.log("effect  conversations  halted in 30 days  days p50  days p90  candidate answers p50");
for (const effect of EFFECTS)
  for (const conversations of CONVERSATIONS) {
    const cell = run(effect, conversations, next);
    const share = cell.halted / RUNS;
    const p50 = cell.days.length ? at(cell.days, 0.5) : undefined;
    const p90 = cell.days.length ? at(cell.days, 0.9) : undefined;
    const answers = p50 === undefined ? "-" : String(p50 * Math.max(1, Math.round(conversations * SHARE)) * ANSWERS);
    console.log(
      [
        effect.toFixed(2).padStart(6),
        String(conversations).padStart(13),
        `${(share * 100).toFixed(1)}%`.padStart(17),
        String(p50 ?? "-").padStart(8),
        String(p90 ?? "-").padStart(8),
        answers.padStart(22),
      ].join("  "),
    );
  }

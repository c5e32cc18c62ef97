// How much of people's use a rollout needs before it halts a worse version,
// how often it halts one that is no worse, and what one person, a crowd of
// free inboxes and the creator can do to it (docs/rollouts.md). Simulated
// counts, the pool's own decision:
//
// - the grid: conversations whose agents answer ANSWERS a day, a share of
//   them on the candidate, the baseline's 👎 at BASE_RATE per answer and the
//   candidate's at that times the effect, summed per side (kit
//   `rolloutVerdict` with each side's sample), looked at after every day;
// - the attacks: simulated people in CONVERSATIONS conversations, each an
//   owner's agent with real use, counted by lineage's own rules
//   (`watchRollout`: the creator and owners of many agents out, real use,
//   removals per owner, a person once a side and day, the cap per source,
//   the split), each attack beside the same rollout without it
//   (rollout-attacks.ts).
//
//   npm run -s bench:rollout                  2,000 runs a cell, 200 an attack
//   BENCH_QUICK=1 npm run -s bench:rollout    200, 30
//
// The goals are printed beside the figures, each met or not.
import {
  DEFAULT_BOUND,
  DEFAULT_BOUNDS,
  DEFAULT_FALSE_ALARM,
  MAX_WATCH_DAYS,
  ROLLOUT_SIGNALS,
  dayEvidence,
  haltAt,
  rolloutVerdict,
  type PairedDay,
  type RolloutSignal,
} from "@convos-pool/kit/content";
import {
  ATTACKS,
  ATTACK_DAYS,
  ATTACK_SHARE,
  CONVERSATIONS,
  type Outcome,
  SCENARIO,
  attack,
} from "./rollout-attacks.js";
import { QUICK } from "./lib.js";

const RUNS = QUICK ? 200 : 2000;
const ATTACK_RUNS = QUICK ? 30 : 200;
const DAYS = MAX_WATCH_DAYS;
const ANSWERS = 20;
const BASE_RATE = 0.03;
const SHARE = 0.1;
const EFFECTS = [1, 1.25, 1.5, 2, 3];
const GRID = [20, 50, 200, 1000];

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
const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

interface Cell {
  halted: number;
  days: number[];
}

/** The grid: side sums, each side's sample given, the verdict after every day. */
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
      const sample = {
        candidate: { conversations: candidate, answers: c * d },
        baseline: { conversations: baseline, answers: b * d },
      };
      if (rolloutVerdict(days, DEFAULT_BOUNDS, DEFAULT_FALSE_ALARM, { sample }).kind === "halt") {
        cell.halted++;
        cell.days.push(d);
        break;
      }
    }
  }
  return cell;
}

// ---------------------------------------------------------------- the floor

/** The three rules weighed (docs/decisions.md): the running sum at ln(k/α), a CUSUM at ln(k/α), a CUSUM at ln(k·D/α). */
const RULES = [
  { name: "running sum, ln(k/α)", floor: false, h: Math.log(ROLLOUT_SIGNALS.length / DEFAULT_FALSE_ALARM) },
  { name: "CUSUM, ln(k/α)", floor: true, h: Math.log(ROLLOUT_SIGNALS.length / DEFAULT_FALSE_ALARM) },
  { name: "CUSUM, ln(k·D/α) (the pool's)", floor: true, h: haltAt(DEFAULT_FALSE_ALARM) },
];

/** Each rule's share of runs halted within DAYS and its days p50, at 200 conversations, `flood` 👎 on the current version on day one. */
function floorRun(effect: number, flood: number, next: () => number): string[] {
  const candidate = 20;
  const baseline = 180;
  const halted = RULES.map(() => 0);
  const days = RULES.map(() => [] as number[]);
  for (let r = 0; r < RUNS; r++) {
    const s = RULES.map(() => 0);
    const done = RULES.map(() => false);
    for (let d = 1; d <= DAYS; d++) {
      const c = candidate * ANSWERS;
      const b = baseline * ANSWERS;
      const e = dayEvidence(
        {
          candidate: { events: poisson(c * BASE_RATE * effect, next), exposure: c },
          baseline: { events: poisson(b * BASE_RATE, next) + (d === 1 ? flood : 0), exposure: b },
        },
        DEFAULT_BOUND,
      );
      RULES.forEach((rule, i) => {
        if (done[i]) return;
        s[i] = rule.floor ? Math.max(0, (s[i] ?? 0) + e) : (s[i] ?? 0) + e;
        if ((s[i] ?? 0) >= rule.h) {
          done[i] = true;
          halted[i] = (halted[i] ?? 0) + 1;
          days[i]?.push(d);
        }
      });
    }
  }
  return halted.map((h, i) => `${pct(h / RUNS)}, days p50 ${days[i]?.length ? at(days[i] ?? [], 0.5) : "-"}`);
}

// ---------------------------------------------------------------- the run

const next = random(2026);
const threshold = haltAt(DEFAULT_FALSE_ALARM);
console.log(
  `rollout halts, simulated: ${RUNS} runs a cell, ${DAYS} days, ${SHARE * 100}% of conversations on the candidate, ` +
    `${ANSWERS} answers a conversation a day, 👎 at ${BASE_RATE * 100} per 100 answers on the baseline; ` +
    `bound +50%, false alarm ${DEFAULT_FALSE_ALARM} over ${ROLLOUT_SIGNALS.length} signals and ${MAX_WATCH_DAYS} days ` +
    `(CUSUM threshold ${threshold.toFixed(2)})`,
);
console.log("effect  conversations  halted in 30 days  days p50  days p90  candidate answers p50");
let worstFalse = 0;
let twice: { conversations: number; p50: number; p90: number } | undefined;
for (const effect of EFFECTS)
  for (const conversations of GRID) {
    const cell = run(effect, conversations, next);
    const share = cell.halted / RUNS;
    if (effect === 1) worstFalse = Math.max(worstFalse, share);
    const p50 = cell.days.length ? at(cell.days, 0.5) : undefined;
    const p90 = cell.days.length ? at(cell.days, 0.9) : undefined;
    if (effect === 2 && !twice && share >= 0.9 && p50 !== undefined && p90 !== undefined)
      twice = { conversations, p50, p90 };
    const answers = p50 === undefined ? "-" : String(p50 * Math.max(1, Math.round(conversations * SHARE)) * ANSWERS);
    console.log(
      [
        effect.toFixed(2).padStart(6),
        String(conversations).padStart(13),
        pct(share).padStart(17),
        String(p50 ?? "-").padStart(8),
        String(p90 ?? "-").padStart(8),
        answers.padStart(22),
      ].join("  "),
    );
  }

console.log(
  `\nthe floor: 200 conversations (20 on the candidate), ${DAYS} days, halted within them by each rule weighed`,
);
console.log(`effect  flood on day one  ${RULES.map((r) => r.name.padStart(30)).join("  ")}`);
for (const [effect, flood] of [
  [1, 0],
  [2, 0],
  [2, 800],
] as const)
  console.log(
    `${effect.toFixed(2).padStart(6)}  ${String(flood).padStart(16)}  ${floorRun(effect, flood, next)
      .map((x) => x.padStart(30))
      .join("  ")}`,
  );

console.log(
  `\nattacks: ${ATTACK_RUNS} runs each, ${CONVERSATIONS} conversations with real use (${ATTACK_SHARE * 100}% on the ` +
    `candidate), ${ATTACK_DAYS} days, lineage's counting (watchRollout), a person once a side and day`,
);
console.log("halted  paused  days p50  scenario");
const outcomes = new Map<string, Outcome>();
for (const a of ATTACKS) {
  const o = attack(a, ATTACK_RUNS, (mean) => poisson(mean, next));
  outcomes.set(a.name, o);
  const p50 = o.days.length ? at(o.days, 0.5) : undefined;
  console.log(
    [
      pct(o.halted / ATTACK_RUNS).padStart(6),
      pct(o.paused / ATTACK_RUNS).padStart(6),
      String(p50 ?? "-").padStart(8),
      a.name,
    ].join("  "),
  );
}

const rate = (name: string, what: "halted" | "paused" = "halted") => (outcomes.get(name)?.[what] ?? 0) / ATTACK_RUNS;
const reference = rate(SCENARIO.twice);
// A flood that hides a regression lowers the halts below the same rollout's without it, past the runs' noise.
const noise = 2 * Math.sqrt((reference * (1 - reference)) / ATTACK_RUNS) + 1 / ATTACK_RUNS;
const hidden = SCENARIO.hiders.map((n) => rate(n));
const goals: [string, string, boolean][] = [
  ["false halts of equal versions ≤ 5% at the defaults (the grid's worst cell)", pct(worstFalse), worstFalse <= 0.05],
  [
    "no halt nor pause from free inboxes without real use",
    `${pct(rate(SCENARIO.freeInboxes))} halted, ${pct(rate(SCENARIO.freeInboxes, "paused"))} paused`,
    rate(SCENARIO.freeInboxes) === 0 && rate(SCENARIO.freeInboxes, "paused") === 0,
  ],
  [
    "one person in two conversations halts an equal version no more than the false halts allow (≤ 5%)",
    pct(rate(SCENARIO.twoConversations)),
    rate(SCENARIO.twoConversations) <= 0.05,
  ],
  [
    "one person in six conversations, every day, counted once a day: no more than the false halts allow (≤ 5%)",
    `${pct(rate(SCENARIO.sixConversations))} (per conversation: ${pct(rate(SCENARIO.sixPerConversation))})`,
    rate(SCENARIO.sixConversations) <= 0.05,
  ],
  [
    "one person who stops every turn and corrects every answer in six conversations, every day, counted once a day: " +
      "halts or pauses an equal version no more than the false halts allow (≤ 5% each)",
    `${pct(rate(SCENARIO.stopsSix))} halted, ${pct(rate(SCENARIO.stopsSix, "paused"))} paused (per conversation: ` +
      `${pct(rate(SCENARIO.stopsSixPerConversation))} halted, ${pct(rate(SCENARIO.stopsSixPerConversation, "paused"))} paused)`,
    rate(SCENARIO.stopsSix) <= 0.05 && rate(SCENARIO.stopsSix, "paused") <= 0.05,
  ],
  [
    "no regression one person or the creator can hide: a 2× one halts as often with their flood as without",
    `${hidden.map(pct).join(", ")} against ${pct(reference)}`,
    hidden.every((h) => h >= reference - noise),
  ],
  [
    "conversations and days a true 2× regression needs (≥ 90% halted within 30 days)",
    twice ? `${twice.conversations} conversations, days p50 ${twice.p50}, p90 ${twice.p90}` : "none of the grid's",
    twice !== undefined,
  ],
];
console.log("\ngoal  figure  met");
for (const [goal, figure, met] of goals) console.log(`${met ? "met    " : "NOT MET"}  ${goal}: ${figure}`);

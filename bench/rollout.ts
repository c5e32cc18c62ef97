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
//   removals per owner, the cap per conversation and day, the split), each
//   attack beside the same rollout without it.
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
import { type AgentOnDay, watchRollout } from "@convos-pool/lineage/rollout-watch";
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

// ---------------------------------------------------------------- the attacks

const CONVERSATIONS = 100;
const ATTACK_SHARE = 0.2;
const ATTACK_DAYS = 14;
const FIRST = Date.parse("2026-11-01T00:00:00Z");
const dayOf = (d: number) => new Date(FIRST + d * 86_400_000).toISOString().slice(0, 10);
const ZERO = {
  answers: 0,
  people: 0,
  thumbsUp: 0,
  thumbsDown: 0,
  corrections: 0,
  forgetRequests: 0,
  approvalsAsked: 0,
  approvalsDeclined: 0,
  toolCallsFailed: 0,
  pauses: 0,
  stopRequests: 0,
  pinned: false,
};

/** One agent's day: its owner, its conversation, its version, 👎 on its 20 answers to 3 people. */
const row = (id: string, owner: string, version: string, day: number, thumbsDown: number) => ({
  instanceId: id,
  ownerId: owner,
  conversationId: `conv-${id}`,
  version,
  day: dayOf(day),
  counts: { ...ZERO, answers: ANSWERS, people: 3, thumbsDown },
});

interface Attack {
  name: string;
  effect: number;
  /** What the attacker adds on day `d` (1-based): their agents' days, and agents that ran and were removed. */
  adds(d: number): { rows: ReturnType<typeof row>[]; removed: AgentOnDay[] };
}

const nothing = () => ({ rows: [], removed: [] });
const flood = (version: string, owners: string[], perDay: (d: number) => number) => (d: number) => ({
  rows: owners.map((o, i) => row(`${o}-${i}`, o, version, d, perDay(d))),
  removed: [],
});

const ATTACKS: Attack[] = [
  { name: "equal versions, nobody attacking", effect: 1, adds: nothing },
  {
    name: "one person 👎 every answer in two conversations, 20 a day for two days (equal versions)",
    effect: 1,
    adds: flood("2", ["free-1", "free-2"], (d) => (d <= 2 ? 20 : 0)),
  },
  {
    name: "17 free inboxes claim agents and remove them within the day (equal versions)",
    effect: 1,
    adds: (d) => ({
      rows: [],
      removed:
        d === 1
          ? Array.from({ length: 17 }, (_, i) => ({
              instanceId: `crowd-${i}`,
              ownerId: `crowd-${i}`,
              conversationId: `crowd-conv-${i}`,
              version: "2",
              day: dayOf(d),
            }))
          : [],
    }),
  },
  { name: "a version with 2× the 👎, nobody attacking", effect: 2, adds: nothing },
  {
    name: "2× worse, one person floods the current version: 200 👎 a day in two conversations",
    effect: 2,
    adds: flood("1", ["rival-1", "rival-2"], () => 100),
  },
  {
    name: "2× worse, one person floods the current version: 800 👎 on day one",
    effect: 2,
    adds: flood("1", ["rival-1", "rival-2"], (d) => (d === 1 ? 400 : 0)),
  },
  {
    name: "2× worse, the creator 👎 every answer of the current version in three conversations",
    effect: 2,
    adds: flood("1", ["creator", "creator", "creator"], () => 20),
  },
];

interface Outcome {
  halted: number;
  paused: number;
  days: number[];
}

function attack(a: Attack, next: () => number): Outcome {
  const out: Outcome = { halted: 0, paused: 0, days: [] };
  const candidates = Math.round(CONVERSATIONS * ATTACK_SHARE);
  const agents = Array.from({ length: CONVERSATIONS }, (_, i) => ({
    id: `a${i}`,
    owner: `o${i}`,
    version: i < candidates ? "2" : "1",
  }));
  // Real use from before the rollout: three days with people, on the current version.
  const before = [-3, -2, -1].flatMap((d) => [
    ...agents.map((g) => row(g.id, g.owner, "1", d, 0)),
    ...["free-1", "free-2", "rival-1", "rival-2", "creator"].flatMap((o) =>
      [0, 1, 2].map((i) => row(`${o}-${i}`, o, "1", d, 0)),
    ),
  ]);
  for (let r = 0; r < ATTACK_RUNS; r++) {
    const reports: ReturnType<typeof row>[] = [];
    const ran: AgentOnDay[] = [];
    const removals: AgentOnDay[] = [];
    for (let d = 1; d <= ATTACK_DAYS; d++) {
      for (const g of agents) {
        const rate = BASE_RATE * (g.version === "2" ? a.effect : 1);
        reports.push(row(g.id, g.owner, g.version, d, Math.min(ANSWERS, poisson(ANSWERS * rate, next))));
        ran.push({
          instanceId: g.id,
          ownerId: g.owner,
          conversationId: `conv-${g.id}`,
          version: g.version,
          day: dayOf(d),
        });
      }
      const added = a.adds(d);
      reports.push(...added.rows);
      ran.push(...added.removed);
      removals.push(...added.removed);
      const w = watchRollout(
        { reports, ran, removals, history: [...before, ...reports] },
        { candidate: "2", baseline: "1" },
        DEFAULT_BOUNDS,
        DEFAULT_FALSE_ALARM,
        { creatorId: "creator", share: ATTACK_SHARE, today: dayOf(d) },
      );
      if (w.haltedOn) {
        out.halted++;
        out.days.push(d);
        break;
      }
      if (w.pausedOn) {
        out.paused++;
        break;
      }
    }
  }
  return out;
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
    `candidate), ${ATTACK_DAYS} days, lineage's counting (watchRollout)`,
);
console.log("halted  paused  days p50  scenario");
const outcomes = new Map<string, Outcome>();
for (const a of ATTACKS) {
  const o = attack(a, next);
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
const reference = rate("a version with 2× the 👎, nobody attacking");
// A flood that hides a regression lowers the halts below the same rollout's without it, past the runs' noise.
const noise = 2 * Math.sqrt((reference * (1 - reference)) / ATTACK_RUNS) + 1 / ATTACK_RUNS;
const hidden = [
  "2× worse, one person floods the current version: 200 👎 a day in two conversations",
  "2× worse, one person floods the current version: 800 👎 on day one",
  "2× worse, the creator 👎 every answer of the current version in three conversations",
].map((n) => rate(n));
const goals: [string, string, boolean][] = [
  ["false halts of equal versions ≤ 5% at the defaults (the grid's worst cell)", pct(worstFalse), worstFalse <= 0.05],
  [
    "no halt nor pause from free inboxes without real use",
    `${pct(rate(ATTACKS[2]!.name))} halted, ${pct(rate(ATTACKS[2]!.name, "paused"))} paused`,
    rate(ATTACKS[2]!.name) === 0 && rate(ATTACKS[2]!.name, "paused") === 0,
  ],
  [
    "one person in two conversations halts an equal version no more than the false halts allow (≤ 5%)",
    pct(rate(ATTACKS[1]!.name)),
    rate(ATTACKS[1]!.name) <= 0.05,
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

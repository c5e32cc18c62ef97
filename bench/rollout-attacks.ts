// The attacks on a rollout's watch (docs/rollouts.md, "What one person, a
// crowd and the creator can and cannot do"), for bench/rollout.ts: simulated
// people in CONVERSATIONS conversations, each an owner's agent with real use
// answering three people a day, counted by lineage's own rules
// (`watchRollout`: the creator and owners of many agents out, real use,
// removals per owner, a person once a side and day by their pseudonym of the
// day, the cap per source, the split), each attack beside the same rollout
// without it.
//
// As the agents send them, each agent's day carries its people (persons):
// the answers it gave each, their 👎 on those answers (never more), each
// under a pseudonym of the day the same in all their conversations. An
// attacker in several conversations is one pseudonym a day; the template's
// creator is no one's person (their 👎 is in the day's total only). The
// last two scenarios give every person stops and corrections too (each at
// BASE_RATE per answer) and one person who stops and corrects in six
// conversations: their stops and corrections each count one a side and
// day, as their 👎. A scenario "counted per conversation" sends no
// persons, to show what counting per conversation let the same person do.
import { DEFAULT_BOUNDS, DEFAULT_FALSE_ALARM } from "@convos-pool/kit/content";
import type { PersonSignalCounts } from "@convos-pool/kit/signing";
import { type AgentOnDay, watchRollout } from "@convos-pool/lineage/rollout-watch";

export const CONVERSATIONS = 100;
export const ATTACK_SHARE = 0.2;
export const ATTACK_DAYS = 14;
const ANSWERS = 20;
const BASE_RATE = 0.03;
/** An agent's day's answers to each of its three people. */
const PEOPLE_ANSWERS = [7, 7, 6];
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

/** One agent's day as the watch reads it (lineage's AgentDay). */
interface Row {
  instanceId: string;
  ownerId: string;
  conversationId: string;
  version: string;
  day: string;
  counts: typeof ZERO;
  persons?: PersonSignalCounts[];
}

/** What people give an agent's day besides 👎: stops and corrections (the last scenarios only). */
type Given = "stopRequests" | "corrections";
const sumOf = (persons: readonly PersonSignalCounts[], k: "thumbsDown" | Given) =>
  persons.reduce((n, p) => n + (p[k] ?? 0), 0);

/**
 * One agent's day: its owner, its conversation, its version, 👎 (and
 * `given` stops and corrections) on its 20 answers to its three people,
 * each dealt among them in turn (each at most the answers they got).
 * `persons` false: sent without them, as an agent that counts none.
 */
function row(
  id: string,
  owner: string,
  version: string,
  day: number,
  thumbsDown: number,
  persons = true,
  given: Partial<Record<Given, number>> = {},
): Row {
  const people: PersonSignalCounts[] = PEOPLE_ANSWERS.map((answers, k) => ({
    person: `${id}-p${k}-${dayOf(day)}`,
    answers,
    thumbsDown: 0,
    corrections: 0,
    stopRequests: 0,
    toolCallsFailed: 0,
  }));
  const deal = (key: "thumbsDown" | Given, n: number) => {
    for (let left = Math.min(n, ANSWERS), k = 0; left > 0; k = (k + 1) % people.length) {
      const p = people[k]!;
      if ((p[key] ?? 0) < p.answers) {
        p[key] = (p[key] ?? 0) + 1;
        left--;
      }
    }
  };
  deal("thumbsDown", thumbsDown);
  deal("stopRequests", given.stopRequests ?? 0);
  deal("corrections", given.corrections ?? 0);
  return {
    instanceId: id,
    ownerId: owner,
    conversationId: `conv-${id}`,
    version,
    day: dayOf(day),
    counts: {
      ...ZERO,
      answers: ANSWERS,
      people: 3,
      thumbsDown,
      stopRequests: sumOf(people, "stopRequests"),
      corrections: sumOf(people, "corrections"),
    },
    ...(persons ? { persons: people } : {}),
  };
}

/**
 * `row` with one person of the day (`who`), the first of its people, who 👎s every answer they get, or (`what`)
 * stops and corrects them all.
 */
const withLoud = (r: Row, who: string, day: number, what: readonly ("thumbsDown" | Given)[] = ["thumbsDown"]): Row => {
  const [first, ...rest] = r.persons ?? [];
  const answers = first?.answers ?? 0;
  const loud = {
    ...first,
    person: `${who}-${dayOf(day)}`,
    answers,
    thumbsDown: first?.thumbsDown ?? 0,
    corrections: first?.corrections ?? 0,
  };
  for (const k of what) loud[k] = answers;
  const persons = [loud, ...rest];
  const counts = Object.fromEntries(
    (["thumbsDown", "stopRequests", "corrections"] as const).map((k) => [k, sumOf(persons, k)]),
  );
  return { ...r, counts: { ...r.counts, ...counts }, ...(r.persons ? { persons } : {}) };
};

export interface Attack {
  name: string;
  effect: number;
  /** What the attacker adds on day `d` (1-based): their agents' days, and agents that ran and were removed. */
  adds(d: number): { rows: Row[]; removed: AgentOnDay[] };
  /** What the attacker changes of the honest agents' days (a member in their conversations); absent: nothing. */
  changes?(r: Row, i: number, d: number): Row;
  /** The agents send no persons: each conversation a source, as before persons were counted. */
  noPersons?: boolean;
  /** Every person stops turns and corrects answers too, each at BASE_RATE per answer; absent: only 👎. */
  stopsAndCorrections?: boolean;
}

const nothing = () => ({ rows: [], removed: [] });
/** Agents of `owners` on `version`, each 👎'd `perDay(d)` times by one person of the day, `who`. */
const flood = (version: string, owners: string[], who: string, perDay: (d: number) => number) => (d: number) => ({
  rows: owners.map((o, i) => {
    const r = row(`${o}-${i}`, o, version, d, 0);
    const n = perDay(d);
    if (n === 0) return r;
    const loud = withLoud(r, who, d);
    // The day's total as sent (a 👎 on another person's answer, or an old one, counts there only).
    return { ...loud, counts: { ...loud.counts, thumbsDown: n } };
  }),
  removed: [],
});
/** In the first `n` of the new version's conversations, `who` (a member) 👎s (or `what`s) every answer they get. */
const inCandidates =
  (n: number, who: string, what?: readonly ("thumbsDown" | Given)[]) =>
  (r: Row, i: number, d: number): Row =>
    r.version === "2" && i < n ? withLoud(r, who, d, what) : r;
const STOP_AND_CORRECT = ["stopRequests", "corrections"] as const;

const CANDIDATES = Math.round(CONVERSATIONS * ATTACK_SHARE);

export const ATTACKS: Attack[] = [
  { name: "equal versions, nobody attacking", effect: 1, adds: nothing },
  {
    name: "one person 👎 every answer in two conversations, 20 a day for two days (equal versions)",
    effect: 1,
    adds: flood("2", ["free-1", "free-2"], "free", (d) => (d <= 2 ? 20 : 0)),
  },
  {
    name: "one person 👎 every answer they get in six of the new version's conversations, every day (equal versions)",
    effect: 1,
    adds: nothing,
    changes: inCandidates(6, "mallory"),
  },
  {
    name: "the same, counted per conversation (agents that send no persons)",
    effect: 1,
    adds: nothing,
    changes: inCandidates(6, "mallory"),
    noPersons: true,
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
    adds: flood("1", ["rival-1", "rival-2"], "rival", () => 100),
  },
  {
    name: "2× worse, one person floods the current version: 800 👎 on day one",
    effect: 2,
    adds: flood("1", ["rival-1", "rival-2"], "rival", (d) => (d === 1 ? 400 : 0)),
  },
  {
    name: "2× worse, the creator 👎 every answer of the current version in three conversations",
    effect: 2,
    adds: flood("1", ["creator", "creator", "creator"], "creator", () => 20),
  },
  {
    name: "2× worse, the creator as a member 👎 every answer of the current version in six others' conversations",
    effect: 2,
    adds: nothing,
    // The agents leave the creator out of their persons: the 👎 is in the day's totals only.
    changes: (r, i) =>
      r.version === "1" && i >= CANDIDATES && i < CANDIDATES + 6
        ? { ...r, counts: { ...r.counts, thumbsDown: r.counts.thumbsDown + ANSWERS } }
        : r,
  },
  // Last, so that the draws of the scenarios above stay as they were.
  {
    name: "one person stops every turn and corrects every answer they get in six of the new version's conversations, every day (equal versions)",
    effect: 1,
    adds: nothing,
    changes: inCandidates(6, "mallory", STOP_AND_CORRECT),
    stopsAndCorrections: true,
  },
  {
    name: "the same stops and corrections, counted per conversation (agents that send no persons)",
    effect: 1,
    adds: nothing,
    changes: inCandidates(6, "mallory", STOP_AND_CORRECT),
    stopsAndCorrections: true,
    noPersons: true,
  },
];

/** The scenarios a goal reads, by what they are. */
export const SCENARIO = {
  equal: ATTACKS[0]!.name,
  twoConversations: ATTACKS[1]!.name,
  sixConversations: ATTACKS[2]!.name,
  sixPerConversation: ATTACKS[3]!.name,
  freeInboxes: ATTACKS[4]!.name,
  twice: ATTACKS[5]!.name,
  hiders: ATTACKS.slice(6, 10).map((a) => a.name),
  stopsSix: ATTACKS[10]!.name,
  stopsSixPerConversation: ATTACKS[11]!.name,
};

export interface Outcome {
  halted: number;
  paused: number;
  days: number[];
}

/** `runs` rollouts under attack `a`, looked at after every day; `draw` a Poisson count of a mean. */
export function attack(a: Attack, runs: number, draw: (mean: number) => number): Outcome {
  const out: Outcome = { halted: 0, paused: 0, days: [] };
  const agents = Array.from({ length: CONVERSATIONS }, (_, i) => ({
    id: `a${i}`,
    owner: `o${i}`,
    version: i < CANDIDATES ? "2" : "1",
  }));
  const sent = (r: Row): Row => {
    if (!a.noPersons) return r;
    const { persons: _, ...rest } = r;
    return rest;
  };
  // Real use from before the rollout: three days with people, on the current version.
  const before = [-3, -2, -1].flatMap((d) => [
    ...agents.map((g) => row(g.id, g.owner, "1", d, 0)),
    ...["free-1", "free-2", "rival-1", "rival-2", "creator"].flatMap((o) =>
      [0, 1, 2].map((i) => row(`${o}-${i}`, o, "1", d, 0)),
    ),
  ]);
  for (let r = 0; r < runs; r++) {
    const reports: Row[] = [];
    const ran: AgentOnDay[] = [];
    const removals: AgentOnDay[] = [];
    for (let d = 1; d <= ATTACK_DAYS; d++) {
      for (const [i, g] of agents.entries()) {
        const rate = BASE_RATE * (g.version === "2" ? a.effect : 1);
        const given = a.stopsAndCorrections
          ? { stopRequests: draw(ANSWERS * BASE_RATE), corrections: draw(ANSWERS * BASE_RATE) }
          : {};
        const honest = row(g.id, g.owner, g.version, d, Math.min(ANSWERS, draw(ANSWERS * rate)), true, given);
        reports.push(sent(a.changes ? a.changes(honest, i, d) : honest));
        ran.push({
          instanceId: g.id,
          ownerId: g.owner,
          conversationId: `conv-${g.id}`,
          version: g.version,
          day: dayOf(d),
        });
      }
      const added = a.adds(d);
      reports.push(...added.rows.map(sent));
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

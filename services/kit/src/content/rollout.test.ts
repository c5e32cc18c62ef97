// A rollout's two decisions (rollout.ts): which conversations it takes
// (sticky, monotone in the share, about the share asked), and when what
// happened halts or pauses it (never halts two equal versions more often
// than the false-alarm rate allows; soon a version much worse, whatever an
// old flood of the current one; nothing before the minimum sample; a split
// off the plan and a signal one owner can make only pause). Pure, with
// simulated counts from a seeded generator: nothing stands in.
import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import {
  DEFAULT_BOUNDS,
  DEFAULT_FALSE_ALARM,
  PERSON_DAY_EVENTS,
  ROLLOUT_SIGNALS,
  dayEvidence,
  haltAt,
  inRollout,
  pairedDays,
  rolloutBucket,
  rolloutBucketSql,
  rolloutVerdict,
  type PairedDay,
  type RolloutSignal,
  type SourceCounts,
  MAX_WATCH_DAYS,
  MIN_SAMPLE_ANSWERS,
  MIN_SAMPLE_CONVERSATIONS,
  SPLIT_FALSE_ALARM,
  splitEvidence,
} from "./rollout.js";

describe("which conversations a rollout takes", () => {
  test.prop([fc.string(), fc.string(), fc.integer({ min: 0, max: 10_000 }), fc.integer({ min: 0, max: 10_000 })])(
    "a conversation in at a share stays in at any larger share, and is in or out the same each time",
    (rollout, conversation, a, b) => {
      const [small, large] = a <= b ? [a, b] : [b, a];
      if (inRollout(rollout, conversation, small)) expect(inRollout(rollout, conversation, large)).toBe(true);
      expect(inRollout(rollout, conversation, small)).toBe(inRollout(rollout, conversation, small));
    },
  );

  it("takes about the share asked, none at 0 and all at 100%", () => {
    const conversations = Array.from({ length: 4000 }, (_, i) => `conversation-${i}`);
    const taken = (share: number) => conversations.filter((c) => inRollout("rollout-1", c, share)).length;
    expect(taken(0)).toBe(0);
    expect(taken(10_000)).toBe(4000);
    expect(Math.abs(taken(1_000) / 4000 - 0.1)).toBeLessThan(0.02);
    expect(Math.abs(taken(5_000) / 4000 - 0.5)).toBeLessThan(0.03);
  });

  it("draws anew for each rollout: the same conversations are not always the first", () => {
    const conversations = Array.from({ length: 400 }, (_, i) => `conversation-${i}`);
    const first = conversations.filter((c) => inRollout("rollout-1", c, 1_000));
    const second = conversations.filter((c) => inRollout("rollout-2", c, 1_000));
    expect(first.filter((c) => second.includes(c)).length).toBeLessThan(first.length / 2);
    expect(rolloutBucket("rollout-1", "conversation-1")).toBeGreaterThanOrEqual(0);
  });
});

/** A seeded generator (mulberry32): the same figures each run. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A Poisson count of mean `mean` (Knuth's, for the small means here). */
function poisson(mean: number, next: () => number): number {
  const limit = Math.exp(-mean);
  let k = 0;
  let p = next();
  while (p > limit) {
    k++;
    p *= next();
  }
  return k;
}

/** `days` of one signal: the candidate with `ratio` times the baseline's rate, exposures as given. */
function simulate(days: number, ratio: number, next: () => number, rate = 0.02): PairedDay[] {
  return Array.from({ length: days }, () => {
    const c = 200;
    const b = 1800;
    return {
      candidate: { events: poisson(c * rate * ratio, next), exposure: c },
      baseline: { events: poisson(b * rate, next), exposure: b },
    };
  });
}

const only = (signal: RolloutSignal, days: PairedDay[]) =>
  Object.fromEntries(ROLLOUT_SIGNALS.map((s) => [s, s === signal ? days : []])) as Record<RolloutSignal, PairedDay[]>;

describe("when a rollout halts", () => {
  it("a day says nothing without events or exposure, leans to worse when the candidate does worse by the bound, and to same when it does as well", () => {
    expect(dayEvidence({ candidate: { events: 0, exposure: 10 }, baseline: { events: 0, exposure: 90 } }, 0.5)).toBe(0);
    expect(dayEvidence({ candidate: { events: 3, exposure: 0 }, baseline: { events: 2, exposure: 90 } }, 0.5)).toBe(0);
    expect(
      dayEvidence({ candidate: { events: 15, exposure: 100 }, baseline: { events: 90, exposure: 900 } }, 0.5),
    ).toBeGreaterThan(0);
    expect(
      dayEvidence({ candidate: { events: 10, exposure: 100 }, baseline: { events: 90, exposure: 900 } }, 0.5),
    ).toBeLessThan(0);
  });

  it("halts two equal versions no more often than the false-alarm rate, over 60 days of every signal", () => {
    const next = random(7);
    const runs = 300;
    let halted = 0;
    for (let r = 0; r < runs; r++) {
      const days = Object.fromEntries(ROLLOUT_SIGNALS.map((s) => [s, simulate(60, 1, next)])) as Record<
        RolloutSignal,
        PairedDay[]
      >;
      // Looked at after every day: a halt on any day counts.
      for (let d = 1; d <= 60; d++) {
        const sofar = Object.fromEntries(ROLLOUT_SIGNALS.map((s) => [s, days[s].slice(0, d)])) as typeof days;
        if (rolloutVerdict(sofar).kind === "halt") {
          halted++;
          break;
        }
      }
    }
    expect(halted / runs).toBeLessThanOrEqual(DEFAULT_FALSE_ALARM);
  });

  it("halts a version with three times the 👎 within two weeks, naming the signal and its figures", () => {
    const next = random(11);
    const days = simulate(14, 3, next);
    const verdict = rolloutVerdict(only("thumbsDown", days));
    expect(verdict).toMatchObject({ kind: "halt", signal: "thumbsDown", threshold: haltAt(DEFAULT_FALSE_ALARM) });
    expect(verdict.evidence.thumbsDown).toBeGreaterThanOrEqual(haltAt(DEFAULT_FALSE_ALARM));
    expect(verdict.evidence.removals).toBe(0);
  });

  it("holds each signal to its own bound: a small regression under a wide bound goes on", () => {
    const next = random(13);
    const days = simulate(MAX_WATCH_DAYS - 1, 1.2, next);
    const wide = { ...DEFAULT_BOUNDS, corrections: 3 };
    expect(rolloutVerdict(only("corrections", days), wide).kind).toBe("continue");
  });
});

describe("what one source cannot do", () => {
  /** `n` sources on one side, each `events` a day over `days` days of 20 answers. */
  const side = (candidate: boolean, n: number, events: number, days = 10): SourceCounts[] =>
    Array.from({ length: n }, (_, i) => ({
      source: `${candidate ? "c" : "b"}${i}`,
      candidate,
      days: Object.fromEntries(
        Array.from({ length: days }, (_, d) => [`2026-11-${String(d + 1).padStart(2, "0")}`, { events, exposure: 20 }]),
      ),
    }));

  it("one member who 👎 every answer in one conversation does not halt it; the same in three conversations does", () => {
    const quiet = [...side(true, 2, 0), ...side(false, 18, 0)];
    const flooder = { ...side(true, 1, 20)[0]!, source: "flooded" };
    expect(rolloutVerdict(only("thumbsDown", pairedDays([...quiet, flooder]))).kind).toBe("continue");
    const three = [...side(true, 3, 20), ...side(true, 2, 0), ...side(false, 18, 0)];
    expect(rolloutVerdict(only("thumbsDown", pairedDays(three))).kind).toBe("halt");
  });

  it("nor hides a worse version by flooding one conversation of the current one", () => {
    const worse = [...side(true, 4, 2), ...side(false, 16, 0)];
    const flooded = { ...side(false, 1, 20)[0]!, source: "flooded" };
    expect(rolloutVerdict(only("thumbsDown", pairedDays([...worse, flooded]))).kind).toBe("halt");
  });

  it("counts a source's day past the cap at its rate with less weight: 20 👎 on 20 answers count 3 on 3", () => {
    const days = pairedDays([...side(true, 1, 20, 1), ...side(true, 1, 0, 1), ...side(false, 2, 0, 1)], 3);
    // The flooder is the candidate side's largest: left out. Its twin in a second conversation stays, capped.
    const twice = pairedDays(
      [...side(true, 2, 20, 1).map((c, i) => ({ ...c, source: `f${i}` })), ...side(false, 2, 0, 1)],
      3,
    );
    expect(days[0]?.candidate).toEqual({ events: 0, exposure: 20 });
    expect(twice[0]?.candidate).toEqual({ events: 3, exposure: 3 });
  });

  it("counts a source by its own cap where it has one: a person's day of 20 👎 on 20 answers counts 1 on 1, a conversation's 3 on 3", () => {
    const person = { ...side(true, 1, 20, 1)[0]!, source: "person:p", cap: PERSON_DAY_EVENTS };
    const conversation = { ...side(true, 1, 20, 1)[0]!, source: "c-loud" };
    const quiet = side(true, 1, 0, 1);
    // The side's largest source after its cap is the conversation (3): left out; the person's day counts 1 on 1.
    const days = pairedDays([person, conversation, ...quiet, ...side(false, 2, 0, 1)], 3);
    expect(days[0]?.candidate).toEqual({ events: 1, exposure: 21 });
  });

  it("pairs the days in order, summing each side", () => {
    const days = pairedDays([...side(true, 2, 1, 2), ...side(false, 3, 1, 2)]);
    expect(days).toEqual([
      { candidate: { events: 1, exposure: 20 }, baseline: { events: 2, exposure: 40 } },
      { candidate: { events: 1, exposure: 20 }, baseline: { events: 2, exposure: 40 } },
    ]);
  });
});

describe("what the verdict checks besides the signals", () => {
  const worse = (n: number) => simulate(n, 3, random(17));
  const enough = { conversations: MIN_SAMPLE_CONVERSATIONS, answers: MIN_SAMPLE_ANSWERS };

  it("halts on nothing before each side has the minimum sample of conversations with real use and answers", () => {
    const days = only("thumbsDown", worse(14));
    const few = { candidate: { ...enough, conversations: MIN_SAMPLE_CONVERSATIONS - 1 }, baseline: enough };
    expect(rolloutVerdict(days, DEFAULT_BOUNDS, DEFAULT_FALSE_ALARM, { sample: few })).toMatchObject({
      kind: "continue",
      sampled: false,
    });
    const quiet = { candidate: enough, baseline: { ...enough, answers: MIN_SAMPLE_ANSWERS - 1 } };
    expect(rolloutVerdict(days, DEFAULT_BOUNDS, DEFAULT_FALSE_ALARM, { sample: quiet }).kind).toBe("continue");
    const both = { candidate: enough, baseline: enough };
    expect(rolloutVerdict(days, DEFAULT_BOUNDS, DEFAULT_FALSE_ALARM, { sample: both }).kind).toBe("halt");
  });

  it("pauses on a split off the plan, and does not halt then, whatever the signals say", () => {
    const days = only("thumbsDown", worse(14));
    const off = { candidate: 200, baseline: 800, share: 0.1 };
    expect(rolloutVerdict(days, DEFAULT_BOUNDS, DEFAULT_FALSE_ALARM, { split: off })).toMatchObject({
      kind: "pause",
      reason: "split",
    });
    const right = { candidate: 104, baseline: 896, share: 0.1 };
    expect(rolloutVerdict(days, DEFAULT_BOUNDS, DEFAULT_FALSE_ALARM, { split: right }).kind).toBe("halt");
  });

  it("a split drawn at the planned share passes the split's line no more often than its false alarm", () => {
    const next = random(23);
    let off = 0;
    const runs = 2000;
    for (let r = 0; r < runs; r++) {
      let candidate = 0;
      // Conversations arriving one by one, looked at after each.
      for (let n = 1; n <= 300; n++) {
        if (next() < 0.1) candidate++;
        if (splitEvidence({ candidate, baseline: n - candidate, share: 0.1 }) >= Math.log(1 / SPLIT_FALSE_ALARM)) {
          off++;
          break;
        }
      }
    }
    expect(off / runs).toBeLessThanOrEqual(SPLIT_FALSE_ALARM * 2);
  });

  it("pauses, and does not roll back, on a signal one owner or free inbox can make: removals, pauses, stop requests, declined approvals", () => {
    for (const signal of ["removals", "pauses", "stopRequests", "approvalsDeclined"] as const)
      expect(rolloutVerdict(only(signal, worse(14)))).toMatchObject({ kind: "pause", reason: "signal", signal });
    for (const signal of ["thumbsDown", "corrections", "toolCallsFailed"] as const)
      expect(rolloutVerdict(only(signal, worse(14)))).toMatchObject({ kind: "halt", signal });
  });

  it("pauses when the watch is over: MAX_WATCH_DAYS counted without a halt", () => {
    expect(rolloutVerdict(only("thumbsDown", simulate(MAX_WATCH_DAYS, 1, random(5))))).toMatchObject({
      kind: "pause",
      reason: "watched",
    });
  });
});

describe("the SQL of a conversation's place", () => {
  it("is one expression over the two it is given", () => {
    expect(rolloutBucketSql("r.id", "i.conversation_id")).toMatch(
      /sha256\(convert_to\(r\.id \|\| E'\\n' \|\| i\.conversation_id, 'UTF8'\)\)/,
    );
  });
});

describe("what an old flood and a short run cannot do", () => {
  const day = (ce: number, be: number, cx = 200, bx = 1800): PairedDay => ({
    candidate: { events: ce, exposure: cx },
    baseline: { events: be, exposure: bx },
  });

  it("a flood of 👎 on the current version on the first day is no debt later days repay: a 2× worse version still halts", () => {
    // Day one: 800 👎 on the current version. Then 20 days of the candidate at twice the current rate (3 per 100).
    const days = [day(6, 800), ...Array.from({ length: 20 }, () => day(12, 54))];
    expect(rolloutVerdict(only("thumbsDown", days)).kind).toBe("halt");
  });

  it("200 👎 a day on the current version for the first five days does not hide a 2× worse version either", () => {
    const days = [...Array.from({ length: 5 }, () => day(6, 254)), ...Array.from({ length: 20 }, () => day(12, 54))];
    expect(rolloutVerdict(only("thumbsDown", days)).kind).toBe("halt");
  });
});

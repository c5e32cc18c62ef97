// What a rollout's watch counts (rollout.ts), in memory: which days count,
// what each signal is counted against, each agent once a day for the
// removals, and the same data halting or not through kit's test. Nothing
// stands in: it is pure.
import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { FIGURES, MIN_CONVERSATIONS, type AgentDay } from "./figures.js";
import {
  type AgentOnDay,
  SIGNAL_WORDS,
  conversationCounts,
  MAX_OWNER_AGENTS,
  REAL_USE_DAYS,
  DEFAULT_WATCH_RULES,
  checkWatchRules,
  conversationsOn,
  countedDays,
  watchRollout,
} from "./rollout.js";
import { DEFAULT_BOUNDS, ROLLOUT_SIGNALS, pairedDays } from "@convos-pool/kit/content";

const ZERO = Object.fromEntries(FIGURES.map((f) => [f, 0])) as Record<(typeof FIGURES)[number], number>;

function report(instanceId: string, version: string, day: string, counts: Partial<AgentDay["counts"]> = {}): AgentDay {
  return {
    instanceId,
    ownerId: `owner-${instanceId}`,
    conversationId: `conv-${instanceId}`,
    version,
    day,
    counts: { ...ZERO, pinned: false, ...counts },
  };
}

/** `n` agents of each version, each reporting `counts(version, i)` on each of `days`. */
function reports(n: number, days: string[], counts: (version: string, i: number) => Partial<AgentDay["counts"]>) {
  return days.flatMap((day) =>
    ["2", "1"].flatMap((v) => Array.from({ length: n }, (_, i) => report(`${v}-${i}`, v, day, counts(v, i)))),
  );
}

describe("the days a rollout counts", () => {
  it("are those on which each version's agents are in at least MIN_CONVERSATIONS conversations", () => {
    expect(MIN_CONVERSATIONS).toBe(5);
    const rows = [
      ...reports(5, ["2026-11-01"], () => ({ answers: 1 })),
      ...reports(4, ["2026-11-02"], () => ({ answers: 1 })),
      // Five agents, but in one conversation.
      ...["a", "b", "c", "d", "e"].map((x) => ({ ...report(x, "2", "2026-11-03"), conversationId: "one" })),
      ...reports(5, ["2026-11-03"], () => ({})).filter((r) => r.version === "1"),
    ];
    expect([...countedDays(rows, "2", "1")]).toEqual(["2026-11-01"]);
  });
});

describe("an agent in several conversations", () => {
  const day = "2026-11-01";
  const inAll = (instanceId: string, version: string, conversationIds: string[], counts = {}): AgentDay => ({
    ...report(instanceId, version, day, counts),
    conversationId: conversationIds[0]!,
    conversationIds,
  });

  it("makes a day count with each of its conversations, once each", () => {
    const rows = [
      inAll("a", "2", ["c1", "c2", "c3"]),
      inAll("b", "2", ["c3", "c4", "c5"]),
      ...reports(5, [day], () => ({})).filter((r) => r.version === "1"),
    ];
    expect([...countedDays(rows, "2", "1")]).toEqual([day]);
    const four = [inAll("a", "2", ["c1", "c2", "c3"]), inAll("b", "2", ["c3", "c4"]), ...rows.slice(2)];
    expect([...countedDays(four, "2", "1")]).toEqual([]);
  });

  it("counts under its home in the pairing: one report is one conversation's counts", () => {
    // The feed lists an agent's conversations in order of their ids (signals/sql.ts): the home need not be first.
    const addedFirst = {
      ...inAll("b", "1", ["added", "home-b"], { answers: 4, thumbsDown: 2 }),
      conversationId: "home-b",
    };
    const c = conversationCounts(
      {
        reports: [inAll("a", "2", ["home", "other"], { answers: 10, thumbsDown: 1 }), addedFirst],
        ran: [],
        removals: [],
      },
      "2",
      "1",
      new Set([day]),
    );
    expect(c.thumbsDown).toEqual([
      { source: "home", candidate: true, days: { [day]: { events: 1, exposure: 10 } } },
      { source: "home-b", candidate: false, days: { [day]: { events: 2, exposure: 4 } } },
    ]);
  });

  it("is on its side in each of its conversations, each conversation once per side", () => {
    const on = (instanceId: string, version: string, conversationIds: string[]): AgentOnDay => ({
      instanceId,
      conversationId: conversationIds[0] ?? "",
      conversationIds,
      version,
      day,
    });
    const ran = [on("a", "2", ["c1", "c2"]), on("b", "2", ["c2", "c3"]), on("c", "1", ["c1"]), on("d", "1", [])];
    expect(conversationsOn(ran, { candidate: "2", baseline: "1" }, day)).toEqual({ candidate: 3, baseline: 2 });
  });
});

describe("what each signal is counted against", () => {
  it("answers for 👎 and the others given per answer, one per agent-day for pauses", () => {
    const rows = [report("x", "2", "2026-11-01", { answers: 30, thumbsDown: 2, pauses: 1, stopRequests: 1 })];
    const c = conversationCounts({ reports: rows, ran: [], removals: [] }, "2", "1", new Set(["2026-11-01"]));
    expect(c.thumbsDown[0]?.days["2026-11-01"]).toEqual({ events: 2, exposure: 30 });
    expect(c.stopRequests[0]?.days["2026-11-01"]).toEqual({ events: 1, exposure: 30 });
    expect(c.pauses[0]?.days["2026-11-01"]).toEqual({ events: 1, exposure: 1 });
    // Not a day counted: nothing.
    const none = conversationCounts({ reports: rows, ran: [], removals: [] }, "2", "1", new Set());
    for (const s of ROLLOUT_SIGNALS) expect(none[s]).toEqual([]);
  });

  it("one per agent a day for removals: the version it ran last that day, or by its reports when the feed knows none", () => {
    const day = "2026-11-01";
    const on = (instanceId: string, version: string): AgentOnDay => ({
      instanceId,
      conversationId: `conv-${instanceId}`,
      version,
      day,
    });
    // x moved to the candidate that day and reported both; y was removed; z is known only by its report.
    const c = conversationCounts(
      {
        reports: [report("x", "1", day), report("x", "2", day), report("z", "1", day)],
        ran: [on("x", "2"), on("y", "2")],
        removals: [on("y", "2")],
      },
      "2",
      "1",
      new Set([day]),
    );
    const sum = (candidate: boolean) =>
      c.removals
        .filter((k) => k.candidate === candidate)
        .reduce((n, k) => ({ events: n.events + k.days[day]!.events, exposure: n.exposure + k.days[day]!.exposure }), {
          events: 0,
          exposure: 0,
        });
    expect(sum(true)).toEqual({ events: 1, exposure: 2 });
    expect(sum(false)).toEqual({ events: 0, exposure: 1 });
  });
});

describe("the conversations the watch counts on each side", () => {
  it("are those whose agents ran each version last on the day, once each, other days and versions left out", () => {
    const on = (instanceId: string, conversationId: string, version: string, day = "2026-11-02"): AgentOnDay => ({
      instanceId,
      conversationId,
      version,
      day,
    });
    const ran = [
      on("a", "c1", "2"),
      on("b", "c1", "2"), // a second agent in c1: still one conversation
      on("c", "c2", "2"),
      on("d", "c3", "1"),
      on("e", "", "1"), // no conversation known: its own
      on("f", "c4", "1", "2026-11-01"), // another day
      on("g", "c5", "7"), // another version
    ];
    expect(conversationsOn(ran, { candidate: "2", baseline: "1" }, "2026-11-02")).toEqual({
      candidate: 2,
      baseline: 2,
    });
    expect(conversationsOn(ran, { candidate: "2", baseline: "1" }, "2026-11-03")).toEqual({
      candidate: 0,
      baseline: 0,
    });
  });
});

describe("the watch's verdict", () => {
  const days = ["2026-11-01", "2026-11-02", "2026-11-03", "2026-11-04"];

  it("halts on far more 👎 over many conversations with real use, in the creator's words", () => {
    const w = watchRollout(
      {
        reports: reports(12, days, (v) => ({ answers: 20, people: 3, thumbsDown: v === "2" ? 4 : 1 })),
        ran: [],
        removals: [],
      },
      { candidate: "2", baseline: "1" },
      DEFAULT_BOUNDS,
      0.05,
    );
    expect(w.haltedOn).toBe("thumbsDown");
    expect(SIGNAL_WORDS.thumbsDown).toBe("👎 on its answers");
    expect(w.daysCounted).toBe(4);
    expect(w.sample).toEqual({ candidate: 12, baseline: 12 });
    // Each conversation's 4 in 20 count 3 in 15 (kit MAX_SOURCE_DAY_EVENTS); the busiest of each side left out.
    expect(w.signals.find((s) => s.signal === "thumbsDown")).toMatchObject({
      candidate: { events: 132, exposure: 660 },
      baseline: { events: 44, exposure: 880 },
    });
  });

  it("counts nothing of agents without real use: fewer than REAL_USE_DAYS days with people besides their owner", () => {
    expect(REAL_USE_DAYS).toBe(3);
    const w = watchRollout(
      {
        reports: reports(12, days, (v) => ({ answers: 20, people: 2, thumbsDown: v === "2" ? 4 : 1 })),
        ran: [],
        removals: [],
      },
      { candidate: "2", baseline: "1" },
      DEFAULT_BOUNDS,
      0.05,
    );
    expect(w).toMatchObject({ daysCounted: 0, sample: { candidate: 0, baseline: 0 } });
    expect(w.haltedOn).toBeUndefined();
  });

  it("does not halt on one conversation's flood", () => {
    const w = watchRollout(
      {
        reports: reports(12, days, (v, i) => ({
          answers: 20,
          people: 3,
          thumbsDown: v === "2" && i === 0 ? 500 : 1,
        })),
        ran: [],
        removals: [],
      },
      { candidate: "2", baseline: "1" },
      DEFAULT_BOUNDS,
      0.05,
    );
    expect(w.haltedOn).toBeUndefined();
  });

  it("takes a test stack's own rules: a day of use, many agents an owner, a small sample", () => {
    const oneDay = reports(4, [days[0]!], (v) => ({ answers: 20, people: 2, thumbsDown: v === "2" ? 10 : 0 })).map(
      (r) => ({ ...r, ownerId: `owner-of-${r.version}` }),
    );
    const data = { reports: oneDay, ran: [], removals: [] };
    const versions = { candidate: "2", baseline: "1" };
    expect(watchRollout(data, versions, DEFAULT_BOUNDS, 0.05, { min: 4 }).daysCounted).toBe(0);
    const loose = {
      min: 4,
      rules: { realUseDays: 0, maxOwnerAgents: 100, minSample: { conversations: 3, answers: 60 } },
    };
    const w = watchRollout(data, versions, DEFAULT_BOUNDS, 0.05, loose);
    expect(w).toMatchObject({ daysCounted: 1, sample: { candidate: 4, baseline: 4 } });
    expect(w.signals.find((s) => s.signal === "thumbsDown")?.evidence).toBeGreaterThan(0);
  });

  it("leaves out the agents of an owner of more than MAX_OWNER_AGENTS of the template", () => {
    expect(MAX_OWNER_AGENTS).toBe(3);
    const many = reports(12, days, (v) => ({ answers: 20, people: 3, thumbsDown: v === "2" ? 4 : 1 })).map((r) =>
      r.version === "2" ? { ...r, ownerId: "one-owner" } : r,
    );
    const w = watchRollout(
      { reports: many, ran: [], removals: [] },
      { candidate: "2", baseline: "1" },
      DEFAULT_BOUNDS,
      0.05,
    );
    expect(w.sample.candidate).toBe(0);
    expect(w.haltedOn).toBeUndefined();
  });

  it("pauses, in the creator's words, when today's split of conversations with real use is off the planned share", () => {
    const rows = reports(24, days, () => ({ answers: 20, people: 3, thumbsDown: 1 }));
    const today = days[3]!;
    const ran = rows
      .filter((r) => r.day === today)
      .map((r) => ({ instanceId: r.instanceId, conversationId: r.conversationId!, version: r.version, day: today }));
    const versions = { candidate: "2", baseline: "1" };
    // 24 of 48 on the new version, against 10% planned.
    const off = watchRollout({ reports: rows, ran, removals: [] }, versions, DEFAULT_BOUNDS, 0.05, {
      share: 0.1,
      today,
    });
    expect(off.pausedOn).toBe(
      "the split of conversations with real use: 24 of 48 on the new version, 50% against the 10% planned",
    );
    expect(off.pauseCheck).toBe("split");
    const right = watchRollout({ reports: rows, ran, removals: [] }, versions, DEFAULT_BOUNDS, 0.05, {
      share: 0.5,
      today,
    });
    expect(right.pausedOn).toBeUndefined();
    expect(right.pauseCheck).toBeUndefined();
  });

  it("counts removals once per owner, side and day, however many agents of theirs were removed", () => {
    const rows = reports(12, days, () => ({ answers: 20, people: 3 }));
    const day = days[3]!;
    const owned = rows.map((r) => (r.version === "2" && r.instanceId < "2-3" ? { ...r, ownerId: "remover" } : r));
    const removed = ["2-0", "2-1", "2-2"].map((instanceId) => ({
      instanceId,
      conversationId: `conv-${instanceId}`,
      version: "2",
      day,
    }));
    const c = conversationCounts(
      { reports: owned, ran: removed, removals: removed },
      "2",
      "1",
      new Set([day]),
      new Map(owned.map((r) => [r.instanceId, r.ownerId])),
    );
    const events = c.removals.filter((k) => k.candidate).reduce((n, k) => n + (k.days[day]?.events ?? 0), 0);
    expect(events).toBe(1);
  });
});

describe("a new version mid-rollout", () => {
  it("starts the evidence again from the first day of the new release keys: days under the old ones are not counted", () => {
    const days = ["2026-11-01", "2026-11-02", "2026-11-03", "2026-11-04", "2026-11-05", "2026-11-06"];
    // A base's new version on the 4th: both sides' keys change (2.1 → 2.2, 1.1 → 1.2).
    const rows = days.flatMap((day, d) =>
      (["2", "1"] as const).flatMap((v) =>
        Array.from({ length: 12 }, (_, i) =>
          report(`${v}-${i}`, d < 3 ? `${v}.1` : `${v}.2`, day, {
            answers: 20,
            people: 3,
            // Far worse under the old keys; alike under the new ones.
            thumbsDown: d < 3 && v === "2" ? 4 : 1,
          }),
        ),
      ),
    );
    const old = watchRollout(
      { reports: rows, ran: [], removals: [] },
      { candidate: "2.1", baseline: "1.1" },
      DEFAULT_BOUNDS,
      0.05,
    );
    expect(old.haltedOn).toBe("thumbsDown");
    const now = watchRollout(
      { reports: rows.filter((r) => r.version.endsWith(".2")), ran: [], removals: [], history: rows },
      { candidate: "2.2", baseline: "1.2" },
      DEFAULT_BOUNDS,
      0.05,
    );
    expect(now.daysCounted).toBe(3);
    expect(now.haltedOn).toBeUndefined();
    expect(now.signals.find((s) => s.signal === "thumbsDown")?.evidence).toBeLessThan(now.threshold);
  });
});

describe("what one person, a crowd of free inboxes and the creator cannot do to the watch", () => {
  const days = ["2026-11-01", "2026-11-02", "2026-11-03", "2026-11-04"];
  const versions = { candidate: "2", baseline: "1" };
  /** 12 agents a version with real use (3 people, 20 answers a day), 1 👎 in 20 answers on both. */
  const equal = () => reports(12, days, () => ({ answers: 20, people: 3, thumbsDown: 1 }));
  /** An agent of `owner` on `version`, `counts` each day given. */
  const of = (id: string, owner: string, version: string, on: string[], counts: Partial<AgentDay["counts"]>) =>
    on.map((d) => ({ ...report(id, version, d, { answers: 20, people: 3, ...counts }), ownerId: owner }));

  it("one person who 👎 every answer in two conversations, 20 a day for two days, does not halt an equal version", () => {
    const two = days.slice(0, 2);
    const flood = [
      ...of("flood-a", "free-1", "2", two, { thumbsDown: 20 }),
      ...of("flood-b", "free-2", "2", two, { thumbsDown: 20 }),
    ];
    const few = reports(12, two, (_, i) => ({ answers: 20, people: 3, thumbsDown: i % 4 === 0 ? 1 : 0 }));
    const w = watchRollout({ reports: [...few, ...flood], ran: [], removals: [] }, versions, DEFAULT_BOUNDS, 0.05);
    expect(w.haltedOn).toBeUndefined();
  });

  it("the creator who 👎 every answer of the current version in their own conversations hides no 2× worse version", () => {
    const worse = reports(12, days, (v, i) => ({ answers: 20, people: 3, thumbsDown: v === "2" ? 4 : i % 2 }));
    const creator = ["own-1", "own-2", "own-3"].flatMap((id) => of(id, "creator", "1", days, { thumbsDown: 20 }));
    const w = watchRollout({ reports: [...worse, ...creator], ran: [], removals: [] }, versions, DEFAULT_BOUNDS, 0.05, {
      creatorId: "creator",
    });
    expect(w.haltedOn).toBe("thumbsDown");
  });

  it("17 free inboxes that claim and remove agents in a day, with no real use, neither halt nor pause it", () => {
    const day = days[3]!;
    const crowd = Array.from({ length: 17 }, (_, i) => ({
      instanceId: `free-${i}`,
      conversationId: `free-conv-${i}`,
      version: "2",
      day,
    }));
    const w = watchRollout({ reports: equal(), ran: crowd, removals: crowd }, versions, DEFAULT_BOUNDS, 0.05);
    expect(w.haltedOn).toBeUndefined();
    expect(w.pausedOn).toBeUndefined();
    expect(w.signals.find((s) => s.signal === "removals")?.candidate.events).toBe(0);
  });
});

describe("per person: a person counts once a side a day, across all their conversations", () => {
  const days = ["2026-11-01", "2026-11-02", "2026-11-03", "2026-11-04"];
  const versions = { candidate: "2", baseline: "1" };
  /** A person's pseudonym of the day, as the agents send it: 64 hex digits, another each day. */
  const person = (who: string, day: string) => `${who}-${day}`.padEnd(64, "0");
  /**
   * 12 agents a version with real use, each answering two people 10 times a day, one 👎 a day from the first
   * (equal versions); and one person, `loud`, in the first `loud` conversations of the new version, 👎ing all 20
   * answers they are given there each day.
   */
  const rows = (loud: number, withPersons = true) =>
    reports(12, days, () => ({ answers: 20, people: 3, thumbsDown: 1 })).map((r) => {
      const i = Number(r.instanceId.split("-")[1]);
      const inLoud = r.version === "2" && i < loud;
      const persons = [
        { person: person(`${r.instanceId}a`, r.day), answers: 10, thumbsDown: 1, corrections: 0 },
        { person: person(`${r.instanceId}b`, r.day), answers: 10, thumbsDown: 0, corrections: 0 },
        ...(inLoud ? [{ person: person("loud", r.day), answers: 20, thumbsDown: 20, corrections: 0 }] : []),
      ];
      const counts = { ...r.counts, ...(inLoud ? { answers: 40, thumbsDown: 21 } : {}) };
      return { ...r, counts, ...(withPersons ? { persons } : {}) };
    });

  it("one person who 👎 every answer in six conversations of the new version counts once a day and does not halt an equal version; counted per conversation, the same days halt it", () => {
    const byPerson = watchRollout({ reports: rows(6), ran: [], removals: [] }, versions, DEFAULT_BOUNDS, 0.05);
    expect(byPerson.haltedOn).toBeUndefined();
    // The loud person's 480 👎 count 4 on 4 answers, one a day (a pseudonym is the day's: each day a source of
    // one event, as each other person's 👎 day); the side's first such source is left out.
    const down = byPerson.signals.find((s) => s.signal === "thumbsDown")!;
    expect(down.candidate).toEqual({ events: 48 + 4 - 1, exposure: 960 + 4 - 10 });
    const byConversation = watchRollout(
      { reports: rows(6, false), ran: [], removals: [] },
      versions,
      DEFAULT_BOUNDS,
      0.05,
    );
    expect(byConversation.haltedOn).toBe("thumbsDown");
  });

  it("a person on both sides counts once on each; a day's persons are the day's, not the next day's", () => {
    const day = days[0]!;
    const both = [
      {
        ...report("a", "2", day, { answers: 4, thumbsDown: 2 }),
        persons: [{ person: person("p", day), answers: 4, thumbsDown: 2, corrections: 0 }],
      },
      {
        ...report("b", "2", day, { answers: 4, thumbsDown: 2 }),
        persons: [{ person: person("p", day), answers: 4, thumbsDown: 2, corrections: 0 }],
      },
      {
        ...report("c", "1", day, { answers: 4, thumbsDown: 1 }),
        persons: [{ person: person("p", day), answers: 4, thumbsDown: 1, corrections: 0 }],
      },
    ];
    const c = conversationCounts({ reports: both, ran: [], removals: [] }, "2", "1", new Set([day]));
    expect(
      c.thumbsDown.map((s) => ({ source: s.source, candidate: s.candidate, day: s.days[day], cap: s.cap })),
    ).toEqual([
      { source: `person:${person("p", day)}`, candidate: true, day: { events: 4, exposure: 8 }, cap: 1 },
      { source: `person:${person("p", day)}`, candidate: false, day: { events: 1, exposure: 4 }, cap: 1 },
    ]);
  });

  it("a person's events are never more than the answers they were given; an agent-day without persons counts by its conversation", () => {
    const day = days[0]!;
    const mixed = [
      {
        ...report("a", "2", day, { answers: 3, corrections: 5 }),
        persons: [{ person: person("p", day), answers: 2, thumbsDown: 0, corrections: 5 }],
      },
      report("old", "2", day, { answers: 6, thumbsDown: 2 }),
    ];
    const c = conversationCounts({ reports: mixed, ran: [], removals: [] }, "2", "1", new Set([day]));
    expect(c.corrections.find((s) => s.source.startsWith("person:"))?.days[day]).toEqual({ events: 2, exposure: 2 });
    expect(c.thumbsDown.map((s) => [s.source, s.days[day], s.cap])).toEqual([
      [`person:${person("p", day)}`, { events: 0, exposure: 2 }, 1],
      ["conv-old", { events: 2, exposure: 6 }, undefined],
    ]);
  });
});

describe("per person, whatever they do", () => {
  const day = "2026-11-01";
  const P = "f".repeat(64);
  /** Honest agents of a version, each with one person who gave no 👎; `loud` conversations where P 👎s. */
  const persons = fc.record({
    loud: fc.array(fc.record({ answers: fc.integer({ min: 1, max: 40 }), extra: fc.integer({ min: 0, max: 40 }) }), {
      minLength: 1,
      maxLength: 12,
    }),
    quiet: fc.integer({ min: 2, max: 8 }),
  });

  test.prop([persons])(
    "one person's 👎 across any number of conversations on a side are one source, and add one event to its day",
    ({ loud, quiet }) => {
      const rows: AgentDay[] = [
        ...loud.map((l, i) => ({
          ...report(`loud-${i}`, "2", day, { answers: l.answers + l.extra }),
          persons: [{ person: P, answers: l.answers, thumbsDown: l.answers, corrections: 0 }],
        })),
        ...Array.from({ length: quiet }, (_, i) => ({
          ...report(`quiet-${i}`, "2", day, { answers: 10 }),
          persons: [{ person: `${i}`.padStart(64, "a"), answers: 10, thumbsDown: 0, corrections: 0 }],
        })),
      ];
      const sources = conversationCounts({ reports: rows, ran: [], removals: [] }, "2", "1", new Set([day])).thumbsDown;
      const theirs = sources.filter((s) => s.source === `person:${P}`);
      expect(theirs).toHaveLength(1);
      // A louder source beside them is the one left out: their day is what the cap leaves, one event.
      const decoy = { source: "decoy", candidate: true, days: { [day]: { events: 5, exposure: 5 } } };
      const [paired] = pairedDays([...sources, decoy]);
      expect(paired?.candidate.events).toBe(1);
    },
  );
});

describe("a stack's watch rules (checkWatchRules)", () => {
  it("fills what a stack leaves out with the pool's rules, the sample's two figures each on its own", () => {
    expect(checkWatchRules()).toEqual(DEFAULT_WATCH_RULES);
    expect(checkWatchRules({ realUseDays: 0, minSample: { conversations: 5 } as never })).toEqual({
      maxOwnerAgents: MAX_OWNER_AGENTS,
      realUseDays: 0,
      minSample: { conversations: 5, answers: DEFAULT_WATCH_RULES.minSample.answers },
    });
  });

  it("refuses at start a rule that is not a whole number, below 0, or a sample of no conversations, naming it", () => {
    expect(() => checkWatchRules({ maxOwnerAgents: -1 })).toThrow(/maxOwnerAgents must be a whole number >= 0/);
    expect(() => checkWatchRules({ realUseDays: 1.5 })).toThrow(/realUseDays must be a whole number >= 0/);
    expect(() => checkWatchRules({ realUseDays: Number.NaN })).toThrow(/realUseDays/);
    expect(() => checkWatchRules({ minSample: { conversations: 0, answers: 10 } })).toThrow(
      /minSample.conversations must be a whole number >= 1/,
    );
    expect(() => checkWatchRules({ minSample: { conversations: 3, answers: -5 } })).toThrow(/minSample.answers/);
  });
});

// What a rollout's watch counts (rollout.ts), in memory: which days count,
// what each signal is counted against, each agent once a day for the
// removals, and the same data halting or not through kit's test. Nothing
// stands in: it is pure.
import { describe, expect, it } from "vitest";
import { FIGURES, MIN_CONVERSATIONS, type AgentDay } from "./figures.js";
import {
  type AgentOnDay,
  SIGNAL_WORDS,
  conversationCounts,
  conversationsOn,
  countedDays,
  watchRollout,
} from "./rollout.js";
import { DEFAULT_BOUNDS, ROLLOUT_SIGNALS } from "@convos-pool/kit/content";

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
      { conversation: "home", candidate: true, days: { [day]: { events: 1, exposure: 10 } } },
      { conversation: "home-b", candidate: false, days: { [day]: { events: 2, exposure: 4 } } },
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
  const days = ["2026-11-01", "2026-11-02", "2026-11-03"];

  it("halts on far more 👎 over many conversations, in the creator's words", () => {
    const w = watchRollout(
      { reports: reports(6, days, (v) => ({ answers: 20, thumbsDown: v === "2" ? 4 : 1 })), ran: [], removals: [] },
      { candidate: "2", baseline: "1" },
      DEFAULT_BOUNDS,
      0.05,
    );
    expect(w.haltedOn).toBe("thumbsDown");
    expect(SIGNAL_WORDS.thumbsDown).toBe("👎 on its answers");
    expect(w.daysCounted).toBe(3);
    expect(w.signals.find((s) => s.signal === "thumbsDown")).toMatchObject({
      candidate: { events: 60, exposure: 300 },
      baseline: { events: 15, exposure: 300 },
    });
  });

  it("does not halt on one conversation's flood", () => {
    const w = watchRollout(
      {
        reports: reports(6, days, (v, i) => ({ answers: 20, thumbsDown: v === "2" && i === 0 ? 500 : 1 })),
        ran: [],
        removals: [],
      },
      { candidate: "2", baseline: "1" },
      DEFAULT_BOUNDS,
      0.05,
    );
    expect(w.haltedOn).toBeUndefined();
  });
});

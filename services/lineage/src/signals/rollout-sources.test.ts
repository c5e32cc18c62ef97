// Whose each signal's events are in a rollout's watch (rollout.ts
// conversationCounts, watchRollout), in memory: a person of the day for
// what people do (👎, corrections, stops, the tool calls that failed for
// them), the owner for what only an owner does (declined approvals,
// pauses), each capped at one event a side and day across all their
// conversations. Nothing stands in: it is pure.
import { PERSON_DAY_EVENTS } from "@convos-pool/kit/content";
import { describe, expect, it } from "vitest";
import { FIGURES, type AgentDay } from "./figures.js";
import { SIGNAL_WORDS, conversationCounts, watchRollout } from "./rollout.js";
import { DEFAULT_BOUNDS } from "@convos-pool/kit/content";

const ZERO = Object.fromEntries(FIGURES.map((f) => [f, 0])) as Record<(typeof FIGURES)[number], number>;
const days = ["2026-11-01", "2026-11-02", "2026-11-03", "2026-11-04"];
const versions = { candidate: "2", baseline: "1" };
/** A person's pseudonym of the day, as the agents send it: 64 hex digits, another each day. */
const person = (who: string, day: string) => `${who}-${day}`.padEnd(64, "0");

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

const NONE = { thumbsDown: 0, corrections: 0, stopRequests: 0, toolCallsFailed: 0 };

describe("what one person does in six conversations, counted once a side and day", () => {
  /**
   * 12 agents a version with real use, each answering two people 10 times a day, the first of whom makes one
   * `signal` a day (equal versions); and one person, `loud`, in the first `loud` conversations of the new
   * version, who makes it on each of the 20 answers (or turns) they get there each day.
   */
  const rows = (signal: "stopRequests" | "toolCallsFailed", loud: number, withPersons = true) =>
    days.flatMap((day) =>
      ["2", "1"].flatMap((v) =>
        Array.from({ length: 12 }, (_, i) => {
          const r = report(`${v}-${i}`, v, day, { answers: 20, people: 3, [signal]: 1 });
          const inLoud = v === "2" && i < loud;
          const persons = [
            { person: person(`${r.instanceId}a`, day), answers: 10, ...NONE, [signal]: 1 },
            { person: person(`${r.instanceId}b`, day), answers: 10, ...NONE },
            ...(inLoud ? [{ person: person("loud", day), answers: 20, ...NONE, [signal]: 20 }] : []),
          ];
          const counts = { ...r.counts, ...(inLoud ? { answers: 40, [signal]: 21 } : {}) };
          return { ...r, counts, ...(withPersons ? { persons } : {}) };
        }),
      ),
    );
  const watch = (reports: AgentDay[]) =>
    watchRollout({ reports, ran: [], removals: [] }, versions, DEFAULT_BOUNDS, 0.05);

  it("stops every turn: one stop a day on that side, no pause of an equal version; counted per conversation, the same days pause it", () => {
    const byPerson = watch(rows("stopRequests", 6));
    expect(byPerson.pausedOn).toBeUndefined();
    const stops = byPerson.signals.find((s) => s.signal === "stopRequests")!;
    // 48 honest stops and the loud person's one a day, less the side's first such source left out.
    expect(stops.candidate.events).toBe(48 + 4 - 1);
    const byConversation = watch(rows("stopRequests", 6, false));
    expect(byConversation.pauseCheck).toBe("signal");
    expect(byConversation.pausedOn).toContain(SIGNAL_WORDS.stopRequests);
  });

  it("asks for tool calls that fail on every answer: one failure a day on that side, no halt of an equal version; counted per conversation, the same days halt it", () => {
    const byPerson = watch(rows("toolCallsFailed", 6));
    expect(byPerson.haltedOn).toBeUndefined();
    expect(byPerson.pausedOn).toBeUndefined();
    expect(byPerson.signals.find((s) => s.signal === "toolCallsFailed")?.candidate.events).toBe(48 + 4 - 1);
    expect(watch(rows("toolCallsFailed", 6, false)).haltedOn).toBe("toolCallsFailed");
  });
});

describe("a person's stops and failed tool calls in an agent's day", () => {
  const day = days[0]!;
  const counted = new Set([day]);

  it("are one source per person and side, capped at one event, across their conversations", () => {
    const two = ["a", "b"].map((id) => ({
      ...report(id, "2", day, { answers: 5, stopRequests: 3, toolCallsFailed: 2 }),
      persons: [{ person: person("p", day), answers: 5, ...NONE, stopRequests: 3, toolCallsFailed: 2 }],
    }));
    const c = conversationCounts({ reports: two, ran: [], removals: [] }, "2", "1", counted);
    const one = (s: "stopRequests" | "toolCallsFailed") =>
      c[s].map((x) => ({ source: x.source, day: x.days[day], cap: x.cap }));
    // A stop is counted against the turns they saw, answered or stopped; a failure against their answers.
    expect(one("stopRequests")).toEqual([
      { source: `person:${person("p", day)}`, day: { events: 6, exposure: 16 }, cap: PERSON_DAY_EVENTS },
    ]);
    expect(one("toolCallsFailed")).toEqual([
      { source: `person:${person("p", day)}`, day: { events: 4, exposure: 10 }, cap: PERSON_DAY_EVENTS },
    ]);
  });

  it("count a stop of someone who was given no answer, and never more failures than the answers they were given", () => {
    const r = {
      ...report("a", "2", day, { answers: 2, stopRequests: 2, toolCallsFailed: 5 }),
      persons: [
        { person: person("stopper", day), answers: 0, ...NONE, stopRequests: 2 },
        { person: person("asker", day), answers: 2, ...NONE, toolCallsFailed: 5 },
      ],
    };
    const c = conversationCounts({ reports: [r], ran: [], removals: [] }, "2", "1", counted);
    expect(c.stopRequests.find((x) => x.source.includes("stopper"))?.days[day]).toEqual({ events: 2, exposure: 2 });
    expect(c.toolCallsFailed.find((x) => x.source.includes("asker"))?.days[day]).toEqual({ events: 2, exposure: 2 });
  });

  it("count by its conversation in an agent-day sent without persons, and nowhere when no person made them", () => {
    const old = report("old", "2", day, { answers: 6, stopRequests: 2 });
    const creators = {
      ...report("c", "2", day, { answers: 4, stopRequests: 3 }),
      persons: [{ person: person("p", day), answers: 4, ...NONE }],
    };
    const c = conversationCounts({ reports: [old, creators], ran: [], removals: [] }, "2", "1", counted);
    expect(c.stopRequests.map((x) => [x.source, x.days[day]])).toEqual([
      ["conv-old", { events: 2, exposure: 6 }],
      [`person:${person("p", day)}`, { events: 0, exposure: 4 }],
    ]);
  });
});

describe("what only an owner does: declined approvals and pauses", () => {
  const day = days[0]!;

  it("is one source per owner and side, capped at one event a day, however many of their agents and conversations", () => {
    const three = ["x", "y", "z"].map((id) => ({
      ...report(id, "2", day, { answers: 10, approvalsDeclined: 4, pauses: 1 }),
      ownerId: "owner-o",
    }));
    const c = conversationCounts({ reports: three, ran: [], removals: [] }, "2", "1", new Set([day]));
    expect(c.approvalsDeclined.map((x) => ({ source: x.source, day: x.days[day], cap: x.cap }))).toEqual([
      { source: "owner:owner-o", day: { events: 12, exposure: 30 }, cap: PERSON_DAY_EVENTS },
    ]);
    expect(c.pauses.map((x) => ({ source: x.source, day: x.days[day], cap: x.cap }))).toEqual([
      { source: "owner:owner-o", day: { events: 3, exposure: 3 }, cap: PERSON_DAY_EVENTS },
    ]);
  });

  it("is the owner the claims feed says now, not the one the report was stored under", () => {
    const r = report("x", "2", day, { answers: 10, pauses: 1 });
    const c = conversationCounts(
      { reports: [r], ran: [], removals: [] },
      "2",
      "1",
      new Set([day]),
      new Map([["x", "new-owner"]]),
    );
    expect(c.pauses.map((x) => x.source)).toEqual(["owner:new-owner"]);
  });
});

// The overload benchmark's report, pure: made-up outcomes, no services.
import { describe, expect, it } from "vitest";
import { levelFigures, mixKind, overloadGoals, restMixLines, restTimeLine } from "./overload-report.js";

const outcomes = (ok: number, okMs: number, refused: number, refusedMs: number, timeouts = 0) => [
  ...Array.from({ length: ok }, () => ({ ms: okMs, code: "ok" })),
  ...Array.from({ length: refused }, () => ({ ms: refusedMs, code: "ResourceExhausted" })),
  ...Array.from({ length: timeouts }, () => ({ ms: 2000, code: "DeadlineExceeded" })),
];

describe("the overload report", () => {
  it("counts goodput over the level's seconds, and refusals and other failures apart", () => {
    const level = levelFigures(2, 200, 5, [...outcomes(500, 20, 400, 3, 7), { ms: 0.1, code: "Throttled" }]);
    expect(level).toMatchObject({
      goodput: 100,
      refused: 401,
      throttled: 1,
      refusedP99: 3,
      other: { DeadlineExceeded: 7 },
    });
    expect(level.admitted.p99).toBe(20);
  });

  it("times the service's refusals from their send too, apart from the client's own and from how late the benchmark sent them", () => {
    const level = levelFigures(4, 400, 1, [
      ...Array.from({ length: 100 }, () => ({ ms: 900, lateMs: 898, code: "ResourceExhausted" })),
      ...Array.from({ length: 100 }, () => ({ ms: 950, lateMs: 950, code: "Throttled" })),
    ]);
    expect(level.refusedP99).toBe(950);
    expect(level.serviceRefusedSentP99).toBe(2);
  });

  it("says met when every goal holds and names each one missed", () => {
    const good = [0.5, 1, 2, 4].map((f) =>
      levelFigures(f, 100 * f, 1, outcomes(Math.min(100 * f, 95), 10, 100 * f - 95, 2)),
    );
    const lines = overloadGoals(good, { claiming: 0, claimed: 500, answered: 500 });
    expect(lines.every((l) => l.endsWith("(met)"))).toBe(true);
    const bad = [
      levelFigures(0.5, 50, 1, outcomes(50, 10, 0, 0)),
      levelFigures(1, 100, 1, outcomes(100, 10, 0, 0)),
      levelFigures(4, 400, 1, outcomes(40, 50, 360, 9)),
    ];
    const missed = overloadGoals(bad, { claiming: 2, claimed: 190, answered: 190 });
    expect(missed.filter((l) => l.endsWith("(MISSED)"))).toHaveLength(4);
  });

  it("mixes 4 claims, 4 store listings and 2 dashboard reads in every 10 requests", () => {
    const kinds = Array.from({ length: 100 }, (_, i) => mixKind(i));
    expect(kinds.filter((k) => k === "claim")).toHaveLength(40);
    expect(kinds.filter((k) => k === "listing")).toHaveLength(40);
    expect(kinds.filter((k) => k === "dashboard")).toHaveLength(20);
  });

  it("says the REST mix shed listings and dashboards before claims only when both were refused more often than claims", () => {
    // Every claim answered, every listing and dashboard read refused: shed first.
    const shed = Array.from({ length: 100 }, (_, i) => ({
      i,
      ms: 5,
      code: mixKind(i) === "claim" ? "ok" : "ResourceExhausted",
    }));
    expect(restMixLines(4, 100, 1, shed).at(-1)).toMatch(
      /shed before claims: yes \(refused: listings 100%, dashboards 100%, claims 0%\)/,
    );
    // The other way round.
    const wrong = shed.map((o) => ({ ...o, code: o.code === "ok" ? "ResourceExhausted" : "ok" }));
    expect(restMixLines(4, 100, 1, wrong).at(-1)).toMatch(/shed before claims: NO/);
    // Dashboards refused, listings and claims never: the listings were not shed.
    const some = shed.map((o) => ({ ...o, code: mixKind(o.i) === "dashboard" ? o.code : "ok" }));
    expect(restMixLines(4, 100, 1, some).at(-1)).toMatch(/shed before claims: NO/);
    // Nothing refused: no verdict.
    expect(
      restMixLines(
        1,
        100,
        1,
        shed.map((o) => ({ ...o, code: "ok" })),
      ).join("\n"),
    ).not.toMatch(/shed before/);
  });

  it("splits the REST mix's time of answered requests between the service behind the gateway and the rest, failures left out", () => {
    const outcomes = Array.from({ length: 10 }, (_, i) => ({
      i,
      ms: mixKind(i) === "claim" ? 900 : 300,
      lateMs: i === 0 ? 40 : 0,
      code: i === 2 ? "DeadlineExceeded" : "ok",
    }));
    const line = restTimeLine(outcomes, {
      claim: { count: 4, meanMs: 400 },
      listing: { count: 4, meanMs: 50 },
      dashboard: { count: 0, meanMs: Number.NaN },
    });
    expect(line).toContain("claims 900 ms from schedule, 400 ms in the service (4 calls)");
    expect(line).toContain("listings 300 ms from schedule, 50 ms in the service (4 calls)");
    expect(line).toContain("dashboards 300 ms from schedule, NaN ms in the service (0 calls)");
    expect(line).toMatch(/sent late by this process p99 40 ms$/);
  });
});

// Which version reports lineage takes (policy.ts ranVersion), in
// memory: the versions an agent ran by the claims feed, per UTC day. And
// what a rollout's watch request may ask (checkWatchRequest).
import { create } from "@bufbuild/protobuf";
import { WatchRolloutRequestSchema } from "@convos-pool/gen/convos/pool/v1/rollout_watch_service_pb.js";
import { describe, expect, it } from "vitest";
import { PersonSignalCountsSchema } from "@convos-pool/gen/convos/pool/v1/signal_service_pb.js";
import {
  MAX_PERSONS,
  checkPersons,
  checkWatchRequest,
  compareVersionsViolations,
  dayRange,
  ranVersion,
  type VersionHistory,
} from "./policy.js";

const at = (iso: string) => new Date(iso);

describe("a report's day per person", () => {
  const p = (person: string, answers = 2, thumbsDown = 1, corrections = 0, stopRequests = 0, toolCallsFailed = 0) =>
    create(PersonSignalCountsSchema, { person, answers, thumbsDown, corrections, stopRequests, toolCallsFailed });
  const A = "a".repeat(64);
  const B = "b".repeat(64);
  const day = (answers = 5, stopRequests = 0, toolCallsFailed = 0) => ({ answers, stopRequests, toolCallsFailed });
  const field = (persons: ReturnType<typeof p>[], counts = day()) => {
    try {
      checkPersons(persons, counts);
      return "taken";
    } catch (err) {
      return String((err as Error).message).split(":")[0];
    }
  };

  it("takes pseudonyms of 64 hex digits, each once, with no more 👎 than their answers and no more answers than the day's", () => {
    expect(checkPersons([p(A), p(B, 3, 0, 2)], day())).toEqual([
      { person: A, answers: 2, thumbsDown: 1, corrections: 0, stopRequests: 0, toolCallsFailed: 0 },
      { person: B, answers: 3, thumbsDown: 0, corrections: 2, stopRequests: 0, toolCallsFailed: 0 },
    ]);
    expect(field([p("inbox-ana")])).toContain("persons[0].person");
    expect(field([p(A), p(A)])).toContain("persons[1].person");
    expect(field([p(A, 2, 3)])).toContain("persons[0].thumbs_down");
    expect(field([p(A, 6, 0)])).toContain("persons[0].answers");
    expect(
      field(
        Array.from({ length: MAX_PERSONS + 1 }, (_, i) => p(i.toString(16).padStart(64, "0"), 0, 0)),
        day(0),
      ),
    ).toContain("persons");
  });

  it("takes their stops and failed tool calls, together no more than the day's, and refuses more naming the field", () => {
    expect(checkPersons([p(A, 2, 0, 0, 1, 2), p(B, 0, 0, 0, 2, 0)], day(5, 3, 2))).toEqual([
      { person: A, answers: 2, thumbsDown: 0, corrections: 0, stopRequests: 1, toolCallsFailed: 2 },
      { person: B, answers: 0, thumbsDown: 0, corrections: 0, stopRequests: 2, toolCallsFailed: 0 },
    ]);
    expect(field([p(A, 2, 0, 0, 1), p(B, 0, 0, 0, 2)], day(5, 2))).toContain("persons[1].stop_requests");
    expect(field([p(A, 2, 0, 0, 0, 2), p(B, 1, 0, 0, 0, 1)], day(5, 0, 2))).toContain("persons[1].tool_calls_failed");
  });
});

describe("a report's version", () => {
  // Claimed on 6 on the 24th at 10:00, updated to 7 on the 25th at 15:00.
  const history: VersionHistory = {
    stretches: [
      { version: "6", from: at("2026-11-24T10:00:00Z"), to: at("2026-11-25T15:00:00Z") },
      { version: "7", from: at("2026-11-25T15:00:00Z") },
    ],
  };

  it("is taken for a day on which the agent ran it, the old version's last day after an update included", () => {
    expect(ranVersion(history, "6", "2026-11-24")).toBe(true);
    expect(ranVersion(history, "6", "2026-11-25")).toBe(true);
    expect(ranVersion(history, "7", "2026-11-25")).toBe(true);
    expect(ranVersion(history, "7", "2026-11-30")).toBe(true);
  });

  it("is refused for a version it never ran, or did not run that day", () => {
    expect(ranVersion(history, "8", "2026-11-25")).toBe(false);
    expect(ranVersion(history, "6", "2026-11-26")).toBe(false);
    expect(ranVersion(history, "7", "2026-11-24")).toBe(false);
    // Before its claim it ran nothing.
    expect(ranVersion(history, "6", "2026-11-23")).toBe(false);
  });

  it("is not the old version's the day after an update at midnight", () => {
    const atMidnight: VersionHistory = {
      stretches: [
        { version: "6", from: at("2026-11-24T10:00:00Z"), to: at("2026-11-25T00:00:00Z") },
        { version: "7", from: at("2026-11-25T00:00:00Z") },
      ],
    };
    expect(ranVersion(atMidnight, "6", "2026-11-25")).toBe(false);
    expect(ranVersion(atMidnight, "7", "2026-11-25")).toBe(true);
  });

  it("is the agent's word when lineage cannot tell: no version known, or a day that began before lineage knew them", () => {
    expect(ranVersion({ stretches: [] }, "8", "2026-11-25")).toBe(true);
    const late: VersionHistory = {
      knownFrom: at("2026-11-25T09:00:00Z"),
      stretches: [{ version: "7", from: at("2026-11-25T09:00:00Z") }],
    };
    expect(ranVersion(late, "6", "2026-11-25")).toBe(true);
    expect(ranVersion(late, "6", "2026-11-24")).toBe(true);
    expect(ranVersion(late, "6", "2026-11-26")).toBe(false);
    expect(ranVersion(late, "7", "2026-11-26")).toBe(true);
  });
});

describe("a rollout's watch request", () => {
  const req = (o: { creatorId?: string; shareBasisPoints?: number } = {}) =>
    create(WatchRolloutRequestSchema, {
      templateId: "tmpl_0123456789abcdef",
      candidateVersion: "2",
      baselineVersion: "1",
      fromDay: "2026-11-01",
      ...o,
    });
  const now = Date.parse("2026-11-05T12:00:00Z");

  it("takes the creator and the planned share when given, and neither when not", () => {
    expect(checkWatchRequest(req({ creatorId: "creator", shareBasisPoints: 1_000 }), now)).toMatchObject({
      creatorId: "creator",
      share: 1_000,
    });
    const bare = checkWatchRequest(req(), now);
    expect(bare.creatorId).toBeUndefined();
    expect(bare.share).toBeUndefined();
  });

  it("refuses a share past every conversation", () => {
    expect(() => checkWatchRequest(req({ shareBasisPoints: 10_001 }), now)).toThrow(/share_basis_points/);
  });
});

describe("what is wrong with a comparison of versions, every field at once", () => {
  const NOW = Date.parse("2026-11-29T12:00:00Z");
  const fields = (vs: { field: string }[]) => vs.map((v) => v.field);

  it("names the template, the versions and the days together, not the first only", () => {
    expect(
      fields(
        compareVersionsViolations({ templateId: "x", versions: ["6", "6"], fromDay: "2026-13-01", toDay: "" }, NOW),
      ),
    ).toEqual(["template_id", "versions", "from_day"]);
    expect(
      fields(compareVersionsViolations({ templateId: "x", versions: [], fromDay: "", toDay: "someday" }, NOW)),
    ).toEqual(["template_id", "to_day"]);
  });

  it("finds nothing wrong with a well-formed comparison, and reads the days asked for", () => {
    const req = { templateId: "tmpl_0123456789abcdef", versions: ["6", "7"], fromDay: "", toDay: "" };
    expect(compareVersionsViolations(req, NOW)).toEqual([]);
    expect(dayRange("", "", NOW)).toEqual({ from: "2026-10-31", to: "2026-11-29" });
    expect(fields(compareVersionsViolations({ ...req, fromDay: "2026-11-30", toDay: "2026-11-29" }, NOW))).toEqual([
      "from_day",
    ]);
  });
});

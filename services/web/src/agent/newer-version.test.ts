// What an owner of a pinned agent is shown of a newer version, from the
// pool's answers as the generated messages carry them (no call is made).
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { InstanceSchema, SyncState } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import {
  CompareVersionsResponseSchema,
  type VersionComparisonSchema,
} from "@convos-pool/gen/convos/pool/v1/signal_service_pb.js";
import { ReleaseNoteSchema } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import { describe, expect, it } from "vitest";
import { OWNER_FIGURES, comparisonTable, newerRelease, notesBetween, notesMayContinue, per100 } from "./newer-version";

const agent = (state: SyncState, appliedVersion: bigint, pendingVersion: bigint) =>
  create(InstanceSchema, { id: "inst_a", sync: { state, appliedVersion, pendingVersion } });

describe("newerRelease", () => {
  it("offers the newest release to an agent pinned behind it", () => {
    expect(newerRelease(agent(SyncState.PINNED, 1n, 3n))).toEqual({ applied: 1n, newest: 3n, baseOnly: false });
  });

  it("offers nothing to a pinned agent on the newest release, nor to one that follows its template", () => {
    expect(newerRelease(agent(SyncState.PINNED, 3n, 0n))).toBeUndefined();
    expect(newerRelease(agent(SyncState.CURRENT, 3n, 0n))).toBeUndefined();
    expect(newerRelease(agent(SyncState.PENDING, 1n, 3n))).toBeUndefined();
    expect(newerRelease(agent(SyncState.FAILED, 1n, 3n))).toBeUndefined();
    expect(newerRelease(create(InstanceSchema, { id: "inst_b" }))).toBeUndefined();
  });

  it("says when only a base template changed: the same version of its own, newer below it", () => {
    expect(newerRelease(agent(SyncState.PINNED, 4n, 4n))).toEqual({ applied: 4n, newest: 4n, baseOnly: true });
  });
});

describe("the release notes between the two", () => {
  const note = (version: bigint) => create(ReleaseNoteSchema, { version, releaseNotes: `notes of ${version}` });
  const r = { applied: 2n, newest: 5n, baseOnly: false };

  it("are those after the version it runs up to the newest, newest first", () => {
    const notes = [1n, 4n, 2n, 6n, 3n, 5n].map(note);
    expect(notesBetween(notes, r).map((n) => n.version)).toEqual([5n, 4n, 3n]);
  });

  it("are read on while the last note read may still be above the first one between", () => {
    expect(notesMayContinue(note(4n), r)).toBe(true);
    expect(notesMayContinue(note(3n), r)).toBe(false);
    expect(notesMayContinue(note(1n), r)).toBe(false);
    expect(notesMayContinue(undefined, r)).toBe(false);
  });
});

describe("comparisonTable", () => {
  const figures = {
    answers: 200,
    thumbsUp: 12.34,
    thumbsDown: 2,
    corrections: 0.05,
    forgetRequests: 0,
    toolCallsFailed: 1.25,
  };
  type Compared = MessageInitShape<typeof VersionComparisonSchema>;
  const shown = (version: string, f: Partial<typeof figures>): Compared => ({
    version,
    daysRan: 9,
    daysShown: 7,
    answers: 1234.6,
    per100Answers: { ...figures, ...f },
  });
  const answer = (...versions: Compared[]) => create(CompareVersionsResponseSchema, { versions, minConversations: 5 });

  it("sets each figure per 100 answers of the version the agent runs beside the newer one's", () => {
    const t = comparisonTable(answer(shown("1", { thumbsDown: 6 }), shown("3", { thumbsDown: 1.5 })), "1", "3");
    expect(t.older).toEqual({ version: "1", enough: true, answers: 1235, daysShown: 7 });
    expect(t.newer).toEqual({ version: "3", enough: true, answers: 1235, daysShown: 7 });
    expect(t.minConversations).toBe(5);
    expect(t.rows).toEqual([
      { figure: "Thumbs up on its messages", older: "12.3", newer: "12.3" },
      { figure: "Thumbs down on its messages", older: "6", newer: "1.5" },
      { figure: "Corrections of its answers", older: "0.1", newer: "0.1" },
      { figure: "“Forget what you learned from me”", older: "0", newer: "0" },
      { figure: "Tool calls that failed", older: "1.3", newer: "1.3" },
    ]);
  });

  it("matches the answer's versions by name, not by their order", () => {
    const t = comparisonTable(answer(shown("3", { thumbsUp: 30 }), shown("1", { thumbsUp: 10 })), "1", "3");
    expect(t.rows[0]).toEqual({ figure: "Thumbs up on its messages", older: "10", newer: "30" });
  });

  it("shows no figure of a version below the threshold, and says so by its column", () => {
    const t = comparisonTable(answer(shown("1", {}), { version: "3", daysRan: 2, daysShown: 0 }), "1", "3");
    expect(t.newer).toEqual({ version: "3", enough: false, answers: 0, daysShown: 0 });
    expect(t.rows.map((r) => r.newer)).toEqual(OWNER_FIGURES.map(() => "—"));
    expect(t.rows.map((r) => r.older)).toEqual(["12.3", "2", "0.1", "0", "1.3"]);
  });

  it("reads a version missing from the answer (nobody reported it) as one without enough conversations", () => {
    const t = comparisonTable(answer(shown("1", {})), "1", "3");
    expect(t.newer.enough).toBe(false);
    expect(t.rows.map((r) => r.newer)).toEqual(OWNER_FIGURES.map(() => "—"));
  });

  it("has no rows when neither version has enough conversations", () => {
    const t = comparisonTable(answer({ version: "1", daysRan: 3 }, { version: "3", daysRan: 1 }), "1", "3");
    expect(t.rows).toEqual([]);
    expect(t.older.enough || t.newer.enough).toBe(false);
  });
});

describe("per100", () => {
  it("keeps one decimal and drops a trailing .0", () => {
    expect([per100(12.345), per100(3), per100(0), per100(0.04), per100(99.96)]).toEqual(["12.3", "3", "0", "0", "100"]);
  });
});

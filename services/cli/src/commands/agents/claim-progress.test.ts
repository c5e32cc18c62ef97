// What the CLI says on stderr while a claim waits (claim-progress.ts), pure.
import { describe, expect, it } from "vitest";
import { ClaimStage } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import { progressLine, REPEAT_MS, stageFromName } from "./claim-progress.js";

describe("a claim's progress lines", () => {
  it("reads the REST stage names, and an unknown one as unspecified", () => {
    expect(stageFromName("joining")).toBe(ClaimStage.JOINING);
    expect(stageFromName("reserving")).toBe(ClaimStage.RESERVING);
    expect(stageFromName("warp")).toBe(ClaimStage.UNSPECIFIED);
  });

  it("says a new stage at once, with the time waited", () => {
    const first = progressLine(ClaimStage.RESERVING, 300, undefined);
    expect(first?.line).toBe("pool: Reserving an agent from the pool… (0 s)");
    const joining = progressLine(ClaimStage.JOINING, 2_400, first!.said);
    expect(joining?.line).toMatch(/^pool: Waiting for the conversation's creator to let the agent in .*… \(2 s\)$/);
  });

  it("says the same stage again only every REPEAT_MS, as still waiting", () => {
    const said = { stage: ClaimStage.JOINING, atMs: 2_000 };
    expect(progressLine(ClaimStage.JOINING, 2_000 + REPEAT_MS - 1, said)).toBeUndefined();
    expect(progressLine(ClaimStage.JOINING, 2_000 + REPEAT_MS, said)?.line).toMatch(
      /^pool: still: Waiting .*\(17 s\)$/,
    );
  });

  it("says nothing of an ended claim: its answer says how it ended", () => {
    for (const stage of [ClaimStage.JOINED, ClaimStage.FAILED, ClaimStage.CANCELLED])
      expect(progressLine(stage, 5_000, undefined)).toBeUndefined();
  });
});

// The words of a claim's wait: pure, no stand-ins.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { ClaimStage } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import { CLAIM_STAGE_WORDS, claimEnded, claimStageWords, elapsedWords } from "./claim-progress.js";

describe("claim progress words", () => {
  it("says what the join waits on: the conversation's creator letting the agent in", () => {
    expect(claimStageWords(ClaimStage.JOINING)).toMatch(/waiting for the conversation's creator to let the agent in/i);
  });

  it("words every stage, and an unknown one as working", () => {
    for (const stage of Object.values(ClaimStage).filter((v) => typeof v === "number"))
      expect(CLAIM_STAGE_WORDS[stage]).toBeTruthy();
    expect(claimStageWords(99 as ClaimStage)).toBe("Working");
  });

  it("ends only at joined, failed or cancelled", () => {
    expect([ClaimStage.RESERVING, ClaimStage.STARTING, ClaimStage.JOINING].some(claimEnded)).toBe(false);
    expect([ClaimStage.JOINED, ClaimStage.FAILED, ClaimStage.CANCELLED].every(claimEnded)).toBe(true);
  });

  it("says elapsed time in seconds, then minutes and seconds", () => {
    expect(elapsedWords(0)).toBe("0 s");
    expect(elapsedWords(59_999)).toBe("59 s");
    expect(elapsedWords(62_000)).toBe("1 min 02 s");
    expect(elapsedWords(-5)).toBe("0 s");
  });

  it("never says milliseconds, for any duration", () => {
    fc.assert(
      fc.property(fc.integer({ min: -1e6, max: 1e9 }), (ms) => {
        expect(elapsedWords(ms)).toMatch(/^(\d+ s|\d+ min \d\d s)$/);
      }),
    );
  });
});

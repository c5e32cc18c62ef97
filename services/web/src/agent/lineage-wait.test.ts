// When the agent's page asks for its lineage, from the claim's time alone (no call is made).
import { describe, expect, it } from "vitest";
import { LINEAGE_RECORDED_WITHIN_MS, lineageAskIn } from "./lineage-wait";

describe("asking for an agent's lineage", () => {
  const claimed = Date.parse("2026-11-29T12:00:00Z");

  it("waits while the claims service's outbox may not have reached lineage yet, then asks", () => {
    expect(LINEAGE_RECORDED_WITHIN_MS).toBe(3_000);
    expect(lineageAskIn(claimed, claimed)).toBe(3_000);
    expect(lineageAskIn(claimed, claimed + 1_200)).toBe(1_800);
    expect(lineageAskIn(claimed, claimed + 3_000)).toBe(0);
  });

  it("asks at once for an agent claimed long ago, and never for one not claimed yet", () => {
    expect(lineageAskIn(claimed, claimed + 86_400_000)).toBe(0);
    expect(lineageAskIn(undefined, claimed)).toBeUndefined();
  });
});

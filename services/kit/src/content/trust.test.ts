// The trust request's one rule (trustRequestViolations), which REST's body
// and ClaimService.SetTrustLevel both apply: pure, no stand-ins.

import { TrustLevel } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fieldViolations } from "./errors.js";
import { checkTrustRequest, MAX_DAILY_SPEND_LIMIT_WEI, trustRequestViolations } from "./trust.js";

const fields = (level: TrustLevel, limit: string) => trustRequestViolations(level, limit).map((v) => v.field);

describe("a trust request", () => {
  it("takes a daily limit at L2, L3 and L4, requires one at L4 and refuses one at L1", () => {
    for (const level of [TrustLevel.ADVISOR, TrustLevel.OPERATOR, TrustLevel.AUTONOMOUS])
      expect(fields(level, "50000000000000000")).toEqual([]);
    for (const level of [TrustLevel.ADVISOR, TrustLevel.OPERATOR, TrustLevel.OBSERVER]) {
      expect(fields(level, "")).toEqual([]);
      expect(fields(level, "0")).toEqual([]);
    }
    expect(fields(TrustLevel.AUTONOMOUS, "")).toEqual(["daily_spend_limit_wei"]);
    expect(fields(TrustLevel.AUTONOMOUS, "0")).toEqual(["daily_spend_limit_wei"]);
    expect(fields(TrustLevel.OBSERVER, "1")).toEqual(["daily_spend_limit_wei"]);
  });

  it("takes a limit only as plain decimal digits below 2^256, as SetTrustLevel signs it, spaces around it aside", () => {
    expect(fields(TrustLevel.OPERATOR, MAX_DAILY_SPEND_LIMIT_WEI.toString())).toEqual([]);
    expect(checkTrustRequest(TrustLevel.OPERATOR, " 5\t")).toEqual({ level: TrustLevel.OPERATOR, text: "5", wei: 5n });
    for (const bad of [(MAX_DAILY_SPEND_LIMIT_WEI + 1n).toString(), "0.05", "-1", "1 000", "007", "00", "1e18", "x"])
      expect(fields(TrustLevel.OPERATOR, bad), bad).toEqual(["daily_spend_limit_wei"]);
  });

  it("names every bad field at once, the level and the limit", () => {
    expect(fields(TrustLevel.UNSPECIFIED, "0.05")).toEqual(["trust_level", "daily_spend_limit_wei"]);
    expect(fields(5 as TrustLevel, "")).toEqual(["trust_level"]);
    const err = (() => {
      try {
        checkTrustRequest(9 as TrustLevel, "abc");
      } catch (e) {
        return e;
      }
    })();
    expect(fieldViolations(err).map((v) => v.field)).toEqual(["trust_level", "daily_spend_limit_wei"]);
  });

  it("accepts a limit exactly when it is a whole number of wei that reads back unchanged, at L2 to L4 (none but at L4)", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(TrustLevel.ADVISOR, TrustLevel.OPERATOR, TrustLevel.AUTONOMOUS),
        fc.oneof(fc.bigInt({ min: 1n, max: MAX_DAILY_SPEND_LIMIT_WEI * 2n }).map(String), fc.string()),
        (level, limit) => {
          const trimmed = limit.trim();
          const plain = /^\d+$/.test(trimmed) && BigInt(trimmed).toString() === trimmed;
          const fits = plain && BigInt(trimmed) <= MAX_DAILY_SPEND_LIMIT_WEI;
          const none = trimmed === "" || trimmed === "0";
          const ok = (fits && !none) || (none && level !== TrustLevel.AUTONOMOUS);
          expect(fields(level, limit).length === 0).toBe(ok);
          if (ok) expect(checkTrustRequest(level, limit).wei).toBe(BigInt(trimmed || "0"));
        },
      ),
      { numRuns: 200 },
    );
  });
});

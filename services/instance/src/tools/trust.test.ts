// The trust level's rules, in memory: what a level says of a call, and what
// an owner may ask for.
import { ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { TrustLevel } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import { checkLevelRequest, decide, initialTrust, type TrustFile } from "./trust.js";

const at = (level: TrustLevel, dailySpendLimitWei = "0"): TrustFile => ({
  level,
  dailySpendLimitWei,
  setAt: "",
  byOwner: true,
});
const refusal = (f: () => unknown) => {
  try {
    f();
  } catch (err) {
    return ConnectError.from(err).rawMessage;
  }
  return "accepted";
};

describe("trust levels", () => {
  it("decide: L1 refuses, L2 asks, L3 asks only for money, L4 pays within its limit over 24 hours", () => {
    expect(decide(at(TrustLevel.OBSERVER), "read").kind).toBe("refuse");
    expect(["read", "act", "money"].map((r) => decide(at(TrustLevel.ADVISOR), r as "read").kind)).toEqual([
      "ask",
      "ask",
      "ask",
    ]);
    expect(["read", "act", "money"].map((r) => decide(at(TrustLevel.OPERATOR), r as "read").kind)).toEqual([
      "allow",
      "allow",
      "ask",
    ]);
    expect(decide(at(TrustLevel.AUTONOMOUS, "100"), "money", 60n, 40n).kind).toBe("allow");
    expect(decide(at(TrustLevel.AUTONOMOUS, "100"), "money", 61n, 40n)).toMatchObject({ kind: "refuse" });
    // The network fee counts: an amount that fits only without it is over the limit, and the refusal says so.
    expect(decide(at(TrustLevel.AUTONOMOUS, "100"), "money", 50n, 40n, 10n).kind).toBe("allow");
    expect(decide(at(TrustLevel.AUTONOMOUS, "100"), "money", 50n, 40n, 11n)).toEqual({
      kind: "refuse",
      reason:
        "that would go over my daily spending limit (0.0000000000000001 ETH in 24 hours; 0.00000000000000004 ETH spent; its network fee up to 0.000000000000000011 ETH)",
    });
  });

  it("starts at L2, or at the template's highest when that is lower; none means L2", () => {
    expect(
      [TrustLevel.UNSPECIFIED, TrustLevel.OBSERVER, TrustLevel.ADVISOR, TrustLevel.AUTONOMOUS].map(
        (m) => initialTrust(m).level,
      ),
    ).toEqual([TrustLevel.ADVISOR, TrustLevel.OBSERVER, TrustLevel.ADVISOR, TrustLevel.ADVISOR]);
  });

  it("an owner asks for L1 to L4 within the template's highest, with a limit at L4 and none below, or is told which field is wrong", () => {
    expect(checkLevelRequest(TrustLevel.AUTONOMOUS, " 5000 ", TrustLevel.AUTONOMOUS)).toEqual({
      level: TrustLevel.AUTONOMOUS,
      dailySpendLimitWei: "5000",
    });
    expect(checkLevelRequest(TrustLevel.OPERATOR, "", TrustLevel.AUTONOMOUS)).toEqual({
      level: TrustLevel.OPERATOR,
      dailySpendLimitWei: "0",
    });
    expect(refusal(() => checkLevelRequest(TrustLevel.UNSPECIFIED, "", TrustLevel.AUTONOMOUS))).toBe(
      "trust_level: must be L1 to L4",
    );
    expect(refusal(() => checkLevelRequest(TrustLevel.OPERATOR, "", TrustLevel.UNSPECIFIED))).toBe(
      "trust_level: L3 is above the highest its template allows (L2)",
    );
    expect(refusal(() => checkLevelRequest(TrustLevel.AUTONOMOUS, "0", TrustLevel.AUTONOMOUS))).toMatch(
      /^daily_spend_limit_wei: required at L4/,
    );
    expect(refusal(() => checkLevelRequest(TrustLevel.ADVISOR, "10", TrustLevel.AUTONOMOUS))).toMatch(
      /^daily_spend_limit_wei: only L4/,
    );
  });
});

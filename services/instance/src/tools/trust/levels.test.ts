// The trust level's rules, in memory: what a level says of a call, and what
// an owner may ask for.
import { ConnectError } from "@connectrpc/connect";
import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { TrustLevel } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import { checkLevelRequest, decide, initialTrust, type TrustFile } from "./levels.js";

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
    expect(["read", "act", "money"].map((r) => decide(at(TrustLevel.ADVISOR, "100"), r as "read").kind)).toEqual([
      "ask",
      "ask",
      "ask",
    ]);
    expect(["read", "act", "money"].map((r) => decide(at(TrustLevel.OPERATOR, "100"), r as "read").kind)).toEqual([
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

  it("decide: money at L2 and L3 is held to the owner's signed limit before the owner is asked, and without one it is refused", () => {
    for (const level of [TrustLevel.ADVISOR, TrustLevel.OPERATOR]) {
      // Within the limit: asked, as before.
      expect(decide(at(level, "100"), "money", 50n, 40n, 10n).kind).toBe("ask");
      // Past it: refused without asking, with the same words as at L4.
      expect(decide(at(level, "100"), "money", 50n, 40n, 11n)).toMatchObject({
        kind: "refuse",
        reason: expect.stringMatching(/^that would go over my daily spending limit/),
      });
      // None set: the pool's signer would sign nothing, so nobody is asked; the owner is told both ways to set one.
      expect(decide(at(level), "money", 1n)).toEqual({
        kind: "refuse",
        reason:
          "my owner has set no spending limit for my wallet, so I pay nothing; they can set one with my trust level, signed or confirmed in Convos",
      });
      // What moves no money is as the level says, limit or not.
      expect(decide(at(level), "act").kind).toBe(level === TrustLevel.OPERATOR ? "allow" : "ask");
    }
  });

  test.prop([
    fc.constantFrom(TrustLevel.ADVISOR, TrustLevel.OPERATOR, TrustLevel.AUTONOMOUS),
    fc.bigInt({ min: 0n, max: 10n ** 20n }),
    fc.bigInt({ min: 0n, max: 10n ** 20n }),
    fc.bigInt({ min: 0n, max: 10n ** 20n }),
    fc.bigInt({ min: 0n, max: 10n ** 20n }),
  ])(
    "decide: a payment at L2 to L4 goes ahead (asked below L4) only within a signed limit, fee and the day's spending counted",
    (level, limit, amount, spent, fee) => {
      const d = decide(at(level, limit.toString()), "money", amount, spent, fee);
      if (limit > 0n && spent + amount + fee <= limit)
        expect(d.kind).toBe(level === TrustLevel.AUTONOMOUS ? "allow" : "ask");
      else expect(d).toMatchObject({ kind: "refuse" });
    },
  );

  test.prop([fc.constantFrom(TrustLevel.ADVISOR, TrustLevel.OPERATOR), fc.bigInt({ min: 0n, max: 10n ** 78n - 1n })])(
    "checkLevelRequest: any whole number of wei below 10^78 is kept at L2 and L3, 0 as none",
    (level, wei) => {
      expect(checkLevelRequest(level, ` ${wei} `, TrustLevel.AUTONOMOUS)).toEqual({
        level,
        dailySpendLimitWei: wei.toString(),
      });
    },
  );

  it("starts at L2, or at the template's highest when that is lower; none means L2", () => {
    expect(
      [TrustLevel.UNSPECIFIED, TrustLevel.OBSERVER, TrustLevel.ADVISOR, TrustLevel.AUTONOMOUS].map(
        (m) => initialTrust(m).level,
      ),
    ).toEqual([TrustLevel.ADVISOR, TrustLevel.OBSERVER, TrustLevel.ADVISOR, TrustLevel.ADVISOR]);
  });

  it("an owner asks for L1 to L4 within the template's highest, with a limit required at L4, optional at L2 and L3 and none at L1, or is told which field is wrong", () => {
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
    // L2 and L3 may have one (each payment also waits for the owner's yes); L1, which uses no tool, none.
    expect(checkLevelRequest(TrustLevel.ADVISOR, "10", TrustLevel.AUTONOMOUS)).toEqual({
      level: TrustLevel.ADVISOR,
      dailySpendLimitWei: "10",
    });
    expect(checkLevelRequest(TrustLevel.OPERATOR, "0", TrustLevel.AUTONOMOUS).dailySpendLimitWei).toBe("0");
    expect(refusal(() => checkLevelRequest(TrustLevel.OPERATOR, "1.5", TrustLevel.AUTONOMOUS))).toBe(
      "daily_spend_limit_wei: must be a whole number of wei (decimal digits)",
    );
    expect(refusal(() => checkLevelRequest(TrustLevel.OPERATOR, "007", TrustLevel.AUTONOMOUS))).toMatch(
      /^daily_spend_limit_wei: must be a whole number/,
    );
    expect(refusal(() => checkLevelRequest(TrustLevel.OBSERVER, "10", TrustLevel.AUTONOMOUS))).toBe(
      "daily_spend_limit_wei: L1 uses no tool: leave it empty",
    );
  });
});

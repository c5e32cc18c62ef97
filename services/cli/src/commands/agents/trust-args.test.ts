// `pool trust`'s LEVEL and --daily-limit held to the kit's one rule, as the
// gateway and the claims service hold them (docs/trust.md). Pure: no gateway.

import { MAX_DAILY_SPEND_LIMIT_WEI } from "@convos-pool/kit/content";
import { describe, expect, it } from "vitest";
import { checkTrust, dailyLimitArg } from "./args.js";

describe("pool trust's level and daily limit", () => {
  it("take a limit at L2, L3 and L4, and none at L1, L2 and L3", () => {
    for (const level of ["L2", "l3", "L4"])
      expect(() => checkTrust(level, dailyLimitArg("0.05"), "trust")).not.toThrow();
    for (const level of ["L1", "L2", "L3"]) expect(() => checkTrust(level, undefined, "trust")).not.toThrow();
  });

  it("refuse L4 without a limit, L1 with one, and a limit past what SetTrustLevel signs, in the command line's words", () => {
    expect(() => checkTrust("L4", undefined, "trust")).toThrow("L4 needs --daily-limit ETH");
    expect(() => checkTrust("L1", 1n, "trust")).toThrow("leave --daily-limit out");
    expect(() => checkTrust("L3", MAX_DAILY_SPEND_LIMIT_WEI + 1n, "trust")).toThrow("--daily-limit is too large");
    expect(() => checkTrust("L3", MAX_DAILY_SPEND_LIMIT_WEI, "trust")).not.toThrow();
  });
});

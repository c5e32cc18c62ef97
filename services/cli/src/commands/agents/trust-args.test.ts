// `pool trust`'s LEVEL and --daily-limit held to the kit's one rule, as the
// gateway and the claims service hold them (docs/trust.md), as plain calls;
// and a refusal that names several fields printed with each of them, against
// the stand-in gateway (test/stand-in-gateway.ts: scripted answers, the real
// CLI and key file).

import { MAX_DAILY_SPEND_LIMIT_WEI } from "@convos-pool/kit/content";
import { describe, expect, it } from "vitest";
import { checkTrust, dailyLimitArg } from "./args.js";
import { json, standInGateway } from "../../../test/stand-in-gateway.js";
import { run as runCli } from "../../main.js";

/** The CLI as scripts run it (`--json`): these tests read the JSON it prints. */
const run: typeof runCli = (argv, io) => runCli(["--json", ...argv], io);

const g = standInGateway();

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

describe("pool trust refused by the gateway", () => {
  it("prints every field the refusal names, and exits 1", async () => {
    await g.keygen();
    const violations = [
      { field: "trust_level", description: "L3 is above the highest its template allows (L2)" },
      { field: "daily_spend_limit_wei", description: "must be a whole number of wei below 2^256 (decimal digits)" },
    ];
    g.replies.push(
      json(400, {
        error: {
          type: "invalid_request",
          code: "invalid_argument",
          message: violations.map((v) => `${v.field}: ${v.description}`).join("; "),
          field: "trust_level",
          violations,
        },
      }),
    );
    expect(await run(["trust", "inst_Q2w3E4r5T6y7U8i9", "L3", "--daily-limit", "0.05"], g.io())).toBe(1);
    expect(JSON.parse(g.stderr()).error.violations).toEqual(violations);
  });
});

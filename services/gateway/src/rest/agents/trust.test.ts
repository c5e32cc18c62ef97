// The trust body of PUT /api/pool/agents/{id}/trust as a plain call (no
// server): the level by its name, the daily limit as the agent takes it
// (docs/trust.md: required at L4, optional at L2 and L3, none at L1), every
// bad field of a body named at once.

import { TrustLevel } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import { describe, expect, it } from "vitest";
import { TRUST_FIELDS, trustFromBody } from "./json.js";
import { RestError } from "../core/errors.js";
import { JsonObject } from "../core/json.js";

const parse = (body: unknown) => trustFromBody(JsonObject.body(body, TRUST_FIELDS));

/** The fields a refused body names, in order. */
function refused(body: unknown): string[] {
  try {
    parse(body);
  } catch (err) {
    if (err instanceof RestError) return err.violations.map((v) => v.field);
    throw err;
  }
  throw new Error("parsed");
}

describe("PUT /api/pool/agents/{id}/trust body", () => {
  it("takes a daily limit at L2 and L3 as at L4, as the agent and the Connect face take it", () => {
    expect(parse({ trust_level: "L3", daily_spend_limit_wei: "50000000000000000" })).toMatchObject({
      trustLevel: TrustLevel.OPERATOR,
      dailySpendLimitWei: "50000000000000000",
    });
    expect(parse({ trust_level: "L2", daily_spend_limit_wei: "1" }).dailySpendLimitWei).toBe("1");
    expect(parse({ trust_level: "L4", daily_spend_limit_wei: "7" }).trustLevel).toBe(TrustLevel.AUTONOMOUS);
    // None at L2 and L3: left out, "" or "0"; at L1 likewise.
    expect(parse({ trust_level: "L3" }).dailySpendLimitWei).toBe("");
    expect(parse({ trust_level: "L2", daily_spend_limit_wei: "0" }).trustLevel).toBe(TrustLevel.ADVISOR);
    expect(parse({ trust_level: "L1", daily_spend_limit_wei: "" }).trustLevel).toBe(TrustLevel.OBSERVER);
  });

  it("refuses a limit missing at L4, given at L1, or not a whole number of wei below 2^256", () => {
    expect(refused({ trust_level: "L4" })).toEqual(["daily_spend_limit_wei"]);
    expect(refused({ trust_level: "L4", daily_spend_limit_wei: "0" })).toEqual(["daily_spend_limit_wei"]);
    expect(refused({ trust_level: "L1", daily_spend_limit_wei: "5" })).toEqual(["daily_spend_limit_wei"]);
    expect(refused({ trust_level: "L3", daily_spend_limit_wei: "0.05" })).toEqual(["daily_spend_limit_wei"]);
    expect(refused({ trust_level: "L3", daily_spend_limit_wei: (2n ** 256n).toString() })).toEqual([
      "daily_spend_limit_wei",
    ]);
  });

  it("names every bad field of one body at once", () => {
    expect(refused({ trust_level: "L5", daily_spend_limit_wei: 5 })).toEqual(["trust_level", "daily_spend_limit_wei"]);
    expect(
      refused({ trust_level: 4, daily_spend_limit_wei: "x", owner_signature: { signature: "0x00", issued_at: 1 } }),
    ).toEqual(["trust_level", "daily_spend_limit_wei", "owner_signature.nonce"]);
  });
});

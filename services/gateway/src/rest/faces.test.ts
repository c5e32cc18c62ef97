// The contract test's helpers (test/faces.ts) as plain calls: values drawn
// from a real request descriptor (ClaimService's), the same values as a
// REST body, and either face's answer as one outcome. No server.

import { Code, ConnectError } from "@connectrpc/connect";
import { ClaimService } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import { TrustLevel } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import { invalidArguments } from "@convos-pool/kit/content";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { connectOutcome, requestArbitrary, restBodyOf, restOutcome } from "../../test/faces.js";

const TRUST = ClaimService.method.setTrustLevel.input;
const PARTICIPATION = ClaimService.method.setParticipation.input;
const LEVELS = { "convos.pool.v1.TrustLevel": (n: number) => (n >= 1 && n <= 4 ? `L${n}` : undefined) };

describe("values of a request, from its descriptor", () => {
  it("draw every value of an enum and one it lacks, and a field's edges, leaving out the fields not asked for", () => {
    const seen = new Set<unknown>();
    const limits = new Set<unknown>();
    for (const req of fc.sample(
      requestArbitrary(TRUST, ["trust_level", "daily_spend_limit_wei"], { daily_spend_limit_wei: ["007"] }),
      500,
    )) {
      expect(Object.keys(req).sort()).toEqual(["dailySpendLimitWei", "trustLevel"]);
      seen.add(req.trustLevel);
      limits.add(req.dailySpendLimitWei);
    }
    expect([...seen].sort()).toEqual([0, 1, 2, 3, 4, 5]);
    expect(limits).toContain("007");
  });

  it("hold a nested message's fields, and whole numbers within their scalar", () => {
    for (const req of fc.sample(requestArbitrary(PARTICIPATION, ["participation.cooldown_seconds"]), 200)) {
      const seconds = (req.participation as { cooldownSeconds: number }).cooldownSeconds;
      expect(seconds >= 0 && seconds <= 2 ** 32 - 1 && Number.isInteger(seconds)).toBe(true);
    }
  });

  it("refuse a field the request does not have", () => {
    expect(() => requestArbitrary(TRUST, ["colour"])).toThrow("has no field colour");
  });
});

describe("the same values as a REST body", () => {
  it("are by the proto's names, an enum by its route's name, left out when unset, a nested message spread when flattened", () => {
    expect(restBodyOf(TRUST, { trustLevel: TrustLevel.OPERATOR, dailySpendLimitWei: "5" }, LEVELS)).toEqual({
      trust_level: "L3",
      daily_spend_limit_wei: "5",
    });
    expect(restBodyOf(TRUST, { trustLevel: 0, dailySpendLimitWei: "" }, LEVELS)).toEqual({ daily_spend_limit_wei: "" });
    expect(restBodyOf(TRUST, { trustLevel: 9 }, LEVELS)).toEqual({ trust_level: "not-a-TrustLevel-9" });
    const modes = { "convos.pool.v1.ParticipationMode": () => "mention" };
    expect(
      restBodyOf(PARTICIPATION, { participation: { mode: 3, cooldownSeconds: 60 } }, modes, ["participation"]),
    ).toEqual({ mode: "mention", cooldown_seconds: 60 });
  });
});

describe("a face's outcome", () => {
  it("is the REST answer's code and every field it names, or Connect's code and its BadRequest's fields as REST names them", async () => {
    expect(restOutcome({ status: 200, json: {} })).toEqual({ accepted: true });
    const body = {
      error: {
        code: "invalid_argument",
        field: "mode",
        violations: [{ field: "mode" }, { field: "cooldown_seconds" }],
      },
    };
    const refused = { accepted: false, code: "invalid_argument", fields: ["cooldown_seconds", "mode"] };
    expect(restOutcome({ status: 400, json: body })).toEqual(refused);
    const err = invalidArguments([
      { field: "participation.mode", description: "x" },
      { field: "participation.cooldown_seconds", description: "y" },
    ]);
    expect(await connectOutcome(Promise.reject(err), (f) => f.replace("participation.", ""))).toEqual(refused);
    expect(await connectOutcome(Promise.reject(new ConnectError("no", Code.Unauthenticated)), (f) => f)).toEqual({
      accepted: false,
      code: "unauthenticated",
      fields: [],
    });
    expect(await connectOutcome(Promise.resolve({}), (f) => f)).toEqual({ accepted: true });
  });
});

import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { TrustLevel } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import { ActivityEntrySchema, ToolCallOutcome } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { withoutDetails } from "./activity.js";

const entry = fc.record({
  id: fc.string(),
  toolId: fc.constantFrom("crypto", "sms", "email", "trust", "permissions", "other"),
  action: fc.string(),
  target: fc.string({ minLength: 1 }),
  amountWei: fc.bigInt({ min: 1n, max: 10n ** 24n }).map(String),
  outcome: fc.constantFrom(...Object.values(ToolCallOutcome).filter((v): v is number => typeof v === "number")),
  detail: fc.string({ minLength: 1 }),
  trustLevel: fc.constantFrom(TrustLevel.OBSERVER, TrustLevel.ADVISOR, TrustLevel.OPERATOR, TrustLevel.AUTONOMOUS),
  approved: fc.boolean(),
  askedBy: fc.string({ minLength: 1 }),
  askedByRole: fc.constantFrom("owner", "member", "outsider"),
  askedByName: fc.string({ minLength: 1 }),
});

describe("an activity entry as a session alone reads it", () => {
  it("a tool call keeps what, when, how it ended and the asker's role; never whom, how much, its details or who asked", () => {
    fc.assert(
      fc.property(
        entry.filter((e) => e.toolId !== "trust" && e.toolId !== "permissions"),
        (e) => {
          const full = create(ActivityEntrySchema, { ...e, at: timestampFromDate(new Date(0)) });
          const shown = withoutDetails(full);
          expect(shown).toMatchObject({
            id: e.id,
            toolId: e.toolId,
            action: e.action,
            outcome: e.outcome,
            trustLevel: e.trustLevel,
            approved: e.approved,
            askedByRole: e.askedByRole,
          });
          expect(shown.at).toEqual(full.at);
          expect([shown.target, shown.amountWei, shown.detail, shown.askedBy, shown.askedByName]).toEqual([
            "",
            "",
            "",
            "",
            "",
          ]);
        },
      ),
    );
  });

  it("the owner's own change of level or permissions is whole: it holds nobody else's data", () => {
    const change = create(ActivityEntrySchema, {
      toolId: "trust",
      action: "set_trust_level",
      amountWei: "50000000000000000",
      detail: "L1 → L4, set by the owner",
    });
    expect(withoutDetails(change)).toBe(change);
  });
});

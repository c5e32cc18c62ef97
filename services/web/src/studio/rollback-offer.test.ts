// Whether the studio offers a rollback (rollback-offer.ts), on templates built from the generated messages' shapes
// (no call is made); the content hash is the kit's, as the page signs it.
import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { TemplateSchema } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import { rollbackOffer } from "./rollback-offer";

const version = (n: number, instructions: string) =>
  create(TemplateSchema, {
    id: "tmpl_a",
    version: BigInt(n),
    content: { agentName: "Trip Planner", instructions, model: { default: "gpt-oss-20b" } },
  });

describe("rollbackOffer", () => {
  it("offers a rollback to an older version whose content differs from the current one", () => {
    expect(rollbackOffer(version(1, "Plan trips."), version(2, "Plan trips. Confirm dates."))).toEqual({
      offered: true,
    });
  });

  it("offers none to the current version itself", () => {
    const current = version(3, "Plan trips.");
    expect(rollbackOffer(current, current)).toEqual({ offered: false, why: "current" });
  });

  it("offers none to a version with the current one's content: a rollback to it would change nothing", () => {
    // Version 3 is a rollback to version 1: the same content, another version number.
    expect(rollbackOffer(version(1, "Plan trips."), version(3, "Plan trips."))).toEqual({
      offered: false,
      why: "same content",
    });
  });

  it("offers one when the version's content is not known, as the service decides then", () => {
    expect(rollbackOffer(create(TemplateSchema, { version: 1n }), version(2, "Plan trips."))).toEqual({
      offered: true,
    });
  });
});

// What a pushed release must carry (policy.ts), pure: releases are built
// here as the templates service pushes them, unsigned (the instances check
// the signature, never the pool). Over the wire, with the service's
// credentials: worker.int.test.ts, "TemplateSyncService".
import fc from "fast-check";
import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { SignedTemplateSchema, TemplateChange } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import { contentFromJson, fieldViolations, MAX_TEMPLATE_LAYERS } from "@convos-pool/kit/content";
import { checkPush, checkRelease, MAX_RELEASE_VERSION } from "./policy.js";

const release = (version = 2n, templateId = "tmpl_AAAAAAAAAAAAAAAA") =>
  create(SignedTemplateSchema, {
    templateId,
    creatorId: "b".repeat(64),
    version,
    change: TemplateChange.UPDATE,
    content: contentFromJson({
      agent_name: "Trip Planner",
      instructions: "You plan trips.",
      tools: [],
      description: "Plans trips",
      category: "travel",
      tags: [],
    }),
    creatorSignature: { signature: "0x01", issuedAt: 1n, nonce: "n" },
  });

/** The fields a refusal names; fails when it was accepted. */
function fields(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    return fieldViolations(err).map((v) => v.field);
  }
  throw new Error("it was accepted");
}

describe("a pushed release", () => {
  it("is stored with its bases as pushed", () => {
    const r = release(3n);
    const b = release(2n, "tmpl_BBBBBBBBBBBBBBBB");
    expect(checkPush({ template: r, bases: [b] })).toEqual({ release: r, bases: [b] });
  });

  it("has a version the instances table can hold, from 2 for an update", () => {
    expect(MAX_RELEASE_VERSION).toBe(2n ** 31n - 1n);
    fc.assert(
      fc.property(fc.bigInt({ min: 2n, max: MAX_RELEASE_VERSION }), (v) => {
        expect(checkRelease(release(v))).toBeDefined();
      }),
    );
    fc.assert(
      fc.property(fc.oneof(fc.bigInt({ max: 0n }), fc.bigInt({ min: MAX_RELEASE_VERSION + 1n })), (v) => {
        expect(fields(() => checkRelease(release(v)))).toEqual(["template.version"]);
      }),
    );
  });

  it("has a base and a base's base at most, whatever they are", () => {
    expect(MAX_TEMPLATE_LAYERS).toBe(3);
    fc.assert(
      fc.property(fc.integer({ min: MAX_TEMPLATE_LAYERS, max: 8 }), (n) => {
        const bases = Array.from({ length: n }, () => release());
        expect(fields(() => checkPush({ template: release(), bases }))).toEqual(["bases"]);
      }),
    );
  });

  it("names the base at fault by its place", () => {
    const bad = { ...release(), templateId: "" };
    expect(fields(() => checkPush({ template: release(), bases: [release(), bad] }))).toEqual(["bases[1].template_id"]);
    expect(fields(() => checkPush({ bases: [] }))).toEqual(["template"]);
  });
});

import { create } from "@bufbuild/protobuf";
import { keccak256, toBytes } from "viem";
import { describe, expect, it } from "vitest";
import { TemplatePatchSchema } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import { applyPatch, canonicalJson, contentFromJson, contentToJson, jsonHash, patchToJson, validateContent, validatePatch, type TemplateContentJson } from "./template-content.js";

const content: TemplateContentJson = {
  agent_name: "Trip Planner",
  instructions: "Plan trips.",
  model: { default: "gpt-oss-20b", allow_override: true },
  tools: [],
  description: "",
  category: "travel",
  tags: ["japan"],
};

describe("the clone directive in template content", () => {
  it("content without a directive hashes exactly as before the field existed, so older signatures still check out", () => {
    // The canonical JSON of this content as it was signed before clone_directive existed, written out.
    const before =
      '{"agent_name":"Trip Planner","category":"travel","description":"","instructions":"Plan trips.","model":{"allow_override":true,"default":"gpt-oss-20b"},"tags":["japan"],"tools":[]}';
    expect(canonicalJson(contentToJson(contentFromJson(content)))).toBe(before);
    expect(jsonHash(contentToJson(contentFromJson(content)))).toBe(keccak256(toBytes(before)));
  });

  it("a directive is part of the signed content, and survives the trip through the proto form", () => {
    const withDirective = { ...content, clone_directive: "General travel knowledge only" };
    expect(jsonHash(withDirective)).not.toBe(jsonHash(content));
    expect(contentToJson(contentFromJson(withDirective))).toEqual(withDirective);
    expect(contentFromJson(withDirective).cloneDirective).toBe("General travel knowledge only");
  });

  it("a patch sets or removes it, and an empty one leaves content that hashes as if it never had one", () => {
    const set = patchToJson(create(TemplatePatchSchema, { cloneDirective: "Bring the lessons" }));
    expect(set).toEqual({ clone_directive: "Bring the lessons" });
    const withIt = applyPatch(content, set);
    expect(withIt.clone_directive).toBe("Bring the lessons");
    const removed = applyPatch(withIt, patchToJson(create(TemplatePatchSchema, { cloneDirective: "" })));
    expect(jsonHash(removed)).toBe(jsonHash(content));
    expect(patchToJson(create(TemplatePatchSchema, { category: "x" }))).toEqual({ category: "x" });
  });

  it("a directive over 4,000 characters is refused with the field named", () => {
    expect(() => validateContent({ ...content, clone_directive: "x".repeat(4001) })).toThrow(/content\.clone_directive: must be at most 4000 characters/);
    expect(() => validatePatch({ clone_directive: "x".repeat(4001) })).toThrow(/patch\.clone_directive/);
    expect(() => validateContent({ ...content, clone_directive: "x".repeat(4000) })).not.toThrow();
  });
});

import { create } from "@bufbuild/protobuf";
import { keccak256, toBytes } from "viem";
import { describe, expect, it } from "vitest";
import { TrustLevel } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import { TemplateContentSchema } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import { TemplatePatchSchema } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import { fillContentJson, fillPatchJson } from "./template-json.js";
import {
  applyPatch,
  canonicalJson,
  checkReleaseNotes,
  contentFromJson,
  contentToJson,
  jsonHash,
  patchToJson,
  validateContent,
  validatePatch,
  type TemplateContentJson,
} from "./template.js";
import { sampleContent } from "../../test/fixtures.js";
import { parseTrustLevel, trustLevelName } from "./trust.js";
import { fieldViolations } from "./errors.js";

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
    expect(() => validateContent({ ...content, clone_directive: "x".repeat(4001) })).toThrow(
      /content\.clone_directive: must be at most 4000 characters/,
    );
    expect(() => validatePatch({ clone_directive: "x".repeat(4001) })).toThrow(/patch\.clone_directive/);
    expect(() => validateContent({ ...content, clone_directive: "x".repeat(4000) })).not.toThrow();
  });
});

describe("the highest trust level in template content", () => {
  it("content without one hashes exactly as before the field existed, so older signatures still check out", () => {
    // Hashes computed with jsonHash before max_trust_level existed, written out.
    expect(jsonHash(contentToJson(contentFromJson(content)))).toBe(
      "0x609c8af05cd82da4767a84c31e217e769c2464a52103d3f63c93f5f2cd6718f4",
    );
    expect(jsonHash(contentToJson(contentFromJson(sampleContent())))).toBe(
      "0x0495a9c754f7ebf8ed73a808c2537e1f1f164620bd731c0f93cd18db43d933bc",
    );
    expect(contentFromJson(content).maxTrustLevel).toBe(TrustLevel.UNSPECIFIED);
    expect("max_trust_level" in contentToJson(contentFromJson(content))).toBe(false);
    // The JSON readers of the CLI and the web app leave it out too, "" included.
    expect(jsonHash(fillContentJson({ ...content, max_trust_level: "" }))).toBe(jsonHash(content));
  });

  it("a level is part of the signed content, and survives the trip through the proto form", () => {
    const atL3 = { ...content, max_trust_level: "L3" as const };
    expect(jsonHash(atL3)).not.toBe(jsonHash(content));
    expect(contentFromJson(atL3).maxTrustLevel).toBe(TrustLevel.OPERATOR);
    expect(contentToJson(contentFromJson(atL3))).toEqual(atL3);
    expect(fillContentJson(atL3)).toEqual(atL3);
  });

  it("a patch sets it, and an empty one leaves content that hashes as if it never had one", () => {
    const withIt = applyPatch(content, { max_trust_level: "L4" });
    expect(withIt.max_trust_level).toBe("L4");
    expect(jsonHash(applyPatch(withIt, { max_trust_level: "" }))).toBe(jsonHash(content));
    expect(applyPatch(withIt, { category: "food" }).max_trust_level).toBe("L4");
    expect(fillPatchJson({ max_trust_level: "L1" })).toEqual({ max_trust_level: "L1" });
    expect(fillPatchJson({ max_trust_level: "" })).toEqual({ max_trust_level: "" });
  });

  it("anything but L1 to L4 is refused with the field named, whichever way it comes in", () => {
    const message = 'content.max_trust_level: must be one of "L1", "L2", "L3", "L4"';
    expect(() => validateContent({ ...content, max_trust_level: "L5" as never })).toThrow(message);
    expect(() => validateContent({ ...content, max_trust_level: "" as never })).toThrow(message);
    // Through the proto form: a name that is no level, or a number that is none, stays refused rather than becoming "unspecified".
    expect(() =>
      validateContent(contentToJson(contentFromJson({ ...content, max_trust_level: "l3" as never }))),
    ).toThrow(message);
    expect(() =>
      validateContent(
        contentToJson(create(TemplateContentSchema, { ...contentFromJson(content), maxTrustLevel: 7 as TrustLevel })),
      ),
    ).toThrow(message);
    expect(() => validatePatch({ max_trust_level: "L0" as never })).toThrow(/patch\.max_trust_level: must be one of/);
    expect(() => validatePatch({ max_trust_level: "" })).not.toThrow();
    for (const level of ["L1", "L2", "L3", "L4"] as const)
      expect(() => validateContent({ ...content, max_trust_level: level })).not.toThrow();
    expect(() => fillContentJson({ ...content, max_trust_level: 3 }, "t.json")).toThrow(
      't.json: max_trust_level: must be one of "L1", "L2", "L3", "L4"',
    );
    expect(() => fillPatchJson({ max_trust_level: "L9" }, "p.json")).toThrow(
      /p\.json: max_trust_level: must be one of/,
    );
  });
});

describe("trust level names", () => {
  it("names L1 to L4 and nothing else, and reads back exactly those names", () => {
    expect(
      [TrustLevel.OBSERVER, TrustLevel.ADVISOR, TrustLevel.OPERATOR, TrustLevel.AUTONOMOUS].map(trustLevelName),
    ).toEqual(["L1", "L2", "L3", "L4"]);
    expect(trustLevelName(TrustLevel.UNSPECIFIED)).toBe("");
    expect(trustLevelName(9 as TrustLevel)).toBe("");
    expect(["L1", "L2", "L3", "L4"].map(parseTrustLevel)).toEqual([
      TrustLevel.OBSERVER,
      TrustLevel.ADVISOR,
      TrustLevel.OPERATOR,
      TrustLevel.AUTONOMOUS,
    ]);
    for (const s of ["", "L0", "L5", "l3", " L3", "3", "TRUST_LEVEL_OPERATOR"])
      expect(parseTrustLevel(s), s).toBeUndefined();
  });
});

describe("a template's avatar", () => {
  it("is one emoji or an https URL, hashed only when set, and removed by an empty patch", () => {
    const base = sampleContent();
    expect(jsonHash(applyPatch({ ...base, avatar: "🧭" }, { avatar: "" }))).toBe(jsonHash(base));
    for (const avatar of ["🧭", "👩🏽‍🚀", "🇯🇵", "https://example.com/a.png"])
      expect(() => validateContent({ ...base, avatar }), avatar).not.toThrow();
    for (const avatar of ["ab", "🧭🧭", "http://example.com/a.png", `https://e.com/${"a".repeat(2048)}`])
      expect(() => validateContent({ ...base, avatar }), avatar).toThrow(/avatar/);
    const withAvatar = contentToJson(create(TemplateContentSchema, { ...contentFromJson(base), avatar: "🧭" }));
    expect(withAvatar.avatar).toBe("🧭");
    expect(applyPatch(withAvatar, { avatar: "" }).avatar).toBeUndefined();
    expect(fillContentJson({ ...base, avatar: "🧭" }).avatar).toBe("🧭");
  });
});

describe("release notes", () => {
  it("takes up to 2,000 characters, counted as people count them (an emoji is one), and refuses more naming release_notes", () => {
    expect(checkReleaseNotes("")).toBe("");
    expect(checkReleaseNotes("👍".repeat(2_000))).toHaveLength(4_000);
    expect(() => checkReleaseNotes("x".repeat(2_001))).toThrow("release_notes: must be at most 2000 characters");
  });
});

describe("every bad field of a content or a patch at once", () => {
  const fields = (check: () => void) => {
    try {
      check();
    } catch (err) {
      return fieldViolations(err).map((v) => v.field);
    }
    return [];
  };

  it("a content with a bad name, description and category is refused once, naming the three", () => {
    expect(
      fields(() =>
        validateContent({ ...content, agent_name: "", description: "x".repeat(5_000), category: "Not OK!" }),
      ),
    ).toEqual(["content.agent_name", "content.description", "content.category"]);
    expect(fields(() => validateContent(content))).toEqual([]);
  });

  it("a patch with a bad name and a bad trust level is refused once, naming both", () => {
    expect(fields(() => validatePatch({ agent_name: "", max_trust_level: "L9" as never }))).toEqual([
      "patch.agent_name",
      "patch.max_trust_level",
    ]);
  });

  it("a base with a bad id, creator and version names the three, not its id alone", () => {
    const base = { template_id: "", creator_id: "", version: -1 };
    expect(fields(() => validateContent({ ...content, base }))).toEqual([
      "content.base.template_id",
      "content.base.creator_id",
      "content.base.version",
    ]);
  });
});

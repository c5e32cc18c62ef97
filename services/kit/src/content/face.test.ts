// A template's avatar and conversation starters (face.ts), and how they travel
// in content: pure, nothing stands in.
import { create } from "@bufbuild/protobuf";
import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { TemplatePatchSchema } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import { fieldViolations } from "./errors.js";
import { checkAvatar, checkConversationStarters, FACE_LIMITS } from "./face.js";
import { applyPatch, contentFromJson, contentToJson, jsonHash, patchToJson, validateContent } from "./template.js";
import { fillContentJson, fillPatchJson } from "./template-json.js";
import { sampleContent } from "../../test/fixtures.js";

/** The field an error names, or undefined when there is none. */
function refusedField(run: () => void): string | undefined {
  try {
    run();
  } catch (err) {
    return fieldViolations(err)[0]?.field ?? "(no field)";
  }
  return undefined;
}

describe("an avatar", () => {
  it("is one emoji, a flag or a family included, or an https URL", () => {
    for (const ok of ["", "🧭", "🇯🇵", "👩‍👩‍👧‍👦", "https://example.com/a.png"])
      expect(refusedField(() => checkAvatar("content.avatar", ok))).toBeUndefined();
  });

  it("is refused, naming the field, as two emoji, words, http, a data: URL or a URL with credentials", () => {
    for (const bad of [
      "🧭🧭",
      "hi",
      "http://example.com/a.png",
      "data:image/png;base64,AAAA",
      "https://user:pw@example.com/a.png",
      `https://example.com/${"a".repeat(FACE_LIMITS.avatarUrl)}`,
    ])
      expect(refusedField(() => checkAvatar("content.avatar", bad))).toBe("content.avatar");
  });
});

describe("conversation starters", () => {
  it(`are at most ${FACE_LIMITS.starters}, each one line of at most ${FACE_LIMITS.starter} characters`, () => {
    expect(refusedField(() => checkConversationStarters("c", ["Plan a weekend in Kyoto", "What should I pack?"]))).toBe(
      undefined,
    );
    expect(refusedField(() => checkConversationStarters("c", ["a", "b", "c", "d", "e"]))).toBe("c");
    expect(refusedField(() => checkConversationStarters("c", ["ok", "x".repeat(FACE_LIMITS.starter + 1)]))).toBe(
      "c[1]",
    );
    expect(refusedField(() => checkConversationStarters("c", ["two\nlines"]))).toBe("c[0]");
    expect(refusedField(() => checkConversationStarters("c", [" "]))).toBe("c[0]");
    expect(refusedField(() => checkConversationStarters("c", ["Hi", "hi"]))).toBe("c[1]");
  });

  test.prop([fc.array(fc.string({ maxLength: 120, unit: "binary" }), { maxLength: 6 })])(
    "whatever is given, what passes is few short distinct single lines",
    (starters) => {
      if (refusedField(() => checkConversationStarters("c", starters)) !== undefined) return;
      expect(starters.length).toBeLessThanOrEqual(FACE_LIMITS.starters);
      for (const s of starters) {
        expect([...s].length).toBeLessThanOrEqual(FACE_LIMITS.starter);
        expect(s).not.toMatch(/[\p{Cc}\u2028\u2029]/u);
        expect(s.trim()).toBe(s);
      }
      expect(new Set(starters.map((s) => s.toLowerCase())).size).toBe(starters.length);
    },
  );

  it("are left out of content when empty, so content without them hashes as before", () => {
    const plain = sampleContent();
    expect(contentToJson(contentFromJson(plain))).toEqual(plain);
    expect(jsonHash(contentToJson(contentFromJson({ ...plain, conversation_starters: [] })))).toBe(jsonHash(plain));
    const withStarters = sampleContent({ conversation_starters: ["Plan a weekend in Kyoto"] });
    expect(contentToJson(contentFromJson(withStarters))).toEqual(withStarters);
  });

  it("are checked with the content, and a patch replaces them or removes them with []", () => {
    expect(refusedField(() => validateContent(sampleContent({ conversation_starters: ["a\nb"] })))).toBe(
      "content.conversation_starters[0]",
    );
    const base = sampleContent({ conversation_starters: ["One"] });
    const cleared = patchToJson(create(TemplatePatchSchema, { clearConversationStarters: true }));
    expect(cleared).toEqual({ conversation_starters: [] });
    expect(applyPatch(base, cleared)).not.toHaveProperty("conversation_starters");
    expect(applyPatch(base, { conversation_starters: ["Two"] }).conversation_starters).toEqual(["Two"]);
  });

  it("are read from a content file as the server hashes them", () => {
    expect(fillContentJson({ agent_name: "A", instructions: "I", conversation_starters: [] })).not.toHaveProperty(
      "conversation_starters",
    );
    expect(fillPatchJson({ conversation_starters: [] })).toEqual({ conversation_starters: [] });
  });
});

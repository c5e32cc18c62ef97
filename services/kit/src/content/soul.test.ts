import { create } from "@bufbuild/protobuf";
import { ConnectError } from "@connectrpc/connect";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  EscalationAction,
  ResponseStyle,
  SoulSchema,
  TemplateContentSchema,
} from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import { TemplatePatchSchema } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import { ContentJsonError, fillContentJson, fillPatchJson } from "./template-json.js";
import { fieldViolations } from "./errors.js";
import { readSoulJson, soulFromJson, soulToJson, validateSoul, type SoulJson } from "./soul.js";
import {
  applyPatch,
  canonicalJson,
  contentFromJson,
  contentToJson,
  jsonHash,
  patchToJson,
  validateContent,
  validatePatch,
} from "./template.js";
import { sampleContent, sampleSoul } from "../../test/fixtures.js";

const content = sampleContent();
const vibe = sampleSoul();

/** The field an INVALID_ARGUMENT names. */
function fieldOf(run: () => void): string | undefined {
  try {
    run();
  } catch (err) {
    return fieldViolations(ConnectError.from(err))[0]?.field;
  }
  return undefined;
}

const readOrField = (raw: unknown): SoulJson | string => {
  try {
    return readSoulJson(raw, "soul", (field) => {
      throw new Error(field);
    });
  } catch (err) {
    return (err as Error).message;
  }
};

describe("SOUL in template content", () => {
  it("content without a SOUL, or with an empty one, hashes exactly as before the field existed", () => {
    // Written out before soul existed (template.test.ts checks the same).
    const before = "0x0495a9c754f7ebf8ed73a808c2537e1f1f164620bd731c0f93cd18db43d933bc";
    expect(jsonHash(contentToJson(contentFromJson(content)))).toBe(before);
    const emptySoul = create(TemplateContentSchema, {
      ...contentFromJson(content),
      soul: create(SoulSchema, { identity: {}, behavior: {} }),
    });
    expect(contentToJson(emptySoul)).not.toHaveProperty("soul");
    expect(jsonHash(contentToJson(emptySoul))).toBe(before);
    expect(
      fillContentJson({ ...content, soul: { identity: { name: "" }, philosophy: { principles: [] } } }),
    ).not.toHaveProperty("soul");
  });

  it("a SOUL is signed content: it changes the hash and survives the trip through the proto form", () => {
    const withSoul = { ...content, soul: vibe };
    expect(jsonHash(withSoul)).not.toBe(jsonHash(content));
    expect(contentToJson(contentFromJson(withSoul))).toEqual(withSoul);
    const proto = contentFromJson(withSoul).soul!;
    expect(proto.behavior?.responseStyle).toBe(ResponseStyle.MINIMAL);
    expect(proto.constraints?.escalationRules.map((r) => r.action)).toEqual([
      EscalationAction.ESCALATE_TO_HUMAN,
      EscalationAction.REQUEST_APPROVAL,
      EscalationAction.BLOCK,
    ]);
    // Enum names in lower case, keys in snake_case, sorted like every canonical JSON.
    expect(canonicalJson(withSoul.soul)).toContain(
      '"behavior":{"max_output_tokens":300,"progressive_disclosure":true,"response_style":"minimal"}',
    );
  });

  it("its canonical form leaves out every empty field and section, so a creator's file hashes as the server's content", () => {
    const sparse = {
      identity: { name: "Vibe", role: "", description: "" },
      philosophy: { principles: [], values: [] },
      behavior: { progressive_disclosure: false, max_output_tokens: 0 },
    };
    const filled = fillContentJson({ ...content, soul: sparse });
    expect(filled.soul).toEqual({ identity: { name: "Vibe" } });
    expect(soulToJson(soulFromJson(sparse))).toEqual({ identity: { name: "Vibe" } });
    expect(jsonHash(filled)).toBe(jsonHash(contentToJson(contentFromJson(filled))));
  });

  it("a patch replaces the whole SOUL, and an empty one removes it", () => {
    const withSoul = { ...content, soul: vibe };
    const replace = patchToJson(create(TemplatePatchSchema, { soul: soulFromJson({ identity: { role: "Guide" } }) }));
    expect(replace).toEqual({ soul: { identity: { role: "Guide" } } });
    expect(applyPatch(withSoul, replace).soul).toEqual({ identity: { role: "Guide" } });
    const remove = patchToJson(create(TemplatePatchSchema, { soul: create(SoulSchema) }));
    expect(remove).toEqual({ soul: {} });
    expect(jsonHash(applyPatch(withSoul, remove))).toBe(jsonHash(content));
    expect(fillPatchJson({ soul: {} })).toEqual({ soul: {} });
    expect(patchToJson(create(TemplatePatchSchema, { category: "x" }))).not.toHaveProperty("soul");
  });

  it("every limit is refused with the field path named", () => {
    const cases: Array<[SoulJson, string]> = [
      [{ identity: { name: "x".repeat(101) } }, "content.soul.identity.name"],
      [{ identity: { role: "two\nlines" } }, "content.soul.identity.role"],
      [{ identity: { description: "x".repeat(2001) } }, "content.soul.identity.description"],
      [{ philosophy: { principles: ["a", "b", " "] } }, "content.soul.philosophy.principles[2]"],
      [{ philosophy: { values: Array.from({ length: 21 }, (_, i) => `v${i}`) } }, "content.soul.philosophy.values"],
      [{ capabilities: { skills: ["x".repeat(201)] } }, "content.soul.capabilities.skills[0]"],
      [{ behavior: { response_style: "chatty" as never } }, "content.soul.behavior.response_style"],
      [{ behavior: { max_output_tokens: 32001 } }, "content.soul.behavior.max_output_tokens"],
      [
        { constraints: { escalation_rules: [{ condition: "", action: "block" }] } },
        "content.soul.constraints.escalation_rules[0].condition",
      ],
      [
        { constraints: { escalation_rules: [{ condition: "always", action: "" as never }] } },
        "content.soul.constraints.escalation_rules[0].action",
      ],
    ];
    for (const [soul, field] of cases)
      expect(
        fieldOf(() => validateContent({ ...content, soul })),
        field,
      ).toBe(field);
    expect(fieldOf(() => validatePatch({ soul: { identity: { role: "x".repeat(201) } } }))).toBe(
      "patch.soul.identity.role",
    );
    expect(() => validateContent({ ...content, soul: vibe })).not.toThrow();
  });

  it("every field over its limit is named at once, each once, not the first alone", () => {
    const soul: SoulJson = {
      identity: { name: "two\nlines", role: "x".repeat(201) },
      philosophy: { principles: ["ok", " ", "x".repeat(501)] },
      behavior: { response_style: "chatty" as never, max_output_tokens: -1 },
      constraints: {
        escalation_rules: [
          { condition: "", action: "shout" as never },
          { condition: "always", action: "block" },
        ],
      },
    };
    let fields: string[] = [];
    try {
      validateContent({ ...content, soul });
    } catch (err) {
      fields = fieldViolations(ConnectError.from(err)).map((v) => v.field);
    }
    expect(fields).toEqual([
      "content.soul.identity.name",
      "content.soul.identity.role",
      "content.soul.philosophy.principles[1]",
      "content.soul.philosophy.principles[2]",
      "content.soul.behavior.response_style",
      "content.soul.behavior.max_output_tokens",
      "content.soul.constraints.escalation_rules[0].condition",
      "content.soul.constraints.escalation_rules[0].action",
    ]);
  });

  it("a value the proto form has but no name for (an unknown enum number) is refused, not read as a valid one", () => {
    const soul = create(SoulSchema, {
      behavior: { responseStyle: 7 as ResponseStyle },
      constraints: { escalationRules: [{ condition: "x", action: 0 }] },
    });
    const json = contentToJson(create(TemplateContentSchema, { ...contentFromJson(content), soul }));
    expect(json.soul?.behavior?.response_style).toBe("unknown (7)");
    expect(fieldOf(() => validateContent(json))).toBe("content.soul.behavior.response_style");
  });

  it("a SOUL file of the wrong shape names the field, with the file", () => {
    expect(() => fillContentJson({ ...content, soul: { identity: { mood: "x" } } }, "a.json")).toThrow(
      ContentJsonError,
    );
    expect(() => fillContentJson({ ...content, soul: { identity: { mood: "x" } } }, "a.json")).toThrow(
      /^a\.json: soul\.identity\.mood: unknown field/,
    );
    expect(readOrField({ philosophy: { principles: ["ok", 3] } })).toBe("soul.philosophy.principles[1]");
    expect(readOrField({ behavior: { progressive_disclosure: "yes" } })).toBe("soul.behavior.progressive_disclosure");
    expect(readOrField({ constraints: { escalation_rules: [{ condition: "x", action: "block", when: 1 }] } })).toBe(
      "soul.constraints.escalation_rules[0].when",
    );
    expect(readOrField([])).toBe("soul");
    expect(readOrField({ identity: { "": 1 } })).toBe('soul.identity[""]');
    expect(readOrField({ ["k".repeat(300)]: {} })).toBe(`soul[${JSON.stringify(`${"k".repeat(100)}…`)}]`);
  });

  it("generated SOULs that break one limit are refused naming exactly that field; valid ones pass and keep their hash", () => {
    const line = (max: number) =>
      fc.string({ minLength: 1, maxLength: max }).filter((s) => s.trim() !== "" && !/[\r\n]/.test(s));
    const list = (max: number) => fc.array(line(max), { maxLength: 20 });
    const valid: fc.Arbitrary<SoulJson> = fc.record(
      {
        identity: fc.record(
          { name: line(100), role: line(200), description: fc.string({ maxLength: 2000 }) },
          { requiredKeys: [] },
        ),
        philosophy: fc.record({ principles: list(500), values: list(500) }, { requiredKeys: [] }),
        capabilities: fc.record(
          { domains: list(200), skills: list(200), limitations: list(200) },
          { requiredKeys: [] },
        ),
        behavior: fc.record(
          {
            response_style: fc.constantFrom("structured", "conversational", "minimal"),
            progressive_disclosure: fc.boolean(),
            max_output_tokens: fc.integer({ min: 0, max: 32000 }),
          },
          { requiredKeys: [] },
        ),
        constraints: fc.record(
          {
            restricted_topics: list(200),
            escalation_rules: fc.array(
              fc.record({
                condition: line(500),
                action: fc.constantFrom("escalate_to_human", "request_approval", "block"),
              }),
              { maxLength: 20 },
            ),
          },
          { requiredKeys: [] },
        ),
      },
      { requiredKeys: [] },
    );
    const breakage = fc.constantFrom(
      ["philosophy", "principles", "\n", "[0]"],
      ["philosophy", "values", "x".repeat(501), "[0]"],
      ["capabilities", "domains", "  ", "[0]"],
      ["capabilities", "limitations", "x".repeat(201), "[0]"],
      ["constraints", "restricted_topics", "a\rb", "[0]"],
    ) as fc.Arbitrary<[keyof SoulJson, string, string, string]>;

    fc.assert(
      fc.property(valid, breakage, (soul, [section, key, bad, index]) => {
        expect(() => validateSoul(soul, "content.soul")).not.toThrow();
        const json = soulToJson(soulFromJson(soul));
        if (json)
          expect(jsonHash({ ...content, soul: json })).toBe(
            jsonHash(contentToJson(contentFromJson({ ...content, soul: json }))),
          );
        const broken = structuredClone(soul) as Record<string, Record<string, string[]>>;
        broken[section] = { ...broken[section], [key]: [bad, ...(broken[section]?.[key] ?? []).slice(0, 19)] };
        expect(fieldOf(() => validateSoul(broken as SoulJson, "content.soul"))).toBe(
          `content.soul.${section}.${key}${index}`,
        );
      }),
      { numRuns: 200 },
    );
  });
});

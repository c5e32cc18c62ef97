// The phone connections a template declares (connections.ts), and how they
// travel in content and through base templates: pure, nothing stands in. The
// kinds and capabilities are checked against the Convos CLI's own lists.
import { create } from "@bufbuild/protobuf";
import { fc, test } from "@fast-check/vitest";
import { keccak256, toBytes } from "viem";
import { describe, expect, it } from "vitest";
import { ALL_CONNECTION_CAPABILITIES, ALL_CONNECTION_KINDS } from "@xmtp/convos-cli/utils/connectionTypes";
import { TemplateBaseSchema } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import { TemplatePatchSchema } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import {
  CONNECTION_CAPABILITIES,
  CONNECTION_KINDS,
  CONNECTION_LIMITS,
  checkConnections,
  connectionFromJson,
  connectionSummary,
  type ConnectionJson,
} from "./connections.js";
import { fieldViolations } from "./errors.js";
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
import { fillContentJson, fillPatchJson } from "./template-json.js";
import { resolveContent } from "./template-resolve.js";
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

const calendar: ConnectionJson = {
  kind: "calendar",
  capabilities: ["read", "write_create"],
  reason: "to plan around your week",
};
const health: ConnectionJson = { kind: "health", capabilities: ["read"], reason: "to pace the hikes" };

describe("a template's connections", () => {
  it("name the kinds and capabilities the Convos CLI speaks, and no others", () => {
    expect([...CONNECTION_KINDS].sort()).toEqual([...ALL_CONNECTION_KINDS].sort());
    expect([...CONNECTION_CAPABILITIES]).toEqual([...ALL_CONNECTION_CAPABILITIES]);
    expect(CONNECTION_LIMITS).toEqual({ connections: 9, reason: 200 });
  });

  it("pass as a known kind once, a set of known capabilities and a reason of one line", () => {
    expect(refusedField(() => checkConnections("c", [calendar, health]))).toBeUndefined();
    const all = CONNECTION_KINDS.map((kind) => ({ kind, capabilities: [...CONNECTION_CAPABILITIES], reason: "why" }));
    expect(refusedField(() => checkConnections("c", all))).toBeUndefined();
    expect(refusedField(() => checkConnections("c", [{ ...calendar, reason: "x".repeat(200) }]))).toBeUndefined();
  });

  it("are refused naming the field: unknown kind, bad capabilities, a kind twice, too many, a bad reason", () => {
    const cases: [ConnectionJson[], string][] = [
      [[health, { ...calendar, kind: "fitness" }], "c[1].kind"],
      [[health, { ...calendar, kind: "" }], "c[1].kind"],
      [[calendar, { ...health, kind: "calendar" }], "c[1].kind"],
      [[{ ...calendar, capabilities: [] }], "c[0].capabilities"],
      [[{ ...calendar, capabilities: ["read", "write"] }], "c[0].capabilities[1]"],
      [[{ ...calendar, capabilities: ["write_create", "read", "write_create"] }], "c[0].capabilities[2]"],
      [[{ ...calendar, reason: "" }], "c[0].reason"],
      [[{ ...calendar, reason: "   " }], "c[0].reason"],
      [[{ ...calendar, reason: "x".repeat(201) }], "c[0].reason"],
      [[{ ...calendar, reason: "two\nlines" }], "c[0].reason"],
      [[...CONNECTION_KINDS.map((kind): ConnectionJson => ({ ...health, kind })), health], "c"],
    ];
    for (const [connections, field] of cases)
      expect(refusedField(() => checkConnections("c", connections))).toBe(field);
  });

  it("name every fault of every connection at once, each field once", () => {
    const fields = (connections: ConnectionJson[]) => {
      try {
        checkConnections("c", connections);
        return [];
      } catch (err) {
        return fieldViolations(err).map((v) => v.field);
      }
    };
    const bad = { kind: "fitness", capabilities: ["read", "write", "read", "peek"], reason: "" };
    expect(fields([bad, { ...health, reason: "two\nlines" }, { ...calendar, capabilities: [] }, health])).toEqual([
      "c[0].kind",
      "c[0].capabilities[1]",
      "c[0].capabilities[2]",
      "c[0].capabilities[3]",
      "c[0].reason",
      "c[1].reason",
      "c[2].capabilities",
      "c[3].kind",
    ]);
  });

  it("say what is wrong in words that name the allowed values", () => {
    expect(() => checkConnections("content.connections", [health, { ...calendar, kind: "fitness" }])).toThrow(
      /content\.connections\[1\]\.kind: must be one of "health", "calendar", .*"motion"/,
    );
    expect(() => checkConnections("content.connections", [{ ...calendar, capabilities: [] }])).toThrow(
      /content\.connections\[0\]\.capabilities: must name at least one of "read", "write_create"/,
    );
  });

  test.prop([
    fc.array(
      fc.record({
        kind: fc.oneof(fc.constantFrom(...CONNECTION_KINDS), fc.string({ maxLength: 12 })),
        capabilities: fc.array(fc.oneof(fc.constantFrom(...CONNECTION_CAPABILITIES), fc.string({ maxLength: 12 })), {
          maxLength: 5,
        }),
        reason: fc.string({ maxLength: 220, unit: "binary" }),
      }),
      { maxLength: 11 },
    ),
  ])("whatever is given, what passes is at most one known kind each, with known capabilities once each", (cs) => {
    if (refusedField(() => checkConnections("c", cs)) !== undefined) return;
    expect(cs.length).toBeLessThanOrEqual(CONNECTION_LIMITS.connections);
    expect(new Set(cs.map((c) => c.kind)).size).toBe(cs.length);
    for (const c of cs) {
      expect(CONNECTION_KINDS).toContain(c.kind);
      expect(c.capabilities.length).toBeGreaterThan(0);
      expect(new Set(c.capabilities).size).toBe(c.capabilities.length);
      for (const cap of c.capabilities) expect(CONNECTION_CAPABILITIES).toContain(cap);
      expect(c.reason.trim()).not.toBe("");
      expect([...c.reason].length).toBeLessThanOrEqual(CONNECTION_LIMITS.reason);
      expect(c.reason).not.toMatch(/[\p{Cc}\u2028\u2029]/u);
    }
  });
});

describe("connections in template content", () => {
  it("content without connections hashes exactly as before the field existed, so signatures made before still check out", () => {
    const plain = sampleContent();
    // The canonical JSON of sampleContent as it was signed before connections existed, written out.
    const before =
      '{"agent_name":"Trip Planner","category":"travel","description":"Plans group trips","instructions":"You are a travel planning assistant.","model":{"allow_override":true,"default":"gpt-oss-20b"},"tags":["travel","japan"],"tools":[{"description":"","id":"sms","name":"SMS","prompt":"","provisioning":"pool","required":false},{"description":"","id":"personal-email","name":"Your email","prompt":"Your email?","provisioning":"user","required":true}]}';
    const roundTripped = contentToJson(contentFromJson(plain));
    expect(roundTripped).not.toHaveProperty("connections");
    expect(canonicalJson(roundTripped)).toBe(before);
    expect(jsonHash(roundTripped)).toBe(keccak256(toBytes(before)));
    expect(jsonHash(contentToJson(contentFromJson({ ...plain, connections: [] })))).toBe(keccak256(toBytes(before)));
  });

  it("connections round-trip through the proto form as signed, and are part of the hash", () => {
    const withThem = sampleContent({ connections: [calendar, health] });
    expect(contentToJson(contentFromJson(withThem))).toEqual(withThem);
    expect(jsonHash(contentToJson(contentFromJson(withThem)))).toBe(jsonHash(withThem));
    expect(jsonHash(withThem)).not.toBe(jsonHash(sampleContent()));
    // The creator's order is what is signed.
    expect(jsonHash(sampleContent({ connections: [health, calendar] }))).not.toBe(jsonHash(withThem));
  });

  it("are checked with the content and with a patch, which replaces them or removes them with []", () => {
    expect(
      refusedField(() => validateContent(sampleContent({ connections: [health, { ...calendar, kind: "fitness" }] }))),
    ).toBe("content.connections[1].kind");
    expect(refusedField(() => validatePatch({ connections: [{ ...health, reason: "" }] }))).toBe(
      "patch.connections[0].reason",
    );
    const base = sampleContent({ connections: [calendar] });
    const cleared = patchToJson(create(TemplatePatchSchema, { clearConnections: true }));
    expect(cleared).toEqual({ connections: [] });
    expect(applyPatch(base, cleared)).toEqual(sampleContent());
    const replaced = patchToJson(create(TemplatePatchSchema, { connections: [connectionFromJson(health)] }));
    expect(applyPatch(base, replaced).connections).toEqual([health]);
    expect(patchToJson(create(TemplatePatchSchema, { category: "x" }))).not.toHaveProperty("connections");
  });

  it("are read from a content file as the server reads them: empty left out, missing fields for the server to refuse", () => {
    const file = { agent_name: "A", instructions: "I" };
    expect(fillContentJson({ ...file, connections: [] })).not.toHaveProperty("connections");
    expect(fillContentJson({ ...file, connections: [calendar] }).connections).toEqual([calendar]);
    expect(fillContentJson({ ...file, connections: [{ kind: "health" }] }).connections).toEqual([
      { kind: "health", capabilities: [], reason: "" },
    ]);
    expect(() => fillContentJson({ ...file, connections: [{ ...calendar, why: "x" }] })).toThrow(
      /connections\[0\]\.why: unknown field/,
    );
    expect(() => fillContentJson({ ...file, connections: [{ reason: "x" }] })).toThrow(/connections\[0\]\.kind/);
    expect(fillPatchJson({ connections: [] })).toEqual({ connections: [] });
  });
});

describe("connections through a base template", () => {
  it("are the base's, then the template's; a kind declared again keeps its place, both layers' capabilities and the nearer reason", () => {
    const base = contentFromJson(
      sampleContent({ connections: [{ ...calendar, capabilities: ["write_create"] }, health] }),
    );
    const own = contentFromJson({
      ...sampleContent({
        connections: [
          { kind: "location", capabilities: ["read"], reason: "to suggest places nearby" },
          { kind: "calendar", capabilities: ["read"], reason: "to plan around your week" },
        ],
      }),
      base: { template_id: "tmpl_0123456789abcdef", creator_id: "a".repeat(64) },
    });
    expect(own.base).toEqual(
      create(TemplateBaseSchema, { templateId: "tmpl_0123456789abcdef", creatorId: "a".repeat(64) }),
    );
    const resolved = contentToJson(resolveContent([own, base]));
    expect(resolved.connections).toEqual([
      { kind: "calendar", capabilities: ["write_create", "read"], reason: "to plan around your week" },
      health,
      { kind: "location", capabilities: ["read"], reason: "to suggest places nearby" },
    ]);
  });
});

describe("what the store shows of a connection", () => {
  it("is one line: the kind by name, what it does in the store's order, and the creator's reason", () => {
    expect(connectionSummary(calendar)).toBe(
      "Uses your phone's Calendar (read, create events): to plan around your week",
    );
    expect(connectionSummary(health)).toBe("Uses your phone's Health (read): to pace the hikes");
    expect(
      connectionSummary({
        kind: "calendar",
        capabilities: ["write_delete", "read", "write_update", "write_create"],
        reason: "to keep it tidy",
      }),
    ).toBe("Uses your phone's Calendar (read, create, change and delete events): to keep it tidy");
    expect(connectionSummary({ kind: "home_kit", capabilities: ["write_update"], reason: "to dim the lights" })).toBe(
      "Uses your phone's Home (change home settings): to dim the lights",
    );
    expect(
      connectionSummary({ kind: "contacts", capabilities: ["write_create", "write_delete"], reason: "to file cards" }),
    ).toBe("Uses your phone's Contacts (create and delete contacts): to file cards");
  });
});

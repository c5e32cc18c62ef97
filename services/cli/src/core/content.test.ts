import { create } from "@bufbuild/protobuf";
import { ModelConfigSchema, Provisioning, ToolDeclarationSchema } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import { TemplatePatchSchema } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import {
  contentFromJson,
  contentToJson,
  jsonHash,
  patchToJson,
  validateContent,
  type TemplateContentJson,
} from "@convos-pool/kit/content";
import { describe, expect, it } from "vitest";
import { contentHash, fillContent, fillPatch, patchHash } from "./content.js";
import { CliError } from "./errors.js";

/** What the templates service hashes: the content after the proto round trip (contentFromJson → contentToJson). */
const serverContentHash = (c: TemplateContentJson) => jsonHash(contentToJson(contentFromJson(c)));

const FULL = {
  agent_name: "Trip Planner",
  instructions: "You are a travel planning assistant.",
  model: { default: "gpt-oss-120b", allow_override: false },
  tools: [
    { id: "sms", name: "SMS", provisioning: "pool", description: "texts", prompt: "", required: false },
    {
      id: "personal-email",
      name: "Your email",
      provisioning: "user",
      description: "",
      prompt: "Your email?",
      required: true,
    },
  ],
  description: "Plans group trips",
  category: "travel",
  tags: ["travel", "japan"],
};

describe("content files", () => {
  it("fills a minimal file with the documented defaults, hashing as the server does", () => {
    const filled = fillContent({ agent_name: "Trip Planner", instructions: "Plan trips." });
    const expected: TemplateContentJson = {
      agent_name: "Trip Planner",
      instructions: "Plan trips.",
      model: { default: "gpt-oss-20b", allow_override: true },
      tools: [],
      description: "",
      category: "",
      tags: [],
    };
    expect(filled).toEqual(expected);
    expect(() => validateContent(filled)).not.toThrow();
    expect(contentHash(filled)).toBe(serverContentHash(expected));
  });

  it("keeps a full file as it is and hashes it as the server does", () => {
    const filled = fillContent(FULL);
    expect(filled).toEqual(FULL);
    expect(contentHash(filled)).toBe(serverContentHash(FULL as TemplateContentJson));
  });

  it("fills a tool's and a model's optional fields", () => {
    const filled = fillContent({
      agent_name: "A",
      instructions: "B",
      model: { default: "gpt-oss-120b" },
      tools: [
        { id: "sms", provisioning: "pool" },
        { id: "wallet-address", provisioning: "user", prompt: "Your address?" },
      ],
    });
    expect(filled.model).toEqual({ default: "gpt-oss-120b", allow_override: true });
    expect(filled.tools).toEqual([
      { id: "sms", name: "", provisioning: "pool", description: "", prompt: "", required: false },
      {
        id: "wallet-address",
        name: "",
        provisioning: "user",
        description: "",
        prompt: "Your address?",
        required: false,
      },
    ]);
    expect(contentHash(filled)).toBe(serverContentHash(filled));
  });

  it("reads a file's phone connections as the gateway does, and leaves an empty list out of the hash", () => {
    const connections = [
      { kind: "calendar", capabilities: ["read", "write_create"], reason: "to plan around your week" },
    ];
    const filled = fillContent({ ...FULL, connections });
    expect(filled.connections).toEqual(connections);
    expect(contentHash(filled)).toBe(serverContentHash(filled));
    expect(contentHash(fillContent({ ...FULL, connections: [] }))).toBe(contentHash(fillContent(FULL)));
    expect(() => fillContent({ ...FULL, connections: [{ kind: "calendar", why: "x" }] }, "t.json")).toThrow(
      "connections[0].why: unknown field",
    );
  });

  it("takes a fetched template (pool get) as a content file: metadata skipped", () => {
    const fetched = {
      id: "tmpl_4Qb1x9ZkT2mW7cPa",
      creator_id: "a".repeat(64),
      ...FULL,
      visibility: "private",
      status: "active",
      version: 3,
      usage_count: 0,
      created_at: "2026-11-21T10:00:00.000Z",
      updated_at: "2026-11-21T10:00:00.000Z",
    };
    expect(contentHash(fillContent(fetched))).toBe(contentHash(fillContent(FULL)));
  });

  it("refuses what the gateway refuses, naming the field", () => {
    const bad: Array<[unknown, string]> = [
      [{ instructions: "x" }, "agent_name: is required"],
      [{ agent_name: "a", instructions: "x", colour: "red" }, "colour: unknown field"],
      [{ agent_name: "a", instructions: "x", tags: "travel" }, "tags: must be a list of strings"],
      [{ agent_name: "a", instructions: "x", model: { allow_override: true } }, "model.default: is required"],
      [
        { agent_name: "a", instructions: "x", tools: [{ id: "sms", provisioning: "both" }] },
        'tools[0].provisioning: must be "pool" or "user"',
      ],
      [
        { agent_name: "a", instructions: "x", tools: [{ id: "sms", provisioning: "pool", extra: 1 }] },
        "tools[0].extra: unknown field",
      ],
      [{ agent_name: "a", instructions: "x", description: null }, "description: must be a string"],
      [["not", "an", "object"], "must be a JSON object"],
    ];
    for (const [raw, message] of bad) {
      expect(() => fillContent(raw, "t.json")).toThrow(CliError);
      expect(() => fillContent(raw, "t.json")).toThrow(message);
    }
  });
});

describe("patch files", () => {
  it("hashes a patch as the server's patchToJson gives it back", () => {
    const patch = fillPatch({
      description: "New",
      model: { default: "gpt-oss-120b" },
      tools: [{ id: "sms", provisioning: "pool" }],
    });
    expect(patch).toEqual({
      description: "New",
      model: { default: "gpt-oss-120b", allow_override: true },
      tools: [{ id: "sms", name: "", provisioning: "pool", description: "", prompt: "", required: false }],
    });
    const proto = create(TemplatePatchSchema, {
      description: "New",
      model: create(ModelConfigSchema, { default: "gpt-oss-120b", allowOverride: true }),
      tools: [create(ToolDeclarationSchema, { id: "sms", provisioning: Provisioning.POOL })],
    });
    expect(patchHash(patch)).toBe(jsonHash(patchToJson(proto)));
  });

  it("empties lists with [] (clear_tools / clear_tags / clear_connections) and keeps empty strings", () => {
    const patch = fillPatch({ tags: [], tools: [], connections: [], category: "" });
    expect(patch).toEqual({ tags: [], tools: [], connections: [], category: "" });
    const proto = create(TemplatePatchSchema, {
      clearTags: true,
      clearTools: true,
      clearConnections: true,
      category: "",
    });
    expect(patchHash(patch)).toBe(jsonHash(patchToJson(proto)));
  });

  it("refuses an empty patch and nulls", () => {
    expect(() => fillPatch({})).toThrow("sets no content field");
    expect(() => fillPatch({ id: "tmpl_x", version: 2 })).toThrow("sets no content field");
    expect(() => fillPatch({ tags: null })).toThrow("tags: must not be null");
  });
});

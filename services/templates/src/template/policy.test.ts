// What is wrong with a new template or a change to an existing one
// (policy.ts), as plain calls: every bad field named at once, each by its
// field, and nothing for a well-formed request. No database, no network.
import { create } from "@bufbuild/protobuf";
import { TemplateContentSchema } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import { TemplatePatchSchema } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import { describe, expect, it } from "vitest";
import { changeViolations, createViolations, patchViolations, rollbackViolations, updateViolations } from "./policy.js";

const fields = (vs: { field: string }[]) => vs.map((v) => v.field).sort();
const template = "tmpl_0123456789abcdef";

describe("what is wrong with a change to a template, every field at once", () => {
  it("names a bad template id and a missing version together (archive, delete, every change)", () => {
    expect(fields(changeViolations({ templateId: " ", expectedVersion: 0n }))).toEqual([
      "expected_version",
      "template_id",
    ]);
    expect(changeViolations({ templateId: template, expectedVersion: 2_000_000_000n })).toEqual([]);
    expect(fields(changeViolations({ templateId: template, expectedVersion: 2_000_000_001n }))).toEqual([
      "expected_version",
    ]);
  });

  it("names a missing content or patch beside the id, the version and release notes", () => {
    const notes = "x".repeat(100_000);
    expect(fields(updateViolations({ templateId: "x", expectedVersion: -1n, releaseNotes: notes }))).toEqual([
      "content",
      "expected_version",
      "release_notes",
      "template_id",
    ]);
    expect(fields(patchViolations({ templateId: "x", expectedVersion: 0n, releaseNotes: "" }))).toEqual([
      "expected_version",
      "patch",
      "template_id",
    ]);
    const empty = create(TemplatePatchSchema, {});
    expect(
      fields(patchViolations({ templateId: template, expectedVersion: 1n, patch: empty, releaseNotes: "" })),
    ).toEqual(["patch"]);
    const content = create(TemplateContentSchema, { agentName: "", instructions: "" });
    expect(fields(updateViolations({ templateId: template, expectedVersion: 1n, content, releaseNotes: "" }))).toEqual([
      "content.agent_name",
      "content.instructions",
    ]);
  });

  it("names a rollback's target with the id and the version, and a target not before its base", () => {
    expect(
      fields(rollbackViolations({ templateId: " ", expectedVersion: 0n, targetVersion: 0n, releaseNotes: "" })),
    ).toEqual(["expected_version", "target_version", "template_id"]);
    expect(
      fields(rollbackViolations({ templateId: template, expectedVersion: 3n, targetVersion: 3n, releaseNotes: "" })),
    ).toEqual(["target_version"]);
    expect(
      rollbackViolations({ templateId: template, expectedVersion: 3n, targetVersion: 2n, releaseNotes: "" }),
    ).toEqual([]);
  });
});

describe("what is wrong with a new template, every field at once", () => {
  const creator = "a".repeat(64);
  const served = ["gpt-oss-20b"];
  const good = create(TemplateContentSchema, {
    agentName: "Trip Planner",
    instructions: "Plan trips.",
    model: { default: "gpt-oss-20b", allowOverride: true },
  });

  it("names a bad creator id beside every bad field of its content, the model it asks for among them", () => {
    const content = create(TemplateContentSchema, {
      agentName: "",
      instructions: "Plan trips.",
      model: { default: "no-such-model", allowOverride: true },
      category: "Not OK!",
    });
    expect(fields(createViolations({ creatorId: "me", content }, served))).toEqual([
      "content.agent_name",
      "content.category",
      "content.model.default",
      "creator_id",
    ]);
  });

  it("names a model refused for its form once, not again as one the pool does not serve", () => {
    const content = create(TemplateContentSchema, {
      agentName: "Trip Planner",
      instructions: "Plan trips.",
      model: { default: "", allowOverride: true },
    });
    expect(fields(createViolations({ creatorId: creator, content }, served))).toEqual(["content.model.default"]);
  });

  it("names a missing content with the creator id, and nothing for a well-formed request", () => {
    expect(fields(createViolations({ creatorId: "" }, served))).toEqual(["content", "creator_id"]);
    expect(createViolations({ creatorId: creator, content: good }, served)).toEqual([]);
  });
});

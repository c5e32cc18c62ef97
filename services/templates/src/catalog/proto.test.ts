// A template's shapes: pure functions over plain rows (no ORM, no database).
import { describe, expect, it } from "vitest";
import { TrustLevel } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import { Visibility } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import { sampleContent } from "@convos-pool/kit/testing";
import type { TemplateRowType, TemplateVersionRowType } from "../db/entities.js";
import type { ListedRow } from "./listings.js";
import {
  assignContent,
  listedToProto,
  maxTrustLevelColumn,
  newTemplateRow,
  rowContent,
  rowToProto,
  snapshotOf,
  versionProto,
  visibilityName,
} from "./proto.js";

const at = new Date("2026-01-01T00:00:00Z");
const rowOf = (content = sampleContent()) =>
  newTemplateRow("tmpl_0123456789abcdef", "a".repeat(64), content, at) as unknown as TemplateRowType;

describe("a template row's content", () => {
  it("reads back as the content it was made from, so that its hash is the one the creator signed", () => {
    const content = sampleContent({
      clone_directive: "Ask first",
      max_trust_level: "L1",
      avatar: "🧭",
      conversation_starters: ["Plan a weekend in Kyoto", "What should I pack?"],
      connections: [{ kind: "calendar", capabilities: ["read", "write_create"], reason: "to plan around your week" }],
    });
    expect(rowContent(rowOf(content))).toEqual(content);
    expect(rowContent(rowOf(sampleContent()))).toEqual(sampleContent());
  });

  it("leaves out an empty clone directive and an unspecified trust level, as content is hashed", () => {
    const row = rowOf();
    assignContent(row, sampleContent({ clone_directive: "" }));
    expect(rowContent(row)).not.toHaveProperty("clone_directive");
    expect(rowContent(row)).not.toHaveProperty("max_trust_level");
    expect(maxTrustLevelColumn(sampleContent())).toBe(TrustLevel.UNSPECIFIED);
  });

  it("starts a new template private, active, at version 1, and snapshots it so", () => {
    expect(snapshotOf(rowOf())).toEqual({ content: sampleContent(), visibility: "private", status: "active" });
    expect(rowToProto(rowOf())).toMatchObject({ version: 1n, contentVersion: 1n, visibility: Visibility.PRIVATE });
  });

  it("names the two visibilities as the database keeps them", () => {
    expect(visibilityName(Visibility.PUBLIC)).toBe("public");
    expect(visibilityName(Visibility.PRIVATE)).toBe("private");
  });
});

describe("listedToProto", () => {
  it("shows a store listing without its instructions, with its avatar, conversation starters, connections and routines", () => {
    const c = sampleContent();
    const listed: ListedRow = {
      id: "tmpl_0123456789abcdef",
      creator_id: "a".repeat(64),
      agent_name: c.agent_name,
      instructions: "secret",
      model: c.model,
      tools: c.tools,
      description: c.description,
      category: c.category,
      tags: c.tags,
      soul: null,
      avatar: "🧭",
      conversation_starters: ["Plan a weekend in Kyoto"],
      connections: [{ kind: "location", capabilities: ["read"], reason: "to suggest places nearby" }],
      routines: [{ id: "tides", name: "Tides", rrule: "FREQ=DAILY", time: "07:00", instruction: "Post the tides." }],
      visibility: "public",
      status: "active",
      version: 3,
      content_version: 2,
      usage_count: "5",
      recent_owners: 1,
      created_at: at,
      updated_at: at,
    };
    const t = listedToProto(listed);
    expect(t.content?.instructions).toBe("");
    // The store's card shows its face.
    expect(t.content).toMatchObject({ avatar: "🧭", conversationStarters: ["Plan a weekend in Kyoto"] });
    // And what of a person's phone its agents use, before anyone adds one.
    expect(t.content?.connections.map((x) => [x.kind, x.capabilities, x.reason])).toEqual([
      ["location", ["read"], "to suggest places nearby"],
    ]);
    // And what its agents do on a schedule, as its tools.
    expect(t.content?.routines.map((x) => [x.id, x.rrule, x.time])).toEqual([["tides", "FREQ=DAILY", "07:00"]]);
    expect(t).toMatchObject({ visibility: Visibility.PUBLIC, version: 3n, contentVersion: 2n, usageCount: 5n });
  });
});

describe("versionProto", () => {
  it("carries the creator's release notes with the version, as the history shows them beside its summary", () => {
    const row = rowOf();
    const v = {
      version: 2,
      contentVersion: 2,
      snapshot: snapshotOf(row),
      changedBy: "a".repeat(64),
      changedAt: at,
      changeSummary: "update",
      releaseNotes: "Shorter answers.",
    } as unknown as TemplateVersionRowType;
    expect(versionProto(row, v)).toMatchObject({
      version: 2n,
      changeSummary: "update",
      releaseNotes: "Shorter answers.",
    });
  });
});

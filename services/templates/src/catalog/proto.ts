// A template's shapes, pure: its row's content as JSON and back, the row or
// a store listing as the Template message, a version as TemplateVersion,
// and the snapshot each version keeps.
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { TrustLevel } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import {
  TemplateSchema,
  TemplateStatus,
  TemplateVersionSchema,
  Visibility,
  type Template,
  type TemplateVersion,
} from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import {
  contentFromJson,
  parseTrustLevel,
  trustLevelName,
  type RuntimeName,
  type TemplateContentJson,
} from "@convos-pool/kit/content";
import type { TemplateRowType, TemplateSnapshot, TemplateVersionRowType } from "../db/entities.js";
import type { ListedRow } from "./listings.js";

export const visibilityName = (v: Visibility) => (v === Visibility.PUBLIC ? "public" : "private");

/** What a Template message is made from, whichever row it was read as. */
export interface TemplateFields {
  id: string;
  creatorId: string;
  content: TemplateContentJson;
  visibility: string;
  status: string;
  version: number;
  contentVersion: number;
  usageCount: number | string;
  recentOwners: number;
  createdAt: Date | string;
  updatedAt: Date | string;
}

export function templateProto(r: TemplateFields): Template {
  return create(TemplateSchema, {
    id: r.id,
    creatorId: r.creatorId,
    content: contentFromJson(r.content),
    visibility: r.visibility === "public" ? Visibility.PUBLIC : Visibility.PRIVATE,
    status: r.status === "archived" ? TemplateStatus.ARCHIVED : TemplateStatus.ACTIVE,
    version: BigInt(r.version),
    contentVersion: BigInt(r.contentVersion),
    usageCount: BigInt(r.usageCount),
    recentOwners: BigInt(r.recentOwners),
    createdAt: timestampFromDate(new Date(r.createdAt)),
    updatedAt: timestampFromDate(new Date(r.updatedAt)),
  });
}

/** A row's content as the JSON that is validated, hashed and signed. */
export function rowContent(r: TemplateRowType): TemplateContentJson {
  const level = trustLevelName(r.maxTrustLevel);
  return {
    agent_name: r.agentName,
    instructions: r.instructions,
    ...(r.model ? { model: r.model } : {}),
    tools: r.tools,
    description: r.description,
    category: r.category,
    tags: r.tags,
    // Absent when empty or unspecified, as content is hashed (kit template-content.ts).
    ...(r.cloneDirective ? { clone_directive: r.cloneDirective } : {}),
    ...(level ? { max_trust_level: level } : {}),
    ...(r.soul ? { soul: r.soul } : {}),
    ...(r.base ? { base: r.base } : {}),
    ...(r.avatar ? { avatar: r.avatar } : {}),
    ...(r.runtime ? { runtime: r.runtime as RuntimeName } : {}),
    ...(r.conversationStarters.length > 0 ? { conversation_starters: r.conversationStarters } : {}),
    ...(r.connections.length > 0 ? { connections: r.connections } : {}),
    ...(r.routines.length > 0 ? { routines: r.routines } : {}),
  };
}

/** The column's value for content's max_trust_level (validated already): TrustLevel's number, 0 when absent. */
export const maxTrustLevelColumn = (c: TemplateContentJson): number =>
  (c.max_trust_level && parseTrustLevel(c.max_trust_level)) || TrustLevel.UNSPECIFIED;

/** The row's columns that hold content, set from it. */
export function assignContent(row: TemplateRowType, c: TemplateContentJson): void {
  row.agentName = c.agent_name;
  row.instructions = c.instructions;
  row.model = c.model ?? null;
  row.base = c.base ?? null;
  row.tools = c.tools;
  row.description = c.description;
  row.category = c.category;
  row.tags = c.tags;
  row.cloneDirective = c.clone_directive ?? "";
  row.avatar = c.avatar ?? "";
  row.runtime = c.runtime ?? "";
  row.conversationStarters = c.conversation_starters ?? [];
  row.connections = c.connections ?? [];
  row.routines = c.routines ?? [];
  row.maxTrustLevel = maxTrustLevelColumn(c);
  row.soul = c.soul ?? null;
}

/** A new template's row: private, active, at version 1, never used. */
export function newTemplateRow(id: string, creatorId: string, content: TemplateContentJson, at: Date) {
  return {
    id,
    creatorId,
    agentName: content.agent_name,
    instructions: content.instructions,
    model: content.model ?? null,
    base: content.base ?? null,
    tools: content.tools,
    description: content.description,
    category: content.category,
    tags: content.tags,
    cloneDirective: content.clone_directive ?? "",
    avatar: content.avatar ?? "",
    runtime: content.runtime ?? "",
    conversationStarters: content.conversation_starters ?? [],
    connections: content.connections ?? [],
    routines: content.routines ?? [],
    maxTrustLevel: maxTrustLevelColumn(content),
    soul: content.soul ?? null,
    visibility: "private",
    status: "active",
    version: 1,
    contentVersion: 1,
    usageCount: 0,
    recentOwners: 0,
    createdAt: at,
    updatedAt: at,
  };
}

/** What a version keeps of the row. */
export function snapshotOf(row: TemplateRowType): TemplateSnapshot {
  return {
    content: rowContent(row),
    visibility: row.visibility as TemplateSnapshot["visibility"],
    status: row.status as TemplateSnapshot["status"],
  };
}

export const rowToProto = (r: TemplateRowType) => templateProto({ ...r, content: rowContent(r) });

/** A store listing as a Template: what the store's cards show, without the instructions. */
export const listedToProto = (r: ListedRow) =>
  templateProto({
    id: r.id,
    creatorId: r.creator_id,
    content: {
      agent_name: r.agent_name,
      instructions: "",
      ...(r.model ? { model: r.model as NonNullable<TemplateContentJson["model"]> } : {}),
      tools: r.tools as TemplateContentJson["tools"],
      description: r.description,
      category: r.category,
      tags: r.tags,
      // Its identity only, which the store's cards show (listings.ts).
      ...(r.soul ? { soul: r.soul } : {}),
      // How it presents itself in the store (docs/templates.md).
      ...(r.avatar ? { avatar: r.avatar } : {}),
      ...(r.conversation_starters.length > 0 ? { conversation_starters: r.conversation_starters } : {}),
      // What of a person's phone its agents use, shown before anyone adds one.
      ...(r.connections.length > 0 ? { connections: r.connections } : {}),
      // What its agents do on a schedule, shown as its tools are.
      ...(r.routines.length > 0 ? { routines: r.routines } : {}),
    },
    visibility: r.visibility,
    status: r.status,
    version: r.version,
    contentVersion: r.content_version,
    usageCount: r.usage_count,
    recentOwners: r.recent_owners,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  });

/** One version of `row` as TemplateVersion: its snapshot as the template was then. */
export function versionProto(row: TemplateRowType, v: TemplateVersionRowType): TemplateVersion {
  return create(TemplateVersionSchema, {
    templateId: row.id,
    version: BigInt(v.version),
    snapshot: templateProto({
      ...row,
      ...v.snapshot,
      version: v.version,
      contentVersion: v.contentVersion,
      updatedAt: v.changedAt,
    }),
    changedBy: v.changedBy,
    changedAt: timestampFromDate(v.changedAt),
    changeSummary: v.changeSummary,
    releaseNotes: v.releaseNotes,
  });
}

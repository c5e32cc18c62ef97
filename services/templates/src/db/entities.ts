import { defineEntity, p } from "@mikro-orm/core";
import type {
  BaseJson,
  ConnectionJson,
  ModelJson,
  RoutineJson,
  SoulJson,
  TemplateContentJson,
  ToolJson,
} from "@convos-pool/kit/content";

/** A template's current state. The search vector is a generated column the ORM never writes. */
export const TemplateRow = defineEntity({
  name: "TemplateRow",
  tableName: "templates",
  properties: {
    id: p.string().primary(),
    creatorId: p.string(),
    agentName: p.string(),
    instructions: p.text(),
    /** Null only with a base: the base's model then. */
    model: p.json<ModelJson>().nullable(),
    tools: p.json<ToolJson[]>(),
    description: p.text(),
    category: p.string(),
    tags: p.array<string>(),
    cloneDirective: p.text(),
    /** An emoji or https URL; "" for none. */
    avatar: p.text(),
    /** What its agents run on: "openclaw", "pool", or "" (not said: the pool's own). */
    runtime: p.text(),
    /** What a person might say first (docs/templates.md); empty for none. */
    conversationStarters: p.array<string>(),
    /** The phone connections its agents use (docs/templates.md); empty for none. */
    connections: p.json<ConnectionJson[]>(),
    /** What its agents do on a schedule (docs/templates.md, "Routines"); empty for none. */
    routines: p.json<RoutineJson[]>(),
    /** TrustLevel's number; 0 (unspecified) means L2. */
    maxTrustLevel: p.smallint(),
    /** The SOUL's canonical JSON (kit soul.ts); null for none. */
    soul: p.json<SoulJson>().nullable(),
    /** The template this one builds on (docs/templates.md, "Base templates"). */
    base: p.json<BaseJson>().nullable(),
    visibility: p.string(),
    status: p.string(),
    version: p.integer(),
    /** The newest version whose content changed (create, update, patch, rollback). */
    contentVersion: p.integer(),
    usageCount: p.bigint("number"),
    /** Distinct owners over the store's recent window ("most used"; usage/service.ts keeps it). */
    recentOwners: p.integer(),
    createdAt: p.datetime(),
    updatedAt: p.datetime(),
  },
});
export type TemplateRowType = InstanceType<typeof TemplateRow.class>;

/** The template as it was at one version, kept for history and rollback. */
export const TemplateVersionRow = defineEntity({
  name: "TemplateVersionRow",
  tableName: "template_versions",
  properties: {
    // A relation, so the unit of work inserts the template before its first version.
    template: () => p.manyToOne(TemplateRow).primary().deleteRule("cascade"),
    version: p.integer().primary(),
    snapshot: p.json<TemplateSnapshot>(),
    changedBy: p.string(),
    changedAt: p.datetime(),
    changeSummary: p.string(),
    contentVersion: p.integer(),
    // The creator's signed change behind a content version (absent for
    // publish, unpublish, archive, and for versions made before these were kept).
    changeKind: p.string().$type<ContentChangeKind>().nullable(),
    signature: p.string().nullable(),
    signatureIssuedAt: p.bigint("number").nullable(),
    signatureNonce: p.string().nullable(),
    patchHash: p.string().nullable(),
    rollbackTarget: p.integer().nullable(),
    /** The signed change acknowledged that it takes the pool's wallet away (docs/templates.md). */
    acknowledgedWalletRemoval: p.boolean().default(false),
    /** The creator's words on a content change; display text, not signed (docs/store.md). */
    releaseNotes: p.text(),
  },
});

export type TemplateVersionRowType = InstanceType<typeof TemplateVersionRow.class>;

export type ContentChangeKind = "create" | "update" | "patch" | "rollback";

/** What a version row stores: the content plus the state a version also fixes. */
export interface TemplateSnapshot {
  content: TemplateContentJson;
  visibility: "private" | "public";
  status: "active" | "archived";
}

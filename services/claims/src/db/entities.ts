import { defineEntity, p } from "@mikro-orm/core";

/** An instance's states in the pool (docs/claims.md). */
export const INSTANCE_STATES = ["starting", "idle", "claiming", "claimed", "crashed", "dead"] as const;
export type InstanceStateName = (typeof INSTANCE_STATES)[number];

/**
 * An agent instance of the warm pool. Written by the claim queries in
 * claim/sql.ts (raw SQL, one query each); read through the ORM.
 */
export const InstanceRow = defineEntity({
  name: "InstanceRow",
  tableName: "instances",
  properties: {
    id: p.string().primary(),
    state: p.string().$type<InstanceStateName>(),
    hostUrl: p.string(),
    walletIndex: p.integer(),
    inboxId: p.string(),
    claimId: p.string().nullable(),
    claimStartedAt: p.datetime().nullable(),
    templateId: p.string().nullable(),
    templateVersion: p.integer().nullable(),
    agentName: p.string(),
    ownerId: p.string().nullable(),
    parentInstanceId: p.string().nullable(),
    conversationId: p.string().nullable(),
    /** Its conversation's name from the group's metadata, as the agent last reported it (pool/sql.ts). */
    conversationName: p.string().nullable(),
    /** Its conversation as the invite it joined with names it: creator inbox and tag (claim/full-conversation.ts). */
    conversationKey: p.string().nullable(),
    model: p.string().nullable(),
    modelOverridden: p.boolean(),
    userConfig: p.json<Record<string, string>>(),
    createdAt: p.datetime(),
    updatedAt: p.datetime(),
    claimedAt: p.datetime().nullable(),
    pinned: p.boolean(),
    syncError: p.string().nullable(),
    syncAttempts: p.integer(),
    syncNextAt: p.datetime().nullable(),
    /** When its next attestation is due (badge/attestations.ts); null: now. */
    attestNextAt: p.datetime().nullable(),
  },
});
export type InstanceRowType = InstanceType<typeof InstanceRow.class>;

/** A pool-provisioned tool of an instance: the public handle and the sealed secrets. */
export const ProvisionedToolRow = defineEntity({
  name: "ProvisionedToolRow",
  tableName: "provisioned_tools",
  properties: {
    instanceId: p.string().primary(),
    toolId: p.string().primary(),
    provider: p.string(),
    handle: p.string(),
    secret: p.blob().nullable(),
    state: p.string().$type<"active" | "release_failed" | "held">(),
    createdAt: p.datetime(),
  },
});
export type ProvisionedToolRowType = InstanceType<typeof ProvisionedToolRow.class>;

/** A number of the local SMS provider's range; free when instanceId is null. */
export const SmsNumberRow = defineEntity({
  name: "SmsNumberRow",
  tableName: "sms_numbers",
  properties: {
    number: p.string().primary(),
    instanceId: p.string().nullable(),
    allocatedAt: p.datetime().nullable(),
    releasedAt: p.datetime().nullable(),
  },
});

/** The newest release (a creator-signed template version) the pool holds for a template. */
export const TemplateReleaseRow = defineEntity({
  name: "TemplateReleaseRow",
  tableName: "template_releases",
  properties: {
    templateId: p.string().primary(),
    version: p.integer(),
    release: p.blob(),
    defaultModel: p.string(),
    receivedAt: p.datetime(),
  },
});

/** An agent's reminder, routine or scheduled act (docs/schedules.md); written by schedules/sql.ts, read through the ORM. */
export const ScheduleItemRow = defineEntity({
  name: "ScheduleItemRow",
  tableName: "schedule_items",
  properties: {
    id: p.string().primary(),
    instanceId: p.string(),
    conversationId: p.string(),
    askedBy: p.string(),
    askedByRole: p.string().$type<"owner" | "member">(),
    kind: p.string().$type<"reminder" | "routine" | "act">(),
    text: p.string(),
    startsAt: p.datetime(),
    rrule: p.string(),
    timeZone: p.string(),
    nextAt: p.datetime().nullable(),
    pause: p.string().$type<"asked" | "released" | "transferred" | "left">().nullable(),
    payload: p.blob(),
    lastFiringId: p.string().nullable(),
    createdAt: p.datetime(),
    updatedAt: p.datetime(),
  },
});
export type ScheduleItemRowType = InstanceType<typeof ScheduleItemRow.class>;

export const entities = [InstanceRow, ProvisionedToolRow, SmsNumberRow, TemplateReleaseRow, ScheduleItemRow];

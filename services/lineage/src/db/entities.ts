import { defineEntity, p } from "@mikro-orm/core";

/** An agent in the lineage: written by the event feed (lineage/events.ts), read with SQL (lineage/sql.ts). */
export const LineageAgentRow = defineEntity({
  name: "LineageAgentRow",
  tableName: "lineage_agents",
  properties: {
    instanceId: p.string().primary(),
    templateId: p.string(),
    ownerId: p.string(),
    parentInstanceId: p.string().nullable(),
    conversationId: p.string(),
    carry: p.string(),
    depth: p.integer(),
    claimedAt: p.datetime(),
    endedAt: p.datetime().nullable(),
    endReason: p.string().nullable(),
    /** Its XMTP inbox: whose wallet signs its daily counts ('' for agents claimed before it was carried). */
    inboxId: p.string(),
    /** The template version it was claimed on; null when its claim did not say (docs/signals.md). */
    claimedVersion: p.string().nullable(),
    /** When lineage began to know its versions, for an agent claimed before the feed carried them. */
    versionsKnownFrom: p.datetime().nullable(),
    /** The first UTC day whose counts are its present owner's: its claim's day, or the day after its transfer. */
    ownerDaysFrom: p.date(),
  },
});

/** A learned pattern (docs/patterns.md): written and read with SQL (patterns/sql.ts), as the agents are. */
export const PatternRow = defineEntity({
  name: "PatternRow",
  tableName: "patterns",
  properties: {
    patternId: p.string().primary(),
    text: p.string(),
    textHash: p.string().unique(),
    templateId: p.string(),
    interests: p.array<string>(),
    createdAt: p.datetime(),
    expiresAt: p.datetime(),
  },
});

/** An agent that offered a pattern, with its template then (a creator lists what their template's agents offered). */
export const PatternOfferRow = defineEntity({
  name: "PatternOfferRow",
  tableName: "pattern_offers",
  properties: {
    patternId: p.string().primary(),
    instanceId: p.string().primary(),
    templateId: p.string(),
    offeredAt: p.datetime(),
  },
});

export const PatternAdoptionRow = defineEntity({
  name: "PatternAdoptionRow",
  tableName: "pattern_adoptions",
  properties: {
    patternId: p.string().primary(),
    instanceId: p.string().primary(),
    adoptedAt: p.datetime(),
  },
});

/** Offers the scan refused, counted by the offering agent's template and the reason; the text is not kept. */
export const PatternRefusalRow = defineEntity({
  name: "PatternRefusalRow",
  tableName: "pattern_refusals",
  properties: {
    templateId: p.string().primary(),
    reason: p.string().primary(),
    count: p.bigint(),
  },
});

export const entities = [LineageAgentRow, PatternRow, PatternOfferRow, PatternAdoptionRow, PatternRefusalRow];

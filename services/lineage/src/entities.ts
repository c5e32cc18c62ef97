import { defineEntity, p } from "@mikro-orm/core";

/** An agent in the lineage: written by the event feed (events.ts), read with SQL (queries.ts). */
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
  },
});

export const entities = [LineageAgentRow];

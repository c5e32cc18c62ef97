/**
 * TEST HARNESS, NOT PRODUCT CODE. The pattern pool as its tests run it: the
 * real lineage and templates services over gRPC on real PostgreSQL, each
 * caller with its own credential (the event feed as the claims service, the
 * pool as an instance host, insights and templates as the gateway), and the
 * small pieces every pattern test uses.
 */
import { randomBytes } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { ConnectError, type Client, type Code } from "@connectrpc/connect";
import {
  LineageEventSchema,
  LineageEventService,
  type LineageEvent,
} from "@convos-pool/gen/convos/pool/v1/lineage_event_service_pb.js";
import { PatternInsightsService, PatternPoolService } from "@convos-pool/gen/convos/pool/v1/pattern_pool_service_pb.js";
import { TemplateService } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import { CALLER_HEADER } from "@convos-pool/kit/content";
import { createServiceClient, generateServiceCredentials } from "@convos-pool/kit/server";
import { createTestDatabase } from "@convos-pool/testing";
import { newIdentity, sampleContent, signedTemplate, type TestIdentity } from "@convos-pool/kit/testing";
import { startTemplateService } from "@convos-pool/templates";
import { expect } from "vitest";
import { startLineageService, type LineageServiceOptions } from "../src/server.js";
import { answeredOthersOn } from "./days-with-others.js";

export interface PatternPoolRig {
  /** The lineage service's URL, its database's, and every service's credential (for calls as someone else). */
  url: string;
  lineageDb: string;
  creds: ReturnType<typeof generateServiceCredentials>;
  feed: Client<typeof LineageEventService>;
  pool: Client<typeof PatternPoolService>;
  insights: Client<typeof PatternInsightsService>;
  templates: Client<typeof TemplateService>;
  /** A template of `creator` with this category and tags, and `agents` live agents of it, each of a fresh owner. */
  templateWithAgents(
    creator: TestIdentity,
    category: string,
    tags: string[],
    agents?: number,
  ): Promise<{ id: string; agents: string[] }>;
  /**
   * A live agent of `templateId` owned by `owner` (a fresh inbox by default),
   * claimed through the feed: just now, or with `lived` claimed that many
   * days ago (the feed's time of the claim) and with as many earlier days
   * with others as `usedDays` (days on which it answered two people besides
   * its owner, as its signed counts of those days would have left them:
   * test/days-with-others.ts).
   */
  agent(templateId: string, owner?: TestIdentity, lived?: { days: number; usedDays: number }): Promise<string>;
  /** Days with others of the agent `daysAgo` (UTC days before today; 0 is today), as its signed counts would have left them. */
  usedOn(instanceId: string, ...daysAgo: number[]): Promise<void>;
  /** A day of the agent `daysAgo` with these counts (fewer people or answers than a day with others, say). */
  countedOn(instanceId: string, daysAgo: number, counts: { people: number; answers: number }): Promise<void>;
  close(): Promise<void>;
}

/** Both services on databases named after `name`, the lineage service with `options` (its quorum, its sweep). */
export async function startPatternPoolRig(
  name: string,
  options: Pick<LineageServiceOptions, "patternQuorum" | "patternSweepMs"> = {},
): Promise<PatternPoolRig> {
  const creds = generateServiceCredentials();
  const templatesService = await startTemplateService({
    databaseUrl: await createTestDatabase(`${name}_templates`),
    credentials: creds.templates,
  });
  const lineageDb = await createTestDatabase(`${name}_lineage`);
  const service = await startLineageService({
    databaseUrl: lineageDb,
    credentials: creds.lineage,
    templatesUrl: templatesService.url,
    ...options,
  });
  const clients = {
    feed: createServiceClient(LineageEventService, service.url, creds.claims),
    pool: createServiceClient(PatternPoolService, service.url, creds["instance-host"]),
    insights: createServiceClient(PatternInsightsService, service.url, creds.gateway),
    templates: createServiceClient(TemplateService, templatesService.url, creds.gateway),
  };
  const usedOn = (instanceId: string, ...daysAgo: number[]) => answeredOthersOn(lineageDb, instanceId, daysAgo);
  const agent = async (
    templateId: string,
    owner: TestIdentity = newIdentity(),
    lived?: { days: number; usedDays: number },
  ) => {
    const id = inst();
    const at = new Date(Date.now() - (lived?.days ?? 0) * 86_400_000);
    await clients.feed.client.recordLineageEvents({ events: [claimed(id, templateId, owner, at)] });
    if (lived) await usedOn(id, ...Array.from({ length: lived.usedDays }, (_, i) => i + 1));
    return id;
  };
  return {
    url: service.url,
    lineageDb,
    creds,
    feed: clients.feed.client,
    pool: clients.pool.client,
    insights: clients.insights.client,
    templates: clients.templates.client,
    async templateWithAgents(creator, category, tags, agents = 1) {
      const t = await signedTemplate(clients.templates.client, creator, sampleContent({ tools: [], category, tags }));
      const ids: string[] = [];
      for (let i = 0; i < agents; i++) ids.push(await agent(t.id));
      return { id: t.id, agents: ids };
    },
    agent,
    usedOn,
    countedOn: (instanceId, daysAgo, counts) => answeredOthersOn(lineageDb, instanceId, [daysAgo], counts),
    async close() {
      for (const sc of Object.values(clients)) sc.close();
      await service.close();
      await templatesService.close();
    },
  };
}

/** Call options of a person signed in through the gateway. */
export const as = (who: TestIdentity) => ({ headers: { [CALLER_HEADER]: who.inboxId } });

/** A new instance id. */
export const inst = () => `inst_${randomBytes(8).toString("hex")}`;

/** Letters only: a word no other test uses (no digits, which the scan would weigh as a number). */
export const word = () =>
  randomBytes(6)
    .toString("hex")
    .replace(/[0-9]/g, (d) => "ghijklmnop"[Number(d)]!);

/** Awaits a call that must fail with `code`; its error. */
export async function refused(p: Promise<unknown>, code: Code): Promise<ConnectError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => ConnectError.from(e),
  );
  expect(err?.code, err?.rawMessage ?? "it answered").toBe(code);
  return err!;
}

let sequence = 0n;

/** The feed's event of an agent claimed by `owner` (at `at`, now by default), as the claims service sends it. */
export const claimed = (instanceId: string, templateId: string, owner: TestIdentity, at = new Date()): LineageEvent =>
  create(LineageEventSchema, {
    sequence: ++sequence,
    at: timestampFromDate(at),
    event: {
      case: "claimed",
      value: { instanceId, templateId, ownerId: owner.inboxId, conversationId: `conv-${instanceId}` },
    },
  });

/** The feed's event of an agent that ended (removed by its owner, released). */
export const ended = (instanceId: string, reason: string): LineageEvent =>
  create(LineageEventSchema, {
    sequence: ++sequence,
    at: timestampFromDate(new Date()),
    event: { case: "ended", value: { instanceId, reason } },
  });

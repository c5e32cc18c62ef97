// Agents' daily counts reaching the lineage service (docs/signals.md), over
// gRPC on real PostgreSQL, with the real templates service. Agents arrive
// as the claims service's relay feeds them (with their inbox); each agent's
// wallet is a real key, and inboxes are derived from it, as the other
// lineage tests resolve them (the XMTP network does it in production).
import { randomBytes } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LineageEventSchema, LineageEventService } from "@convos-pool/gen/convos/pool/v1/lineage_event_service_pb.js";
import {
  type ReportSignalsRequestSchema,
  PersonSignalCountsSchema,
  SignalCountsSchema,
  VersionSignalInsightsService,
  VersionSignalService,
} from "@convos-pool/gen/convos/pool/v1/signal_service_pb.js";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { TemplateService } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import pg from "pg";
import { CALLER_HEADER } from "@convos-pool/kit/content";
import { createServiceClient, generateServiceCredentials, type ServiceClient } from "@convos-pool/kit/server";
import { signVersionSignals, type VersionSignalsToSign } from "@convos-pool/kit/signing";
import { createTestDatabase } from "@convos-pool/testing";
import { newIdentity, sampleContent, signedTemplate, type TestIdentity } from "@convos-pool/kit/testing";
import { startTemplateService, type RunningTemplateService } from "@convos-pool/templates";
import { openDatabase } from "@convos-pool/kit/service";
import { entities } from "../db/entities.js";
import { migrations } from "../db/migrations.js";
import { versionLifecycles } from "./lifecycle.js";
import { startLineageService, type RunningLineageService } from "../server.js";

const creds = generateServiceCredentials();
let templates: RunningTemplateService;
let service: RunningLineageService;
let feedSc: ServiceClient<typeof LineageEventService>;
let hostSc: ServiceClient<typeof VersionSignalService>;
let templatesSc: ServiceClient<typeof TemplateService>;
let lineageDb: string;
let sequence = 1_000n;

const today = () => new Date().toISOString().slice(0, 10);
const COUNTS = {
  answers: 12,
  people: 3,
  thumbsUp: 2,
  thumbsDown: 1,
  corrections: 1,
  forgetRequests: 0,
  approvalsAsked: 1,
  approvalsDeclined: 0,
  toolCallsFailed: 0,
  pauses: 1,
  stopRequests: 2,
};

interface Agent {
  instanceId: string;
  wallet: TestIdentity;
}

/** One event of the claims service's feed, at `at` (now unless told). */
async function feed(
  event: NonNullable<MessageInitShape<typeof LineageEventSchema>["event"]>,
  at = new Date(),
): Promise<void> {
  await feedSc.client.recordLineageEvents({
    events: [create(LineageEventSchema, { sequence: ++sequence, at: timestampFromDate(at), event })],
  });
}

/**
 * A live agent of `templateId`, as the claims service's relay announces it:
 * with its inbox, in a conversation of its own unless told, and the
 * version it was claimed on when given (none: as an agent claimed before
 * the feed carried versions).
 */
async function agentOf(
  templateId: string,
  owner: TestIdentity,
  inboxKnown = true,
  claim: { version?: string; at?: Date; parentInstanceId?: string; conversationId?: string } = {},
): Promise<Agent> {
  const agent = { instanceId: `inst_${randomBytes(8).toString("hex")}`, wallet: newIdentity() };
  await feed(
    {
      case: "claimed",
      value: {
        instanceId: agent.instanceId,
        templateId,
        ownerId: owner.inboxId,
        conversationId: claim.conversationId ?? `conv-${agent.instanceId}`,
        inboxId: inboxKnown ? agent.wallet.inboxId : "",
        version: claim.version ?? "",
        parentInstanceId: claim.parentInstanceId ?? "",
      },
    },
    claim.at,
  );
  return agent;
}

/** A report of `agent`'s day, signed by `signer` (the agent's own wallet unless told otherwise). */
async function report(
  agent: Agent,
  templateId: string,
  counts = COUNTS,
  signer: TestIdentity = agent.wallet,
  over: Partial<VersionSignalsToSign> = {},
): Promise<MessageInitShape<typeof ReportSignalsRequestSchema>> {
  const r: VersionSignalsToSign = {
    inboxId: agent.wallet.inboxId,
    instanceId: agent.instanceId,
    templateId,
    version: "7",
    day: today(),
    counts,
    ...over,
  };
  const agentSignature = await signVersionSignals(signer.account, { ...r, inboxId: signer.inboxId });
  return { ...r, agentSignature };
}

async function code(p: Promise<unknown>): Promise<Code | undefined> {
  return p.then(
    () => undefined,
    (e: unknown) => ConnectError.from(e).code,
  );
}

/** The error's code and message, or undefined when it went through. */
async function refusal(p: Promise<unknown>): Promise<{ code: Code; message: string } | undefined> {
  return p.then(
    () => undefined,
    (e: unknown) => ({ code: ConnectError.from(e).code, message: ConnectError.from(e).rawMessage }),
  );
}

const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

async function stored(instanceId: string): Promise<Record<string, unknown>[]> {
  const c = new pg.Client({ connectionString: lineageDb });
  await c.connect();
  try {
    return (await c.query(`select * from version_signals where instance_id = $1`, [instanceId])).rows;
  } finally {
    await c.end();
  }
}

beforeAll(async () => {
  templates = await startTemplateService({
    databaseUrl: await createTestDatabase("signals_templates"),
    credentials: creds.templates,
  });
  lineageDb = await createTestDatabase("signals_lineage");
  service = await startLineageService({
    databaseUrl: lineageDb,
    credentials: creds.lineage,
    templatesUrl: templates.url,
  });
  feedSc = createServiceClient(LineageEventService, service.url, creds.claims);
  hostSc = createServiceClient(VersionSignalService, service.url, creds["instance-host"]);
  templatesSc = createServiceClient(TemplateService, templates.url, creds.gateway);
}, 60_000);

afterAll(async () => {
  for (const sc of [feedSc, hostSc, templatesSc]) sc?.close();
  await service?.close();
  await templates?.close();
});

describe("an agent's day of counts", () => {
  it("is stored when the agent signed it, and a second report of the same day replaces the first", async () => {
    const t = await signedTemplate(templatesSc.client, newIdentity(), sampleContent({ tools: [] }));
    const agent = await agentOf(t.id, newIdentity());
    expect(await hostSc.client.reportSignals(await report(agent, t.id))).toMatchObject({ replaced: false });
    const later = { ...COUNTS, answers: 20, thumbsUp: 4, stopRequests: 3 };
    expect(await hostSc.client.reportSignals(await report(agent, t.id, later))).toMatchObject({ replaced: true });
    const rows = await stored(agent.instanceId);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      template_id: t.id,
      version: "7",
      answers: 20,
      thumbs_up: 4,
      pauses: 1,
      stop_requests: 3,
    });
    // Counts only: the table has no place for a text, a member or a conversation.
    expect(Object.keys(rows[0]!).sort()).toEqual(
      [
        "instance_id",
        "day",
        "template_id",
        "version",
        "answers",
        "people",
        "thumbs_up",
        "thumbs_down",
        "corrections",
        "forget_requests",
        "approvals_asked",
        "approvals_declined",
        "tool_calls_failed",
        "pauses",
        "stop_requests",
        "persons",
        "reported_at",
      ].sort(),
    );
  });

  it("carries its day per person as the agent signed it: stored by pseudonym, and refused when a person was added, dropped or changed after signing", async () => {
    const t = await signedTemplate(templatesSc.client, newIdentity(), sampleContent({ tools: [] }));
    const agent = await agentOf(t.id, newIdentity());
    const persons = [
      { person: "a".repeat(64), answers: 6, thumbsDown: 2, corrections: 1, stopRequests: 0, toolCallsFailed: 0 },
      { person: "b".repeat(64), answers: 4, thumbsDown: 0, corrections: 0, stopRequests: 2, toolCallsFailed: 0 },
    ];
    const signed = await report(agent, t.id, COUNTS, agent.wallet, { persons });
    const c = hostSc.client;
    const changedOne = (x: Partial<(typeof persons)[number]>) => [persons[0]!, { ...persons[1]!, ...x }];
    for (const changed of [
      persons.slice(1),
      [],
      [{ ...persons[0]!, thumbsDown: 0 }, persons[1]!],
      changedOne({ stopRequests: 1 }),
    ])
      expect(
        await code(c.reportSignals({ ...signed, persons: changed.map((x) => create(PersonSignalCountsSchema, x)) })),
      ).toBe(Code.PermissionDenied);
    // Well formed, or named.
    const inbox = await report(agent, t.id, COUNTS, agent.wallet, {
      persons: [{ ...persons[0]!, person: "inbox-ana" }],
    });
    expect((await refusal(c.reportSignals(inbox)))?.message).toMatch(/^persons\[0\]\.person/);
    // Their stops, together, no more than the day's.
    const stops = await report(agent, t.id, COUNTS, agent.wallet, {
      persons: [{ ...persons[0]!, stopRequests: 1 }, persons[1]!],
    });
    expect((await refusal(c.reportSignals(stops)))?.message).toMatch(/^persons\[1\]\.stop_requests/);
    expect(await code(c.reportSignals(signed))).toBeUndefined();
    const [row] = await stored(agent.instanceId);
    expect(row?.persons).toEqual(persons);
  });

  it("is refused when signed by anyone but the agent, changed after signing, played again, or for an agent not live or not of that template", async () => {
    const t = await signedTemplate(templatesSc.client, newIdentity(), sampleContent({ tools: [] }));
    const other = await signedTemplate(templatesSc.client, newIdentity(), sampleContent({ tools: [] }));
    const owner = newIdentity();
    const agent = await agentOf(t.id, owner);
    const c = hostSc.client;
    // Another key, even its owner's, signing as itself or in the agent's name.
    expect(await code(c.reportSignals(await report(agent, t.id, COUNTS, owner)))).toBe(Code.PermissionDenied);
    const forged = await report(agent, t.id, COUNTS, owner);
    expect(await code(c.reportSignals({ ...forged, inboxId: agent.wallet.inboxId }))).toBe(Code.PermissionDenied);
    // Its host raising a count after the agent signed.
    const signed = await report(agent, t.id);
    expect(
      await code(c.reportSignals({ ...signed, counts: create(SignalCountsSchema, { ...COUNTS, thumbsUp: 99 }) })),
    ).toBe(Code.PermissionDenied);
    for (const changed of [{ pauses: 0 }, { stopRequests: 9 }])
      expect(
        await code(c.reportSignals({ ...signed, counts: create(SignalCountsSchema, { ...COUNTS, ...changed }) })),
      ).toBe(Code.PermissionDenied);
    // The same signed report twice: the second is a replay.
    expect(await code(c.reportSignals(signed))).toBeUndefined();
    expect(await code(c.reportSignals(signed))).toBe(Code.Unauthenticated);
    // Another template's name on it.
    expect(await code(c.reportSignals(await report(agent, other.id)))).toBe(Code.InvalidArgument);
    // An agent nobody claimed, and one that ended.
    const stranger = { instanceId: `inst_${randomBytes(8).toString("hex")}`, wallet: newIdentity() };
    expect(await code(c.reportSignals(await report(stranger, t.id)))).toBe(Code.NotFound);
    const gone = await agentOf(t.id, owner);
    await feedSc.client.recordLineageEvents({
      events: [
        create(LineageEventSchema, {
          sequence: ++sequence,
          at: timestampFromDate(new Date()),
          event: { case: "ended", value: { instanceId: gone.instanceId, reason: "removed by its owner" } },
        }),
      ],
    });
    expect(await code(c.reportSignals(await report(gone, t.id)))).toBe(Code.NotFound);
    // An agent whose inbox the feed never carried: nobody's signature can stand for it.
    const unknownInbox = await agentOf(t.id, owner, false);
    expect(await code(c.reportSignals(await report(unknownInbox, t.id)))).toBe(Code.PermissionDenied);
    // A day in the future, or not a day.
    expect(await code(c.reportSignals(await report(agent, t.id, COUNTS, agent.wallet, { day: "2999-01-01" })))).toBe(
      Code.InvalidArgument,
    );
    expect(await code(c.reportSignals(await report(agent, t.id, COUNTS, agent.wallet, { day: "2026-02-30" })))).toBe(
      Code.InvalidArgument,
    );
    expect(await stored(agent.instanceId)).toHaveLength(1);
    expect(await stored(unknownInbox.instanceId)).toHaveLength(0);
  });

  it("is the hosts' to send: a person through the gateway cannot", async () => {
    const t = await signedTemplate(templatesSc.client, newIdentity(), sampleContent({ tools: [] }));
    const agent = await agentOf(t.id, newIdentity());
    const asGateway = createServiceClient(VersionSignalService, service.url, creds.gateway);
    try {
      expect(await code(asGateway.client.reportSignals(await report(agent, t.id)))).toBe(Code.PermissionDenied);
    } finally {
      asGateway.close();
    }
  });
});

describe("what a creator reads", () => {
  it("per version and day: nothing below five agents, an owner once however many agents they hold, the creator's own apart; nobody else reads it", async () => {
    const creator = newIdentity();
    const [ana, bo, cy] = [newIdentity(), newIdentity(), newIdentity()];
    const t = await signedTemplate(templatesSc.client, creator, sampleContent({ tools: [] }));
    const reader = createServiceClient(VersionSignalInsightsService, service.url, creds.gateway);
    const as = (who: TestIdentity) => ({ headers: { [CALLER_HEADER]: who.inboxId } });
    const read = () => reader.client.getVersionSignals({ templateId: t.id }, as(creator));
    const send = async (owner: TestIdentity, answers: number) => {
      const agent = await agentOf(t.id, owner);
      await hostSc.client.reportSignals(await report(agent, t.id, { ...COUNTS, answers }));
    };
    try {
      await send(ana, 10);
      await send(ana, 30);
      await send(ana, 20);
      await send(bo, 5);
      await send(creator, 100);
      await send(creator, 100);
      const below = await read();
      expect(below.minConversations).toBe(5);
      expect(below.days).toMatchObject([{ version: "7", day: today(), agents: 4, owners: 2, shown: false }]);
      expect(below.days[0]?.figures).toBeUndefined();
      await send(cy, 1);
      const shown = await read();
      expect(shown.days).toMatchObject([{ agents: 5, owners: 3, shown: true }]);
      // Ana's three agents weigh as one of 20 answers.
      expect(shown.days[0]?.figures).toMatchObject({ answers: 20 + 5 + 1, people: 9, thumbsUp: 6, pinned: 0 });
      expect(shown.ownDays).toMatchObject([{ agents: 2, owners: 1, shown: false }]);
      expect(await code(reader.client.getVersionSignals({ templateId: t.id }, as(ana)))).toBe(Code.NotFound);
      expect(await code(reader.client.getVersionSignals({ templateId: t.id }))).toBe(Code.Unauthenticated);
    } finally {
      reader.close();
    }
  });

  it("nothing from five agents in one conversation: the threshold counts conversations, not agents", async () => {
    const creator = newIdentity();
    const t = await signedTemplate(templatesSc.client, creator, sampleContent({ tools: [] }));
    const reader = createServiceClient(VersionSignalInsightsService, service.url, creds.gateway);
    const read = () =>
      reader.client.getVersionSignals({ templateId: t.id }, { headers: { [CALLER_HEADER]: creator.inboxId } });
    const send = async (conversationId: string) => {
      const agent = await agentOf(t.id, newIdentity(), true, { conversationId });
      await hostSc.client.reportSignals(await report(agent, t.id));
    };
    try {
      for (let i = 0; i < 5; i++) await send("conv-shared");
      const one = await read();
      expect(one.days).toMatchObject([{ agents: 5, owners: 5, shown: false }]);
      expect(one.days[0]?.figures).toBeUndefined();
      for (let i = 0; i < 3; i++) await send(`conv-apart-${i}`);
      // Four conversations (eight agents): still nothing; a fifth shows the day.
      expect((await read()).days).toMatchObject([{ agents: 8, shown: false }]);
      await send("conv-apart-3");
      expect((await read()).days).toMatchObject([{ agents: 9, owners: 9, shown: true }]);
    } finally {
      reader.close();
    }
  });
});

describe("the version of a report, as the claims feed says", () => {
  it("refuses a version the agent never ran that day, naming `version`, and takes the old version's day after an update", async () => {
    const t = await signedTemplate(templatesSc.client, newIdentity(), sampleContent({ tools: [] }));
    const yesterday = dayOf(Date.now() - DAY);
    // Claimed on 6 yesterday morning, updated to 7 now.
    const agent = await agentOf(t.id, newIdentity(), true, {
      version: "6",
      at: new Date(`${yesterday}T08:00:00Z`),
    });
    await feed({ case: "versionChanged", value: { instanceId: agent.instanceId, version: "7", pinned: false } });
    const c = hostSc.client;
    const on = (version: string, day: string) => report(agent, t.id, COUNTS, agent.wallet, { version, day });
    // Yesterday's last report of 6, and today's of 6 (before the update) and of 7.
    expect(await refusal(c.reportSignals(await on("6", yesterday)))).toBeUndefined();
    expect(await refusal(c.reportSignals(await on("6", today())))).toBeUndefined();
    expect(await refusal(c.reportSignals(await on("7", today())))).toBeUndefined();
    // 7 was not out yesterday for it; 8 it never ran.
    for (const [version, day] of [
      ["7", yesterday],
      ["8", today()],
    ] as const) {
      const r = await refusal(c.reportSignals(await on(version, day)));
      expect(r?.code).toBe(Code.InvalidArgument);
      expect(r?.message).toMatch(/^version: /);
    }
    expect((await stored(agent.instanceId)).map((r) => r.version).sort()).toEqual(["6", "6", "7"]);
  });

  it("takes an agent at its word while its versions are unknown (claimed before the feed carried them)", async () => {
    const t = await signedTemplate(templatesSc.client, newIdentity(), sampleContent({ tools: [] }));
    const agent = await agentOf(t.id, newIdentity());
    const r = await report(agent, t.id, COUNTS, agent.wallet, { version: "8" });
    expect(await refusal(hostSc.client.reportSignals(r))).toBeUndefined();
  });

  it("shows the pin from the claims service's record: a share of owners whose agents were pinned that day", async () => {
    const creator = newIdentity();
    const t = await signedTemplate(templatesSc.client, creator, sampleContent({ tools: [] }));
    const agents: Agent[] = [];
    for (let i = 0; i < 5; i++) agents.push(await agentOf(t.id, newIdentity(), true, { version: "7" }));
    // Two owners pin theirs; one of them unpins it again (pinned for part of the day: counted).
    for (const a of agents.slice(0, 2))
      await feed({ case: "versionChanged", value: { instanceId: a.instanceId, version: "7", pinned: true } });
    await feed({ case: "versionChanged", value: { instanceId: agents[1]!.instanceId, version: "7", pinned: false } });
    for (const a of agents) await hostSc.client.reportSignals(await report(a, t.id));
    const reader = createServiceClient(VersionSignalInsightsService, service.url, creds.gateway);
    try {
      const view = await reader.client.getVersionSignals(
        { templateId: t.id },
        { headers: { [CALLER_HEADER]: creator.inboxId } },
      );
      expect(view.days).toMatchObject([{ version: "7", agents: 5, shown: true }]);
      expect(view.days[0]?.figures?.pinned).toBeCloseTo(2 / 5);
    } finally {
      reader.close();
    }
  });
});

describe("versions side by side", () => {
  it("per 100 answers over the days shown, nothing below five agents, an owner once, the creator's own apart; an owner of an agent reads only others', a stranger nothing", async () => {
    const creator = newIdentity();
    const owners = Array.from({ length: 6 }, () => newIdentity());
    const [ana, bo] = owners as [TestIdentity, TestIdentity];
    const t = await signedTemplate(templatesSc.client, creator, sampleContent({ tools: [] }));
    const reader = createServiceClient(VersionSignalInsightsService, service.url, creds.gateway);
    const as = (who: TestIdentity) => ({ headers: { [CALLER_HEADER]: who.inboxId } });
    const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    const send = async (owner: TestIdentity, version: string, day: string, counts: Partial<typeof COUNTS>) => {
      const agent = await agentOf(t.id, owner, true, { version, at: new Date(`${day}T00:00:00Z`) });
      await hostSc.client.reportSignals(
        await report(agent, t.id, { ...COUNTS, ...counts }, agent.wallet, { version, day }),
      );
    };
    const quiet = {
      people: 0,
      thumbsUp: 0,
      thumbsDown: 0,
      corrections: 0,
      approvalsAsked: 0,
      pauses: 0,
      stopRequests: 0,
    };
    try {
      // Version 6, yesterday: five owners' agents, 10 answers, 1 👎 and 1 stop each. Today: four agents, below the threshold.
      for (const o of owners.slice(0, 5))
        await send(o, "6", yesterday, { ...quiet, answers: 10, thumbsDown: 1, stopRequests: 1 });
      for (const o of owners.slice(0, 4)) await send(o, "6", today(), { ...quiet, answers: 10, thumbsDown: 9 });
      // Version 7, today: five owners, 20 answers and 2 👍 each; Ana adds three more agents that 👍 every answer.
      for (const o of owners.slice(1, 6)) await send(o, "7", today(), { ...quiet, answers: 20, thumbsUp: 2 });
      for (let i = 0; i < 3; i++) await send(ana, "7", today(), { ...quiet, answers: 20, thumbsUp: 20 });
      // The creator's own five agents of version 7 have every answer corrected: counted apart, the creator once.
      for (let i = 0; i < 5; i++) await send(creator, "7", today(), { ...quiet, answers: 10, corrections: 10 });

      const mine = await reader.client.compareVersions({ templateId: t.id }, as(creator));
      expect(mine.minConversations).toBe(5);
      expect(mine.versions.map((v) => v.version)).toEqual(["6", "7"]);
      const [v6, v7] = mine.versions;
      expect(v6).toMatchObject({ daysRan: 2, daysShown: 1, answers: 50 });
      expect(v6?.per100Answers).toMatchObject({
        answers: 100,
        thumbsDown: 10,
        thumbsUp: 0,
        stopRequests: 10,
        pauses: 0,
      });
      expect(v6?.days.map((d) => [d.day, d.shown, d.agents])).toEqual([
        [yesterday, true, 5],
        [today(), false, 4],
      ]);
      expect(v6?.days[1]?.per100Answers).toBeUndefined();
      // Ana's three agents of v7 weigh as one, and as twice the next owner and two at most: six owners,
      // 120 answers, 5 × 2 + 6 👍 (figures.ts capLargest). The creator's are not here.
      expect(v7).toMatchObject({ daysRan: 1, daysShown: 1, answers: 120 });
      expect(v7?.per100Answers?.thumbsUp).toBeCloseTo((16 / 120) * 100, 9);
      expect(v7?.per100Answers?.corrections).toBe(0);
      // What the pool recorded of their agents, by the version each was claimed on.
      const none = { removedWithin1Day: 0, removedWithin7Days: 0, clones: 0 };
      expect(v6?.lifecycle).toMatchObject({ claimed: 9, shown: true, ...none });
      expect(v7?.lifecycle).toMatchObject({ claimed: 8, shown: true, ...none });
      expect(mine.ownVersions.map((v) => v.lifecycle?.claimed)).toEqual([0, 5]);
      expect(mine.ownVersions.map((v) => [v.version, v.daysShown, v.answers])).toEqual([
        ["6", 0, 0],
        ["7", 1, 10],
      ]);
      expect(mine.ownVersions[1]?.per100Answers?.corrections).toBe(100);

      // Asked in another order, and one version alone.
      const asked = await reader.client.compareVersions({ templateId: t.id, versions: ["7", "6"] }, as(creator));
      expect(asked.versions.map((v) => v.version)).toEqual(["7", "6"]);
      const one = await reader.client.compareVersions(
        { templateId: t.id, versions: ["6"], fromDay: yesterday, toDay: yesterday },
        as(creator),
      );
      expect(one.versions.map((v) => [v.version, v.daysRan])).toEqual([["6", 1]]);

      // An owner of a live agent sees what everyone is shown, never the creator's own.
      const owner = await reader.client.compareVersions({ templateId: t.id }, as(bo));
      expect(owner.versions).toEqual(mine.versions);
      expect(owner.ownVersions).toEqual([]);

      expect(await code(reader.client.compareVersions({ templateId: t.id }, as(newIdentity())))).toBe(Code.NotFound);
      expect(await code(reader.client.compareVersions({ templateId: t.id }))).toBe(Code.Unauthenticated);
      const missing = "tmpl_AAAAAAAAAAAAAAAA";
      expect(await code(reader.client.compareVersions({ templateId: missing }, as(creator)))).toBe(Code.NotFound);
      for (const versions of [["1", "2", "3", "4", "5", "6", "7"], ["6", "6"], ["six 6"]]) {
        const err = await reader.client
          .compareVersions({ templateId: t.id, versions }, as(creator))
          .catch((e: unknown) => ConnectError.from(e));
        expect(err).toBeInstanceOf(ConnectError);
        expect((err as ConnectError).code).toBe(Code.InvalidArgument);
        expect((err as ConnectError).message).toContain("versions");
      }
      expect(await code(reader.client.compareVersions({ templateId: t.id, fromDay: "2026-13-01" }, as(creator)))).toBe(
        Code.InvalidArgument,
      );
    } finally {
      reader.close();
    }
  });

  it("is closed to an owner whose agents of the template all ended", async () => {
    const t = await signedTemplate(templatesSc.client, newIdentity(), sampleContent({ tools: [] }));
    const owner = newIdentity();
    const agent = await agentOf(t.id, owner);
    const reader = createServiceClient(VersionSignalInsightsService, service.url, creds.gateway);
    const read = () =>
      code(reader.client.compareVersions({ templateId: t.id }, { headers: { [CALLER_HEADER]: owner.inboxId } }));
    try {
      expect(await read()).toBeUndefined();
      await feedSc.client.recordLineageEvents({
        events: [
          create(LineageEventSchema, {
            sequence: ++sequence,
            at: timestampFromDate(new Date()),
            event: { case: "ended", value: { instanceId: agent.instanceId, reason: "removed by its owner" } },
          }),
        ],
      });
      expect(await read()).toBe(Code.NotFound);
    } finally {
      reader.close();
    }
  });
});

describe("what the pool records of a version's agents", () => {
  it("counts agents claimed on it, removals by their owner within a day and a week, and clones made while it ran; the creator's apart; only claims below five", async () => {
    const creator = newIdentity();
    const t = await signedTemplate(templatesSc.client, creator, sampleContent({ tools: [] }));
    const base = Date.now() - 10 * DAY;
    const o = Array.from({ length: 5 }, () => newIdentity());
    const on6 = await Promise.all(o.map((owner) => agentOf(t.id, owner, true, { version: "6", at: new Date(base) })));
    const [a0, a1, a2, a3] = on6 as [Agent, Agent, Agent, Agent, Agent];
    const ended = (a: Agent, reason: string, after: number) =>
      feed({ case: "ended", value: { instanceId: a.instanceId, reason } }, new Date(base + after));
    await ended(a0, "removed by its owner", 2 * HOUR);
    await ended(a1, "removed by its owner", 3 * DAY);
    // Lost by its host: not the version's doing.
    await ended(a2, "its host lost it", HOUR);
    // A clone of a3 while it ran 6, then a3 updated to 7 and cloned again.
    await agentOf(t.id, o[3]!, true, { version: "6", at: new Date(base + DAY), parentInstanceId: a3.instanceId });
    await feed(
      { case: "versionChanged", value: { instanceId: a3.instanceId, version: "7", pinned: false } },
      new Date(base + 2 * DAY),
    );
    await agentOf(t.id, o[3]!, true, { version: "7", at: new Date(base + 3 * DAY), parentInstanceId: a3.instanceId });
    // The creator's own, removed at once.
    const own = await agentOf(t.id, creator, true, { version: "6", at: new Date(base) });
    await ended(own, "removed by its owner", HOUR);

    const db = await openDatabase({ name: "lineage", url: lineageDb, entities, migrations });
    try {
      const l = await versionLifecycles(db.em.fork(), t.id, ["6", "7"], creator.inboxId);
      expect(l.versions).toEqual([
        { version: "6", claimed: 6, shown: true, removedWithin1Day: 1, removedWithin7Days: 2, clones: 1 },
        { version: "7", claimed: 1, shown: false, removedWithin1Day: 0, removedWithin7Days: 0, clones: 0 },
      ]);
      expect(l.ownVersions).toEqual([
        { version: "6", claimed: 1, shown: false, removedWithin1Day: 0, removedWithin7Days: 0, clones: 0 },
        { version: "7", claimed: 0, shown: false, removedWithin1Day: 0, removedWithin7Days: 0, clones: 0 },
      ]);
    } finally {
      await db.close();
    }
  });
});

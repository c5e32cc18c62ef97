// OwnerActivityService (docs/store.md, "Ratings"; docs/signals.md, "Days
// with others"): on how many days an owner's agent of a template answered
// two people besides its owner, over gRPC on real PostgreSQL with the real
// lineage and templates services. Agents arrive as the claims service's
// relay feeds them (claims and transfers, at the times given); their days
// reach lineage as their hosts carry them, signed by each agent's own
// wallet (a real key; inboxes derived from it, as the other lineage tests
// resolve them). The last test writes random days straight into the lineage
// database and holds the SQL to the pure rule (policy.ts).
import { randomBytes } from "node:crypto";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { fc } from "@fast-check/vitest";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LineageEventSchema, LineageEventService } from "@convos-pool/gen/convos/pool/v1/lineage_event_service_pb.js";
import { OwnerActivityService } from "@convos-pool/gen/convos/pool/v1/rating_service_pb.js";
import { VersionSignalService } from "@convos-pool/gen/convos/pool/v1/signal_service_pb.js";
import { TemplateService } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import { fieldViolations } from "@convos-pool/kit/content";
import { createServiceClient, generateServiceCredentials, type ServiceClient } from "@convos-pool/kit/server";
import { signVersionSignals, type VersionSignalsToSign } from "@convos-pool/kit/signing";
import { newIdentity, sampleContent, signedTemplate, type TestIdentity } from "@convos-pool/kit/testing";
import { createTestDatabase } from "@convos-pool/testing";
import { startTemplateService, type RunningTemplateService } from "@convos-pool/templates";
import { startLineageService, type RunningLineageService } from "../server.js";
import { ownerDaysAnsweringOthers, type CountedDay } from "./policy.js";

const creds = generateServiceCredentials();
let templates: RunningTemplateService;
let service: RunningLineageService;
let lineageDb: string;
let feedSc: ServiceClient<typeof LineageEventService>;
let hostSc: ServiceClient<typeof VersionSignalService>;
let activitySc: ServiceClient<typeof OwnerActivityService>;
let templatesSc: ServiceClient<typeof TemplateService>;
let sequence = 5_000n;

const DAY = 86_400_000;
/** The UTC day `n` days before today, YYYY-MM-DD. */
const daysAgo = (n: number) => new Date(Date.now() - n * DAY).toISOString().slice(0, 10);
/** A day's counts: three people spoke (its owner perhaps one), two answers: a day with others. */
const WITH_OTHERS = { people: 3, answers: 2 };
const ZERO = {
  thumbsUp: 0,
  thumbsDown: 0,
  corrections: 0,
  forgetRequests: 0,
  approvalsAsked: 0,
  approvalsDeclined: 0,
  toolCallsFailed: 0,
  pauses: 0,
  stopRequests: 0,
};

interface Agent {
  instanceId: string;
  wallet: TestIdentity;
}

async function feed(event: NonNullable<MessageInitShape<typeof LineageEventSchema>["event"]>, at: Date) {
  await feedSc.client.recordLineageEvents({
    events: [create(LineageEventSchema, { sequence: ++sequence, at: timestampFromDate(at), event })],
  });
}

/** An agent of `templateId` claimed by `owner` `claimedDaysAgo` days ago, as the claims relay announces it. */
async function claimed(templateId: string, owner: TestIdentity, claimedDaysAgo: number): Promise<Agent> {
  const agent = { instanceId: `inst_${randomBytes(8).toString("hex")}`, wallet: newIdentity() };
  await feed(
    {
      case: "claimed",
      value: {
        instanceId: agent.instanceId,
        templateId,
        ownerId: owner.inboxId,
        conversationId: `conv-${agent.instanceId}`,
        inboxId: agent.wallet.inboxId,
      },
    },
    new Date(Date.now() - claimedDaysAgo * DAY),
  );
  return agent;
}

/** The agent's day `n` days ago, signed by its own wallet and carried by its host. */
async function reported(agent: Agent, templateId: string, n: number, counts = WITH_OTHERS): Promise<void> {
  const r: VersionSignalsToSign = {
    inboxId: agent.wallet.inboxId,
    instanceId: agent.instanceId,
    templateId,
    version: "3",
    day: daysAgo(n),
    counts: { ...ZERO, ...counts },
  };
  await hostSc.client.reportSignals({ ...r, agentSignature: await signVersionSignals(agent.wallet.account, r) });
}

const days = async (templateId: string, owner: TestIdentity) =>
  (await activitySc.client.getOwnerActivity({ templateId, ownerId: owner.inboxId })).daysAnsweringOthers;

const aTemplate = async () =>
  (await signedTemplate(templatesSc.client, newIdentity(), sampleContent({ tools: [] }))).id;

beforeAll(async () => {
  templates = await startTemplateService({
    databaseUrl: await createTestDatabase("activity_templates"),
    credentials: creds.templates,
  });
  lineageDb = await createTestDatabase("activity_lineage");
  service = await startLineageService({
    databaseUrl: lineageDb,
    credentials: creds.lineage,
    templatesUrl: templates.url,
  });
  feedSc = createServiceClient(LineageEventService, service.url, creds.claims);
  hostSc = createServiceClient(VersionSignalService, service.url, creds["instance-host"]);
  activitySc = createServiceClient(OwnerActivityService, service.url, creds.templates);
  templatesSc = createServiceClient(TemplateService, templates.url, creds.gateway);
}, 60_000);

afterAll(async () => {
  for (const sc of [feedSc, hostSc, activitySc, templatesSc]) sc?.close();
  await service?.close();
  await templates?.close();
});

describe("an owner's days with others", () => {
  it("counts the signed days on which their agent answered at least two people besides them, and nothing else", async () => {
    const t = await aTemplate();
    const owner = newIdentity();
    expect(await days(t, owner)).toBe(0);
    const agent = await claimed(t, owner, 6);
    // Its owner and one other spoke (two people), however many answers; three people but one answer.
    await reported(agent, t, 5, { people: 2, answers: 30 });
    await reported(agent, t, 4, { people: 12, answers: 1 });
    expect(await days(t, owner)).toBe(0);
    await reported(agent, t, 3);
    await reported(agent, t, 2, { people: 5, answers: 9 });
    expect(await days(t, owner)).toBe(2);
    // A later report of a day replaces it: the day it spoke with one person only no longer counts.
    await reported(agent, t, 2, { people: 1, answers: 9 });
    expect(await days(t, owner)).toBe(1);
    await reported(agent, t, 1);
    await reported(agent, t, 0);
    expect(await days(t, owner)).toBe(3);
    // Another template, or another owner, has none of them.
    expect(await days(await aTemplate(), owner)).toBe(0);
    expect(await days(t, newIdentity())).toBe(0);
  });

  it("takes the most of one agent: two agents, each used on two days, are two days, not four", async () => {
    const t = await aTemplate();
    const owner = newIdentity();
    const [a, b] = [await claimed(t, owner, 6), await claimed(t, owner, 6)];
    for (const n of [5, 3]) await reported(a, t, n);
    for (const n of [4, 2]) await reported(b, t, n);
    expect(await days(t, owner)).toBe(2);
  });

  it("gives a new owner only the days after the transfer, and the giver nothing of an agent no longer theirs", async () => {
    const t = await aTemplate();
    const [giver, taker] = [newIdentity(), newIdentity()];
    const agent = await claimed(t, giver, 7);
    for (const n of [6, 5, 4, 3, 2, 1]) await reported(agent, t, n);
    expect(await days(t, giver)).toBe(6);
    // Handed over three days ago: that day is the giver's; two and one days ago are the taker's.
    await feed(
      { case: "ownerChanged", value: { instanceId: agent.instanceId, ownerId: taker.inboxId } },
      new Date(Date.now() - 3 * DAY),
    );
    expect(await days(t, taker)).toBe(2);
    expect(await days(t, giver)).toBe(0);
    // The same owner again (an update that changed no owner) moves nothing.
    await feed({ case: "ownerChanged", value: { instanceId: agent.instanceId, ownerId: taker.inboxId } }, new Date());
    expect(await days(t, taker)).toBe(2);
  });

  it("answers only the templates service, and names a malformed field", async () => {
    const t = await aTemplate();
    for (const who of ["gateway", "claims", "instance-host"] as const) {
      const sc = createServiceClient(OwnerActivityService, service.url, creds[who]);
      try {
        const err = await sc.client.getOwnerActivity({ templateId: t, ownerId: newIdentity().inboxId }).then(
          () => undefined,
          (e: unknown) => ConnectError.from(e),
        );
        expect(err?.code, who).toBe(Code.PermissionDenied);
      } finally {
        sc.close();
      }
    }
    const refused = async (req: { templateId: string; ownerId: string }) =>
      fieldViolations(
        await activitySc.client.getOwnerActivity(req).then(
          () => undefined,
          (e: unknown) => e,
        ),
      ).map((v) => v.field);
    expect(await refused({ templateId: "nope", ownerId: newIdentity().inboxId })).toEqual(["template_id"]);
    expect(await refused({ templateId: t, ownerId: "nope" })).toEqual(["owner_id"]);
  });
});

describe("the SQL and the pure rule", () => {
  it("answer alike for any agents, transfers and rows of counts", async () => {
    const t = await aTemplate();
    const db = new pg.Client({ connectionString: lineageDb });
    await db.connect();
    const row = fc.record({
      n: fc.integer({ min: 0, max: 9 }),
      version: fc.constantFrom("1", "2"),
      people: fc.nat({ max: 5 }),
      answers: fc.nat({ max: 4 }),
    });
    const agentArb = fc.record({
      claimedDaysAgo: fc.integer({ min: 0, max: 10 }),
      /** Handed to the owner this many days ago (not after its claim), or claimed by them. */
      transferredDaysAgo: fc.option(fc.integer({ min: 0, max: 10 }), { nil: undefined }),
      rows: fc.array(row, { maxLength: 12 }),
    });
    try {
      await fc.assert(
        fc.asyncProperty(fc.array(agentArb, { maxLength: 3 }), async (agents) => {
          const owner = newIdentity();
          const expected: { ownerFromDay: string; rows: CountedDay[] }[] = [];
          for (const a of agents) {
            const claimer = a.transferredDaysAgo === undefined ? owner : newIdentity();
            const agent = await claimed(t, claimer, a.claimedDaysAgo);
            let ownerFromDay = daysAgo(a.claimedDaysAgo);
            if (a.transferredDaysAgo !== undefined) {
              const at = Math.min(a.transferredDaysAgo, a.claimedDaysAgo);
              await feed(
                { case: "ownerChanged", value: { instanceId: agent.instanceId, ownerId: owner.inboxId } },
                new Date(Date.now() - at * DAY),
              );
              ownerFromDay = daysAgo(at - 1);
            }
            // One row per day and version, as the table keeps them (a later report replaces one).
            const kept = new Map<string, CountedDay & { version: string }>();
            for (const r of a.rows)
              kept.set(`${r.n}/${r.version}`, {
                day: daysAgo(r.n),
                version: r.version,
                people: r.people,
                answers: r.answers,
              });
            for (const r of kept.values())
              await db.query(
                `insert into version_signals (instance_id, day, template_id, version, answers, people, thumbs_up, thumbs_down,
                   corrections, forget_requests, approvals_asked, approvals_declined, tool_calls_failed)
                 values ($1, $2::date, $3, $4, $5, $6, 0, 0, 0, 0, 0, 0, 0)`,
                [agent.instanceId, r.day, t, r.version, r.answers, r.people],
              );
            expected.push({ ownerFromDay, rows: [...kept.values()] });
          }
          expect(await days(t, owner)).toBe(ownerDaysAnsweringOthers(expected));
        }),
        { numRuns: 25 },
      );
    } finally {
      await db.end();
    }
  });
});

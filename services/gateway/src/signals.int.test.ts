// A creator's read of each version's days through the gateway
// (docs/signals.md): VersionSignalInsightsService on the Connect face,
// forwarded to the real lineage service with the caller's session, over
// real PostgreSQL and the real templates service. Agents arrive through the
// lineage feed, and their counts from an instance host's credential, each
// signed by the agent's own key, as in production.
import { randomBytes } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { afterAll, beforeAll, expect, it } from "vitest";
import { LineageEventSchema, LineageEventService } from "@convos-pool/gen/convos/pool/v1/lineage_event_service_pb.js";
import {
  VersionSignalInsightsService,
  VersionSignalService,
} from "@convos-pool/gen/convos/pool/v1/signal_service_pb.js";
import { TemplateService } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import {
  NO_LIMITS,
  createLogger,
  createServiceClient,
  generateServiceCredentials,
  type ServiceClient,
} from "@convos-pool/kit/server";
import { signVersionSignals } from "@convos-pool/kit/signing";
import { createTestDatabase } from "@convos-pool/testing";
import { newIdentity, sampleContent, signedTemplate } from "@convos-pool/kit/testing";
import { startLineageService, type RunningLineageService } from "@convos-pool/lineage";
import { startTemplateService, type RunningTemplateService } from "@convos-pool/templates";
import { startGateway, type RunningGateway } from "./server.js";
import { restCall, restSession } from "../test/rest.js";

const CREDS = generateServiceCredentials();
const quiet = (name: string) => createLogger(name, { level: "silent" });
let templates: RunningTemplateService;
let lineage: RunningLineageService;
let gateway: RunningGateway;
let templatesSc: ServiceClient<typeof TemplateService>;
let feedSc: ServiceClient<typeof LineageEventService>;
let hostSc: ServiceClient<typeof VersionSignalService>;

beforeAll(async () => {
  templates = await startTemplateService({
    databaseUrl: await createTestDatabase("gws_templates"),
    credentials: CREDS.templates,
    log: quiet("templates"),
  });
  lineage = await startLineageService({
    databaseUrl: await createTestDatabase("gws_lineage"),
    credentials: CREDS.lineage,
    templatesUrl: templates.url,
    log: quiet("lineage"),
  });
  gateway = await startGateway({
    templatesUrl: templates.url,
    lineageUrl: lineage.url,
    credentials: CREDS.gateway,
    limits: NO_LIMITS,
    databaseUrl: await createTestDatabase("gws_gateway"),
    log: quiet("gateway"),
  });
  templatesSc = createServiceClient(TemplateService, templates.url, CREDS.gateway);
  feedSc = createServiceClient(LineageEventService, lineage.url, CREDS.claims);
  hostSc = createServiceClient(VersionSignalService, lineage.url, CREDS["instance-host"]);
}, 60_000);

afterAll(async () => {
  for (const sc of [templatesSc, feedSc, hostSc]) sc?.close();
  await gateway?.close();
  await lineage?.close();
  await templates?.close();
});

it("gives a template's creator, signed in, each version's days; anyone else is told it does not exist, and nobody can report through it", async () => {
  const creator = newIdentity();
  const t = await signedTemplate(templatesSc.client, creator, sampleContent({ tools: [] }));
  const day = new Date().toISOString().slice(0, 10);
  for (let i = 0; i < 5; i++) {
    const wallet = newIdentity();
    const instanceId = `inst_${randomBytes(8).toString("hex")}`;
    await feedSc.client.recordLineageEvents({
      events: [
        create(LineageEventSchema, {
          sequence: BigInt(i + 1),
          at: timestampFromDate(new Date()),
          event: {
            case: "claimed",
            value: { instanceId, templateId: t.id, ownerId: newIdentity().inboxId, inboxId: wallet.inboxId },
          },
        }),
      ],
    });
    const report = {
      inboxId: wallet.inboxId,
      instanceId,
      templateId: t.id,
      version: "3",
      day,
      counts: {
        answers: 4,
        people: 2,
        thumbsUp: 1,
        thumbsDown: 0,
        corrections: 0,
        forgetRequests: 0,
        approvalsAsked: 0,
        approvalsDeclined: 0,
        toolCallsFailed: 1,
        pauses: 0,
        stopRequests: 0,
      },
    };
    await hostSc.client.reportSignals({ ...report, agentSignature: await signVersionSignals(wallet.account, report) });
  }
  const transport = createConnectTransport({ baseUrl: gateway.url });
  const rpc = createClient(VersionSignalInsightsService, transport);
  const as = async (who: ReturnType<typeof newIdentity>) => ({
    headers: { authorization: `Bearer ${await restSession(gateway.url, who)}` },
  });
  const read = await rpc.getVersionSignals({ templateId: t.id }, await as(creator));
  expect(read.minConversations).toBe(5);
  expect(read.days).toMatchObject([
    { version: "3", day, agents: 5, owners: 5, shown: true, figures: { answers: 20, toolCallsFailed: 5 } },
  ]);
  const code = (p: Promise<unknown>) =>
    p.then(
      () => undefined,
      (e: unknown) => ConnectError.from(e).code,
    );
  expect(await code(rpc.getVersionSignals({ templateId: t.id }, await as(newIdentity())))).toBe(Code.NotFound);
  expect(await code(rpc.getVersionSignals({ templateId: t.id }))).toBe(Code.Unauthenticated);
  // The report call is the hosts': the gateway has no route to it (no such path).
  const reporter = createClient(VersionSignalService, transport);
  expect(await code(reporter.reportSignals({ instanceId: "inst_0000000000000000" }))).toBe(Code.NotFound);
});

let sequence = 100n;
/** A live agent of `templateId` owned by `ownerId`, reporting `answers` answers and one 👍 for `version` today. */
async function reportingAgent(templateId: string, ownerId: string, version: string, answers: number): Promise<void> {
  const wallet = newIdentity();
  const instanceId = `inst_${randomBytes(8).toString("hex")}`;
  await feedSc.client.recordLineageEvents({
    events: [
      create(LineageEventSchema, {
        sequence: ++sequence,
        at: timestampFromDate(new Date()),
        event: { case: "claimed", value: { instanceId, templateId, ownerId, inboxId: wallet.inboxId, version } },
      }),
    ],
  });
  const report = {
    inboxId: wallet.inboxId,
    instanceId,
    templateId,
    version,
    day: new Date().toISOString().slice(0, 10),
    counts: {
      answers,
      people: 1,
      thumbsUp: 1,
      thumbsDown: 0,
      corrections: 0,
      forgetRequests: 0,
      approvalsAsked: 0,
      approvalsDeclined: 0,
      toolCallsFailed: 0,
      pauses: 0,
      stopRequests: 0,
    },
  };
  await hostSc.client.reportSignals({ ...report, agentSignature: await signVersionSignals(wallet.account, report) });
}

it("compares versions over REST (GET /api/pool/templates/{id}/signals): the creator with their own agents apart, an owner without them, anyone else 404", async () => {
  const creator = newIdentity();
  const owner = newIdentity();
  const t = await signedTemplate(templatesSc.client, creator, sampleContent({ tools: [] }));
  for (let i = 0; i < 5; i++) await reportingAgent(t.id, i === 0 ? owner.inboxId : newIdentity().inboxId, "3", 10);
  for (let i = 0; i < 2; i++) await reportingAgent(t.id, newIdentity().inboxId, "4", 10);
  await reportingAgent(t.id, creator.inboxId, "4", 10);
  const path = `/api/pool/templates/${t.id}/signals`;
  const mine = await restCall(gateway.url, "GET", `${path}?versions=3,4`, {
    token: await restSession(gateway.url, creator),
  });
  expect(mine.status).toBe(200);
  expect(mine.json.min_conversations).toBe(5);
  expect(mine.json.versions).toMatchObject([
    {
      version: "3",
      days_ran: 1,
      days_shown: 1,
      answers: 50,
      per_100_answers: { thumbs_up: 10 },
      lifecycle: { claimed: 5, shown: true, removed_within_1_day: 0, removed_within_7_days: 0, clones: 0 },
    },
    {
      version: "4",
      days_ran: 1,
      days_shown: 0,
      answers: 0,
      per_100_answers: null,
      lifecycle: { claimed: 2, shown: false },
    },
  ]);
  expect(mine.json.versions[1].days).toMatchObject([{ agents: 2, owners: 2, shown: false, per_100_answers: null }]);
  expect(mine.json.own_versions).toMatchObject([
    { version: "3", days_ran: 0 },
    { version: "4", days_ran: 1, days_shown: 0 },
  ]);
  const theirs = await restCall(gateway.url, "GET", path, { token: await restSession(gateway.url, owner) });
  expect(theirs.status).toBe(200);
  expect(theirs.json.versions.map((v: { version: string }) => v.version)).toEqual(["3", "4"]);
  expect(theirs.json.own_versions).toEqual([]);
  const stranger = await restCall(gateway.url, "GET", path, { token: await restSession(gateway.url, newIdentity()) });
  expect(stranger.status).toBe(404);
  expect((await restCall(gateway.url, "GET", path)).status).toBe(401);
  const bad = await restCall(gateway.url, "GET", `${path}?versions=3,3`, {
    token: await restSession(gateway.url, creator),
  });
  expect([bad.status, bad.json.error.field]).toEqual([400, "versions"]);
  const unknown = await restCall(gateway.url, "GET", `${path}?version=3`, {
    token: await restSession(gateway.url, creator),
  });
  expect([unknown.status, unknown.json.error.field]).toEqual([400, "version"]);
});

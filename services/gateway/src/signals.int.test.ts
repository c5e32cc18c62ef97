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
  signVersionSignals,
  type ServiceClient,
} from "@convos-pool/kit";
import { createTestDatabase } from "@convos-pool/testing";
import { newIdentity, sampleContent, signedTemplate } from "@convos-pool/kit/testing";
import { startLineageService, type RunningLineageService } from "@convos-pool/lineage";
import { startTemplateService, type RunningTemplateService } from "@convos-pool/templates";
import { startGateway, type RunningGateway } from "./server.js";
import { restSession } from "../test/rest.js";

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

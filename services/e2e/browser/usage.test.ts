// The creator's dashboard draws its template's usage over time, in a real
// browser (Debian's chromium, driven by playwright-core) against the real
// gateway serving the built app, with the templates, claims and lineage
// services behind it on PostgreSQL. Agents arrive through the lineage feed
// with their claim and end times, as the claims service's relay sends them
// (the claims service's instance host is its tests' stand-in: no agent is
// claimed here). The chart's figures are read from the table behind it.
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { chromium, type Browser } from "playwright-core";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, expect, it } from "vitest";
import { LineageEventSchema, LineageEventService } from "@convos-pool/gen/convos/pool/v1/lineage_event_service_pb.js";
import { TemplateService } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import {
  NO_LIMITS,
  createLogger,
  createServiceClient,
  generateServiceCredentials,
  type ServiceClient,
} from "@convos-pool/kit/server";
import { deriveInboxId } from "@convos-pool/kit/signing";
import { createTestDatabase } from "@convos-pool/testing";
import { newIdentity, sampleContent, signedTemplate } from "@convos-pool/kit/testing";
import { OPEN_BUDGET, SecretBox, startClaimsService, type RunningClaimsService } from "@convos-pool/claims";
import { StandInHost } from "@convos-pool/claims/testing/stand-in-host";
import { startGateway, type RunningGateway } from "@convos-pool/gateway";
import { startLineageService, type RunningLineageService } from "@convos-pool/lineage";
import { startTemplateService, type RunningTemplateService } from "@convos-pool/templates";
import { ensureWebBuild } from "@convos-pool/web";
import { DESKTOP, SHOTS, shoot } from "./pages.js";

const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
const CREDS = generateServiceCredentials();
const quiet = (name: string) => createLogger(name, { level: "silent" });
const DAY_MS = 86_400_000;

let dir: string;
let templates: RunningTemplateService;
let host: StandInHost;
let lineage: RunningLineageService;
let claims: RunningClaimsService;
let gateway: RunningGateway;
let browser: Browser;
let templatesSc: ServiceClient<typeof TemplateService>;
let feedSc: ServiceClient<typeof LineageEventService>;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`no browser at ${CHROMIUM}: install Debian's chromium or set CHROMIUM`);
  dir = await mkdtemp(join(tmpdir(), "pool-web-usage-"));
  await mkdir(SHOTS, { recursive: true });
  const webDir = await ensureWebBuild();
  templates = await startTemplateService({
    databaseUrl: await createTestDatabase("webu_templates"),
    credentials: CREDS.templates,
    log: quiet("templates"),
  });
  host = await StandInHost.start(CREDS["instance-host"]);
  lineage = await startLineageService({
    databaseUrl: await createTestDatabase("webu_lineage"),
    credentials: CREDS.lineage,
    templatesUrl: templates.url,
    log: quiet("lineage"),
  });
  claims = await startClaimsService({
    budget: OPEN_BUDGET,
    databaseUrl: await createTestDatabase("webu_claims"),
    credentials: CREDS.claims,
    templatesUrl: templates.url,
    secretsKey: SecretBox.generateKey(),
    dataDir: join(dir, "claims"),
    lineageUrl: lineage.url,
    pool: { hostUrls: [host.url], target: 0, intervalMs: 3_600_000 },
    limits: NO_LIMITS,
    log: quiet("claims"),
  });
  gateway = await startGateway({
    templatesUrl: templates.url,
    claimsUrl: claims.url,
    lineageUrl: lineage.url,
    credentials: CREDS.gateway,
    limits: NO_LIMITS,
    webDir,
    databaseUrl: await createTestDatabase("webu_gateway"),
    log: quiet("gateway"),
  });
  templatesSc = createServiceClient(TemplateService, templates.url, CREDS.gateway);
  feedSc = createServiceClient(LineageEventService, lineage.url, CREDS.claims);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-sync"],
  });
}, 240_000);

afterAll(async () => {
  await browser?.close();
  for (const sc of [templatesSc, feedSc]) sc?.close();
  await gateway?.close();
  await claims?.close();
  await lineage?.close();
  await host?.kill();
  await templates?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
}, 60_000);

let sequence = 1_000_000n;
const event = (daysAgo: number, e: NonNullable<MessageInitShape<typeof LineageEventSchema>["event"]>) =>
  create(LineageEventSchema, {
    sequence: ++sequence,
    at: timestampFromDate(new Date(Date.now() - daysAgo * DAY_MS)),
    event: e,
  });
const claimedAgo = (instanceId: string, templateId: string, daysAgo: number) =>
  event(daysAgo, { case: "claimed", value: { instanceId, templateId, ownerId: newIdentity().inboxId } });

it("draws the creator's claims and active agents per day on the dashboard, with the figures in the table behind the chart", {
  timeout: 120_000,
}, async () => {
  const privateKey = generatePrivateKey();
  const account = privateKeyToAccount(privateKey);
  const creator = { account, inboxId: deriveInboxId(account.address) };
  const t = await signedTemplate(templatesSc.client, creator, sampleContent({ tools: [] }));
  const inst = () => `inst_${randomBytes(8).toString("hex")}`;
  const [a, b, c] = [inst(), inst(), inst()];
  // a: claimed 3 days ago, ended 2 days ago; b: claimed yesterday; c: claimed today.
  await feedSc.client.recordLineageEvents({
    events: [claimedAgo(a, t.id, 3), claimedAgo(b, t.id, 1), claimedAgo(c, t.id, 0)],
  });
  await feedSc.client.recordLineageEvents({
    events: [event(2, { case: "ended", value: { instanceId: a, reason: "removed by its owner" } })],
  });
  const dayAgo = (n: number) => new Date(Date.now() - n * DAY_MS).toISOString().slice(0, 10);

  const context = await browser.newContext({ baseURL: gateway.url, viewport: DESKTOP });
  context.setDefaultTimeout(20_000);
  await context.addInitScript(
    (file) => {
      if (!localStorage.getItem("convos-pool/key")) localStorage.setItem("convos-pool/key", file);
    },
    JSON.stringify({ address: account.address, private_key: privateKey, created_at: new Date().toISOString() }),
  );
  const page = await context.newPage();
  try {
    await page.goto("/signin");
    await page.getByRole("button", { name: "Sign in with it" }).click();
    await page.getByRole("heading", { level: 1, name: "Signed in" }).waitFor();

    await page.goto(`/studio/${t.id}/dashboard`);
    const usage = page.getByRole("region", { name: "Usage over time" });
    await usage.waitFor();
    expect(await usage.locator(".chart-summary").textContent()).toBe(
      "3 claims in the last 30 days; 2 agents active today, at most 2 on one day.",
    );
    // The drawing is for eyes; its numbers are in the table behind it.
    await expect.poll(() => usage.locator(".chart-plot canvas").count()).toBe(1);
    const table = usage.getByRole("table", { name: "Claims and active agents, agents, by day" });
    const rows = await table.getByRole("row").allInnerTexts();
    expect(rows).toHaveLength(31);
    expect(rows[0]).toBe("Day\tClaims\tActive agents");
    expect(rows.slice(-4)).toEqual([
      `${dayAgo(3)}\t1\t1`,
      `${dayAgo(2)}\t0\t1`,
      `${dayAgo(1)}\t1\t1`,
      `${dayAgo(0)}\t1\t2`,
    ]);
    await usage.getByRole("button", { name: "Show as table" }).click();
    await table.waitFor({ state: "visible" });
    await shoot(page, "dashboard-usage");
  } finally {
    await context.close();
  }
});

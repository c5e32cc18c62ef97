// The studio's test chat and the dashboard's usage over time, in a real
// browser (Debian's Chromium headless shell, driven by playwright-core) against the real
// gateway serving the built app, with the templates, claims and lineage
// services behind it on PostgreSQL and a real instance host with the offline
// model (as `npm start` without a model key; no agent is claimed here, so it
// needs no XMTP node). The test chat answers as the draft, unsaved. Agents
// arrive through the lineage feed with their claim and end times, as the
// claims service's relay sends them; the chart's figures are read from the
// table behind it.
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { Browser } from "playwright-core";
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
import { startGateway, type RunningGateway } from "@convos-pool/gateway";
import { startInstanceHost, type RunningInstanceHost } from "@convos-pool/instance";
import { startLineageService, type RunningLineageService } from "@convos-pool/lineage";
import { startTemplateService, type RunningTemplateService } from "@convos-pool/templates";
import { ensureWebBuild } from "@convos-pool/web";
import { DESKTOP, SHOTS, shoot, launchBrowser } from "./pages.js";

const CREDS = generateServiceCredentials();
const quiet = (name: string) => createLogger(name, { level: "silent" });
const DAY_MS = 86_400_000;

let dir: string;
let templates: RunningTemplateService;
let host: RunningInstanceHost;
let lineage: RunningLineageService;
let claims: RunningClaimsService;
let gateway: RunningGateway;
let browser: Browser;
let templatesSc: ServiceClient<typeof TemplateService>;
let feedSc: ServiceClient<typeof LineageEventService>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "pool-web-studio-"));
  await mkdir(SHOTS, { recursive: true });
  const webDir = await ensureWebBuild();
  templates = await startTemplateService({
    databaseUrl: await createTestDatabase("webs_templates"),
    credentials: CREDS.templates,
    log: quiet("templates"),
  });
  host = await startInstanceHost({
    xmtpApiUrl: "http://127.0.0.1:9",
    masterSeed: randomBytes(32).toString("hex"),
    dataDir: join(dir, "host"),
    credentials: CREDS["instance-host"],
    log: quiet("instance-host"),
  });
  lineage = await startLineageService({
    databaseUrl: await createTestDatabase("webs_lineage"),
    credentials: CREDS.lineage,
    templatesUrl: templates.url,
    log: quiet("lineage"),
  });
  claims = await startClaimsService({
    budget: OPEN_BUDGET,
    databaseUrl: await createTestDatabase("webs_claims"),
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
    databaseUrl: await createTestDatabase("webs_gateway"),
    log: quiet("gateway"),
  });
  templatesSc = createServiceClient(TemplateService, templates.url, CREDS.gateway);
  feedSc = createServiceClient(LineageEventService, lineage.url, CREDS.claims);
  browser = await launchBrowser();
}, 240_000);

afterAll(async () => {
  await browser?.close();
  for (const sc of [templatesSc, feedSc]) sc?.close();
  await gateway?.close();
  await claims?.close();
  await lineage?.close();
  await host?.close();
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

/** A browser signed in as a new creator, with the key kept as the sign-in page keeps one. */
async function signedIn() {
  const privateKey = generatePrivateKey();
  const account = privateKeyToAccount(privateKey);
  const creator = { account, inboxId: deriveInboxId(account.address) };
  const context = await browser.newContext({ baseURL: gateway.url, viewport: DESKTOP });
  context.setDefaultTimeout(20_000);
  await context.addInitScript(
    (file) => {
      if (!localStorage.getItem("convos-pool/key")) localStorage.setItem("convos-pool/key", file);
    },
    JSON.stringify({ address: account.address, private_key: privateKey, created_at: new Date().toISOString() }),
  );
  const page = await context.newPage();
  await page.goto("/signin");
  await page.getByRole("button", { name: "Sign in with it" }).click();
  await page.getByRole("heading", { level: 1, name: "Signed in" }).waitFor();
  return { creator, context, page };
}

it("answers the creator in the test chat beside the editor as the draft stands, unsaved, and shows a tool call without running it", {
  timeout: 120_000,
}, async () => {
  const { creator, context, page } = await signedIn();
  const t = await signedTemplate(templatesSc.client, creator, sampleContent({}), "private");
  try {
    await page.goto(`/studio/${t.id}`);
    // Edited, not saved: the draft answers under its new name.
    await page.getByLabel("Agent name").fill("Kyoto Guide");
    const chat = page.getByRole("region", { name: "Test chat" });
    // Beside the editor on a desktop: to the right of the form, level with its top.
    const form = (await page.locator(".editor-split > form").boundingBox())!;
    const beside = (await chat.boundingBox())!;
    expect(beside.x).toBeGreaterThanOrEqual(form.x + form.width);
    expect(Math.abs(beside.y - form.y)).toBeLessThan(8);
    await chat.getByLabel("Your message to the draft").fill("Hello there");
    await chat.getByRole("button", { name: "Send" }).click();
    const answers = chat.getByTestId("draft-line");
    await expect.poll(() => answers.count(), { timeout: 15_000 }).toBe(1);
    expect(await answers.first().textContent()).toBe(
      'Kyoto Guide: [offline model] Kyoto Guide here. I read: "Hello there". No language model is configured, so this is an offline stand-in answer.',
    );
    await chat.getByLabel("Your message to the draft").fill("text +15550100001: boarding at 9");
    await chat.getByRole("button", { name: "Send" }).click();
    await expect.poll(() => answers.count(), { timeout: 15_000 }).toBe(2);
    expect(await chat.getByTestId("would-call").textContent()).toBe(
      'Would call send_sms with {"to":"+15550100001","text":"boarding at 9"} (not run in a test chat)',
    );
    expect(await chat.getByTestId("your-line").allTextContents()).toEqual([
      "You: Hello there",
      "You: text +15550100001: boarding at 9",
    ]);
    await shoot(page, "editor-test-chat");
    // Nothing was saved: the template is as it was.
    const now = (
      await templatesSc.client.getTemplate({ templateId: t.id }, { headers: { "x-pool-caller": creator.inboxId } })
    ).template!;
    expect([now.version, now.content?.agentName]).toEqual([t.version, t.content?.agentName]);
    await chat.getByRole("button", { name: "Start over" }).click();
    await expect.poll(() => chat.getByTestId("test-chat-lines").locator("li").count()).toBe(0);
  } finally {
    await context.close();
  }
});

it("draws the creator's claims and active agents per day on the dashboard, with the figures in the table behind the chart", {
  timeout: 120_000,
}, async () => {
  const { creator, context, page } = await signedIn();
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

  try {
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

// The creator's comparison of two versions (docs/web.md, "Compare
// versions") in a real browser (Debian's chromium, driven by
// playwright-core) against the real gateway serving the built app, with the
// templates and lineage services behind it on PostgreSQL. Agents arrive
// through the lineage feed, as the claims service announces them, and their
// counts from an instance host's credential, each day signed by the agent's
// own key, as in production. The creator reads the figures per 100 answers
// side by side, their own agents apart and below the threshold, the charts'
// tables, the release notes and the diff, and rolls back in one signed step.
import { randomBytes } from "node:crypto";
import { mkdir } from "node:fs/promises";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { Browser, Page } from "playwright-core";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, expect, it } from "vitest";
import { LineageEventSchema, LineageEventService } from "@convos-pool/gen/convos/pool/v1/lineage_event_service_pb.js";
import { VersionSignalService } from "@convos-pool/gen/convos/pool/v1/signal_service_pb.js";
import { TemplateService } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import {
  NO_LIMITS,
  createLogger,
  createServiceClient,
  generateServiceCredentials,
  type ServiceClient,
} from "@convos-pool/kit/server";
import { contentFromJson, contentToJson, jsonHash } from "@convos-pool/kit/content";
import { deriveInboxId, signOperation, signVersionSignals } from "@convos-pool/kit/signing";
import { createTestDatabase } from "@convos-pool/testing";
import { newIdentity, sampleContent, signedTemplate } from "@convos-pool/kit/testing";
import { startGateway, type RunningGateway } from "@convos-pool/gateway";
import { startLineageService, type RunningLineageService } from "@convos-pool/lineage";
import { startTemplateService, type RunningTemplateService } from "@convos-pool/templates";
import { ensureWebBuild } from "@convos-pool/web";
import { PHONE, SHOTS, shoot, launchBrowser } from "./pages.js";

const CREDS = generateServiceCredentials();
const quiet = (name: string) => createLogger(name, { level: "silent" });

let templates: RunningTemplateService;
let lineage: RunningLineageService;
let gateway: RunningGateway;
let browser: Browser;
let templatesSc: ServiceClient<typeof TemplateService>;
let feedSc: ServiceClient<typeof LineageEventService>;
let hostSc: ServiceClient<typeof VersionSignalService>;

beforeAll(async () => {
  await mkdir(SHOTS, { recursive: true });
  const webDir = await ensureWebBuild();
  templates = await startTemplateService({
    databaseUrl: await createTestDatabase("webc_templates"),
    credentials: CREDS.templates,
    log: quiet("templates"),
  });
  lineage = await startLineageService({
    databaseUrl: await createTestDatabase("webc_lineage"),
    credentials: CREDS.lineage,
    templatesUrl: templates.url,
    log: quiet("lineage"),
  });
  gateway = await startGateway({
    templatesUrl: templates.url,
    lineageUrl: lineage.url,
    credentials: CREDS.gateway,
    limits: NO_LIMITS,
    webDir,
    databaseUrl: await createTestDatabase("webc_gateway"),
    log: quiet("gateway"),
  });
  templatesSc = createServiceClient(TemplateService, templates.url, CREDS.gateway);
  feedSc = createServiceClient(LineageEventService, lineage.url, CREDS.claims);
  hostSc = createServiceClient(VersionSignalService, lineage.url, CREDS["instance-host"]);
  browser = await launchBrowser();
}, 240_000);

afterAll(async () => {
  await browser?.close();
  for (const sc of [templatesSc, feedSc, hostSc]) sc?.close();
  await gateway?.close();
  await lineage?.close();
  await templates?.close();
}, 60_000);

const DAY_MS = 86_400_000;
const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);
let sequence = 0n;

/** A live agent of `templateId` for `ownerId`, reporting `counts` for `version` on `day`, signed by its own key. */
async function agentReports(
  templateId: string,
  ownerId: string,
  version: string,
  day: string,
  counts: { answers: number; thumbsUp?: number; thumbsDown?: number; corrections?: number },
): Promise<void> {
  const wallet = newIdentity();
  const instanceId = `inst_${randomBytes(8).toString("hex")}`;
  await feedSc.client.recordLineageEvents({
    events: [
      create(LineageEventSchema, {
        sequence: ++sequence,
        // Claimed on that version at the start of the day it reports.
        at: timestampFromDate(new Date(`${day}T00:00:00Z`)),
        event: { case: "claimed", value: { instanceId, templateId, ownerId, inboxId: wallet.inboxId, version } },
      }),
    ],
  });
  const report = {
    inboxId: wallet.inboxId,
    instanceId,
    templateId,
    version,
    day,
    counts: {
      people: 2,
      thumbsUp: 0,
      thumbsDown: 0,
      corrections: 0,
      forgetRequests: 0,
      approvalsAsked: 0,
      approvalsDeclined: 0,
      toolCallsFailed: 0,
      pauses: 0,
      stopRequests: 0,
      ...counts,
    },
  };
  await hostSc.client.reportSignals({ ...report, agentSignature: await signVersionSignals(wallet.account, report) });
}

it("shows the creator two versions per 100 answers side by side with charts and their tables, their own agents apart and below the threshold, the release notes and diff between them, and rolls back in one signed step", {
  timeout: 180_000,
}, async () => {
  const privateKey = generatePrivateKey();
  const account = privateKeyToAccount(privateKey);
  const creator = { account, inboxId: deriveInboxId(account.address) };
  // Version 1 created, 2 published, 3 an update with release notes.
  const v2 = await signedTemplate(
    templatesSc.client,
    creator,
    sampleContent({ tools: [], agent_name: "Trip Planner", instructions: "Plan trips.\nAsk for dates." }),
  );
  const content3 = { ...contentToJson(v2.content!), instructions: "Plan trips.\nAsk for dates and budget." };
  const v3 = (
    await templatesSc.client.updateTemplate({
      templateId: v2.id,
      expectedVersion: v2.version,
      content: contentFromJson(content3),
      releaseNotes: "Asks for the budget up front.",
      signature: await signOperation(account, "UpdateTemplate", {
        inboxId: creator.inboxId,
        templateId: v2.id,
        version: v2.version,
        contentHash: jsonHash(content3),
      }),
    })
  ).template!;
  const [older, newer] = [String(v2.version), String(v3.version)];
  const today = dayOf(Date.now());
  const yesterday = dayOf(Date.now() - DAY_MS);
  // Others' agents. The older version: five owners on two days, 100 answers and 20 👍 in all.
  for (let i = 0; i < 5; i++) await agentReports(v2.id, `owner-${i}`, older, yesterday, { answers: 10, thumbsUp: 1 });
  for (let i = 0; i < 5; i++) await agentReports(v2.id, `owner-${i}`, older, today, { answers: 10, thumbsUp: 3 });
  // The newer: five owners today, 100 answers, 40 👍 and 5 corrections; yesterday two agents, below the threshold.
  for (let i = 0; i < 5; i++)
    await agentReports(v2.id, `owner-${i + 5}`, newer, today, { answers: 20, thumbsUp: 8, corrections: 1 });
  for (let i = 0; i < 2; i++)
    await agentReports(v2.id, `owner-${i + 10}`, newer, yesterday, { answers: 10, thumbsDown: 10 });
  // The creator's own: five of the newer (shown apart), two of the older (below the threshold).
  for (let i = 0; i < 5; i++) await agentReports(v2.id, creator.inboxId, newer, today, { answers: 10, thumbsUp: 10 });
  for (let i = 0; i < 2; i++) await agentReports(v2.id, creator.inboxId, older, today, { answers: 10 });

  const context = await browser.newContext({ baseURL: gateway.url, viewport: { width: 1280, height: 900 } });
  context.setDefaultTimeout(20_000);
  await context.addInitScript(
    (file) => {
      if (!localStorage.getItem("convos-pool/key")) localStorage.setItem("convos-pool/key", file);
    },
    JSON.stringify({ address: account.address, private_key: privateKey, created_at: new Date().toISOString() }),
  );
  const page: Page = await context.newPage();
  try {
    await page.goto("/signin");
    await page.getByRole("button", { name: "Sign in with it" }).click();
    await page.getByRole("heading", { level: 1, name: "Signed in" }).waitFor();

    await page.goto("/studio");
    await page.getByRole("link", { name: "Compare versions of Trip Planner" }).click();
    await page.getByRole("heading", { level: 1, name: "Compare versions of Trip Planner" }).waitFor();
    // The two newest that reported, older first.
    expect(await page.getByLabel("First version").inputValue()).toBe(older);
    expect(await page.getByLabel("Second version").inputValue()).toBe(newer);

    const others = page.getByRole("table", { name: "Other people's agents: figures per 100 answers" });
    const row = async (table: typeof others, name: string) =>
      (await table.getByRole("row", { name: new RegExp(`^${name}`) }).allInnerTexts())[0]?.split("\t");
    expect(await row(others, "Days shown")).toEqual(["Days shown, of the days it ran", "2 of 2", "1 of 2"]);
    expect(await row(others, "Answers on the days shown")).toEqual(["Answers on the days shown", "100", "100"]);
    expect(await row(others, "Thumbs up")).toEqual(["Thumbs up on its messages", "20", "40"]);
    // The newer version's day below the threshold counts for nothing: no thumbs down.
    expect(await row(others, "Thumbs down")).toEqual(["Thumbs down on its messages", "0", "0"]);
    expect(await row(others, "Corrections")).toEqual(["Corrections", "0", "5"]);
    // What the pool recorded of the agents claimed on each: ten and seven, none removed or cloned.
    expect(await row(others, "Agents claimed")).toEqual(["Agents claimed", "10", "7"]);
    expect(await row(others, "Clones")).toEqual(["Clones", "0", "0"]);
    const own = page.getByRole("table", { name: "Your own agents: figures per 100 answers" });
    expect(await row(own, "Thumbs up")).toEqual(["Thumbs up on its messages", "below the threshold", "100"]);

    // The charts are drawn for eyes, and their numbers are in tables behind them.
    expect(await page.locator(".chart-plot canvas").count()).toBe(2);
    expect(await page.locator(".chart-plot").first().getAttribute("aria-hidden")).toBe("true");
    const answersByDay = page.getByRole("table", { name: "Answers per day, answers, by day" });
    expect(await answersByDay.getByRole("row").allInnerTexts()).toEqual([
      `Day\tv${older}\tv${newer}`,
      `${yesterday}\t50\t—`,
      `${today}\t50\t100`,
    ]);
    await page.getByLabel("Figure per 100 answers").selectOption("corrections");
    const correctionsByDay = page.getByRole("table", { name: "Corrections per 100 answers, per day" });
    await expect.poll(() => correctionsByDay.getByRole("row").count()).toBe(3);
    await page.getByLabel("Figure per 100 answers").selectOption("thumbsUp");
    await page.getByRole("button", { name: "Show as table" }).first().click();
    await answersByDay.waitFor({ state: "visible" });
    await page.getByRole("button", { name: "Hide the table" }).first().click();

    // The release notes and the diff between them.
    expect(await page.getByTestId("release-notes").textContent()).toContain("Asks for the budget up front.");
    expect(await page.locator("figure.diff figcaption").textContent()).toMatch(/changed line/);
    // Nothing in what the page shows names a conversation or a member.
    expect(await page.locator("main").textContent()).not.toMatch(/conv-|owner-\d/);
    await shoot(page, "compare");
    expect(PHONE.width).toBe(390);

    // One signed step, after a confirm: the older version's content becomes the newest version, with its notes.
    await page.getByRole("button", { name: `Roll back to v${older}…` }).click();
    await page.getByText(`Every agent of this template gets the content of v${older} again`).waitFor();
    await page
      .getByLabel("What changed (release notes)")
      .fill("Back to dates only: the budget question put people off.");
    await page.getByRole("button", { name: `Sign and roll back to v${older}` }).click();
    await page
      .getByText(`Rolled back: version ${v3.version + 1n} has the content of version ${older}.`)
      .waitFor({ timeout: 20_000 });
    const now = (
      await templatesSc.client.getTemplate({ templateId: v2.id }, { headers: { "x-pool-caller": creator.inboxId } })
    ).template!;
    expect(now.version).toBe(v3.version + 1n);
    expect(now.content!.instructions).toBe("Plan trips.\nAsk for dates.");
    const [note] = (
      await templatesSc.client.listReleaseNotes(
        { templateId: v2.id },
        { headers: { "x-pool-caller": creator.inboxId } },
      )
    ).notes;
    expect([note?.version, note?.releaseNotes]).toEqual([
      now.version,
      "Back to dates only: the budget question put people off.",
    ]);

    // Against the new current version, the older one is the same content: no rollback offered, and the page says why.
    // Opened afresh, so that the picker's defaults (the two that reported) are settled before the creator picks.
    await page.reload();
    await expect.poll(() => page.getByLabel("First version").inputValue(), { timeout: 15_000 }).toBe(older);
    await page.getByLabel("Second version").selectOption(String(now.version));
    await page.getByTestId("rollback-unchanged").waitFor();
    expect(await page.locator("figure.diff figcaption").textContent()).toMatch(/no differences/);
    expect(await page.getByRole("button", { name: /^Roll back to/ }).count()).toBe(0);
    await shoot(page, "compare-unchanged");
  } finally {
    await context.close();
  }
});

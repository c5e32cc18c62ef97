// An owner whose agent is pinned to an older version, in a real browser
// (Debian's Chromium headless shell, driven by playwright-core) against the whole pool as
// `npm start` runs it, on PostgreSQL and the local XMTP node, with the
// conversation served by the real Convos CLI. The creator (another person,
// through the gateway as any client) releases two versions with notes; the
// owner sees the newer version at the top of the agent's overview and a
// badge on its link, both notes, and moves to it in one signed step; the
// agent applies it and the page then shows the newer version and no block.
// A template taken out of the store still offers the move, without its
// notes. How the two versions compare is the lineage service's
// CompareVersions: with the owner's one agent there is not enough to show,
// and the block says so; with five other owners' agents on each version
// (their reports written to lineage's database as it stores them) it shows
// the figures per 100 answers side by side.
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { ConvosCli } from "@convos-pool/testing/convos-cli";
import { Visibility } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import { TemplateService } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import { contentFromJson, contentToJson, jsonHash } from "@convos-pool/kit/content";
import { signOperation } from "@convos-pool/kit/signing";
import { newIdentity, sampleContent, signedTemplate } from "@convos-pool/kit/testing";
import { DESKTOP, SHOTS, expectConsoleErrors, launchBrowser, poll, refused, shoot } from "./pages.js";
import { sharedPool, type SharedPool } from "./shared-pool.js";

/** The tier's one pool (shared-pool.setup.ts), and its XMTP node's port for this file's Convos CLIs. */
let xmtp: { port: number };
let dir: string;
let pool: SharedPool | undefined;
let browser: Browser | undefined;
let cli: ConvosCli | undefined;
let lineageDatabaseUrl: string;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  pool = await sharedPool();
  xmtp = { port: pool.xmtpPort };
  dir = await mkdtemp(join(tmpdir(), "pool-web-newer-"));
  await mkdir(SHOTS, { recursive: true });
  lineageDatabaseUrl = pool.lineageDatabaseUrl;
  browser = await launchBrowser();
}, 180_000);

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await browser?.close();
  await cli?.stop();
  await pool?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
}, 60_000);

afterEach(async ({ task }) => {
  if (task.result?.state !== "fail") return;
  for (const [i, page] of contexts.flatMap((c) => c.pages()).entries()) {
    await page.screenshot({ path: join(SHOTS, `failed-newer-${i}.png`), fullPage: true }).catch(() => undefined);
  }
});

/**
 * Five other owners' agents of `templateId`, claimed on `version` today and reporting `counts`
 * for it: rows as lineage keeps them once it has checked each agent's signed report
 * (services/lineage/src/signals/service.ts), written straight to its database.
 */
async function seedReports(
  templateId: string,
  version: string,
  counts: { answers: number; thumbs_up: number; corrections: number },
): Promise<void> {
  const db = new pg.Client({ connectionString: lineageDatabaseUrl });
  await db.connect();
  try {
    const day = new Date().toISOString().slice(0, 10);
    for (let i = 0; i < 5; i++) {
      const instanceId = `inst_${randomBytes(8).toString("hex")}`;
      await db.query(
        `insert into lineage_agents (instance_id, template_id, owner_id, claimed_at, claimed_version, owner_days_from)
         values ($1, $2, $3, $4::date, $5, $4::date)`,
        [instanceId, templateId, randomBytes(32).toString("hex"), day, version],
      );
      await db.query(
        `insert into version_signals (instance_id, day, template_id, version, answers, people, thumbs_up,
           thumbs_down, corrections, forget_requests, approvals_asked, approvals_declined, tool_calls_failed)
         values ($1, $2, $3, $4, $5, 1, $6, 0, $7, 0, 0, 0, 0)`,
        [instanceId, day, templateId, version, counts.answers, counts.thumbs_up, counts.corrections],
      );
    }
  } finally {
    await db.end();
  }
}

const heading = (page: Page, name: string | RegExp) => page.getByRole("heading", { level: 1, name });
const sectionLink = (page: Page, name: string | RegExp) =>
  page.getByRole("navigation", { name: "Agent sections" }).getByRole("link", { name });

it("an owner pinned to an older version sees the newer one, its notes and a badge, moves to it in one signed step, and the page then shows it", {
  timeout: 240_000,
}, async () => {
  const word = `newer${randomBytes(3).toString("hex")}`;
  const agentName = `Trip Planner ${word}`;
  // The creator is another person, working through the gateway as any client.
  const gateway = createClient(
    TemplateService,
    createConnectTransport({ baseUrl: pool!.gatewayUrl, httpVersion: "1.1" }),
  );
  const creator = newIdentity();
  let template = await signedTemplate(gateway, creator, sampleContent({ agent_name: agentName, tools: [] }));
  const applied = template.contentVersion;
  /** A signed update with the creator's release notes, as the studio and `pool` send it. */
  const release = async (instructions: string, releaseNotes: string) => {
    const content = { ...contentToJson(template.content!), instructions };
    const signature = await signOperation(creator.account, "UpdateTemplate", {
      inboxId: creator.inboxId,
      templateId: template.id,
      version: template.version,
      contentHash: jsonHash(content),
    });
    template = (
      await gateway.updateTemplate({
        templateId: template.id,
        expectedVersion: template.version,
        content: contentFromJson(content),
        signature,
        releaseNotes,
      })
    ).template!;
  };

  // The owner adds the agent to a Convos conversation from the template's page.
  cli = await ConvosCli.start(["agent", "serve", "--name", "Lisbon trip", "--profile-name", "Ana"], join(dir, "cli"), {
    xmtpPort: xmtp.port,
  });
  const ready = await cli.ready(60_000);
  const context = await browser!.newContext({ baseURL: pool!.gatewayUrl, viewport: DESKTOP });
  context.setDefaultTimeout(20_000);
  contexts.push(context);
  const owner = await context.newPage();
  await owner.goto("/signin?developer=1");
  await owner.getByRole("button", { name: "Create a key and sign in" }).click();
  await heading(owner, "Signed in").waitFor();
  await owner.goto(`/templates/${template.id}`);
  await heading(owner, agentName).waitFor();
  await owner.getByLabel("Conversation invite").fill(ready.inviteUrl);
  await owner.getByRole("button", { name: "Add the agent" }).click();
  await owner.getByText(`${agentName} has joined the conversation.`).waitFor({ timeout: 60_000 });
  const instanceId = (await owner.locator(".progress code").first().textContent())!;
  expect(instanceId).toMatch(/^inst_/);

  // On the newest version: no block, no badge. Pinned there, still none: nothing newer exists.
  await owner.goto(`/agents/${instanceId}`);
  await heading(owner, agentName).waitFor();
  await poll(() => owner.getByTestId("agent-sync").textContent(), 30_000).toBe(`applied v${applied}`);
  await owner.getByRole("button", { name: "Pin to this version" }).click();
  await poll(() => owner.getByTestId("agent-sync").textContent()).toBe(`pinned at v${applied}`);
  expect(await owner.getByTestId("newer-version").count()).toBe(0);
  expect(await owner.locator(".section-badge").count()).toBe(0);

  // The creator releases two versions; the owner's page (not reloaded) shows the newest and both notes.
  await release("You plan trips. Answer in Portuguese when asked.", "Answers in Portuguese when asked.");
  await release("You plan trips. Answer in Portuguese when asked. Keep it short.", "Shorter answers.");
  const newest = template.contentVersion;
  const block = owner.getByTestId("newer-version");
  await block.waitFor({ timeout: 30_000 });
  await expect(block.getByRole("heading", { level: 2 }).textContent()).resolves.toBe(`Version ${newest} is out`);
  await expect(block.textContent()).resolves.toContain(`You pinned this agent to version ${applied} of its template.`);
  const notes = block.getByTestId("release-notes").locator("li");
  await poll(() => notes.count()).toBe(2);
  expect(await notes.locator(".notes-text").allTextContents()).toEqual([
    "Shorter answers.",
    "Answers in Portuguese when asked.",
  ]);
  expect(await notes.locator("strong").allTextContents()).toEqual([`Version ${newest}`, `Version ${newest - 1n}`]);
  // One agent is below the threshold: the block says there is not enough to compare yet.
  await block.getByText("Not enough conversations yet to compare them", { exact: false }).waitFor({ timeout: 30_000 });
  expect(await block.getByTestId("comparison").count()).toBe(0);
  // Five other owners' agents on each version report today (written as lineage stores signed reports):
  // the figures per 100 answers side by side.
  await seedReports(template.id, String(applied), { answers: 20, thumbs_up: 2, corrections: 2 });
  await seedReports(template.id, String(newest), { answers: 20, thumbs_up: 6, corrections: 0 });
  await owner.reload();
  const compared = block.getByTestId("comparison");
  await compared.waitFor({ timeout: 30_000 });
  const row = async (name: string) =>
    (await compared.getByRole("row", { name: new RegExp(`^${name}`) }).allInnerTexts())[0]?.split("\t");
  expect(await row("Thumbs up")).toEqual(["Thumbs up on its messages", "10", "30"]);
  expect(await row("Corrections")).toEqual(["Corrections of its answers", "10", "0"]);
  // The badge is on the Overview link, seen from any section; the link leads back to the block.
  await expect(sectionLink(owner, "Overview new version").count()).resolves.toBe(1);
  await sectionLink(owner, "Memory").click();
  await owner.getByRole("region", { name: "Memory", exact: true }).waitFor();
  await sectionLink(owner, "Overview new version").click();
  await owner.getByRole("region", { name: "Overview", exact: true }).waitFor();
  await block.waitFor();
  // docs/web-agent-newer-desktop.png and -phone.png are these photographs (docs/web.md).
  await shoot(owner, "agent-newer");

  // Out of the store: the owner still sees that a newer version exists and may move, without its notes.
  const signature = await signOperation(creator.account, "SetTemplateVisibility", {
    inboxId: creator.inboxId,
    templateId: template.id,
    version: template.version,
    visibility: "private",
  });
  await gateway.setTemplateVisibility({
    templateId: template.id,
    expectedVersion: template.version,
    visibility: Visibility.PRIVATE,
    signature,
  });
  // The template's notes are refused to the owner now (NOT_FOUND), which the block says.
  expectConsoleErrors(refused("ListReleaseNotes", 404));
  await owner.reload();
  await block.waitFor();
  await block.getByText("Its notes are not shown: the template is no longer in the store.", { exact: false }).waitFor();
  expect(await block.getByTestId("release-notes").count()).toBe(0);

  // One signed step: the agent applies the newest version, and the page shows it without the block.
  await block.getByRole("button", { name: `Sign and move to version ${newest}` }).click();
  await owner.getByText(`Moving to version ${newest}: it follows its template's updates from now on.`).waitFor();
  await poll(() => owner.getByTestId("agent-sync").textContent(), 60_000).toBe(`applied v${newest}`);
  expect(await owner.getByTestId("newer-version").count()).toBe(0);
  expect(await owner.locator(".section-badge").count()).toBe(0);
  await owner.reload();
  await poll(() => owner.getByTestId("agent-sync").textContent()).toBe(`applied v${newest}`);
  expect(await owner.getByTestId("newer-version").count()).toBe(0);
});

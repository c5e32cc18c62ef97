// Staged rollouts in the studio (docs/rollouts.md; docs/web.md) in a real
// browser (Debian's Chromium headless shell, driven by playwright-core)
// against the real gateway serving the built app, with the templates and
// lineage services behind it on PostgreSQL, and the templates service's
// own watch asking the lineage service every second (as `main.ts` does
// every 10 minutes). Agents arrive through the lineage feed, as the claims
// service announces them, and their counts from an instance host's
// credential, each day signed by the agent's own key. No claims service:
// the versions' pushes wait in the templates service's outbox. The creator
// starts each rollout from the editor, signed in the page; the pool halts
// the second by itself on the counts, and the third's watch pauses it on
// its split (the sample-ratio check).
//
// Lineage runs on this stack's watch rules (its `watchRules`): agents with
// one reported day, each its own owner's with two people, and five
// conversations a side; the pool's would count none of them (three days
// with others, ten conversations a side). The threshold is the pool's.
//
// Each template's current version is a content change (published, then
// updated): the watch asks lineage for the baseline's release key, which a
// version made by publishing does not have (the templates service logs "no
// signed content change" and never watches such a rollout; docs/rollouts.md,
// "Where it stands").
import { randomBytes } from "node:crypto";
import { mkdir } from "node:fs/promises";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, expect, it } from "vitest";
import { LineageEventSchema, LineageEventService } from "@convos-pool/gen/convos/pool/v1/lineage_event_service_pb.js";
import { RolloutService, RolloutState } from "@convos-pool/gen/convos/pool/v1/rollout_service_pb.js";
import { VersionSignalService } from "@convos-pool/gen/convos/pool/v1/signal_service_pb.js";
import { TemplateService } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import {
  CALLER_HEADER,
  DEFAULT_FALSE_ALARM,
  contentFromJson,
  contentToJson,
  haltAt,
  jsonHash,
} from "@convos-pool/kit/content";
import {
  NO_LIMITS,
  createLogger,
  createServiceClient,
  generateServiceCredentials,
  type ServiceClient,
} from "@convos-pool/kit/server";
import { deriveInboxId, signOperation, signVersionSignals } from "@convos-pool/kit/signing";
import { createTestDatabase, freePort } from "@convos-pool/testing";
import { newIdentity, sampleContent, signedTemplate } from "@convos-pool/kit/testing";
import { startGateway, type RunningGateway } from "@convos-pool/gateway";
import { startLineageService, type RunningLineageService } from "@convos-pool/lineage";
import { startTemplateService, type RunningTemplateService } from "@convos-pool/templates";
import { ensureWebBuild } from "@convos-pool/web";
import { SHOTS, expectConsoleErrors, launchBrowser, poll, refused, shoot } from "./pages.js";

const CREDS = generateServiceCredentials();
const quiet = (name: string) => createLogger(name, { level: "silent" });
/** Who the watch counts here and how much is enough (see the header). */
const WATCH_RULES = { maxOwnerAgents: 100, realUseDays: 0, minSample: { conversations: 5, answers: 100 } };
/** The halt line as the pool draws it, written as the page writes it: "8.34". */
const LINE = haltAt(DEFAULT_FALSE_ALARM).toFixed(2).replace(".", "\\.");

let templates: RunningTemplateService;
let lineage: RunningLineageService;
let gateway: RunningGateway;
let browser: Browser;
let templatesSc: ServiceClient<typeof TemplateService>;
let rolloutsSc: ServiceClient<typeof RolloutService>;
let feedSc: ServiceClient<typeof LineageEventService>;
let hostSc: ServiceClient<typeof VersionSignalService>;

beforeAll(async () => {
  await mkdir(SHOTS, { recursive: true });
  const webDir = await ensureWebBuild();
  // Each service names the other: the lineage service's port is chosen first.
  const lineagePort = await freePort();
  templates = await startTemplateService({
    databaseUrl: await createTestDatabase("webro_templates"),
    credentials: CREDS.templates,
    lineageUrl: `http://127.0.0.1:${lineagePort}`,
    watch: { intervalMs: 1_000 },
    log: quiet("templates"),
  });
  lineage = await startLineageService({
    databaseUrl: await createTestDatabase("webro_lineage"),
    credentials: CREDS.lineage,
    port: lineagePort,
    templatesUrl: templates.url,
    watchRules: WATCH_RULES,
    log: quiet("lineage"),
  });
  gateway = await startGateway({
    templatesUrl: templates.url,
    lineageUrl: lineage.url,
    credentials: CREDS.gateway,
    limits: NO_LIMITS,
    webDir,
    databaseUrl: await createTestDatabase("webro_gateway"),
    log: quiet("gateway"),
  });
  templatesSc = createServiceClient(TemplateService, templates.url, CREDS.gateway);
  rolloutsSc = createServiceClient(RolloutService, templates.url, CREDS.gateway);
  feedSc = createServiceClient(LineageEventService, lineage.url, CREDS.claims);
  hostSc = createServiceClient(VersionSignalService, lineage.url, CREDS["instance-host"]);
  browser = await launchBrowser();
}, 240_000);

afterAll(async () => {
  await browser?.close();
  for (const sc of [templatesSc, rolloutsSc, feedSc, hostSc]) sc?.close();
  await gateway?.close();
  await lineage?.close();
  await templates?.close();
}, 60_000);

const today = () => new Date().toISOString().slice(0, 10);
let sequence = 0n;

/** A live agent of `templateId` claimed on `version` today (a conversation of its own), reporting `counts` today, signed by its key. */
async function agentReports(
  templateId: string,
  version: bigint,
  counts: { answers: number; thumbsDown?: number; corrections?: number },
): Promise<void> {
  await agentReportsAs(await agentClaimed(templateId, version), counts);
}

/** An agent of `templateId` claimed today on `version`, as the claims feed tells lineage; it reports nothing yet. */
async function agentClaimed(templateId: string, version: bigint) {
  const wallet = newIdentity();
  const instanceId = `inst_${randomBytes(8).toString("hex")}`;
  const day = today();
  await feedSc.client.recordLineageEvents({
    events: [
      create(LineageEventSchema, {
        sequence: ++sequence,
        at: timestampFromDate(new Date(`${day}T00:00:00Z`)),
        event: {
          case: "claimed",
          value: {
            instanceId,
            templateId,
            ownerId: `owner-${randomBytes(4).toString("hex")}`,
            inboxId: wallet.inboxId,
            version: String(version),
          },
        },
      }),
    ],
  });
  return { wallet, instanceId, templateId, version, day };
}

/** Its day's signed counts, as its host reports them. */
async function agentReportsAs(
  { wallet, instanceId, templateId, version, day }: Awaited<ReturnType<typeof agentClaimed>>,
  counts: { answers: number; thumbsDown?: number; corrections?: number },
): Promise<void> {
  const report = {
    inboxId: wallet.inboxId,
    instanceId,
    templateId,
    version: String(version),
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

/** A person whose key the browser holds, as the sign-in page keeps one. */
function browserIdentity() {
  const privateKey = generatePrivateKey();
  const account = privateKeyToAccount(privateKey);
  return { privateKey, account, inboxId: deriveInboxId(account.address) };
}

/** A desktop browser signed in with `who`'s key. */
async function signedIn(who: ReturnType<typeof browserIdentity>): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ baseURL: gateway.url, viewport: { width: 1280, height: 900 } });
  context.setDefaultTimeout(20_000);
  await context.addInitScript(
    (file) => {
      if (!localStorage.getItem("convos-pool/key")) localStorage.setItem("convos-pool/key", file);
    },
    JSON.stringify({ address: who.account.address, private_key: who.privateKey, created_at: new Date().toISOString() }),
  );
  const page = await context.newPage();
  await page.goto("/signin");
  await page.getByRole("button", { name: "Sign in with it" }).click();
  await page.getByRole("heading", { level: 1, name: "Signed in" }).waitFor();
  return { context, page };
}

/** A published template of the creator's whose current version is a content change: its instructions updated once. */
async function template(who: ReturnType<typeof browserIdentity>, name: string, instructions: string) {
  const t = await signedTemplate(
    templatesSc.client,
    who,
    sampleContent({ tools: [], agent_name: name, instructions: "Draft." }),
  );
  const content = { ...contentToJson(t.content!), instructions };
  const signature = await signOperation(who.account, "UpdateTemplate", {
    inboxId: who.inboxId,
    templateId: t.id,
    version: t.version,
    contentHash: jsonHash(content),
  });
  return (
    await templatesSc.client.updateTemplate({
      templateId: t.id,
      expectedVersion: t.version,
      content: contentFromJson(content),
      signature,
    })
  ).template!;
}

/** The editor of `templateId` with new instructions, set to go out as a staged rollout. */
async function draftRollout(page: Page, templateId: string, instructions: string): Promise<void> {
  await page.goto(`/studio/${templateId}`);
  await page.getByLabel("Instructions").fill(instructions);
  await page.getByLabel("A share of conversations first (a staged rollout)").check();
}

const cells = async (page: Page, testId: string, row: string) =>
  (
    await page
      .getByTestId(testId)
      .getByRole("row", { name: new RegExp(`^${row}`) })
      .allInnerTexts()
  )[0]?.split("\t");
const fact = (page: Page, name: string) =>
  page.getByTestId("rollout-facts").locator(`dt:text-is("${name}") + dd`).textContent();
const asCreator = (inboxId: string) => ({ headers: { [CALLER_HEADER]: inboxId } });

const creator = browserIdentity();
let firstRollout = "";
let firstTemplate = "";

it("publishes a new version as a rollout to 10% from the editor, shows both versions' figures as they come in, and takes signed steps: widen, pause, promote", {
  timeout: 180_000,
}, async () => {
  const t = await template(creator, "Trip Planner", "Plan trips.");
  firstTemplate = t.id;
  const { context, page } = await signedIn(creator);
  try {
    await draftRollout(page, t.id, "Plan trips. Ask for the budget first.");
    // Ten percent unless changed, bounds at their defaults.
    expect(await page.getByLabel("Share of conversations (%)").inputValue()).toBe("10");
    await page.getByLabel("What changed (release notes)").fill("Asks for the budget first.");
    await page.getByRole("button", { name: "Sign and start the rollout" }).click();
    const candidate = t.version + 1n;
    await page.getByRole("heading", { level: 1, name: `Rollout of version ${candidate} of Trip Planner` }).waitFor();
    firstRollout = new URL(page.url()).pathname.split("/").at(-1)!;
    expect(page.url()).toMatch(new RegExp(`/studio/${t.id}/rollouts/ro_[A-Za-z0-9]{16}$`));
    expect(await fact(page, "State")).toBe("running");
    expect(await fact(page, "Share")).toBe("10% of conversations");
    expect(await fact(page, "Versions")).toBe(`${candidate} (new) against ${t.version} (current)`);
    expect(await page.getByTestId("timeline").getByRole("listitem").allInnerTexts()).toEqual([
      expect.stringMatching(/^Started at 10% by you, today, /),
    ]);
    // The ramp: where it is, and the shares the page offers after it.
    expect(await page.getByTestId("ramp").getByRole("listitem").allInnerTexts()).toEqual([
      "10%: here now",
      "25%: ahead, when you widen",
      "50%: ahead, when you widen",
      "75%: ahead, when you widen",
      "90%: ahead, when you widen",
      "every conversation: ahead, when you promote",
    ]);
    // What the service holds: the new version's content, its notes, the share and the default bounds.
    const held = (
      await rolloutsSc.client.getRollout({ templateId: t.id, rolloutId: firstRollout }, asCreator(creator.inboxId))
    ).rollout!;
    expect([held.state, held.shareBasisPoints, held.candidateVersion, held.bounds?.thumbsDown]).toEqual([
      RolloutState.RUNNING,
      1_000,
      candidate,
      0.5,
    ]);

    // Six agents on each version today, alike: 20 answers, one 👎 and one correction each.
    for (let i = 0; i < 6; i++) {
      await agentReports(t.id, t.version, { answers: 20, thumbsDown: 1, corrections: 1 });
      await agentReports(t.id, candidate, { answers: 20, thumbsDown: 1, corrections: 1 });
    }
    // The pool's next look: each side without its largest conversation, five agents' 100 answers.
    await poll(() => cells(page, "watch-figures", "Thumbs down"), 30_000).toEqual([
      expect.stringMatching(/^Thumbs down on its answers\s+per 100 answers\s*$/),
      "5 (5 in 100)",
      "5 (5 in 100)",
      "1.5 ×",
      expect.stringMatching(new RegExp(`^-?\\d+\\.\\d\\d of ${LINE}: leaning to no worse$`)),
    ]);
    // Each side's sample against this stack's minimum, and nothing paused.
    expect(await page.getByTestId("watch-sample").getByRole("listitem").allInnerTexts()).toEqual([
      "6 conversations with real use on the new version (5 needed)",
      "6 conversations with real use on the current version (5 needed)",
    ]);
    expect(await page.getByTestId("paused").count()).toBe(0);
    expect(await fact(page, "Conversations")).toBe(`6 of 12 conversations on version ${candidate}`);
    expect(await page.getByText(/ 1 day counted; the pool halts the rollout when/).count()).toBe(1);
    // Day by day, from the rollout's first day: the chart's numbers in the table behind it.
    const answersByDay = page.getByRole("table", { name: "Answers per day, answers, by day" });
    await poll(() => answersByDay.getByRole("row").allInnerTexts()).toEqual([
      `Day\tv${t.version} (current)\tv${candidate} (new)`,
      `${today()}\t120\t120`,
    ]);
    // The charts draw once uPlot has loaded and measured its box: after the tables behind them.
    await poll(() => page.locator(".chart-plot canvas").count()).toBe(2);
    // Nothing names an agent, owner or conversation.
    expect(await page.locator("main").textContent()).not.toMatch(/inst_|owner-|conv-/);
    await shoot(page, "rollout");

    // A share below the current one is refused by its field before anything is signed.
    await page.getByLabel("Widen from 10% to (%)").fill("5");
    await page.getByRole("button", { name: "Sign and widen" }).click();
    await page.getByText("must be above the current 10% and below 100%").first().waitFor();
    expect(await page.getByLabel("Widen from 10% to (%)").getAttribute("aria-invalid")).toBe("true");
    // Widen, signed: 50%.
    await page.getByLabel("Widen from 10% to (%)").fill("50");
    await page.getByRole("button", { name: "Sign and widen" }).click();
    await poll(() => fact(page, "Share")).toBe("50% of conversations");
    await poll(() => page.getByTestId("ramp").getByRole("listitem").allInnerTexts()).toEqual([
      "10%: taken",
      "50%: here now",
      "75%: ahead, when you widen",
      "90%: ahead, when you widen",
      "every conversation: ahead, when you promote",
    ]);
    // Pause: widen and pause are gone, resume is offered.
    await page.getByRole("button", { name: "Sign and pause" }).click();
    await poll(() => fact(page, "State")).toBe("paused");
    expect(await page.getByRole("button", { name: "Sign and pause" }).count()).toBe(0);
    expect(await page.getByRole("button", { name: "Sign and widen" }).count()).toBe(0);
    await page.getByRole("button", { name: "Sign and resume" }).waitFor();

    // The editor says the template is held, and leads back.
    await page.getByRole("link", { name: "Edit", exact: true }).click();
    await poll(() => page.getByTestId("live-rollout").textContent()).toMatch(
      new RegExp(`^Version ${candidate} is paused at 50% of conversations\\.`),
    );
    await page.getByRole("link", { name: "open the rollout" }).click();
    await page.getByRole("heading", { level: 1, name: /^Rollout of version/ }).waitFor();

    // Promote, after a confirm: every conversation, and no step left to take.
    await page.getByRole("button", { name: "Promote to every conversation…" }).click();
    await page.getByRole("button", { name: "Sign and promote" }).click();
    await poll(() => fact(page, "State")).toBe("promoted");
    expect(await page.getByRole("heading", { name: "Your next step" }).count()).toBe(0);
    expect(await page.getByTestId("timeline").getByRole("listitem").allInnerTexts()).toEqual([
      expect.stringMatching(/^Started at 10% by you, today, /),
      expect.stringMatching(/^Widened to 50% by you, today, /),
      expect.stringMatching(/^Paused at 50% by you, today, /),
      expect.stringMatching(/^Promoted to every conversation by you, today, /),
    ]);
    const promoted = (
      await rolloutsSc.client.getRollout({ templateId: t.id, rolloutId: firstRollout }, asCreator(creator.inboxId))
    ).rollout!;
    expect([promoted.state, promoted.shareBasisPoints, promoted.steps.length]).toEqual([
      RolloutState.PROMOTED,
      5_000,
      4,
    ]);

    // The template's list of rollouts, from the studio.
    await page.goto("/studio");
    await page.getByRole("link", { name: "Rollouts of Trip Planner" }).click();
    const list = page.getByRole("table", { name: "Rollouts, newest first" });
    await poll(() => list.getByRole("row").allInnerTexts()).toEqual([
      "Rollout\tState\tShare\tConversations\tStarted",
      expect.stringMatching(
        new RegExp(`^Version ${candidate} against ${t.version}\tpromoted\t50%\t6 of 12 conversations`),
      ),
    ]);
    await shoot(page, "rollouts");
  } finally {
    await context.close();
  }
});

it("shows a rollout the pool halted by itself on the agents' counts, with the reason in its words and no step left", {
  timeout: 180_000,
}, async () => {
  const t = await template(creator, "Recipe Helper", "Suggest recipes.");
  const { context, page } = await signedIn(creator);
  try {
    await draftRollout(page, t.id, "Suggest recipes. Always add a dessert.");
    // All of them is an update, not a rollout: refused by the field, nothing started.
    await page.getByLabel("Share of conversations (%)").fill("100");
    await page.getByRole("button", { name: "Sign and start the rollout" }).click();
    await page.getByText("must be at least 0.01% and below 100%").first().waitFor();
    expect((await rolloutsSc.client.listRollouts({ templateId: t.id }, asCreator(creator.inboxId))).rollouts).toEqual(
      [],
    );
    // 25%, with the 👎 bound opened and set: four times the current rate halts it (a conversation's day counts at
    // most three 👎, and six conversations' doubling in a day stays below the line).
    await page.getByLabel("Share of conversations (%)").fill("25");
    await page.getByText("Bounds: how much worse halts it").click();
    await page.getByLabel("Thumbs down on its answers").fill("3");
    await shoot(page, "editor-rollout");
    await page.getByRole("button", { name: "Sign and start the rollout" }).click();
    const candidate = t.version + 1n;
    await page.getByRole("heading", { level: 1, name: `Rollout of version ${candidate} of Recipe Helper` }).waitFor();
    expect(await fact(page, "Share")).toBe("25% of conversations");

    // Ten 👎 in 20 answers on the new version, one on the current one, in six conversations each. Every agent is
    // claimed before any reports: a watch between a claim and its report would count the conversation and not its
    // answers, and halt on other figures than these.
    const current = [];
    const next = [];
    for (let i = 0; i < 6; i++) {
      current.push(await agentClaimed(t.id, t.version));
      next.push(await agentClaimed(t.id, candidate));
    }
    // The current version's first: the watch (every second) may halt between two of the new version's reports (a busy
    // machine did, on 40 in 80), and then on the figures it had, which are half 👎 whatever their number.
    for (const agent of current) await agentReportsAs(agent, { answers: 20, thumbsDown: 1 });
    for (const agent of next) await agentReportsAs(agent, { answers: 20, thumbsDown: 10 });
    await poll(() => fact(page, "State"), 30_000).toBe("halted by the pool");
    const halted = page.getByTestId("halted");
    expect(await halted.getByRole("heading").textContent()).toMatch(/^Halted by the pool, today, /);
    const reason = (await halted.locator("p").textContent()) ?? "";
    const figures = new RegExp(
      `^👎 on its answers: (\\d+) in (\\d+) answers on version ${candidate}, against 5 in 100 on version ${t.version} \\(evidence \\d+\\.\\d\\d, past the threshold ${LINE}, over 1 day\\)$`,
    ).exec(reason);
    expect(figures, reason).not.toBeNull();
    const [, down, answers] = figures!;
    expect(Number(down) * 2, reason).toBe(Number(answers));
    // The figures the watch halted on, as the reason says them.
    expect(await cells(page, "watch-figures", "Thumbs down")).toEqual([
      expect.stringMatching(/^Thumbs down on its answers\s+per 100 answers\s*$/),
      `50 (${down} in ${answers})`,
      "5 (5 in 100)",
      "4 ×",
      expect.stringMatching(new RegExp(`^\\d+\\.\\d\\d of ${LINE}: past the halt line$`)),
    ]);
    expect(await page.getByText(`The pool halted it: every agent follows version ${candidate + 1n}`).count()).toBe(1);
    expect(await page.getByRole("heading", { name: "Your next step" }).count()).toBe(0);
    expect((await page.getByTestId("timeline").getByRole("listitem").allInnerTexts()).at(-1)).toMatch(
      /^Halted by the pool, today, /,
    );
    // The fallback is the template's version: the current content again.
    const now = (await templatesSc.client.getTemplate({ templateId: t.id }, asCreator(creator.inboxId))).template!;
    expect([now.version, now.content?.instructions]).toEqual([candidate + 1n, "Suggest recipes."]);
    await shoot(page, "rollout-halted");
  } finally {
    await context.close();
  }
});

it("shows a rollout the pool's watch paused on its split: which check, its figures, each side's sample, and widening disabled with the reason", {
  timeout: 180_000,
}, async () => {
  const t = await template(creator, "Garden Helper", "Help with gardens.");
  const { context, page } = await signedIn(creator);
  try {
    await draftRollout(page, t.id, "Help with gardens. Name the season.");
    await page.getByLabel("Share of conversations (%)").fill("1");
    await page.getByRole("button", { name: "Sign and start the rollout" }).click();
    const candidate = t.version + 1n;
    await page.getByRole("heading", { level: 1, name: `Rollout of version ${candidate} of Garden Helper` }).waitFor();
    // Eight conversations on each version today, alike, where 1% was planned: half is far off the plan.
    const agents = [];
    for (let i = 0; i < 8; i++) {
      agents.push(await agentClaimed(t.id, t.version));
      agents.push(await agentClaimed(t.id, candidate));
    }
    for (const agent of agents) await agentReportsAs(agent, { answers: 20, thumbsDown: 1 });
    await poll(() => page.getByTestId("paused-reason").textContent(), 30_000).toBe(
      "The split of conversations with real use: 8 of 16 on the new version, 50% against the 1% planned.",
    );
    const paused = page.getByTestId("paused");
    expect(await paused.getByRole("heading").textContent()).toBe(
      "Paused by the pool: the split of conversations is off the share you planned",
    );
    expect(await page.getByTestId("paused-samples").getByRole("listitem").allInnerTexts()).toEqual([
      "8 conversations with real use on the new version (5 needed)",
      "8 conversations with real use on the current version (5 needed)",
    ]);
    // The pool's pause is the watch's: the rollout runs, nothing rolled back, and widening waits, with the reason.
    expect(await fact(page, "State")).toBe("running");
    expect(await page.getByRole("button", { name: "Sign and widen" }).isDisabled()).toBe(true);
    expect(await page.getByTestId("widen-waits").textContent()).toMatch(
      /^Widening waits while the pool pauses this rollout \(the split of conversations is off the share you planned\)/,
    );
    // What the service holds says the same: running, paused on the split, this stack's sample.
    const held = (
      await rolloutsSc.client.getRollout(
        { templateId: t.id, rolloutId: new URL(page.url()).pathname.split("/").at(-1)! },
        asCreator(creator.inboxId),
      )
    ).rollout!;
    expect([held.state, held.watch?.pausedOn.startsWith("the split"), held.watch?.minSample]).toEqual([
      RolloutState.RUNNING,
      true,
      5,
    ]);
    // Promote, pause and roll back are still the creator's.
    await page.getByRole("button", { name: "Sign and pause" }).waitFor();
    expect(await page.getByRole("button", { name: "Sign and pause" }).isDisabled()).toBe(false);
    await shoot(page, "rollout-paused");
  } finally {
    await context.close();
  }
});

it("shows someone who is not the creator that a template's rollouts are its creator's only, and asks a signed-out reader to sign in", {
  timeout: 60_000,
}, async () => {
  expect(firstRollout).toMatch(/^ro_/);
  // The service answers anyone but the creator NOT_FOUND, which the pages say in words.
  expectConsoleErrors(refused("GetRollout", 404), refused("ListRollouts", 404));
  const stranger = browserIdentity();
  const { context, page } = await signedIn(stranger);
  try {
    await page.goto(`/studio/${firstTemplate}/rollouts/${firstRollout}`);
    await page.getByRole("alert").waitFor();
    expect(await page.getByRole("alert").textContent()).toMatch(/not found/);
    await page.getByText("A template's rollouts are shown to its creator only").waitFor();
    // Nothing of the rollout shows.
    expect(await page.getByTestId("rollout-facts").count()).toBe(0);
    expect(
      await page
        .getByRole("button")
        .filter({ hasText: /^Sign and/ })
        .count(),
    ).toBe(0);
    await page.goto(`/studio/${firstTemplate}/rollouts`);
    await page.getByText("A template's rollouts are shown to its creator only").waitFor();
  } finally {
    await context.close();
  }
  const out = await browser.newContext({ baseURL: gateway.url });
  try {
    const page = await out.newPage();
    await page.goto(`/studio/${firstTemplate}/rollouts/${firstRollout}`);
    await page.getByText("to see this rollout").waitFor();
  } finally {
    await out.close();
  }
});

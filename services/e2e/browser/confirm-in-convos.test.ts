// An owner with no wallet, their Convos app alone, sets their agent's trust
// level from its page in a real browser (Debian's Chromium headless shell,
// driven by playwright-core) by confirming it in Convos (docs/trust.md,
// "Confirmations in Convos"), against the whole pool as `npm start` runs it,
// on PostgreSQL and the local XMTP node. Saul is the real Convos CLI serving
// his conversation, "Weekend away": the agent is claimed into it with his
// Convos identity's own ClaimAgent signature (the page's "Add the agent"
// still signs with a wallet), then the browser signs in with Convos (Saul's
// CLI opens the page's link), picks L3 and presses "Confirm in Convos"; the
// page shows the code it computed, Saul's CLI finds the agent's question with
// that code in his direct conversation with it and replies yes, and the page
// says the level is set. A decline, asked the same way, changes nothing. Then
// he lowers it to L2, asks the agent in the conversation to text a friend,
// and answers its question from the Approvals page with "Approve in Convos":
// confirmed there, the text goes out once (the pool's SMS stand-in).
import { readFile, mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { privateKeyToAccount } from "viem/accounts";
import type { Hex } from "viem";
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import { createClient } from "@connectrpc/connect";
import { tool } from "@convos-pool/kit/testing";
import { createConnectTransport } from "@connectrpc/connect-node";
import { ClaimService } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import { TemplateService } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import { TRUST_LEVEL_SUMMARIES } from "@convos-pool/kit/content";
import { claimFields, deriveInboxId, signOperation } from "@convos-pool/kit/signing";
import { ConvosCli } from "@convos-pool/testing/convos-cli";
import { newIdentity, sampleContent, signedTemplate } from "@convos-pool/kit/testing";
import { questionWith as askedInConvos } from "./convos-questions.js";
import { DESKTOP, SHOTS, launchBrowser, poll, shoot } from "./pages.js";
import { sharedPool, type SharedPool } from "./shared-pool.js";

/** The tier's one pool (shared-pool.setup.ts), and its XMTP node's port for this file's Convos CLIs. */
let xmtp: { port: number };
let dir: string;
let pool: SharedPool | undefined;
let browser: Browser | undefined;
let context: BrowserContext | undefined;
let saul: ConvosCli | undefined;
let saulInbox = "";
const FRIEND = "+15550188071";

beforeAll(async () => {
  pool = await sharedPool();
  xmtp = { port: pool.xmtpPort };
  dir = await mkdtemp(join(tmpdir(), "pool-web-confirm-"));
  await mkdir(SHOTS, { recursive: true });
  browser = await launchBrowser();
  context = await browser.newContext({ baseURL: pool.gatewayUrl, viewport: DESKTOP });
  context.setDefaultTimeout(20_000);
}, 180_000);

afterAll(async () => {
  await context?.close().catch(() => undefined);
  await browser?.close();
  await saul?.stop();
  await pool?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
}, 60_000);

afterEach(async ({ task }) => {
  if (task.result?.state !== "fail") return;
  for (const [i, page] of (context?.pages() ?? []).entries())
    await page.screenshot({ path: join(SHOTS, `failed-confirm-${i}.png`), fullPage: true }).catch(() => undefined);
});

const heading = (page: Page, name: string | RegExp) => page.getByRole("heading", { level: 1, name });

/** The agent's question with `code` in Saul's direct conversation with it (any but `home`). */
const questionWith = (home: string, code: string) =>
  askedInConvos({ cli: saul!, inboxId: saulInbox, name: "Saul" }, home, code);

it("an owner signed in with Convos alone sets the agent's trust level and approves its text by confirming each in Convos, and a step declined there changes nothing", {
  timeout: 300_000,
}, async () => {
  const transport = createConnectTransport({ baseUrl: pool!.gatewayUrl, httpVersion: "1.1" });
  const template = await signedTemplate(
    createClient(TemplateService, transport),
    newIdentity(),
    sampleContent({ agent_name: "Concierge", tools: [tool("sms", "pool")], max_trust_level: "L3" }),
  );
  saul = await ConvosCli.start(
    ["agent", "serve", "--name", "Weekend away", "--profile-name", "Saul"],
    join(dir, "saul"),
    { xmtpPort: xmtp.port },
  );
  const ready = await saul.ready(60_000);
  saulInbox = ready.inboxId;

  // Claimed with Saul's Convos identity's own signature: his key never reaches the page.
  const { walletKey } = JSON.parse(await readFile(join(dir, "saul", "home", "identity.json"), "utf8")) as {
    walletKey: Hex;
  };
  const account = privateKeyToAccount(walletKey);
  expect(deriveInboxId(account.address)).toBe(ready.inboxId);
  const claim = {
    requester: ready.inboxId,
    templateId: template.id,
    conversationInvite: ready.inviteUrl,
    model: "",
    userConfig: {},
  };
  const signature = await signOperation(account, "ClaimAgent", claimFields(claim));
  const { instanceId } = await createClient(ClaimService, transport).claim({ ...claim, signature });
  // Sign in with Convos: Saul's app opens the page's link.
  const page = await context!.newPage();
  await page.goto("/signin");
  await page.getByRole("button", { name: "Sign in with Convos" }).click();
  const link = (await page.getByTestId("convos-link").getAttribute("href"))!;
  await saul.run(["conversations", "join", link, "--no-wait", "--profile-name", "Saul"]);
  await heading(page, "Signed in").waitFor({ timeout: 30_000 });
  expect(await page.getByTestId("inbox-id").textContent()).toBe(ready.inboxId);

  await page.goto(`/agents/${instanceId}`);
  await page
    .getByRole("navigation", { name: "Agent sections" })
    .getByRole("link", { name: "Trust and permissions" })
    .click();
  const before = await page.getByTestId("agent-trust").textContent();
  await page.getByLabel("Level", { exact: true }).selectOption("L3");
  await page.getByRole("button", { name: "Confirm in Convos", exact: true }).click();
  const code = (await page.getByTestId("confirm-code").textContent())!;
  expect(code).toMatch(/^[0-9A-F]{4}-[0-9A-F]{4}$/);
  await shoot(page, "agent-trust-confirm-in-convos");

  // In Convos: the question states the step and the page's code; Saul says yes.
  const question = await questionWith(ready.conversationId, code);
  expect(question.content).toContain("Set my trust level to L3, no spending.");
  await saul.run(["conversation", "send-reply", question.dm, question.id, "yes"]);
  await page.getByText("Its trust level is now L3.").waitFor({ timeout: 30_000 });
  await poll(() => page.getByTestId("agent-trust").textContent()).toBe(`L3: ${TRUST_LEVEL_SUMMARIES.L3}.`);
  expect(before).not.toBe(`L3: ${TRUST_LEVEL_SUMMARIES.L3}.`);

  // A step declined in Convos: the page says so, and the level stays.
  await page.getByLabel("Level", { exact: true }).selectOption("L1");
  await page.getByRole("button", { name: "Confirm in Convos", exact: true }).click();
  const second = (await page.getByTestId("confirm-code").textContent())!;
  const declined = await questionWith(ready.conversationId, second);
  await saul.run(["conversation", "send-reply", declined.dm, declined.id, "no"]);
  await page.getByText("You declined it in Convos: nothing changed.").waitFor({ timeout: 30_000 });
  await poll(() => page.getByTestId("agent-trust").textContent()).toBe(`L3: ${TRUST_LEVEL_SUMMARIES.L3}.`);

  // L2: its owner's own texts wait for their yes too.
  await page.getByLabel("Level", { exact: true }).selectOption("L2");
  await page.getByRole("button", { name: "Confirm in Convos", exact: true }).click();
  const lower = await questionWith(ready.conversationId, (await page.getByTestId("confirm-code").textContent())!);
  await saul.run(["conversation", "send-reply", lower.dm, lower.id, "yes"]);
  await page.getByText("Its trust level is now L2.").waitFor({ timeout: 30_000 });

  // Saul asks in the conversation; the agent asks him there; he answers from the Approvals page, through Convos.
  const phone = pool!.sms.phone(FRIEND);
  await saul.send(`text ${FRIEND}: on my way`);
  await page.getByRole("navigation", { name: "Agent sections" }).getByRole("link", { name: "Approvals" }).click();
  const waiting = page.getByTestId("approval");
  await poll(() => waiting.count(), 60_000).toBe(1);
  await expect(waiting.first().textContent()).resolves.toContain(`To: ${FRIEND}`);
  await waiting.first().getByRole("button", { name: "Approve in Convos" }).click();
  const approve = await questionWith(ready.conversationId, (await page.getByTestId("confirm-code").textContent())!);
  expect(approve.content).toContain("Approve what I asked you: Send a text");
  await shoot(page, "agent-approvals-confirm-in-convos");
  await saul.run(["conversation", "send-reply", approve.dm, approve.id, "yes"]);
  await page.getByText("Approved: it goes ahead.").waitFor({ timeout: 30_000 });
  await phone.waitForMessage((m) => m.text === "on my way");
  await poll(() => waiting.count()).toBe(0);
  expect(phone.messages()).toHaveLength(1);
});

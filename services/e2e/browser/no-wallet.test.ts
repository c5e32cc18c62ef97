// A person who joined Convos today, with no wallet, does an owner's first
// week from the web app and their Convos app alone (docs/web.md; docs/trust.md,
// "Confirmations in Convos"), in a real browser (Debian's Chromium headless
// shell, driven by playwright-core) against the whole pool as `npm start`
// runs it, on PostgreSQL and the local XMTP node. Saul is the real Convos CLI
// serving his conversation, "Weekend away"; no key of his reaches the page or
// the test. He signs in with Convos (his CLI opens the page's link), finds
// Concierge in the store and adds it to his conversation with his session
// alone (the page says it signs nothing); he asks it to text a friend and
// approves that from the Approvals page by confirming in Convos (the pool's
// SMS stand-in receives the text once); he sets its trust to L3 with a daily
// limit of 0.01 ETH the same way (a limit above 0.05 ETH, the most one
// confirmed in Convos may be, the page refuses, naming the field, and so
// does the pool when his session asks it directly), and
// approves its first payment with his yes in Convos (a reply to its question
// in the conversation, where he asked): the pool's payment
// signer takes that limit, and the local chain (anvil) shows the coins moved;
// he teaches it something in the conversation and reads its memory on the
// page by confirming that one listing in Convos, sealed to the page's key.
// Each confirmation is found by the code the page computed, in Saul's direct
// conversation with the agent, and answered there by his CLI.
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { createPublicClient, createTestClient, http, parseEther, type Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { TemplateService } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import { TrustLevel } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import { ConfirmationService } from "@convos-pool/gen/convos/pool/v1/confirmation_service_pb.js";
import { fieldViolations, TRUST_LEVEL_SUMMARIES } from "@convos-pool/kit/content";
import { newIdentity, sampleContent, signedTemplate, tool } from "@convos-pool/kit/testing";
import { ConvosCli, saidMessage, type CliEvent } from "@convos-pool/testing/convos-cli";
import { questionWith as askedInConvos } from "./convos-questions.js";
import { sharedPool, type SharedPool } from "./shared-pool.js";
import { DESKTOP, SHOTS, launchBrowser, poll, shoot } from "./pages.js";

let xmtp: { port: number };
let dir: string;
let pool: SharedPool | undefined;
let browser: Browser | undefined;
let context: BrowserContext | undefined;
let saul: ConvosCli | undefined;
let saulInbox = "";
const FRIEND = "+15550188093";

beforeAll(async () => {
  pool = await sharedPool();
  xmtp = { port: pool.xmtpPort };
  dir = await mkdtemp(join(tmpdir(), "pool-web-no-wallet-"));
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
    await page.screenshot({ path: join(SHOTS, `failed-no-wallet-${i}.png`), fullPage: true }).catch(() => undefined);
});

const heading = (page: Page, name: string | RegExp) => page.getByRole("heading", { level: 1, name });
const section = (page: Page, name: string) =>
  page.getByRole("navigation", { name: "Agent sections" }).getByRole("link", { name }).click();

/** The agent's question with `code` in Saul's direct conversation with it (any but `home`). */
const questionWith = (home: string, code: string) =>
  askedInConvos({ cli: saul!, inboxId: saulInbox, name: "Saul" }, home, code);

/** The page's code for the step it asked, the agent's question with it in Convos, and Saul's `answer` to it there. */
async function answerInConvos(page: Page, home: string, answer: "yes" | "no") {
  const code = (await page.getByTestId("confirm-code").textContent())!;
  expect(code).toMatch(/^[0-9A-F]{4}-[0-9A-F]{4}$/);
  const question = await questionWith(home, code);
  await saul!.run(["conversation", "send-reply", question.dm, question.id, answer]);
  return question;
}

it("a person with no wallet adds an agent from the store, approves its first text, sets its trust and daily limit, approves its first payment and reads its memory, confirming each in Convos", {
  timeout: 420_000,
}, async () => {
  const transport = createConnectTransport({ baseUrl: pool!.gatewayUrl, httpVersion: "1.1" });
  await signedTemplate(
    createClient(TemplateService, transport),
    newIdentity(),
    sampleContent({
      agent_name: "Trip Concierge",
      tools: [tool("sms", "pool"), tool("crypto", "pool")],
      max_trust_level: "L3",
    }),
  );
  saul = await ConvosCli.start(
    ["agent", "serve", "--name", "Weekend away", "--profile-name", "Saul"],
    join(dir, "saul"),
    { xmtpPort: xmtp.port },
  );
  const ready = await saul.ready(60_000);
  saulInbox = ready.inboxId;
  const home = ready.conversationId;

  // Sign in with Convos: Saul's app opens the page's link. No wallet, no key kept here.
  const page = await context!.newPage();
  await page.goto("/signin");
  await page.getByRole("button", { name: "Sign in with Convos" }).click();
  const link = (await page.getByTestId("convos-link").getAttribute("href"))!;
  await saul.run(["conversations", "join", link, "--no-wait", "--profile-name", "Saul"]);
  await heading(page, "Signed in").waitFor({ timeout: 30_000 });
  expect(await page.getByTestId("inbox-id").textContent()).toBe(saulInbox);
  await expect(page.getByText(/confirm each in Convos/).count()).resolves.toBe(1);
  expect(await page.evaluate(() => localStorage.getItem("convos-pool/key"))).toBeNull();

  // The store, the template's page, "Add the agent": claimed with the session alone, which the page says.
  await page.goto("/");
  await page.getByRole("list", { name: "Templates" }).getByRole("link", { name: "Trip Concierge" }).click();
  await heading(page, "Trip Concierge").waitFor();
  await expect(page.getByTestId("claim-unsigned").textContent()).resolves.toContain("on the pool's word");
  await page.getByLabel("Conversation invite").fill(ready.inviteUrl);
  const from = saul.events.length;
  await page.getByRole("button", { name: "Add the agent" }).click();
  await page.getByText("Trip Concierge has joined the conversation.").waitFor({ timeout: 90_000 });
  const joined = await saul.waitFor<CliEvent & { inboxId: string }>(
    "member_joined",
    (e) => e.event === "member_joined",
    { from, ms: 30_000 },
  );
  const agent = { inboxId: joined.inboxId };
  const instanceId = (await page.locator(".progress code").first().textContent())!;
  expect(instanceId).toMatch(/^inst_/);
  await shoot(page, "no-wallet-joined");

  // Its first act that waits for him (L2: his own texts too), approved from the Approvals page through Convos.
  const phone = pool!.sms.phone(FRIEND);
  await page.goto(`/agents/${instanceId}`);
  await saul.send(`text ${FRIEND}: we land at noon`);
  await section(page, "Approvals");
  const waiting = page.getByTestId("approval");
  await poll(() => waiting.count(), 60_000).toBe(1);
  await expect(waiting.first().textContent()).resolves.toContain(`To: ${FRIEND}`);
  await waiting.first().getByRole("button", { name: "Approve in Convos" }).click();
  const approve = await answerInConvos(page, home, "yes");
  expect(approve.content).toContain("Approve what I asked you: Send a text");
  await page.getByText("Approved: it goes ahead.").waitFor({ timeout: 30_000 });
  await phone.waitForMessage((m) => m.text === "we land at noon");
  expect(phone.messages()).toHaveLength(1);

  // Its trust, raised to L3 with a daily limit by a confirmation in Convos: up to 0.05 ETH a day, which the page says.
  await section(page, "Trust and permissions");
  await page.getByLabel("Level", { exact: true }).selectOption("L3");
  const limit = page.getByLabel("Daily spending limit (ETH)");
  await expect(
    page.getByText(/Confirmed in Convos, at most 0\.05 ETH a day; a wallet of yours can sign/).count(),
  ).resolves.toBe(1);
  await limit.fill("0.06");
  await page.getByRole("button", { name: "Confirm in Convos", exact: true }).click();
  await page.getByText("at most 0.05 ETH a day when confirmed in Convos").first().waitFor();
  await expect(limit.getAttribute("aria-invalid")).resolves.toBe("true");
  await expect(page.getByTestId("confirm-code").count()).resolves.toBe(0);
  // Past the page, his own session asking the pool for it directly is refused the same way, naming the field.
  const session = JSON.parse((await page.evaluate(() => localStorage.getItem("convos-pool/session")))!) as {
    token: string;
  };
  const over = await createClient(ConfirmationService, transport)
    .askConfirmation(
      {
        instanceId,
        step: {
          step: {
            case: "setTrustLevel",
            value: { trustLevel: TrustLevel.OPERATOR, dailySpendLimitWei: parseEther("0.06").toString() },
          },
        },
      },
      { headers: { authorization: `Bearer ${session.token}` } },
    )
    .then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
  expect(over?.code).toBe(Code.InvalidArgument);
  expect(fieldViolations(over).map((v) => v.field)).toEqual(["step.set_trust_level.daily_spend_limit_wei"]);
  await limit.fill("0.01");
  await page.getByRole("button", { name: "Confirm in Convos", exact: true }).click();
  const trust = await answerInConvos(page, home, "yes");
  expect(trust.content).toContain("Set my trust level to L3, up to 0.01 ETH a day.");
  await page.getByText("Its trust level is now L3.").waitFor({ timeout: 30_000 });
  await poll(() => page.getByTestId("agent-trust").textContent()).toBe(
    `L3: ${TRUST_LEVEL_SUMMARIES.L3}, up to 0.01 ETH a day, confirmed in Convos.`,
  );

  // Its first payment: its wallet holds what Saul put in; he asks it to pay in the conversation and says yes in Convos.
  await section(page, "Money");
  // The card says the limit as it was set, confirmed in Convos, and what is left of it today.
  await expect(page.getByTestId("money-limit").textContent()).resolves.toBe(
    "It may pay up to 0.01 ETH a day, each payment with your yes: a limit you confirmed in Convos, up to 0.05 ETH a day max (a wallet of yours can sign more).",
  );
  await poll(() => page.getByTestId("money-spent").textContent()).toBe(
    "0 ETH of its 0.01 ETH a day, each payment with your yes · 0.01 ETH left today",
  );
  const wallet = (await page.getByTestId("wallet-address").textContent()) as Hex;
  const chain = createPublicClient({ transport: http(pool!.chainRpcUrl) });
  // Whoever funds it stands outside the test: the local chain (anvil) sets the balance.
  await createTestClient({ mode: "anvil", transport: http(pool!.chainRpcUrl) }).setBalance({
    address: wallet,
    value: parseEther("0.02"),
  });
  // Opened again, the card reads the wallet again, not what it read a moment ago.
  await section(page, "Overview");
  await section(page, "Money");
  await poll(() => page.getByTestId("money-balance").textContent(), 3_000).toBe("0.02 ETH");
  const payee = privateKeyToAccount(generatePrivateKey()).address;
  const before = await chain.getBalance({ address: wallet });
  const asked = saul.events.length;
  await saul.send(`pay ${payee} 0.001 ETH`);
  // It asks him where he asked, in the conversation, and only his answer there approves it.
  const pay = await saidMessage(saul, agent, asked, /^Saul, may I do this\?\n\nPay 0\.001 ETH\nTo: /, 60_000);
  expect(pay.content).toContain(payee);
  await saul.reply(pay.id, "yes");
  const done = await saidMessage(saul, agent, asked, /Done: paid 0\.001 ETH/, 60_000);
  expect(done.content).toMatch(/\(transaction 0x[0-9a-f]{64}\)/);
  // On the chain: the payee holds exactly what was paid, and the wallet paid it and its fee.
  expect(await chain.getBalance({ address: payee })).toBe(parseEther("0.001"));
  expect(before - (await chain.getBalance({ address: wallet }))).toBeGreaterThan(parseEther("0.001"));
  // The card, left open, follows: the payment and its fee spent from the limit, and the balance after it.
  await poll(() => page.getByTestId("money-spent").textContent(), 10_000).toMatch(
    /^0\.001\d* ETH of its 0\.01 ETH a day, each payment with your yes · 0\.00[89]\d* ETH left today$/,
  );
  await poll(() => page.getByTestId("money-balance").textContent(), 10_000).toMatch(/^0\.01[89]\d* ETH$/);
  // Taking his share out is signed by a wallet, which he has not: the card says so, and offers no button that fails.
  await expect(page.getByRole("button", { name: "Withdraw to your wallet" }).count()).resolves.toBe(0);
  await expect(page.getByTestId("withdraw-needs-wallet").textContent()).resolves.toBe(
    "Withdrawing is signed by a wallet of this inbox, which this browser does not hold (you signed in with Convos); until then your share stays in its wallet.",
  );
  await shoot(page, "no-wallet-paid");

  // What it knows: Saul teaches it in the conversation; the page shows it once he confirms that listing in Convos.
  await saidMessage(saul, agent, await saul.send("Remember that we fly out on Friday"), /Noted: you fly out on Friday/);
  // Its turns run one at a time: once the next message is answered, the first is learned.
  await saidMessage(saul, agent, await saul.send("Thanks!"), /I read: "Thanks!"/);
  await section(page, "Memory");
  await page.getByRole("button", { name: "Confirm in Convos and show what it knows" }).click();
  const listing = await answerInConvos(page, home, "yes");
  expect(listing.content).toContain("Show everything I know, and who taught it, on the pool's web page, once.");
  const known = page.getByTestId("memory-entry");
  await poll(() => known.count(), 30_000).toBe(1);
  await expect(known.first().textContent()).resolves.toContain("we fly out on Friday");
  await shoot(page, "no-wallet-memory");

  // A listing declined in Convos shows nothing new and says so.
  await page.getByRole("button", { name: "Confirm in Convos and show again" }).click();
  await answerInConvos(page, home, "no");
  await page.getByText("You declined it in Convos: nothing changed.").waitFor({ timeout: 30_000 });
});

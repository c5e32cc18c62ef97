// Sign in with Convos in a real browser (Debian's chromium, driven by
// playwright-core): the web app served by the gateway of the tier's one pool
// (shared-pool.setup.ts), whose sign-in inbox is a real XMTP client on the
// local XMTP node, on PostgreSQL, and a person who is the real Convos CLI
// opening the link the page shows, as the Convos app does.
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, BrowserContext } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { runConvos } from "@convos-pool/testing/convos-cli";
import { DESKTOP, SHOTS, shoot, launchBrowser } from "./pages.js";
import { sharedPool } from "./shared-pool.js";

/** The tier's one pool (shared-pool.setup.ts): its XMTP node's port, for the CLI, and its gateway. */
let xmtp: { port: number };
let dir: string;
let gateway: { url: string } | undefined;
let browser: Browser | undefined;
let context: BrowserContext | undefined;

beforeAll(async () => {
  const pool = await sharedPool();
  xmtp = { port: pool.xmtpPort };
  gateway = { url: pool.gatewayUrl };
  dir = await mkdtemp(join(tmpdir(), "pool-web-convos-sign-in-"));
  await mkdir(SHOTS, { recursive: true });
  browser = await launchBrowser();
  context = await browser.newContext({ baseURL: gateway.url, viewport: DESKTOP });
  context.setDefaultTimeout(20_000);
}, 180_000);

afterAll(async () => {
  await context?.close();
  await browser?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
}, 60_000);

it("a person signs in by opening the page's link in Convos, and the page names their inbox; keys are offered only in developer mode", {
  timeout: 120_000,
}, async () => {
  const page = await context!.newPage();
  await page.goto("/signin");
  await page.getByRole("heading", { level: 1, name: "Sign in" }).waitFor();
  // No key made or pasted here, unless a developer asks for it.
  expect(await page.getByRole("button", { name: "Create a key and sign in" }).count()).toBe(0);
  expect(await page.getByRole("button", { name: "Import and sign in" }).count()).toBe(0);
  // This browser has no wallet: none is offered, nor named.
  await page.getByText("Sign in as yourself in Convos: no wallet is needed.").waitFor();
  expect(await page.getByRole("button", { name: "Connect the wallet and sign in" }).count()).toBe(0);

  await page.getByRole("button", { name: "Sign in with Convos" }).click();
  const code = (await page.getByTestId("convos-code").textContent())!;
  expect(code).toMatch(/^[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}$/);
  await page.getByRole("img", { name: /QR code/ }).waitFor();
  const link = (await page.getByTestId("convos-link").getAttribute("href"))!;
  expect(link).toMatch(/^https:\/\/popup\.convos\.org\/v2\?i=/);
  await shoot(page, "sign-in-convos-code");
  // Read before the join: once it is accepted the page moves on to "Signed in", and the code's panel goes.
  const signInInbox = await page.getByTestId("sign-in-inbox").textContent();

  const joined = await runConvos<{ inboxId: string; creatorInboxId: string }>(
    ["conversations", "join", link, "--no-wait", "--profile-name", "Saul"],
    join(dir, "saul"),
    { xmtpPort: xmtp.port, timeoutMs: 60_000 },
  );
  expect(joined.creatorInboxId).toBe(signInInbox);

  await page.getByRole("heading", { level: 1, name: "Signed in" }).waitFor({ timeout: 30_000 });
  expect(await page.getByTestId("inbox-id").textContent()).toBe(joined.inboxId);
  await page.getByText("Signed in with Convos.").waitFor();
  expect(await page.getByRole("link", { name: /^Signed in · / }).getAttribute("title")).toBe(joined.inboxId);
  await shoot(page, "signed-in-convos");

  // Still signed in after a reload: the session is kept as a wallet's is.
  await page.reload();
  await page.getByRole("heading", { level: 1, name: "Signed in" }).waitFor();
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByRole("heading", { level: 1, name: "Sign in" }).waitFor();

  await page.goto("/signin?developer=1");
  await page.getByRole("button", { name: "Create a key and sign in" }).waitFor();
  await page.getByRole("button", { name: "Import and sign in" }).waitFor();
});

// The studio's pickers and a template's face in the store, in a real browser
// (Debian's Chromium headless shell, driven by playwright-core) against the real gateway
// serving the built app, with the templates service behind it on PostgreSQL
// (no other service: nothing here claims an agent). The model picker lists
// the models the pool is configured with; the creator picks one, adds a tool
// the pool provides and one the user provides by its kind, and gives an
// avatar and conversation starters; the store's card and the template's page
// show them.
import { mkdir } from "node:fs/promises";
import { createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import type { Browser } from "playwright-core";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, expect, it } from "vitest";
import { TemplateService } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import { NO_LIMITS, createLogger, generateServiceCredentials } from "@convos-pool/kit/server";
import { deriveInboxId } from "@convos-pool/kit/signing";
import { createTestDatabase } from "@convos-pool/testing";
import { sampleContent, signedTemplate } from "@convos-pool/kit/testing";
import { startGateway, type RunningGateway } from "@convos-pool/gateway";
import { startTemplateService, type RunningTemplateService } from "@convos-pool/templates";
import { ensureWebBuild } from "@convos-pool/web";
import { DESKTOP, SHOTS, poll, shoot, launchBrowser } from "./pages.js";

const CREDS = generateServiceCredentials();
const quiet = (name: string) => createLogger(name, { level: "silent" });
const MODELS = ["gpt-oss-20b", "acme-large"];

let templates: RunningTemplateService;
let gateway: RunningGateway;
let api: Client<typeof TemplateService>;
let browser: Browser;

beforeAll(async () => {
  await mkdir(SHOTS, { recursive: true });
  const webDir = await ensureWebBuild();
  templates = await startTemplateService({
    databaseUrl: await createTestDatabase("webf_templates"),
    credentials: CREDS.templates,
    models: MODELS,
    log: quiet("templates"),
  });
  gateway = await startGateway({
    templatesUrl: templates.url,
    credentials: CREDS.gateway,
    limits: NO_LIMITS,
    webDir,
    databaseUrl: await createTestDatabase("webf_gateway"),
    log: quiet("gateway"),
  });
  // Any client of the pool: the gateway, as the page and `pool` reach it.
  api = createClient(TemplateService, createConnectTransport({ baseUrl: gateway.url, httpVersion: "1.1" }));
  browser = await launchBrowser();
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await gateway?.close();
  await templates?.close();
}, 60_000);

it("the studio offers the pool's models and tools as pickers, and the store shows the avatar and conversation starters the creator gave", {
  timeout: 120_000,
}, async () => {
  const privateKey = generatePrivateKey();
  const account = privateKeyToAccount(privateKey);
  const creator = { account, inboxId: deriveInboxId(account.address) };
  const t = await signedTemplate(
    api,
    creator,
    sampleContent({ agent_name: "Kyoto Guide", tools: [], instructions: "You plan trips to Kyoto." }),
  );
  expect((await api.listModels({})).models).toEqual(MODELS);

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

    await page.goto(`/studio/${t.id}`);
    await poll(() => page.getByTestId("base-version").textContent()).toMatch(/^Version 2 · public/);
    // The models are the pool's list, nothing typed.
    const model = page.getByLabel("Default model");
    await poll(() => model.locator("option").allTextContents()).toEqual(MODELS);
    expect(await model.inputValue()).toBe("gpt-oss-20b");
    await model.selectOption("acme-large");

    // Tools by what provides them: the pool's mailbox, and a web address the user gives.
    const picker = page.getByLabel("Add a tool");
    expect(await picker.locator("optgroup").evaluateAll((gs) => gs.map((g) => g.getAttribute("label")))).toEqual([
      "The pool provides",
      "The user provides",
    ]);
    await picker.selectOption("pool:email");
    await page.getByRole("group", { name: "Tool 1" }).waitFor();
    expect(await page.getByLabel("Tool id").first().inputValue()).toBe("email");
    // Once added, the pool's mailbox is no longer offered.
    expect(await picker.locator('option[value="pool:email"]').count()).toBe(0);
    await picker.selectOption("user:url");
    const second = page.getByRole("group", { name: "Tool 2" });
    await second.getByLabel("Tool id").fill("blog");
    await second.getByLabel("Prompt").fill("Your blog's address?");
    expect(await second.getByLabel("Value").inputValue()).toBe("url");

    await page.getByLabel("Avatar").fill("🧭");
    await page.getByLabel("Conversation starters").fill("Plan a weekend in Kyoto\n\nWhat should I pack?\n");
    await page.getByRole("button", { name: "Sign and save a new version" }).click();
    await page.getByText("Saved.").waitFor();
    const saved = (await api.getTemplate({ templateId: t.id })).template!.content!;
    expect(saved.model?.default).toBe("acme-large");
    expect(saved.tools.map((x) => [x.id, x.kind])).toEqual([
      ["email", 0],
      ["blog", 5],
    ]);
    expect(saved.avatar).toBe("🧭");
    expect(saved.conversationStarters).toEqual(["Plan a weekend in Kyoto", "What should I pack?"]);
    await shoot(page, "studio-pickers");

    // The store's card and the template's page show its face.
    await page.goto(`/?q=${encodeURIComponent("Kyoto Guide")}`);
    const card = page.locator("li.card").filter({ hasText: "Kyoto Guide" });
    await card.getByRole("img", { name: "Kyoto Guide's avatar" }).waitFor();
    expect(await card.getByRole("img", { name: "Kyoto Guide's avatar" }).textContent()).toBe("🧭");
    expect(await card.getByRole("list", { name: "Conversation starters" }).locator("li").allTextContents()).toEqual([
      "“Plan a weekend in Kyoto”",
      "“What should I pack?”",
    ]);
    await shoot(page, "store-card-face");
    await card.getByRole("link", { name: "Kyoto Guide" }).click();
    await page.getByRole("heading", { level: 1, name: "Kyoto Guide" }).waitFor();
    expect(await page.getByRole("list", { name: "Conversation starters" }).locator("li").count()).toBe(2);
    expect(await page.getByRole("img", { name: "Kyoto Guide's avatar" }).textContent()).toBe("🧭");
  } finally {
    await context.close();
  }
});

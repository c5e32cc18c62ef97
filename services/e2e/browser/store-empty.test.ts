// The store before anything is published, in a real browser (Debian's
// Chromium headless shell, driven by playwright-core) against the real
// gateway serving the built app, with the templates service behind it on
// PostgreSQL: services of its own, since the tier's one pool
// (shared-pool.setup.ts) is never empty once its other files have begun.
// Nothing here claims an agent, so no other service is started.
import { mkdir } from "node:fs/promises";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, it } from "vitest";
import { NO_LIMITS, createLogger, generateServiceCredentials } from "@convos-pool/kit/server";
import { createTestDatabase } from "@convos-pool/testing";
import { startGateway, type RunningGateway } from "@convos-pool/gateway";
import { startTemplateService, type RunningTemplateService } from "@convos-pool/templates";
import { ensureWebBuild } from "@convos-pool/web";
import { DESKTOP, SHOTS, launchBrowser, shoot } from "./pages.js";

const CREDS = generateServiceCredentials();
const quiet = (name: string) => createLogger(name, { level: "silent" });

let templates: RunningTemplateService | undefined;
let gateway: RunningGateway | undefined;
let browser: Browser | undefined;

beforeAll(async () => {
  await mkdir(SHOTS, { recursive: true });
  const webDir = await ensureWebBuild();
  templates = await startTemplateService({
    databaseUrl: await createTestDatabase("web_empty_templates"),
    credentials: CREDS.templates,
    log: quiet("templates"),
  });
  gateway = await startGateway({
    templatesUrl: templates.url,
    credentials: CREDS.gateway,
    limits: NO_LIMITS,
    webDir,
    databaseUrl: await createTestDatabase("web_empty_gateway"),
    log: quiet("gateway"),
  });
  browser = await launchBrowser();
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await gateway?.close();
  await templates?.close();
}, 60_000);

it("a store with nothing published says it is empty", async () => {
  const context = await browser!.newContext({ baseURL: gateway!.url, viewport: DESKTOP });
  context.setDefaultTimeout(20_000);
  try {
    const page = await context.newPage();
    await page.goto("/");
    await page.getByRole("heading", { level: 1, name: "Agent store" }).waitFor();
    await page.getByText("The store is empty").waitFor();
    await shoot(page, "store-empty");
  } finally {
    await context.close();
  }
});

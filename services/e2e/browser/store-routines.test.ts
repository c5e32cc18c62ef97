// A template's routines on its store page (docs/templates.md, "Routines"),
// in a real browser (Debian's Chromium headless shell, driven by
// playwright-core) against the real gateway serving the built app, with the
// templates service behind it on PostgreSQL: services of its own, as
// store-empty's. Nothing here claims an agent, so no other service is
// started. What must hold: a person sees what its agents do on a schedule,
// as they see its tools, before adding one; a template without routines
// shows no such section.
import { mkdir } from "node:fs/promises";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { TemplateService } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import { NO_LIMITS, createLogger, generateServiceCredentials } from "@convos-pool/kit/server";
import { newIdentity, sampleContent, signedTemplate } from "@convos-pool/kit/testing";
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
    databaseUrl: await createTestDatabase("web_routines_templates"),
    credentials: CREDS.templates,
    log: quiet("templates"),
  });
  gateway = await startGateway({
    templatesUrl: templates.url,
    credentials: CREDS.gateway,
    limits: NO_LIMITS,
    webDir,
    databaseUrl: await createTestDatabase("web_routines_gateway"),
    log: quiet("gateway"),
  });
  browser = await launchBrowser();
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await gateway?.close();
  await templates?.close();
}, 60_000);

it("a template's page lists its routines as it lists its tools, and a template without any shows none", async () => {
  const client = createClient(TemplateService, createConnectTransport({ baseUrl: gateway!.url, httpVersion: "1.1" }));
  const creator = newIdentity();
  const template = await signedTemplate(
    client,
    creator,
    sampleContent({
      agent_name: "Planner",
      routines: [
        {
          id: "weekly-plan",
          name: "The week's plan",
          rrule: "FREQ=WEEKLY;BYDAY=MO",
          time: "09:00",
          instruction: "Post the week's plan.",
        },
        {
          id: "rent",
          name: "Rent",
          rrule: "FREQ=MONTHLY;BYMONTHDAY=1",
          time: "08:30",
          instruction: "Remind everyone the rent is due.",
        },
      ],
    }),
  );
  const plain = await signedTemplate(client, creator, sampleContent({ agent_name: "Plain" }));
  const context = await browser!.newContext({ baseURL: gateway!.url, viewport: DESKTOP });
  context.setDefaultTimeout(20_000);
  try {
    const page = await context.newPage();
    await page.goto(`/templates/${template.id}`);
    await page.getByRole("heading", { level: 1, name: "Planner" }).waitFor();
    const routines = page.getByTestId("routines").locator("li");
    expect(await routines.allTextContents()).toEqual([
      "The week's plan every Monday at 9:00Post the week's plan.",
      "Rent on the 1st of each month at 8:30Remind everyone the rent is due.",
    ]);
    await shoot(page, "template-routines");
    await page.goto(`/templates/${plain.id}`);
    await page.getByRole("heading", { level: 1, name: "Plain" }).waitFor();
    expect(await page.getByTestId("routines").count()).toBe(0);
  } finally {
    await context.close();
  }
});

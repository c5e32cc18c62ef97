// An owner's reminder on their agent's page (docs/web.md, "Reminders"), in a
// real browser (Debian's Chromium headless shell, driven by playwright-core,
// its clock in New York) against the whole pool as `npm start` runs it, on
// PostgreSQL and the local XMTP node, its hosts keeping time at the claims
// service (SCHEDULES_URL). Rosa is the real Convos CLI serving her
// conversation, "Hotel run"; she signs in with Convos (her CLI opens the
// page's link), adds Concierge from its template's page, and asks it in the
// conversation for a zone and a reminder, as people do: the agent shows it
// back and keeps it with the claims service. The page lists it in her terms;
// she pauses, resumes and cancels it there, and then the section says how to
// ask for one while the pool's own listing (ScheduleService, her session) is
// empty. Nothing fires here: the firing is docs/schedules.md's tests'.
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { TemplateService } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import { ScheduleService } from "@convos-pool/gen/convos/pool/v1/schedule_service_pb.js";
import { newIdentity, sampleContent, signedTemplate } from "@convos-pool/kit/testing";
import { ConvosCli, said, type CliEvent } from "@convos-pool/testing/convos-cli";
import { sharedPool, type SharedPool } from "./shared-pool.js";
import { DESKTOP, SHOTS, launchBrowser, poll, shoot } from "./pages.js";

let dir: string;
let pool: SharedPool | undefined;
let browser: Browser | undefined;
let context: BrowserContext | undefined;
let rosa: ConvosCli | undefined;

beforeAll(async () => {
  pool = await sharedPool();
  dir = await mkdtemp(join(tmpdir(), "pool-web-reminders-"));
  await mkdir(SHOTS, { recursive: true });
  browser = await launchBrowser();
  // A reader six hours behind the reminder's zone: the page says both.
  context = await browser.newContext({
    baseURL: pool.gatewayUrl,
    viewport: DESKTOP,
    locale: "en-US",
    timezoneId: "America/New_York",
  });
  context.setDefaultTimeout(20_000);
}, 180_000);

afterAll(async () => {
  await context?.close().catch(() => undefined);
  await browser?.close();
  await rosa?.stop();
  await pool?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
}, 60_000);

afterEach(async ({ task }) => {
  if (task.result?.state !== "fail") return;
  for (const [i, page] of (context?.pages() ?? []).entries())
    await page.screenshot({ path: join(SHOTS, `failed-reminders-${i}.png`), fullPage: true }).catch(() => undefined);
});

const heading = (page: Page, name: string | RegExp) => page.getByRole("heading", { level: 1, name });

it("the owner's reminder asked in Convos is listed on the agent's page in her terms, paused, resumed and moved there, and cancelled there it is gone from the page and the pool", {
  timeout: 120_000,
}, async () => {
  const transport = createConnectTransport({ baseUrl: pool!.gatewayUrl, httpVersion: "1.1" });
  const template = await signedTemplate(
    createClient(TemplateService, transport),
    newIdentity(),
    sampleContent({ agent_name: "Concierge", tools: [] }),
  );
  rosa = await ConvosCli.start(["agent", "serve", "--name", "Hotel run", "--profile-name", "Rosa"], join(dir, "rosa"), {
    xmtpPort: pool!.xmtpPort,
  });
  const ready = await rosa.ready(60_000);

  // Signed in with Convos: her app opens the page's link.
  const page = await context!.newPage();
  await page.goto("/signin");
  await page.getByRole("button", { name: "Sign in with Convos" }).click();
  const link = (await page.getByTestId("convos-link").getAttribute("href"))!;
  await rosa.run(["conversations", "join", link, "--no-wait", "--profile-name", "Rosa"]);
  await heading(page, "Signed in").waitFor({ timeout: 30_000 });

  // Concierge added to "Hotel run" from its template's page.
  await page.goto(`/templates/${template.id}`);
  await heading(page, "Concierge").waitFor();
  await page.getByLabel("Conversation invite").fill(ready.inviteUrl);
  const from = rosa.events.length;
  await page.getByRole("button", { name: "Add the agent" }).click();
  await page.getByText("Concierge has joined the conversation.").waitFor({ timeout: 90_000 });
  const joined = await rosa.waitFor<CliEvent & { inboxId: string }>(
    "member_joined",
    (e) => e.event === "member_joined",
    {
      from,
      ms: 30_000,
    },
  );
  const agent = { inboxId: joined.inboxId };
  const instanceId = (await page.locator(".progress code").first().textContent())!;
  expect(instanceId).toMatch(/^inst_/);

  // Asked in the conversation, as people ask: the zone, then the reminder, shown back by the agent.
  await said(rosa, agent, await rosa.send("Concierge, time zone Europe/Paris"), /time zone is now Europe\/Paris/);
  const shown = await said(
    rosa,
    agent,
    await rosa.send("Concierge, remind us tomorrow at 9 to call the hotel"),
    /^I'll remind you/,
  );
  expect(shown).toMatch(/^I'll remind you tomorrow at 9:00 \(Europe\/Paris\): call the hotel$/);

  // Listed under the conversation's name in her terms: when next where she reads it and in its own zone.
  await page.goto(`/agents/${instanceId}`);
  await page.getByRole("navigation", { name: "Agent sections" }).getByRole("link", { name: "Reminders" }).click();
  const section = page.getByRole("region", { name: "Reminders", exact: true });
  const reminder = section.getByTestId("reminder");
  await poll(() => reminder.count(), 15_000).toBe(1);
  await poll(() => section.getByRole("heading", { level: 3 }).textContent(), 15_000).toBe("Hotel run");
  await expect(reminder.getByTestId("reminder-what").textContent()).resolves.toBe("call the hotel");
  // New York is six hours behind Paris: 9:00 there is 3:00 here, its day in words from the reader's today.
  await expect(reminder.getByTestId("reminder-next").textContent()).resolves.toMatch(
    /^(today|tomorrow|[A-Z][a-z]{2} \d{1,2}), 3:00\sAM your time; (today|tomorrow) at 9:00 \(Europe\/Paris\)$/,
  );
  await expect(reminder.getByTestId("reminder-often").textContent()).resolves.toBe("once");
  await expect(reminder.getByTestId("reminder-asked-by").textContent()).resolves.toBe("you");
  await expect(reminder.getByTestId("reminder-state").textContent()).resolves.toBe("active");
  await shoot(page, "agent-reminders");

  // Paused and resumed from the page: the pool's answer is what the line then says.
  const state = reminder.getByTestId("reminder-state");
  await section.getByRole("button", { name: 'Pause "call the hotel"' }).click();
  await section.getByText("Paused: it does not fire until you resume it.").waitFor();
  await poll(() => state.textContent()).toBe("paused");
  await section.getByRole("button", { name: 'Resume "call the hotel"' }).click();
  await section.getByText("Resumed: it fires from its next time.").waitFor();
  await poll(() => state.textContent()).toBe("active");

  // Moved from the page: the same day at 10:30 in its own zone, 4:30 where she reads it.
  await section.getByRole("button", { name: 'Move "call the hotel"' }).click();
  const move = section.getByRole("form", { name: 'Move "call the hotel"' });
  await move.locator('input[name="time"]').fill("10:30");
  await move.getByRole("button", { name: "Move it" }).click();
  await section.getByText("Moved: it fires at 10:30 on the same day.").waitFor();
  await poll(() => reminder.getByTestId("reminder-next").textContent(), 15_000).toMatch(
    /4:30\sAM your time; (today|tomorrow) at 10:30 \(Europe\/Paris\)$/,
  );

  // Cancelled from the page: gone there, the sentence on how to ask for one shown, and the pool lists nothing.
  page.once("dialog", (d) => void d.accept());
  await section.getByRole("button", { name: 'Cancel "call the hotel"' }).click();
  await section.getByText("Cancelled: it will not fire again.").waitFor();
  await poll(() => reminder.count()).toBe(0);
  await section.getByText(/remind us Friday at 6 to book the table/).waitFor();
  const session = JSON.parse((await page.evaluate(() => localStorage.getItem("convos-pool/session")))!) as {
    token: string;
  };
  const listed = await createClient(ScheduleService, transport).listSchedules(
    { instanceId },
    { headers: { authorization: `Bearer ${session.token}` } },
  );
  expect(listed.items).toEqual([]);
});

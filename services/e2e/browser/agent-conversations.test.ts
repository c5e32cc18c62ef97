// An owner's agent in two Convos conversations, from its page, in a real
// browser (Debian's Chromium headless shell, driven by playwright-core)
// against the whole pool as `npm start` runs it, on PostgreSQL and the local
// XMTP node. Both conversations are served by the real Convos CLI, each its
// own person: the agent is claimed into the first from the template's page,
// and its owner adds it to the second by that one's invite in the
// Conversations section (signed AddToConversation, the agent let in by the
// second CLI), sees both listed, then takes it out of the second (signed
// RemoveFromConversation). A bad invite is refused by the invite's field.
// While it is in both, the owner shares what a member of the first taught it
// with the memory page's "In all my conversations" toggle (signed
// ShareMemory, checked and kept by the agent), and My agents lists it under
// both conversations, its home marked.
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, BrowserContext, Locator, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { ConvosCli } from "@convos-pool/testing/convos-cli";
import { TemplateService } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import { newIdentity, sampleContent, signedTemplate } from "@convos-pool/kit/testing";
import { DESKTOP, SHOTS, expectConsoleErrors, launchBrowser, poll, refused, shoot } from "./pages.js";
import { sharedPool, type SharedPool } from "./shared-pool.js";

/** The tier's one pool (shared-pool.setup.ts), and its XMTP node's port for this file's Convos CLIs. */
let xmtp: { port: number };
let dir: string;
let pool: SharedPool | undefined;
let browser: Browser | undefined;
const clis: ConvosCli[] = [];
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  pool = await sharedPool();
  xmtp = { port: pool.xmtpPort };
  dir = await mkdtemp(join(tmpdir(), "pool-web-conversations-"));
  await mkdir(SHOTS, { recursive: true });
  browser = await launchBrowser();
}, 180_000);

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await browser?.close();
  for (const cli of clis) await cli.stop();
  await pool?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
}, 60_000);

afterEach(async ({ task }) => {
  if (task.result?.state !== "fail") return;
  for (const [i, page] of contexts.flatMap((c) => c.pages()).entries()) {
    await page
      .screenshot({ path: join(SHOTS, `failed-conversations-${i}.png`), fullPage: true })
      .catch(() => undefined);
  }
});

/** A Convos conversation served by its own Convos CLI, which lets in whoever asks to join. */
async function conversation(name: string, person: string) {
  const cli = await ConvosCli.start(
    ["agent", "serve", "--name", name, "--profile-name", person],
    join(dir, `cli-${clis.length}`),
    { xmtpPort: xmtp.port },
  );
  clis.push(cli);
  return { ...(await cli.ready(60_000)), cli };
}

/** Its sections' navigation, by link, waiting until the section is shown. */
async function openSection(page: Page, name: string): Promise<Locator> {
  await page.getByRole("navigation", { name: "Agent sections" }).getByRole("link", { name, exact: true }).click();
  const section = page.getByRole("region", { name, exact: true });
  await section.waitFor();
  return section;
}

const heading = (page: Page, name: string | RegExp) => page.getByRole("heading", { level: 1, name });

it("the owner adds their agent to a second conversation from its page, sees both, shares a member's fact with all of them, finds it under both in My agents, takes it out of the second, and a bad invite is refused by its field", {
  timeout: 300_000,
}, async () => {
  const agentName = "Concierge";
  const gateway = createClient(
    TemplateService,
    createConnectTransport({ baseUrl: pool!.gatewayUrl, httpVersion: "1.1" }),
  );
  const template = await signedTemplate(gateway, newIdentity(), sampleContent({ agent_name: agentName, tools: [] }));
  const trip = await conversation("Lisbon trip", "Ana");
  const club = await conversation("Dinner club", "Dan");

  // The owner claims the agent into "Lisbon trip" from the template's page.
  const context = await browser!.newContext({ baseURL: pool!.gatewayUrl, viewport: DESKTOP });
  context.setDefaultTimeout(20_000);
  contexts.push(context);
  const owner = await context.newPage();
  await owner.goto("/signin?developer=1");
  await owner.getByRole("button", { name: "Create a key and sign in" }).click();
  await heading(owner, "Signed in").waitFor();
  await owner.goto(`/templates/${template.id}`);
  await heading(owner, agentName).waitFor();
  await owner.getByLabel("Conversation invite").fill(trip.inviteUrl);
  await owner.getByRole("button", { name: "Add the agent" }).click();
  await owner.getByText(`${agentName} has joined the conversation.`).waitFor({ timeout: 60_000 });
  const instanceId = (await owner.locator(".progress code").first().textContent())!;
  expect(instanceId).toMatch(/^inst_/);

  // Ana, a member there, teaches it a fact (the offline model notes it); its turns run one at a time, so once her
  // next message is answered the first is learned.
  const answered = async (text: string, answer: RegExp) => {
    const from = await trip.cli.send(text);
    await trip.cli.waitFor(
      `the agent's answer ${answer}`,
      (e) =>
        e.event === "message" &&
        e.senderInboxId !== trip.inboxId &&
        answer.test(String((e as { content?: unknown }).content)),
      { from, ms: 30_000 },
    );
  };
  await answered("Remember that we fly out on Friday", /Noted: you fly out on Friday/);
  await answered("Thanks!", /I read: "Thanks!"/);

  // Its page lists the one conversation, the home, with no way to leave it.
  await owner.goto(`/agents/${instanceId}?section=conversations`);
  const section = owner.getByRole("region", { name: "Conversations", exact: true });
  await section.waitFor();
  const listed = section.getByTestId("conversation");
  const names = () => listed.locator("strong").allTextContents();
  const facts = () => listed.locator(".meta").allTextContents();
  const homes = () => listed.locator(".tag").allTextContents();
  await poll(names, 30_000).toEqual(["Lisbon trip"]);
  expect(await homes()).toEqual(["home"]);
  expect((await facts())[0]).toMatch(/^in it · speaks: by the conversation's size · tools shared · joined /);
  await expect(section.getByRole("button", { name: /^Leave/ }).count()).resolves.toBe(0);

  // A bad invite: refused, and said by the invite's field.
  expectConsoleErrors(refused("AddToConversation", 400));
  const invite = section.getByLabel("Conversation invite");
  await invite.fill("not an invite");
  await section.getByRole("button", { name: "Sign and add it" }).click();
  await poll(() => invite.getAttribute("aria-invalid")).toBe("true");
  const described = (await invite.getAttribute("aria-describedby"))!.split(" ");
  const errorId = described.find((id) => id.endsWith("-error"))!;
  await expect(owner.locator(`[id="${errorId}"]`).textContent()).resolves.toBe(
    "is not a Convos invite (a link or its slug)",
  );
  await section.getByRole("alert").getByText("The marked field says what to change.").waitFor();

  // The owner adds it to "Dinner club" by its invite, tools off, speaking when mentioned; it says it is joining.
  await invite.fill(club.inviteUrl);
  await section.getByLabel("Tools there").selectOption("none");
  await section.getByLabel("When it speaks there").selectOption("mention");
  await section.getByRole("button", { name: "Sign and add it" }).click();
  await section.getByTestId("conversation-joining").waitFor();
  await section.getByText("It has joined: it answers there as you chose.").waitFor({ timeout: 90_000 });
  expect(await invite.getAttribute("aria-invalid")).toBeNull();
  // Named as the agent reads the group's metadata: polled, since the name comes with its next report.
  await poll(names, 30_000).toEqual(["Lisbon trip", "Dinner club"]);
  await expect(listed.nth(0).locator(".tag").textContent()).resolves.toBe("home");
  expect(await homes()).toEqual(["home"]);
  expect((await facts())[1]).toMatch(/^in it · speaks: when mentioned · no tools · joined /);
  // Both may be left now that there are two.
  await expect(section.getByRole("button", { name: /^Leave/ }).count()).resolves.toBe(2);
  await shoot(owner, "agent-conversations");

  // What Ana taught is known in "Lisbon trip" only, by the conversation's name; the owner shares it with all its
  // conversations by the toggle (signed ShareMemory), and the agent keeps it so: listed again, it is still shared.
  const memory = await openSection(owner, "Memory");
  await memory.getByRole("button", { name: "Sign and show what it knows" }).click();
  const fact = memory.getByTestId("memory-entry").filter({ hasText: "we fly out on Friday" });
  await fact.waitFor();
  // Named as the conversation she taught in names her (her own profile), not by her inbox.
  await poll(() => fact.getByTestId("memory-taught-by").textContent()).toBe(
    "Taught by Ana, a member · in conversation Lisbon trip",
  );
  const reach = fact.getByTestId("memory-reach");
  const toggle = fact.getByLabel("In all my conversations");
  await expect(reach.textContent()).resolves.toBe("Only in Lisbon trip.");
  await expect(toggle.isChecked()).resolves.toBe(false);
  await toggle.click();
  await poll(() => reach.textContent(), 30_000).toBe("Known in all its conversations: you shared it.");
  await expect(toggle.isChecked()).resolves.toBe(true);
  await memory.getByRole("button", { name: "Sign and show again" }).click();
  await memory.getByRole("button", { name: "Sign and show again" }).waitFor();
  await poll(() => reach.textContent(), 30_000).toBe("Known in all its conversations: you shared it.");
  await expect(toggle.isChecked()).resolves.toBe(true);
  await shoot(owner, "agent-memory-shared");
  // Taken back: known where it was said only, as the agent answers when listed again.
  await toggle.click();
  await poll(() => reach.textContent(), 30_000).toBe("Only in Lisbon trip.");
  await memory.getByRole("button", { name: "Sign and show again" }).click();
  await memory.getByRole("button", { name: "Sign and show again" }).waitFor();
  await poll(() => toggle.isChecked()).toBe(false);
  await toggle.click();
  await poll(() => reach.textContent(), 30_000).toBe("Known in all its conversations: you shared it.");

  // My agents: the agent under both conversations, marked home in "Lisbon trip", and its page reached from either.
  await owner.getByRole("link", { name: "My agents", exact: true }).click();
  await heading(owner, "My agents").waitFor();
  const under = (name: string) =>
    owner
      .locator("section.conversation")
      .filter({ has: owner.getByTestId("conversation-name").getByText(name, { exact: true }) });
  await poll(() => owner.getByTestId("conversation-name").allTextContents(), 30_000).toEqual([
    "Dinner club",
    "Lisbon trip",
  ]);
  const home = under("Lisbon trip").getByTestId("agent-card");
  const added = under("Dinner club").getByTestId("agent-card");
  await expect(home.locator(".tag").allTextContents()).resolves.toEqual(["home"]);
  await expect(home.getByTestId("agent-elsewhere").textContent()).resolves.toBe("Its home; also in Dinner club.");
  await expect(added.locator("h3 .tag").count()).resolves.toBe(0);
  await expect(added.getByTestId("agent-elsewhere").textContent()).resolves.toBe(
    "Added here; its home is Lisbon trip.",
  );
  await shoot(owner, "my-agents-two-conversations");
  // A search narrows the list: by a conversation's name the agent is found; by another word nothing is, and the page says so.
  const search = owner.getByRole("searchbox", { name: "Search" });
  await search.fill("dinner");
  await poll(() => owner.getByTestId("agent-card").count()).toBe(2);
  await search.fill("paris");
  await owner.getByText("No agent of yours matches.").waitFor();
  await expect(owner.getByTestId("agents-shown").textContent()).resolves.toBe("0 of 1 agent");
  await search.fill("");
  await owner.getByLabel("Show").selectOption("ended");
  await owner.getByText("No agent of yours matches.").waitFor();
  await owner.getByLabel("Show").selectOption("live");
  await poll(() => owner.getByTestId("agent-card").count()).toBe(2);
  await added.getByRole("link", { name: agentName }).click();
  await heading(owner, agentName).waitFor();
  await owner.goto(`/agents/${instanceId}?section=conversations`);
  await section.waitFor();

  // Taken out of "Dinner club": one conversation again, its home kept.
  owner.once("dialog", (d) => void d.accept());
  await section.getByRole("button", { name: "Leave Dinner club" }).click();
  await section.getByText("It left Dinner club.").waitFor({ timeout: 60_000 });
  await poll(names, 30_000).toEqual(["Lisbon trip"]);
  await expect(section.getByRole("button", { name: /^Leave/ }).count()).resolves.toBe(0);
  await owner.reload();
  await section.waitFor();
  await poll(names).toEqual(["Lisbon trip"]);
  expect(await homes()).toEqual(["home"]);

  // And My agents lists it once again, as any agent of one conversation: no home to mark.
  await owner.getByRole("link", { name: "My agents", exact: true }).click();
  await heading(owner, "My agents").waitFor();
  await poll(() => owner.getByTestId("conversation-name").allTextContents(), 30_000).toEqual(["Lisbon trip"]);
  await expect(owner.getByTestId("agent-card").count()).resolves.toBe(1);
  await expect(owner.getByTestId("agent-elsewhere").count()).resolves.toBe(0);
});

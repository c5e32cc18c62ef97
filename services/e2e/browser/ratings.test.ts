// Ratings in the web app (docs/store.md, "Ratings"; docs/web.md) in a real
// browser (Debian's Chromium headless shell, driven by playwright-core) against the real
// gateway serving the built app, with the templates, claims and lineage
// services behind it on PostgreSQL; the templates service asks the claims
// service who owns agents, and the lineage service (fed by the claims
// service's relay) on how many days their agent answered other people. The
// claims service's instance host is its tests' stand-in: agents are
// claimed, never spoken to. A day is made to pass by moving the claims
// database's record of when an owner took an agent back; an agent's days
// with others are written to the lineage database as its signed counts
// would have left them (lineage's test/days-with-others.ts).
// An owner of an hour is told why they cannot rate yet; a day later, why
// still not (no one else used their agent); once others did on three days
// they rate in the page (signed), the store shows stars once three owners rated and
// sorts "Top rated"; someone reports a review, the creator answers one, and
// an operator removes the reported one from the curation page.
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import type { Browser, Page } from "playwright-core";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, expect, it } from "vitest";
import { ClaimService } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import { TemplateRatingService } from "@convos-pool/gen/convos/pool/v1/rating_service_pb.js";
import { TemplateService } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import { CALLER_HEADER } from "@convos-pool/kit/content";
import {
  NO_LIMITS,
  createLogger,
  createServiceClient,
  generateServiceCredentials,
  type ServiceClient,
} from "@convos-pool/kit/server";
import { deriveInboxId, signOperation } from "@convos-pool/kit/signing";
import { createTestDatabase, freePort } from "@convos-pool/testing";
import { newIdentity, sampleContent, signedTemplate, type TestIdentity } from "@convos-pool/kit/testing";
import { OPEN_BUDGET, SecretBox, startClaimsService, type RunningClaimsService } from "@convos-pool/claims";
import { StandInHost } from "@convos-pool/claims/testing/stand-in-host";
import { startGateway, type RunningGateway } from "@convos-pool/gateway";
import { startLineageService, type RunningLineageService } from "@convos-pool/lineage";
import { answeredOthersOn } from "@convos-pool/lineage/testing/days-with-others";
import { startTemplateService, type RunningTemplateService } from "@convos-pool/templates";
import { ensureWebBuild } from "@convos-pool/web";
import { DESKTOP, SHOTS, poll, shoot, launchBrowser } from "./pages.js";

const CREDS = generateServiceCredentials();
const quiet = (name: string) => createLogger(name, { level: "silent" });

/** A person whose key the browser holds, as the sign-in page keeps one. */
function browserIdentity() {
  const privateKey = generatePrivateKey();
  const account = privateKeyToAccount(privateKey);
  return { privateKey, account, inboxId: deriveInboxId(account.address) };
}
const operator = browserIdentity();

let dir: string;
let templates: RunningTemplateService;
let host: StandInHost;
let claims: RunningClaimsService;
let lineage: RunningLineageService;
let lineageDb: string;
let gateway: RunningGateway;
let browser: Browser;
let sql: pg.Client;
let templatesSc: ServiceClient<typeof TemplateService>;
let claimsSc: ServiceClient<typeof ClaimService>;
let ratingsSc: ServiceClient<typeof TemplateRatingService>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "pool-web-ratings-"));
  await mkdir(SHOTS, { recursive: true });
  const webDir = await ensureWebBuild();
  const [claimsPort, lineagePort] = [await freePort(), await freePort()];
  templates = await startTemplateService({
    databaseUrl: await createTestDatabase("webr_templates"),
    credentials: CREDS.templates,
    operators: [operator.inboxId],
    claimsUrl: `http://127.0.0.1:${claimsPort}`,
    lineageUrl: `http://127.0.0.1:${lineagePort}`,
    log: quiet("templates"),
  });
  lineageDb = await createTestDatabase("webr_lineage");
  lineage = await startLineageService({
    databaseUrl: lineageDb,
    port: lineagePort,
    host: "127.0.0.1",
    credentials: CREDS.lineage,
    templatesUrl: templates.url,
    log: quiet("lineage"),
  });
  host = await StandInHost.start(CREDS["instance-host"]);
  const claimsDb = await createTestDatabase("webr_claims");
  claims = await startClaimsService({
    budget: OPEN_BUDGET,
    databaseUrl: claimsDb,
    port: claimsPort,
    host: "127.0.0.1",
    credentials: CREDS.claims,
    templatesUrl: templates.url,
    secretsKey: SecretBox.generateKey(),
    dataDir: join(dir, "claims"),
    smsRange: "+15550720000..+15550720009",
    pool: { hostUrls: [host.url], target: 4, intervalMs: 3_600_000 },
    limits: NO_LIMITS,
    lineageUrl: lineage.url,
    log: quiet("claims"),
  });
  sql = new pg.Client({ connectionString: claimsDb });
  await sql.connect();
  gateway = await startGateway({
    templatesUrl: templates.url,
    claimsUrl: claims.url,
    credentials: CREDS.gateway,
    limits: NO_LIMITS,
    webDir,
    databaseUrl: await createTestDatabase("webr_gateway"),
    log: quiet("gateway"),
  });
  templatesSc = createServiceClient(TemplateService, templates.url, CREDS.gateway);
  claimsSc = createServiceClient(ClaimService, claims.url, CREDS.gateway);
  ratingsSc = createServiceClient(TemplateRatingService, templates.url, CREDS.gateway);
  browser = await launchBrowser();
}, 240_000);

afterAll(async () => {
  await browser?.close();
  for (const sc of [templatesSc, claimsSc, ratingsSc]) sc?.close();
  await sql?.end();
  await gateway?.close();
  await claims?.close();
  await host?.kill();
  await lineage?.close();
  await templates?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
}, 60_000);

const as = (inboxId: string) => ({ headers: { [CALLER_HEADER]: inboxId } });

/** `inboxId` adds an agent of the template; returns its id. */
async function claim(inboxId: string, templateId: string): Promise<string> {
  await claims.pool!.reconcile();
  const res = await claimsSc.client.claim(
    {
      requester: inboxId,
      templateId,
      conversationInvite: `https://dev.convos.org/v2?i=web-${randomBytes(4).toString("hex")}`,
    },
    as(inboxId),
  );
  return res.instanceId;
}

/** The claims service's record of when the agent's owner took it, `hours` back. */
const heldFor = (instanceId: string, hours: number) =>
  sql.query(
    `update instances set claimed_at = now() - make_interval(hours => $2), owner_since = now() - make_interval(hours => $2) where id = $1`,
    [instanceId, hours],
  );

/** The agent answered two people besides its owner today and on the two days before, as lineage has it from its signed counts. */
async function usedByOthers(instanceId: string): Promise<void> {
  await claims.lineage!.drained();
  await answeredOthersOn(lineageDb, instanceId, [0, 1, 2]);
}

async function rateAs(who: TestIdentity, templateId: string, stars: number, review: string) {
  const signature = await signOperation(who.account, "RateTemplate", {
    inboxId: who.inboxId,
    templateId,
    stars,
    review,
  });
  await ratingsSc.client.rateTemplate({ templateId, raterId: who.inboxId, stars, review, signature });
}

/** A signed-in page of `who`'s browser. */
async function signedIn(who: { privateKey: string; account: { address: string } }): Promise<Page> {
  const context = await browser.newContext({ baseURL: gateway.url, viewport: DESKTOP });
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
  return page;
}

it("tells an owner of an hour why not, and a day later what use by others is missing; takes their signed rating once others used their agent on three days, shows stars from three and sorts top rated; reports, answers and removes a review", {
  timeout: 180_000,
}, async () => {
  const creatorKey = browserIdentity();
  const creator = { account: creatorKey.account, inboxId: creatorKey.inboxId };
  const t = await signedTemplate(
    templatesSc.client,
    creator,
    sampleContent({ tools: [], agent_name: "Kyoto Guide", description: "Plans a week in Kyoto.", category: "travel" }),
  );
  const [ana, ben] = [newIdentity(), newIdentity()];
  for (const o of [ana, ben]) {
    const agent = await claim(o.inboxId, t.id);
    await heldFor(agent, 72);
    await usedByOthers(agent);
  }
  await rateAs(ana, t.id, 5, "Found us a quiet ryokan.\nBooked the tea ceremony too.");
  await rateAs(ben, t.id, 2, "BUY CHEAP FLIGHTS at example.com");

  const owner = browserIdentity();
  const agent = await claim(owner.inboxId, t.id);
  await heldFor(agent, 1);
  const page = await signedIn(owner);
  try {
    await page.goto(`/templates/${t.id}`);
    const reviews = page.getByRole("region", { name: "Ratings and reviews" });
    await reviews.waitFor();
    // Two ratings: no figures yet, and the owner of an hour is told why they cannot rate.
    await reviews.getByText("Not enough ratings yet").waitFor();
    await poll(() => reviews.getByTestId("why-not-rate").textContent()).toMatch(/after a day with their agent/);
    expect(await page.getByTestId("stars").count()).toBe(0);

    // A day later: no one but its owner has spoken to the agent yet, and the page says what is needed.
    await heldFor(agent, 30);
    await page.reload();
    await poll(() => reviews.getByTestId("why-not-rate").textContent()).toMatch(
      /answered at least two other people on three days; yours has not yet/,
    );
    await usedByOthers(agent);
    await page.reload();
    const form = reviews.getByRole("form", { name: "Rate this template" });
    await form.waitFor();
    await form.getByLabel("Rate it").selectOption("4");
    // Markup is shown as the characters it is.
    await form.getByLabel("Review (optional)").fill("Good day plans. <b>Not bold</b>");
    await form.getByRole("button", { name: "Sign and rate" }).click();
    await reviews.getByText("Thank you for rating it.").waitFor();
    await poll(() => reviews.getByTestId("stars").first().getAttribute("aria-label")).toBe(
      "Rated 3.7 out of 5 by 3 owners",
    );
    await poll(() => reviews.getByTestId("review").count()).toBe(3);
    expect(await reviews.getByTestId("review").first().textContent()).toContain("<b>Not bold</b>");
    expect(await reviews.locator("b").count()).toBe(0);

    // The owner reports Ben's advertisement.
    const spam = reviews.getByTestId("review").filter({ hasText: "BUY CHEAP FLIGHTS" });
    await spam.getByText("Report this review").click();
    await spam.getByLabel("What is wrong with this review").fill("An advertisement, not a review.");
    await spam.getByRole("button", { name: "Report" }).click();
    await spam.getByText("Thank you: the pool's operators will look at it.").waitFor();
    // docs/web-ratings-desktop.png and -phone.png are these photographs, copied by hand (docs/web.md).
    await shoot(page, "ratings-template");

    // The store: stars on the card, and "Top rated" puts it above an unrated template.
    const other = await signedTemplate(
      templatesSc.client,
      newIdentity(),
      sampleContent({ tools: [], agent_name: "Unrated" }),
    );
    await page.goto("/?sort=top-rated");
    const cards = page.getByRole("list", { name: "Templates" }).getByRole("listitem");
    await poll(() => cards.count()).toBeGreaterThanOrEqual(2);
    const names = await cards.getByRole("heading").allTextContents();
    expect(names.indexOf("Kyoto Guide")).toBeLessThan(names.indexOf("Unrated"));
    expect(await cards.filter({ hasText: "Kyoto Guide" }).getByTestId("stars").getAttribute("aria-label")).toBe(
      "Rated 3.7 out of 5 by 3 owners",
    );
    expect(await cards.filter({ hasText: other.content!.agentName }).getByTestId("stars").count()).toBe(0);
    expect(await page.getByLabel("Sort by").inputValue()).toBe("top-rated");
    await shoot(page, "ratings-store");
  } finally {
    await page.context().close();
  }

  // The creator answers Ana's review, once; they are offered no rating of their own.
  const creatorPage = await signedIn(creatorKey);
  try {
    await creatorPage.goto(`/templates/${t.id}`);
    const reviews = creatorPage.getByRole("region", { name: "Ratings and reviews" });
    await poll(() => reviews.getByTestId("why-not-rate").textContent()).toMatch(/its creator cannot rate it/);
    const anas = reviews.getByTestId("review").filter({ hasText: "quiet ryokan" });
    await anas.getByText("Answer this review").click();
    await anas.getByLabel("Your answer").fill("Thank you, Ana!");
    await anas.getByRole("button", { name: "Sign and answer" }).click();
    await poll(() => anas.getByTestId("answer").textContent()).toContain("Thank you, Ana!");
    expect(await anas.getByText("Answer this review").count()).toBe(0);
  } finally {
    await creatorPage.context().close();
  }

  // An operator removes the reported review from the curation page; the curation log keeps who and why.
  const opPage = await signedIn(operator);
  try {
    await opPage.goto("/operators");
    const item = opPage.getByTestId("reported-review").filter({ hasText: "BUY CHEAP FLIGHTS" });
    await item.waitFor();
    expect(await item.textContent()).toContain("An advertisement, not a review.");
    await item.getByLabel("Why remove it").fill("Advertising.");
    await shoot(opPage, "ratings-operators");
    await item.getByRole("button", { name: "Sign and remove the review" }).click();
    await opPage.getByText("Removed: its words are out of the store; its stars still count.").waitFor();
    await poll(() => item.count()).toBe(0);
    await opPage.goto(`/templates/${t.id}`);
    const reviews = opPage.getByRole("region", { name: "Ratings and reviews" });
    await poll(() => reviews.getByTestId("review").count()).toBe(2);
    expect(await reviews.textContent()).not.toContain("BUY CHEAP FLIGHTS");
    expect(await reviews.getByTestId("stars").getAttribute("aria-label")).toBe("Rated 3.7 out of 5 by 3 owners");
  } finally {
    await opPage.context().close();
  }
});

// Every page of the web app at a phone's width (390 px), in a real browser
// (Debian's Chromium headless shell, driven by playwright-core) against the real gateway
// serving the built app, with the templates, claims and lineage services on
// PostgreSQL behind it. The claims service's instance host is its tests'
// stand-in: the agent is claimed, never spoken to, so its page shows what the
// pool holds of it; its wallet is on the real local chain (anvil), whose
// balance the stand-in reads as an agent does, and its conversation's name is
// what the stand-in reports for it. Every route the app's router knows (read from
// src/app.tsx, so a new page cannot be left out) is opened signed out and
// signed in, every section of an agent's page too, and none may be wider
// than the phone. The page's icon is checked to load.
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, expect, it } from "vitest";
import { ClaimService } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import { RolloutAction, RolloutService } from "@convos-pool/gen/convos/pool/v1/rollout_service_pb.js";
import type { Template } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import { TemplateService } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import { CALLER_HEADER, contentFromJson, contentToJson, jsonHash } from "@convos-pool/kit/content";
import {
  NO_LIMITS,
  createLogger,
  createServiceClient,
  generateServiceCredentials,
  type ServiceClient,
} from "@convos-pool/kit/server";
import { deriveInboxId, rolloutBoundsHash, rolloutBoundsJson, signOperation } from "@convos-pool/kit/signing";
import { createTestDatabase, freePort } from "@convos-pool/testing";
import { sampleContent, signedTemplate, tool } from "@convos-pool/kit/testing";
import { startLocalChain, type RunningChain } from "@convos-pool/local-providers";
import { OPEN_BUDGET, SecretBox, startClaimsService, type RunningClaimsService } from "@convos-pool/claims";
import { StandInHost } from "@convos-pool/claims/testing/stand-in-host";
import { startGateway, type RunningGateway } from "@convos-pool/gateway";
import { startLineageService, type RunningLineageService } from "@convos-pool/lineage";
import { startTemplateService, type RunningTemplateService } from "@convos-pool/templates";
import { ensureWebBuild } from "@convos-pool/web";
import { PHONE, SHOTS, expectConsoleErrors, launchBrowser, outOfReach, poll, refused } from "./pages.js";

const CREDS = generateServiceCredentials();
const quiet = (name: string) => createLogger(name, { level: "silent" });
const WEB = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "web", "src");
const APP = join(WEB, "app.tsx");
/** The agent page's sections, by their id in the address, read from `agentSections` so that none is left out. */
async function agentSectionIds(): Promise<string[]> {
  const source = await readFile(join(WEB, "agent", "agent.tsx"), "utf8");
  const body = source.slice(source.indexOf("export function agentSections("));
  return [...body.slice(0, body.indexOf("\n}\n")).matchAll(/\bid: "([a-z-]+)"/g)].map((m) => m[1]!);
}

/** A person whose key the browser holds, as the sign-in page keeps one; the creator, owner and operator here. */
const privateKey = generatePrivateKey();
const account = privateKeyToAccount(privateKey);
const person = { account, inboxId: deriveInboxId(account.address) };

let dir: string;
let templates: RunningTemplateService;
let host: StandInHost;
let lineage: RunningLineageService;
let claims: RunningClaimsService;
let gateway: RunningGateway;
let browser: Browser;
let chain: RunningChain;
let templatesSc: ServiceClient<typeof TemplateService>;
let claimsSc: ServiceClient<typeof ClaimService>;
let rolloutsSc: ServiceClient<typeof RolloutService>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "pool-web-phone-"));
  await mkdir(SHOTS, { recursive: true });
  const webDir = await ensureWebBuild();
  const claimsPort = await freePort();
  templates = await startTemplateService({
    databaseUrl: await createTestDatabase("webf_templates"),
    credentials: CREDS.templates,
    operators: [person.inboxId],
    claimsUrl: `http://127.0.0.1:${claimsPort}`,
    log: quiet("templates"),
  });
  host = await StandInHost.start(CREDS["instance-host"]);
  chain = await startLocalChain();
  host.chainRpcUrl = chain.rpcUrl;
  lineage = await startLineageService({
    databaseUrl: await createTestDatabase("webf_lineage"),
    credentials: CREDS.lineage,
    templatesUrl: templates.url,
    log: quiet("lineage"),
  });
  claims = await startClaimsService({
    budget: OPEN_BUDGET,
    databaseUrl: await createTestDatabase("webf_claims"),
    port: claimsPort,
    host: "127.0.0.1",
    credentials: CREDS.claims,
    templatesUrl: templates.url,
    secretsKey: SecretBox.generateKey(),
    dataDir: join(dir, "claims"),
    smsRange: "+15550740000..+15550740009",
    lineageUrl: lineage.url,
    chain: { rpcUrl: chain.rpcUrl, faucetKey: chain.faucetKey },
    pool: { hostUrls: [host.url], target: 2, intervalMs: 3_600_000 },
    limits: NO_LIMITS,
    log: quiet("claims"),
  });
  gateway = await startGateway({
    templatesUrl: templates.url,
    claimsUrl: claims.url,
    lineageUrl: lineage.url,
    credentials: CREDS.gateway,
    limits: NO_LIMITS,
    webDir,
    databaseUrl: await createTestDatabase("webf_gateway"),
    log: quiet("gateway"),
  });
  templatesSc = createServiceClient(TemplateService, templates.url, CREDS.gateway);
  claimsSc = createServiceClient(ClaimService, claims.url, CREDS.gateway);
  rolloutsSc = createServiceClient(RolloutService, templates.url, CREDS.gateway);
  browser = await launchBrowser();
}, 240_000);

afterAll(async () => {
  await browser?.close();
  for (const sc of [templatesSc, claimsSc, rolloutsSc]) sc?.close();
  await gateway?.close();
  await claims?.close();
  await lineage?.close();
  await host?.kill();
  await templates?.close();
  await chain?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
}, 60_000);

/** A rollout of `t` to 10% with new instructions, signed as the studio signs one (docs/rollouts.md); its id. */
async function startRollout(t: Template): Promise<string> {
  const before = contentToJson(t.content!);
  const content = { ...before, instructions: `${before.instructions} Ask for the budget first.` };
  const [common, next] = [{ inboxId: person.inboxId, templateId: t.id }, t.version + 1n];
  const res = await rolloutsSc.client.startRollout(
    {
      templateId: t.id,
      expectedVersion: t.version,
      content: contentFromJson(content),
      signature: await signOperation(account, "UpdateTemplate", {
        ...common,
        version: t.version,
        contentHash: jsonHash(content),
      }),
      shareBasisPoints: 1_000,
      fallbackSignature: await signOperation(account, "RollbackTemplate", {
        ...common,
        version: next,
        targetVersion: t.version,
        contentHash: jsonHash(before),
      }),
      stepSignature: await signOperation(account, "RolloutStep", {
        ...common,
        version: next,
        action: RolloutAction.START,
        shareBasisPoints: 1_000,
        boundsHash: rolloutBoundsHash(rolloutBoundsJson({})),
      }),
    },
    { headers: { [CALLER_HEADER]: person.inboxId } },
  );
  return res.rollout!.rolloutId;
}

/** The paths the router knows, as written in src/app.tsx (`route("/studio/:id", …)`). */
async function routerPaths(): Promise<string[]> {
  const source = await readFile(APP, "utf8");
  return [...source.matchAll(/route\("([^"]+)"/g)].map((m) => m[1]!);
}

/** A phone's browser; with the person's key kept as the sign-in page keeps it when `signIn`. */
async function phone(signIn: boolean): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ baseURL: gateway.url, viewport: PHONE });
  context.setDefaultTimeout(20_000);
  const page = await context.newPage();
  if (signIn) {
    await context.addInitScript(
      (file) => {
        if (!localStorage.getItem("convos-pool/key")) localStorage.setItem("convos-pool/key", file);
      },
      JSON.stringify({ address: account.address, private_key: privateKey, created_at: new Date().toISOString() }),
    );
    await page.goto("/signin");
    await page.getByRole("button", { name: "Sign in with it" }).click();
    await page.getByRole("heading", { level: 1, name: "Signed in" }).waitFor();
  }
  return { context, page };
}

/**
 * How much wider than the screen the page is once it has loaded, the widest elements that stick out, and what of its
 * navigation and actions is out of reach (outOfReach: a link in a table that scrolls sideways is).
 */
async function overflowAt(
  page: Page,
  path: string,
): Promise<{ path: string; by: number; culprits: string[]; unreachable: string[] }> {
  await page.goto(path);
  await page.locator("h1").first().waitFor();
  await page.waitForLoadState("networkidle");
  await poll(() => page.locator(".loading").count()).toBe(0);
  const unreachable = await outOfReach(page);
  // Measured against the phone's width itself: a mobile browser would widen its viewport to the content.
  const wide = await page.evaluate(
    ([path, width]) => {
      const culprits = [...document.querySelectorAll("body *")]
        // A table scrolling in its region may be wider; what is placed out of its flow (position: absolute) is not held by it.
        .filter((e) => e.getBoundingClientRect().right > width + 0.5)
        .filter(
          (e) => !e.closest(".skip") && (!e.closest(".table-wrap") || getComputedStyle(e).position === "absolute"),
        )
        .slice(0, 5)
        .map((e) => `${e.tagName.toLowerCase()}.${e.className} ${Math.round(e.getBoundingClientRect().right)} px`);
      return { path, by: document.documentElement.scrollWidth - width, culprits };
    },
    [path, PHONE.width] as const,
  );
  return { ...wide, unreachable };
}

it("every route of the app, and every section of an agent's page, fits a 390 px phone signed out and signed in; the icon loads", {
  timeout: 240_000,
}, async () => {
  // What every page has something to show: a public template with two versions, an agent of it, and a rollout.
  const t = await signedTemplate(templatesSc.client, person, sampleContent({ tools: [tool("crypto", "pool")] }));
  await claims.pool!.reconcile();
  const { instanceId } = await claimsSc.client.claim(
    {
      requester: person.inboxId,
      templateId: t.id,
      conversationInvite: `https://dev.convos.org/v2?i=web-${randomBytes(4).toString("hex")}`,
    },
    { headers: { [CALLER_HEADER]: person.inboxId } },
  );
  // The name its conversation's group has, as the agent reports it and the pool's next pass records it.
  host.conversationNames.set(instanceId, "Tokyo trip with a name long enough to wrap on a phone 🗼");
  await claims.pool!.reconcile();
  const ids: Record<string, string> = { id: t.id, rolloutId: await startRollout(t) };
  const paths = (await routerPaths()).map((pattern) =>
    pattern === "/agents/:id" ? `/agents/${instanceId}` : pattern.replace(/:(\w+)/g, (_, name: string) => ids[name]!),
  );
  // The router's whole list, and nothing it answers with its own "not found".
  expect(paths).toEqual(
    expect.arrayContaining([
      "/",
      "/studio",
      "/studio/new",
      `/studio/${t.id}/compare`,
      `/studio/${t.id}/rollouts/${ids.rolloutId}`,
    ]),
  );
  expect(paths.length).toBeGreaterThanOrEqual(12);
  const sections = await agentSectionIds();
  expect(sections).toContain("approvals");
  const everyPath = [...paths, ...sections.map((s) => `/agents/${instanceId}?section=${s}`), "/no-such-page"];

  // The stand-in host serves no approvals (InstanceApprovalService): the Approvals section's read is refused.
  expectConsoleErrors(refused("ListApprovals", 404));
  const wide: { path: string; by: number; culprits: string[]; unreachable: string[] }[] = [];
  // Signed out and signed in side by side, each phone a context of its own: most of a page's time here is the wait
  // for its network to be idle (half a second at least), not the browser's work.
  const onPhone = async (signIn: boolean) => {
    const { context, page } = await phone(signIn);
    try {
      for (const path of everyPath) {
        const o = await overflowAt(page, path);
        if (o.by > 0 || o.unreachable.length > 0)
          wide.push({ ...o, path: `${signIn ? "signed in" : "signed out"} ${path}` });
      }
      if (signIn) {
        // What the owner's pages say in people's terms, at phone width: the conversation by its name, the money by its figures.
        await page.goto(new URL("/agents", gateway.url).toString());
        await poll(() => page.getByTestId("conversation-name").first().textContent()).toBe(
          "Tokyo trip with a name long enough to wrap on a phone 🗼",
        );
        await page.goto(new URL(`/agents/${instanceId}?section=money`, gateway.url).toString());
        await poll(() => page.getByTestId("money-balance").textContent()).toBe("0 ETH");
        await poll(() => page.getByTestId("money-yours").textContent()).toBe("nothing of yours");
        await poll(() => page.getByTestId("money-spent").textContent()).toMatch(
          /^0 ETH; it pays nothing: you set no daily limit$/,
        );
      }
      // The icon the page names, served by the gateway as an SVG.
      const href = await page.locator('link[rel="icon"]').getAttribute("href");
      expect(href).toBeTruthy();
      const icon = await page.request.get(new URL(href!, gateway.url).toString());
      expect(icon.status()).toBe(200);
      expect(icon.headers()["content-type"]).toMatch(/^image\/svg\+xml/);
      expect(await icon.text()).toMatch(/^<svg[\s\S]*<\/svg>\s*$/);
    } finally {
      await context.close();
    }
  };
  await Promise.all([onPhone(false), onPhone(true)]);
  expect(wide, "pages wider than a 390 px phone, or with links out of reach").toEqual([]);
});

// A creator's release notes in the studio, in a real browser (Debian's
// chromium, driven by playwright-core) against the real gateway serving the
// built app, the tier's one pool behind it (shared-pool.setup.ts; nothing
// here claims an agent, so only its templates service is used). The creator
// writes notes with a new version in the editor and with a rollback on the
// versions page; the history shows each version's notes beside its summary,
// and the store's readers get them from ListReleaseNotes through the gateway.
// Notes over the limit are refused naming the field, by the page before it
// signs and by the templates service in the same words.
import { mkdir } from "node:fs/promises";
import { ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import type { Browser, Page } from "playwright-core";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, expect, it } from "vitest";
import { TemplateService } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import { contentFromJson, contentToJson, fieldViolations, jsonHash } from "@convos-pool/kit/content";
import { deriveInboxId, signOperation } from "@convos-pool/kit/signing";
import { sampleContent, signedTemplate } from "@convos-pool/kit/testing";
import { DESKTOP, SHOTS, poll, shoot, launchBrowser } from "./pages.js";
import { sharedPool } from "./shared-pool.js";

const NOTES_FIELD = "What changed (release notes)";

/** The tier's one pool's gateway (shared-pool.setup.ts). */
let gateway: { url: string };
let api: Client<typeof TemplateService>;
let browser: Browser;

beforeAll(async () => {
  await mkdir(SHOTS, { recursive: true });
  gateway = { url: (await sharedPool()).gatewayUrl };
  // Any client of the pool: the gateway, as the page and `pool` reach it.
  api = createClient(TemplateService, createConnectTransport({ baseUrl: gateway.url, httpVersion: "1.1" }));
  browser = await launchBrowser();
}, 180_000);

afterAll(async () => {
  await browser?.close();
}, 60_000);

/** The field's input and what it says is wrong, as a screen reader finds them (aria-invalid, aria-describedby). */
async function fieldError(page: Page, label: string): Promise<string> {
  const input = page.getByLabel(label);
  await poll(() => input.getAttribute("aria-invalid")).toBe("true");
  const ids = (await input.getAttribute("aria-describedby"))!.split(" ");
  return (await page.locator(`[id="${ids[ids.length - 1]}"]`).textContent())!;
}

it("a creator writes release notes with a new version and with a rollback; the history shows them beside each summary and ListReleaseNotes gives them; notes too long are refused naming the field", {
  timeout: 120_000,
}, async () => {
  const privateKey = generatePrivateKey();
  const account = privateKeyToAccount(privateKey);
  const creator = { account, inboxId: deriveInboxId(account.address) };
  // Created and published (versions 1 and 2), so that the store's readers may read the notes that follow.
  const t = await signedTemplate(api, creator, sampleContent({ tools: [], instructions: "You plan trips." }));
  const notesOf = async () => (await api.listReleaseNotes({ templateId: t.id })).notes;

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
    const notes = page.getByLabel(NOTES_FIELD);
    const count = page.getByTestId("release-notes-count");
    expect(await count.textContent()).toBe("0 of 2,000 characters");

    // Too long: the page counts it, refuses it by the field before signing, and nothing is saved.
    await page.getByLabel("Instructions").fill("You plan trips. Answer in one sentence.");
    await notes.fill("x".repeat(2_001));
    expect(await count.textContent()).toBe("2,001 of 2,000 characters: too long");
    await page.getByRole("button", { name: "Sign and save a new version" }).click();
    const refused = await fieldError(page, NOTES_FIELD);
    expect(refused).toBe("must be at most 2000 characters");
    await page.getByRole("alert").getByText("The marked field says what to change.").waitFor();
    expect((await api.getTemplate({ templateId: t.id })).template!.version).toBe(2n);
    await shoot(page, "editor-release-notes-invalid");
    // The templates service refuses the same notes, signed, in the same words and naming the same field.
    const content = { ...contentToJson(t.content!), instructions: "You plan trips. Answer in one sentence." };
    const refusal = await api
      .updateTemplate({
        templateId: t.id,
        expectedVersion: t.version,
        content: contentFromJson(content),
        releaseNotes: "x".repeat(2_001),
        signature: await signOperation(account, "UpdateTemplate", {
          inboxId: creator.inboxId,
          templateId: t.id,
          version: t.version,
          contentHash: jsonHash(content),
        }),
      })
      .then(
        () => undefined,
        (err: unknown) => err,
      );
    expect(refusal).toBeInstanceOf(ConnectError);
    expect(fieldViolations(refusal)).toEqual([{ field: "release_notes", description: refused }]);

    // Within the limit (an emoji counts as one), saved with the new version; the field empties for the next.
    const written = "Answers in one sentence.\nAsks for the dates first 📅";
    await notes.fill(written);
    expect(await count.textContent()).toBe(`${[...written].length} of 2,000 characters`);
    await page.getByRole("button", { name: "Sign and save a new version" }).click();
    await page.getByText("Saved.").waitFor();
    await poll(() => page.getByTestId("base-version").textContent()).toMatch(/^Version 3 · public/);
    expect(await notes.inputValue()).toBe("");
    expect(await notes.getAttribute("aria-invalid")).toBeNull();
    await shoot(page, "editor-release-notes");
    expect((await notesOf()).map((n) => [n.version, n.changeSummary, n.releaseNotes])).toEqual([
      [3n, "update", written],
    ]);

    // The versions page shows them beside the version's summary, as written (line breaks kept).
    await page.getByRole("link", { name: "Versions" }).click();
    await page.getByRole("heading", { level: 1, name: `Versions of ${t.content!.agentName}` }).waitFor();
    const version = (n: number) => page.locator("ol.versions > li").filter({ hasText: new RegExp(`^v${n} `) });
    await poll(() => version(3).getByTestId("version-notes").textContent()).toBe(written);
    expect(await version(2).getByTestId("version-notes").count()).toBe(0);

    // A rollback carries notes of its own, refused the same way when too long.
    await page.getByLabel(NOTES_FIELD).fill("y".repeat(2_001));
    await page.getByRole("button", { name: "Roll back to version 2" }).click();
    expect(await fieldError(page, NOTES_FIELD)).toBe("must be at most 2000 characters");
    expect((await api.getTemplate({ templateId: t.id })).template!.version).toBe(3n);
    const back = "Back to longer answers: one sentence was too short for a trip.";
    await page.getByLabel(NOTES_FIELD).fill(back);
    await page.getByRole("button", { name: "Roll back to version 2" }).click();
    await page.getByText("Rolled back: version 4 has the content of version 2.").waitFor();
    await poll(() => version(4).getByTestId("version-notes").textContent()).toBe(back);
    expect(await version(4).textContent()).toContain("rollback to v2");
    expect(await page.getByLabel(NOTES_FIELD).inputValue()).toBe("");
    await shoot(page, "history-release-notes");
    expect((await notesOf()).map((n) => [n.version, n.releaseNotes])).toEqual([
      [4n, back],
      [3n, written],
    ]);
  } finally {
    await context.close();
  }
});

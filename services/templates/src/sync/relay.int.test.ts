// Instruction sync from the templates side: the outbox written with each
// content change, and the relay that hands content versions to a
// TemplateSyncService. The receiver here is a test server of that contract
// (the real one is the claims service).
import { create } from "@bufbuild/protobuf";
import type { Client } from "@connectrpc/connect";
import pg from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { TemplateChange, type SignedTemplate } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import { TemplatePatchSchema, TemplateService } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import { generateServiceCredentials, createLogger, createServiceClient } from "@convos-pool/kit/server";
import {
  CALLER_HEADER,
  applyPatch,
  contentFromJson,
  contentToJson,
  jsonHash,
  patchToJson,
  type TemplateContentJson,
} from "@convos-pool/kit/content";
import {
  DerivedInboxResolver,
  SignatureVerifier,
  signOperation,
  verifyTemplateRelease,
  LOCAL_POOL_ID,
} from "@convos-pool/kit/signing";
import { openDatabase } from "@convos-pool/kit/service";
import { createTestDatabase, waitFor } from "@convos-pool/testing";
import {
  newIdentity,
  sampleContent,
  signedContentUpdate,
  signedPublish,
  signedTemplate,
  type TestIdentity,
} from "@convos-pool/kit/testing";
import { TemplateRow, TemplateVersionRow } from "../db/entities.js";
import { migrations } from "../db/migrations.js";
import { signedTemplateAt } from "../release/signed.js";
import { startTemplateService, type RunningTemplateService, type TemplateServiceOptions } from "../server.js";
import { Receiver } from "../../test/sync-receiver.js";

const CREDS = generateServiceCredentials();
const verifier = new SignatureVerifier({ poolId: LOCAL_POOL_ID, resolver: new DerivedInboxResolver() });

let receiver: Receiver;
const logLines: string[] = [];
const running: RunningTemplateService[] = [];
const sqls: pg.Client[] = [];

/** A templates service on `databaseUrl`; relaying to the receiver unless `sync` is false. */
async function templates(
  databaseUrl: string,
  sync: boolean | Partial<NonNullable<TemplateServiceOptions["sync"]>> = true,
) {
  const service = await startTemplateService({
    databaseUrl,
    credentials: CREDS.templates,
    log: createLogger("templates", { level: "debug", sink: (line) => logLines.push(line) }),
    sync: sync
      ? {
          claimsUrl: receiver.server.url,
          intervalMs: 100,
          backoff: { initialMs: 100, maxMs: 400 },
          ...(sync === true ? {} : sync),
        }
      : undefined,
  });
  running.push(service);
  return { service, client: createServiceClient(TemplateService, service.url, CREDS.gateway).client };
}

async function database() {
  const url = await createTestDatabase("templates_sync");
  const sql = new pg.Client({ connectionString: url });
  sqls.push(sql);
  return { url, sql };
}

async function outbox(sql: pg.Client, templateId: string) {
  const r = await sql.query(`select version, attempts, last_error from template_sync_outbox where template_id = $1`, [
    templateId,
  ]);
  return r.rows as { version: number; attempts: number; last_error: string | null }[];
}

type Templates = Client<typeof TemplateService>;

const update = (client: Templates, c: TestIdentity, id: string, base: bigint, content: TemplateContentJson) =>
  signedContentUpdate(client, c, { id, version: base }, content);

const publish = (client: Templates, c: TestIdentity, id: string, base: bigint) =>
  signedPublish(client, c, { id, version: base });

async function verifies(t: SignedTemplate, creator: TestIdentity): Promise<boolean> {
  return (
    (await verifyTemplateRelease(verifier, t, { templateId: t.templateId, creatorId: creator.inboxId })) ===
    creator.account.address
  );
}

beforeAll(async () => {
  receiver = await new Receiver(CREDS.claims).start();
});

afterEach(() => receiver.reset());

afterAll(async () => {
  for (const s of running) await s.close();
  await receiver?.server.close();
  for (const s of sqls) await s.end().catch(() => {});
});

describe("instruction sync: outbox and relay", () => {
  it("delivers PUT, PATCH and rollback as signed releases that verify; create and publish push nothing", async () => {
    const db = await database();
    await db.sql.connect();
    // No timer to speak of: each delivery here comes from the kick after the change.
    const { client } = await templates(db.url, { intervalMs: 60_000 });
    const alice = newIdentity();
    const t = await signedTemplate(client, alice, sampleContent(), "private");
    const v2 = await update(client, alice, t.id, 1n, sampleContent({ instructions: "Version two." }));
    await waitFor("v2", () => receiver.of(t.id).length === 1);

    const patch = create(TemplatePatchSchema, { description: "Patched" });
    const patched = applyPatch(contentToJson(v2.content!), patchToJson(patch));
    const patchSig = await signOperation(alice.account, "PatchTemplate", {
      inboxId: alice.inboxId,
      templateId: t.id,
      version: 2n,
      patchHash: jsonHash(patchToJson(patch)),
      contentHash: jsonHash(patched),
    });
    await client.patchTemplate({ templateId: t.id, expectedVersion: 2n, patch, signature: patchSig });
    await waitFor("v3", () => receiver.of(t.id).length === 2);

    const rbSig = await signOperation(alice.account, "RollbackTemplate", {
      inboxId: alice.inboxId,
      templateId: t.id,
      version: 3n,
      targetVersion: 1n,
      contentHash: jsonHash(contentToJson(t.content!)),
    });
    await client.rollbackTemplate({ templateId: t.id, expectedVersion: 3n, targetVersion: 1n, signature: rbSig });
    await waitFor("v4", () => receiver.of(t.id).length === 3);

    const [u, p, r] = receiver.of(t.id);
    expect([u, p, r].map((x) => [x!.version, x!.change])).toEqual([
      [2n, TemplateChange.UPDATE],
      [3n, TemplateChange.PATCH],
      [4n, TemplateChange.ROLLBACK],
    ]);
    expect(u!.content?.instructions).toBe("Version two.");
    expect(contentToJson(p!.content!)).toEqual(patched);
    expect(p!.patchHash).toBe(jsonHash(patchToJson(patch)));
    expect(r!.content).toEqual(t.content);
    expect(r!.rollbackTargetVersion).toBe(1n);
    for (const x of [u, p, r]) expect(await verifies(x!, alice)).toBe(true);
    // Passed on unchanged: the pool cannot alter a release.
    const edited = { ...r!, content: contentFromJson(sampleContent({ instructions: "Obey the pool." })) };
    await expect(
      verifyTemplateRelease(verifier, edited, { templateId: t.id, creatorId: alice.inboxId }),
    ).rejects.toThrow(/not signed by/);

    await waitFor("the outbox to empty", async () => (await outbox(db.sql, t.id)).length === 0);
    const pub = await publish(client, alice, t.id, 4n);
    expect([pub.version, pub.contentVersion]).toEqual([5n, 4n]);
    // Read in this order, no wait needed: a push the publish had queued would
    // be a row committed with it, still here, or gone only once the receiver
    // had counted its call (a row is deleted on the push's acknowledgement).
    expect(await outbox(db.sql, t.id)).toEqual([]);
    expect(receiver.calls).toBe(3);
  });

  it("writes the outbox row in the change's transaction: a refused change leaves none", async () => {
    const db = await database();
    await db.sql.connect();
    const { client } = await templates(db.url, false);
    expect(logLines.some((l) => l.includes("instruction sync is off"))).toBe(true);
    const alice = newIdentity();
    const t = await signedTemplate(client, alice, sampleContent(), "private");
    expect(await outbox(db.sql, t.id)).toEqual([]); // create: no instances to sync yet

    // Stale (based on version 2, which does not exist): refused, nothing written.
    const content = sampleContent({ instructions: "Stale." });
    const stale = await signOperation(alice.account, "UpdateTemplate", {
      inboxId: alice.inboxId,
      templateId: t.id,
      version: 2n,
      contentHash: jsonHash(content),
    });
    await expect(
      client.updateTemplate({
        templateId: t.id,
        expectedVersion: 2n,
        content: contentFromJson(content),
        signature: stale,
      }),
    ).rejects.toThrow(/at version 1, not 2/);
    expect(await outbox(db.sql, t.id)).toEqual([]);

    // A replayed signature: the nonce check fails inside the transaction, after the version check.
    const good = await signOperation(alice.account, "UpdateTemplate", {
      inboxId: alice.inboxId,
      templateId: t.id,
      version: 1n,
      contentHash: jsonHash(content),
    });
    await client.updateTemplate({
      templateId: t.id,
      expectedVersion: 1n,
      content: contentFromJson(content),
      signature: good,
    });
    expect(await outbox(db.sql, t.id)).toEqual([{ version: 2, attempts: 0, last_error: null }]);
    const again = sampleContent({ instructions: "Again." });
    await expect(
      client.updateTemplate({
        templateId: t.id,
        expectedVersion: 2n,
        content: contentFromJson(again),
        signature: good,
      }),
    ).rejects.toThrow();
    expect(await outbox(db.sql, t.id)).toEqual([{ version: 2, attempts: 0, last_error: null }]);

    // The newer version replaces the waiting one; publishing leaves it alone.
    await update(client, alice, t.id, 2n, again);
    await publish(client, alice, t.id, 3n);
    expect(await outbox(db.sql, t.id)).toEqual([{ version: 3, attempts: 0, last_error: null }]);
    const got = (await client.getTemplate({ templateId: t.id }, { headers: { [CALLER_HEADER]: alice.inboxId } }))
      .template!;
    expect([got.version, got.contentVersion]).toEqual([4n, 3n]);
    expect(receiver.calls).toBe(0);
  });

  it("keeps a row while the receiver fails, retries with backoff and delivers", async () => {
    const db = await database();
    await db.sql.connect();
    const { client } = await templates(db.url);
    const alice = newIdentity();
    const t = await signedTemplate(client, alice, sampleContent(), "private");
    receiver.failNext = 3;
    await update(client, alice, t.id, 1n, sampleContent({ instructions: "Through the outage." }));
    await waitFor("a failed attempt", async () => (await outbox(db.sql, t.id))[0]?.attempts === 1);
    expect((await outbox(db.sql, t.id))[0]?.last_error).toContain("claims database unavailable");
    await waitFor("delivery", () => receiver.of(t.id).length === 1);
    expect(receiver.calls).toBe(4);
    expect(await verifies(receiver.of(t.id)[0]!, alice)).toBe(true);
    await waitFor("the outbox to empty", async () => (await outbox(db.sql, t.id)).length === 0);

    const failures = logLines.filter((l) => l.includes("template sync push failed"));
    expect(failures.length).toBeGreaterThanOrEqual(3);
    // The service token travels in every push and appears in no log line.
    for (const c of Object.values(CREDS)) expect(logLines.join("\n")).not.toContain(c.token);
  });

  it("ends on the newest of two quick updates, never acknowledging an older one after it", async () => {
    const db = await database();
    await db.sql.connect();
    const { client, service } = await templates(db.url);
    const alice = newIdentity();
    const t = await signedTemplate(client, alice, sampleContent(), "private");
    receiver.delayMs = 50;
    await update(client, alice, t.id, 1n, sampleContent({ instructions: "First." }));
    await update(client, alice, t.id, 2n, sampleContent({ instructions: "Second." }));
    await waitFor("the newest version", () => receiver.of(t.id).some((x) => x.version === 3n));
    await waitFor("the outbox to empty", async () => (await outbox(db.sql, t.id)).length === 0);
    // Nothing more can come: the relay stopped (close waits for its pushes in
    // flight), and the receiver finished the calls it had.
    await service.close();
    await waitFor("the receiver to finish its calls", () => receiver.concurrent === 0);
    const versions = receiver.of(t.id).map((x) => x.version);
    expect(versions[versions.length - 1]).toBe(3n);
    expect(versions).toEqual([...versions].sort((a, b) => Number(a - b))); // in order, if the older one went out at all
    expect(receiver.of(t.id).at(-1)?.content?.instructions).toBe("Second.");
  });

  it("delivers what was pending after a restart on the same database, several at once, bounded", async () => {
    const db = await database();
    await db.sql.connect();
    const first = await templates(db.url, false);
    const alice = newIdentity();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const t = await signedTemplate(first.client, alice, sampleContent(), "private");
      await update(first.client, alice, t.id, 1n, sampleContent({ instructions: `Pending ${i}.` }));
      ids.push(t.id);
    }
    await first.service.close();
    expect(receiver.calls).toBe(0);

    receiver.delayMs = 150;
    // Delivered from the pass at start and the ones each acknowledgement starts, not the timer.
    await templates(db.url, { concurrency: 2, intervalMs: 60_000 });
    await waitFor("every pending version", () => ids.every((id) => receiver.of(id).length >= 1));
    // Each once: a scan that read the outbox before an acknowledgement's delete does not send it again.
    expect(ids.map((id) => receiver.of(id).length)).toEqual(ids.map(() => 1));
    expect(receiver.maxConcurrent).toBe(2);
    for (const id of ids) expect(await verifies(receiver.of(id)[0]!, alice)).toBe(true);
    await waitFor(
      "the outbox to empty",
      async () => (await db.sql.query(`select 1 from template_sync_outbox`)).rowCount === 0,
    );
  });

  it("builds the signed release of any content version from its row, create included", async () => {
    const db = await database();
    const { client } = await templates(db.url, false);
    const alice = newIdentity();
    const t = await signedTemplate(client, alice, sampleContent(), "public"); // v1 create, v2 publish
    await update(client, alice, t.id, 2n, sampleContent({ instructions: "Three." }));
    const orm = await openDatabase({
      name: "templates",
      url: db.url,
      entities: [TemplateRow, TemplateVersionRow],
      migrations,
    });
    try {
      const created = await signedTemplateAt(orm.em.fork(), t.id, 1);
      expect(created?.change).toBe(TemplateChange.CREATE);
      expect(await verifies(created!, alice)).toBe(true);
      const updated = await signedTemplateAt(orm.em.fork(), t.id, 3);
      expect([updated?.change, updated?.version]).toEqual([TemplateChange.UPDATE, 3n]);
      expect(await verifies(updated!, alice)).toBe(true);
      // Publishing changed no content: there is nothing signed to pass on.
      await expect(signedTemplateAt(orm.em.fork(), t.id, 2)).rejects.toThrow(/no signed content change/);
      expect(await signedTemplateAt(orm.em.fork(), t.id, 9)).toBeUndefined();
    } finally {
      await orm.close();
    }
  });
});

// Competing relays (docs/scaling.md): two templates services on one
// PostgreSQL database, both relaying the same outbox to one TemplateSyncService
// (test/sync-receiver.ts). Each row is taken before it is pushed, so
// every pending version goes out once, from one replica or the other.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TemplateService } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import { createLogger, createServiceClient, generateServiceCredentials } from "@convos-pool/kit/server";
import { openDatabase } from "@convos-pool/kit/service";
import { createTestDatabase, waitFor } from "@convos-pool/testing";
import { newIdentity, sampleContent, signedContentUpdate, signedTemplate } from "@convos-pool/kit/testing";
import { startTemplateService, type RunningTemplateService } from "../server.js";
import { takeDueOutboxRows } from "./outbox.js";
import { Receiver } from "../../test/sync-receiver.js";
import { TemplateRow, TemplateVersionRow } from "../db/entities.js";
import { migrations } from "../db/migrations.js";

const CREDS = generateServiceCredentials();
let receiver: Receiver;
let url: string;
let sql: pg.Client;
const running: RunningTemplateService[] = [];
const ids: string[] = [];

/** A templates service on the shared database, its pushes logged to `lines`. */
async function replica(lines: string[] | undefined) {
  const service = await startTemplateService({
    databaseUrl: url,
    credentials: CREDS.templates,
    log: createLogger("templates", { level: "debug", sink: (line) => lines?.push(line) }),
    sync: lines
      ? { claimsUrl: receiver.server.url, intervalMs: 50, concurrency: 3, backoff: { initialMs: 100, maxMs: 400 } }
      : undefined,
  });
  running.push(service);
  return service;
}

beforeAll(async () => {
  receiver = await new Receiver(CREDS.claims).start();
  url = await createTestDatabase("templates_relays");
  sql = new pg.Client({ connectionString: url });
  await sql.connect();
});

afterAll(async () => {
  for (const s of running) await s.close();
  await receiver?.server.close();
  await sql?.end();
});

describe("two templates replicas relaying one outbox", () => {
  it("hands every pending version to the claims service once, the two replicas taking different rows", async () => {
    // Pending work written while no relay runs: 24 templates, each updated once.
    const writer = await replica(undefined);
    const client = createServiceClient(TemplateService, writer.url, CREDS.gateway).client;
    const alice = newIdentity();
    for (let i = 0; i < 24; i++) {
      const t = await signedTemplate(client, alice, sampleContent(), "private");
      await signedContentUpdate(client, alice, t, sampleContent({ instructions: `Pending ${i}.` }));
      ids.push(t.id);
    }
    expect((await sql.query(`select 1 from template_sync_outbox`)).rowCount).toBe(24);

    // Both at work at once: the receiver holds the pushes until six are in flight, three from each relay.
    receiver.gate = 6;
    const a: string[] = [];
    const b: string[] = [];
    await Promise.all([replica(a), replica(b)]);
    await waitFor(
      "the outbox to empty",
      async () => (await sql.query(`select 1 from template_sync_outbox`)).rowCount === 0,
      15_000,
    );
    // Once each: no row was pushed by both.
    expect(ids.map((id) => receiver.of(id).map((t) => t.version))).toEqual(ids.map(() => [2n]));
    expect(receiver.calls).toBe(24);
    const pushed = (lines: string[]) => lines.filter((l) => l.includes("template version handed to claims")).length;
    expect(pushed(a) + pushed(b)).toBe(24);
    // Both worked, at the same time: more pushes at once than one relay makes (3).
    expect(pushed(a)).toBeGreaterThan(0);
    expect(pushed(b)).toBeGreaterThan(0);
    expect(receiver.maxConcurrent).toBeGreaterThan(3);
    for (const s of running.splice(0)) await s.close();
  });

  it("leaves a row a relay took (and died with) to no other relay until its lease lapses", async () => {
    const orm = await openDatabase({ name: "templates", url, entities: [TemplateRow, TemplateVersionRow], migrations });
    try {
      const [lapsed, kept] = ids as [string, string];
      await sql.query(`insert into template_sync_outbox (template_id, version) values ($1, 2), ($2, 2)`, [
        lapsed,
        kept,
      ]);
      // As a relay killed mid-push leaves them: taken, never acknowledged.
      const taken = await takeDueOutboxRows(orm.em.fork(), 10);
      expect(taken.map((r) => r.templateId).sort()).toEqual([lapsed, kept].sort());
      expect(await takeDueOutboxRows(orm.em.fork(), 10)).toEqual([]);
      // One lapses (its lease moved back past its end), the other stays taken.
      await sql.query(
        `update template_sync_outbox set next_attempt_at = now() - interval '1 second' where template_id = $1`,
        [lapsed],
      );
      expect((await takeDueOutboxRows(orm.em.fork(), 10)).map((r) => r.templateId)).toEqual([lapsed]);
    } finally {
      await sql.query(`delete from template_sync_outbox`);
      await orm.close();
    }
  });
});

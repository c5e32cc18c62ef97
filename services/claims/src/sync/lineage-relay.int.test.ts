// The lineage outbox and its relay (lineage-relay.ts): real claims on the
// claims service (the STAND-IN host: the instance is not the subject here),
// real PostgreSQL, and the real lineage service in-process, stopped and
// started again on the same port and database to show that nothing is lost
// while it is down and nothing is applied twice. An agent's added
// conversations are moved straight in the database, as the add and remove
// flows move them.
import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LineageService } from "@convos-pool/gen/convos/pool/v1/lineage_service_pb.js";
import { createServiceClient, freePort, type ServiceClient } from "@convos-pool/kit/server";
import { signOperation, signUpdateRelease } from "@convos-pool/kit/signing";
import { createTestDatabase, waitFor } from "@convos-pool/testing";
import {
  creationNonceOf,
  newIdentity,
  sampleContent,
  signedTemplate,
  type TestIdentity,
} from "@convos-pool/kit/testing";
import { startLineageService, type RunningLineageService } from "@convos-pool/lineage";
import { RELAY_LOCK, toEvent } from "./lineage-relay.js";
import { as } from "../../test/helpers.js";
import { StandInStack } from "../../test/stand-in-stack.js";

const lineagePort = await freePort();
const stack = new StandInStack({
  name: "lineage_relay",
  smsRange: "+15550800000..+15550800009",
  lineageUrl: `http://127.0.0.1:${lineagePort}`,
});
let lineageDb: string;
let lineage: RunningLineageService | undefined;
let lineageSc: ServiceClient<typeof LineageService>;

const startLineage = async () => {
  lineage = await startLineageService({
    databaseUrl: lineageDb,
    port: lineagePort,
    credentials: stack.creds.lineage,
    templatesUrl: stack.templates.url,
  });
};
const outbox = async () =>
  (
    await stack.rows<{ kind: string; instance_id: string }>(
      `select kind, instance_id from lineage_outbox order by sequence`,
    )
  ).map((r) => [r.kind, r.instance_id]);

/** Keeps the relay out, as another replica's pass would: the same advisory lock, on a session of the test's own. */
async function holdingTheRelayLock<T>(body: () => Promise<T>): Promise<T> {
  await stack.sql.query(`select pg_advisory_lock(hashtextextended($1, 0))`, [RELAY_LOCK]);
  try {
    return await body();
  } finally {
    await stack.sql.query(`select pg_advisory_unlock(hashtextextended($1, 0))`, [RELAY_LOCK]);
  }
}

async function claim(owner: TestIdentity, templateId: string): Promise<string> {
  const invite = `https://dev.convos.org/v2?i=invite-${randomBytes(6).toString("hex")}`;
  return (
    await stack.claimsClient.claim({ requester: owner.inboxId, templateId, conversationInvite: invite }, as(owner))
  ).instanceId;
}

beforeAll(async () => {
  await stack.start();
  lineageDb = await createTestDatabase("lineage_relay_lineage");
  await startLineage();
  lineageSc = createServiceClient(LineageService, `http://127.0.0.1:${lineagePort}`, stack.creds.gateway);
}, 60_000);

afterAll(async () => {
  lineageSc?.close();
  await lineage?.close();
  await stack.close();
});

describe("the lineage relay", () => {
  it("hands every claim, removal and change of owner to the lineage service, deletes what was acknowledged, and loses nothing while it is down", async () => {
    const creator = newIdentity();
    const owner = newIdentity();
    const t = await signedTemplate(stack.templatesClient, creator, sampleContent({ tools: [] }));
    await stack.seedIdle(3);
    // The relay held off, so that what the triggers wrote can be read before it is delivered.
    const [a, b] = await holdingTheRelayLock(async () => {
      const a = await claim(owner, t.id);
      const b = await claim(owner, t.id);
      const ownerSignature = await signOperation(owner.account, "RemoveAgent", {
        inboxId: owner.inboxId,
        instanceId: a,
      });
      await stack.claimsClient.removeAgent({ instanceId: a, ownerSignature }, as(owner));
      // The trigger wrote each in the transaction of its change.
      expect(await outbox()).toEqual([
        ["claimed", a],
        ["claimed", b],
        ["ended", a],
      ]);
      return [a, b];
    });
    await stack.claims.lineage!.drained();
    expect(await outbox()).toEqual([]);
    const d1 = await lineageSc.client.getTemplateDashboard({ templateId: t.id }, as(creator));
    expect(d1).toMatchObject({ liveCount: 1n, totalCount: 2n, endedCount: 1n });
    const removed = await lineageSc.client.getLineage({ instanceId: a }, as(owner));
    expect(removed.instance?.endedAt).toBeDefined();
    // Each agent's inbox travels with its claim: whose wallet signs its daily counts (docs/signals.md).
    const inboxOf = async (db: pg.Client, table: string, column: string) =>
      (await db.query<{ inbox_id: string }>(`select inbox_id from ${table} where ${column} = $1`, [b])).rows[0]
        ?.inbox_id;
    const claimsInbox = await inboxOf(stack.sql, "instances", "id");
    expect(claimsInbox).toMatch(/^[0-9a-f]{64}$/);
    const onLineage = new pg.Client({ connectionString: lineageDb });
    await onLineage.connect();
    try {
      expect(await inboxOf(onLineage, "lineage_agents", "instance_id")).toBe(claimsInbox);
    } finally {
      await onLineage.end();
    }

    // The lineage service goes away: a claim meanwhile waits in the outbox.
    await lineage!.close();
    lineage = undefined;
    const c = await claim(owner, t.id);
    await stack.claims.lineage!.passed(); // a relay pass after the claim, which fails
    expect(await outbox()).toEqual([["claimed", c]]);

    // Back on the same port and database: delivered once.
    await startLineage();
    await stack.claims.lineage!.drained();
    const d2 = await lineageSc.client.getTemplateDashboard({ templateId: t.id }, as(creator));
    expect(d2).toMatchObject({ liveCount: 2n, totalCount: 3n, endedCount: 1n });
    const mine = await lineageSc.client.listOwnerLineage({ ownerId: owner.inboxId, includeEnded: true }, as(owner));
    expect(mine.agents.map((n) => n.instanceId).sort()).toEqual([a, b, c].sort());
  });

  it("delivers an event whose transaction commits after a later event was delivered", async () => {
    const creator = newIdentity();
    const owner = newIdentity();
    const t = await signedTemplate(stack.templatesClient, creator, sampleContent({ tools: [] }));
    await stack.seedIdle(1);
    const slow = `inst_${randomBytes(8).toString("hex")}`;
    // A claims transaction takes its outbox sequence, then is slow to commit.
    let commit!: () => void;
    const committed = new Promise<void>((resolve) => (commit = resolve));
    let written!: () => void;
    const inOutbox = new Promise<void>((resolve) => (written = resolve));
    const slowTx = stack.db.em.fork().transactional(async (tx) => {
      await tx.execute(
        `insert into lineage_outbox (kind, instance_id, payload) values ('claimed', ?, ?::jsonb)`,
        [
          slow,
          JSON.stringify({
            templateId: t.id,
            ownerId: owner.inboxId,
            parentInstanceId: "",
            conversationId: "conv-slow",
            carry: "",
          }),
        ],
        "run",
      );
      written();
      await committed;
    });
    await inOutbox;
    // Meanwhile a claim with a higher sequence commits and is delivered.
    const quick = await claim(owner, t.id);
    await stack.claims.lineage!.drained();
    expect((await lineageSc.client.getLineage({ instanceId: quick }, as(owner))).instance?.instanceId).toBe(quick);
    await holdingTheRelayLock(async () => {
      commit();
      await slowTx;
      expect(await outbox()).toEqual([["claimed", slow]]);
    });
    await stack.claims.lineage!.drained();
    expect((await lineageSc.client.getLineage({ instanceId: slow }, as(owner))).instance).toMatchObject({
      instanceId: slow,
      conversationId: "conv-slow",
    });
  });

  it("relays nothing while another replica holds the relay's lock, then everything once it is free", async () => {
    const creator = newIdentity();
    const owner = newIdentity();
    const t = await signedTemplate(stack.templatesClient, creator, sampleContent({ tools: [] }));
    await stack.seedIdle(1);
    const a = await holdingTheRelayLock(async () => {
      const id = await claim(owner, t.id);
      await stack.claims.lineage!.passed(); // a relay pass after the claim, finding the lock taken
      expect(await outbox()).toEqual([["claimed", id]]);
      return id;
    });
    await stack.claims.lineage!.drained();
    expect((await lineageSc.client.getTemplateDashboard({ templateId: t.id }, as(creator))).liveCount).toBe(1n);
    expect((await lineageSc.client.getLineage({ instanceId: a }, as(owner))).instance?.ownerId).toBe(owner.inboxId);
  });

  it("applies an acknowledged event once, even when its row comes back to the outbox (a delete lost after the answer)", async () => {
    const creator = newIdentity();
    const [owner, heir, nextHeir] = [newIdentity(), newIdentity(), newIdentity()];
    const t = await signedTemplate(stack.templatesClient, creator, sampleContent({ tools: [] }));
    await stack.seedIdle(1);
    const a = await claim(owner, t.id);
    await stack.claims.lineage!.drained();
    // Two changes of owner, straight in the claims database (the trigger writes them as a transfer would).
    const first = await holdingTheRelayLock(async () => {
      await stack.sql.query(`update instances set owner_id = $1 where id = $2`, [heir.inboxId, a]);
      await stack.sql.query(`update instances set owner_id = $1 where id = $2`, [nextHeir.inboxId, a]);
      const rows = await stack.rows<{ sequence: string; payload: unknown }>(
        `select sequence, payload from lineage_outbox where instance_id = $1 order by sequence`,
        [a],
      );
      expect(rows.map((r) => r.payload)).toEqual([{ ownerId: heir.inboxId }, { ownerId: nextHeir.inboxId }]);
      return rows[0]!;
    });
    await stack.claims.lineage!.drained();
    expect((await lineageSc.client.getLineage({ instanceId: a }, as(nextHeir))).instance?.ownerId).toBe(
      nextHeir.inboxId,
    );
    // The first change again, with its sequence: skipped, and deleted.
    await stack.sql.query(
      `insert into lineage_outbox (sequence, kind, instance_id, payload) values ($1, 'owner_changed', $2, $3)`,
      [first.sequence, a, JSON.stringify(first.payload)],
    );
    await stack.claims.lineage!.drained();
    expect((await lineageSc.client.getLineage({ instanceId: a }, as(nextHeir))).instance?.ownerId).toBe(
      nextHeir.inboxId,
    );
    const d = await lineageSc.client.getTemplateDashboard({ templateId: t.id }, as(creator));
    expect(d.owners.map((o) => [o.ownerId, o.live])).toEqual([[nextHeir.inboxId, 1n]]);
  });
});

describe("versions in the feed", () => {
  it("carries the version an agent was claimed on, each version delivered to it and its owner's pins, as lineage's history of it", async () => {
    const creator = newIdentity();
    const owner = newIdentity();
    const content = sampleContent({ tools: [] });
    const t = await signedTemplate(stack.templatesClient, creator, content);
    const v = t.contentVersion;
    await stack.seedIdle(2);
    const [a, b] = await holdingTheRelayLock(async () => {
      const a = await claim(owner, t.id);
      const b = await claim(owner, t.id);
      await stack.claimsClient.setInstancePin({ instanceId: a, pinned: true }, as(owner));
      const unpin = await signOperation(owner.account, "SetInstancePin", {
        inboxId: owner.inboxId,
        instanceId: a,
        pinned: false,
      });
      await stack.claimsClient.setInstancePin({ instanceId: a, pinned: false, ownerSignature: unpin }, as(owner));
      // Pinned, b stays on v; removed, it ends (its pin goes with it, and no version event).
      await stack.claimsClient.setInstancePin({ instanceId: b, pinned: true }, as(owner));
      const next = await signUpdateRelease(creator.account, {
        templateId: t.id,
        creatorId: creator.inboxId,
        creationNonce: creationNonceOf(t.id),
        version: v + 1n,
        content: { ...content, instructions: "Answer in haiku." },
      });
      await stack.syncClient.pushTemplateVersion({ template: next });
      await waitFor(
        "the update delivered and recorded",
        async () =>
          (await stack.rows(`select 1 from instances where id = $1 and template_version = $2`, [a, Number(v + 1n)]))
            .length === 1,
        15_000,
        25,
      );
      await stack.claimsClient.removeAgent(
        {
          instanceId: b,
          ownerSignature: await signOperation(owner.account, "RemoveAgent", { inboxId: owner.inboxId, instanceId: b }),
        },
        as(owner),
      );
      const events = await stack.rows<{ kind: string; instance_id: string; payload: Record<string, unknown> }>(
        `select kind, instance_id, payload from lineage_outbox order by sequence`,
      );
      expect(events.map((e) => [e.kind, e.instance_id, e.payload.version, e.payload.pinned])).toEqual([
        ["claimed", a, `${v}`, undefined],
        ["claimed", b, `${v}`, undefined],
        ["version_changed", a, `${v}`, true],
        ["version_changed", a, `${v}`, false],
        ["version_changed", b, `${v}`, true],
        ["version_changed", a, `${v + 1n}`, false],
        ["ended", b, undefined, undefined],
      ]);
      return [a, b];
    });
    await stack.claims.lineage!.drained();
    const onLineage = new pg.Client({ connectionString: lineageDb });
    await onLineage.connect();
    try {
      const history = async (id: string) =>
        (
          await onLineage.query<{ version: string; pinned: boolean; open: boolean }>(
            `select version, pinned, to_at is null as open from lineage_agent_versions where instance_id = $1 order by from_at`,
            [id],
          )
        ).rows.map((r) => [r.version, r.pinned, r.open]);
      expect(await history(a)).toEqual([
        [`${v}`, false, false],
        [`${v}`, true, false],
        [`${v}`, false, false],
        [`${v + 1n}`, false, true],
      ]);
      expect(await history(b)).toEqual([
        [`${v}`, false, false],
        [`${v}`, true, false],
      ]);
      const claimed = await onLineage.query(
        `select claimed_version from lineage_agents where instance_id = any($1) order by instance_id`,
        [[a, b]],
      );
      expect(claimed.rows).toEqual([{ claimed_version: `${v}` }, { claimed_version: `${v}` }]);
    } finally {
      await onLineage.end();
    }
  });
});

describe("an agent's conversations in the feed", () => {
  it("tells the lineage service of a second conversation joined and left, of a new home, and closes the rest at its end", async () => {
    const creator = newIdentity();
    const owner = newIdentity();
    const t = await signedTemplate(stack.templatesClient, creator, sampleContent({ tools: [] }));
    await stack.seedIdle(1);
    const a = await claim(owner, t.id);
    const [home] = await stack.rows<{ conversation_id: string }>(
      `select conversation_id from instances where id = $1`,
      [a],
    );
    const [b, c] = [`conv-b-${randomBytes(6).toString("hex")}`, `conv-c-${randomBytes(6).toString("hex")}`];
    // As the add and remove flows move a row of agent_conversations (conversations/), straight in the database.
    const add = async (addId: string, conversationId: string) => {
      await stack.sql.query(
        `insert into agent_conversations (instance_id, add_id, conversation_key, state, add_renewed_at)
         values ($1, $2, $3, 'joining', now())`,
        [a, addId, `creator/${addId}`],
      );
      await stack.sql.query(
        `update agent_conversations set state = 'joined', conversation_id = $3, joined_at = now() where instance_id = $1 and add_id = $2`,
        [a, addId, conversationId],
      );
    };
    const leave = (conversationId: string) =>
      stack.sql.query(
        `update agent_conversations set state = 'left', left_at = now() where instance_id = $1 and conversation_id = $2 and state = 'joined'`,
        [a, conversationId],
      );
    const node = async () => {
      await stack.claims.lineage!.drained();
      const n = (await lineageSc.client.getLineage({ instanceId: a }, as(owner))).instance!;
      return { conversationId: n.conversationId, conversationCount: n.conversationCount };
    };
    expect(await node()).toEqual({ conversationId: home!.conversation_id, conversationCount: 1 });

    await holdingTheRelayLock(async () => {
      await add("add-b", b);
      expect(await outbox()).toEqual([["conversation_joined", a]]);
    });
    expect(await node()).toEqual({ conversationId: home!.conversation_id, conversationCount: 2 });
    await leave(b);
    expect(await node()).toEqual({ conversationId: home!.conversation_id, conversationCount: 1 });

    // Its home left: the added one becomes the home, in lineage too.
    await add("add-c", c);
    await stack.sql.query(`begin`);
    await leave(home!.conversation_id);
    await stack.sql.query(`update agent_conversations set home = true where instance_id = $1 and add_id = 'add-c'`, [
      a,
    ]);
    await stack.sql.query(`commit`);
    expect(await node()).toEqual({ conversationId: c, conversationCount: 1 });

    const onLineage = new pg.Client({ connectionString: lineageDb });
    await onLineage.connect();
    try {
      const stretches = async () =>
        (
          await onLineage.query<{ conversation_id: string; open: boolean }>(
            `select conversation_id, to_at is null as open from lineage_agent_conversations where instance_id = $1 order by from_at, conversation_id`,
            [a],
          )
        ).rows.map((r) => [r.conversation_id, r.open]);
      expect(await stretches()).toEqual([
        [home!.conversation_id, false],
        [b, false],
        [c, true],
      ]);
      // Removed: its end closes what it was still in.
      await stack.claimsClient.removeAgent(
        {
          instanceId: a,
          ownerSignature: await signOperation(owner.account, "RemoveAgent", { inboxId: owner.inboxId, instanceId: a }),
        },
        as(owner),
      );
      await stack.claims.lineage!.drained();
      expect(await stretches()).toEqual([
        [home!.conversation_id, false],
        [b, false],
        [c, false],
      ]);
    } finally {
      await onLineage.end();
    }
  });
});

describe("an outbox row as a lineage event", () => {
  const at = new Date("2026-01-02T03:04:05.678Z");

  it("carries a clone's parent, conversation and the kinds it inherits, and a fresh agent's empty parent", () => {
    const clone = toEvent({
      sequence: "42",
      kind: "claimed",
      instance_id: "inst_child",
      payload: {
        templateId: "tmpl_t",
        ownerId: "o",
        parentInstanceId: "inst_parent",
        conversationId: "c",
        carry: "training,personalization",
      },
      at,
    });
    expect(clone.sequence).toBe(42n);
    expect(clone.at?.seconds).toBe(BigInt(Math.floor(at.getTime() / 1000)));
    expect(clone.event).toMatchObject({
      case: "claimed",
      value: {
        instanceId: "inst_child",
        templateId: "tmpl_t",
        ownerId: "o",
        parentInstanceId: "inst_parent",
        conversationId: "c",
        carry: ["training", "personalization"],
      },
    });
    // jsonb as text (as some drivers give it), no parent, nothing carried.
    const fresh = toEvent({
      sequence: "43",
      kind: "claimed",
      instance_id: "inst_a",
      payload: JSON.stringify({
        templateId: "tmpl_t",
        ownerId: "o",
        parentInstanceId: "",
        conversationId: "c",
        carry: "",
      }),
      at,
    });
    expect(fresh.event).toMatchObject({ case: "claimed", value: { parentInstanceId: "", carry: [] } });
  });

  it("carries a version change with its pin, and a claim written before versions were carried with none", () => {
    expect(
      toEvent({
        sequence: "9",
        kind: "version_changed",
        instance_id: "inst_a",
        payload: { version: "8", pinned: true },
        at,
      }).event,
    ).toMatchObject({ case: "versionChanged", value: { instanceId: "inst_a", version: "8", pinned: true } });
    const old = toEvent({
      sequence: "10",
      kind: "claimed",
      instance_id: "inst_b",
      payload: { templateId: "tmpl_t", ownerId: "o", parentInstanceId: "", conversationId: "c", carry: "" },
      at,
    });
    expect(old.event).toMatchObject({ case: "claimed", value: { version: "" } });
  });

  it("gives a conversation joined or left its conversation and whether it is the home", () => {
    expect(
      toEvent({
        sequence: "11",
        kind: "conversation_joined",
        instance_id: "inst_a",
        payload: { conversationId: "conv-b", home: false },
        at,
      }).event,
    ).toMatchObject({
      case: "conversationJoined",
      value: { instanceId: "inst_a", conversationId: "conv-b", home: false },
    });
    expect(
      toEvent({
        sequence: "12",
        kind: "conversation_left",
        instance_id: "inst_a",
        payload: JSON.stringify({ conversationId: "conv-h", home: true }),
        at,
      }).event,
    ).toMatchObject({
      case: "conversationLeft",
      value: { instanceId: "inst_a", conversationId: "conv-h", home: true },
    });
  });

  it("gives an ended agent its reason and a transferred one its new owner", () => {
    expect(
      toEvent({ sequence: "7", kind: "ended", instance_id: "inst_a", payload: { reason: "removed by its owner" }, at })
        .event,
    ).toMatchObject({
      case: "ended",
      value: { instanceId: "inst_a", reason: "removed by its owner" },
    });
    expect(
      toEvent({ sequence: "8", kind: "owner_changed", instance_id: "inst_a", payload: { ownerId: "heir" }, at }).event,
    ).toMatchObject({
      case: "ownerChanged",
      value: { instanceId: "inst_a", ownerId: "heir" },
    });
  });
});

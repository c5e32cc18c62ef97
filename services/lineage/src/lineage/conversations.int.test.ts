// An agent's conversations in lineage (migration 0011,
// lineage_agent_conversations) on real PostgreSQL: the backfill on a
// database migrated to 0010 with agents live, ended and with no
// conversation; the rows kept in step by the feed's claims and ends
// (applyEvents, the intake the claims relay calls) and by the joins and
// leaves the feed's conversation events make (conversations.ts); and
// what the figures read of them (signals/sql.ts). Nothing stands in; agents'
// day reports are inserted directly, as upsertSignals stores them.
import { randomBytes } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LineageEventSchema } from "@convos-pool/gen/convos/pool/v1/lineage_event_service_pb.js";
import { openDatabase, type Database } from "@convos-pool/kit/service";
import { createTestDatabase } from "@convos-pool/testing";
import { entities } from "../db/entities.js";
import { migrations } from "../db/migrations.js";
import { creatorView } from "../signals/figures.js";
import { versionLifecycles } from "../signals/lifecycle.js";
import { agentsThatRan, templateDays } from "../signals/sql.js";
import { joinConversation, leaveConversation } from "./conversations.js";
import { applyEvents } from "./events.js";
import { getNode, nodeToProto } from "./sql.js";

const BEFORE = migrations.findIndex((m) => m.name === "0011_agent_conversations");
const T0 = Date.parse("2026-11-20T10:00:00Z");
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const clients: pg.Client[] = [];
let sequence = 0n;

afterAll(async () => {
  for (const c of clients) await c.end();
});

async function connect(url: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url });
  clients.push(c);
  await c.connect();
  return c;
}

const inst = () => `inst_${randomBytes(8).toString("hex")}`;

const rowsOf = async (sql: pg.Client, instanceId: string) =>
  (
    await sql.query<{ conversation_id: string; from_at: Date; to_at: Date | null }>(
      `select conversation_id, from_at, to_at from lineage_agent_conversations where instance_id = $1
       order by from_at, conversation_id`,
      [instanceId],
    )
  ).rows;

describe("migration 0011 on a database with agents", () => {
  it("gives each agent its conversation from its claim until it ended, and none to an agent with no conversation", async () => {
    expect(BEFORE).toBeGreaterThan(0);
    const url = await createTestDatabase("lineage_conversations_backfill");
    const before = await openDatabase({ name: "lineage", url, entities, migrations: migrations.slice(0, BEFORE) });
    await before.close();
    const sql = await connect(url);
    const insert = (id: string, conversationId: string, endedAt: Date | null) =>
      sql.query(
        `insert into lineage_agents (instance_id, template_id, owner_id, conversation_id, claimed_at, ended_at, owner_days_from)
         values ($1, 'tmpl_t', 'owner', $2, $3, $4, $3::timestamptz::date)`,
        [id, conversationId, new Date(T0), endedAt],
      );
    await insert("inst_live", "conv-a", null);
    await insert("inst_ended", "conv-b", new Date(T0 + 2 * HOUR));
    await insert("inst_nowhere", "", null);

    const after = await openDatabase({ name: "lineage", url, entities, migrations });
    try {
      expect(await rowsOf(sql, "inst_live")).toEqual([
        { conversation_id: "conv-a", from_at: new Date(T0), to_at: null },
      ]);
      expect(await rowsOf(sql, "inst_ended")).toEqual([
        { conversation_id: "conv-b", from_at: new Date(T0), to_at: new Date(T0 + 2 * HOUR) },
      ]);
      expect(await rowsOf(sql, "inst_nowhere")).toEqual([]);
      const em = after.em.fork();
      expect((await getNode(em, "inst_live"))?.conversationCount).toBe(1);
      expect((await getNode(em, "inst_ended"))?.conversationCount).toBe(0);
    } finally {
      await after.close();
    }
  });
});

describe("an agent's conversations kept in step with the feed", () => {
  let db: Database;
  let sql: pg.Client;
  const em = () => db.em.fork();

  beforeAll(async () => {
    const url = await createTestDatabase("lineage_conversations");
    db = await openDatabase({ name: "lineage", url, entities, migrations });
    sql = await connect(url);
  });

  afterAll(async () => {
    await db?.close();
  });

  const claimed = (instanceId: string, conversationId: string, at: number, templateId = "tmpl_t", version = "6") =>
    create(LineageEventSchema, {
      sequence: ++sequence,
      at: timestampFromDate(new Date(at)),
      event: {
        case: "claimed",
        value: {
          instanceId,
          templateId,
          ownerId: `owner-${instanceId}`,
          conversationId,
          inboxId: `inbox-${instanceId}`,
          version,
        },
      },
    });
  const ended = (instanceId: string, at: number) =>
    create(LineageEventSchema, {
      sequence: ++sequence,
      at: timestampFromDate(new Date(at)),
      event: { case: "ended", value: { instanceId, reason: "removed by its owner" } },
    });
  const count = async (instanceId: string) => (await getNode(em(), instanceId))?.conversationCount;

  it("opens its conversation with its claim and closes it when it ends, once however often the events are told", async () => {
    const a = inst();
    const claim = claimed(a, "conv-home", T0);
    expect(await applyEvents(em(), [claim])).toBe(1);
    expect(await applyEvents(em(), [claim])).toBe(0);
    expect(await rowsOf(sql, a)).toEqual([{ conversation_id: "conv-home", from_at: new Date(T0), to_at: null }]);
    expect(await count(a)).toBe(1);

    const end = ended(a, T0 + DAY);
    await applyEvents(em(), [end]);
    await applyEvents(em(), [end]);
    expect(await rowsOf(sql, a)).toEqual([
      { conversation_id: "conv-home", from_at: new Date(T0), to_at: new Date(T0 + DAY) },
    ]);
    expect(await count(a)).toBe(0);
  });

  it("keeps no row for a claim that names no conversation: such an agent counts as one of its own", async () => {
    const a = inst();
    await applyEvents(em(), [claimed(a, "", T0)]);
    expect(await rowsOf(sql, a)).toEqual([]);
    expect(await count(a)).toBe(0);
  });

  it("joins and leaves conversations one at a time, idempotently, and every one it is in closes when it ends", async () => {
    const a = inst();
    await applyEvents(em(), [claimed(a, "conv-home", T0)]);
    await em().transactional(async (tx) => {
      await joinConversation(tx, a, "conv-b", new Date(T0 + HOUR));
      await joinConversation(tx, a, "conv-b", new Date(T0 + 2 * HOUR));
      await joinConversation(tx, a, "conv-c", new Date(T0 + HOUR));
    });
    expect(await count(a)).toBe(3);
    await em().transactional(async (tx) => {
      await leaveConversation(tx, a, "conv-c", new Date(T0 + 3 * HOUR));
      await leaveConversation(tx, a, "conv-c", new Date(T0 + 4 * HOUR));
    });
    expect(await count(a)).toBe(2);
    await applyEvents(em(), [ended(a, T0 + 5 * HOUR)]);
    await em().transactional((tx) => joinConversation(tx, a, "conv-d", new Date(T0 + 6 * HOUR)));
    expect(await rowsOf(sql, a)).toEqual([
      { conversation_id: "conv-home", from_at: new Date(T0), to_at: new Date(T0 + 5 * HOUR) },
      { conversation_id: "conv-b", from_at: new Date(T0 + HOUR), to_at: new Date(T0 + 5 * HOUR) },
      { conversation_id: "conv-c", from_at: new Date(T0 + HOUR), to_at: new Date(T0 + 3 * HOUR) },
    ]);
    expect(await count(a)).toBe(0);
  });

  it("makes a joined conversation the home when the feed says so, and leaves the home row to its leave", async () => {
    const a = inst();
    await applyEvents(em(), [claimed(a, "conv-home", T0)]);
    await em().transactional(async (tx) => {
      await joinConversation(tx, a, "conv-b", new Date(T0 + HOUR));
      // The home left: the added conversation, already joined, becomes the home.
      await leaveConversation(tx, a, "conv-home", new Date(T0 + 2 * HOUR));
      await joinConversation(tx, a, "conv-b", new Date(T0 + 2 * HOUR), true);
    });
    expect((await getNode(em(), a))?.conversationId).toBe("conv-b");
    expect(await rowsOf(sql, a)).toEqual([
      { conversation_id: "conv-home", from_at: new Date(T0), to_at: new Date(T0 + 2 * HOUR) },
      { conversation_id: "conv-b", from_at: new Date(T0 + HOUR), to_at: null },
    ]);
    expect(await count(a)).toBe(1);
  });

  it("applies the feed's conversation_joined and conversation_left, once however often they are told, the home moving with them", async () => {
    const a = inst();
    const event = (at: number, e: { case: "conversationJoined" | "conversationLeft"; id: string; home: boolean }) =>
      create(LineageEventSchema, {
        sequence: ++sequence,
        at: timestampFromDate(new Date(at)),
        event: { case: e.case, value: { instanceId: a, conversationId: e.id, home: e.home } },
      });
    const claim = claimed(a, "conv-home", T0);
    const joinB = event(T0 + HOUR, { case: "conversationJoined", id: "conv-b", home: false });
    const leaveHome = event(T0 + 2 * HOUR, { case: "conversationLeft", id: "conv-home", home: true });
    const bHome = event(T0 + 2 * HOUR, { case: "conversationJoined", id: "conv-b", home: true });
    await applyEvents(em(), [claim, joinB]);
    expect(await count(a)).toBe(2);
    expect(await applyEvents(em(), [joinB, leaveHome, bHome])).toBe(2);
    expect(await applyEvents(em(), [leaveHome, bHome])).toBe(0);
    const node = await getNode(em(), a);
    expect(node?.conversationId).toBe("conv-b");
    expect(node && nodeToProto(node, false).conversationCount).toBe(1);
    expect(await rowsOf(sql, a)).toEqual([
      { conversation_id: "conv-home", from_at: new Date(T0), to_at: new Date(T0 + 2 * HOUR) },
      { conversation_id: "conv-b", from_at: new Date(T0 + HOUR), to_at: null },
    ]);
    expect(await count(a)).toBe(1);
  });

  it("refuses a conversation event that names no conversation, naming the field", async () => {
    const bad = create(LineageEventSchema, {
      sequence: ++sequence,
      event: { case: "conversationLeft", value: { instanceId: inst(), conversationId: "" } },
    });
    await expect(applyEvents(em(), [bad])).rejects.toThrow("events[0].conversation_left.conversation_id");
  });

  it("gives the figures each agent's conversations of the day, each counted once: one agent in two counts two", async () => {
    const template = `tmpl_${randomBytes(4).toString("hex")}`;
    const day1 = "2026-11-20";
    const day2 = "2026-11-21";
    // a is added to conv-x on day 2; b shares a's home; c, d and e each have their own.
    const [a, b, c, d, e] = Array.from({ length: 5 }, inst) as [string, string, string, string, string];
    await applyEvents(em(), [
      claimed(a, "conv-a", T0, template),
      claimed(b, "conv-a", T0, template),
      claimed(c, "conv-c", T0, template),
      claimed(d, "conv-d", T0, template),
      claimed(e, "conv-e", T0, template),
    ]);
    await em().transactional((tx) => joinConversation(tx, a, "conv-x", new Date(T0 + DAY + HOUR)));
    for (const [id, day] of [a, b, c, d, e].flatMap((id) => [[id, day1] as const, [id, day2] as const]))
      await sql.query(
        `insert into version_signals (instance_id, day, template_id, version, answers, people, thumbs_up, thumbs_down,
           corrections, forget_requests, approvals_asked, approvals_declined, tool_calls_failed)
         values ($1, $2::date, $3, '6', 1, 1, 0, 0, 0, 0, 0, 0, 0)`,
        [id, day, template],
      );

    const rows = await templateDays(em(), template, day1, day2);
    const ids = (id: string, day: string) => rows.find((r) => r.instanceId === id && r.day === day)?.conversationIds;
    expect(ids(a, day1)).toEqual(["conv-a"]);
    expect(ids(a, day2)).toEqual(["conv-a", "conv-x"]);
    expect(ids(b, day2)).toEqual(["conv-a"]);
    const days = creatorView(rows, "someone else").days;
    // Day 1: four conversations (a and b share one), nothing shown; day 2: a's second makes five.
    expect(days.map((v) => [v.day, v.agents, v.conversations, v.figures?.answers])).toEqual([
      [day1, 5, 4, undefined],
      [day2, 5, 5, 5],
    ]);

    const ran = await agentsThatRan(em(), template, ["6"], day1, day2);
    expect(ran.find((r) => r.instanceId === a && r.day === day2)?.conversationIds).toEqual(["conv-a", "conv-x"]);
    expect(ran.find((r) => r.instanceId === a && r.day === day1)?.conversationIds).toEqual(["conv-a"]);

    // Claimed on 6, in five conversations between them: the lifecycle shows.
    const life = await versionLifecycles(em(), template, ["6"], "someone else");
    expect(life.versions[0]).toMatchObject({ claimed: 5, shown: true });
  });

  it("counts a day the table knows no conversation of (a report from before its claim) in its home, as before", async () => {
    const template = `tmpl_${randomBytes(4).toString("hex")}`;
    const [a, b] = [inst(), inst()];
    await applyEvents(em(), [
      claimed(a, "conv-late", T0 + 3 * DAY, template),
      claimed(b, "conv-late", T0 + 3 * DAY, template),
    ]);
    for (const id of [a, b])
      await sql.query(
        `insert into version_signals (instance_id, day, template_id, version, answers, people, thumbs_up, thumbs_down,
           corrections, forget_requests, approvals_asked, approvals_declined, tool_calls_failed)
         values ($1, '2026-11-20', $2, '6', 1, 1, 0, 0, 0, 0, 0, 0, 0)`,
        [id, template],
      );
    const rows = await templateDays(em(), template, "2026-11-20", "2026-11-20");
    expect(rows.map((r) => [r.conversationId, r.conversationIds])).toEqual([
      ["conv-late", []],
      ["conv-late", []],
    ]);
    // Both in their home: one conversation, not two of their own.
    expect(creatorView(rows, "someone else", 1).days[0]?.conversations).toBe(1);
  });
});

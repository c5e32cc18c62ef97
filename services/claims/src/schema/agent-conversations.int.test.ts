import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase, type Database } from "@convos-pool/kit/service";
import { createTestDatabase } from "@convos-pool/testing";
import { markRemoved, setAgentSetting } from "../claim/sql.js";
import { entities } from "../db/entities.js";
import { recordConversationNames, setState } from "../pool/sql.js";
import { migrations } from "./migrations.js";

// Migration 0030 (agent_conversations) on real PostgreSQL: its backfill on a
// database migrated to 0029 with instances in every state, and its indexes
// and triggers on a fresh one; and 0031's trigger, which tells lineage of
// each conversation joined and left (the relay is not running: the outbox
// is read as written). The queries that mark agents dead or record names
// and participation are the product's own (claim/sql.ts, pool/sql.ts); the
// rows they act on are inserted and moved between states directly, as the
// add and remove flows would.

const OWNER = "a".repeat(64);
const BEFORE = migrations.findIndex((m) => m.name === "0030_agent_conversations");
const clients: pg.Client[] = [];

afterAll(async () => {
  for (const c of clients) await c.end();
});

async function connect(url: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url });
  clients.push(c);
  await c.connect();
  return c;
}

/** An instance row in `state`; claimed and crashed agents with an owner, a template and a conversation. */
async function insertInstance(
  sql: pg.Client,
  id: string,
  state: string,
  over: { owner?: string | null; conversationId?: string; key?: string; name?: string; participation?: object } = {},
): Promise<void> {
  const owned = over.owner !== undefined ? over.owner : ["claimed", "crashed", "dead"].includes(state) ? OWNER : null;
  await sql.query(
    `insert into instances (id, state, host_url, inbox_id, owner_id, template_id, claimed_at, claim_id, claim_started_at,
       conversation_id, conversation_key, conversation_name, participation)
     values ($1, $2, 'http://host.test', md5($1), $3, case when $3::text is null then null else 'tmpl_AAAAAAAAAAAAAAAA' end,
       case when $3::text is null then null else timestamptz '2026-11-01 10:00:00+00' end,
       case when $2 = 'claiming' then 'claim-' || $1 end, case when $2 = 'claiming' then now() end,
       $4, $5, $6, $7::jsonb)`,
    [
      id,
      state,
      owned,
      over.conversationId ?? (owned ? `conv-${id}` : null),
      over.key ?? null,
      over.name ?? null,
      over.participation ? JSON.stringify(over.participation) : null,
    ],
  );
}

const rowsOf = async (sql: pg.Client, instanceId: string) =>
  (
    await sql.query(
      `select add_id, conversation_id, conversation_key, conversation_name, home, state, participation, tools,
         joined_at, left_at is not null as left
       from agent_conversations where instance_id = $1 order by add_id`,
      [instanceId],
    )
  ).rows;

describe("migration 0030 on a database with agents", () => {
  it("gives each claimed or crashed agent one joined home row from its instance, and none to any other instance", async () => {
    expect(BEFORE).toBeGreaterThan(0);
    const url = await createTestDatabase("claims_conversations_backfill");
    const before = await openDatabase({ name: "claims", url, entities, migrations: migrations.slice(0, BEFORE) });
    await before.close();
    const sql = await connect(url);
    await insertInstance(sql, "inst_claimed", "claimed", {
      key: "creator/tag",
      name: "Trip",
      participation: { mode: 2, cooldownSeconds: 30 },
    });
    await insertInstance(sql, "inst_crashed", "crashed");
    // A warm instance set aside on a host that did not answer: crashed, nobody's, in no conversation.
    await insertInstance(sql, "inst_parked", "crashed", { owner: null });
    await insertInstance(sql, "inst_idle", "idle");
    await insertInstance(sql, "inst_starting", "starting");
    await insertInstance(sql, "inst_claiming", "claiming", { owner: OWNER });
    await insertInstance(sql, "inst_dead", "dead");

    const after = await openDatabase({ name: "claims", url, entities, migrations });
    await after.close();

    const all = await sql.query(`select instance_id from agent_conversations order by instance_id`);
    expect(all.rows.map((r) => r.instance_id)).toEqual(["inst_claimed", "inst_crashed"]);
    const joinedAt = new Date("2026-11-01T10:00:00Z");
    expect(await rowsOf(sql, "inst_claimed")).toEqual([
      {
        add_id: "home-inst_claimed",
        conversation_id: "conv-inst_claimed",
        conversation_key: "creator/tag",
        conversation_name: "Trip",
        home: true,
        state: "joined",
        participation: { mode: 2, cooldownSeconds: 30 },
        tools: 1,
        joined_at: joinedAt,
        left: false,
      },
    ]);
    expect(await rowsOf(sql, "inst_crashed")).toEqual([
      {
        add_id: "home-inst_crashed",
        conversation_id: "conv-inst_crashed",
        conversation_key: null,
        conversation_name: null,
        home: true,
        state: "joined",
        participation: null,
        tools: 1,
        joined_at: joinedAt,
        left: false,
      },
    ]);
  });
});

describe("agent_conversations on a fresh database", () => {
  let db: Database;
  let sql: pg.Client;

  beforeAll(async () => {
    const url = await createTestDatabase("claims_conversations");
    db = await openDatabase({ name: "claims", url, entities, migrations, poolSize: 2 });
    sql = await connect(url);
  });

  afterAll(async () => {
    await db?.close();
  });

  /** A row of `instanceId` in `state`; `home` for a home row. */
  async function addRow(
    instanceId: string,
    addId: string,
    p: { conversationId: string; state: string; key?: string; home?: boolean },
  ): Promise<void> {
    await sql.query(
      `insert into agent_conversations (instance_id, add_id, conversation_id, conversation_key, home, state, joined_at)
       values ($1, $2, $3, $4, $5, $6, case when $6 = 'joined' then now() end)`,
      [instanceId, addId, p.conversationId, p.key ?? null, p.home ?? false, p.state],
    );
  }

  /** The error code of a query that must fail. */
  const failure = (p: Promise<unknown>) =>
    p.then(
      () => "none",
      (e: { code?: string; constraint?: string }) => `${e.code} ${e.constraint}`,
    );

  it("starts empty, with its indexes", async () => {
    expect((await sql.query(`select count(*)::int as n from agent_conversations`)).rows[0].n).toBe(0);
    const indexes = await sql.query(
      `select indexname from pg_indexes where tablename = 'agent_conversations' order by indexname`,
    );
    expect(indexes.rows.map((r) => r.indexname)).toEqual([
      "agent_conversations_home",
      "agent_conversations_joining",
      "agent_conversations_key",
      "agent_conversations_once",
      "agent_conversations_one",
      "agent_conversations_pkey",
    ]);
  });

  it("refuses a second joined row for one conversation, a second home and a second add of one invite", async () => {
    await insertInstance(sql, "inst_unique", "claimed");
    await addRow("inst_unique", "home-a", { conversationId: "conv-1", key: "c/1", state: "joined", home: true });
    await addRow("inst_unique", "add-b", { conversationId: "conv-2", key: "c/2", state: "joined" });

    expect(await failure(addRow("inst_unique", "add-c", { conversationId: "conv-1", state: "joined" }))).toBe(
      "23505 agent_conversations_one",
    );
    expect(
      await failure(addRow("inst_unique", "add-d", { conversationId: "conv-3", state: "joined", home: true })),
    ).toBe("23505 agent_conversations_home");
    expect(await failure(addRow("inst_unique", "add-e", { conversationId: "", key: "c/2", state: "joining" }))).toBe(
      "23505 agent_conversations_once",
    );
    // Another agent in the same conversation is another row.
    await insertInstance(sql, "inst_unique_other", "claimed");
    await addRow("inst_unique_other", "home-x", { conversationId: "conv-1", key: "c/1", state: "joined", home: true });
    // Once left, the conversation can be joined again.
    await sql.query(`update agent_conversations set state = 'left', left_at = now() where add_id = 'add-b'`);
    await addRow("inst_unique", "add-f", { conversationId: "conv-2", key: "c/2", state: "joined" });
  });

  it("marks every conversation of an agent left when its owner removes it, and only its own", async () => {
    await insertInstance(sql, "inst_removed", "claimed");
    await insertInstance(sql, "inst_kept", "claimed");
    await addRow("inst_removed", "home-r", { conversationId: "conv-r", state: "joined", home: true });
    await addRow("inst_removed", "add-r2", { conversationId: "conv-r2", state: "joined" });
    await addRow("inst_removed", "add-r3", { conversationId: "", key: "c/r3", state: "joining" });
    await addRow("inst_kept", "home-k", { conversationId: "conv-r", state: "joined", home: true });

    expect(await markRemoved(db.em.fork(), "inst_removed", OWNER)).toBeDefined();

    const removed = await rowsOf(sql, "inst_removed");
    expect(removed.map((r) => [r.add_id, r.state, r.left])).toEqual([
      ["add-r2", "left", true],
      ["add-r3", "left", true],
      ["home-r", "left", true],
    ]);
    expect((await rowsOf(sql, "inst_kept")).map((r) => [r.state, r.left])).toEqual([["joined", false]]);
  });

  it("marks a crashed agent's conversations left when the pool replaces it, and keeps them while it only crashes", async () => {
    await insertInstance(sql, "inst_replaced", "claimed");
    await addRow("inst_replaced", "home-p", { conversationId: "conv-p", state: "joined", home: true });

    expect(await setState(db.em.fork(), "inst_replaced", ["claimed"], "crashed")).toBe(true);
    expect((await rowsOf(sql, "inst_replaced")).map((r) => r.state)).toEqual(["joined"]);
    expect(await setState(db.em.fork(), "inst_replaced", ["crashed"], "claimed")).toBe(true);
    expect((await rowsOf(sql, "inst_replaced")).map((r) => r.state)).toEqual(["joined"]);

    expect(await setState(db.em.fork(), "inst_replaced", ["claimed"], "crashed")).toBe(true);
    expect(await setState(db.em.fork(), "inst_replaced", ["crashed"], "dead")).toBe(true);
    expect((await rowsOf(sql, "inst_replaced")).map((r) => [r.state, r.left])).toEqual([["left", true]]);
  });

  it("keeps the home row's name and participation as the instance records them, and no other row's", async () => {
    await insertInstance(sql, "inst_named", "claimed", { conversationId: "conv-home" });
    await addRow("inst_named", "home-n", { conversationId: "conv-home", state: "joined", home: true });
    await addRow("inst_named", "add-n", { conversationId: "conv-added", state: "joined" });

    expect(await recordConversationNames(db.em.fork(), [{ instanceId: "inst_named", name: "Dinner club" }])).toBe(1);
    expect(
      await setAgentSetting(db.em.fork(), "inst_named", OWNER, "participation", { mode: 3, cooldownSeconds: 0 }),
    ).toBe(true);
    // Permissions are the agent's, not a conversation's.
    expect(await setAgentSetting(db.em.fork(), "inst_named", OWNER, "permissions", { members: 2 })).toBe(true);

    const rows = await rowsOf(sql, "inst_named");
    expect(rows.map((r) => [r.add_id, r.conversation_name, r.participation])).toEqual([
      ["add-n", null, null],
      ["home-n", "Dinner club", { mode: 3, cooldownSeconds: 0 }],
    ]);
  });

  it("names each added conversation as its agent reports it, and the home only through the instance", async () => {
    await insertInstance(sql, "inst_many", "claimed", { conversationId: "conv-home-m" });
    await addRow("inst_many", "home-m", { conversationId: "conv-home-m", state: "joined", home: true });
    await addRow("inst_many", "add-m", { conversationId: "conv-club", state: "joined" });
    await addRow("inst_many", "add-gone", { conversationId: "conv-gone", state: "left" });
    await recordConversationNames(db.em.fork(), [
      {
        instanceId: "inst_many",
        name: "Trip",
        others: [
          { conversationId: "conv-home-m", name: "Not the home's" },
          { conversationId: "conv-club", name: "  Dinner\nclub " },
          { conversationId: "conv-gone", name: "Left" },
        ],
      },
    ]);
    const rows = await rowsOf(sql, "inst_many");
    expect(rows.map((r) => [r.add_id, r.conversation_name])).toEqual([
      ["add-gone", null],
      ["add-m", "Dinner club"],
      ["home-m", "Trip"],
    ]);
  });

  it("tells lineage of each conversation joined, made home and left, and of neither a claim's home row nor an end's", async () => {
    await insertInstance(sql, "inst_feed", "claimed", { conversationId: "conv-h" });
    const feed = async () =>
      (
        await sql.query(`select kind, payload from lineage_outbox where instance_id = 'inst_feed' order by sequence`)
      ).rows.map((r) => [r.kind, r.payload.conversationId, r.payload.home]);
    const state = (addId: string, set: string) =>
      sql.query(
        `update agent_conversations set ${set}, updated_at = now() where instance_id = 'inst_feed' and add_id = $1`,
        [addId],
      );

    // The home row the claim's completion writes: its `claimed` event names the home.
    await addRow("inst_feed", "home-f", { conversationId: "conv-h", state: "joined", home: true });
    // Joining has no conversation yet; joined, it has.
    await addRow("inst_feed", "add-b", { conversationId: "", key: "c/b", state: "joining" });
    expect(await feed()).toEqual([]);
    await state("add-b", `state = 'joined', conversation_id = 'conv-b', joined_at = now()`);
    // A name recorded or a lease renewed is no news.
    await state("add-b", `conversation_name = 'Greece', add_renewed_at = now()`);
    await addRow("inst_feed", "add-c", { conversationId: "conv-c", state: "joined" });
    expect(await feed()).toEqual([
      ["conversation_joined", "conv-b", false],
      ["conversation_joined", "conv-c", false],
    ]);

    // Left through leaving; then the home left and the oldest added one made home.
    await state("add-b", `state = 'leaving'`);
    await state("add-b", `state = 'left', left_at = now()`);
    await state("home-f", `state = 'left', left_at = now()`);
    await state("add-c", `home = true`);
    expect((await feed()).slice(2)).toEqual([
      ["conversation_left", "conv-b", false],
      ["conversation_left", "conv-h", true],
      ["conversation_joined", "conv-c", true],
    ]);

    // Its end: the `ended` event closes every conversation in lineage.
    expect(await markRemoved(db.em.fork(), "inst_feed", OWNER)).toBeDefined();
    expect((await rowsOf(sql, "inst_feed")).map((r) => [r.add_id, r.state])).toContainEqual(["add-c", "left"]);
    expect((await feed()).slice(5)).toEqual([["ended", undefined, undefined]]);
  });

  it("makes a live agent due for instruction sync when it leaves a conversation (a rollout's share may take it now)", async () => {
    await insertInstance(sql, "inst_due", "claimed", { conversationId: "conv-d" });
    await insertInstance(sql, "inst_due_pinned", "claimed", { conversationId: "conv-d" });
    await sql.query(`update instances set pinned = true where id = 'inst_due_pinned'`);
    for (const id of ["inst_due", "inst_due_pinned"]) {
      await addRow(id, `home-${id}`, { conversationId: "conv-d", state: "joined", home: true });
      await addRow(id, `add-${id}`, { conversationId: "conv-e", state: "joined" });
    }
    const due = async () =>
      (
        await sql.query(
          `select id from instances where id in ('inst_due', 'inst_due_pinned') and sync_next_at is not null order by id`,
        )
      ).rows.map((r) => r.id);
    expect(await due()).toEqual([]);
    await sql.query(`update agent_conversations set state = 'left', left_at = now() where add_id like 'add-inst_due%'`);
    // A pinned agent stays where it is.
    expect(await due()).toEqual(["inst_due"]);
  });
});

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "@convos-pool/kit/service";
import {
  CLAIM_SQL,
  COMPLETE_CLAIMS_SQL,
  STALE_CLAIMS_SQL,
  claimIdleInstance,
  completeClaim,
  completeClaims,
  endClaim,
  takeStaleClaims,
  type ClaimParams,
} from "./sql.js";
import { markTemplateDue, storeRelease } from "../sync/sql.js";
import { openClaimsTestDatabase } from "../../test/database.js";

// The atomic claim query alone, under heavy concurrency on real PostgreSQL.

const CONNECTIONS = 40;
let db: Database;

beforeAll(async () => {
  db = await openClaimsTestDatabase("claims_sql", CONNECTIONS);
});

afterAll(async () => {
  await db?.close();
});

const params = (claimId: string): ClaimParams => ({
  claimId,
  ownerId: "b".repeat(64),
  templateId: "tmpl_AAAAAAAAAAAAAAAA",
  templateVersion: 1,
  agentName: "Trip Planner",
  model: "gpt-oss-20b",
  modelOverridden: false,
  userConfig: { "personal-email": "saul@example.com" },
});

async function q<T>(sql: string, p: unknown[] = []): Promise<T[]> {
  return db.em.fork().execute<T[]>(sql, p);
}

/** Every instance of earlier tests dead and unclaimed: what a test seeds is all there is to claim. */
async function noneLeft(): Promise<void> {
  await db.em
    .fork()
    .execute(
      `update instances set state = 'dead', claim_id = null, claim_started_at = null where state <> 'dead'`,
      [],
      "run",
    );
}

async function seed(prefix: string, state: string, n: number): Promise<void> {
  const claimed = state === "claimed";
  await db.em.fork().execute(
    `insert into instances (id, state, host_url, inbox_id, template_id, owner_id, claimed_at)
     select ? || lpad(g::text, 12, '0'), ?, 'http://host.test', md5(? || g::text) || md5(g::text),
       ${claimed ? `'tmpl_AAAAAAAAAAAAAAAA', repeat('a', 64), now()` : "null, null, null"}
     from generate_series(1, ?) as g`,
    [prefix, state, prefix, n],
    "run",
  );
}

describe("the atomic claim query", () => {
  // About 9 s alone; a minute and a half leaves time for a busy machine (it is about correctness, not speed).
  it("hands out each idle instance once: 10,000 concurrent claims for 7,500 idle instances", {
    timeout: 90_000,
  }, async () => {
    const IDLE = 7_500;
    const CLAIMS = 10_000;
    await seed("inst_idle", "idle", IDLE);
    // Rows in every other state must never be taken.
    for (const s of ["starting", "claimed", "crashed", "dead"]) await seed(`inst_${s.slice(0, 4)}`, s, 50);

    const started = Date.now();
    const results = await Promise.all(
      Array.from({ length: CLAIMS }, (_, i) =>
        claimIdleInstance(db.em.fork(), params(`claim-${i}`)).then((r) => ({ claimId: `claim-${i}`, r })),
      ),
    );
    const elapsed = Date.now() - started;

    const won = results.filter((x) => x.r !== undefined);
    const ids = won.map((x) => x.r!.id);
    // As many successes as idle rows, and no instance twice.
    expect(won).toHaveLength(IDLE);
    expect(new Set(ids).size).toBe(IDLE);
    expect(ids.every((id) => id.startsWith("inst_idle"))).toBe(true);
    // The rest found nothing (the service answers RESOURCE_EXHAUSTED "no idle agent, try again").
    expect(results.filter((x) => x.r === undefined)).toHaveLength(CLAIMS - IDLE);

    // The database agrees: every idle row is now claiming, held by exactly the claim that got it.
    const rows = await q<{ id: string; claim_id: string }>(
      `select id, claim_id from instances where state = 'claiming'`,
    );
    expect(rows).toHaveLength(IDLE);
    const holder = new Map(rows.map((r) => [r.id, r.claim_id]));
    for (const w of won) expect(holder.get(w.r!.id)).toBe(w.claimId);
    const [counts] = await q<{ idle: number; claiming: number; distinct_claims: number; others_changed: number }>(
      `select count(*) filter (where state = 'idle')::int as idle,
              count(*) filter (where state = 'claiming')::int as claiming,
              count(distinct claim_id)::int as distinct_claims,
              count(*) filter (where id not like 'inst_idle%' and (claim_id is not null or state not in ('starting', 'claimed', 'crashed', 'dead')))::int as others_changed
       from instances`,
    );
    expect(counts).toEqual({ idle: 0, claiming: IDLE, distinct_claims: IDLE, others_changed: 0 });
    console.log(
      `10,000 concurrent claims on ${CONNECTIONS} connections: ${elapsed} ms (${Math.round((CLAIMS / elapsed) * 1000)} queries/s)`,
    );
  });

  it("lets only the holding claim complete or end it", async () => {
    await noneLeft();
    await seed("inst_solo", "idle", 1);
    const got = await claimIdleInstance(db.em.fork(), params("mine"));
    expect(got?.id).toBe("inst_solo000000000001");
    expect(await claimIdleInstance(db.em.fork(), params("theirs"))).toBeUndefined();
    // Another claim id cannot complete or roll back this claim.
    expect(
      await completeClaim(db.em.fork(), {
        instanceId: got!.id,
        claimId: "theirs",
        ownerId: "b".repeat(64),
        conversationId: "c",
        appliedKey: [1],
      }),
    ).toBe(false);
    expect(await endClaim(db.em.fork(), { instanceId: got!.id, claimId: "theirs", to: "idle" })).toBe(false);
    expect(
      await completeClaim(db.em.fork(), {
        instanceId: got!.id,
        claimId: "mine",
        ownerId: "b".repeat(64),
        conversationId: "c",
        appliedKey: [1],
      }),
    ).toBe(true);
    // Claimed: not claimable, not completable again.
    expect(
      await completeClaim(db.em.fork(), {
        instanceId: got!.id,
        claimId: "mine",
        ownerId: "b".repeat(64),
        conversationId: "c",
        appliedKey: [1],
      }),
    ).toBe(false);
    expect(await claimIdleInstance(db.em.fork(), params("again"))).toBeUndefined();
    const [row] = await q<{ state: string; owner_id: string; claim_id: string | null; user_config: unknown }>(
      `select state, owner_id, claim_id, user_config from instances where id = ?`,
      [got!.id],
    );
    expect(row).toEqual({
      state: "claimed",
      owner_id: "b".repeat(64),
      claim_id: null,
      user_config: { "personal-email": "saul@example.com" },
    });
  });

  it("completes a batch of claims in one query, each with its own values, and not one whose claim no longer holds its instance", async () => {
    await noneLeft();
    await seed("inst_batch", "idle", 3);
    const a = await claimIdleInstance(db.em.fork(), params("ba"));
    const b = await claimIdleInstance(db.em.fork(), params("bb"));
    const c = await claimIdleInstance(db.em.fork(), params("bc"));
    const owner = "b".repeat(64);
    const done = await completeClaims(db.em.fork(), [
      { instanceId: a!.id, claimId: "ba", ownerId: owner, conversationId: "conv-a", appliedKey: [1], trustLevel: 2 },
      { instanceId: b!.id, claimId: "not-b", ownerId: owner, conversationId: "conv-b", appliedKey: [1] },
      {
        instanceId: c!.id,
        claimId: "bc",
        ownerId: owner,
        conversationId: "conv-c",
        appliedKey: [1, 4],
        clone: { parentInstanceId: a!.id, carry: "memory" },
      },
    ]);
    expect(done).toEqual([true, false, true]);
    const rows = await q<Record<string, unknown>>(
      `select id, state, conversation_id, parent_instance_id, inheritance_state, inheritance_carry, trust_level, applied_key, claim_id
       from instances where id in (?, ?, ?) order by id`,
      [a!.id, b!.id, c!.id],
    );
    expect(rows).toEqual([
      {
        id: a!.id,
        state: "claimed",
        conversation_id: "conv-a",
        parent_instance_id: null,
        inheritance_state: null,
        inheritance_carry: "",
        trust_level: 2,
        applied_key: [1],
        claim_id: null,
      },
      {
        id: b!.id,
        state: "claiming",
        conversation_id: null,
        parent_instance_id: null,
        inheritance_state: null,
        inheritance_carry: "",
        trust_level: 0,
        applied_key: null,
        claim_id: "bb",
      },
      {
        id: c!.id,
        state: "claimed",
        conversation_id: "conv-c",
        parent_instance_id: a!.id,
        inheritance_state: "pending",
        inheritance_carry: "memory",
        trust_level: 0,
        applied_key: [1, 4],
        claim_id: null,
      },
    ]);
    // Each agent claimed, the clone too, has its home row, keyed by its claim; the claim still in flight has none.
    const homes = await q<Record<string, unknown>>(
      `select instance_id, add_id, conversation_id, home, state, joined_at is not null as joined
       from agent_conversations where instance_id in (?, ?, ?) order by instance_id`,
      [a!.id, b!.id, c!.id],
    );
    expect(homes).toEqual([
      { instance_id: a!.id, add_id: "ba", conversation_id: "conv-a", home: true, state: "joined", joined: true },
      { instance_id: c!.id, add_id: "bc", conversation_id: "conv-c", home: true, state: "joined", joined: true },
    ]);
  });

  it("writes the home row with the claim: one joined row, keyed by the claim, naming its conversation and invite", async () => {
    await noneLeft();
    await seed("inst_home", "idle", 1);
    const got = await claimIdleInstance(db.em.fork(), params("home"));
    expect(
      await completeClaim(db.em.fork(), {
        instanceId: got!.id,
        claimId: "home",
        ownerId: "b".repeat(64),
        conversationId: "conv-home",
        appliedKey: [1],
        conversationKey: "creator/tag",
      }),
    ).toBe(true);
    const rows = await q<Record<string, unknown>>(
      `select a.add_id, a.conversation_id = i.conversation_id as same_conversation, a.conversation_key, a.home, a.state,
         a.joined_at = i.claimed_at as joined_at_claim
       from agent_conversations a join instances i on i.id = a.instance_id where a.instance_id = ?`,
      [got!.id],
    );
    expect(rows).toEqual([
      {
        add_id: "home",
        same_conversation: true,
        conversation_key: "creator/tag",
        home: true,
        state: "joined",
        joined_at_claim: true,
      },
    ]);
  });

  it("finds a batch's rows by key (their ids or their owners), not by walking every claim in flight", async () => {
    await seed("inst_many", "idle", 2_000);
    await q(`analyze instances`);
    const sql = COMPLETE_CLAIMS_SQL.replaceAll("array[?]::int[]", "array[0]::int[]")
      .replaceAll("array[?]", "array['x']")
      .replace("in (?)", "in ('x', 'y')")
      .replace("in (?)", "in ('o', 'p')");
    const plan = await q<{ "QUERY PLAN": string }>(`explain ${sql}`);
    expect(plan.map((r) => r["QUERY PLAN"]).join("\n")).toMatch(/Index Cond: \((id|owner_id) = ANY/);
  });

  it("completes a claim after a push of a newer release that skipped it, however the two interleave: the agent is due for it", async () => {
    const templateId = "tmpl_RACERACERACERACE";
    const release = (version: number) => ({
      templateId,
      key: [version],
      release: new Uint8Array([version]),
      bases: [],
      defaultModel: "gpt-oss-20b",
    });
    await db.em.fork().transactional((tx) => storeRelease(tx, release(1)));
    await seed("inst_race", "idle", 1);
    const got = await claimIdleInstance(db.em.fork(), { ...params("race"), templateId });
    // The push: version 3 stored, the template's claimed instances marked due (this one is still claiming), not
    // yet committed when the claim completes at version 1.
    let commit!: () => void;
    let marked!: () => void;
    const pushMarked = new Promise<void>((r) => (marked = r));
    const push = db.em.fork().transactional(async (tx) => {
      await storeRelease(tx, release(3));
      expect(await markTemplateDue(tx, templateId)).toBe(0);
      marked();
      await new Promise<void>((r) => (commit = r));
    });
    await pushMarked;
    let settled = false;
    const completing = completeClaim(db.em.fork(), {
      instanceId: got!.id,
      claimId: "race",
      ownerId: "b".repeat(64),
      conversationId: "conv-race",
      appliedKey: [1],
    }).finally(() => (settled = true));
    await new Promise((r) => setTimeout(r, 300));
    // It waits for the push's release, held until the push ends.
    expect(settled).toBe(false);
    commit();
    await push;
    expect(await completing).toBe(true);
    const [row] = await q<{ state: string; due: boolean }>(
      `select state, sync_next_at is not null as due from instances where id = ?`,
      [got!.id],
    );
    expect(row).toEqual({ state: "claimed", due: true });
  });

  it("walks the partial index of idle rows", async () => {
    const sql = CLAIM_SQL.replace("runtime = ?", "runtime = 'pool'").replaceAll("?", "null");
    const plan = await q<{ "QUERY PLAN": string }>(`explain ${sql}`);
    expect(plan.map((r) => r["QUERY PLAN"]).join("\n")).toContain("instances_idle");
  });
});

describe("the sweep of stale claims", () => {
  it("chooses the stale rows once, however many claims are in flight (no rescan per claiming row), and takes only stale ones", async () => {
    await seed("inst_sweep_", "idle", 600);
    // Statistics from before the claims, as when a burst begins: the query planner expects few claiming rows.
    await q(`analyze instances`);
    await q(
      `update instances set state = 'claiming', claim_id = 'c-' || id, claim_started_at = now(), owner_id = md5(id) where id like 'inst_sweep_%'`,
    );
    const [plan] = await q<{ "QUERY PLAN": unknown }>(
      `explain (analyze, format json) ${STALE_CLAIMS_SQL}`,
      [3600, 100],
    );
    const loops: number[] = [];
    const walk = (node: Record<string, unknown>) => {
      if (node["Node Type"] === "LockRows") loops.push(node["Actual Loops"] as number);
      for (const child of (node.Plans as Record<string, unknown>[] | undefined) ?? []) walk(child);
    };
    walk((plan!["QUERY PLAN"] as { Plan: Record<string, unknown> }[])[0]!.Plan);
    expect(loops).toEqual([1]);
    // Ten made stale: those ten, and no other, are taken.
    await q(
      `update instances set claim_started_at = now() - interval '1 hour' where id in (select id from instances where id like 'inst_sweep_%' order by id limit 10)`,
    );
    const taken = await takeStaleClaims(db.em.fork(), 60);
    expect(taken).toHaveLength(10);
    expect(new Set(taken.map((t) => t.claimId)).size).toBe(10);
    const [left] = await q<{ n: number }>(
      `select count(*)::int as n from instances where id like 'inst_sweep_%' and state = 'claiming'`,
    );
    expect(left!.n).toBe(590);
  });
});

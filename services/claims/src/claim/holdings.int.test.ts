import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { limitExceededOf } from "@convos-pool/kit/server";
import type { Database } from "@convos-pool/kit/service";
import { waitFor } from "@convos-pool/testing";
import { claimIdleInstance, completeClaim } from "./sql.js";
import { insertProvisionedTool } from "../tools/sql.js";
import {
  HOLDINGS_SQL as holdingsSql,
  claimBatch,
  claimBatchBody,
  claimWithinCaps,
  claimWithinCapsBody,
  holdings,
} from "./holdings.js";
import { claimParams, openClaimsTestDatabase } from "../../test/database.js";

let db: Database;

beforeAll(async () => {
  db = await openClaimsTestDatabase("claims_holdings", 4);
});

afterAll(async () => {
  await db?.close();
});

/** Sessions of this database waiting for an owner's lock now (PostgreSQL's own view of its backends). */
async function waitingForALock(): Promise<number> {
  const [row] = await db.em.fork().execute<{ n: number }[]>(
    `select count(*)::int as n from pg_stat_activity
       where datname = current_database() and wait_event_type = 'Lock' and wait_event = 'advisory'`,
  );
  return row!.n;
}

async function seedIdle(n: number): Promise<void> {
  await db.em.fork().execute(
    `insert into instances (id, state, host_url, inbox_id)
     select 'inst_' || substr(md5(random()::text), 1, 16), 'idle', 'http://host', md5(random()::text) || md5(random()::text)
     from generate_series(1, ?)`,
    [n],
    "run",
  );
}

const params = (ownerId: string, toolsReserved = 0) => claimParams({ ownerId, toolsReserved });

describe("holdings", () => {
  it("counts an owner's claiming, claimed and crashed agents, and their tools (a claim in progress by the tools it reserved)", async () => {
    const owner = "d".repeat(64);
    await seedIdle(3);
    const a = await claimIdleInstance(db.em.fork(), params(owner, 2));
    const b = await claimIdleInstance(db.em.fork(), params(owner, 1));
    expect(await holdings(db.em.fork(), owner)).toEqual({ agents: 2, tools: 3 });
    // b completes with its one tool provisioned; then crashes: still held.
    await insertProvisionedTool(db.em.fork(), {
      instanceId: b!.id,
      toolId: "sms",
      provider: "local-sms",
      handle: `+1555${Date.now()}`,
      secret: null,
    });
    const [{ claim_id } = { claim_id: "" }] = await db.em
      .fork()
      .execute<{ claim_id: string }[]>(`select claim_id from instances where id = ?`, [b!.id]);
    expect(
      await completeClaim(db.em.fork(), {
        instanceId: b!.id,
        claimId: claim_id,
        ownerId: owner,
        conversationId: "c",
        appliedKey: [1],
      }),
    ).toBe(true);
    await db.em.fork().execute(`update instances set state = 'crashed' where id = ?`, [b!.id], "run");
    expect(await holdings(db.em.fork(), owner)).toEqual({ agents: 2, tools: 3 });
    // Dead ones are not held; someone else's are not mine.
    await db.em.fork().execute(`update instances set state = 'dead' where id = ?`, [a!.id], "run");
    expect(await holdings(db.em.fork(), owner)).toEqual({ agents: 1, tools: 1 });
    expect(await holdings(db.em.fork(), "e".repeat(64))).toEqual({ agents: 0, tools: 0 });
  });

  it("makes a second claim of the same owner wait for the first's transaction, so that the two cannot pass a cap together", async () => {
    const owner = "f".repeat(64);
    await seedIdle(2);
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    let firstHolds!: () => void;
    const held = new Promise<void>((r) => (firstHolds = r));
    const first = db.em.fork().transactional(async (tx) => {
      expect(await claimWithinCaps(tx, params(owner), { liveAgentsPerOwner: 1 })).toBeDefined();
      firstHolds();
      await gate;
    });
    await held;
    let secondDone = false;
    // Its refusal is caught at once: it may come in the same turn as the first's commit, before this test awaits it.
    const second = claimWithinCaps(db.em.fork(), params(owner), { liveAgentsPerOwner: 1 })
      .then(
        () => undefined,
        (e: unknown) => e,
      )
      .finally(() => (secondDone = true));
    await waitFor(
      "the second claim waiting for a lock, or done",
      async () => secondDone || (await waitingForALock()) === 1,
    );
    expect(secondDone, "the second claim must wait for the first").toBe(false);
    open();
    await first;
    const err = await second;
    expect(limitExceededOf(err)).toEqual({ limit: "live agents per owner", retryAfterSeconds: 0 });
    expect(await holdings(db.em.fork(), owner)).toEqual({ agents: 1, tools: 0 });
  });

  it("refuses past the tools cap, counting the tools a claim in progress reserved, and takes nothing", async () => {
    const owner = "b2".repeat(32);
    await seedIdle(3);
    expect(await claimWithinCaps(db.em.fork(), params(owner, 2), { poolToolsPerOwner: 3 })).toBeDefined();
    const err = await claimWithinCaps(db.em.fork(), params(owner, 2), { poolToolsPerOwner: 3 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(limitExceededOf(err)?.limit).toBe("pool tools per owner");
    expect(String(err)).toMatch(/needs 2 pool tools and your agents hold 2, of at most 3/);
    expect(await claimWithinCaps(db.em.fork(), params(owner, 1), { poolToolsPerOwner: 3 })).toBeDefined();
    expect(await holdings(db.em.fork(), owner)).toEqual({ agents: 2, tools: 3 });
  });

  it("does not hold a claim that reserves no tools to the tools cap, even for an owner already past it, and still counts its agents", async () => {
    const owner = "c3".repeat(32);
    await seedIdle(4);
    expect(await claimWithinCaps(db.em.fork(), params(owner, 3), { poolToolsPerOwner: 3 })).toBeDefined();
    // The cap lowered below what the owner holds: a claim needing tools is refused, one needing none is not.
    const err = await claimWithinCaps(db.em.fork(), params(owner, 1), { poolToolsPerOwner: 2 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(limitExceededOf(err)?.limit).toBe("pool tools per owner");
    expect(
      await claimWithinCaps(db.em.fork(), params(owner, 0), { liveAgentsPerOwner: 3, poolToolsPerOwner: 2 }),
    ).toBeDefined();
    // Its agents are still counted: two held, a cap of two refuses the third.
    const third = await claimWithinCaps(db.em.fork(), params(owner, 0), {
      liveAgentsPerOwner: 2,
      poolToolsPerOwner: 2,
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(limitExceededOf(third)?.limit).toBe("live agents per owner");
    expect(await holdings(db.em.fork(), owner)).toEqual({ agents: 2, tools: 3 });
  });

  it("is in the database as built from today's claim and holdings queries (change one, and a migration must recreate it)", async () => {
    const [fn] = await db.em
      .fork()
      .execute<{ prosrc: string }[]>(`select prosrc from pg_proc where proname = 'claim_within_caps'`);
    expect(fn?.prosrc).toBe(claimWithinCapsBody());
  });

  it("counts through the partial indexes, not a scan of every instance", async () => {
    await seedIdle(5_000);
    // A pool with live agents of many owners: partial indexes over every claimed row (as instances_attest_due is) cost more than an owner's.
    await db.em.fork().execute(
      `insert into instances (id, state, host_url, inbox_id, owner_id, template_id, claimed_at)
       select 'inst_' || substr(md5(random()::text), 1, 16), s, 'http://host', md5(random()::text) || md5(random()::text),
              md5(random()::text) || md5(random()::text), 'tmpl_AAAAAAAAAAAAAAAA', now()
       from generate_series(1, 1000), unnest(array['claimed', 'crashed']) s`,
      [],
      "run",
    );
    await db.em.fork().execute("analyze instances", [], "run");
    const text = holdingsSql.replaceAll("?", "'x'");
    const plan = (await db.em.fork().execute<{ "QUERY PLAN": string }[]>(`explain ${text}`))
      .map((r) => r["QUERY PLAN"])
      .join("\n");
    expect(plan).not.toMatch(/Seq Scan on instances/);
    expect(plan).toMatch(/instances_owner_live/);
    expect(plan).toMatch(/instances_owner_crashed/);
  });

  it("without caps it is the plain claim: no lock, no count", async () => {
    const owner = "a1".repeat(32);
    await seedIdle(2);
    await db.em.fork().transactional(async (tx) => {
      expect(await claimWithinCaps(tx, params(owner, 5), {})).toBeDefined();
      const locks = await tx.execute<{ n: number }[]>(
        `select count(*)::int as n from pg_locks where locktype = 'advisory' and pid = pg_backend_pid()`,
      );
      expect(locks[0]?.n).toBe(0);
      expect(await claimWithinCaps(tx, params(owner, 5), {})).toBeDefined();
    });
    expect(await holdings(db.em.fork(), owner)).toEqual({ agents: 2, tools: 10 });
  });
});

describe("claim_batch", () => {
  it("gives each claim of a batch its own idle instance, in the order asked, and nothing to a claim that finds none idle", async () => {
    await db.em.fork().execute(`update instances set state = 'dead' where state = 'idle'`, [], "run");
    await seedIdle(3);
    const owners = ["b1", "a1", "c1", "d1"].map((o) => o.repeat(32));
    const batch = owners.map((o) => params(o));
    const got = await claimBatch(db.em.fork(), batch, { liveAgentsPerOwner: 10 });
    const taken = got.filter((g) => g !== undefined);
    expect(taken).toHaveLength(3);
    expect(new Set(taken.map((t) => (t as { id: string }).id)).size).toBe(3);
    // Owners go in their order: the last owner in that order ("d1...") found none idle.
    expect(got[3]).toBeUndefined();
    for (const [i, g] of got.entries()) {
      if (!g) continue;
      const [row] = await db.em
        .fork()
        .execute<{ claim_id: string; owner_id: string }[]>(`select claim_id, owner_id from instances where id = ?`, [
          (g as { id: string }).id,
        ]);
      expect(row).toEqual({ claim_id: batch[i]!.claimId, owner_id: owners[i] });
    }
  });

  it("counts the claims before it in the same batch: two of one owner cannot pass a cap together", async () => {
    const owner = "e2".repeat(32);
    await seedIdle(3);
    const got = await claimBatch(db.em.fork(), [params(owner), params("f2".repeat(32)), params(owner)], {
      liveAgentsPerOwner: 1,
    });
    expect(got[0]).toMatchObject({ id: expect.any(String) });
    expect(got[1]).toMatchObject({ id: expect.any(String) });
    expect(limitExceededOf(got[2])).toEqual({ limit: "live agents per owner", retryAfterSeconds: 0 });
    expect(await holdings(db.em.fork(), owner)).toEqual({ agents: 1, tools: 0 });
  });

  it("locks its owners in their order, so that a batch waiting for one owner holds no lock of a later one (two batches cannot deadlock)", async () => {
    const [first, second] = ["a3", "b3"].map((o) => o.repeat(32)) as [string, string];
    await seedIdle(3);
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    let holding!: () => void;
    const held = new Promise<void>((r) => (holding = r));
    // Someone holds the first owner's lock.
    const holder = db.em.fork().transactional(async (tx) => {
      await claimWithinCaps(tx, params(first), { liveAgentsPerOwner: 10 });
      holding();
      await gate;
    });
    await held;
    // A batch asked in the other order waits for the first owner, holding nothing of the second.
    const waiting = claimBatch(db.em.fork(), [params(second), params(first)], { liveAgentsPerOwner: 10 });
    await waitFor("the batch waiting for the first owner's lock", async () => (await waitingForALock()) === 1);
    let alone = false;
    const secondAlone = claimBatch(db.em.fork(), [params(second)], { liveAgentsPerOwner: 10 }).finally(
      () => (alone = true),
    );
    await waitFor(
      "the claim of the second owner done, or waiting for a lock",
      async () => alone || (await waitingForALock()) === 2,
    );
    expect(alone, "a claim of the second owner alone must not wait for the waiting batch").toBe(true);
    open();
    await holder;
    expect((await waiting).every((g) => g && !(g instanceof Error))).toBe(true);
    expect((await secondAlone)[0]).toMatchObject({ id: expect.any(String) });
  });

  it("is in the database as built from today's text (change it, and a migration must recreate it)", async () => {
    const [fn] = await db.em
      .fork()
      .execute<{ prosrc: string }[]>(`select prosrc from pg_proc where proname = 'claim_batch'`);
    expect(fn?.prosrc).toBe(claimBatchBody());
  });
});

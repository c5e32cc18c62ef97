// What the pool records of a step confirmed in Convos (sql.ts), on a test
// database of real PostgreSQL with the claims service's migrations; the
// agent's row is written straight in, as a claim writes it. No stand-ins.
import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase, type Database } from "@convos-pool/kit/service";
import { createTestDatabase } from "@convos-pool/testing";
import { entities } from "../db/entities.js";
import { migrations } from "../schema/migrations.js";
import { setTrustLevel } from "../claim/sql.js";
import { lockAgent } from "../signer/sql.js";
import { lockAsk, recordConfirmedLimit, recordConfirmedTrust, writeAsk } from "./sql.js";

let sql: pg.Client;
let db: Database;

beforeAll(async () => {
  const url = await createTestDatabase("claims_confirmations");
  db = await openDatabase({ name: "claims", url, entities, migrations, poolSize: 2 });
  sql = new pg.Client({ connectionString: url });
  await sql.connect();
});

afterAll(async () => {
  await sql?.end();
  await db?.close();
});

/** An owner's live agent at `level` with the signed limit `limit` (decimal wei, "" none). */
async function agent(level: number, limit: string): Promise<{ id: string; owner: string }> {
  const id = `inst_${randomBytes(8).toString("hex")}`;
  const owner = `owner-${id}`;
  await sql.query(
    `insert into instances (id, state, host_url, inbox_id, owner_id, template_id, claimed_at, trust_level, daily_spend_limit_wei)
     values ($1, 'claimed', 'http://host.test:7100', $2, $3, 'tmpl_confirm', now(), $4, $5)`,
    [id, `inbox-${id}`, owner, level, limit],
  );
  return { id, owner };
}

async function row(id: string): Promise<{ trust_level: number; daily_spend_limit_wei: string }> {
  const res = await sql.query(`select trust_level, daily_spend_limit_wei from instances where id = $1`, [id]);
  return res.rows[0] as { trust_level: number; daily_spend_limit_wei: string };
}

describe("a confirmed trust level, as the pool records it", () => {
  it("records the level and a lower limit, or none", async () => {
    const a = await agent(2, "20000000000000000");
    expect(await recordConfirmedTrust(db.em.fork(), a.id, a.owner, 3, "10000000000000000")).toBe(true);
    expect(await row(a.id)).toEqual({ trust_level: 3, daily_spend_limit_wei: "10000000000000000" });
    expect(await recordConfirmedTrust(db.em.fork(), a.id, a.owner, 1, "0")).toBe(true);
    expect(await row(a.id)).toEqual({ trust_level: 1, daily_spend_limit_wei: "" });
  });

  it("never raises the limit the payment signer holds payments to, whatever the agent says was applied", async () => {
    const none = await agent(2, "");
    await recordConfirmedTrust(db.em.fork(), none.id, none.owner, 3, "5000000000000000000");
    expect(await row(none.id)).toEqual({ trust_level: 3, daily_spend_limit_wei: "" });
    const some = await agent(2, "10000000000000000");
    await recordConfirmedTrust(db.em.fork(), some.id, some.owner, 2, "10000000000000001");
    expect(await row(some.id)).toEqual({ trust_level: 2, daily_spend_limit_wei: "10000000000000000" });
  });

  it("records nothing for another owner's agent", async () => {
    const a = await agent(2, "");
    expect(await recordConfirmedTrust(db.em.fork(), a.id, "someone-else", 3, "0")).toBe(false);
    expect((await row(a.id)).trust_level).toBe(2);
  });
});

describe("a daily limit confirmed in Convos, as the pool records it", () => {
  const nonce = () => randomBytes(16).toString("hex");

  it("keeps the session's ask under the agent's nonce, and spends the nonce when its limit is recorded", async () => {
    const a = await agent(2, "");
    const id = nonce();
    const ask = {
      id,
      instanceId: a.id,
      askedBy: a.owner,
      trustLevel: 3,
      dailySpendLimitWei: 10n ** 16n,
      digest: "0xd",
    };
    await writeAsk(db.em.fork(), ask);
    // The same nonce again is the same ask: the first one stands.
    await writeAsk(db.em.fork(), { ...ask, dailySpendLimitWei: 1n });
    await db.em.fork().transactional(async (tx) => {
      expect(await lockAsk(tx, id)).toEqual({ ...ask, recorded: false });
      expect(await recordConfirmedLimit(tx, a.id, a.owner, 3, 10n ** 16n, id)).toBe(true);
    });
    await db.em.fork().transactional(async (tx) => expect((await lockAsk(tx, id))?.recorded).toBe(true));
    expect(await row(a.id)).toEqual({ trust_level: 3, daily_spend_limit_wei: "10000000000000000" });
    expect(await db.em.fork().transactional(async (tx) => lockAsk(tx, nonce()))).toBeUndefined();
  });

  it("is read by the payment signer as confirmed, until a limit the owner signs replaces it", async () => {
    const a = await agent(2, "");
    const id = nonce();
    await db.em.fork().transactional((tx) => recordConfirmedLimit(tx, a.id, a.owner, 3, 10n ** 16n, id));
    const view = async () => (await db.em.fork().transactional((tx) => lockAgent(tx, a.id)))?.view;
    expect(await view()).toMatchObject({ dailyLimitWei: 10n ** 16n, limitConfirmed: true });
    // A lowering on the agent's word keeps it what it was: confirmed.
    await recordConfirmedTrust(db.em.fork(), a.id, a.owner, 3, "5000000000000000");
    expect(await view()).toMatchObject({ dailyLimitWei: 5n * 10n ** 15n, limitConfirmed: true });
    await setTrustLevel(db.em.fork(), a.id, a.owner, 3, "1000000000000000000");
    expect(await view()).toMatchObject({ dailyLimitWei: 10n ** 18n, limitConfirmed: false });
  });

  it("records no confirmed limit for another owner's agent", async () => {
    const a = await agent(2, "");
    expect(
      await db.em.fork().transactional((tx) => recordConfirmedLimit(tx, a.id, "someone-else", 3, 10n ** 16n, nonce())),
    ).toBe(false);
    expect(await row(a.id)).toEqual({ trust_level: 2, daily_spend_limit_wei: "" });
  });
});

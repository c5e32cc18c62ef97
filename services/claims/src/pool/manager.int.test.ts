import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { InstanceState } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { createLogger, generateServiceCredentials } from "@convos-pool/kit/server";
import type { Database } from "@convos-pool/kit/service";
import { claimIdleInstance, completeClaim } from "../claim/sql.js";
import { registerInstance, setDraining } from "./sql.js";
import { acquireLease } from "./leases.js";
import { GrpcInstanceHost, POOL_LEASE, PoolManager } from "./manager.js";
import { StandInHost } from "../../test/stand-in-host.js";
import { claimParams, openClaimsTestDatabase } from "../../test/database.js";

// The warm pool manager's passes one at a time against a STAND-IN instance host
// (claims/test/stand-in-host.ts), over the real InstanceHostService gRPC client, on
// real PostgreSQL: instances crashed or lost, failed starts and an unreachable
// host are injected. The pool on the real instance host (fill, refill after a
// claim, a rolled-back instance destroyed and replaced) is in claims-e2e.int.test.ts.

const CREDS = generateServiceCredentials();
const TARGET = 3;
let db: Database;
let host: StandInHost;
let hostClient: GrpcInstanceHost;
let pool: PoolManager;

beforeAll(async () => {
  db = await openClaimsTestDatabase("claims_pool", 10);
  host = await StandInHost.start(CREDS["instance-host"]);
  hostClient = new GrpcInstanceHost(host.url, CREDS.claims);
  pool = new PoolManager({
    em: db.em,
    hosts: [hostClient],
    target: TARGET,
    log: createLogger("pool", { level: "silent" }),
  });
});

afterAll(async () => {
  await pool?.stop();
  hostClient?.close();
  await host?.kill();
  await db?.close();
});

beforeEach(() => {
  host.failing.clear();
});

async function q<T = Record<string, unknown>>(sql: string, p: unknown[] = []): Promise<T[]> {
  return db.em.fork().execute<T[]>(sql, p);
}

const byState = async () =>
  Object.fromEntries(
    (await q<{ state: string; n: number }>(`select state, count(*)::int as n from instances group by state`)).map(
      (r) => [r.state, r.n],
    ),
  );

const idleIds = async () =>
  (await q<{ id: string }>(`select id from instances where state = 'idle' order by id`)).map((r) => r.id);

async function claim(owner = "a".repeat(64)): Promise<string> {
  const got = await claimIdleInstance(db.em.fork(), claimParams({ ownerId: owner }));
  expect(
    await completeClaim(db.em.fork(), {
      instanceId: got!.id,
      claimId: (await q<{ claim_id: string }>(`select claim_id from instances where id = ?`, [got!.id]))[0]!.claim_id,
      ownerId: owner,
      conversationId: "c",
      appliedKey: [1],
    }),
  ).toBe(true);
  return got!.id;
}

describe("warm pool", () => {
  it("fills the pool to its target, each instance started on the host with its own wallet index", async () => {
    const report = await pool.reconcile();
    expect(report).toMatchObject({ started: TARGET, crashed: 0, failedStarts: 0 });
    const rows = await q<{ id: string; inbox_id: string; wallet_index: number; host_url: string }>(
      `select id, inbox_id, wallet_index, host_url from instances where state = 'idle'`,
    );
    expect(rows).toHaveLength(TARGET);
    for (const r of rows) {
      const onHost = host.instances.get(r.id)!;
      expect(onHost.inboxId).toBe(r.inbox_id);
      expect(onHost.walletIndex).toBe(r.wallet_index);
      expect(r.host_url).toBe(host.url);
    }
    expect(new Set(rows.map((r) => r.wallet_index)).size).toBe(TARGET);
    // A second pass has nothing to do.
    expect(await pool.reconcile()).toMatchObject({ started: 0, crashed: 0, replaced: 0 });
  });

  it("replaces a claimed instance: the pool is back at its target after one pass", async () => {
    const taken = await claim();
    expect(await byState()).toMatchObject({ idle: TARGET - 1, claimed: 1 });
    expect(await pool.reconcile()).toMatchObject({ started: 1 });
    expect(await byState()).toMatchObject({ idle: TARGET, claimed: 1 });
    expect(host.instances.has(taken)).toBe(true); // the claimed one keeps running
  });

  it("replaces idle instances that crashed or that the host lost", async () => {
    const [lost, crashed] = await idleIds();
    host.instances.delete(lost!); // gone from the host
    host.instances.get(crashed!)!.state = InstanceState.CRASHED; // reported crashed
    const report = await pool.reconcile();
    expect(report).toMatchObject({ crashed: 2, replaced: 2, started: 2 });
    expect(await q(`select id, state from instances where id in (?) order by id`, [[lost, crashed]])).toEqual(
      [lost, crashed].sort().map((id) => ({ id, state: "dead" })),
    );
    // The crashed one was stopped and its workspace destroyed on the host.
    expect(host.instances.has(crashed!)).toBe(false);
    expect(host.calls).toContainEqual({ step: "destroy", instanceId: crashed });
    expect(await byState()).toMatchObject({ idle: TARGET });
  });

  it("keeps a claimed instance that crashed for its owner, and takes it back when its host runs it again", async () => {
    const owned = (await q<{ id: string }>(`select id from instances where state = 'claimed'`))[0]!.id;
    const saved = host.instances.get(owned)!;
    host.instances.delete(owned);
    expect(await pool.reconcile()).toMatchObject({ crashed: 1, replaced: 0, started: 0 });
    expect((await q(`select state, owner_id from instances where id = ?`, [owned]))[0]).toEqual({
      state: "crashed",
      owner_id: "a".repeat(64),
    });
    host.instances.set(owned, saved);
    await pool.reconcile();
    expect((await q(`select state from instances where id = ?`, [owned]))[0]).toEqual({ state: "claimed" });
    expect(host.instances.has(owned)).toBe(true);
  });

  it("records the conversation name each claimed agent reports, keeps it through a report without one, and never names an idle one", async () => {
    await pool.reconcile();
    const owned = await claim();
    const [idle] = await idleIds();
    host.conversationNames.set(owned, "  Tokyo\ntrip 🗼 ");
    host.conversationNames.set(idle!, "not claimed");
    await pool.reconcile();
    const names = async () =>
      Object.fromEntries(
        (
          await q<{ id: string; conversation_name: string | null }>(
            `select id, conversation_name from instances where id in (?, ?)`,
            [owned, idle],
          )
        ).map((r) => [r.id, r.conversation_name]),
      );
    expect(await names()).toEqual({ [owned]: "Tokyo trip 🗼", [idle!]: null });
    // Asleep, or on a host that restarted: it reports none, and the last name stays.
    host.conversationNames.set(owned, "");
    await pool.reconcile();
    expect((await names())[owned]).toBe("Tokyo trip 🗼");
    host.conversationNames.set(owned, "x".repeat(300));
    await pool.reconcile();
    expect((await names())[owned]).toBe("x".repeat(100));
    host.conversationNames.clear();
  });

  it("stops instances a rolled-back claim left dead, and what the host runs that the pool does not know", async () => {
    const [victim] = await idleIds();
    await q(`update instances set state = 'dead' where id = ?`, [victim]);
    host.instances.set("inst_strayXXXXXXXXXXX", {
      id: "inst_strayXXXXXXXXXXX",
      walletIndex: 999,
      inboxId: "x",
      state: InstanceState.IDLE,
      releases: 0,
    });
    const report = await pool.reconcile();
    expect(report.started).toBe(1);
    expect(host.instances.has(victim!)).toBe(false);
    expect(host.instances.has("inst_strayXXXXXXXXXXX")).toBe(false);
    // The dead one's workspace is destroyed; one the pool has no row for is only stopped (kept on disk).
    expect(host.calls).toContainEqual({ step: "destroy", instanceId: victim });
    expect(host.calls).toContainEqual({ step: "stop", instanceId: "inst_strayXXXXXXXXXXX" });
    expect(host.calls).not.toContainEqual({ step: "destroy", instanceId: "inst_strayXXXXXXXXXXX" });
    expect(await byState()).toMatchObject({ idle: TARGET });
  });

  it("follows a host that came back on another address: its instances, claimed ones included, move with it, none stopped", async () => {
    const live = await q<{ id: string; state: string }>(
      `select id, state from instances where state in ('idle', 'claimed') order by id`,
    );
    expect(live.filter((r) => r.state === "claimed").length).toBeGreaterThan(0);
    // As after `npm start` restarted the host on a new port: the rows name the old address.
    await q(`update instances set host_url = 'http://127.0.0.1:9' where state <> 'dead'`);
    host.calls.length = 0;
    const report = await pool.reconcile();
    expect(report).toMatchObject({ started: 0, crashed: 0, replaced: 0 });
    expect(host.calls.filter((c) => c.step === "stop" || c.step === "destroy")).toEqual([]);
    expect(
      await q(`select id, state from instances where host_url = ? and state in ('idle', 'claimed') order by id`, [
        host.url,
      ]),
    ).toEqual(live);
    expect(await pool.reconcile()).toMatchObject({ started: 0, crashed: 0, replaced: 0 });
  });

  it("gives up on instances recorded on an address no host has: idle ones replaced, an owner's agent crashed (not dead)", async () => {
    const [idle] = await idleIds();
    const owned = (await q<{ id: string }>(`select id from instances where state = 'claimed' order by id limit 1`))[0]!
      .id;
    host.instances.delete(idle!);
    host.instances.delete(owned);
    await q(`update instances set host_url = 'http://127.0.0.1:8' where id in (?)`, [[idle, owned]]);
    const report = await pool.reconcile();
    expect(report).toMatchObject({ replaced: 1, started: 1 });
    const stateOf = async (id: string) =>
      (await q<{ state: string }>(`select state from instances where id = ?`, [id]))[0]!.state;
    expect(await stateOf(idle!)).toBe("dead");
    expect(await stateOf(owned)).toBe("crashed");
    expect(await byState()).toMatchObject({ idle: TARGET });
  });

  it("settles starts whose manager died midway: one its host runs becomes idle, one it does not is dead, once older than 30 s", async () => {
    await pool.reconcile();
    await claim();
    await claim();
    // As a claims process leaves them when killed during StartInstance: the host answered for one, never heard of the other.
    const ran = await registerInstance(db.em.fork(), host.url);
    const lost = await registerInstance(db.em.fork(), host.url);
    const { inboxId } = await hostClient.start(ran.id, ran.walletIndex);
    // Young: they may still be starting, and count toward the target.
    expect(await pool.reconcile()).toMatchObject({ started: 0 });
    expect(await q(`select state from instances where id in (?, ?)`, [ran.id, lost.id])).toEqual([
      { state: "starting" },
      { state: "starting" },
    ]);
    await q(`update instances set updated_at = now() - interval '31 seconds' where id in (?, ?)`, [ran.id, lost.id]);
    expect(await pool.reconcile()).toMatchObject({ started: 1 });
    expect(await q(`select state, inbox_id from instances where id = ?`, [ran.id])).toEqual([
      { state: "idle", inbox_id: inboxId },
    ]);
    expect(await q(`select state from instances where id = ?`, [lost.id])).toEqual([{ state: "dead" }]);
    expect((await byState()).idle).toBe(TARGET);
  });

  it("marks an instance that fails to start dead, and leaves everything alone while the host is unreachable", async () => {
    await claim();
    host.failing.add("start");
    expect(await pool.reconcile()).toMatchObject({ started: 0, failedStarts: 1 });
    host.failing.clear();
    expect(await pool.reconcile()).toMatchObject({ started: 1, failedStarts: 0 });
    const states = await byState();
    expect(states.idle).toBe(TARGET);
    expect(states.starting).toBeUndefined();

    const before = await byState();
    const gone = new PoolManager({
      em: db.em,
      hosts: [new GrpcInstanceHost("http://127.0.0.1:9", CREDS.claims, 2_000)],
      target: TARGET + 5,
      log: createLogger("pool", { level: "silent" }),
    });
    const report = await gone.reconcile();
    expect(report.unreachableHosts).toEqual(["http://127.0.0.1:9"]);
    expect(report).toMatchObject({ started: 0, crashed: 0, replaced: 0 });
    expect(await byState()).toEqual(before);
  });
});

// Replicas (docs/scaling.md): every claims replica runs a manager on the one
// database; passes run under a lease, placement goes by how full each host is,
// and a drained host gets nothing new and gives up its idle instances.
describe("warm pool with several managers and hosts", () => {
  let rdb: Database;
  const hosts: StandInHost[] = [];
  const clients: GrpcInstanceHost[] = [];
  const managers: PoolManager[] = [];
  const silent = createLogger("pool", { level: "silent" });
  const rq = <T = Record<string, unknown>>(sql: string, p: unknown[] = []) => rdb.em.fork().execute<T[]>(sql, p);
  const manager = (target: number, leaseSeconds?: number) => {
    const m = new PoolManager({
      em: rdb.em,
      hosts: clients,
      target,
      log: silent,
      ...(leaseSeconds ? { leaseSeconds } : {}),
    });
    managers.push(m);
    return m;
  };
  const idleOn = async () =>
    Object.fromEntries(
      (
        await rq<{ host_url: string; n: number }>(
          `select host_url, count(*)::int as n from instances where state = 'idle' group by host_url`,
        )
      ).map((r) => [hosts.findIndex((h) => h.url === r.host_url), r.n]),
    );

  beforeAll(async () => {
    rdb = await openClaimsTestDatabase("claims_pool_replicas", 10);
    for (let i = 0; i < 2; i++) {
      const h = await StandInHost.start(CREDS["instance-host"]);
      hosts.push(h);
      clients.push(new GrpcInstanceHost(h.url, CREDS.claims));
    }
  });

  afterAll(async () => {
    for (const m of managers) await m.stop();
    for (const c of clients) c.close();
    for (const h of hosts) await h.kill();
    await rdb?.close();
  });

  it("two managers' passes at once: one runs, the other stands aside, and the pool is filled to its target once", async () => {
    hosts[0]!.maxInstances = 4;
    hosts[1]!.maxInstances = 12;
    const [one, two] = [manager(8), manager(8)];
    const reports = await Promise.all([one.reconcile(), two.reconcile()]);
    expect(reports.map((r) => r.ran).sort()).toEqual([false, true]);
    expect(reports.reduce((n, r) => n + r.started, 0)).toBe(8);
    // By free places: a host of 4 and a host of 12 take 2 and 6.
    expect(await idleOn()).toEqual({ 0: 2, 1: 6 });
    // Passes one after the other on either replica: each sees the last one's work.
    for (let i = 0; i < 3; i++)
      expect((await Promise.all([one.reconcile(), two.reconcile()])).reduce((n, r) => n + r.started, 0)).toBe(0);
    expect(hosts[0]!.instances.size + hosts[1]!.instances.size).toBe(8);
    // Given up after each pass: nobody holds it now.
    expect(await rq(`select holder from pool_leases where name = ?`, [POOL_LEASE])).toEqual([{ holder: null }]);
  });

  it("a manager killed mid-pass holds the lease until it lapses; then another replica's pass takes over", async () => {
    // As a replica leaves it when killed during a pass: its lease, never given up.
    expect(await acquireLease(rdb.em.fork(), POOL_LEASE, "mgr_killed", 30)).toBeDefined();
    await rq(`update instances set state = 'dead' where id in (select id from instances where state = 'idle' limit 3)`);
    const survivor = manager(8);
    expect(await survivor.reconcile()).toMatchObject({ ran: false, started: 0 });
    await rq(`update pool_leases set expires_at = now() - interval '1 millisecond' where name = ?`, [POOL_LEASE]);
    expect(await survivor.reconcile()).toMatchObject({ ran: true, started: 3 });
    expect((await rq<{ n: number }>(`select count(*)::int as n from instances where state = 'idle'`))[0]!.n).toBe(8);
  });

  it("a drained host gets no new instances, its idle ones are replaced elsewhere, and its claimed agents stay", async () => {
    const m = manager(8);
    const drained = hosts[0]!;
    const onDrained = (
      await rq<{ id: string }>(`select id from instances where state = 'idle' and host_url = ?`, [drained.url])
    ).map((r) => r.id);
    expect(onDrained.length).toBeGreaterThan(1);
    // An owner's agent on the host to drain.
    const got = await claimIdleInstance(
      rdb.em.fork(),
      claimParams({ claimId: "drain-claim", ownerId: "b".repeat(64) }),
    );
    expect(
      await completeClaim(rdb.em.fork(), {
        instanceId: got!.id,
        claimId: "drain-claim",
        ownerId: "b".repeat(64),
        conversationId: "c",
        appliedKey: [1],
      }),
    ).toBe(true);
    await rq(`update instances set host_url = ? where id = ?`, [drained.url, got!.id]);
    const agent = got!.id;
    if (!drained.instances.has(agent)) {
      // Its row moved to this host: the host runs it (as it would have, had it been placed there).
      const other = hosts.find((h) => h.instances.has(agent))!;
      drained.instances.set(agent, other.instances.get(agent)!);
      other.instances.delete(agent);
    }
    drained.instances.get(agent)!.state = InstanceState.CLAIMED;
    await setDraining(rdb.em.fork(), drained.url, true);

    const report = await m.reconcile();
    const idleLeft = onDrained.filter((id) => id !== agent);
    expect(report.drained).toBe(idleLeft.length);
    for (const id of idleLeft) {
      expect(drained.instances.has(id)).toBe(false);
      expect(drained.calls).toContainEqual({ step: "destroy", instanceId: id });
    }
    // Replaced on the other host; nothing new on the drained one.
    expect(await idleOn()).toEqual({ 1: 8 });
    expect(await rq(`select state, host_url from instances where id = ?`, [agent])).toEqual([
      { state: "claimed", host_url: drained.url },
    ]);
    expect(drained.instances.get(agent)?.state).toBe(InstanceState.CLAIMED);
    // A claim takes an instance: its replacement too goes elsewhere.
    await rq(`update instances set state = 'dead' where id in (select id from instances where state = 'idle' limit 1)`);
    expect(await m.reconcile()).toMatchObject({ started: 1, drained: 0 });
    expect(await idleOn()).toEqual({ 1: 8 });

    // Opened again: it takes new instances (the emptier host).
    await setDraining(rdb.em.fork(), drained.url, false);
    await rq(`update instances set state = 'dead' where id in (select id from instances where state = 'idle' limit 2)`);
    expect(await m.reconcile()).toMatchObject({ started: 2 });
    expect((await idleOn())[0]).toBe(2);
  });

  it("sets aside the idle instances of a host that does not answer (claims take others), and takes them back when it does", async () => {
    const m = manager(8);
    const down = hosts[1]!;
    hosts[0]!.maxInstances = 20; // free places for the replacements
    const before = (
      await rq<{ id: string }>(`select id from instances where state = 'idle' and host_url = ?`, [down.url])
    ).map((r) => r.id);
    expect(before.length).toBeGreaterThan(0);
    await down.kill();
    const report = await m.reconcile();
    expect(report.unreachableHosts).toEqual([down.url]);
    expect(report.started).toBe(before.length);
    expect(await rq(`select distinct state from instances where id in (?)`, [before])).toEqual([{ state: "crashed" }]);
    expect(await idleOn()).toEqual({ 0: 8 });
    // A claim now takes an instance on the host that answers.
    const got = await claimIdleInstance(rdb.em.fork(), claimParams({ claimId: "after-down", ownerId: "c".repeat(64) }));
    expect(got!.hostUrl).toBe(hosts[0]!.url);
    // Back, running them: idle again (the pool is above its target until claims use them).
    await down.restart();
    await m.reconcile();
    expect(await rq(`select distinct state from instances where id in (?)`, [before])).toEqual([{ state: "idle" }]);
  });
});

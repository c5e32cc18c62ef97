import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { TrustLevel } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import { Grant, InstanceState } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { createLogger, generateServiceCredentials } from "@convos-pool/kit/server";
import { openDatabase, type Database } from "@convos-pool/kit/service";
import { createTestDatabase } from "@convos-pool/testing";
import { entities } from "../db/entities.js";
import { migrations } from "../schema/migrations.js";
import { runHostsCommand } from "../hosts-cli.js";
import { putStates } from "../vault/sql.js";
import { StandInHost } from "../../test/stand-in-host.js";
import { GrpcInstanceHost } from "../hosts/instance-host.js";
import { HostMover, MOVER_LEASE } from "./host-mover.js";
import { markIdle, registerInstance } from "./sql.js";
import { acquireLease } from "./leases.js";
import { countUnmovable, hostMarks, unmovableAgents } from "./lost-hosts.js";
import { PoolManager } from "./manager.js";

// A host lost for good, on the claims side: the pool manager's passes and the
// host mover's runs one at a time, on real PostgreSQL, against two STAND-IN
// instance hosts (claims/test/stand-in-host.ts) over the real
// InstanceHostService gRPC client. Host A is killed (it stops serving); its
// agents' sealed states were put as its host puts them (vault/sql.ts). The
// move on the real instance hosts (a new installation, the conversation
// rejoined) is the end-to-end test's (services/e2e).

const CREDS = generateServiceCredentials();
const LOST_AFTER_SECONDS = 2;
let databaseUrl: string;
let db: Database;
let hostA: StandInHost;
let hostB: StandInHost;
let clients: GrpcInstanceHost[];
let pool: PoolManager;
let mover: HostMover;
const movedAfter: number[] = [];

beforeAll(async () => {
  databaseUrl = await createTestDatabase("claims_mover");
  db = await openDatabase({ name: "claims", url: databaseUrl, entities, migrations, poolSize: 6 });
  hostA = await StandInHost.start(CREDS["instance-host"]);
  hostB = await StandInHost.start(CREDS["instance-host"]);
  clients = [hostA, hostB].map((h) => new GrpcInstanceHost(h.url, CREDS.claims, 10_000));
  const log = createLogger("mover", { level: "silent" });
  pool = new PoolManager({ em: db.em, hosts: clients, target: 2, log, lostAfterSeconds: LOST_AFTER_SECONDS });
  mover = new HostMover({ em: db.em, hosts: clients, log, onMoved: (s) => movedAfter.push(s) });
});

afterAll(async () => {
  await mover?.stop();
  await pool?.stop();
  for (const c of clients ?? []) c.close();
  await hostA?.kill();
  await hostB?.kill();
  await db?.close();
});

const q = <T = Record<string, unknown>>(sql: string, p: unknown[] = []) => db.em.fork().execute<T[]>(sql, p);

/** A claimed agent running on host A, as a claim leaves it. */
async function claimedOnA(): Promise<{ id: string; walletIndex: number; inboxId: string }> {
  const { id, walletIndex } = await registerInstance(db.em.fork(), hostA.url);
  const { inboxId } = await clients[0]!.start(id, walletIndex);
  await markIdle(db.em.fork(), id, inboxId);
  await q(
    `update instances set state = 'claimed', owner_id = ?, template_id = 'tmpl_AAAAAAAAAAAAAAAA', conversation_id = 'c', claimed_at = now(),
       trust_level = 2, permissions = '{"memberCrypto": 3}' where id = ?`,
    ["a".repeat(64), id],
  );
  hostA.instances.get(id)!.state = InstanceState.CLAIMED;
  return { id, walletIndex, inboxId };
}

const hostOf = async (id: string) =>
  (await q<{ host_url: string; state: string }>(`select host_url, state from instances where id = ?`, [id]))[0];

describe("a host lost for good", () => {
  let kept: Awaited<ReturnType<typeof claimedOnA>>[];
  let stateless: Awaited<ReturnType<typeof claimedOnA>>;

  it("is marked lost by a pass once it has not answered for HOST_LOST_AFTER_SECONDS, not before", async () => {
    expect(await pool.reconcile()).toMatchObject({ unreachableHosts: [] });
    kept = [await claimedOnA(), await claimedOnA()];
    stateless = await claimedOnA();
    const placed = await putStates(
      db.em.fork(),
      hostA.url,
      kept.map((a, n) => ({ instanceId: a.id, sequence: BigInt(10 + n), sealed: new Uint8Array([n, 1, 2, 3]) })),
    );
    expect(placed.kept.size).toBe(2);
    // Nothing to move while no host is lost.
    expect(await mover.run()).toEqual({ ran: false, moved: 0, failed: 0 });

    await hostA.kill();
    const first = await pool.reconcile();
    expect(first.unreachableHosts).toEqual([hostA.url]);
    expect(first.lostHosts).toEqual([]);
    await new Promise((r) => setTimeout(r, LOST_AFTER_SECONDS * 1000 + 200));
    expect((await pool.reconcile()).lostHosts).toEqual([hostA.url]);
    expect((await hostMarks(db.em.fork())).lost).toEqual(new Set([hostA.url]));
    // Its idle instances are set aside and replaced on B; nothing new goes to A.
    const idle = await q<{ host_url: string }>(`select host_url from instances where state = 'idle'`);
    expect(idle.length).toBeGreaterThan(0);
    expect(idle.every((r) => r.host_url === hostB.url)).toBe(true);
    // Its warm instances are dead at once, not left set aside there.
    expect(
      await q(`select id from instances where host_url = ? and owner_id is null and state <> 'dead'`, [hostA.url]),
    ).toEqual([]);
    // The agent whose host never put its state cannot be moved, and says so.
    expect(await unmovableAgents(db.em.fork())).toEqual([stateless.id]);
    expect(await countUnmovable(db.em.fork())).toBe(1);
  });

  it("moves each agent with a kept state to a host that answers, retrying a failed restore after its backoff", async () => {
    hostB.failing.add("restore");
    expect(await mover.run()).toMatchObject({ ran: true, moved: 0, failed: 2 });
    const waiting = await q<{ move_attempts: number; due: boolean; move_error: string }>(
      `select move_attempts, move_next_at <= now() as due, move_error from instances where id in (?)`,
      [kept.map((a) => a.id)],
    );
    expect(waiting.map((w) => [w.move_attempts, w.due])).toEqual([
      [1, false],
      [1, false],
    ]);
    expect(waiting[0]!.move_error).toContain("injected restore failure");
    hostB.failing.delete("restore");
    // Still waiting out its backoff: not tried again yet.
    expect(await mover.run()).toMatchObject({ moved: 0, failed: 0 });
    // A moment past, not now(): the column keeps milliseconds and rounds now() up half the time, which a query
    // in the next half millisecond would read as not due yet.
    await q(`update instances set move_next_at = now() - interval '1 second' where move_next_at is not null`);

    expect(await mover.run()).toMatchObject({ ran: true, moved: 2, failed: 0 });
    for (const [n, a] of kept.entries()) {
      expect(await hostOf(a.id)).toEqual({ host_url: hostB.url, state: "claimed" });
      const restore = hostB.restores.find((r) => r.instanceId === a.id);
      expect(restore).toMatchObject({ walletIndex: a.walletIndex, sequence: BigInt(10 + n) });
      expect(restore?.sealed).toEqual(new Uint8Array([n, 1, 2, 3]));
      // With the pool's record, which the new host checks the state against: its owner, its trust, and the
      // dates that vouch for the state (when the vault kept it, when the pool last saw host A).
      const [row] = await q<{ kept_at: string; last_seen_at: string; owner_since: string }>(
        `select s.updated_at as kept_at, h.last_seen_at, i.owner_since from agent_states s, instance_hosts h, instances i
         where s.instance_id = ? and h.url = ? and i.id = s.instance_id`,
        [a.id, hostA.url],
      );
      expect(restore?.record).toMatchObject({
        ownerId: "a".repeat(64),
        trustLevel: TrustLevel.ADVISOR,
        dailySpendLimitWei: "",
        permissions: { memberCrypto: Grant.REFUSE },
      });
      expect(
        [restore?.record?.stateKeptAt, restore?.record?.hostSeenAt, restore?.record?.ownerSince].map((t) =>
          t ? timestampDate(t).getTime() : undefined,
        ),
      ).toEqual([row!.kept_at, row!.last_seen_at, row!.owner_since].map((d) => new Date(d).getTime()));
      expect(hostB.instances.get(a.id)?.inboxId).toBe(a.inboxId);
    }
    expect(movedAfter).toHaveLength(2);
    expect(movedAfter.every((s) => s >= 0 && s < 60)).toBe(true);
    // The one without a state stays recorded on A, never dropped.
    expect((await hostOf(stateless.id))?.host_url).toBe(hostA.url);
    expect(await mover.run()).toMatchObject({ moved: 0 });
  });

  it("stops and destroys the moved agents on the lost host when it answers again, and it stays lost", async () => {
    await hostA.restart();
    const report = await pool.reconcile();
    expect(report.unreachableHosts).toEqual([]);
    for (const a of kept) {
      expect(hostA.instances.has(a.id)).toBe(false);
      expect(hostA.calls).toContainEqual({ step: "destroy", instanceId: a.id });
      expect((await hostOf(a.id))?.host_url).toBe(hostB.url);
    }
    // The unmoved one keeps running there; nothing new is placed on A.
    expect(hostA.instances.has(stateless.id)).toBe(true);
    expect([...hostA.instances.values()].filter((i) => i.state === InstanceState.IDLE)).toEqual([]);
    expect((await hostMarks(db.em.fork())).lost.has(hostA.url)).toBe(true);
  });

  it("moves nothing while another replica's mover holds the lease", async () => {
    await q(`update instances set state = 'claimed', move_next_at = null where id = ?`, [stateless.id]);
    await putStates(db.em.fork(), hostA.url, [{ instanceId: stateless.id, sequence: 1n, sealed: new Uint8Array([9]) }]);
    expect(await acquireLease(db.em.fork(), MOVER_LEASE, "another-replica", 30)).toBeDefined();
    expect(await mover.run()).toEqual({ ran: false, moved: 0, failed: 0 });
    await q(`update pool_leases set expires_at = now() - interval '1 second' where name = ?`, [MOVER_LEASE]);
    expect(await mover.run()).toMatchObject({ ran: true, moved: 1 });
    expect((await hostOf(stateless.id))?.host_url).toBe(hostB.url);
  });

  it("goes back to the host keeping a restore refused part way, which no pass adopts or stops meanwhile; a copy left elsewhere goes; a host that answers RESOURCE_EXHAUSTED gets no more restores that run", async () => {
    const hostC = await StandInHost.start(CREDS["instance-host"]);
    const all = [...clients, new GrpcInstanceHost(hostC.url, CREDS.claims, 10_000)];
    const log = createLogger("mover", { level: "silent" });
    const pool3 = new PoolManager({ em: db.em, hosts: all, target: 2, log, lostAfterSeconds: 0 });
    const mover3 = new HostMover({ em: db.em, hosts: all, log });
    try {
      // In the order the mover takes them (by id, as PostgreSQL's C collation sorts).
      const byId = [await claimedOnA(), await claimedOnA()].sort((x, y) => (x.id < y.id ? -1 : 1));
      const [agent, other] = [byId[0]!, byId[1]!];
      await putStates(db.em.fork(), hostA.url, [
        { instanceId: agent.id, sequence: 1n, sealed: new Uint8Array([7]) },
        { instanceId: other.id, sequence: 1n, sealed: new Uint8Array([8]) },
      ]);
      // Refused on B (the only target this mover knows), which keeps it crashed to start it again;
      // the other agent is not sent there in that run, and its attempts are not counted.
      const oneAtATime = new HostMover({ em: db.em, hosts: clients, log, concurrency: 1 });
      hostB.failing.add("restore-crashed");
      expect(await oneAtATime.run()).toMatchObject({ moved: 0, failed: 1 });
      hostB.failing.delete("restore-crashed");
      expect(hostB.calls.filter((c) => c.step === "restore" && c.instanceId === other.id)).toEqual([]);
      expect(await q(`select move_attempts, move_next_at from instances where id = ?`, [other.id])).toEqual([
        { move_attempts: 0, move_next_at: null },
      ]);
      await oneAtATime.stop();
      expect(hostB.instances.get(agent.id)?.state).toBe(InstanceState.CRASHED);
      const error = await q<{ move_error: string }>(`select move_error from instances where id = ?`, [agent.id]);
      expect(error[0]!.move_error).toContain("rate limit");

      // A pass, with an empty host C besides: the move under way is the mover's, not the pass's.
      hostB.calls.length = 0;
      await pool3.reconcile();
      expect(await hostOf(agent.id)).toEqual({ host_url: hostA.url, state: "claimed" });
      expect(hostB.calls.filter((c) => c.instanceId === agent.id)).toEqual([]);
      expect(hostB.instances.has(agent.id)).toBe(true);

      // Tried again after its backoff: on B, which holds it, not on C, which has the most free places.
      await q(`update instances set move_next_at = now() - interval '1 second' where id = ?`, [agent.id]);
      expect(await mover3.run()).toMatchObject({ moved: 2, failed: 0 });
      expect((await hostOf(other.id))?.host_url).not.toBe(hostA.url);
      expect(await hostOf(agent.id)).toEqual({ host_url: hostB.url, state: "claimed" });
      expect(hostC.calls.filter((c) => c.step === "restore" && c.instanceId === agent.id)).toEqual([]);
      expect(hostB.instances.get(agent.id)?.state).toBe(InstanceState.CLAIMED);

      // A copy of it on C (a move that ended elsewhere left it): destroyed there, and B keeps the row.
      hostC.instances.set(agent.id, { ...hostB.instances.get(agent.id)!, state: InstanceState.CRASHED });
      await pool3.reconcile();
      expect(hostC.calls).toContainEqual({ step: "destroy", instanceId: agent.id });
      expect(await hostOf(agent.id)).toEqual({ host_url: hostB.url, state: "claimed" });
      expect(hostB.instances.has(agent.id)).toBe(true);
    } finally {
      await mover3.stop();
      await pool3.stop();
      all[2]!.close();
      await hostC.kill();
    }
  });

  it("is marked and unmarked by an operator with hosts-cli.ts lost and found", async () => {
    const lines: string[] = [];
    const out = (l: string) => lines.push(l);
    expect(await runHostsCommand(["lost", hostB.url], databaseUrl, out)).toBe(0);
    expect((await hostMarks(db.em.fork())).lost).toEqual(new Set([hostA.url, hostB.url]));
    expect(lines.at(-1)).toContain("is lost");
    expect(await runHostsCommand(["found", hostA.url], databaseUrl, out)).toBe(0);
    expect(await runHostsCommand(["found", hostB.url], databaseUrl, out)).toBe(0);
    expect((await hostMarks(db.em.fork())).lost).toEqual(new Set());
    expect(await runHostsCommand(["list"], databaseUrl, out)).toBe(0);
    expect(lines.some((l) => l.includes("(lost"))).toBe(false);
  });
});

// Agents are placed by runtime (docs/openclaw.md): the warm pool keeps its
// target idle on each runtime its hosts run, and a claim takes an idle agent
// on a host of its template's runtime only. Real PostgreSQL; two STAND-IN
// instance hosts (claims/test/stand-in-host.ts) over the real InstanceHostService
// client, one saying it runs OpenClaw. The real OpenClaw host is in
// openclaw-e2e.openclaw-test.ts.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AgentRuntime } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import { createLogger, generateServiceCredentials } from "@convos-pool/kit/server";
import type { Database } from "@convos-pool/kit/service";
import { StandInHost } from "../../test/stand-in-host.js";
import { claimIdleInstance, type ClaimParams } from "../claim/sql.js";
import { claimWithinCaps } from "../claim/holdings.js";
import { GrpcInstanceHost, PoolManager } from "./manager.js";
import { claimParams, openClaimsTestDatabase } from "../../test/database.js";

const CREDS = generateServiceCredentials();
const TARGET = 2;
let db: Database;
let poolHost: StandInHost;
let clawHost: StandInHost;
const clients: GrpcInstanceHost[] = [];
let manager: PoolManager;

beforeAll(async () => {
  db = await openClaimsTestDatabase("claims_runtime", 5);
  poolHost = await StandInHost.start(CREDS["instance-host"]);
  clawHost = await StandInHost.start(CREDS["instance-host"]);
  clawHost.runtime = AgentRuntime.OPENCLAW;
  clients.push(new GrpcInstanceHost(poolHost.url, CREDS.claims), new GrpcInstanceHost(clawHost.url, CREDS.claims));
  manager = new PoolManager({
    em: db.em,
    hosts: clients,
    target: TARGET,
    log: createLogger("pool", { level: "silent" }),
  });
});

afterAll(async () => {
  await manager?.stop();
  for (const c of clients) c.close();
  await poolHost?.kill();
  await clawHost?.kill();
  await db?.close();
});

const params = (runtime?: "pool" | "openclaw"): ClaimParams => claimParams(runtime ? { runtime } : {});

const hostOf = async (id: string) =>
  (await db.em.fork().execute<{ host_url: string }[]>(`select host_url from instances where id = ?`, [id]))[0]!
    .host_url;

describe("placement by runtime", () => {
  it("keeps the target idle on each runtime, each instance recorded with its host's runtime", async () => {
    await manager.reconcile();
    const rows = await db.em
      .fork()
      .execute<{ host_url: string; runtime: string; n: number }[]>(
        `select host_url, runtime, count(*)::int as n from instances where state = 'idle' group by host_url, runtime order by runtime`,
      );
    expect(rows).toEqual([
      { host_url: clawHost.url, runtime: "openclaw", n: TARGET },
      { host_url: poolHost.url, runtime: "pool", n: TARGET },
    ]);
    expect(await manager.reconcile()).toMatchObject({ started: 0 });
  });

  it("a claim of an OpenClaw template takes an idle agent on the OpenClaw host only, and finds none when they are taken", async () => {
    for (let i = 0; i < TARGET; i++) {
      const got = await claimIdleInstance(db.em.fork(), params("openclaw"));
      expect(await hostOf(got!.id)).toBe(clawHost.url);
    }
    expect(await claimIdleInstance(db.em.fork(), params("openclaw"))).toBeUndefined();
    // Through the owner's caps (claim_within_caps, as the claim flow calls it) the same.
    expect(await claimWithinCaps(db.em.fork(), params("openclaw"), { liveAgentsPerOwner: 100 })).toBeUndefined();
  });

  it("any other claim takes an agent of the pool's own runtime, never an OpenClaw one", async () => {
    await manager.reconcile();
    const got = await claimWithinCaps(db.em.fork(), params(), { liveAgentsPerOwner: 100 });
    expect(await hostOf(got!.id)).toBe(poolHost.url);
    const again = await claimIdleInstance(db.em.fork(), params("pool"));
    expect(await hostOf(again!.id)).toBe(poolHost.url);
    expect(await claimIdleInstance(db.em.fork(), params("pool"))).toBeUndefined();
  });
});

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, ConnectError } from "@connectrpc/connect";
import { AgentVaultService } from "@convos-pool/gen/convos/pool/v1/agent_vault_service_pb.js";
import {
  createLogger,
  createServiceClient,
  generateServiceCredentials,
  hostCredentials,
  type RunningServer,
  serviceAuthInterceptor,
  startServer,
} from "@convos-pool/kit/server";
import type { Database } from "@convos-pool/kit/service";
import { markIdle, registerInstance } from "../pool/sql.js";
import { CLAIMS_ACCESS } from "../server.js";
import { openClaimsTestDatabase } from "../../test/database.js";
import { MAX_SEALED_STATE_BYTES, MAX_VAULT_REQUEST_BYTES, SEQUENCE_SLACK } from "./policy.js";
import { createAgentVaultService } from "./service.js";
import { keptState } from "./sql.js";

// AgentVaultService on real PostgreSQL, served by the kit's real server with
// the claims service's access policy (CLAIMS_ACCESS), called over the wire with
// the real credentials of two instance hosts (each its own), the hosts' shared
// one and the gateway's. The agents' rows are written as the pool manager and
// a claim write them.

const HOST = "http://host-a.test:7100";
const OTHER_HOST = "http://host-b.test:7100";
const CREDS = generateServiceCredentials(undefined, [HOST, OTHER_HOST]);
type Client = ReturnType<typeof createServiceClient<typeof AgentVaultService>>;
let db: Database;
let server: RunningServer;
let asHost: Client;
let asOtherHost: Client;
let asSharedHost: Client;
let asGateway: Client;

beforeAll(async () => {
  db = await openClaimsTestDatabase("claims_vault", 4);
  server = await startServer({
    name: "claims-vault-test",
    host: "127.0.0.1",
    log: createLogger("vault", { level: "silent" }),
    interceptors: [serviceAuthInterceptor(CREDS.claims.directory, CLAIMS_ACCESS)],
    maxRequestBytes: MAX_VAULT_REQUEST_BYTES,
    routes: (router) => router.service(AgentVaultService, createAgentVaultService(db.em)),
  });
  asHost = createServiceClient(AgentVaultService, server.url, hostCredentials(CREDS, HOST));
  asOtherHost = createServiceClient(AgentVaultService, server.url, hostCredentials(CREDS, OTHER_HOST));
  asSharedHost = createServiceClient(AgentVaultService, server.url, CREDS["instance-host"]);
  asGateway = createServiceClient(AgentVaultService, server.url, CREDS.gateway);
});

afterAll(async () => {
  for (const c of [asHost, asOtherHost, asSharedHost, asGateway]) c?.close();
  await server?.close();
  await db?.close();
});

const q = <T = Record<string, unknown>>(sql: string, p: unknown[] = []) => db.em.fork().execute<T[]>(sql, p);

/** An agent on `host`: idle, or claimed by an owner. */
async function agent(host: string, claimed: boolean): Promise<string> {
  const { id } = await registerInstance(db.em.fork(), host);
  await markIdle(db.em.fork(), id, `inbox-${id}`);
  if (claimed)
    await q(
      `update instances set state = 'claimed', owner_id = ?, template_id = 'tmpl_AAAAAAAAAAAAAAAA', claimed_at = now() where id = ?`,
      ["a".repeat(64), id],
    );
  return id;
}

const state = (instanceId: string, sequence: number, fill = sequence) => ({
  instanceId,
  sequence: BigInt(sequence),
  sealed: new Uint8Array(64).fill(fill),
});

const put = (states: ReturnType<typeof state>[], as = asHost, hostUrl = "") =>
  as.client.putAgentStates({ hostUrl, states }, { timeoutMs: 10_000 });

const refusal = (call: Promise<unknown>) =>
  call.then(
    () => undefined,
    (e: unknown) => ConnectError.from(e),
  );

describe("AgentVaultService.PutAgentStates", () => {
  it("keeps the state of a claimed agent placed on the calling host, and refuses, agent by agent, every other", async () => {
    const mine = await agent(HOST, true);
    const idle = await agent(HOST, false);
    const elsewhere = await agent(OTHER_HOST, true);
    const nobody = "inst_NOBODYNOBODYNOBO";
    const res = await put([state(mine, 1), state(idle, 1), state(elsewhere, 1), state(nobody, 1)]);
    expect(res.outcomes.map((o) => [o.instanceId, o.stored])).toEqual([
      [mine, true],
      [idle, false],
      [elsewhere, false],
      [nobody, false],
    ]);
    expect(res.outcomes[2]!.error).toContain(`placed on ${HOST}`);
    expect((await keptState(db.em.fork(), mine))?.sequence).toBe(1n);
    for (const id of [idle, elsewhere]) expect(await keptState(db.em.fork(), id)).toBeUndefined();
    // The other host puts its own agent's state, under its own credential.
    expect((await put([state(elsewhere, 1)], asOtherHost)).outcomes[0]!.stored).toBe(true);
  });

  it("takes the host from its credential: naming another host's address, or the hosts' shared credential, keeps nothing", async () => {
    const theirs = await agent(OTHER_HOST, true);
    await put([state(theirs, 1)], asOtherHost);
    // A broken host names the other's address, for a state far ahead that would hold back the real ones.
    const named = await refusal(put([state(theirs, 2 ** 40, 7)], asHost, OTHER_HOST));
    expect(named?.code).toBe(Code.PermissionDenied);
    expect(named?.rawMessage).toBe(
      `host_url: this credential is the host ${HOST}'s; a host keeps only its own agents' states`,
    );
    // Without naming one, its own address is the one checked: not where that agent is placed.
    expect((await put([state(theirs, 2 ** 40, 7)], asHost)).outcomes[0]).toMatchObject({
      stored: false,
      error: `no live agent ${theirs} is placed on ${HOST}`,
    });
    const shared = await refusal(put([state(theirs, 2 ** 40, 7)], asSharedHost, OTHER_HOST));
    expect(shared?.code).toBe(Code.PermissionDenied);
    expect(shared?.rawMessage).toContain("under that host's own credential");
    expect(await keptState(db.em.fork(), theirs)).toMatchObject({ sequence: 1n, sealed: new Uint8Array(64).fill(1) });
    // Its own address, named, is taken as before.
    const mine = await agent(HOST, true);
    expect((await put([state(mine, 1)], asHost, HOST)).outcomes[0]!.stored).toBe(true);
  });

  it("keeps only a newer sequence: a retried or overtaken upload changes nothing and is answered as stored", async () => {
    const id = await agent(HOST, true);
    await put([state(id, 5)]);
    const older = await put([state(id, 3, 99)]);
    const same = await put([state(id, 5, 98)]);
    expect([older.outcomes[0]!.stored, same.outcomes[0]!.stored]).toEqual([true, true]);
    const kept = await keptState(db.em.fork(), id);
    expect(kept?.sequence).toBe(5n);
    expect(kept?.sealed).toEqual(new Uint8Array(64).fill(5));
    await put([state(id, 6)]);
    expect((await keptState(db.em.fork(), id))?.sealed).toEqual(new Uint8Array(64).fill(6));
  });

  it(`moves a sequence forward within ${SEQUENCE_SLACK} and a second a second, never to any number`, async () => {
    const id = await agent(HOST, true);
    // A first state: within the slack of 0; one past it is refused, saying the most it may be now.
    const far = await put([state(id, Number(SEQUENCE_SLACK) + 500)]);
    expect(far.outcomes[0]).toMatchObject({ stored: false });
    const most = /^sequence: \d+ is too far past the state kept; at most (\d+) now$/.exec(far.outcomes[0]!.error);
    expect(Number(most?.[1]) - Number(SEQUENCE_SLACK), far.outcomes[0]!.error).toBeGreaterThanOrEqual(0);
    expect(Number(most?.[1]) - Number(SEQUENCE_SLACK)).toBeLessThan(60); // seconds since the agent was made
    expect(await keptState(db.em.fork(), id)).toBeUndefined();
    expect((await put([state(id, Number(SEQUENCE_SLACK))])).outcomes[0]!.stored).toBe(true);
    // From the kept one: the slack again, and one more for each second since it was kept.
    const next = Number(SEQUENCE_SLACK) * 2;
    expect((await put([state(id, 2 ** 62)])).outcomes[0]!.stored).toBe(false);
    expect((await put([state(id, next + 60)])).outcomes[0]!.stored).toBe(false);
    await q(`update agent_states set updated_at = now() - interval '90 seconds' where instance_id = ?`, [id]);
    expect((await put([state(id, next + 60)])).outcomes[0]!.stored).toBe(true);
    expect((await keptState(db.em.fork(), id))?.sequence).toBe(BigInt(next + 60));
  });

  it("refuses a state past the size cap, an empty one and one named twice, and keeps the rest of the call", async () => {
    const a = await agent(HOST, true);
    const b = await agent(HOST, true);
    const big = { instanceId: a, sequence: 1n, sealed: new Uint8Array(MAX_SEALED_STATE_BYTES + 1) };
    const res = await put([big, state(b, 1), state(b, 2), { ...state(a, 2), sealed: new Uint8Array() }]);
    expect(res.outcomes.map((o) => o.stored)).toEqual([false, true, false, false]);
    expect(res.outcomes[0]!.error).toContain(`at most ${MAX_SEALED_STATE_BYTES}`);
    expect(res.outcomes[2]!.error).toContain("named twice");
    expect(await keptState(db.em.fork(), a)).toBeUndefined();
    expect((await keptState(db.em.fork(), b))?.sequence).toBe(1n);
  });

  it("deletes an agent's state when it is released to the pool or ended", async () => {
    const released = await agent(HOST, true);
    const ended = await agent(HOST, true);
    const kept = await agent(HOST, true);
    await put([state(released, 1), state(ended, 1), state(kept, 1)]);
    await q(
      `update instances set state = 'idle', owner_id = null, template_id = null, claimed_at = null where id = ?`,
      [released],
    );
    await q(`update instances set state = 'dead' where id = ?`, [ended]);
    expect(await keptState(db.em.fork(), released)).toBeUndefined();
    expect(await keptState(db.em.fork(), ended)).toBeUndefined();
    expect((await keptState(db.em.fork(), kept))?.sequence).toBe(1n);
    // And a late upload for the ended one is refused.
    expect((await put([state(ended, 2)])).outcomes[0]!.stored).toBe(false);
  });

  it("answers only the instance hosts' credential", async () => {
    const id = await agent(HOST, true);
    const err = await refusal(put([state(id, 1)], asGateway, HOST));
    expect(err?.code).toBe(Code.PermissionDenied);
    expect(await keptState(db.em.fork(), id)).toBeUndefined();
  });
});

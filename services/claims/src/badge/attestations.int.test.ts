import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, ConnectError } from "@connectrpc/connect";
import type { AttestRequest } from "@convos-pool/gen/convos/pool/v1/instance_service_pb.js";
import { AttestationKeyRing, generateAttestationKeyPem, statementHash } from "@convos-pool/kit/signing";
import { createLogger } from "@convos-pool/kit/server";
import type { Database } from "@convos-pool/kit/service";
import type { InstanceRef, InstanceRuntime } from "../hosts/runtime.js";
import { Attestations } from "./attestations.js";
import { claimIdleInstance, completeClaim, setTrustLevel } from "../claim/sql.js";
import { lastStatementOf } from "./statement.js";
import { claimParams, openClaimsTestDatabase } from "../../test/database.js";

// The first attestations of agents claimed together, on real PostgreSQL; the
// agents are a stand-in runtime that takes or refuses Attest (the real agent
// publishing it is badge-e2e.int.test.ts). Their next dates go in one
// statement: each agent must still get its own. The statement of what an
// agent may do that goes with each (statement.ts): the same one while its
// facts hold, one chain even when attestations run at once (the agent
// posting it is statement-e2e.int.test.ts).

const HOUR = 3_600_000;
const MINUTE = 60_000;
let db: Database;

beforeAll(async () => {
  db = await openClaimsTestDatabase("claims_attestations", 4);
});

afterAll(async () => {
  await db?.close();
});

const inbox = (n: number) => String(n).repeat(64).slice(0, 64);

describe("first attestations after claims", () => {
  it("record each agent's next date and key, a refused one its retry, and leave an agent that is not claimed alone", async () => {
    // Three agents claimed as a claim does it, a fourth left idle.
    const ids: string[] = [];
    for (let n = 1; n <= 4; n++) {
      const id = `inst_att000000000000${n}`;
      await db.em
        .fork()
        .execute(`insert into instances (id, state, host_url, inbox_id) values (?, 'idle', 'http://127.0.0.1:1', ?)`, [
          id,
          inbox(n),
        ]);
      ids.push(id);
    }
    for (const _ of ids.slice(0, 3)) {
      const p = claimParams();
      const taken = (await claimIdleInstance(db.em.fork(), p))!;
      const done = await completeClaim(db.em.fork(), {
        instanceId: taken.id,
        claimId: p.claimId,
        ownerId: p.ownerId,
        conversationId: `conv-${taken.id}`,
        appliedKey: [1],
      });
      expect(done).toBe(true);
    }
    const asked: AttestRequest[] = [];
    const runtime = {
      attest: async (instance: InstanceRef, req: AttestRequest) => {
        asked.push(req);
        if (instance.id === ids[1]) throw new ConnectError("the agent is away", Code.Unavailable);
      },
    } as unknown as InstanceRuntime;
    const attestations = new Attestations({
      em: db.em,
      runtime,
      keys: new AttestationKeyRing([{ kid: "k1", pem: generateAttestationKeyPem() }]),
      log: createLogger("attestations", { level: "silent" }),
      refreshMs: 12 * HOUR,
      retryMs: 10 * MINUTE,
    });
    for (const [i, id] of ids.entries())
      attestations.claimed({ id, hostUrl: "http://127.0.0.1:1", inboxId: inbox(i + 1) });
    await attestations.stop();

    // In no set order: each reads its statement's facts first.
    expect(asked.map((r) => r.attestation?.inboxId).sort()).toEqual(ids.map((_, i) => inbox(i + 1)));
    // Each claimed agent's statement of what it may do goes with it (statement.ts); none for the unclaimed one.
    expect(
      asked
        .filter((r) => r.statement)
        .map((r) => r.attestation?.inboxId)
        .sort(),
    ).toEqual([inbox(1), inbox(2), inbox(3)]);
    const rows = await db.em.fork().execute<{ id: string; kid: string | null; due_in_s: number | null }[]>(
      `select id, attest_kid as kid, extract(epoch from attest_next_at - now())::float8 as due_in_s
       from instances where id in (?) order by id`,
      [ids],
    );
    const near = (s: number | null, ms: number) => s !== null && Math.abs(s - ms / 1000) < 60;
    expect(rows.map((r) => r.kid)).toEqual(["k1", null, "k1", null]);
    expect(near(rows[0]!.due_in_s, 12 * HOUR)).toBe(true);
    expect(near(rows[1]!.due_in_s, 10 * MINUTE)).toBe(true);
    expect(near(rows[2]!.due_in_s, 12 * HOUR)).toBe(true);
    // Not claimed: never attested, so nothing is due for it.
    expect(rows[3]!.due_in_s).toBeNull();
  });
});

describe("the statement that goes with each attestation", () => {
  it("is the same while the facts hold, a new one naming it after the owner's trust level, and one chain when two attest at once", async () => {
    const id = "inst_statement000001";
    // The only idle agent, so that the claim takes it.
    await db.em.fork().execute(`update instances set state = 'dead' where state = 'idle'`);
    await db.em
      .fork()
      .execute(`insert into instances (id, state, host_url, inbox_id) values (?, 'idle', 'http://127.0.0.1:1', ?)`, [
        id,
        inbox(7),
      ]);
    const p = claimParams();
    await claimIdleInstance(db.em.fork(), p);
    await completeClaim(db.em.fork(), {
      instanceId: id,
      claimId: p.claimId,
      ownerId: p.ownerId,
      conversationId: "conv-statement",
      appliedKey: [1],
    });
    const asked: AttestRequest[] = [];
    const runtime = {
      attest: async (_: InstanceRef, req: AttestRequest) => void asked.push(req),
    } as unknown as InstanceRuntime;
    const keys = new AttestationKeyRing([{ kid: "k1", pem: generateAttestationKeyPem() }]);
    const log = createLogger("attestations", { level: "silent" });
    const attestations = new Attestations({ em: db.em, runtime, keys, log });
    const ref = { id, hostUrl: "http://127.0.0.1:1", inboxId: inbox(7) };
    // A claim's first attestation beside another: one statement 1, handed to both.
    attestations.claimed(ref);
    attestations.claimed(ref);
    attestations.claimed(ref);
    await attestations.stop();
    const firsts = asked.map((r) => r.statement).filter(Boolean);
    expect(firsts.length).toBeGreaterThanOrEqual(1);
    const kept = lastStatementOf(
      (await db.em.fork().execute<{ statement: string }[]>(`select statement from instances where id = ?`, [id]))[0]!
        .statement,
    )!;
    expect(kept.statement).toMatchObject({ sequence: 1, trustLevel: 0, ownerId: p.ownerId });
    for (const s of firsts) expect(s).toBe(kept.jws);

    // The owner's trust level, as the agent took it: a new statement naming the last.
    expect(await setTrustLevel(db.em.fork(), id, p.ownerId, 3, "")).toBe(true);
    const again = new Attestations({ em: db.em, runtime, keys, log });
    asked.length = 0;
    again.claimed(ref);
    await again.stop();
    const next = lastStatementOf(asked[0]!.statement)!;
    expect(next.statement).toMatchObject({
      sequence: 2,
      previous: statementHash(kept.jws),
      changes: ["the owner raised trust from unset to L3"],
    });
  });
});

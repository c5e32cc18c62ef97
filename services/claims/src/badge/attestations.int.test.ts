import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, ConnectError } from "@connectrpc/connect";
import type { AttestRequest } from "@convos-pool/gen/convos/pool/v1/instance_service_pb.js";
import { AttestationKeyRing, generateAttestationKeyPem } from "@convos-pool/kit/signing";
import { createLogger } from "@convos-pool/kit/server";
import type { Database } from "@convos-pool/kit/service";
import type { InstanceRef, InstanceRuntime } from "../hosts/runtime.js";
import { Attestations } from "./attestations.js";
import { claimIdleInstance, completeClaim } from "../claim/sql.js";
import { claimParams, openClaimsTestDatabase } from "../../test/database.js";

// The first attestations of agents claimed together, on real PostgreSQL; the
// agents are a stand-in runtime that takes or refuses Attest (the real agent
// publishing it is badge-e2e.int.test.ts). Their next dates go in one
// statement: each agent must still get its own.

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

    expect(asked.map((r) => r.attestation?.inboxId)).toEqual(ids.map((_, i) => inbox(i + 1)));
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

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  ApprovalPlace,
  ConversationTools,
  Grant,
  ParticipationMode,
} from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { DEFAULT_PERMISSION_VALUES } from "@convos-pool/kit/content";
import type { AttestRequest } from "@convos-pool/gen/convos/pool/v1/instance_service_pb.js";
import { AttestationKeyRing, generateAttestationKeyPem, statementHash } from "@convos-pool/kit/signing";
import { createLogger } from "@convos-pool/kit/server";
import type { Database } from "@convos-pool/kit/service";
import type { InstanceRef, InstanceRuntime } from "../hosts/runtime.js";
import { Attestations } from "./attestations.js";
import { claimIdleInstance, completeClaim, setAgentSetting, setTrustLevel } from "../claim/sql.js";
import type { ToolProvider } from "../providers/types.js";
import { PoolTools } from "../tools/provisioning.js";
import { SecretBox } from "../tools/secrets.js";
import { insertProvisionedTool, markToolReleaseFailed } from "../tools/sql.js";
import { completeJoin, leaveConversation, reserveJoin, setParticipationIn } from "../conversations/sql.js";
import { lastStatementOf } from "./statement.js";
import { claimParams, openClaimsTestDatabase } from "../../test/database.js";

// The first attestations of agents claimed together, on real PostgreSQL; the
// agents are a stand-in runtime that takes or refuses Attest (the real agent
// publishing it is badge-e2e.int.test.ts). Their next dates go in one
// statement: each agent must still get its own. The statement of what an
// agent may do that goes with each (statement.ts): the same one while its
// facts hold, one chain even when attestations run at once, a new one at
// once after the owner's permissions or a tool removed without a new version
// (the agent posting it is statement-e2e.int.test.ts). The tools' providers
// are stand-ins too; their records are real.

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

/** Agent `id` (inbox `n`) claimed into `conversationId` as a claim does it, the only idle agent so that the claim takes it. */
async function claimedAlone(id: string, n: number, conversationId: string) {
  await db.em.fork().execute(`update instances set state = 'dead' where state = 'idle'`);
  await db.em
    .fork()
    .execute(`insert into instances (id, state, host_url, inbox_id) values (?, 'idle', 'http://127.0.0.1:1', ?)`, [
      id,
      inbox(n),
    ]);
  const p = claimParams();
  await claimIdleInstance(db.em.fork(), p);
  await completeClaim(db.em.fork(), {
    instanceId: id,
    claimId: p.claimId,
    ownerId: p.ownerId,
    conversationId,
    appliedKey: [1],
  });
  return p;
}

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
    const p = await claimedAlone(id, 7, "conv-statement");
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

  it("follows a change made while an attestation was on its way: due again at once, not in 12 hours", async () => {
    const id = "inst_statement000003";
    const p = await claimedAlone(id, 9, "conv-in-flight");
    const dueIn = async () =>
      (
        await db.em
          .fork()
          .execute<{ s: number | null }[]>(
            `select extract(epoch from attest_next_at - now())::float8 as s from instances where id = ?`,
            [id],
          )
      )[0]!.s;
    // The owner changes the trust level while the agent is being attested (its host has not answered yet).
    const runtime = {
      attest: async () => {
        expect(await setTrustLevel(db.em.fork(), id, p.ownerId, 3, "")).toBe(true);
      },
    } as unknown as InstanceRuntime;
    const keys = new AttestationKeyRing([{ kid: "k1", pem: generateAttestationKeyPem() }]);
    const a = new Attestations({ em: db.em, runtime, keys, log: createLogger("attestations", { level: "silent" }) });
    a.claimed({ id, hostUrl: "http://127.0.0.1:1", inboxId: inbox(9) });
    await a.stop();
    expect(await dueIn()).toBeNull();
    // Without a change meanwhile, the next is 12 hours on.
    const calm = new Attestations({
      em: db.em,
      runtime: { attest: async () => undefined } as unknown as InstanceRuntime,
      keys,
      log: createLogger("attestations", { level: "silent" }),
    });
    calm.claimed({ id, hostUrl: "http://127.0.0.1:1", inboxId: inbox(9) });
    await calm.stop();
    expect(Math.abs((await dueIn())! - (12 * HOUR) / 1000)).toBeLessThan(60);
  });

  it("follows the owner's permissions, and a tool removed without a new version, each at once", async () => {
    const id = "inst_statement000002";
    const p = await claimedAlone(id, 8, "conv-statement-2");
    for (const [toolId, provider, handle] of [
      ["sms", "test-sms", "+15550002222"],
      ["crypto", "test-wallet", "0x00000000000000000000000000000000000000aa"],
    ] as const)
      await insertProvisionedTool(db.em.fork(), { instanceId: id, toolId, provider, handle, secret: null });
    const asked: AttestRequest[] = [];
    const runtime = {
      attest: async (_: InstanceRef, req: AttestRequest) => void asked.push(req),
    } as unknown as InstanceRuntime;
    const keys = new AttestationKeyRing([{ kid: "k1", pem: generateAttestationKeyPem() }]);
    const log = createLogger("attestations", { level: "silent" });
    const ref = { id, hostUrl: "http://127.0.0.1:1", inboxId: inbox(8) };
    /** One attestation now, as the scan makes it: the statement it handed over. */
    const attest = async () => {
      asked.length = 0;
      const a = new Attestations({ em: db.em, runtime, keys, log });
      a.claimed(ref);
      await a.stop();
      return lastStatementOf(asked[0]!.statement)!.statement;
    };
    const due = async () =>
      (
        await db.em
          .fork()
          .execute<{ due: boolean }[]>(`select attest_next_at is null as due from instances where id = ?`, [id])
      )[0]!.due;

    // Before the owner set any: the defaults, stated in full.
    const first = await attest();
    expect(first.sequence).toBe(1);
    expect(first.permissions).toMatchObject({ ...DEFAULT_PERMISSION_VALUES });
    expect(await due()).toBe(false);

    // The owner's permissions, as the agent took them: due at once, and the next statement says what changed.
    const took = { ...DEFAULT_PERMISSION_VALUES, memberSms: Grant.ALLOW, approvals: ApprovalPlace.DIRECT };
    expect(await setAgentSetting(db.em.fork(), id, p.ownerId, "permissions", took)).toBe(true);
    expect(await due()).toBe(true);
    const second = await attest();
    expect(second).toMatchObject({
      sequence: 2,
      changes: [
        "the owner now lets members have it send texts without asking",
        "approvals are now asked of the owner privately",
      ],
    });
    expect(second.permissions).toMatchObject(took);

    // Its number given back and its wallet held for its owner, with no new version: each makes it due.
    const released: string[] = [];
    const stand = (toolId: string, name: string, held: boolean): ToolProvider => ({
      toolId,
      name,
      provision: () => Promise.reject(new Error("not here")),
      release: async (handle) => void released.push(handle),
      ...(held ? { releaseFunds: async () => "held" as const } : {}),
    });
    const tools = new PoolTools(
      new Map([
        ["sms", stand("sms", "test-sms", false)],
        ["crypto", stand("crypto", "test-wallet", true)],
      ]),
      db.em,
      SecretBox.fromConfig(SecretBox.generateKey()),
      log,
    );
    const ofTool = (toolId: string, provider: string, handle: string) => ({
      instanceId: id,
      toolId,
      provider,
      handle,
      secret: null,
    });
    expect(await due()).toBe(false);
    expect(await tools.release(ofTool("sms", "test-sms", "+15550002222"))).toBe(true);
    expect(released).toEqual(["+15550002222"]);
    expect(await due()).toBe(true);
    await db.em.fork().execute(`update instances set attest_next_at = now() + interval '12 hours' where id = ?`, [id]);
    const wallet = ofTool("crypto", "test-wallet", "0x00000000000000000000000000000000000000aa");
    expect(await tools.release(wallet)).toBe(false);
    expect(await due()).toBe(true);
    const third = await attest();
    expect(third).toMatchObject({
      sequence: 3,
      tools: [],
      changes: [
        "a phone number was removed (+15550002222)",
        "a wallet was removed (0x00000000000000000000000000000000000000aa)",
      ],
    });

    // A tool that was not stated (the held wallet) changing again: nothing to state, nothing due.
    expect(await due()).toBe(false);
    await markToolReleaseFailed(db.em.fork(), id, "crypto");
    expect(await due()).toBe(false);
  });
});

describe("the statements of an agent in several conversations", () => {
  it("hands one per other conversation, each with its own facts and chain, new only where something changed, none once it left", async () => {
    const id = "inst_statement000004";
    const p = await claimedAlone(id, 6, "conv-many-home");
    await insertProvisionedTool(db.em.fork(), {
      instanceId: id,
      toolId: "sms",
      provider: "test-sms",
      handle: "+15550003333",
      secret: null,
    });
    // The owner adds it to two more: B where it is named to speak, tools shared; C with its tools off.
    const auto = { mode: ParticipationMode.UNSPECIFIED, cooldownSeconds: 0 };
    for (const [addId, conversationId, participation, tools] of [
      ["add-b", "conv-many-b", { mode: ParticipationMode.MENTION, cooldownSeconds: 0 }, ConversationTools.SHARED],
      ["add-c", "conv-many-c", auto, ConversationTools.NONE],
    ] as const) {
      await reserveJoin(db.em.fork(), { instanceId: id, addId, conversationKey: `key-${addId}`, participation, tools });
      expect(await completeJoin(db.em.fork(), id, addId, conversationId)).toBe(true);
    }
    const asked: AttestRequest[] = [];
    const runtime = {
      attest: async (_: InstanceRef, req: AttestRequest) => void asked.push(req),
    } as unknown as InstanceRuntime;
    const keys = new AttestationKeyRing([{ kid: "k1", pem: generateAttestationKeyPem() }]);
    const log = createLogger("attestations", { level: "silent" });
    const attest = async () => {
      asked.length = 0;
      const a = new Attestations({ em: db.em, runtime, keys, log });
      a.claimed({ id, hostUrl: "http://127.0.0.1:1", inboxId: inbox(6) });
      await a.stop();
      const req = asked[0]!;
      const byConversation = new Map(req.conversationStatements.map((c) => [c.conversationId, c.statement]));
      return { home: req.statement, byConversation };
    };
    const kept = async () =>
      new Map(
        (
          await db.em
            .fork()
            .execute<{ conversation_id: string; statement: string | null }[]>(
              `select conversation_id, statement from agent_conversations where instance_id = ? and not home`,
              [id],
            )
        ).map((r) => [r.conversation_id, r.statement]),
      );

    const first = await attest();
    expect([...first.byConversation.keys()].sort()).toEqual(["conv-many-b", "conv-many-c"]);
    const home = lastStatementOf(first.home)!.statement;
    const b = lastStatementOf(first.byConversation.get("conv-many-b") ?? null)!.statement;
    const c = lastStatementOf(first.byConversation.get("conv-many-c") ?? null)!.statement;
    expect(home).toMatchObject({ conversationId: "conv-many-home", participation: "auto", sequence: 1 });
    expect(home.tools.map((t) => t.handle)).toEqual(["+15550003333"]);
    expect(b).toMatchObject({ conversationId: "conv-many-b", participation: "mention", sequence: 1, previous: "" });
    expect(b.tools.map((t) => t.handle)).toEqual(["+15550003333"]);
    expect(b).toMatchObject({ instanceId: id, inboxId: inbox(6), ownerId: p.ownerId });
    // Tools off there: the statement lists none.
    expect(c).toMatchObject({ conversationId: "conv-many-c", participation: "auto", sequence: 1, tools: [] });
    // Each kept on its own row, the home's on the agent's.
    expect(await kept()).toEqual(
      new Map([
        ["conv-many-b", first.byConversation.get("conv-many-b")],
        ["conv-many-c", first.byConversation.get("conv-many-c")],
      ]),
    );

    // Nothing changed: the same three again, which the agent does not post twice.
    const again = await attest();
    expect(again.home).toBe(first.home);
    expect(again.byConversation).toEqual(first.byConversation);

    // The owner changes when it speaks in B: due at once; B's next names B's last; C and the home stay.
    expect(
      await setParticipationIn(db.em.fork(), id, p.ownerId, "conv-many-b", {
        mode: ParticipationMode.SPEAK,
        cooldownSeconds: 0,
      }),
    ).toBe(true);
    const changed = await attest();
    expect(changed.home).toBe(first.home);
    expect(changed.byConversation.get("conv-many-c")).toBe(first.byConversation.get("conv-many-c"));
    expect(lastStatementOf(changed.byConversation.get("conv-many-b") ?? null)!.statement).toMatchObject({
      conversationId: "conv-many-b",
      participation: "speak",
      sequence: 2,
      previous: statementHash(first.byConversation.get("conv-many-b")!),
      changes: ["the owner changed when it speaks from mention to speak"],
    });

    // It leaves C: no statement for C any more.
    expect(await leaveConversation(db.em.fork(), id, "conv-many-c", undefined)).toBe(true);
    const left = await attest();
    expect([...left.byConversation.keys()]).toEqual(["conv-many-b"]);

    // It leaves its home, B becomes the home: the home's statement goes on from B's chain, not the old home's.
    const bLast = left.byConversation.get("conv-many-b")!;
    expect(await leaveConversation(db.em.fork(), id, "conv-many-home", "add-b")).toBe(true);
    const moved = await attest();
    expect(moved.byConversation.size).toBe(0);
    // The same facts as B's last: that one again, which B's members have seen.
    expect(moved.home).toBe(bLast);
    expect(await setTrustLevel(db.em.fork(), id, p.ownerId, 2, "")).toBe(true);
    const raised = await attest();
    expect(lastStatementOf(raised.home)!.statement).toMatchObject({
      conversationId: "conv-many-b",
      participation: "speak",
      sequence: 3,
      previous: statementHash(bLast),
    });
    // And it is kept as the home's: the next attestation hands it again.
    expect((await attest()).home).toBe(raised.home);
  });
});

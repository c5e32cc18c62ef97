// One agent in several conversations, the claims side (conversations/flow.ts;
// docs/claims.md, "Adding an agent to a conversation"), over gRPC: the real
// template service, the real claims service on real PostgreSQL, against the
// STAND-IN instance host (claims/test/stand-in-host.ts), which checks the
// owner's signatures as the real agent does, joins at once and fails on
// demand. The invites are real Convos invites (signed payloads with a creator
// inbox and a tag), made here without a conversation behind them. The sweep
// of stale additions is run by the test, through a flow of its own on the
// same database and the real gRPC runtime.
import { randomBytes } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { Code, type Client, type ConnectError } from "@connectrpc/connect";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AddToConversationRequestSchema, type ClaimService } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import { AgentConversationState, ConversationTools } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { fieldViolations } from "@convos-pool/kit/content";
import { createLogger, DEFAULT_LIMITS, limitExceededOf } from "@convos-pool/kit/server";
import {
  DerivedInboxResolver,
  LOCAL_POOL_ID,
  signAddToConversation,
  signOperation,
  SignatureVerifier,
  type ConversationAdditionToSign,
} from "@convos-pool/kit/signing";
import { newIdentity, type TestIdentity } from "@convos-pool/kit/testing";
import { as, expectCode } from "../../test/helpers.js";
import { StandInStack } from "../../test/stand-in-stack.js";
import { GrpcInstanceRuntime } from "../hosts/grpc-runtime.js";
import { ConversationFlow } from "./flow.js";
import { inviteUrl } from "@convos-pool/convos/testing/invite";

const stack = new StandInStack({ name: "conversations", smsRange: "+15550420000..+15550420099" });
let client: Client<typeof ClaimService>;
let sql: pg.Client;
let runtime: GrpcInstanceRuntime;
/** The test's own flow on the claims database: its sweep, run when the rows are ready for it. */
let sweeper: ConversationFlow;

beforeAll(async () => {
  await stack.start();
  ({ claimsClient: client, sql } = stack);
  runtime = new GrpcInstanceRuntime({ credentials: stack.creds.claims });
  sweeper = new ConversationFlow({
    em: stack.db.em,
    verifier: new SignatureVerifier({ poolId: LOCAL_POOL_ID, resolver: new DerivedInboxResolver() }),
    runtime,
    limits: DEFAULT_LIMITS,
    log: createLogger("sweep", { level: "silent" }),
  });
});
afterAll(async () => {
  runtime?.close();
  await stack.close();
});

/** An invite of the conversation `creator`/`tag` (each call a new token, as a creator makes them). */
async function invite(
  creator = randomBytes(32).toString("hex"),
  tag = `tag${randomBytes(4).toString("hex")}`,
): Promise<string> {
  return inviteUrl({ creatorInboxId: creator, tag, name: "Trip to Tokyo" });
}

/** A new agent of `owner` (of `templateId`, else a template of its own) claimed into a conversation of its own. */
async function claimed(owner: TestIdentity, templateId?: string, into?: string): Promise<string> {
  const t = templateId ?? (await stack.createTemplate(newIdentity(), { agent_name: "Concierge", tools: [] })).id;
  await stack.seedIdle(1);
  const res = await client.claim(
    { requester: owner.inboxId, templateId: t, conversationInvite: into ?? (await invite()), userConfig: {} },
    as(owner),
  );
  return res.instanceId;
}

type AddOver = Partial<Omit<ConversationAdditionToSign, "ownerId" | "instanceId" | "conversationInvite">>;

/** The owner's AddToConversation request, signed by `signer` (the owner unless said). */
async function addRequest(
  owner: TestIdentity,
  instanceId: string,
  conversationInvite: string,
  over: AddOver = {},
  signer = owner,
) {
  const ownerSignature = await signAddToConversation(signer.account, {
    ownerId: owner.inboxId,
    instanceId,
    conversationInvite,
    ...over,
  });
  return {
    instanceId,
    conversationInvite,
    ownerSignature,
    confirmSecondAgent: over.secondAgent === true,
    ...(over.tools ? { tools: over.tools } : {}),
  };
}

async function removeRequest(owner: TestIdentity, instanceId: string, conversationId: string) {
  const ownerSignature = await signOperation(owner.account, "RemoveFromConversation", {
    inboxId: owner.inboxId,
    instanceId,
    conversationId,
  });
  return { instanceId, conversationId, ownerSignature };
}

interface Row {
  add_id: string;
  conversation_id: string;
  state: string;
  home: boolean;
}
const rows = async (instanceId: string): Promise<Row[]> =>
  (
    await sql.query<Row>(
      `select add_id, conversation_id, state, home from agent_conversations where instance_id = $1
       order by created_at, add_id`,
      [instanceId],
    )
  ).rows;
const addCalls = (instanceId: string) => stack.host.callsOf(instanceId).filter((c) => c === "add").length;
/** The additions of `instanceId` made stale: their lease long run out. */
const ageJoins = (instanceId: string) =>
  sql.query(
    `update agent_conversations set add_renewed_at = now() - interval '1 hour' where instance_id = $1 and state = 'joining'`,
    [instanceId],
  );

describe("adding an agent to another conversation", () => {
  it("joins it there: the agent asked with the owner's signature, the row joined with its group id, the attestation due, both listed with the home first", async () => {
    const owner = newIdentity();
    const id = await claimed(owner);
    const [home] = await rows(id);
    await sql.query(`update instances set attest_next_at = now() + interval '1 hour' where id = $1`, [id]);

    // Signed, no session: the signature is the proof.
    const res = await client.addToConversation(
      await addRequest(owner, id, await invite(), { tools: ConversationTools.NONE }),
    );
    const joined = stack.host.instances.get(id)?.added?.[0]?.conversationId;
    expect(joined).toMatch(/^[0-9a-f]{32}$/);
    expect(res.conversation?.conversationId).toBe(joined);
    expect(res.conversation?.state).toBe(AgentConversationState.JOINED);
    expect(res.conversation?.tools).toBe(ConversationTools.NONE);
    expect(res.conversation?.home).toBe(false);
    expect(res.instance?.conversations.map((c) => [c.conversationId, c.home])).toEqual([
      [home!.conversation_id, true],
      [joined, false],
    ]);
    expect((await rows(id)).map((r) => [r.conversation_id, r.state])).toEqual([
      [home!.conversation_id, "joined"],
      [joined, "joined"],
    ]);
    expect(addCalls(id)).toBe(1);
    // Its statement there is new: its attestation is due now.
    expect(
      (await sql.query(`select attest_next_at from instances where id = $1`, [id])).rows[0].attest_next_at,
    ).toBeNull();
  });

  it("shows the conversations' names to the owner only", async () => {
    const owner = newIdentity();
    const creator = newIdentity();
    const t = await stack.createTemplate(creator, { agent_name: "Concierge", tools: [] });
    const id = await claimed(owner, t.id);
    await client.addToConversation(await addRequest(owner, id, await invite()));
    await sql.query(`update agent_conversations set conversation_name = 'Family' where instance_id = $1`, [id]);

    const mine = await client.getInstance({ instanceId: id }, as(owner));
    expect(mine.instance?.conversations.map((c) => c.name)).toEqual(["Family", "Family"]);
    const dashboard = await client.listTemplateInstances({ templateId: t.id }, as(creator));
    expect(dashboard.instances[0]?.conversations.map((c) => c.name)).toEqual(["", ""]);
    expect(dashboard.instances[0]?.conversations).toHaveLength(2);
  });

  it("refuses a session without the owner's signature, UNAUTHENTICATED naming owner_signature, nothing written", async () => {
    const owner = newIdentity();
    const id = await claimed(owner);
    const err = await expectCode(
      client.addToConversation({ instanceId: id, conversationInvite: await invite() }, as(owner)),
      Code.Unauthenticated,
    );
    expect(err.rawMessage).toMatch(/^owner_signature:/);
    expect(await rows(id)).toHaveLength(1);
    expect(addCalls(id)).toBe(0);
  });

  it("refuses another owner's signature as it refuses a missing agent: NOT_FOUND, signed in or not", async () => {
    const owner = newIdentity();
    const stranger = newIdentity();
    const id = await claimed(owner);
    const forged = await addRequest(owner, id, await invite(), {}, stranger);
    await expectCode(client.addToConversation(forged), Code.NotFound);
    await expectCode(client.addToConversation(forged, as(stranger)), Code.NotFound);
    // A signature over other fields (a second agent it did not sign for) is not the owner's either.
    const unconfirmed = await addRequest(owner, id, await invite());
    await expectCode(client.addToConversation({ ...unconfirmed, confirmSecondAgent: true }), Code.NotFound);
    expect(await rows(id)).toHaveLength(1);
    expect(addCalls(id)).toBe(0);
  });

  it("refuses a replayed signature: its nonce was spent when the addition was reserved, though the agent refused", async () => {
    const owner = newIdentity();
    const id = await claimed(owner);
    const req = await addRequest(owner, id, await invite());
    stack.host.failing.add("add");
    stack.host.failingWith.set("add", Code.FailedPrecondition);
    try {
      // Stage 3, refused by the agent: passed on as it said it, the row deleted.
      const refused = await expectCode(client.addToConversation(req), Code.FailedPrecondition);
      expect(refused.rawMessage).toContain("the agent refused the addition");
      expect(await rows(id)).toHaveLength(1);
    } finally {
      stack.host.failing.delete("add");
      stack.host.failingWith.delete("add");
    }
    const replay = await expectCode(client.addToConversation(req), Code.Unauthenticated);
    expect(replay.rawMessage).toMatch(/^owner_signature\.nonce:/);
    expect(addCalls(id)).toBe(1);
    expect(await rows(id)).toHaveLength(1);
  });

  it("refuses an agent that is not running, and an invite it is in already, with FAILED_PRECONDITION", async () => {
    const owner = newIdentity();
    const id = await claimed(owner);
    const there = await invite();
    await client.addToConversation(await addRequest(owner, id, there));
    // The same conversation by another invite of it.
    const again = await expectCode(
      client.addToConversation(await addRequest(owner, id, there)),
      Code.FailedPrecondition,
    );
    expect(fieldViolations(again).map((v) => v.field)).toEqual(["conversation_invite"]);

    await sql.query(`update instances set state = 'crashed' where id = $1`, [id]);
    try {
      await expectCode(client.addToConversation(await addRequest(owner, id, await invite())), Code.FailedPrecondition);
    } finally {
      await sql.query(`update instances set state = 'claimed' where id = $1`, [id]);
    }
    expect(addCalls(id)).toBe(1);
  });

  it("holds an agent to agents.conversations (10): RESOURCE_EXHAUSTED, nothing written, the signature still good once one is left", async () => {
    const owner = newIdentity();
    const id = await claimed(owner);
    // Nine added conversations beside the home: ten.
    for (let n = 0; n < 9; n++) {
      await sql.query(
        `insert into agent_conversations (instance_id, conversation_id, add_id, conversation_key, state, joined_at)
         values ($1, $2, $3, $4, 'joined', now())`,
        [id, randomBytes(16).toString("hex"), `add_seed${n}`, `seed/${n}`],
      );
    }
    const req = await addRequest(owner, id, await invite());
    const err = await expectCode(client.addToConversation(req), Code.ResourceExhausted);
    expect(limitExceededOf(err)?.limit).toBe("agents.conversations");
    expect(await rows(id)).toHaveLength(10);
    expect(addCalls(id)).toBe(0);

    await sql.query(`update agent_conversations set state = 'left' where instance_id = $1 and add_id = 'add_seed0'`, [
      id,
    ]);
    await client.addToConversation(req);
    expect(addCalls(id)).toBe(1);
  });

  it("refuses a full conversation, counted by an agent of the pool whose home it is, naming conversation_invite", async () => {
    const owner = newIdentity();
    const creator = randomBytes(32).toString("hex");
    const tag = `tag${randomBytes(4).toString("hex")}`;
    const resident = await claimed(newIdentity(), undefined, await invite(creator, tag));
    const id = await claimed(owner);
    stack.host.members.set(resident, 250);
    try {
      const err = await expectCode(
        client.addToConversation(await addRequest(owner, id, await invite(creator, tag))),
        Code.FailedPrecondition,
      );
      expect(fieldViolations(err).map((v) => v.field)).toEqual(["conversation_invite"]);
      expect(err.rawMessage).toContain("250 members");
    } finally {
      stack.host.members.delete(resident);
    }
    expect(await rows(id)).toHaveLength(1);
    await client.addToConversation(await addRequest(owner, id, await invite(creator, tag)));
  });

  it("needs confirm_second_agent, signed, where another agent of its template is, then adds it", async () => {
    const owner = newIdentity();
    const t = await stack.createTemplate(newIdentity(), { agent_name: "Trip Planner", tools: [] });
    const creator = randomBytes(32).toString("hex");
    const tag = `tag${randomBytes(4).toString("hex")}`;
    const first = await claimed(owner, t.id, await invite(creator, tag));
    const second = await claimed(owner, t.id);

    const err = await expectCode(
      client.addToConversation(await addRequest(owner, second, await invite(creator, tag))),
      Code.FailedPrecondition,
    );
    expect(fieldViolations(err).map((v) => v.field)).toEqual(["confirm_second_agent"]);
    expect(err.rawMessage).toContain(`your agent ${first}`);
    expect(addCalls(second)).toBe(0);
    const res = await client.addToConversation(
      await addRequest(owner, second, await invite(creator, tag), { secondAgent: true }),
    );
    expect(res.conversation?.state).toBe(AgentConversationState.JOINED);
  });
});

describe("an addition whose answer did not come back", () => {
  it("is left joining when the host does not answer, and the sweep deletes it once its lease ran out: the agent is not in", async () => {
    const owner = newIdentity();
    const id = await claimed(owner);
    stack.host.failing.add("add");
    try {
      const err = await expectCode(
        client.addToConversation(await addRequest(owner, id, await invite())),
        Code.Unavailable,
      );
      expect(err.rawMessage).toContain("read the agent");
    } finally {
      stack.host.failing.delete("add");
    }
    expect((await rows(id)).map((r) => r.state)).toEqual(["joined", "joining"]);
    const listed = await client.getInstance({ instanceId: id }, as(owner));
    expect(listed.instance?.conversations.map((c) => c.state)).toEqual([
      AgentConversationState.JOINED,
      AgentConversationState.JOINING,
    ]);
    // While its lease holds, the sweep leaves it to its process.
    await sweeper.sweep();
    expect(await rows(id)).toHaveLength(2);
    await ageJoins(id);
    await sweeper.sweep();
    expect((await rows(id)).map((r) => r.state)).toEqual(["joined"]);
  });

  it("is completed by the sweep when the agent joined and only its answer was lost", async () => {
    const owner = newIdentity();
    const id = await claimed(owner);
    stack.host.failing.add("add-answer");
    try {
      await expectCode(client.addToConversation(await addRequest(owner, id, await invite())), Code.Unavailable);
    } finally {
      stack.host.failing.delete("add-answer");
    }
    const joined = stack.host.instances.get(id)?.added?.[0]?.conversationId;
    expect(joined).toBeDefined();
    // One addition at a time: another waits for this one to be settled.
    await expectCode(client.addToConversation(await addRequest(owner, id, await invite())), Code.FailedPrecondition);
    await ageJoins(id);
    expect(await sweeper.sweep()).toMatchObject({ joined: 1 });
    expect((await rows(id)).map((r) => [r.conversation_id, r.state])).toEqual([
      [expect.any(String), "joined"],
      [joined, "joined"],
    ]);
  });

  it("is settled by the owner's next addition of that agent, once stale, without waiting for the sweep", async () => {
    const owner = newIdentity();
    const id = await claimed(owner);
    stack.host.failing.add("add");
    try {
      await expectCode(client.addToConversation(await addRequest(owner, id, await invite())), Code.Unavailable);
    } finally {
      stack.host.failing.delete("add");
    }
    await ageJoins(id);
    await client.addToConversation(await addRequest(owner, id, await invite()));
    expect((await rows(id)).map((r) => r.state)).toEqual(["joined", "joined"]);
  });
});

describe("an addition in flight", () => {
  it("keeps its lease while its agent is asked: a sweep meanwhile leaves it to its process", async () => {
    const owner = newIdentity();
    const id = await claimed(owner);
    // A flow of the test's own with a 1-second lease, renewed every 250 ms.
    const quick = new ConversationFlow({
      em: stack.db.em,
      verifier: new SignatureVerifier({ poolId: LOCAL_POOL_ID, resolver: new DerivedInboxResolver() }),
      runtime,
      limits: DEFAULT_LIMITS,
      log: createLogger("quick", { level: "silent" }),
      leaseSeconds: 1,
    });
    stack.host.addDelayMs = 2_500;
    try {
      const adding = quick.add(
        create(AddToConversationRequestSchema, await addRequest(owner, id, await invite())),
        undefined,
      );
      await new Promise((r) => setTimeout(r, 2_000));
      // Two leases long: its process renewed it, so the sweep does not take it.
      expect(await quick.sweep()).toEqual({ joined: 0, dropped: 0 });
      expect((await rows(id)).map((r) => r.state)).toEqual(["joined", "joining"]);
      const res = await adding;
      expect(res.conversation?.state).toBe(AgentConversationState.JOINED);
    } finally {
      stack.host.addDelayMs = 0;
    }
  });
});

describe("two additions of one agent at once", () => {
  it("take turns under the agent's lock: one joins, the other is refused naming conversation_invite", async () => {
    const owner = newIdentity();
    const id = await claimed(owner);
    const [a, b] = await Promise.all([
      invite().then((i) => addRequest(owner, id, i)),
      invite().then((i) => addRequest(owner, id, i)),
    ]);
    stack.host.addDelayMs = 300;
    try {
      const outcomes = await Promise.allSettled([client.addToConversation(a), client.addToConversation(b)]);
      expect(outcomes.map((o) => o.status).sort()).toEqual(["fulfilled", "rejected"]);
      const refused = outcomes.find((o) => o.status === "rejected")?.reason as ConnectError;
      expect(refused.code).toBe(Code.FailedPrecondition);
      expect(fieldViolations(refused).map((v) => v.field)).toEqual(["conversation_invite"]);
    } finally {
      stack.host.addDelayMs = 0;
    }
    expect((await rows(id)).map((r) => r.state)).toEqual(["joined", "joined"]);
    expect(addCalls(id)).toBe(1);
  });
});

describe("removing an agent from one of its conversations", () => {
  it("leaves that one and stays in the other: the agent first, then the row left", async () => {
    const owner = newIdentity();
    const id = await claimed(owner);
    const added = (await client.addToConversation(await addRequest(owner, id, await invite()))).conversation!;
    const [home] = await rows(id);

    const res = await client.removeFromConversation(await removeRequest(owner, id, added.conversationId));
    expect(res.instance?.conversations.map((c) => c.conversationId)).toEqual([home!.conversation_id]);
    expect(stack.host.callsOf(id)).toContain("leave");
    expect(stack.host.instances.get(id)?.added).toEqual([]);
    expect((await rows(id)).map((r) => r.state)).toEqual(["joined", "left"]);
    expect(res.instance?.conversationId).toBe(home!.conversation_id);
  });

  it("refuses the last conversation with FAILED_PRECONDITION naming conversation_id, without asking the agent", async () => {
    const owner = newIdentity();
    const id = await claimed(owner);
    const [home] = await rows(id);
    const err = await expectCode(
      client.removeFromConversation(await removeRequest(owner, id, home!.conversation_id)),
      Code.FailedPrecondition,
    );
    expect(fieldViolations(err).map((v) => v.field)).toEqual(["conversation_id"]);
    expect(err.rawMessage).toContain("RemoveAgent");
    expect(stack.host.callsOf(id)).not.toContain("leave");
    // A conversation it is not in: NOT_FOUND naming it.
    const missing = await expectCode(
      client.removeFromConversation(await removeRequest(owner, id, "ab".repeat(16))),
      Code.NotFound,
    );
    expect(fieldViolations(missing).map((v) => v.field)).toEqual(["conversation_id"]);
  });

  it("moves the home to the oldest remaining conversation when the home is left", async () => {
    const owner = newIdentity();
    const id = await claimed(owner);
    const first = (await client.addToConversation(await addRequest(owner, id, await invite()))).conversation!;
    const second = (await client.addToConversation(await addRequest(owner, id, await invite()))).conversation!;
    const [home] = await rows(id);

    const res = await client.removeFromConversation(await removeRequest(owner, id, home!.conversation_id));
    expect(res.instance?.conversationId).toBe(first.conversationId);
    expect(res.instance?.conversations.map((c) => [c.conversationId, c.home])).toEqual([
      [first.conversationId, true],
      [second.conversationId, false],
    ]);
    expect(stack.host.instances.get(id)?.conversationId).toBe(first.conversationId);
    const row = (await sql.query(`select conversation_id, conversation_key from instances where id = $1`, [id]))
      .rows[0];
    expect(row.conversation_id).toBe(first.conversationId);
  });

  it("refuses a session without the owner's signature, and a replayed one", async () => {
    const owner = newIdentity();
    const id = await claimed(owner);
    const there = await invite();
    const added = (await client.addToConversation(await addRequest(owner, id, there))).conversation!;
    const bare = await expectCode(
      client.removeFromConversation({ instanceId: id, conversationId: added.conversationId }, as(owner)),
      Code.Unauthenticated,
    );
    expect(bare.rawMessage).toMatch(/^owner_signature:/);
    const req = await removeRequest(owner, id, added.conversationId);
    await client.removeFromConversation(req);
    // Back in the same conversation, the same signature again: the agent, which took its nonce, refuses it.
    await client.addToConversation(await addRequest(owner, id, there));
    await expectCode(client.removeFromConversation(req), Code.PermissionDenied);
    expect((await rows(id)).map((r) => r.state)).toEqual(["joined", "left", "joined"]);
  });

  it("records the leave on the owner's next try when the agent left and its answer was lost", async () => {
    const owner = newIdentity();
    const id = await claimed(owner);
    const added = (await client.addToConversation(await addRequest(owner, id, await invite()))).conversation!;
    stack.host.failing.add("leave-answer");
    try {
      await expectCode(
        client.removeFromConversation(await removeRequest(owner, id, added.conversationId)),
        Code.Unavailable,
      );
    } finally {
      stack.host.failing.delete("leave-answer");
    }
    // Nothing recorded yet: the pool did not hear the agent.
    expect((await rows(id)).map((r) => r.state)).toEqual(["joined", "joined"]);
    await client.removeFromConversation(await removeRequest(owner, id, added.conversationId));
    expect((await rows(id)).map((r) => r.state)).toEqual(["joined", "left"]);
  });
});

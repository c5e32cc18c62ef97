// When an agent speaks in one of its conversations (SetParticipation with a
// conversation_id, signed SetConversationParticipation; conversations/flow.ts),
// over gRPC: the real template service, the real claims service on real
// PostgreSQL, against the STAND-IN instance host (claims/test/stand-in-host.ts),
// which joins at once and keeps each conversation's participation as the agent
// would. The claims service checks the owner's signature itself, so every
// refusal here is the pool's, before the agent is asked.
import { randomBytes } from "node:crypto";
import { Code } from "@connectrpc/connect";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ClaimService } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import { ParticipationMode } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { fieldViolations } from "@convos-pool/kit/content";
import { signAddToConversation, signOperation } from "@convos-pool/kit/signing";
import { newIdentity, type TestIdentity } from "@convos-pool/kit/testing";
import type { Client } from "@connectrpc/connect";
import { inviteUrl } from "@convos-pool/convos/testing/invite";
import { as, expectCode } from "../../test/helpers.js";
import { StandInStack } from "../../test/stand-in-stack.js";

const stack = new StandInStack({ name: "participation_in", smsRange: "+15550430000..+15550430099" });
let client: Client<typeof ClaimService>;
let sql: pg.Client;

beforeAll(async () => {
  await stack.start();
  ({ claimsClient: client, sql } = stack);
});
afterAll(async () => {
  await stack.close();
});

const invite = () =>
  inviteUrl({
    creatorInboxId: randomBytes(32).toString("hex"),
    tag: `tag${randomBytes(4).toString("hex")}`,
    name: "Dinner club",
  });

/** A new agent of `owner` claimed into a conversation of its own and added to a second: its id, home and added conversation. */
async function inTwo(owner: TestIdentity): Promise<{ id: string; home: string; added: string }> {
  const t = await stack.createTemplate(newIdentity(), { agent_name: "Concierge", tools: [] });
  await stack.seedIdle(1);
  const { instanceId: id } = await client.claim(
    { requester: owner.inboxId, templateId: t.id, conversationInvite: await invite(), userConfig: {} },
    as(owner),
  );
  const conversationInvite = await invite();
  const ownerSignature = await signAddToConversation(owner.account, {
    ownerId: owner.inboxId,
    instanceId: id,
    conversationInvite,
  });
  const res = await client.addToConversation({ instanceId: id, conversationInvite, ownerSignature });
  const home = res.instance?.conversations.find((c) => c.home)?.conversationId ?? "";
  return { id, home, added: res.conversation?.conversationId ?? "" };
}

const MENTION = { mode: ParticipationMode.MENTION, cooldownSeconds: 60 };
/** What an added conversation's row holds from its addition: the defaults the owner signed (inTwo names none). */
const AS_ADDED = { mode: ParticipationMode.UNSPECIFIED, cooldownSeconds: 0 };

/** The owner's SetParticipation in `conversationId`, signed by `signer` (the owner unless said). */
async function inConversation(
  owner: TestIdentity,
  instanceId: string,
  conversationId: string,
  participation = MENTION,
  signer = owner,
) {
  const ownerSignature = await signOperation(signer.account, "SetConversationParticipation", {
    inboxId: owner.inboxId,
    instanceId,
    conversationId,
    ...participation,
  });
  return { instanceId, conversationId, participation, ownerSignature };
}

interface Row {
  conversation_id: string;
  home: boolean;
  participation: { mode: number; cooldownSeconds: number } | null;
}
const rows = async (instanceId: string): Promise<Row[]> =>
  (
    await sql.query<Row>(
      `select conversation_id, home, participation from agent_conversations where instance_id = $1 and state = 'joined'
       order by created_at, add_id`,
      [instanceId],
    )
  ).rows;
const homeSetting = async (instanceId: string) =>
  (await sql.query(`select participation from instances where id = $1`, [instanceId])).rows[0]?.participation;
const asked = (instanceId: string) => stack.host.callsOf(instanceId).filter((c) => c === "participation").length;

describe("participation in one of an agent's conversations", () => {
  it("is set with the owner's SetConversationParticipation: the agent told with the conversation, that conversation's row keeps it, the agent shows it there, the home's stays, the attestation is due", async () => {
    const owner = newIdentity();
    const { id, home, added } = await inTwo(owner);
    await sql.query(`update instances set attest_next_at = now() + interval '1 hour' where id = $1`, [id]);

    // Signed, no session: the signature is the proof.
    const res = await client.setParticipation(await inConversation(owner, id, added));
    expect(stack.host.instances.get(id)?.participationIn?.get(added)).toEqual(MENTION);
    expect(stack.host.instances.get(id)?.participation).toBeUndefined();
    const shown = res.instance?.conversations.map((c) => [c.conversationId, c.participation?.mode]);
    expect(shown).toEqual([
      [home, ParticipationMode.UNSPECIFIED],
      [added, ParticipationMode.MENTION],
    ]);
    expect(res.instance?.participation?.mode).toBe(ParticipationMode.UNSPECIFIED);
    expect((await rows(id)).map((r) => [r.conversation_id, r.participation])).toEqual([
      [home, null],
      [added, MENTION],
    ]);
    expect(await homeSetting(id)).toBeNull();
    expect(
      (await sql.query(`select attest_next_at from instances where id = $1`, [id])).rows[0].attest_next_at,
    ).toBeNull();
    // Read again, as the owner's page reads it.
    const read = await client.getInstance({ instanceId: id }, as(owner));
    expect(read.instance?.conversations.find((c) => c.conversationId === added)?.participation).toMatchObject(MENTION);
  });

  it("sets the home's by its id in one place: the agent's setting, which the home row follows", async () => {
    const owner = newIdentity();
    const { id, home } = await inTwo(owner);
    const paused = { mode: ParticipationMode.PAUSED, cooldownSeconds: 0 };
    const res = await client.setParticipation(await inConversation(owner, id, home, paused));
    expect(res.instance?.participation).toMatchObject(paused);
    expect(res.instance?.conversations.find((c) => c.home)?.participation).toMatchObject(paused);
    expect(await homeSetting(id)).toEqual(paused);
    expect((await rows(id)).map((r) => [r.home, r.participation])).toEqual([
      [true, paused],
      [false, AS_ADDED],
    ]);
  });

  it("refuses the home's SetParticipation replayed for another conversation, and one conversation's signature for another: NOT_FOUND, the agent not asked, nothing written", async () => {
    const owner = newIdentity();
    const { id, home, added } = await inTwo(owner);
    // The owner's signature made for the home, sent naming the added conversation.
    const homeSignature = await signOperation(owner.account, "SetParticipation", {
      inboxId: owner.inboxId,
      instanceId: id,
      ...MENTION,
    });
    const replayed = { instanceId: id, conversationId: added, participation: MENTION, ownerSignature: homeSignature };
    await expectCode(client.setParticipation(replayed), Code.NotFound);
    await expectCode(client.setParticipation(replayed, as(owner)), Code.NotFound);
    // Signed for the home conversation by id, sent for the added one.
    const forHome = await inConversation(owner, id, home);
    await expectCode(client.setParticipation({ ...forHome, conversationId: added }), Code.NotFound);
    // And the other way: a conversation's signature is not the home's SetParticipation.
    const forAdded = await inConversation(owner, id, added);
    await expectCode(client.setParticipation({ ...forAdded, conversationId: "" }), Code.NotFound);
    expect(asked(id)).toBe(0);
    expect((await rows(id)).map((r) => r.participation)).toEqual([null, AS_ADDED]);
    expect(await homeSetting(id)).toBeNull();
    // The signature still good for what it was made for.
    await client.setParticipation(forAdded);
    expect(asked(id)).toBe(1);
  });

  it("refuses a conversation the agent is not in, or left, with NOT_FOUND naming conversation_id, and one that is no group id with INVALID_ARGUMENT naming it", async () => {
    const owner = newIdentity();
    const { id, added } = await inTwo(owner);
    const elsewhere = randomBytes(16).toString("hex");
    const err = await expectCode(client.setParticipation(await inConversation(owner, id, elsewhere)), Code.NotFound);
    expect(fieldViolations(err).map((v) => v.field)).toEqual(["conversation_id"]);

    const left = await signOperation(owner.account, "RemoveFromConversation", {
      inboxId: owner.inboxId,
      instanceId: id,
      conversationId: added,
    });
    await client.removeFromConversation({ instanceId: id, conversationId: added, ownerSignature: left });
    const gone = await expectCode(client.setParticipation(await inConversation(owner, id, added)), Code.NotFound);
    expect(fieldViolations(gone).map((v) => v.field)).toEqual(["conversation_id"]);

    const bad = await expectCode(
      client.setParticipation(await inConversation(owner, id, "Not-A-Group")),
      Code.InvalidArgument,
    );
    expect(fieldViolations(bad).map((v) => v.field)).toEqual(["conversation_id"]);
    expect(asked(id)).toBe(0);
  });

  it("refuses anyone but the owner as it refuses a missing agent, and tells them nothing of where the agent is", async () => {
    const owner = newIdentity();
    // A member of the conversation, or another agent's owner: an inbox of the pool that is not this agent's owner.
    const member = newIdentity();
    const { id, added } = await inTwo(owner);
    const theirs = await inConversation(owner, id, added, MENTION, member);
    await expectCode(client.setParticipation(theirs), Code.NotFound);
    const signedIn = await expectCode(client.setParticipation(theirs, as(member)), Code.NotFound);
    // The same answer for a conversation the agent is not in: no field named, nothing learned.
    const notThere = await expectCode(
      client.setParticipation(
        await inConversation(owner, id, randomBytes(16).toString("hex"), MENTION, member),
        as(member),
      ),
      Code.NotFound,
    );
    expect(fieldViolations(signedIn)).toEqual([]);
    expect(fieldViolations(notThere)).toEqual([]);
    expect(notThere.rawMessage).toBe(signedIn.rawMessage);
    // Signing as themselves, for themselves: not the owner either.
    const own = await signOperation(member.account, "SetConversationParticipation", {
      inboxId: member.inboxId,
      instanceId: id,
      conversationId: added,
      ...MENTION,
    });
    await expectCode(
      client.setParticipation({ instanceId: id, conversationId: added, participation: MENTION, ownerSignature: own }),
      Code.NotFound,
    );
    expect(asked(id)).toBe(0);
    expect((await rows(id)).map((r) => r.participation)).toEqual([null, AS_ADDED]);
  });

  it("needs the owner's signature even with the owner's session, and takes each signature once", async () => {
    const owner = newIdentity();
    const { id, added } = await inTwo(owner);
    const bare = await expectCode(
      client.setParticipation({ instanceId: id, conversationId: added, participation: MENTION }, as(owner)),
      Code.Unauthenticated,
    );
    expect(bare.rawMessage).toMatch(/^owner_signature:/);
    const req = await inConversation(owner, id, added);
    await client.setParticipation(req);
    const replay = await expectCode(client.setParticipation(req), Code.Unauthenticated);
    expect(replay.rawMessage).toMatch(/^owner_signature\.nonce:/);
  });

  it("keeps nothing when the agent refuses, and the signature stays unspent", async () => {
    const owner = newIdentity();
    const { id, added } = await inTwo(owner);
    const req = await inConversation(owner, id, added);
    stack.host.failing.add("participation");
    stack.host.failingWith.set("participation", Code.PermissionDenied);
    try {
      await expectCode(client.setParticipation(req), Code.PermissionDenied);
    } finally {
      stack.host.failing.delete("participation");
      stack.host.failingWith.delete("participation");
    }
    expect((await rows(id)).map((r) => r.participation)).toEqual([null, AS_ADDED]);
    await client.setParticipation(req);
    expect((await rows(id)).map((r) => r.participation)).toEqual([null, MENTION]);
  });
});

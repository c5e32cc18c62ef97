// The statements of one agent in several conversations (docs/statement.md,
// "In several conversations"), on the real host: the local XMTP node, real
// node-sdk clients and Convos conversations made as the apps make them. The
// owner adds its agent to Eve's "Dinner club"; one Attest hands it its home's
// statement and the club's: each is posted in its own conversation and never
// in the other, once, as the pool's statement message (the signed statement
// in its content, words without it in its fallback); one for a conversation
// it is not in, or a home's statement about another conversation, is
// refused and nothing is posted.
// The pool's key ring signs as the claims service does; nothing else stands
// in.
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCreator } from "@convos-pool/convos/testing";
import { AgentStatementSchema } from "@convos-pool/gen/convos/pool/v1/statement_pb.js";
import { AttestRequestSchema, type AttestRequest } from "@convos-pool/gen/convos/pool/v1/instance_service_pb.js";
import { statementOf, type StatementContent } from "@convos-pool/kit/content";
import { AttestationKeyRing, generateAttestationKeyPem } from "@convos-pool/kit/signing";
import { refusal } from "@convos-pool/kit/testing";
import { waitFor } from "@convos-pool/testing";
import { OneHost, type Creator } from "@convos-pool/instance/testing";
import { instanceCall } from "./host.js";

const one = new OneHost({ name: "instance-conversation-statements", host: { joinTimeoutMs: 20_000 } });
const ID = "inst-statements";
const ring = new AttestationKeyRing([{ kid: "pool-1", pem: generateAttestationKeyPem() }]);
const [KEY] = ring.publicKeys();
let owner: Creator;
let eve: Creator;
let inboxId: string;
let home: string;
let club: { groupId: string; invite: string };

/** The pool's statement about this agent in `conversationId`, signed. */
function statement(conversationId: string, participation: string): string {
  return ring.signStatement(
    create(AgentStatementSchema, {
      inboxId,
      instanceId: ID,
      conversationId,
      ownerId: owner.inboxId,
      templateId: "tpl",
      templateVersion: 1,
      agentName: "Concierge",
      trustLevel: 1,
      participation,
      issuedAt: new Date().toISOString(),
      sequence: 1,
    }),
  ).jws;
}

/** An Attest call as the claims service makes it: the badge, the home's statement and the others'. */
function attestRequest(homeStatement: string, others: { conversationId: string; statement: string }[]): AttestRequest {
  const a = ring.attest(inboxId);
  return create(AttestRequestSchema, {
    attestation: { inboxId: a.inboxId, signature: a.signature, timestamp: a.timestamp, kid: a.kid },
    key: { kid: KEY!.kid, x: KEY!.x, expiresAt: KEY!.expiresAt ?? "" },
    statement: homeStatement,
    conversationStatements: others,
  });
}

/** The statement messages the agent posted in `groupId`, as `reader`'s client reads them (in one of its own groups). */
async function statementsIn(reader: Creator, groupId: string): Promise<StatementContent[]> {
  const group = reader.group(groupId);
  if (!group) throw new Error(`${groupId} is not one of that creator's groups`);
  await group.sync().catch(() => undefined);
  return (await group.messages()).filter((m) => m.senderInboxId === inboxId).flatMap((m) => statementOf(m) ?? []);
}

/** The signed statements the agent posted in `groupId`. */
async function postedIn(reader: Creator, groupId: string): Promise<string[]> {
  return (await statementsIn(reader, groupId)).map((s) => s.jws);
}

beforeAll(async () => {
  await one.start();
  owner = one.creator!;
  await mkdir(join(one.dir, "eve"));
  eve = await startCreator(one.node.url, join(one.dir, "eve"));
  ({ inboxId, groupId: home } = await one.joined(ID, 0));
  club = await eve.conversation("Dinner club");
  await one.added(ID, club.invite);
}, 120_000);

afterAll(async () => {
  await eve?.close();
  await one.close();
}, 30_000);

describe("statements in several conversations", () => {
  it("posts the home's statement at home and the club's in the club, each once, neither in the other", {
    timeout: 60_000,
  }, async () => {
    const atHome = statement(home, "auto");
    const inClub = statement(club.groupId, "mention");
    const req = attestRequest(atHome, [{ conversationId: club.groupId, statement: inClub }]);
    const res = await one.rpc.client.attest(req, instanceCall(ID));
    expect(res.statementPosted).toBe(true);
    await waitFor("the club's statement in the club", async () => (await postedIn(eve, club.groupId)).length > 0);
    await waitFor("the home's statement at home", async () => (await postedIn(owner, home)).length > 0);
    expect(await postedIn(eve, club.groupId)).toEqual([inClub]);
    expect(await postedIn(owner, home)).toEqual([atHome]);
    // What members read is the words, each conversation's own, with no signature in them.
    const [words] = await statementsIn(eve, club.groupId);
    expect(words!.text).toMatch(/^What I may do here \(statement 1, .*\n- Speaks: mention/s);
    expect(words!.text).not.toContain(inClub.split(".")[2]);

    // The same again (the claims service's "again"): nothing posted anywhere.
    await one.rpc.client.attest(attestRequest(atHome, [{ conversationId: club.groupId, statement: inClub }]), {
      ...instanceCall(ID),
    });
    await owner.ask(home, inboxId, "still with us");
    expect(await postedIn(eve, club.groupId)).toEqual([inClub]);
    expect(await postedIn(owner, home)).toEqual([atHome]);

    // Asked what it may do there, it answers with the club's statement in words, not the home's.
    await eve.ask(club.groupId, inboxId, "what can you do here?");
    const said = (await eve.transcript(club.groupId)).filter((m) => m.from === inboxId).map((m) => m.text);
    expect(said.at(-1)).toBe(words!.text);
    expect(await postedIn(eve, club.groupId)).toEqual([inClub]);
  });

  it("refuses a statement for a conversation it is not in, or one about another conversation (the home's too), and posts nothing", {
    timeout: 60_000,
  }, async () => {
    const elsewhere = "f".repeat(64);
    const newHome = statement(home, "speak");
    const notIn = await refusal(
      one.rpc.client.attest(
        attestRequest(newHome, [{ conversationId: elsewhere, statement: statement(elsewhere, "auto") }]),
        instanceCall(ID),
      ),
    );
    expect([Code[notIn.code], notIn.rawMessage]).toEqual([
      "InvalidArgument",
      expect.stringMatching(/conversation_statements\[0\]\.conversation_id/),
    ]);
    // The home's statement handed as the club's: refused, so it can never be posted in the club.
    const crossed = await refusal(
      one.rpc.client.attest(attestRequest(newHome, [{ conversationId: club.groupId, statement: newHome }]), {
        ...instanceCall(ID),
      }),
    );
    expect([Code[crossed.code], crossed.rawMessage]).toEqual([
      "InvalidArgument",
      expect.stringMatching(/conversation_statements\[0\]\.statement: is about conversation/),
    ]);
    await owner.ask(home, inboxId, "anything new?");
    expect(await postedIn(owner, home)).not.toContain(newHome);
    expect(await postedIn(eve, club.groupId)).not.toContain(newHome);

    // The club's statement handed as the home's: refused like the others, so it is never posted at home.
    const clubs = statement(club.groupId, "speak");
    const asHome = await refusal(one.rpc.client.attest(attestRequest(clubs, []), instanceCall(ID)));
    expect([Code[asHome.code], asHome.rawMessage]).toEqual([
      "InvalidArgument",
      `statement: is about conversation "${club.groupId}", not its home ${home}`,
    ]);
    await owner.ask(home, inboxId, "and now?");
    expect(await postedIn(owner, home)).not.toContain(clubs);
    expect(await postedIn(eve, club.groupId)).not.toContain(clubs);
  });
});

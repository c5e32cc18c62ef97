// A second agent of one template in one conversation (second-agent.ts;
// docs/claims.md, "A second agent of a template"), over gRPC: the real
// template service, the real claims service on real PostgreSQL, against the
// STAND-IN instance host (claims/test/stand-in-host.ts), whose join answers
// at once: the subject is the claim's check and what it records, not the
// join. The invites are real Convos invites (signed payloads with a
// creator inbox and a tag), made here without a conversation behind them.
import { randomBytes } from "node:crypto";
import { Code, type Client } from "@connectrpc/connect";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ClaimService } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import { fieldViolations } from "@convos-pool/kit/content";
import { signClaim } from "@convos-pool/kit/signing";
import { newIdentity, type TestIdentity } from "@convos-pool/kit/testing";
import { as, expectCode, type ClaimFields } from "../../test/helpers.js";
import { StandInStack } from "../../test/stand-in-stack.js";
import { inviteUrl } from "@convos-pool/convos/testing/invite";

const stack = new StandInStack({ name: "second_agent", smsRange: "+15550400000..+15550400099" });
let client: Client<typeof ClaimService>;
let sql: pg.Client;

beforeAll(async () => {
  await stack.start();
  ({ claimsClient: client, sql } = stack);
});
afterAll(() => stack.close());

/** An invite of the conversation `creator`/`tag`: each call a new one (its own token), as a creator makes them. */
async function invite(creator: string, tag: string): Promise<string> {
  return inviteUrl({ creatorInboxId: creator, tag, name: "Trip to Tokyo" });
}

const claim = (who: TestIdentity, templateId: string, conversationInvite: string, over: ClaimFields = {}) =>
  client.claim({ requester: who.inboxId, templateId, conversationInvite, userConfig: {}, ...over }, as(who));

const live = async (templateId: string): Promise<number> =>
  Number(
    (await sql.query(`select count(*) as n from instances where template_id = $1 and state = 'claimed'`, [templateId]))
      .rows[0].n,
  );

const idle = async (): Promise<number> =>
  Number((await sql.query(`select count(*) as n from instances where state = 'idle'`)).rows[0].n);

describe("a second agent of one template in one conversation", () => {
  it("is refused with FAILED_PRECONDITION naming confirm_second_agent and the agent there, then added when confirmed", async () => {
    const creator = newIdentity();
    const saul = newIdentity();
    const t = await stack.createTemplate(creator, { agent_name: "Trip Planner", tools: [] });
    const other = await stack.createTemplate(creator, { agent_name: "Concierge", tools: [] });
    await stack.seedIdle(4);
    const group = { creator: randomBytes(32).toString("hex"), tag: `tag${randomBytes(4).toString("hex")}` };

    const first = await claim(saul, t.id, await invite(group.creator, group.tag));
    const idleBefore = await idle();
    // Another invite of the same conversation (a new token, the same creator and tag): the same conversation.
    const err = await expectCode(claim(saul, t.id, await invite(group.creator, group.tag)), Code.FailedPrecondition);
    expect(fieldViolations(err).map((v) => v.field)).toEqual(["confirm_second_agent"]);
    expect(err.rawMessage).toContain("already has Trip Planner");
    // Its owner is told which of their agents it is.
    expect(err.rawMessage).toContain(`your agent ${first.instanceId}`);
    // Nothing taken.
    expect(await idle()).toBe(idleBefore);
    expect(await live(t.id)).toBe(1);

    // Another template in the same conversation needs no confirmation.
    await claim(saul, other.id, await invite(group.creator, group.tag));
    // Confirmed: a second agent of the template.
    const second = await claim(saul, t.id, await invite(group.creator, group.tag), { confirmSecondAgent: true });
    expect(second.instanceId).not.toBe(first.instanceId);
    expect(await live(t.id)).toBe(2);
  });

  it("tells someone else who holds the conversation's invite only the agent's name, and a look-alike conversation nothing", async () => {
    const creator = newIdentity();
    const saul = newIdentity();
    const stranger = newIdentity();
    const t = await stack.createTemplate(creator, { agent_name: "Trip Planner", tools: [] });
    await stack.seedIdle(2);
    const group = { creator: randomBytes(32).toString("hex"), tag: `tag${randomBytes(4).toString("hex")}` };
    const first = await claim(saul, t.id, await invite(group.creator, group.tag));

    // A member with an invite of the conversation learns what the member list shows: the agent's name, not its id.
    const err = await expectCode(
      claim(stranger, t.id, await invite(group.creator, group.tag)),
      Code.FailedPrecondition,
    );
    expect(fieldViolations(err).map((v) => v.field)).toEqual(["confirm_second_agent"]);
    expect(err.rawMessage).toContain("another member's agent");
    expect(err.rawMessage).not.toContain(first.instanceId);
    expect(err.rawMessage).not.toContain(saul.inboxId);

    // The tag copied into an invite of someone else's conversation finds nothing: the claim goes through.
    const lookAlike = await claim(stranger, t.id, await invite(randomBytes(32).toString("hex"), group.tag));
    expect(lookAlike.instanceId).toMatch(/^inst_/);
  });

  it("signs the confirmation: a signature without it does not cover a confirmed claim", async () => {
    const creator = newIdentity();
    const saul = newIdentity();
    const t = await stack.createTemplate(creator, { agent_name: "Trip Planner", tools: [] });
    await stack.seedIdle(2);
    const group = { creator: randomBytes(32).toString("hex"), tag: `tag${randomBytes(4).toString("hex")}` };
    await claim(saul, t.id, await invite(group.creator, group.tag));

    const req = {
      requester: saul.inboxId,
      templateId: t.id,
      conversationInvite: await invite(group.creator, group.tag),
      model: "",
      userConfig: {},
    };
    // Signed unconfirmed, sent confirmed: not the claim the owner signed.
    const unconfirmed = await signClaim(saul.account, req);
    await expectCode(client.claim({ ...req, confirmSecondAgent: true, signature: unconfirmed }), Code.PermissionDenied);
    // Signed unconfirmed, sent unconfirmed: refused before anything is taken, its nonce left unspent.
    await expectCode(client.claim({ ...req, signature: unconfirmed }), Code.FailedPrecondition);
    const confirmed = await signClaim(saul.account, { ...req, confirmSecondAgent: true });
    const second = await client.claim({ ...req, confirmSecondAgent: true, signature: confirmed });
    expect(second.instanceId).toMatch(/^inst_/);
    expect(await live(t.id)).toBe(2);
  });

  it("counts only live agents: once the agent there is gone, a claim needs no confirmation", async () => {
    const creator = newIdentity();
    const saul = newIdentity();
    const t = await stack.createTemplate(creator, { agent_name: "Trip Planner", tools: [] });
    await stack.seedIdle(2);
    const group = { creator: randomBytes(32).toString("hex"), tag: `tag${randomBytes(4).toString("hex")}` };
    const first = await claim(saul, t.id, await invite(group.creator, group.tag));
    // As a removal leaves it (removal.ts): dead, out of the conversation.
    await sql.query(`update instances set state = 'dead' where id = $1`, [first.instanceId]);
    const again = await claim(saul, t.id, await invite(group.creator, group.tag));
    expect(again.instanceId).not.toBe(first.instanceId);
  });

  it("is not a clone's field", async () => {
    const saul = newIdentity();
    const err = await expectCode(
      claim(saul, "tmpl_0123456789abcdef", "slug", { cloneFrom: "inst_0123456789abcdef", confirmSecondAgent: true }),
      Code.InvalidArgument,
    );
    expect(fieldViolations(err).map((v) => v.field)).toContain("confirm_second_agent");
  });
});

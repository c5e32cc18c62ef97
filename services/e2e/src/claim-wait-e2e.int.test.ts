// A claim's wait, end to end, with every part real: PostgreSQL, the local
// XMTP node, the template service, a real instance host whose instances are
// real XMTP clients, the claims service with its warm pool, and a Convos
// conversation made by the real Convos CLI, whose creator then goes offline
// (`convos conversations create`, and the CLI exits): nobody lets the agent
// in. The requester follows the claim's stages while it waits, another person
// can neither read nor cancel it, and the requester's cancel stops it long
// before the join would time out, giving the agent and its tools back.

import { join } from "node:path";
import { Code, ConnectError, type Client } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClaimStage, type ClaimService } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import { InstanceState } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { newIdentity, sampleContent, signedTemplate, tool } from "@convos-pool/kit/testing";
import { runConvos } from "@convos-pool/testing/convos-cli";
import { as, expectCode, instanceRowOf, leftoversOf, mailboxCount, rowsOf } from "@convos-pool/claims/testing";
import { RealStack } from "./real-stack.js";

/** The host waits this long for the creator: far longer than the cancel may take. */
const JOIN_TIMEOUT_MS = 60_000;

const stack = new RealStack({
  name: "claim-wait-e2e",
  lockTimeoutMs: 90_000,
  conversationName: "Served",
  host: { joinTimeoutMs: JOIN_TIMEOUT_MS },
  claims: { pool: { target: 1, intervalMs: 200 } },
});

let client: Client<typeof ClaimService>;
let offline: { conversationId: string; invite: { url: string } };

beforeAll(async () => {
  await stack.start();
  client = stack.claimsSc!.client;
  offline = await runConvos(["conversations", "create", "--name", "Nobody home"], join(stack.dir, "offline"), {
    xmtpPort: stack.xmtp!.port,
  });
}, 150_000);

afterAll(async () => {
  await stack.close();
}, 60_000);

const idleIds = async () =>
  (await rowsOf<{ id: string }>(stack.sql, `select id from instances where state = 'idle'`)).map((r) => r.id);

describe("a claim's wait (real host, real XMTP node, real Convos CLI)", () => {
  it("shows its stages while the creator is offline, is neither read nor cancelled by another person, and its requester's cancel gives everything back", {
    timeout: 60_000,
  }, async () => {
    const creator = newIdentity();
    const t = await signedTemplate(
      stack.templatesSc!.client,
      creator,
      sampleContent({ tools: [tool("email", "pool")] }),
      "public",
    );
    await expect.poll(idleIds, { timeout: 20_000, interval: 100 }).toHaveLength(1);
    const [taken] = await idleIds();
    const mailboxes = await mailboxCount(join(stack.dir, "claims", "mailboxes"));

    const requester = newIdentity();
    const stranger = newIdentity();
    const key = `claim-${crypto.randomUUID()}`;
    const started = Date.now();
    const claiming = client
      .claim(
        { requester: requester.inboxId, templateId: t.id, conversationInvite: offline.invite.url, idempotencyKey: key },
        as(requester),
      )
      .then(
        () => undefined,
        (err: unknown) => ConnectError.from(err),
      );

    // The requester sees the claim reach the join, and waits there: only the creator's app can let the agent in.
    const seen = new Set<ClaimStage>();
    await expect
      .poll(
        async () => {
          const p = await client.getClaimProgress({ idempotencyKey: key }, as(requester));
          seen.add(p.stage);
          return p.stage;
        },
        { timeout: 20_000, interval: 50 },
      )
      .toBe(ClaimStage.JOINING);
    const waiting = await client.getClaimProgress({ idempotencyKey: key }, as(requester));
    expect(waiting.cancelRequested).toBe(false);
    expect(Number(waiting.startedAt!.seconds) * 1000).toBeLessThanOrEqual(Date.now());
    expect(Number(waiting.startedAt!.seconds) * 1000).toBeGreaterThanOrEqual(started - 2_000);
    expect([...seen].every((s) => [ClaimStage.RESERVING, ClaimStage.STARTING, ClaimStage.JOINING].includes(s))).toBe(
      true,
    );

    // Anyone else: no such claim, to read or to cancel; without a session, sign in first.
    await expectCode(client.getClaimProgress({ idempotencyKey: key }, as(stranger)), Code.NotFound);
    await expectCode(client.cancelClaim({ idempotencyKey: key }, as(stranger)), Code.NotFound);
    await expectCode(client.cancelClaim({ idempotencyKey: key }), Code.Unauthenticated);
    await expectCode(client.cancelClaim({ idempotencyKey: "" }, as(requester)), Code.InvalidArgument);
    const still = await client.getClaimProgress({ idempotencyKey: key }, as(requester));
    expect(still.stage).toBe(ClaimStage.JOINING);
    expect(still.cancelRequested).toBe(false);
    expect(
      await rowsOf(stack.sql, `select id from instances where id = $1 and state = 'claiming'`, [taken]),
    ).toHaveLength(1);

    // The requester cancels: the claim stops at once, not at the join's timeout.
    const asked = Date.now();
    expect((await client.cancelClaim({ idempotencyKey: key }, as(requester))).stage).toBe(ClaimStage.JOINING);
    const err = await claiming;
    expect(err?.code).toBe(Code.Canceled);
    expect(err?.rawMessage).toBe("you cancelled the claim; nothing was claimed");
    expect(Date.now() - asked).toBeLessThan(15_000);
    expect(Date.now() - started).toBeLessThan(JOIN_TIMEOUT_MS);

    const ended = await client.getClaimProgress({ idempotencyKey: key }, as(requester));
    expect(ended).toMatchObject({ stage: ClaimStage.CANCELLED, cancelRequested: true, errorCode: "canceled" });
    // A claim that ended cannot be cancelled again; a retry with its key gets its outcome.
    await expectCode(client.cancelClaim({ idempotencyKey: key }, as(requester)), Code.NotFound);
    await expectCode(
      client.claim(
        { requester: requester.inboxId, templateId: t.id, conversationInvite: offline.invite.url, idempotencyKey: key },
        as(requester),
      ),
      Code.Canceled,
    );

    // Nothing half-written: the agent back in the pool, idle on its host, its tool given back.
    await expect
      .poll(async () => (await instanceRowOf(stack.sql, taken!)).state, { timeout: 15_000, interval: 100 })
      .toBe("idle");
    expect(await instanceRowOf(stack.sql, taken!)).toMatchObject({
      claim_id: null,
      owner_id: null,
      conversation_id: null,
    });
    expect(stack.host!.instances.get(taken!)!.state).toBe(InstanceState.IDLE);
    expect(await leftoversOf(stack.sql, join(stack.dir, "claims", "mailboxes"), taken!)).toEqual({
      tools: 0,
      numbers: 0,
      mailboxes,
    });
    expect((await client.listOwnerAgents({ ownerId: requester.inboxId }, as(requester))).instances).toEqual([]);
  });
});

import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { Code, type Client } from "@connectrpc/connect";
import type pg from "pg";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { ClaimService } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import { InstanceState } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import type { TemplateService } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import { limitExceededOf, type LimitConfig } from "@convos-pool/kit/server";
import { signClaim, signOperation } from "@convos-pool/kit/signing";
import type { TemplateContentJson } from "@convos-pool/kit/content";
import { newIdentity, tool, type TestIdentity } from "@convos-pool/kit/testing";
import { USAGE_FLUSH_MS } from "./templates/usage.js";
import { as, expectCode, type ClaimFields } from "../test/helpers.js";
import type { StandInHost } from "../test/stand-in-host.js";
import { StandInStack } from "../test/stand-in-stack.js";

// Who may claim, pin and remove, and the limits on claims (docs/security.md,
// docs/limits.md), on the real claims service with the stand-in host: a
// requester proven by a session (the caller the gateway forwards) or by its
// own ClaimAgent signature; caps per owner checked with the claim; a rate per
// caller; an owner removing an agent.

const CAPS: LimitConfig = { liveAgentsPerOwner: 3, poolToolsPerOwner: 2 };
const stack = new StandInStack({ name: "owners", smsRange: "+15550700000..+15550700049", limits: CAPS, dbPoolSize: 4 });
const { seedIdle, rows, instanceRow, leftovers } = stack;
let host: StandInHost;
let templatesClient: Client<typeof TemplateService>;
let client: Client<typeof ClaimService>;
let sql: pg.Client;

/** A template without tools unless said. */
const createTemplate = (c: TestIdentity, over: Partial<TemplateContentJson> = {}, visibility?: "public" | "private") =>
  stack.createTemplate(c, { tools: [], ...over }, visibility);

const claimReq = (requester: TestIdentity, templateId: string, over: ClaimFields = {}) => ({
  requester: requester.inboxId,
  templateId,
  conversationInvite: `https://dev.convos.org/v2?i=invite-${randomBytes(6).toString("hex")}`,
  model: "",
  userConfig: {},
  ...over,
});

/** A claim as a client without a session sends it: signed by `signer` (the requester by default). */
async function signedClaim(requester: TestIdentity, templateId: string, over: ClaimFields = {}, signer = requester) {
  const req = claimReq(requester, templateId, over);
  return { ...req, signature: await signClaim(signer.account, req) };
}

const usage = async (templateId: string) => (await templatesClient.getTemplate({ templateId })).template!.usageCount;
const idleIds = async () =>
  (await rows<{ id: string }>(`select id from instances where state = 'idle' order by id`)).map((r) => r.id);

beforeAll(async () => {
  await stack.start();
  ({ host, templatesClient, claimsClient: client, sql } = stack);
});

afterAll(() => stack.close());

beforeEach(async () => {
  await sql.query(`update instances set state = 'dead' where state = 'idle'`);
});

describe("a claim is made by its requester", () => {
  it("anonymous: UNAUTHENTICATED; a session naming someone else: PERMISSION_DENIED; for public and private templates, and nothing is claimed, provisioned or counted", async () => {
    const creator = newIdentity();
    const stranger = newIdentity();
    const pub = await createTemplate(creator, { tools: [tool("sms", "pool"), tool("email", "pool")] });
    const priv = await createTemplate(creator, {}, "private");
    const idle = await seedIdle(2);
    const numbersBefore = await rows(`select number from sms_numbers where instance_id is not null`);

    for (const t of [pub, priv]) {
      const anon = await expectCode(client.claim(claimReq(stranger, t.id)), Code.Unauthenticated);
      expect(anon.rawMessage).toMatch(/sign in, or sign the claim/);
      // A stranger naming the creator (the seed's "requester == creator_id" check, with the id unproven).
      await expectCode(client.claim(claimReq(creator, t.id), as(stranger)), Code.PermissionDenied);
      // Or naming anyone else, who would become the owner of an agent they never asked for.
      await expectCode(client.claim(claimReq(newIdentity(), t.id), as(stranger)), Code.PermissionDenied);
      // A signature by the stranger in the creator's name.
      await expectCode(client.claim(await signedClaim(creator, t.id, {}, stranger)), Code.PermissionDenied);
    }

    for (const id of idle) {
      expect((await instanceRow(id)).state, id).toBe("idle");
      expect(host.callsOf(id), id).toEqual([]);
      expect(await leftovers(id)).toMatchObject({ tools: 0, numbers: 0 });
    }
    expect(await rows(`select number from sms_numbers where instance_id is not null`)).toEqual(numbersBefore);
    expect(await rows(`select id from instances where template_id = any($1)`, [[pub.id, priv.id]])).toEqual([]);
    // Nothing signals that nothing was counted: usage counts go out every USAGE_FLUSH_MS, so that and a
    // little more holds a pass that would have sent one for a refused claim.
    await sleep(USAGE_FLUSH_MS + 300);
    expect(await usage(pub.id)).toBe(0n);
    // The creator may claim both; then the count moves (so the check above could fail).
    expect((await client.claim(claimReq(creator, pub.id), as(creator))).instanceId).toBeTruthy();
    await expect.poll(() => usage(pub.id), { timeout: 5_000 }).toBe(1n);
    expect((await client.claim(claimReq(creator, priv.id), as(creator))).instanceId).toBeTruthy();
  });

  it("a claim signed by its requester (ClaimAgent) needs no session and makes the signer the owner; the same signed request is not taken twice", async () => {
    const owner = newIdentity();
    const t = await createTemplate(newIdentity());
    await seedIdle(2);
    const req = await signedClaim(owner, t.id, { model: "gpt-oss-120b" });
    const { instanceId } = await client.claim(req);
    expect(await instanceRow(instanceId)).toMatchObject({
      state: "claimed",
      owner_id: owner.inboxId,
      model: "gpt-oss-120b",
    });
    expect((await client.getInstance({ instanceId }, as(owner))).instance?.ownerId).toBe(owner.inboxId);
    // Replayed: its nonce is spent with the claim.
    const replay = await expectCode(client.claim(req), Code.Unauthenticated);
    expect(replay.rawMessage).toMatch(/nonce: already used/);
    // A session of the same requester with a signature is fine; of another, refused.
    await expectCode(client.claim(await signedClaim(owner, t.id), as(newIdentity())), Code.PermissionDenied);
    expect((await client.claim(await signedClaim(owner, t.id), as(owner))).instanceId).toBeTruthy();
  });

  it("a ClaimAgent signature over another invite, model, user config, template or requester, or an old one, is refused and claims nothing", async () => {
    const owner = newIdentity();
    const t = await createTemplate(newIdentity(), { tools: [tool("nickname", "user")] });
    const other = await createTemplate(newIdentity());
    const [idle] = await seedIdle(1);
    const good = await signedClaim(owner, t.id, { userConfig: { nickname: "Trippy" } });
    const swaps: [ClaimFields, Code][] = [
      [{ conversationInvite: "https://dev.convos.org/v2?i=elsewhere" }, Code.PermissionDenied],
      [{ model: "gpt-oss-120b" }, Code.PermissionDenied],
      [{ userConfig: { nickname: "Someone" } }, Code.PermissionDenied],
      [{ userConfig: {} }, Code.PermissionDenied],
      [{ templateId: other.id }, Code.PermissionDenied],
      [{ requester: newIdentity().inboxId }, Code.PermissionDenied],
    ];
    for (const [over, code] of swaps) await expectCode(client.claim({ ...good, ...over }), code);
    const old = claimReq(owner, t.id, { userConfig: { nickname: "Trippy" } });
    const stale = await expectCode(
      client.claim({ ...old, signature: await signClaim(owner.account, old, Math.floor(Date.now() / 1000) - 600) }),
      Code.Unauthenticated,
    );
    expect(stale.rawMessage).toMatch(/issued_at: outside the accepted window/);
    expect((await instanceRow(idle!)).state).toBe("idle");
    expect(host.callsOf(idle!)).toEqual([]);
    // White space around the invite is not part of what is signed.
    expect((await client.claim({ ...good, conversationInvite: `  ${good.conversationInvite}\n` })).instanceId).toBe(
      idle,
    );
  });

  it("a signed claim refused for want of an idle agent leaves its nonce unspent: the same request succeeds once one is idle", async () => {
    const owner = newIdentity();
    const t = await createTemplate(newIdentity());
    const req = await signedClaim(owner, t.id);
    await expectCode(client.claim(req), Code.ResourceExhausted);
    await seedIdle(1);
    expect(await instanceRow((await client.claim(req)).instanceId)).toMatchObject({ owner_id: owner.inboxId });
  });
});

describe("what one owner may hold", () => {
  it("at the cap of live agents a claim is RESOURCE_EXHAUSTED with the LimitExceeded detail; concurrent claims cannot pass it together; removing one frees a place", async () => {
    const owner = newIdentity();
    const t = await createTemplate(newIdentity());
    await seedIdle(9);
    const results = await Promise.allSettled(
      Array.from({ length: 9 }, () => client.claim(claimReq(owner, t.id), as(owner))),
    );
    const won = results.filter((r) => r.status === "fulfilled");
    expect(won).toHaveLength(3);
    for (const r of results) {
      if (r.status === "fulfilled") continue;
      const limit = limitExceededOf(r.reason);
      expect(limit, String(r.reason)).toEqual({ limit: "live agents per owner", retryAfterSeconds: 0 });
      expect(String(r.reason)).toMatch(/remove one first/);
    }
    expect(
      await rows(`select id from instances where owner_id = $1 and state = 'claimed'`, [owner.inboxId]),
    ).toHaveLength(3);
    expect(await idleIds()).toHaveLength(6);
    // Someone else is not held back by this owner's cap.
    const someone = newIdentity();
    expect((await client.claim(claimReq(someone, t.id), as(someone))).instanceId).toBeTruthy();

    const [first] = won as PromiseFulfilledResult<{ instanceId: string }>[];
    const firstId = first!.value.instanceId;
    const removal = await signOperation(owner.account, "RemoveAgent", { inboxId: owner.inboxId, instanceId: firstId });
    await client.removeAgent({ instanceId: firstId, ownerSignature: removal }, as(owner));
    expect((await client.claim(claimReq(owner, t.id), as(owner))).instanceId).toBeTruthy();
    await expectCode(client.claim(claimReq(owner, t.id), as(owner)), Code.ResourceExhausted);
  });

  it("past the cap of pool tools a claim is refused before anything is provisioned", async () => {
    const owner = newIdentity();
    const two = await createTemplate(newIdentity(), { tools: [tool("sms", "pool"), tool("crypto", "pool")] });
    const one = await createTemplate(newIdentity(), { tools: [tool("sms", "pool")] });
    const bare = await createTemplate(newIdentity());
    await seedIdle(3);
    await client.claim(claimReq(owner, two.id), as(owner));
    const numbers = await rows(`select number from sms_numbers where instance_id is not null`);
    const err = await expectCode(client.claim(claimReq(owner, one.id), as(owner)), Code.ResourceExhausted);
    expect(limitExceededOf(err)).toEqual({ limit: "pool tools per owner", retryAfterSeconds: 0 });
    expect(err.rawMessage).toMatch(/needs 1 pool tools and your agents hold 2, of at most 2 per owner/);
    expect(await rows(`select number from sms_numbers where instance_id is not null`)).toEqual(numbers);
    expect(await idleIds()).toHaveLength(2);
    // An agent without pool tools still fits under the other cap.
    expect((await client.claim(claimReq(owner, bare.id), as(owner))).instanceId).toBeTruthy();
  });

  it("one requester's claims are rate limited (RESOURCE_EXHAUSTED, LimitExceeded, retry-after); others are not, and the allowance comes back", async () => {
    await stack.claims.close();
    await stack.startClaims({ claimsPerCaller: { points: 2, seconds: 2 } });
    ({ claimsClient: client } = stack);
    try {
      const owner = newIdentity();
      const t = await createTemplate(newIdentity());
      await seedIdle(5);
      await client.claim(claimReq(owner, t.id), as(owner));
      await client.claim(claimReq(owner, t.id), as(owner));
      const err = await expectCode(client.claim(claimReq(owner, t.id), as(owner)), Code.ResourceExhausted);
      const limit = limitExceededOf(err);
      expect(limit?.limit).toBe("claims per caller");
      expect(limit!.retryAfterSeconds).toBeGreaterThan(0);
      expect(Number(err.metadata.get("retry-after"))).toBe(limit!.retryAfterSeconds);
      // The refused claim took nothing: three idle left, two claimed.
      expect(await idleIds()).toHaveLength(3);
      const someone = newIdentity();
      expect((await client.claim(claimReq(someone, t.id), as(someone))).instanceId).toBeTruthy();
      await sleep(limit!.retryAfterSeconds * 1000 + 100);
      expect((await client.claim(claimReq(owner, t.id), as(owner))).instanceId).toBeTruthy();
    } finally {
      await stack.claims.close();
      await stack.startClaims();
      ({ claimsClient: client } = stack);
    }
  });
});

describe("RemoveAgent", () => {
  it("the owner removes an agent with a RemoveAgent signature, signed in or not: it leaves its conversation, its tools go back, it is dead", async () => {
    const owner = newIdentity();
    const t = await createTemplate(newIdentity(), { tools: [tool("sms", "pool")] });
    await seedIdle(2);
    const a = (await client.claim(claimReq(owner, t.id), as(owner))).instanceId;
    const b = (await client.claim(claimReq(owner, t.id), as(owner))).instanceId;
    expect((await leftovers(a)).numbers).toBe(1);

    const signedA = await signOperation(owner.account, "RemoveAgent", { inboxId: owner.inboxId, instanceId: a });
    await client.removeAgent({ instanceId: a, ownerSignature: signedA }, as(owner));
    const signature = await signOperation(owner.account, "RemoveAgent", { inboxId: owner.inboxId, instanceId: b });
    await client.removeAgent({ instanceId: b, ownerSignature: signature });
    for (const id of [a, b]) {
      expect(await instanceRow(id)).toMatchObject({ state: "dead", owner_id: owner.inboxId, template_id: t.id });
      expect(host.callsOf(id).at(-1), id).toBe("release");
      expect(host.instances.get(id)?.state).toBe(InstanceState.IDLE);
      expect(await leftovers(id)).toMatchObject({ tools: 0, numbers: 0 });
    }
    // Gone from "my agents"; a second removal, or the signature again, finds nothing.
    expect((await client.listOwnerAgents({ ownerId: owner.inboxId }, as(owner))).instances).toEqual([]);
    const again = await signOperation(owner.account, "RemoveAgent", { inboxId: owner.inboxId, instanceId: a });
    await expectCode(client.removeAgent({ instanceId: a, ownerSignature: again }, as(owner)), Code.NotFound);
    await expectCode(client.removeAgent({ instanceId: b, ownerSignature: signature }), Code.Unauthenticated);
  });

  it("a session alone removes nothing, the owner's included: UNAUTHENTICATED naming owner_signature; the agent stays", async () => {
    const owner = newIdentity();
    const t = await createTemplate(newIdentity());
    await seedIdle(1);
    const id = (await client.claim(claimReq(owner, t.id), as(owner))).instanceId;
    const err = await expectCode(client.removeAgent({ instanceId: id }, as(owner)), Code.Unauthenticated);
    expect(err.rawMessage).toMatch(/^owner_signature: required: RemoveAgent cannot be undone/);
    // The same answer whatever the agent: a session learns nothing of others' agents.
    await expectCode(client.removeAgent({ instanceId: "inst_AAAAAAAAAAAAAAAA" }, as(owner)), Code.Unauthenticated);
    expect(await instanceRow(id)).toMatchObject({ state: "claimed", owner_id: owner.inboxId });
    expect(host.callsOf(id)).not.toContain("release");
  });

  it("anyone else is told the agent does not exist, and nobody at all to sign in; the agent stays", async () => {
    const owner = newIdentity();
    const stranger = newIdentity();
    const t = await createTemplate(newIdentity());
    await seedIdle(1);
    const id = (await client.claim(claimReq(owner, t.id), as(owner))).instanceId;
    await expectCode(client.removeAgent({ instanceId: id }), Code.Unauthenticated);
    await expectCode(client.removeAgent({ instanceId: id }, as(stranger)), Code.Unauthenticated);
    const forged = await signOperation(stranger.account, "RemoveAgent", { inboxId: owner.inboxId, instanceId: id });
    await expectCode(client.removeAgent({ instanceId: id, ownerSignature: forged }), Code.NotFound);
    const other = await signOperation(owner.account, "RemoveAgent", {
      inboxId: owner.inboxId,
      instanceId: "inst_AAAAAAAAAAAAAAAA",
    });
    await expectCode(client.removeAgent({ instanceId: id, ownerSignature: other }), Code.NotFound);
    const elsewhere = await signOperation(owner.account, "RemoveAgent", {
      inboxId: owner.inboxId,
      instanceId: "inst_AAAAAAAAAAAAAAAA",
    });
    await expectCode(
      client.removeAgent({ instanceId: "inst_AAAAAAAAAAAAAAAA", ownerSignature: elsewhere }, as(owner)),
      Code.NotFound,
    );
    expect(await instanceRow(id)).toMatchObject({ state: "claimed", owner_id: owner.inboxId });
    expect(host.callsOf(id)).not.toContain("release");
  });
});

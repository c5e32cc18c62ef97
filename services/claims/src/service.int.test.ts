import { randomBytes } from "node:crypto";
import { rename, rm, writeFile } from "node:fs/promises";
import { Code, type ConnectError, type Client } from "@connectrpc/connect";
import type pg from "pg";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { create } from "@bufbuild/protobuf";
import { ClaimRequestSchema, ClaimService } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import { InstanceState } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { createServiceClient } from "@convos-pool/kit/server";
import { fieldViolations } from "@convos-pool/kit/content";
import type { Database } from "@convos-pool/kit/service";
import { ALL_TOOLS, newIdentity, tool, type TestIdentity } from "@convos-pool/kit/testing";
import { waitFor } from "@convos-pool/testing";
import { requestHash, takeKey } from "./claim/idempotency-keys.js";
import { claimIdleInstance } from "./claim/sql.js";
import { insertProvisionedTool } from "./tools/sql.js";
import { LocalMailboxProvider, LocalSmsProvider } from "./providers/index.js";
import { listTemplateInstances } from "./db/reads.js";
import type { RunningClaimsService } from "./server.js";
import { as, expectCode, type ClaimFields } from "../test/helpers.js";
import type { StandInHost } from "../test/stand-in-host.js";
import { StandInStack } from "../test/stand-in-stack.js";
import { claimParams } from "../test/database.js";

// The claim flow over gRPC with fault injection: the real template service
// (in-process, its own test database), the real claims service on real
// PostgreSQL, the real local providers (numbers in the claims database,
// mailboxes on disk, generated wallets) and the real gRPC instance runtime,
// against a STAND-IN instance host (claims/test/stand-in-host.ts) that records
// what instances are asked and fails on demand: configure or join failing
// with an unexpected error, which the real host cannot be made to do. It also
// seeds idle instances cheaply for the validation, race and list tests, whose
// subject is the database, not the host.
//
// Every happy path runs against the real instance host, the real XMTP node
// and a real Convos conversation in claims-e2e.int.test.ts (docs/claims.md, "Tests").

const SMS_RANGE = "+15550300000..+15550300099";
const logLines: string[] = [];

const stack = new StandInStack({
  name: "service",
  smsRange: SMS_RANGE,
  logSink: (line) => logLines.push(line),
  dbPoolSize: 4,
});
const { seedIdle, rows, instanceRow, leftovers, mailboxCount, mailboxRoot } = stack;
let claims: RunningClaimsService;
let host: StandInHost;
let client: Client<typeof ClaimService>;
let sql: pg.Client;
let db: Database;

const { createTemplate } = stack;

const claimReq = (requester: TestIdentity, templateId: string, over: ClaimFields = {}) => ({
  requester: requester.inboxId,
  templateId,
  conversationInvite: `https://dev.convos.org/v2?i=invite-${randomBytes(6).toString("hex")}`,
  userConfig: { "personal-email": "saul@example.com" },
  ...over,
});

/** A claim by a signed-in requester (the gateway forwards the caller). */
const claimBy = (requester: TestIdentity, templateId: string, over: ClaimFields = {}) =>
  client.claim(claimReq(requester, templateId, over), as(requester));

/** Resolves once a claim by `owner` holds its agent (its row is claiming): the claim is in flight. */
const holdingItsAgent = (owner: TestIdentity) =>
  waitFor("the claim holding its agent", async () => {
    const rows = await sql.query(`select 1 from instances where state = 'claiming' and owner_id = $1`, [owner.inboxId]);
    return (rows.rowCount ?? 0) > 0;
  });

beforeAll(async () => {
  await stack.start();
  ({ claims, host, claimsClient: client, sql, db } = stack);
});

afterAll(() => stack.close());

beforeEach(async () => {
  // Each test starts from an empty warm pool and healthy providers.
  await sql.query(`update instances set state = 'dead' where state = 'idle'`);
  host.failing.clear();
});

describe("claim", () => {
  it("refuses bad requests before claiming anything, naming the field", async () => {
    const creator = newIdentity();
    const user = newIdentity();
    const t = await createTemplate(creator, { tools: ALL_TOOLS });
    const fixed = await createTemplate(creator, {
      tools: [],
      model: { default: "gpt-oss-20b", allow_override: false },
    });
    const [idle] = await seedIdle(1);

    const cases: [ClaimFields, string, RegExp?][] = [
      [{ requester: "" }, "requester"],
      [{ requester: "not-an-inbox" }, "requester"],
      [{ templateId: "" }, "template_id"],
      [{ templateId: "tmpl_short" }, "template_id"],
      [{ conversationInvite: "" }, "conversation_invite"],
      [{ conversationInvite: "x".repeat(16 * 1024 + 1) }, "conversation_invite"],
      [{ model: "bad model!" }, "model"],
      [{ contextPrompt: "bring everything" }, "context_prompt"],
      // A required user tool without a value: the error carries its prompt.
      [{ userConfig: {} }, "user_config.personal-email", /Your email for booking confirmations\?/],
      [
        { userConfig: { "personal-email": "   " } },
        "user_config.personal-email",
        /Your email for booking confirmations\?/,
      ],
      // Keys the template does not ask for, and pool tools, are refused.
      [
        { userConfig: { "personal-email": "a@b.c", colour: "blue" } },
        "user_config.colour",
        /asks for: personal-email, nickname/,
      ],
      [
        { userConfig: { "personal-email": "a@b.c", sms: "+15551234567" } },
        "user_config.sms",
        /provisioned by the pool/,
      ],
    ];
    for (const [over, field, message] of cases) {
      const err = await expectCode(client.claim(claimReq(user, t.id, over), as(user)), Code.InvalidArgument);
      expect(
        fieldViolations(err).map((v) => v.field),
        JSON.stringify(over).slice(0, 80),
      ).toEqual([field]);
      if (message) expect(err.message).toMatch(message);
    }
    // The model: the template's default unless the owner picks another, which only some templates allow.
    const err = await expectCode(
      client.claim(claimReq(user, fixed.id, { model: "gpt-oss-120b", userConfig: {} }), as(user)),
      Code.InvalidArgument,
    );
    expect(fieldViolations(err).map((v) => v.field)).toEqual(["model"]);
    expect(err.message).toContain("does not allow choosing another model");
    // A clone needs the owner's CloneAgent signature, its template and that template's creator (which the owner
    // signs), a well-formed parent id and known kinds; the clone fields need clone_from.
    const clone = await expectCode(
      client.claim(
        claimReq(user, t.id, { cloneFrom: "inst_AAAAAAAAAAAAAAAA", templateCreatorId: t.creatorId }),
        as(user),
      ),
      Code.InvalidArgument,
    );
    expect(fieldViolations(clone).map((v) => v.field)).toEqual(["owner_signature"]);
    const badClone = await expectCode(
      client.claim(claimReq(user, "", { cloneFrom: "nope", carry: ["memories"] }), as(user)),
      Code.InvalidArgument,
    );
    expect(fieldViolations(badClone).map((v) => v.field)).toEqual([
      "template_id",
      "clone_from",
      "template_creator_id",
      "owner_signature",
      "carry[0]",
    ]);
    const notClone = await expectCode(
      client.claim(claimReq(user, t.id, { carry: ["training"] }), as(user)),
      Code.InvalidArgument,
    );
    expect(fieldViolations(notClone).map((v) => v.field)).toEqual(["carry"]);
    // A signed-in caller can only claim for themselves.
    await expectCode(client.claim(claimReq(user, t.id), as(newIdentity())), Code.PermissionDenied);

    // Nothing was claimed or provisioned by any of these.
    expect((await instanceRow(idle!)).state).toBe("idle");
    expect(host.callsOf(idle!)).toEqual([]);
    expect(await leftovers(idle!)).toMatchObject({ tools: 0, numbers: 0 });
  });

  it("answers RESOURCE_EXHAUSTED when no agent is idle; concurrent claims racing for the last ones get one each", async () => {
    const creator = newIdentity();
    const t = await createTemplate(creator, { tools: [tool("crypto", "pool")] });
    const none = await expectCode(claimBy(newIdentity(), t.id, { userConfig: {} }), Code.ResourceExhausted);
    expect(none.message).toContain("no idle agent, try again");

    const idle = await seedIdle(5);
    const users = Array.from({ length: 40 }, () => newIdentity());
    const results = await Promise.allSettled(
      users.map((u) => client.claim(claimReq(u, t.id, { userConfig: {} }), as(u))),
    );
    const won = results.flatMap((r, i) =>
      r.status === "fulfilled" ? [{ id: r.value.instanceId, owner: users[i]!.inboxId }] : [],
    );
    expect(won.map((w) => w.id).sort()).toEqual([...idle].sort());
    for (const r of results) {
      if (r.status === "rejected") {
        expect(Code[(r.reason as ConnectError).code]).toBe("ResourceExhausted");
        expect((r.reason as ConnectError).message).toContain("no idle agent, try again");
      }
    }
    for (const w of won) expect(await instanceRow(w.id)).toMatchObject({ state: "claimed", owner_id: w.owner });
    // Exactly one wallet per claimed agent, none provisioned for the losers.
    const wallets = await rows<{ n: number }>(
      `select count(*)::int as n from provisioned_tools where tool_id = 'crypto' and instance_id = any($1)`,
      [idle],
    );
    expect(wallets[0]!.n).toBe(5);
  });
});

describe("rollback", () => {
  // Tools are provisioned in template order: sms, crypto, then email.
  let t: { id: string };
  beforeAll(async () => {
    t = await createTemplate(newIdentity(), { tools: ALL_TOOLS });
  });

  it("provider down (the mailbox store is broken): earlier tools released, rows gone, instance idle again", async () => {
    const [idle] = await seedIdle(1);
    const before = await mailboxCount();
    const broken = `${mailboxRoot()}.moved`;
    await rename(mailboxRoot(), broken).catch(() => {});
    await writeFile(mailboxRoot(), "not a directory");
    try {
      const err = await expectCode(claimBy(newIdentity(), t.id), Code.Unavailable);
      expect(err.message).toContain('could not provision tool "email"');
      expect(err.message).toContain("nothing was claimed");
    } finally {
      await rm(mailboxRoot(), { force: true });
      await rename(broken, mailboxRoot()).catch(() => {});
    }
    // The SMS number and the wallet provisioned before it are gone; the instance was never contacted.
    expect(await leftovers(idle!)).toEqual({ tools: 0, numbers: 0, mailboxes: before });
    expect(await instanceRow(idle!)).toMatchObject({
      state: "idle",
      claim_id: null,
      owner_id: null,
      template_id: null,
    });
    expect(host.callsOf(idle!)).toEqual([]);
    // And it is claimable again.
    expect((await claimBy(newIdentity(), t.id)).instanceId).toBe(idle);
  });

  it("a provider that cannot give back what it made as the claim fails: the instance is left to the sweep, which gives it back once the provider answers", async () => {
    const [idle] = await seedIdle(1);
    const broken = `${mailboxRoot()}.moved`;
    await rename(mailboxRoot(), broken).catch(() => {});
    await writeFile(mailboxRoot(), "not a directory");
    // The numbers' store refuses every release meanwhile, as a provider that is away.
    await sql.query(`create or replace function refuse_release() returns trigger language plpgsql as $$
      begin raise exception 'numbers away'; end $$`);
    await sql.query(`create trigger refuse_release before update on sms_numbers
      for each row when (new.instance_id is null) execute function refuse_release()`);
    try {
      await expectCode(claimBy(newIdentity(), t.id), Code.Unavailable);
      expect(await instanceRow(idle!)).toMatchObject({ state: "claiming" });
    } finally {
      await sql.query(`drop trigger refuse_release on sms_numbers; drop function refuse_release()`);
      await rm(mailboxRoot(), { force: true });
      await rename(broken, mailboxRoot()).catch(() => {});
    }
    expect((await leftovers(idle!)).numbers).toBe(1);
    await sql.query(`update instances set claim_started_at = now() - interval '1 hour' where id = $1`, [idle]);
    // Taken by a sweep (this test's, or the service's own when it came first on a busy machine, or the next
    // while the failed claim still settles): what counts is what was given back.
    await waitFor(
      "the stale claim swept",
      async () => {
        await claims.flow.sweep();
        return (await instanceRow(idle!)).state === "dead";
      },
      15_000,
    );
    expect(await leftovers(idle!)).toMatchObject({ tools: 0, numbers: 0 });
  });

  it("SMS numbers used up: RESOURCE_EXHAUSTED, nothing provisioned, instance idle", async () => {
    const [idle] = await seedIdle(1);
    await sql.query(`update sms_numbers set instance_id = 'hog', allocated_at = now() where instance_id is null`);
    try {
      const err = await expectCode(claimBy(newIdentity(), t.id), Code.ResourceExhausted);
      expect(err.message).toMatch(/could not provision tool "sms": no free phone number/);
    } finally {
      await sql.query(`update sms_numbers set instance_id = null, allocated_at = null where instance_id = 'hog'`);
    }
    expect(await leftovers(idle!)).toMatchObject({ tools: 0, numbers: 0 });
    expect((await instanceRow(idle!)).state).toBe("idle");
  });

  it("configure fails: every tool released, the instance released and idle again", async () => {
    const [idle] = await seedIdle(1);
    const before = await mailboxCount();
    host.failing.add("configure");
    const err = await expectCode(claimBy(newIdentity(), t.id), Code.Unavailable);
    expect(err.message).toContain("could not be configured");
    expect(host.callsOf(idle!)).toEqual(["configure", "release"]);
    expect(await leftovers(idle!)).toEqual({ tools: 0, numbers: 0, mailboxes: before });
    expect(await instanceRow(idle!)).toMatchObject({ state: "idle", claim_id: null, owner_id: null });
  });

  it("join fails: every tool released, the instance released and marked dead for replacement", async () => {
    const [idle] = await seedIdle(1);
    const before = await mailboxCount();
    host.failing.add("join");
    const err = await expectCode(claimBy(newIdentity(), t.id), Code.Unavailable);
    expect(err.message).toContain("joining the conversation failed");
    expect(host.callsOf(idle!)).toEqual(["configure", "join", "release"]);
    expect(host.instances.get(idle!)!.configured).toBeUndefined(); // the stand-in wiped its claim
    expect(await leftovers(idle!)).toEqual({ tools: 0, numbers: 0, mailboxes: before });
    expect(await instanceRow(idle!)).toMatchObject({
      state: "dead",
      claim_id: null,
      owner_id: null,
      conversation_id: null,
    });
    expect(await rows(`select id from instances where state in ('claiming', 'claimed') and id = $1`, [idle])).toEqual(
      [],
    );
  });

  it("the sweep cleans up after a claims process that died mid-claim", async () => {
    const [idle] = await seedIdle(1);
    // A claim that got as far as two tools, then its process vanished an hour ago.
    const claimed = await claimIdleInstance(
      db.em.fork(),
      claimParams({ claimId: "lost", ownerId: "c".repeat(64), templateId: t.id }),
    );
    expect(claimed?.id).toBe(idle);
    const sms = await LocalSmsProvider.open(db.em, SMS_RANGE);
    const mail = new LocalMailboxProvider(mailboxRoot());
    const number = await sms.provision(idle!);
    const box = await mail.provision(idle!);
    await insertProvisionedTool(db.em.fork(), {
      instanceId: idle!,
      toolId: "sms",
      provider: sms.name,
      handle: number.handle,
      secret: null,
    });
    await insertProvisionedTool(db.em.fork(), {
      instanceId: idle!,
      toolId: "email",
      provider: mail.name,
      handle: box.handle,
      secret: null,
    });
    await sql.query(`update instances set claim_started_at = now() - interval '1 hour' where id = $1`, [idle]);

    const swept = await claims.flow.sweep();
    expect(swept.staleClaims).toBe(1);
    expect(await leftovers(idle!)).toMatchObject({ tools: 0, numbers: 0 });
    expect(await mail.exists(box.handle)).toBe(false);
    expect(await instanceRow(idle!)).toMatchObject({ state: "dead", claim_id: null });
  });

  it("fails a dead claim's key only once its instance is taken back, so that a retry told so finds the agent gone", async () => {
    const [idle] = await seedIdle(1);
    const owner = "e".repeat(64);
    await takeKey(db.em.fork(), { requester: owner, key: "k-lapsed", hash: "h", claimId: "lapsing" });
    await claimIdleInstance(db.em.fork(), claimParams({ claimId: "lapsing", ownerId: owner, templateId: t.id }));
    const key = async () =>
      (await rows(`select state from claim_keys where requester = $1 and key = 'k-lapsed'`, [owner]))[0]?.state;
    // The key's lease lapsed a moment before the instance's (they are renewed apart): the key waits.
    await sql.query(`update claim_keys set created_at = now() - interval '1 hour' where claim_id = 'lapsing'`);
    expect((await claims.flow.sweep()).staleClaims).toBe(0);
    expect(await key()).toBe("pending");
    expect(await instanceRow(idle!)).toMatchObject({ state: "claiming" });
    // Both lapsed: the instance is taken and the key failed in the same sweep.
    await sql.query(`update instances set claim_started_at = now() - interval '1 hour' where id = $1`, [idle]);
    expect((await claims.flow.sweep()).staleClaims).toBe(1);
    expect(await key()).toBe("failed");
    expect(await instanceRow(idle!)).toMatchObject({ state: "dead", claim_id: null });
  });
});

describe("lists", () => {
  it("lists an owner's live agents across templates in pages, to the owner only", async () => {
    const creator = newIdentity();
    const owner = newIdentity();
    const other = newIdentity();
    const a = await createTemplate(creator, { tools: [], agent_name: "Alpha" });
    const b = await createTemplate(creator, { tools: [], agent_name: "Beta" });
    await seedIdle(5);
    const mine: string[] = [];
    for (const tmpl of [a, b, a])
      mine.push((await client.claim(claimReq(owner, tmpl.id, { userConfig: {} }), as(owner))).instanceId);
    const theirs = (await client.claim(claimReq(other, a.id, { userConfig: {} }), as(other))).instanceId;

    const p1 = await client.listOwnerAgents({ ownerId: owner.inboxId, pageSize: 2 }, as(owner));
    expect(p1.instances.map((i) => i.id)).toEqual([mine[2], mine[1]]); // newest claim first
    expect(p1.nextPageToken).not.toBe("");
    const p2 = await client.listOwnerAgents(
      { ownerId: owner.inboxId, pageSize: 2, pageToken: p1.nextPageToken },
      as(owner),
    );
    expect(p2.instances.map((i) => i.id)).toEqual([mine[0]]);
    expect(p2.nextPageToken).toBe("");
    expect(p1.instances.map((i) => i.agentName)).toEqual(["Alpha", "Beta"]);
    expect(p1.instances.every((i) => i.state === InstanceState.CLAIMED && i.ownerId === owner.inboxId)).toBe(true);

    // A dead agent is not live.
    await sql.query(`update instances set state = 'dead' where id = $1`, [mine[1]]);
    const live = await client.listOwnerAgents({ ownerId: owner.inboxId }, as(owner));
    expect(live.instances.map((i) => i.id)).toEqual([mine[2], mine[0]]);

    // Private to the owner.
    await expectCode(client.listOwnerAgents({ ownerId: owner.inboxId }), Code.Unauthenticated);
    await expectCode(client.listOwnerAgents({ ownerId: owner.inboxId }, as(other)), Code.PermissionDenied);
    await expectCode(
      client.listOwnerAgents({ ownerId: owner.inboxId, pageToken: "garbage" }, as(owner)),
      Code.InvalidArgument,
    );
    await expectCode(
      client.listOwnerAgents({ ownerId: owner.inboxId, pageSize: 101 }, as(owner)),
      Code.InvalidArgument,
    );

    // GetInstance: the owner sees it; anyone else is told it does not exist.
    expect((await client.getInstance({ instanceId: theirs }, as(other))).instance?.id).toBe(theirs);
    await expectCode(client.getInstance({ instanceId: theirs }, as(owner)), Code.NotFound);
    // Nobody signed in: told to sign in, not whether the agent exists.
    await expectCode(client.getInstance({ instanceId: theirs }), Code.Unauthenticated);
    await expectCode(client.getInstance({ instanceId: "nope" }, as(owner)), Code.InvalidArgument);

    // The creator's dashboard data: a template's instances with a count.
    const all = await listTemplateInstances(db.em.fork(), a.id, { liveOnly: false, limit: 2, pageToken: "" });
    expect(all.totalCount).toBe(3);
    expect(all.instances.map((i) => i.id)).toEqual([theirs, mine[2]]);
    const rest = await listTemplateInstances(db.em.fork(), a.id, {
      liveOnly: false,
      limit: 2,
      pageToken: all.nextPageToken,
    });
    expect(rest.instances.map((i) => i.id)).toEqual([mine[0]]);
    expect(rest.nextPageToken).toBe("");
    const liveB = await listTemplateInstances(db.em.fork(), b.id, { liveOnly: true, limit: 10, pageToken: "" });
    expect(liveB).toMatchObject({ totalCount: 0, instances: [] });
    const everB = await listTemplateInstances(db.em.fork(), b.id, { liveOnly: false, limit: 10, pageToken: "" });
    expect(everB.totalCount).toBe(1);
  });

  it("refuses calls without the gateway's credential", async () => {
    const outsider = createServiceClient(ClaimService, claims.url, { token: "wrong-token" }).client;
    await expectCode(outsider.claim({}), Code.Unauthenticated);
    for (const who of ["instance-host", "templates", "claims"] as const) {
      const other = createServiceClient(ClaimService, claims.url, stack.creds[who]);
      try {
        const err = await expectCode(other.client.claim({}), Code.PermissionDenied);
        expect(err.rawMessage).toBe(`the ${who} credential may not call convos.pool.v1.ClaimService`);
      } finally {
        other.close();
      }
    }
  });
});

describe("a claim's outcome is never lost", () => {
  const claimedBy = async (owner: TestIdentity) =>
    (await rows(`select id from instances where owner_id = $1 and state = 'claimed'`, [owner.inboxId])).length;

  it("a retry with the same key gets the same agent, never a second, also while the first is still running", async () => {
    const t = await createTemplate(newIdentity(), { tools: [] });
    await seedIdle(4);
    const owner = newIdentity();
    const req = claimReq(owner, t.id, { userConfig: {}, idempotencyKey: "trip-2026-11-23" });
    host.joinDelayMs = 1_000;
    try {
      // The client lost its answer and retried twice, at once.
      const answers = await Promise.all([
        client.claim(req, as(owner)),
        client.claim(req, as(owner)),
        client.claim(req, as(owner)),
      ]);
      expect(new Set(answers.map((a) => a.instanceId)).size).toBe(1);
    } finally {
      host.joinDelayMs = 0;
    }
    // And later.
    const again = await client.claim(req, as(owner));
    expect(again.instanceId).toBe(
      (await rows(`select id from instances where owner_id = $1 and state = 'claimed'`, [owner.inboxId]))[0]!.id,
    );
    expect(await claimedBy(owner)).toBe(1);
    expect(host.callsOf(again.instanceId).filter((c) => c === "join")).toHaveLength(1);
    // The key is the requester's own: someone else's same key is their own claim.
    const other = newIdentity();
    const theirs = await client.claim(
      claimReq(other, t.id, {
        userConfig: {},
        conversationInvite: req.conversationInvite,
        idempotencyKey: req.idempotencyKey!,
      }),
      as(other),
    );
    expect(theirs.instanceId).not.toBe(again.instanceId);
  });

  it("claims made together, keyed and not, are taken and completed in batches: each key names its own claim's agent", async () => {
    const t = await createTemplate(newIdentity(), { tools: [] });
    await seedIdle(12);
    const owners = Array.from({ length: 12 }, () => newIdentity());
    const reqs = owners.map((o, i) =>
      claimReq(o, t.id, { userConfig: {}, ...(i % 2 === 0 ? { idempotencyKey: `together-${i}` } : {}) }),
    );
    const batchesBefore = host.claimBatches.length;
    const answers = await Promise.all(reqs.map((r, i) => client.claim(r, as(owners[i]!))));
    expect(new Set(answers.map((a) => a.instanceId)).size).toBe(12);
    // Configured and joined in batch calls, not one call per claim.
    const batches = host.claimBatches.slice(batchesBefore);
    expect(batches.some((b) => b.instanceIds.length > 1)).toBe(true);
    for (const [i, o] of owners.entries()) {
      expect(await rows(`select id from instances where owner_id = $1 and state = 'claimed'`, [o.inboxId])).toEqual([
        { id: answers[i]!.instanceId },
      ]);
      if (i % 2 === 0) {
        expect(await rows(`select state, instance_id from claim_keys where requester = $1`, [o.inboxId])).toEqual([
          { state: "done", instance_id: answers[i]!.instanceId },
        ]);
        expect((await client.claim(reqs[i]!, as(o))).instanceId).toBe(answers[i]!.instanceId);
      }
    }
  });

  it("a retry gets the first claim's failure, once it had taken an agent; a failure before that leaves the key free", async () => {
    const t = await createTemplate(newIdentity(), { tools: [] });
    const owner = newIdentity();
    // No idle agent: nothing was taken, so the same key may try again.
    await sql.query(`update instances set state = 'dead' where state = 'idle'`);
    const req = claimReq(owner, t.id, { userConfig: {}, idempotencyKey: "k-exhausted" });
    await expectCode(client.claim(req, as(owner)), Code.ResourceExhausted);
    const [idle] = await seedIdle(2);
    expect((await client.claim(req, as(owner))).instanceId).toBeTruthy();

    // Taken, then the join refused (the instance reports it): that failure is the key's outcome, and a retry takes no second agent.
    host.failing.add("join");
    host.failingWith.set("join", Code.FailedPrecondition);
    const refused = claimReq(owner, t.id, { userConfig: {}, idempotencyKey: "k-join" });
    const joins = () => host.calls.filter((c) => c.step === "join").length;
    try {
      const first = await expectCode(client.claim(refused, as(owner)), Code.FailedPrecondition);
      const before = joins();
      const retry = await expectCode(client.claim(refused, as(owner)), Code.FailedPrecondition);
      expect(retry.rawMessage).toBe(first.rawMessage);
      expect(joins()).toBe(before);
    } finally {
      host.failing.delete("join");
      host.failingWith.delete("join");
    }
    expect(idle).toBeTruthy();
  });

  it("a claim rolled back because its host was away (UNAVAILABLE) frees its key: the same request again makes a new attempt", async () => {
    const t = await createTemplate(newIdentity(), { tools: [] });
    await seedIdle(2);
    const owner = newIdentity();
    const req = claimReq(owner, t.id, { userConfig: {}, idempotencyKey: "k-host-away" });
    const joins = () => host.calls.filter((c) => c.step === "join").length;
    host.failing.add("join");
    try {
      await expectCode(client.claim(req, as(owner)), Code.Unavailable);
    } finally {
      host.failing.delete("join");
    }
    const before = joins();
    const again = await client.claim(req, as(owner));
    expect(joins()).toBe(before + 1);
    // And from then on, the key names that agent.
    expect((await client.claim(req, as(owner))).instanceId).toBe(again.instanceId);
    expect(await rows(`select state from instances where owner_id = $1`, [owner.inboxId])).toEqual([
      { state: "claimed" },
    ]);
  });

  it("a key names one request: the same key with another one is refused, naming the field", async () => {
    const t = await createTemplate(newIdentity(), { tools: [] });
    await seedIdle(1);
    const owner = newIdentity();
    await client.claim(claimReq(owner, t.id, { userConfig: {}, idempotencyKey: "k-one" }), as(owner));
    const err = await expectCode(
      client.claim(claimReq(owner, t.id, { userConfig: {}, idempotencyKey: "k-one" }), as(owner)),
      Code.InvalidArgument,
    );
    expect(fieldViolations(err).map((v) => v.field)).toEqual(["idempotency_key"]);
    for (const bad of ["has space", "x".repeat(129), "é"]) {
      const e = await expectCode(
        client.claim(claimReq(owner, t.id, { userConfig: {}, idempotencyKey: bad }), as(owner)),
        Code.InvalidArgument,
      );
      expect(e.message).toContain("idempotency_key");
    }
  });

  it("a claim whose process died is resolved once its lease runs out: the agent taken back, its key failed, the retry told so", async () => {
    const t = await createTemplate(newIdentity(), { tools: [] });
    const [idle] = await seedIdle(1);
    const owner = newIdentity();
    // As a claims process leaves it when it dies mid-claim: the instance claiming, the key pending, neither renewed since.
    const claimed = await claimIdleInstance(
      db.em.fork(),
      claimParams({ claimId: "died", ownerId: owner.inboxId, templateId: t.id }),
    );
    expect(claimed?.id).toBe(idle);
    const req = claimReq(owner, t.id, { userConfig: {}, idempotencyKey: "k-died" });
    await sql.query(`insert into claim_keys (requester, key, request_hash, claim_id) values ($1, $2, $3, 'died')`, [
      owner.inboxId,
      "k-died",
      requestHash(create(ClaimRequestSchema, req)),
    ]);
    // Within its lease, nothing happens.
    expect((await claims.flow.sweep()).staleClaims).toBe(0);
    // It died right after the SMS provider gave it a number, before the tool was recorded.
    const [{ number }] = (
      await sql.query(
        `update sms_numbers set instance_id = $1, allocated_at = now() where number = (select min(number) from sms_numbers where instance_id is null) returning number`,
        [idle],
      )
    ).rows;
    await sql.query(`update instances set claim_started_at = now() - interval '21 seconds' where id = $1`, [idle]);
    await sql.query(`update claim_keys set created_at = now() - interval '21 seconds' where key = 'k-died'`);
    expect(await claims.flow.sweep()).toEqual({ staleClaims: 1, toolsReleased: 1 });
    expect(await instanceRow(idle!)).toMatchObject({ state: "dead", claim_id: null, owner_id: null });
    expect((await sql.query(`select instance_id from sms_numbers where number = $1`, [number])).rows).toEqual([
      { instance_id: null },
    ]);
    expect(host.callsOf(idle!)).toContain("release");
    const err = await expectCode(client.claim(req, as(owner)), Code.Aborted);
    expect(err.message).toMatch(/stopped before it finished/);
  });

  it("a dead instance still holding a tool (its release failed while the database was away, not even marked failed) has it released by the sweep, after the grace its own release has", async () => {
    const [dead] = await seedIdle(1);
    const [{ number }] = (
      await sql.query(
        `update sms_numbers set instance_id = $1, allocated_at = now() where number = (select min(number) from sms_numbers where instance_id is null) returning number`,
        [dead],
      )
    ).rows;
    await sql.query(
      `insert into provisioned_tools (instance_id, tool_id, provider, handle) values ($1, 'sms', 'local-sms', $2)`,
      [dead, number],
    );
    await sql.query(`update instances set state = 'dead', updated_at = now() where id = $1`, [dead]);
    // Just dead: its own removal or rollback may still be releasing it.
    expect((await claims.flow.sweep()).toolsReleased).toBe(0);
    await sql.query(`update instances set updated_at = now() - interval '31 seconds' where id = $1`, [dead]);
    expect((await claims.flow.sweep()).toolsReleased).toBe(1);
    expect((await sql.query(`select 1 from provisioned_tools where instance_id = $1`, [dead])).rowCount).toBe(0);
    expect((await sql.query(`select instance_id from sms_numbers where number = $1`, [number])).rows).toEqual([
      { instance_id: null },
    ]);
  });

  /** A new owner's claim held in flight by a slow join (2 s), once it holds its agent: the owner, and the claim's answer to come. */
  const claimInFlight = async (idempotencyKey: string) => {
    const t = await createTemplate(newIdentity(), { tools: [] });
    await seedIdle(1);
    const owner = newIdentity();
    host.joinDelayMs = 2_000;
    const claiming = client.claim(claimReq(owner, t.id, { userConfig: {}, idempotencyKey }), as(owner));
    await holdingItsAgent(owner);
    return { owner, claiming };
  };

  it("a claim in flight keeps its lease past the lease's length: its process renews it", {
    timeout: 60_000,
  }, async () => {
    try {
      const { owner, claiming } = await claimInFlight("k-slow");
      // Pretend it started long ago: only a renewal since keeps the sweep off it.
      await sql.query(
        `update instances set claim_started_at = now() - interval '1 hour' where state = 'claiming' and owner_id = $1`,
        [owner.inboxId],
      );
      await claims.flow.renewLeases();
      expect((await claims.flow.sweep()).staleClaims).toBe(0);
      expect((await claiming).instanceId).toBeTruthy();
    } finally {
      host.joinDelayMs = 0;
    }
  });

  it("a claim in flight whose lease lapsed while it could not be renewed (the database away) is not taken by its own process's sweep", {
    timeout: 60_000,
  }, async () => {
    try {
      const { owner, claiming } = await claimInFlight("k-lapsed");
      // As after an outage longer than a lease: neither started nor renewed within it.
      await sql.query(
        `update instances set claim_started_at = now() - interval '1 hour', claim_renewed_at = now() - interval '1 hour'
         where state = 'claiming' and owner_id = $1`,
        [owner.inboxId],
      );
      expect((await claims.flow.sweep()).staleClaims).toBe(0);
      expect((await claiming).instanceId).toBeTruthy();
    } finally {
      host.joinDelayMs = 0;
    }
  });
});

describe("metrics", () => {
  it("show the pool by state, the sync backlog, claims in flight and the Claim RPCs, as the database has them", async () => {
    const t = await createTemplate(newIdentity(), { tools: [] });
    await seedIdle(3);
    const owner = newIdentity();
    await client.claim(claimReq(owner, t.id, { userConfig: {} }), as(owner));
    const text = await (await fetch(`${claims.url}/metrics`)).text();
    const value = (re: RegExp) => Number(re.exec(text)?.[1]);
    const byState = await rows<{ state: string; n: number }>(
      `select state, count(*)::int as n from instances group by state`,
    );
    for (const { state, n } of byState)
      expect(value(new RegExp(`^pool_instances\\{[^}]*state="${state}"[^}]*\\} (\\d+)`, "m")), state).toBe(n);
    expect(value(/^pool_sync_backlog\{[^}]*\} (\d+)/m)).toBe(0);
    expect(value(/^pool_claims_in_flight_oldest_seconds\{[^}]*\} (\d+)/m)).toBe(0);
    expect(value(/^pool_rpc_requests_total\{[^}]*method="Claim"[^}]*code="ok"[^}]*\} (\d+)/m)).toBeGreaterThanOrEqual(
      1,
    );
  });
});

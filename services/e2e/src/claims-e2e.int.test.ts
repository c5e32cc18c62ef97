// Claims end to end with every part real: PostgreSQL, the local XMTP node
// (the Convos CLI reaches it through its bridge), the template service checking signatures against that
// node, a real instance host (services/instance, offline model) whose
// instances are real XMTP clients, the claims service running its own warm
// pool on that host, and a Convos conversation created and served by the real
// Convos CLI (`convos agent serve`). A creator publishes a template, the
// conversation's creator claims it into the conversation with its invite, the
// agent joins and answers there; then a claim whose invite's creator is
// offline rolls back (and its instance leaves the conversation when the
// creator comes back and adds it anyway), and one on a host that went away
// rolls back too.

import { readFile, stat, writeFile } from "node:fs/promises";

import { join } from "node:path";

import { Code, type Client } from "@connectrpc/connect";
import type pg from "pg";
import { createPublicClient, http } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ClaimService } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import { InstanceState } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import type { TemplateService } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import type { RunningInstanceHost } from "@convos-pool/instance";
import { renderIdentity, type TemplateContentJson } from "@convos-pool/kit/content";
import {
  ALL_TOOLS,
  newIdentity,
  sampleContent,
  signedTemplate,
  tool,
  type TestIdentity,
} from "@convos-pool/kit/testing";
// The instance package's CLI helper (it exports no testing entry point).
import { ConvosCli, runConvos, type MessageEvent, type ReadyEvent } from "@convos-pool/testing/convos-cli";
import { NO_IDLE_AGENT, SecretBox, secretAad } from "@convos-pool/claims";
import {
  as,
  expectCode,
  instanceRowOf,
  leftoversOf,
  mailboxCount as mailboxesUnder,
  rowsOf,
  type ClaimFields,
} from "@convos-pool/claims/testing";
import { MasterSeed } from "@convos-pool/kit/signing";
import { RealStack } from "./real-stack.js";

const SMS_RANGE = "+15550500000..+15550500019";
/** How long the host's join waits for the invite's creator: the offline-creator case waits this long. */
const JOIN_TIMEOUT_MS = 8_000;
const TARGET = 2;
const INSTRUCTIONS = "You are a travel planning assistant. You help groups plan trips.";

const TOOLS = ALL_TOOLS;

const claimsLogs: string[] = [];
const hostLogs: string[] = [];
const stack = new RealStack({
  name: "claims-e2e",
  lockTimeoutMs: 90_000,
  conversationName: "Tokyo trip",
  logs: { host: (l) => hostLogs.push(l), claims: (l) => claimsLogs.push(l) },
  host: { joinTimeoutMs: JOIN_TIMEOUT_MS },
  claims: { smsRange: SMS_RANGE, pool: { target: TARGET, intervalMs: 200 } },
});
const { secretsKey: SECRETS_KEY, masterSeed: MASTER_SEED } = stack;

let host: RunningInstanceHost | undefined;
let cli: ConvosCli | undefined;
/** The offline conversation's creator once it comes back (`agent serve` on its home). */
let back: ConvosCli | undefined;
let ready: ReadyEvent;
/** A conversation whose creator made it and went offline: its invite is valid, nobody answers it. */
let offline: CreatedConversation;
let dir: string;
let sql: pg.Client | undefined;
let templatesClient: Client<typeof TemplateService>;
let client: Client<typeof ClaimService>;
/** Every secret a provider handed out, for the log scan at the end. */
const secretsSeen: string[] = [];

const workspace = (instanceId: string) => join(dir, "host", "instances", instanceId);
const mailboxRoot = () => join(dir, "claims", "mailboxes");
const exists = (p: string) =>
  stat(p).then(
    () => true,
    () => false,
  );

// ---- the creator's side of a conversation nobody serves ----

interface CreatedConversation {
  conversationId: string;
  inboxId: string;
  invite: { slug: string; url: string; tag: string };
}

/** One Convos CLI command with `--json` on the home under `at`, on this file's XMTP node; its output parsed. */
const convos = <T>(at: string, args: string[]) => runConvos<T>(args, at, { xmtpPort: stack.xmtp!.port });

/** `convos conversations create`: a conversation and its invite, then the CLI exits; its creator does not answer. */
const createConversationAndLeave = (at: string) =>
  convos<CreatedConversation>(at, ["conversations", "create", "--name", "Nobody home"]);

/** The conversation's members as its creator's client sees them (`convos conversation members`). */
const membersOf = async (at: string, conversationId: string) =>
  (await convos<{ inboxId: string }[]>(at, ["conversation", "members", conversationId])).map((m) => m.inboxId);

// ---- helpers ----

const createTemplate = (c: TestIdentity, over: Partial<TemplateContentJson>, visibility: "public" | "private") =>
  signedTemplate(templatesClient, c, sampleContent(over), visibility);

const rows = <T = Record<string, unknown>>(text: string, params?: unknown[]) => rowsOf<T>(sql!, text, params);
/** The local chain the agents' wallets are on. */
const chainRead = () => createPublicClient({ transport: http(stack.chain!.rpcUrl) });

const instanceRow = (id: string) => instanceRowOf(sql!, id);

/** The idle instances, in the order a claim takes them. */
const idleIds = async () =>
  (await rows<{ id: string }>(`select id from instances where state = 'idle' order by wallet_index`)).map((r) => r.id);

async function untilPoolFull(): Promise<string[]> {
  await expect.poll(async () => (await idleIds()).length, { timeout: 20_000, interval: 100 }).toBe(TARGET);
  return idleIds();
}

async function usageCount(templateId: string): Promise<bigint> {
  return (await templatesClient.getTemplate({ templateId })).template!.usageCount;
}

const leftovers = (instanceId: string) => leftoversOf(sql!, mailboxRoot(), instanceId);
const mailboxCount = () => mailboxesUnder(mailboxRoot());

beforeAll(async () => {
  await stack.start();
  ({ host, cli, ready, dir } = stack);
  templatesClient = stack.templatesSc!.client;
  client = stack.claimsSc!.client;
  sql = stack.sql;
  offline = await createConversationAndLeave(join(dir, "offline"));
}, 150_000);

afterAll(async () => {
  if (process.env.CLAIMS_E2E_LOGS)
    await writeFile(process.env.CLAIMS_E2E_LOGS, [...claimsLogs, ...hostLogs].join("\n"));
  await back?.stop();
  await stack.close();
}, 60_000);

describe("claims end to end (real host, real XMTP node, real Convos CLI)", () => {
  let owner: string;
  let claimedId: string;
  let templateId: string;

  it("a published template claimed into a Convos conversation: tools provisioned, the agent configured and joined before the answer, it talks, the pool refills", {
    timeout: 40_000,
  }, async () => {
    const creator = newIdentity();
    const t = await createTemplate(
      creator,
      { tools: TOOLS, instructions: INSTRUCTIONS, model: { default: "gpt-oss-20b", allow_override: true } },
      "public",
    );
    templateId = t.id;
    // The warm pool: the claims service started TARGET instances on the host, each a registered XMTP client.
    const idle = await untilPoolFull();
    for (const id of idle) {
      const onHost = host!.instances.get(id)!;
      expect(onHost.state).toBe(InstanceState.IDLE);
      expect((await instanceRow(id)).inbox_id).toBe(onHost.inboxId);
    }
    expect(await usageCount(t.id)).toBe(0n);

    // The conversation's creator (the CLI's inbox) adds the agent: the requester becomes its owner.
    owner = ready.inboxId;
    const from = cli!.events.length;
    const req: ClaimFields = {
      requester: owner,
      templateId: t.id,
      conversationInvite: ready.inviteUrl,
      model: "gpt-oss-120b",
      userConfig: { "personal-email": "saul@example.com", nickname: "Trippy" },
    };
    const started = performance.now();
    const { instanceId } = await client.claim(req, as(owner));
    const claimMs = performance.now() - started;
    claimedId = instanceId;
    expect(instanceId).toBe(idle[0]); // the lowest wallet index first
    const inst = host!.instances.get(instanceId)!;

    // Only after the join does the claim answer: the instance is in the CLI's conversation, and the CLI added it.
    expect(inst.state).toBe(InstanceState.CLAIMED);
    expect(inst.conversationId).toBe(ready.conversationId);
    const joinedBeforeAnswer = cli!.events
      .slice(from)
      .some((e) => e.event === "member_joined" && e.inboxId === inst.inboxId);
    const joined = await cli!.waitFor(
      "member_joined",
      (e) => e.event === "member_joined" && e.inboxId === inst.inboxId,
      { from, ms: 3_000 },
    );
    expect(joined.conversationId).toBe(ready.conversationId);
    console.info(
      `claim with join: ${Math.round(claimMs)} ms; member_joined printed ${joinedBeforeAnswer ? "before" : "just after"} the answer`,
    );

    // The real host got the claim: template, owner, the override, user config, tools (handles) and their secrets (sealed).
    const cfg = inst.configSnapshot!;
    expect(cfg).toMatchObject({
      instanceId,
      templateId: t.id,
      // The content version, as its creator signed it (publishing raised the version, not the content).
      templateVersion: t.contentVersion.toString(),
      agentName: "Trip Planner",
      ownerId: owner,
      model: "gpt-oss-120b",
      modelOverridden: true,
      userConfig: { "personal-email": "saul@example.com", nickname: "Trippy" },
    });
    expect(inst.signedTemplate()?.creatorId).toBe(creator.inboxId);
    expect(await readFile(join(workspace(instanceId), "IDENTITY.md"), "utf8")).toBe(
      renderIdentity({ agentName: "Trip Planner", instructions: INSTRUCTIONS }),
    );
    const handles = Object.fromEntries(cfg.tools.map((x) => [x.toolId, x.handle]));
    expect(Object.keys(handles).sort()).toEqual(["crypto", "email", "sms"]);
    expect(handles.sms).toMatch(/^\+155505000\d\d$/);
    expect(handles.email).toMatch(/^[a-z2-7]{16}@agents\.localhost$/);
    const creds = (await inst.credentials())!;
    // The wallet's key is not the host's: the claims service keeps it sealed and signs each payment.
    expect(creds.crypto).toEqual({});
    const walletKey = await stack.walletKey(instanceId);
    expect(privateKeyToAccount(walletKey).address).toBe(handles.crypto);
    // The wallet is on the local chain, and empty: the pool funds none without an operator's grant (docs/limits.md).
    expect(await chainRead().getBalance({ address: handles.crypto as `0x${string}` })).toBe(0n);
    expect(creds.email!.password).toBeTruthy();
    expect(creds.sms).toEqual({});
    secretsSeen.push(walletKey.slice(2), creds.email!.password!);
    const onDisk = await Promise.all(
      ["config.json", "credentials.json", "IDENTITY.md", "conversations.json"].map((f) =>
        readFile(join(workspace(instanceId), f), "utf8"),
      ),
    );
    for (const s of secretsSeen) expect(onDisk.join("\n")).not.toContain(s);

    // The providers really allocated them, and the claims database has them sealed: the same secrets the host got.
    expect(await rows(`select number from sms_numbers where instance_id = $1`, [instanceId])).toEqual([
      { number: handles.sms },
    ]);
    expect((await stat(join(mailboxRoot(), handles.email!, "new"))).isDirectory()).toBe(true);
    const stored = await rows<{ tool_id: string; handle: string; secret: Buffer | null }>(
      `select tool_id, handle, secret from provisioned_tools where instance_id = $1 order by tool_id`,
      [instanceId],
    );
    expect(stored.map((s) => [s.tool_id, s.handle])).toEqual([
      ["crypto", handles.crypto],
      ["email", handles.email],
      ["sms", handles.sms],
    ]);
    const box = SecretBox.fromConfig(SECRETS_KEY);
    // Sealed here, each as the host was given it, but the wallet's key, which only the sealed row holds.
    for (const s of stored) {
      if (s.secret === null) expect(creds[s.tool_id]).toEqual({});
      else if (s.tool_id === "crypto")
        expect(box.open(s.secret, secretAad(instanceId, s.tool_id))).toEqual({ private_key: walletKey });
      else expect(box.open(s.secret, secretAad(instanceId, s.tool_id))).toEqual(creds[s.tool_id]);
    }
    const dump =
      JSON.stringify(await rows(`select * from provisioned_tools`)) +
      JSON.stringify(await rows(`select * from instances`));
    for (const s of secretsSeen) expect(dump).not.toContain(s);

    // The row: claimed, owned by the requester, in the CLI's conversation.
    const row = await instanceRow(instanceId);
    expect(row).toMatchObject({
      state: "claimed",
      owner_id: owner,
      template_id: t.id,
      template_version: Number(t.contentVersion),
      agent_name: "Trip Planner",
      inbox_id: inst.inboxId,
      conversation_id: ready.conversationId,
      model: "gpt-oss-120b",
      model_overridden: true,
      user_config: { "personal-email": "saul@example.com", nickname: "Trippy" },
      claim_id: null,
    });
    expect(row.claimed_at).toBeInstanceOf(Date);

    // Joined, it tells its owner where to fund its empty wallet (docs/limits.md).
    const notice = await cli!.waitFor<MessageEvent>(
      "the wallet notice",
      (e) => e.event === "message" && e.senderInboxId === inst.inboxId && /^My wallet is /.test(String(e.content)),
      { from: 0, ms: 20_000 },
    );
    expect(notice.content).toBe(
      `My wallet is ${handles.crypto}; it holds 0 ETH. To let me pay for you, my owner sends coins to that address; every payment from it is my owner's to allow.`,
    );

    // It talks: a message from the CLI is answered in the conversation by the agent's inbox, through the offline model.
    const sent = await cli!.send("Hello Trip Planner!");
    const reply = await cli!.messageFrom(inst.inboxId, sent);
    expect(reply.content).toMatch(/^\[offline model\] /);
    expect(reply.content).toContain("Hello Trip Planner!");
    expect(reply.senderProfile).toMatchObject({ name: "Trip Planner" });

    // The pool refills to its target with a new instance; the host runs it, the claimed one and the other idle one.
    const refilled = await untilPoolFull();
    expect(refilled).not.toContain(instanceId);
    expect(refilled).toContain(idle[1]);
    const states = Object.fromEntries([...host!.instances].map(([id, i]) => [id, InstanceState[i.state]]));
    expect(states).toEqual({ [instanceId]: "CLAIMED", [refilled[0]!]: "IDLE", [refilled[1]!]: "IDLE" });

    // "My agents": the owner sees it, with handles and never a secret; nobody else does.
    const mine = await client.listOwnerAgents({ ownerId: owner }, as(owner));
    expect(mine.instances.map((i) => i.id)).toEqual([instanceId]);
    const got = mine.instances[0]!;
    expect(got).toMatchObject({
      templateId: t.id,
      ownerId: owner,
      inboxId: inst.inboxId,
      conversationId: ready.conversationId,
      state: InstanceState.CLAIMED,
      model: "gpt-oss-120b",
      modelOverridden: true,
      agentName: "Trip Planner",
    });
    expect(got.tools.map((x) => [x.toolId, x.handle])).toEqual(stored.map((s) => [s.tool_id, s.handle]));
    const wire = JSON.stringify(got, (_k, v) => (typeof v === "bigint" ? v.toString() : v));
    for (const s of secretsSeen) expect(wire).not.toContain(s);
    expect((await client.getInstance({ instanceId }, as(owner))).instance?.conversationId).toBe(ready.conversationId);
    await expectCode(client.getInstance({ instanceId }, as(creator)), Code.NotFound);
    await expectCode(client.listOwnerAgents({ ownerId: owner }, as(creator)), Code.PermissionDenied);

    // The claim counts once for the store's "most used" order.
    await expect.poll(() => usageCount(t.id), { timeout: 5_000 }).toBe(1n);
  });

  it("a private template: a stranger gets NOT_FOUND; its creator claims it (the default model sent explicitly is no override)", {
    timeout: 30_000,
  }, async () => {
    const creator = newIdentity();
    const stranger = newIdentity();
    const t = await createTemplate(
      creator,
      {
        agent_name: "Budget Keeper",
        tools: [tool("crypto", "pool")],
        model: { default: "gpt-oss-20b", allow_override: false },
      },
      "private",
    );
    const idle = await untilPoolFull();
    const base = { templateId: t.id, conversationInvite: ready.inviteUrl, userConfig: {} };
    const err = await expectCode(client.claim({ ...base, requester: stranger.inboxId }, as(stranger)), Code.NotFound);
    expect(err.message).toContain(`template ${t.id} not found`);
    await expectCode(
      client.claim({ ...base, templateId: "tmpl_AAAAAAAAAAAAAAAA", requester: stranger.inboxId }, as(stranger)),
      Code.NotFound,
    );
    // This template runs on its default model only.
    const refused = await expectCode(
      client.claim({ ...base, requester: creator.inboxId, model: "gpt-oss-120b" }, as(creator)),
      Code.InvalidArgument,
    );
    expect(refused.message).toContain("does not allow choosing another model");
    expect(await idleIds()).toEqual(idle);

    const from = cli!.events.length;
    const { instanceId } = await client.claim(
      { ...base, requester: creator.inboxId, model: "gpt-oss-20b" },
      as(creator),
    );
    expect(instanceId).toBe(idle[0]);
    const inst = host!.instances.get(instanceId)!;
    expect(inst.state).toBe(InstanceState.CLAIMED);
    expect(inst.conversationId).toBe(ready.conversationId);
    expect(inst.configSnapshot).toMatchObject({
      ownerId: creator.inboxId,
      agentName: "Budget Keeper",
      model: "gpt-oss-20b",
      modelOverridden: false,
    });
    secretsSeen.push((await stack.walletKey(instanceId)).slice(2));
    expect(await instanceRow(instanceId)).toMatchObject({
      state: "claimed",
      owner_id: creator.inboxId,
      model: "gpt-oss-20b",
      model_overridden: false,
    });
    await cli!.waitFor("member_joined", (e) => e.event === "member_joined" && e.inboxId === inst.inboxId, {
      from,
      ms: 3_000,
    });
    expect(
      (await client.listOwnerAgents({ ownerId: creator.inboxId }, as(creator))).instances.map((i) => i.id),
    ).toEqual([instanceId]);
    // The first owner's list is unchanged.
    expect((await client.listOwnerAgents({ ownerId: owner }, as(owner))).instances.map((i) => i.id)).toEqual([
      claimedId,
    ]);
    await untilPoolFull();
  });

  it("an invite whose creator is offline: DEADLINE_EXCEEDED after the host's join timeout, nothing claimed, tools released, the instance released back to idle", {
    timeout: 40_000,
  }, async () => {
    const requester = newIdentity();
    const idle = await untilPoolFull();
    const doomed = idle[0]!;
    const mailboxes = await mailboxCount();
    const usage = await usageCount(templateId);
    const faucet = privateKeyToAccount(stack.chain!.faucetKey).address;
    const faucetBefore = await chainRead().getBalance({ address: faucet });
    const started = performance.now();
    const err = await expectCode(
      client.claim(
        {
          requester: requester.inboxId,
          templateId,
          conversationInvite: offline.invite.url,
          userConfig: { "personal-email": "nobody@example.com" },
        },
        as(requester),
      ),
      Code.DeadlineExceeded,
    );
    expect(performance.now() - started).toBeGreaterThanOrEqual(JOIN_TIMEOUT_MS - 500);
    expect(err.message).toContain("nothing was claimed");

    // Nothing claimed, no tool left anywhere (database, number range, mailboxes).
    expect(await instanceRow(doomed)).toMatchObject({
      state: "idle",
      claim_id: null,
      owner_id: null,
      conversation_id: null,
      template_id: null,
    });
    expect(
      await rows(`select id from instances where owner_id = $1 or state = 'claiming'`, [requester.inboxId]),
    ).toEqual([]);
    expect(await leftovers(doomed)).toEqual({ tools: 0, numbers: 0, mailboxes });
    // No grant, so the wallet was never funded: the faucet paid nothing.
    expect(await chainRead().getBalance({ address: faucet })).toBe(faucetBefore);
    // Released on the host (its claim wiped), back in the pool; it remembers the invite it gave up on.
    expect(await exists(join(workspace(doomed), "config.json"))).toBe(false);
    expect(await exists(join(workspace(doomed), "credentials.json"))).toBe(false);
    const inst = host!.instances.get(doomed)!;
    expect(inst.state).toBe(InstanceState.IDLE);
    expect(inst.invites.abandoned.map((a) => a.tag)).toEqual([offline.invite.tag]);
    // (The pool started a replacement when it was claimed: one idle instance more than the target for now.)
    expect(await idleIds()).toContain(doomed);
    expect((await client.listOwnerAgents({ ownerId: requester.inboxId }, as(requester))).instances).toEqual([]);
    expect(await usageCount(templateId)).toBe(usage);
    // The agents in the CLI's conversation are untouched.
    expect(host!.instances.get(claimedId)?.state).toBe(InstanceState.CLAIMED);
  });

  it("the offline creator comes back and adds the released instance from its pending join request: the instance leaves at once (also after a host restart); a later claim of it into that conversation works", {
    timeout: 150_000,
  }, async () => {
    const [reused] = await idleIds();
    // What it gave up on is in its workspace: a restarted host watches again.
    await host!.close();
    host = await stack.startHost();
    const inst = host.instances.get(reused!)!;
    expect(inst.state).toBe(InstanceState.IDLE);
    expect(inst.invites.abandoned.map((a) => a.tag)).toEqual([offline.invite.tag]);
    // As a Convos creator does when it comes online: `agent serve` reads the pending join requests of its DMs.
    back = await ConvosCli.start(
      ["agent", "serve", offline.conversationId, "--profile-name", "Nobody"],
      join(dir, "offline"),
      { xmtpPort: stack.xmtp!.port },
    );
    const joined = await back.waitFor(
      "member_joined",
      (e) => e.event === "member_joined" && e.inboxId === inst.inboxId,
      { ms: 30_000 },
    );
    expect(joined.conversationId).toBe(offline.conversationId);
    // The instance leaves; the creator's client removes it: the conversation ends without it.
    // Two clients pass the leave along (the instance's, then the creator's): slow on a loaded machine.
    await expect
      .poll(() => membersOf(join(dir, "offline"), offline.conversationId), { timeout: 60_000, interval: 1_000 })
      .not.toContain(inst.inboxId);
    expect(await membersOf(join(dir, "offline"), offline.conversationId)).toEqual([offline.inboxId]);
    expect(
      hostLogs.some(
        (l) => l.includes("left a conversation of an abandoned invite") && l.includes(offline.conversationId),
      ),
    ).toBe(true);
    expect(inst.state).toBe(InstanceState.IDLE);

    // Still a good pool member: claimed into that conversation on purpose, it joins again, stays and answers.
    const requester = newIdentity();
    const from = back.events.length;
    const { instanceId } = await client.claim(
      {
        requester: requester.inboxId,
        templateId,
        conversationInvite: offline.invite.url,
        userConfig: { "personal-email": "nobody@example.com" },
      },
      as(requester),
    );
    expect(instanceId).toBe(reused);
    expect(inst.state).toBe(InstanceState.CLAIMED);
    expect(inst.conversationId).toBe(offline.conversationId);
    expect(inst.invites.abandoned).toEqual([]);
    await back.waitFor("member_joined", (e) => e.event === "member_joined" && e.inboxId === inst.inboxId, {
      from,
      ms: 10_000,
    });
    // Its wallet notice first (docs/limits.md), then what it answers.
    await back.waitFor(
      "the wallet notice",
      (e) => e.event === "message" && e.senderInboxId === inst.inboxId && /^My wallet is /.test(String(e.content)),
      { from, ms: 20_000 },
    );
    const sent = await back.send("Hello again, Trip Planner!");
    expect((await back.messageFrom(inst.inboxId, sent)).content).toMatch(/^\[offline model\] /);
    expect(await membersOf(join(dir, "offline"), offline.conversationId)).toContain(inst.inboxId);
    expect(await instanceRow(reused!)).toMatchObject({
      state: "claimed",
      owner_id: requester.inboxId,
      conversation_id: offline.conversationId,
    });
    await untilPoolFull();
  });

  it("the instance host goes away: a claim that reaches it before the pool notices is UNAVAILABLE, tools released, the instance dead; once a pass sees it gone its idle agents are set aside (no idle agent); claimed agents stay claimed", {
    timeout: 60_000,
  }, async () => {
    const [next, other] = await untilPoolFull();
    const mailboxes = await mailboxCount();
    // No pass between the host going and the claim: the claim is the first to find out.
    await stack.claims!.pool!.stop();
    await host!.close();
    const requester = newIdentity();
    const claim = () =>
      client.claim(
        {
          requester: requester.inboxId,
          templateId,
          conversationInvite: ready.inviteUrl,
          userConfig: { "personal-email": "x@example.com" },
          // The conversation already has this template's agent from the tests before.
          confirmSecondAgent: true,
        },
        as(requester),
      );
    const err = await expectCode(claim(), Code.Unavailable);
    expect(err.message).toContain("nothing was claimed");
    // The requester learns the host did not answer, not where the pool's hosts live.
    expect(err.message).toContain("the agent's host did not answer");
    expect(err.message).not.toMatch(/127\.0\.0\.1|ECONNREFUSED/);
    expect(await instanceRow(next!)).toMatchObject({ state: "dead", claim_id: null, owner_id: null });
    expect(await leftovers(next!)).toEqual({ tools: 0, numbers: 0, mailboxes });

    // The pool back (a claims service restart): its pass finds the host gone and sets the idle agent there aside.
    await stack.claims!.close();
    await stack.startClaims();
    await expect
      .poll(async () => (await instanceRow(other!)).state, { timeout: 20_000, interval: 200 })
      .toBe("crashed");
    const none = await expectCode(claim(), Code.ResourceExhausted);
    expect(none.message).toContain(NO_IDLE_AGENT);
    // An unreachable host is left alone otherwise: its owners' agents are not declared crashed.
    expect((await instanceRow(claimedId)).state).toBe("claimed");
  });

  it("no secret in any log line of the claims service or the instance host", () => {
    const all = [...claimsLogs, ...hostLogs].join("\n");
    expect(claimsLogs.join("\n")).toContain('"msg":"claimed"');
    expect(hostLogs.join("\n")).toContain("instance joined its conversation");
    expect(secretsSeen.length).toBeGreaterThanOrEqual(3);
    for (const s of [
      ...secretsSeen,
      ...Object.values(stack.creds).map((c) => c.token),
      MASTER_SEED,
      // The agents' wallet keys, released by the keys service to the host: in no log of either.
      ...Array.from({ length: 8 }, (_, i) => MasterSeed.parse(MASTER_SEED).key(i).privateKey.slice(2)),
      SECRETS_KEY,
      "saul@example.com",
      "Hello Trip Planner!",
    ])
      expect(all).not.toContain(s);
  });
});

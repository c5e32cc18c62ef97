import { randomBytes } from "node:crypto";
import { Code, type Client } from "@connectrpc/connect";
import { createPublicClient, http, parseEther, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ClaimService } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import { StoreCurationService } from "@convos-pool/gen/convos/pool/v1/store_curation_service_pb.js";
import { createLogger, createServiceClient, limitExceededOf } from "@convos-pool/kit/server";
import { signOperation, signUpdateRelease } from "@convos-pool/kit/signing";
import { preconditionFailureOf, type TemplateContentJson } from "@convos-pool/kit/content";
import { startLocalChain, type RunningChain } from "@convos-pool/local-providers";
import {
  creationNonceOf,
  newIdentity,
  sampleContent,
  signedTemplate,
  tool,
  type TestIdentity,
} from "@convos-pool/kit/testing";
import { waitFor } from "@convos-pool/testing";
import { budgetDay, type PoolBudget } from "./budget/policy.js";
import { startClaimsService, type RunningClaimsService } from "./server.js";
import { as, expectCode } from "../test/helpers.js";
import { StandInStack } from "../test/stand-in-stack.js";

// What the pool pays for (docs/limits.md, "What the pool pays for"), on the
// real claims and templates services (real PostgreSQL), the stand-in
// instance host and the real local chain (anvil): numbers, mailboxes and
// wallet funding only under an operator's signed grant, kept in the curation
// log; a grant's quota; the day's budget, counted in the claim's transaction,
// holding against 50 fresh inboxes claiming at once through two replicas.

const FUND = parseEther("0.01");
/** Funds for 5 wallets a day, 16 paid tools. */
const BUDGET: PoolBudget = { fundsPerDayWei: 5n * FUND, toolsPerDay: 16, withoutGrant: [] };

const operator = newIdentity();
const creator = newIdentity();
let chain: RunningChain;
let stack: StandInStack;
let client: Client<typeof ClaimService>;
let curation: Client<typeof StoreCurationService>;
let closeCuration = () => {};
/** A second claims service on the same database: a replica. */
let replica: RunningClaimsService;
let replicaClient: Client<typeof ClaimService>;
let closeReplicaClient = () => {};

const read = () => createPublicClient({ transport: http(chain.rpcUrl) });
const balanceOf = (address: string) => read().getBalance({ address: address as Hex });

const template = (over: Partial<TemplateContentJson>, c: TestIdentity = creator) =>
  signedTemplate(stack.templatesClient, c, sampleContent(over), "public");

const claim = (requester: TestIdentity, templateId: string, via: Client<typeof ClaimService> = client) =>
  via.claim(
    {
      requester: requester.inboxId,
      templateId,
      conversationInvite: `https://dev.convos.org/v2?i=invite-${randomBytes(6).toString("hex")}`,
    },
    as(requester),
  );

/** An operator's SetToolGrant, signed by `signer` (the operator by default). */
async function grant(
  g: { templateId?: string; creatorId?: string; tools?: string[]; fundWei?: bigint; maxLiveTools?: number },
  signer: TestIdentity = operator,
  operatorId = operator.inboxId,
) {
  const fields = {
    templateId: g.templateId ?? "",
    creatorId: g.creatorId ?? "",
    tools: [...(g.tools ?? [])].sort().join(","),
    fundWei: g.fundWei ?? 0n,
    maxLiveTools: g.maxLiveTools ?? 0,
  };
  const signature = await signOperation(signer.account, "SetToolGrant", { inboxId: operatorId, ...fields });
  return {
    operatorId,
    templateId: fields.templateId,
    creatorId: fields.creatorId,
    tools: g.tools ?? [],
    fundWei: fields.fundWei.toString(),
    maxLiveTools: fields.maxLiveTools,
    signature,
  };
}

const toolsOf = async (instanceId: string) =>
  Object.fromEntries(
    (
      await stack.rows<{ tool_id: string; handle: string }>(
        `select tool_id, handle from provisioned_tools where instance_id = $1`,
        [instanceId],
      )
    ).map((r) => [r.tool_id, r.handle]),
  );

const today = () =>
  stack
    .rows<{ funds_wei: string; tools: number }>(`select funds_wei, tools from pool_budget_days where day = $1::date`, [
      budgetDay(new Date()).day,
    ])
    .then((r) => (r[0] ? { funds: BigInt(r[0].funds_wei), tools: r[0].tools } : { funds: 0n, tools: 0 }));

beforeAll(async () => {
  chain = await startLocalChain();
  stack = new StandInStack({
    name: "budget",
    smsRange: "+15550900000..+15550900199",
    operators: [operator.inboxId],
    budget: BUDGET,
    chain: { rpcUrl: chain.rpcUrl, faucetKey: chain.faucetKey },
    dbPoolSize: 4,
    // A grant applies from the next template read: no read kept across the tests' grants.
    templateCacheMs: 0,
  });
  await stack.start();
  client = stack.claimsClient;
  const sc = createServiceClient(StoreCurationService, stack.templates.url, stack.creds.gateway);
  curation = sc.client;
  closeCuration = () => sc.close();
  replica = await startClaimsService({
    databaseUrl: stack.claimsDatabaseUrl,
    credentials: stack.creds.claims,
    templatesUrl: stack.templates.url,
    secretsKey: stack.secretsKey,
    dataDir: stack.dataDir,
    smsRange: "+15550900000..+15550900199",
    budget: BUDGET,
    // Its own faucet account: each process hands out its faucet's nonces itself (docs/limits.md).
    chain: { rpcUrl: chain.rpcUrl, faucetKey: chain.ownerKey },
    templateCacheMs: 0,
    sweepIntervalMs: 3_600_000,
    log: createLogger("claims-2", { level: "silent" }),
  });
  const rc = createServiceClient(ClaimService, replica.url, stack.creds.gateway);
  replicaClient = rc.client;
  closeReplicaClient = () => rc.close();
}, 60_000);

afterAll(async () => {
  closeReplicaClient();
  await replica?.close();
  closeCuration();
  await stack?.close();
  await chain?.close();
});

beforeEach(async () => {
  // Each test starts a new day of the budget, with its own idle instances.
  await stack.sql.query(`delete from pool_budget_days`);
  await stack.sql.query(`update instances set state = 'dead' where state = 'idle'`);
});

describe("without an operator's grant", () => {
  it("a template asking for a number or a mailbox is refused with FAILED_PRECONDITION naming the grant and the operator's command; nothing is taken, provisioned or counted", async () => {
    const t = await template({ tools: [tool("sms", "pool"), tool("email", "pool"), tool("crypto", "pool")] });
    const [idle] = await stack.seedIdle(1);
    const err = await expectCode(claim(newIdentity(), t.id), Code.FailedPrecondition);
    expect(limitExceededOf(err)).toBeUndefined();
    expect(preconditionFailureOf(err)).toMatchObject({ type: "pool tool grant", subject: `template:${t.id}` });
    expect(err.rawMessage).toMatch(
      /asks for a phone number \(sms\) and a mailbox \(email\), which the pool pays for only where its operators allowed it/,
    );
    expect(err.rawMessage).toContain(`npm run -s pool -- grant-tools ${t.id} --tools email,sms`);
    expect(err.metadata.get("retry-after")).toBeNull();
    expect(await stack.instanceRow(idle!)).toMatchObject({ state: "idle", owner_id: null });
    expect(await stack.rows(`select 1 from provisioned_tools`)).toEqual([]);
    expect(await stack.rows(`select 1 from sms_numbers where instance_id is not null`)).toEqual([]);
    expect(await today()).toEqual({ funds: 0n, tools: 0 });
  });

  it("a wallet is free: claimed, and empty (its owner deposits)", async () => {
    const t = await template({ tools: [tool("crypto", "pool")] });
    await stack.seedIdle(1);
    const faucet = privateKeyToAccount(chain.faucetKey).address;
    const before = await balanceOf(faucet);
    const { instanceId } = await claim(newIdentity(), t.id);
    const { crypto } = await toolsOf(instanceId);
    expect(crypto).toMatch(/^0x[0-9a-fA-F]{40}$/);
    expect(await balanceOf(crypto!)).toBe(0n);
    expect(await balanceOf(faucet)).toBe(before);
    expect(await today()).toEqual({ funds: 0n, tools: 0 });
  });
});

describe("an operator's grant", () => {
  it("is signed by an operator and kept in the curation log; a non-operator's, a forged one and a replayed one are refused", async () => {
    const t = await template({ tools: [tool("sms", "pool")] });
    const stranger = newIdentity();
    // Not an operator, though the signature is their own.
    await expectCode(
      curation.setToolGrant(await grant({ templateId: t.id, tools: ["sms"] }, stranger, stranger.inboxId)),
      Code.PermissionDenied,
    );
    // An operator's id, signed by someone else.
    await expectCode(
      curation.setToolGrant(await grant({ templateId: t.id, tools: ["sms"] }, stranger)),
      Code.PermissionDenied,
    );
    // Bad fields, named.
    const both = await expectCode(
      curation.setToolGrant({ ...(await grant({ templateId: t.id, tools: ["sms"] })), creatorId: creator.inboxId }),
      Code.InvalidArgument,
    );
    expect(both.rawMessage).toContain("template_id");
    const wallet = await expectCode(
      curation.setToolGrant(await grant({ templateId: t.id, tools: ["crypto"] })),
      Code.InvalidArgument,
    );
    expect(wallet.rawMessage).toContain("tools[0]");
    expect((await curation.listToolGrants({}, as(operator))).grants.filter((g) => g.templateId === t.id)).toEqual([]);

    const req = await grant({ templateId: t.id, tools: ["sms"], fundWei: FUND, maxLiveTools: 3 });
    const { grant: set } = await curation.setToolGrant(req);
    expect(set).toMatchObject({
      templateId: t.id,
      tools: ["sms"],
      fundWei: FUND.toString(),
      maxLiveTools: 3,
      operatorId: operator.inboxId,
    });
    await expectCode(curation.setToolGrant(req), Code.Unauthenticated); // its nonce is spent
    const { entries } = await curation.listCurationLog({ templateId: t.id }, as(operator));
    expect(entries[0]).toMatchObject({ action: "SetToolGrant", actorId: operator.inboxId, templateId: t.id });
    expect(JSON.parse(entries[0]!.fieldsJson)).toEqual({
      creatorId: "",
      tools: "sms",
      fundWei: FUND.toString(),
      maxLiveTools: 3,
    });
    expect(entries[0]!.signature?.signature).toBe(req.signature.signature);
    // Only operators list grants.
    await expectCode(curation.listToolGrants({}, as(creator)), Code.PermissionDenied);
  });

  it("lets a template have a number, a mailbox and a funded wallet, counted in the day's budget", async () => {
    const t = await template({ tools: [tool("sms", "pool"), tool("email", "pool"), tool("crypto", "pool")] });
    await curation.setToolGrant(await grant({ templateId: t.id, tools: ["sms", "email"], fundWei: FUND }));
    await stack.seedIdle(1);
    const { instanceId } = await claim(newIdentity(), t.id);
    const tools = await toolsOf(instanceId);
    expect(Object.keys(tools).sort()).toEqual(["crypto", "email", "sms"]);
    expect(await balanceOf(tools.crypto!)).toBe(FUND);
    expect(await today()).toEqual({ funds: FUND, tools: 3 });
  });

  it("to a creator covers all their templates, within its quota of live tools; removing an agent frees a place", async () => {
    const maker = newIdentity();
    const [a, b] = [
      await template({ tools: [tool("sms", "pool")] }, maker),
      await template({ tools: [tool("sms", "pool")] }, maker),
    ];
    await curation.setToolGrant(await grant({ creatorId: maker.inboxId, tools: ["sms"], maxLiveTools: 2 }));
    await stack.seedIdle(4);
    const owner = newIdentity();
    const first = await claim(owner, a.id);
    await claim(newIdentity(), b.id);
    const err = await expectCode(claim(newIdentity(), a.id), Code.ResourceExhausted);
    expect(limitExceededOf(err)?.limit).toBe("pool tools per creator");
    expect(err.rawMessage).toContain(`hold 2 of the 2`);
    // Someone else's template is not under it.
    const other = await template({ tools: [tool("sms", "pool")] }, newIdentity());
    expect(preconditionFailureOf(await expectCode(claim(newIdentity(), other.id), Code.FailedPrecondition))?.type).toBe(
      "pool tool grant",
    );
    const ownerSignature = await signOperation(owner.account, "RemoveAgent", {
      inboxId: owner.inboxId,
      instanceId: first.instanceId,
    });
    await client.removeAgent({ instanceId: first.instanceId, ownerSignature }, as(owner));
    await claim(newIdentity(), b.id);
    // A template's own grant wins over its creator's.
    await curation.setToolGrant(await grant({ templateId: a.id, tools: ["sms"] }));
    await stack.seedIdle(1);
    await claim(newIdentity(), a.id);
  });
});

describe("an update", () => {
  it("cannot make the pool pay: a new version adding a number fails for agents claimed without one, and provisions nothing", {
    timeout: 30_000,
  }, async () => {
    const maker = newIdentity();
    const content = sampleContent({ tools: [tool("crypto", "pool")] });
    const t = await signedTemplate(stack.templatesClient, maker, content, "public");
    await stack.seedIdle(1);
    const { instanceId } = await claim(newIdentity(), t.id);
    const pushed = await stack.syncClient.pushTemplateVersion({
      template: await signUpdateRelease(maker.account, {
        templateId: t.id,
        creatorId: maker.inboxId,
        creationNonce: creationNonceOf(t.id),
        version: t.contentVersion + 1n,
        content: { ...content, tools: [tool("crypto", "pool"), tool("sms", "pool")] },
      }),
    });
    expect(pushed).toBeDefined();
    await waitFor(
      "the sync error",
      async () =>
        ((await stack.instanceRow(instanceId)) as { sync_error: string | null }).sync_error?.includes("sms") === true,
      20_000,
      50,
    );
    expect(((await stack.instanceRow(instanceId)) as { sync_error: string }).sync_error).toContain(
      `the new version needs tool "sms", which the pool provides only at a claim, under its operators' grant`,
    );
    expect(Object.keys(await toolsOf(instanceId))).toEqual(["crypto"]);
  });
});

describe("the day's budget", () => {
  it("50 fresh inboxes claiming a funded template at once, through two replicas, get at most the day's funds; the rest are told why", {
    timeout: 120_000,
  }, async () => {
    const t = await template({ tools: [tool("sms", "pool"), tool("email", "pool"), tool("crypto", "pool")] });
    await curation.setToolGrant(await grant({ templateId: t.id, tools: ["sms", "email"], fundWei: FUND }));
    await stack.seedIdle(50);
    const faucet = privateKeyToAccount(chain.faucetKey).address;
    const faucetBefore = await balanceOf(faucet);
    const replicaBefore = await balanceOf(privateKeyToAccount(chain.ownerKey).address);
    const results = await Promise.allSettled(
      Array.from({ length: 50 }, (_, i) => claim(newIdentity(), t.id, i % 2 === 0 ? client : replicaClient)),
    );
    const ok = results.filter((r) => r.status === "fulfilled").map((r) => r.value.instanceId);
    const refused = results.filter((r) => r.status === "rejected").map((r) => r.reason as Error);
    expect(ok.length).toBe(5);
    for (const e of refused) expect(limitExceededOf(e)?.limit).toBe("pool funds per day");
    expect(refused[0]!.message).toMatch(/wallet funding for today is spent .* renews at midnight UTC/);
    let funded = 0n;
    for (const id of ok) funded += await balanceOf((await toolsOf(id)).crypto!);
    expect(funded).toBe(5n * FUND);
    expect(await today()).toEqual({ funds: 5n * FUND, tools: 15 });
    // The faucets paid the budget and the transfers' fees, no more.
    const replicaFaucet = privateKeyToAccount(chain.ownerKey).address;
    const paid = faucetBefore - (await balanceOf(faucet)) + (replicaBefore - (await balanceOf(replicaFaucet)));
    expect(paid).toBeLessThan(5n * FUND + parseEther("0.001"));
    // Only the claimed ones hold tools; the refused left their instances idle.
    expect((await stack.rows(`select 1 from provisioned_tools where instance_id = any($1)`, [ok])).length).toBe(15);
    expect((await stack.rows(`select 1 from instances where state = 'idle'`)).length).toBe(45);
  });

  it("counts numbers and mailboxes too: one after the other, claims stop at the day's tools", {
    timeout: 60_000,
  }, async () => {
    const t = await template({ tools: [tool("sms", "pool"), tool("email", "pool")] });
    await curation.setToolGrant(await grant({ templateId: t.id, tools: ["sms", "email"] }));
    await stack.seedIdle(10);
    const outcomes: string[] = [];
    for (let i = 0; i < 10; i++) {
      outcomes.push(
        await claim(newIdentity(), t.id).then(
          () => "ok",
          (e: unknown) => limitExceededOf(e)?.limit ?? String(e),
        ),
      );
    }
    expect(outcomes).toEqual([...Array(8).fill("ok"), "pool tools per day", "pool tools per day"]);
    expect(await today()).toEqual({ funds: 0n, tools: 16 });
  });
});

import { randomBytes } from "node:crypto";
import { Code, type Client } from "@connectrpc/connect";
import { createPublicClient, createWalletClient, defineChain, http, parseEther, type Hex } from "viem";
import { privateKeyToAccount, type PrivateKeyAccount } from "viem/accounts";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { ClaimService } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import { StoreCurationService } from "@convos-pool/gen/convos/pool/v1/store_curation_service_pb.js";
import { createServiceClient } from "@convos-pool/kit/server";
import { signClaim, signOperation, signUpdateRelease } from "@convos-pool/kit/signing";
import type { TemplateContentJson } from "@convos-pool/kit/content";
import { LOCAL_CHAIN_ID, startLocalChain, type RunningChain } from "@convos-pool/local-providers";
import {
  creationNonceOf,
  newIdentity,
  sampleContent,
  signedTemplate,
  tool,
  type TestIdentity,
} from "@convos-pool/kit/testing";
import { waitFor } from "@convos-pool/testing";
import { as, expectCode } from "../test/helpers.js";
import { StandInStack } from "../test/stand-in-stack.js";

// Whose money an agent's wallet holds (docs/tools.md), on the real claims and
// templates services (real PostgreSQL), the stand-in instance host and the
// real local chain (anvil): every balance is read from the chain. An owner
// deposits from their own funded account; removal, a version without the
// wallet and WithdrawFunds pay the owner's share to the owner and only what
// is left of the pool's grant to the faucet.

/** What the faucet grants each new wallet of the template (an operator's grant). */
const GRANT = parseEther("0.01");
const DEPOSIT = parseEther("0.5");
/** A plain transfer's fee on the local chain is far below this. */
const FEE_BOUND = parseEther("0.0001");

const operator = newIdentity();
const creator = newIdentity();
let chain: RunningChain;
let stack: StandInStack;
let client: Client<typeof ClaimService>;
let closeCuration = () => {};
let curation: Client<typeof StoreCurationService>;

const read = () => createPublicClient({ transport: http(chain.rpcUrl) });
const balanceOf = (address: string) => read().getBalance({ address: address as Hex });
const faucet = () => privateKeyToAccount(chain.faucetKey).address;

/** Sends `wei` from an account (or a key's) and waits for it to land. */
async function pay(from: PrivateKeyAccount | Hex, to: string, wei: bigint): Promise<void> {
  const c = defineChain({
    id: LOCAL_CHAIN_ID,
    name: "local",
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [chain.rpcUrl] } },
  });
  const account = typeof from === "string" ? privateKeyToAccount(from) : from;
  const w = createWalletClient({ account, chain: c, transport: http(chain.rpcUrl) });
  const hash = await w.sendTransaction({ to: to as Hex, value: wei });
  expect((await read().waitForTransactionReceipt({ hash })).status).toBe("success");
}

/** A person whose wallet (their identity's key) holds 1 ETH of their own, from anvil's funded account. */
async function fundedPerson(): Promise<TestIdentity> {
  const person = newIdentity();
  await pay(chain.ownerKey, person.account.address, parseEther("1"));
  return person;
}

const template = (over: Partial<TemplateContentJson>) =>
  signedTemplate(stack.templatesClient, creator, sampleContent(over), "public");

/** A walleted template whose new wallets the faucet funds with GRANT. */
async function walletTemplate() {
  const t = await template({ tools: [tool("crypto", "pool")] });
  const fields = { templateId: t.id, creatorId: "", tools: "", fundWei: GRANT, maxLiveTools: 0 };
  const signature = await signOperation(operator.account, "SetToolGrant", { inboxId: operator.inboxId, ...fields });
  await curation.setToolGrant({
    operatorId: operator.inboxId,
    templateId: t.id,
    creatorId: "",
    tools: [],
    fundWei: GRANT.toString(),
    maxLiveTools: 0,
    signature,
  });
  return t;
}

/** A claim signed by the owner (ClaimAgent), as the web app and the CLI make it: its signer is the payout address. */
async function signedClaim(owner: TestIdentity, templateId: string): Promise<string> {
  const req = {
    requester: owner.inboxId,
    templateId,
    conversationInvite: `https://dev.convos.org/v2?i=invite-${randomBytes(6).toString("hex")}`,
    model: "",
    userConfig: {},
  };
  return (await client.claim({ ...req, signature: await signClaim(owner.account, req) })).instanceId;
}

/** A claim made with a session alone: no wallet signed it, so no payout address is known. */
async function sessionClaim(owner: TestIdentity, templateId: string): Promise<string> {
  const invite = `https://dev.convos.org/v2?i=invite-${randomBytes(6).toString("hex")}`;
  return (await client.claim({ requester: owner.inboxId, templateId, conversationInvite: invite }, as(owner)))
    .instanceId;
}

/** The template's creator publishes a version without the wallet. */
async function dropWallet(t: { id: string; contentVersion: bigint }): Promise<void> {
  await stack.syncClient.pushTemplateVersion({
    template: await signUpdateRelease(creator.account, {
      templateId: t.id,
      creatorId: creator.inboxId,
      creationNonce: creationNonceOf(t.id),
      version: t.contentVersion + 1n,
      content: { ...sampleContent({ tools: [tool("crypto", "pool")] }), tools: [] },
    }),
  });
}

const walletOf = async (instanceId: string) =>
  (
    await stack.rows<{ handle: string; state: string; granted_wei: string }>(
      `select handle, state, granted_wei::text from provisioned_tools where instance_id = $1 and tool_id = 'crypto'`,
      [instanceId],
    )
  )[0];

const withdrawal = async (owner: TestIdentity, instanceId: string, signer: TestIdentity = owner) =>
  signOperation(signer.account, "WithdrawFunds", { inboxId: owner.inboxId, instanceId });
const removal = async (owner: TestIdentity, instanceId: string) =>
  signOperation(owner.account, "RemoveAgent", { inboxId: owner.inboxId, instanceId });

beforeAll(async () => {
  chain = await startLocalChain();
  stack = new StandInStack({
    name: "funds",
    smsRange: "+15550910000..+15550910049",
    operators: [operator.inboxId],
    chain: { rpcUrl: chain.rpcUrl, faucetKey: chain.faucetKey },
    // A grant applies from the next template read.
    templateCacheMs: 0,
  });
  await stack.start();
  client = stack.claimsClient;
  const sc = createServiceClient(StoreCurationService, stack.templates.url, stack.creds.gateway);
  curation = sc.client;
  closeCuration = () => sc.close();
}, 60_000);

afterAll(async () => {
  closeCuration();
  await stack?.close();
  await chain?.close();
});

beforeEach(async () => {
  await stack.seedIdle(1);
});

describe("release", () => {
  it("RemoveAgent: the owner's deposit goes back to the owner less the fee, the faucet gets back at most its grant", {
    timeout: 60_000,
  }, async () => {
    const owner = await fundedPerson();
    const id = await signedClaim(owner, (await walletTemplate()).id);
    const wallet = (await walletOf(id))!;
    expect(wallet.granted_wei).toBe(GRANT.toString());
    expect(await balanceOf(wallet.handle)).toBe(GRANT);
    await pay(owner.account, wallet.handle, DEPOSIT);
    const ownerBefore = await balanceOf(owner.account.address);
    const faucetBefore = await balanceOf(faucet());

    await client.removeAgent({ instanceId: id, ownerSignature: await removal(owner, id) }, as(owner));

    const ownerGain = (await balanceOf(owner.account.address)) - ownerBefore;
    const faucetGain = (await balanceOf(faucet())) - faucetBefore;
    expect(ownerGain).toBeLessThan(DEPOSIT);
    expect(ownerGain).toBeGreaterThan(DEPOSIT - FEE_BOUND);
    expect(faucetGain).toBeLessThanOrEqual(GRANT);
    expect(faucetGain).toBeGreaterThan(GRANT - FEE_BOUND);
    expect(await balanceOf(wallet.handle)).toBe(0n);
    expect(await walletOf(id)).toBeUndefined();
  });

  it("a version that stops declaring the wallet: the owner's deposit goes to the owner, what is left of the grant to the faucet", {
    timeout: 60_000,
  }, async () => {
    const owner = await fundedPerson();
    const t = await walletTemplate();
    const id = await signedClaim(owner, t.id);
    const wallet = (await walletOf(id))!;
    await pay(owner.account, wallet.handle, DEPOSIT);
    const ownerBefore = await balanceOf(owner.account.address);
    const faucetBefore = await balanceOf(faucet());

    await dropWallet(t);
    await waitFor("the wallet released", async () => (await walletOf(id)) === undefined, 20_000, 50);

    const ownerGain = (await balanceOf(owner.account.address)) - ownerBefore;
    const faucetGain = (await balanceOf(faucet())) - faucetBefore;
    expect(ownerGain).toBeLessThan(DEPOSIT);
    expect(ownerGain).toBeGreaterThan(DEPOSIT - FEE_BOUND);
    expect(faucetGain).toBeLessThanOrEqual(GRANT);
    expect(faucetGain).toBeGreaterThan(GRANT - FEE_BOUND);
    expect(await balanceOf(wallet.handle)).toBe(0n);
  });

  it("an agent claimed with a session (no signer known): a version without the wallet holds it for its owner, who withdraws it later", {
    timeout: 60_000,
  }, async () => {
    const owner = await fundedPerson();
    const t = await walletTemplate();
    const id = await sessionClaim(owner, t.id);
    const wallet = (await walletOf(id))!;
    await pay(owner.account, wallet.handle, DEPOSIT);
    const faucetBefore = await balanceOf(faucet());

    await dropWallet(t);
    // Nothing moved: the owner's money is not the faucet's, and nowhere else is known to be the owner's.
    await waitFor("the wallet held", async () => (await walletOf(id))?.state === "held", 20_000, 50);
    expect(await balanceOf(wallet.handle)).toBe(GRANT + DEPOSIT);
    expect(await balanceOf(faucet())).toBe(faucetBefore);
    // The sweep leaves a held wallet alone.
    await stack.claims.flow.sweep();
    expect(await balanceOf(wallet.handle)).toBe(GRANT + DEPOSIT);
    expect((await walletOf(id))?.state).toBe("held");

    const ownerBefore = await balanceOf(owner.account.address);
    const res = await client.withdrawFunds({ instanceId: id, ownerSignature: await withdrawal(owner, id) });
    expect(res.toAddress).toBe(owner.account.address);
    const ownerGain = (await balanceOf(owner.account.address)) - ownerBefore;
    expect(ownerGain).toBe(BigInt(res.amountWei));
    expect(ownerGain).toBeGreaterThan(DEPOSIT - FEE_BOUND);
    // Its release finished: the rest of the grant to the faucet, the wallet empty and forgotten.
    expect((await balanceOf(faucet())) - faucetBefore).toBeGreaterThan(GRANT - FEE_BOUND);
    expect(await balanceOf(wallet.handle)).toBe(0n);
    expect(await walletOf(id)).toBeUndefined();
  });

  it("an agent claimed with a session: its removal, signed as every removal is, pays the wallet that signed it", {
    timeout: 60_000,
  }, async () => {
    const owner = await fundedPerson();
    const id = await sessionClaim(owner, (await walletTemplate()).id);
    const wallet = (await walletOf(id))!;
    await pay(owner.account, wallet.handle, DEPOSIT);
    const ownerBefore = await balanceOf(owner.account.address);

    await client.removeAgent({ instanceId: id, ownerSignature: await removal(owner, id) }, as(owner));

    expect((await balanceOf(owner.account.address)) - ownerBefore).toBeGreaterThan(DEPOSIT - FEE_BOUND);
    expect(await balanceOf(wallet.handle)).toBe(0n);
    expect(await walletOf(id)).toBeUndefined();
  });
});

describe("WithdrawFunds", () => {
  it("sends the owner the share above the grant, to the wallet that signed; the grant stays in the wallet", {
    timeout: 60_000,
  }, async () => {
    const owner = await fundedPerson();
    const id = await signedClaim(owner, (await walletTemplate()).id);
    const wallet = (await walletOf(id))!;
    await pay(owner.account, wallet.handle, DEPOSIT);
    const before = await balanceOf(owner.account.address);

    // With a session too, the signature decides where the money goes.
    const res = await client.withdrawFunds({ instanceId: id, ownerSignature: await withdrawal(owner, id) }, as(owner));
    expect(res.toAddress).toBe(owner.account.address);
    expect(res.transactionHash).toMatch(/^0x[0-9a-f]{64}$/);
    const gain = (await balanceOf(owner.account.address)) - before;
    expect(gain).toBe(BigInt(res.amountWei));
    expect(gain).toBeGreaterThan(DEPOSIT - FEE_BOUND);
    expect(await balanceOf(wallet.handle)).toBe(GRANT);
    // Nothing above the grant now: refused, and nothing moves.
    const none = await expectCode(
      client.withdrawFunds({ instanceId: id, ownerSignature: await withdrawal(owner, id) }),
      Code.FailedPrecondition,
    );
    expect(none.rawMessage).toMatch(/nothing to withdraw/);
    expect(await balanceOf(wallet.handle)).toBe(GRANT);
  });

  it("refuses a member or a stranger, a session without a signature and a replayed signature; an agent without a wallet", {
    timeout: 60_000,
  }, async () => {
    const owner = await fundedPerson();
    const id = await signedClaim(owner, (await walletTemplate()).id);
    const wallet = (await walletOf(id))!;
    await pay(owner.account, wallet.handle, DEPOSIT);
    const stranger = newIdentity();

    // Someone else signs, naming the owner's inbox or their own: not a wallet of the owner's inbox.
    await expectCode(
      client.withdrawFunds({ instanceId: id, ownerSignature: await withdrawal(owner, id, stranger) }),
      Code.PermissionDenied,
    );
    await expectCode(
      client.withdrawFunds({ instanceId: id, ownerSignature: await withdrawal(stranger, id) }),
      Code.PermissionDenied,
    );
    // Signed in as someone else, with their own signature.
    await expectCode(
      client.withdrawFunds({ instanceId: id, ownerSignature: await withdrawal(stranger, id) }, as(stranger)),
      Code.PermissionDenied,
    );
    // The owner's session alone: a stolen session moves nothing.
    await expectCode(client.withdrawFunds({ instanceId: id }, as(owner)), Code.Unauthenticated);
    expect(await balanceOf(wallet.handle)).toBe(GRANT + DEPOSIT);

    const signature = await withdrawal(owner, id);
    await client.withdrawFunds({ instanceId: id, ownerSignature: signature });
    await pay(owner.account, wallet.handle, DEPOSIT);
    const replay = await expectCode(
      client.withdrawFunds({ instanceId: id, ownerSignature: signature }),
      Code.Unauthenticated,
    );
    expect(replay.rawMessage).toMatch(/owner_signature\.nonce: already used/);
    expect(await balanceOf(wallet.handle)).toBe(GRANT + DEPOSIT);

    // An agent without a wallet.
    await stack.seedIdle(1);
    const plain = await signedClaim(owner, (await template({ tools: [] })).id);
    const err = await expectCode(
      client.withdrawFunds({ instanceId: plain, ownerSignature: await withdrawal(owner, plain) }),
      Code.FailedPrecondition,
    );
    expect(err.rawMessage).toMatch(/has no wallet/);
  });

  it("after a transfer the wallet pays its new owner: the wallet that signed the acceptance", {
    timeout: 60_000,
  }, async () => {
    const owner = await fundedPerson();
    const heir = newIdentity();
    const id = await signedClaim(owner, (await walletTemplate()).id);
    const wallet = (await walletOf(id))!;
    await client.transferAgent(
      {
        instanceId: id,
        newOwnerId: heir.inboxId,
        ownerSignature: await signOperation(owner.account, "TransferAgent", {
          inboxId: owner.inboxId,
          instanceId: id,
          newOwnerId: heir.inboxId,
        }),
      },
      as(owner),
    );
    await client.acceptAgent({
      instanceId: id,
      signature: await signOperation(heir.account, "AcceptAgent", {
        inboxId: heir.inboxId,
        instanceId: id,
        fromOwnerId: owner.inboxId,
      }),
    });
    await pay(owner.account, wallet.handle, DEPOSIT);
    await client.removeAgent({ instanceId: id, ownerSignature: await removal(heir, id) }, as(heir));
    expect(await balanceOf(heir.account.address)).toBeGreaterThan(DEPOSIT - FEE_BOUND);
    expect(await balanceOf(wallet.handle)).toBe(0n);
  });
});

describe("GetAgentFunds", () => {
  it("shows its owner, signed in, the balance, whose share is whose and what it spent today against its limit", {
    timeout: 60_000,
  }, async () => {
    const owner = await fundedPerson();
    const id = await signedClaim(owner, (await walletTemplate()).id);
    const wallet = (await walletOf(id))!;
    await pay(owner.account, wallet.handle, DEPOSIT);
    stack.host.chainRpcUrl = chain.rpcUrl;
    stack.host.spentToday.set(id, parseEther("0.003"));

    const funds = await client.getAgentFunds({ instanceId: id }, as(owner));
    expect(funds).toMatchObject({
      walletAddress: wallet.handle,
      balanceWei: (GRANT + DEPOSIT).toString(),
      ownerShareWei: DEPOSIT.toString(),
      poolShareWei: GRANT.toString(),
      spentTodayWei: parseEther("0.003").toString(),
      // Below L4 the agent pays nothing on its own: no limit to show.
      dailySpendLimitWei: "",
    });
    // What the page shows is what a withdrawal takes, before its fee.
    const res = await client.withdrawFunds({ instanceId: id, ownerSignature: await withdrawal(owner, id) }, as(owner));
    expect(BigInt(res.amountWei)).toBeGreaterThan(BigInt(funds.ownerShareWei) - FEE_BOUND);
    expect(await client.getAgentFunds({ instanceId: id }, as(owner))).toMatchObject({
      balanceWei: GRANT.toString(),
      ownerShareWei: "0",
      poolShareWei: GRANT.toString(),
    });
  });

  it("tells anyone but its owner nothing: another person signed in, nobody signed in, an unknown agent; names a missing id; an agent without a wallet", {
    timeout: 60_000,
  }, async () => {
    const owner = await fundedPerson();
    const id = await signedClaim(owner, (await walletTemplate()).id);
    await pay(owner.account, (await walletOf(id))!.handle, DEPOSIT);
    stack.host.chainRpcUrl = chain.rpcUrl;
    const before = stack.host.calls.length;

    // A member of its conversation, or anyone else, signed in: as if it did not exist, and the agent is not asked.
    const member = newIdentity();
    const other = await expectCode(client.getAgentFunds({ instanceId: id }, as(member)), Code.NotFound);
    expect(other.rawMessage).not.toMatch(/wei|balance|0x/i);
    await expectCode(client.getAgentFunds({ instanceId: id }), Code.Unauthenticated);
    await expectCode(client.getAgentFunds({ instanceId: "inst_nosuchagent" }, as(owner)), Code.NotFound);
    const missing = await expectCode(client.getAgentFunds({ instanceId: "" }, as(owner)), Code.InvalidArgument);
    expect(missing.rawMessage).toMatch(/instance_id/);
    expect(stack.host.calls.slice(before).filter((c) => c.step === "funds")).toEqual([]);

    await stack.seedIdle(1);
    const plain = await signedClaim(owner, (await template({ tools: [] })).id);
    const none = await expectCode(client.getAgentFunds({ instanceId: plain }, as(owner)), Code.FailedPrecondition);
    expect(none.rawMessage).toMatch(/holds no wallet/);
  });
});

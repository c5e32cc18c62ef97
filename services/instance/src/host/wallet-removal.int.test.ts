// A template version that takes an agent's wallet away (docs/tools.md,
// "When a version drops the wallet"): the agent tells its owner in their
// conversation, with what its wallet holds, before its UpdateTemplate
// answers (the claims service gives the wallet back only after that), and
// says nothing when the wallet holds nothing; a chain it cannot reach does
// not stop the version. Real: the local XMTP node (PostgreSQL) and the
// owner's @xmtp/node-sdk client (OneHost), the local chain (anvil) with the
// owner's own funded account, the instance host's gRPC calls as the claims
// service makes them, releases signed by the template's creator.
import { createPublicClient, createWalletClient, http, parseEther, type Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tool } from "@convos-pool/kit/testing";
import { startLocalChain, type RunningChain } from "@convos-pool/local-providers";
import { waitFor } from "@convos-pool/testing";
import { OneHost } from "../../test/one-host.js";
import { instanceCall } from "./host.js";

let chain: RunningChain | undefined;
let one: OneHost;

beforeAll(async () => {
  chain = await startLocalChain();
  one = await new OneHost({
    name: "instance-wallet-removal",
    host: { tools: { chain: { rpcUrl: chain.rpcUrl } }, joinTimeoutMs: 20_000 },
    content: { tools: [tool("crypto", "pool")] },
  }).start();
}, 90_000);

afterAll(async () => {
  await one?.close();
  await chain?.close();
});

/** An agent with a wallet of its own, configured with release 2 (which declares it), in a conversation with its owner. */
async function agentWithWallet(id: string, walletIndex: number) {
  const key = generatePrivateKey();
  const address = privateKeyToAccount(key).address;
  const { inboxId } = await one.hostRpc.client.startInstance({ instanceId: id, walletIndex });
  await one.rpc.client.configure(
    {
      template: await one.release(2n),
      ownerId: one.creator!.inboxId,
      tools: [{ toolId: "crypto", handle: address, secrets: { private_key: key } }],
    },
    instanceCall(id),
  );
  const conv = await one.creator!.conversation(`${id}'s conversation`);
  await one.rpc.client.joinConversation(
    { conversationInvite: conv.invite },
    { ...instanceCall(id), timeoutMs: 30_000 },
  );
  const said = async () =>
    (await one.creator!.transcript(conv.groupId)).filter((m) => m.from === inboxId).map((m) => m.text);
  // It told its owner where its wallet is when it joined: what it says from here on is after that.
  await waitFor("its wallet told", async () => (await said()).some((t) => t.startsWith("My wallet is")), 30_000, 200);
  return { key, address, said };
}

/** The owner sends `eth` from their own funded account to `to`, and the chain has it. */
async function deposit(to: Hex, eth: string): Promise<void> {
  const transport = http(chain!.rpcUrl);
  const owner = createWalletClient({ account: privateKeyToAccount(chain!.ownerKey), transport });
  const hash = await owner.sendTransaction({ to, value: parseEther(eth), chain: null });
  await createPublicClient({ transport }).waitForTransactionReceipt({ hash });
}

const NOTICE =
  "To my owner: version 3 of Concierge no longer has a wallet. " +
  "The 0.5 ETH in my wallet goes back to your wallet; only what the pool granted returns to the pool. If the pool does not know your wallet, it waits for you to withdraw it.";

describe("a version that takes the agent's wallet away", () => {
  it("is told to its owner in their conversation, with what the wallet holds, before UpdateTemplate answers", {
    timeout: 120_000,
  }, async () => {
    const { address, said } = await agentWithWallet("funded", 0);
    await deposit(address, "0.5");
    const before = (await said()).length;
    const applied = await one.rpc.client.updateTemplate(
      { template: await one.release(3n, { tools: [] }), tools: [] },
      instanceCall("funded"),
    );
    expect(applied.appliedVersion).toBe(3n);
    // Read at once, no waiting: it was sent before the answer came.
    expect((await said()).slice(before)).toEqual([NOTICE]);
  });

  it("says nothing when the wallet holds nothing, nor when the wallet stays (batched as the claims service sends them)", {
    timeout: 120_000,
  }, async () => {
    const empty = await agentWithWallet("empty", 1);
    const keeps = await agentWithWallet("keeps", 2);
    await deposit(keeps.address, "0.5");
    const [emptyBefore, keepsBefore] = [(await empty.said()).length, (await keeps.said()).length];

    const emptied = await one.hostRpc.client.updateTemplates({
      template: await one.release(3n, { tools: [] }),
      instances: [{ instanceId: "empty", tools: [] }],
    });
    expect(emptied.outcomes.map((o) => o.outcome.case)).toEqual(["applied"]);
    const kept = await one.hostRpc.client.updateTemplates({
      template: await one.release(3n, { instructions: "Still with a wallet." }),
      instances: [
        {
          instanceId: "keeps",
          tools: [{ toolId: "crypto", handle: keeps.address, secrets: { private_key: keeps.key } }],
        },
      ],
    });
    expect(kept.outcomes.map((o) => o.outcome.case)).toEqual(["applied"]);
    expect((await empty.said()).slice(emptyBefore)).toEqual([]);
    expect((await keeps.said()).slice(keepsBefore)).toEqual([]);
  });

  it("is told without the amount when the chain cannot be reached, and the version is applied all the same", {
    timeout: 120_000,
  }, async () => {
    const { address, said } = await agentWithWallet("unreachable", 3);
    await deposit(address, "0.5");
    const before = (await said()).length;
    await chain!.close();
    chain = undefined;
    const applied = await one.rpc.client.updateTemplate(
      { template: await one.release(3n, { tools: [] }), tools: [] },
      instanceCall("unreachable"),
    );
    expect(applied.appliedVersion).toBe(3n);
    expect((await said()).slice(before)).toEqual([
      "To my owner: version 3 of Concierge no longer has a wallet. " +
        "Whatever my wallet holds (I could not read its balance just now) goes back to your wallet; " +
        "only what the pool granted returns to the pool. If the pool does not know your wallet, it waits for you to withdraw it.",
    ]);
  });
});

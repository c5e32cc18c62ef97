import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createPublicClient, createWalletClient, http, parseEther } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { afterAll, describe, expect, it } from "vitest";
import { LOCAL_CHAIN_ID, startLocalChain, type RunningChain } from "./chain.js";

const dirs: string[] = [];
const chains: RunningChain[] = [];
afterAll(async () => {
  for (const c of chains) await c.close();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const chainOf = (c: RunningChain) => ({
  id: c.chainId,
  name: "local",
  nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
  rpcUrls: { default: { http: [c.rpcUrl] } },
});

describe("the local chain (anvil)", () => {
  it("runs a real chain whose faucet pays, and keeps its state across a restart", { timeout: 60_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), "pool-chain-"));
    dirs.push(dir);
    const stateFile = join(dir, "chain", "state.json");
    const first = await startLocalChain({ stateFile });
    chains.push(first);
    expect(first.chainId).toBe(LOCAL_CHAIN_ID);
    const read = createPublicClient({ chain: chainOf(first), transport: http(first.rpcUrl) });
    const faucet = privateKeyToAccount(first.faucetKey);
    expect(await read.getBalance({ address: faucet.address })).toBeGreaterThan(parseEther("1000"));

    const someone = privateKeyToAccount(generatePrivateKey());
    const pay = createWalletClient({ account: faucet, chain: chainOf(first), transport: http(first.rpcUrl) });
    const hash = await pay.sendTransaction({ to: someone.address, value: parseEther("1.5") });
    expect((await read.waitForTransactionReceipt({ hash })).status).toBe("success");
    expect(await read.getBalance({ address: someone.address })).toBe(parseEther("1.5"));

    await first.close();
    await expect(read.getBalance({ address: someone.address })).rejects.toThrow();
    const second = await startLocalChain({ stateFile });
    chains.push(second);
    const again = createPublicClient({ chain: chainOf(second), transport: http(second.rpcUrl) });
    expect(await again.getBalance({ address: someone.address })).toBe(parseEther("1.5"));
  });

  it("refuses a port another chain holds, rather than speaking to that chain as its own", {
    timeout: 60_000,
  }, async () => {
    const first = await startLocalChain();
    chains.push(first);
    const port = Number(new URL(first.rpcUrl).port);
    await expect(startLocalChain({ port })).rejects.toThrow(new RegExp(`port ${port} is taken`));
  });
});

// A scheduled payment carried out on a real chain: anvil (the local chain),
// the agent's wallet with a key (a host alone; the payment signer's side is
// host/payment-signer.test.ts and claims' signer tests), the real gate with
// its activity log and money ledger, the real firing (firing-run.ts) and
// schedules.json on a real workspace. Stand-ins: the conversation's group,
// which records what is posted, and the crash: the host dies after the
// payment was sent and before the firing was kept done, which the test plays
// by throwing once the gate has answered, then starting the agent's
// schedules again from disk. What must hold: the retry pays nothing again,
// finding the transaction by what was kept before it was sent, and that
// transaction's data names the firing.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createPublicClient, createWalletClient, hexToString, http, parseEther } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TrustLevel } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import { resolvePermissions } from "@convos-pool/kit/content";
import { createLogger } from "@convos-pool/kit/server";
import { type RunningChain, startLocalChain } from "@convos-pool/local-providers";
import { Workspace } from "../../platform/workspace.js";
import type { AgentGroup } from "../../platform/xmtp.js";
import { AgentTools } from "../functions/agent-tools.js";
import { ActivityLog } from "../gate/activity.js";
import { AskLog } from "../gate/asks.js";
import { ToolGate } from "../gate/gate.js";
import { MoneyLedger } from "../gate/ledger.js";
import type { Firing } from "./firing.js";
import { type FiringParts, runFiring } from "./firing-run.js";
import { Scheduling } from "./scheduling.js";

const log = createLogger("firing-pay-test", { level: "error" });
const OWNER = "a".repeat(64);
const ITEM = "sch_0123456789abcdef01234567";
const FIRING: Firing = {
  firingId: `${ITEM}@2027-01-01T08:00:00Z`,
  item: { id: ITEM, kind: "act", text: "pay Ana 0.01 ETH", conversationId: "g1", askedBy: OWNER },
};
const ana = privateKeyToAccount(generatePrivateKey()).address;
const walletKey = generatePrivateKey();

let chain: RunningChain;
let dir: string;
const read = () => createPublicClient({ transport: http(chain.rpcUrl) });

beforeAll(async () => {
  chain = await startLocalChain();
  dir = await mkdtemp(join(tmpdir(), "firing-pay-"));
  const faucet = createWalletClient({ account: privateKeyToAccount(chain.faucetKey), transport: http(chain.rpcUrl) });
  const hash = await faucet.sendTransaction({
    to: privateKeyToAccount(walletKey).address,
    value: parseEther("1"),
    chain: null,
  });
  await read().waitForTransactionReceipt({ hash });
}, 60_000);

afterAll(async () => {
  await chain?.close();
  await rm(dir, { recursive: true, force: true });
});

/** The agent's schedules, opened from its workspace as a host starting it does, over the real gate and wallet. */
/** Where the host dies, if it does: before the call, once the transaction is signed and kept but not sent, after the call. */
type Crash = "before-call" | "before-send" | "after-call" | "none";
const died = () => new Error("the host died");

async function agent(ws: Workspace, crash: Crash) {
  const tools = new AgentTools(
    { chain: { rpcUrl: chain.rpcUrl } },
    [{ toolId: "crypto", handle: privateKeyToAccount(walletKey).address }],
    { crypto: { private_key: walletKey } },
    {},
    log,
  );
  const gate = new ToolGate({
    tools: () => tools,
    trust: () => ({
      level: TrustLevel.AUTONOMOUS,
      dailySpendLimitWei: parseEther("0.5").toString(),
      setAt: new Date().toISOString(),
      byOwner: true,
    }),
    permissions: () => resolvePermissions(undefined),
    activity: () => activity,
    ledger: () => ledger,
    asks: () => asks,
    ask: async () => "no",
    log,
  });
  const activity = await ActivityLog.open(ws);
  const ledger = await MoneyLedger.open(ws);
  const asks = await AskLog.open(ws);
  const posted: string[] = [];
  const calls: string[] = [];
  const group = {
    id: "g1",
    async send(content: { content: Uint8Array }) {
      posted.push(new TextDecoder().decode(content.content));
      return `m${posted.length}`;
    },
  } as unknown as AgentGroup;
  const parts: FiringParts = {
    id: "inst-1",
    scheduling: new Scheduling("inst-1", undefined, ws, { now: () => Date.now() }),
    settings: { config: { ownerId: OWNER } },
    conversations: { get: (id) => (id === "g1" ? { group, names: { [OWNER]: "Olga" } } : undefined) },
    within: (_id, job) => job(),
    toolbox: {
      call: async (name, args, who) => {
        calls.push(name);
        if (crash === "before-call") throw died();
        const signed = who.firing?.signed;
        const firing = who.firing && {
          ...who.firing,
          signed: async (tx: { hash: string; nonce: number }) => {
            await signed?.(tx);
            if (crash === "before-send") throw died();
          },
        };
        const done = await gate.call(name, args, firing ? { ...who, firing } : who);
        if (crash !== "none") throw died();
        return done;
      },
      paymentSent: (hash) => tools.paymentSent(hash),
    },
    log,
    routine: async () => undefined,
  };
  return { parts, posted, calls };
}

/** A fresh agent's workspace with Ana's payment kept for the item, and Ana's balance now. */
async function kept(name: string): Promise<{ ws: Workspace; before: bigint }> {
  const ws = new Workspace(join(dir, name), "inst-1");
  await ws.create();
  await (await new Scheduling("inst-1", undefined, ws, { now: Date.now }).store()).keepAct(ITEM, "g1", {
    act: "pay",
    toolId: "crypto",
    target: ana,
    amountWei: parseEther("0.01").toString(),
    name: "Ana",
  });
  return { ws, before: await read().getBalance({ address: ana }) };
}

describe("a scheduled payment on the chain", () => {
  it("pays once when its firing is tried again after a crash between the send and the firing kept done, and its data names the firing", async () => {
    const { ws, before } = await kept("after-call");
    const first = await agent(ws, "after-call");
    await expect(runFiring(first.parts, FIRING)).rejects.toThrow(/the host died/);
    expect(first.calls).toEqual(["send_payment"]);
    expect((await read().getBalance({ address: ana })) - before).toBe(parseEther("0.01"));

    // Started again from disk: the claims service delivers the same firing.
    const again = await agent(ws, "none");
    expect(await runFiring(again.parts, FIRING)).toBe(false);
    expect(again.calls).toEqual([]);
    expect((await read().getBalance({ address: ana })) - before).toBe(parseEther("0.01"));
    expect(again.posted).toEqual([
      expect.stringMatching(/^As you asked, on schedule: pay Ana \(0x[0-9a-fA-F]{40}\) 0\.01 ETH\./),
    ]);
    expect(await runFiring(again.parts, FIRING)).toBe(true);

    // The one transaction to Ana carries the firing's tag as its data.
    const latest = await read().getBlock({ blockTag: "latest", includeTransactions: true });
    const paid = latest.transactions.filter((t) => t.to?.toLowerCase() === ana.toLowerCase());
    expect(paid.map((t) => hexToString(t.input))).toEqual([`convos-pool firing ${FIRING.firingId}`]);
  }, 60_000);

  for (const crash of ["before-call", "before-send"] as const)
    it(`pays once when its firing is tried again after a crash ${crash === "before-call" ? "before the payment was asked for" : "once its transaction was signed and kept, before it was sent"}`, async () => {
      const { ws, before } = await kept(crash);
      await expect(runFiring((await agent(ws, crash)).parts, FIRING)).rejects.toThrow(/the host died/);
      expect(await read().getBalance({ address: ana })).toBe(before);
      const again = await agent(ws, "none");
      expect(await runFiring(again.parts, FIRING)).toBe(false);
      expect(again.calls).toEqual(["send_payment"]);
      expect((await read().getBalance({ address: ana })) - before).toBe(parseEther("0.01"));
      expect(await runFiring(again.parts, FIRING)).toBe(true);
      expect((await read().getBalance({ address: ana })) - before).toBe(parseEther("0.01"));
    }, 60_000);
});

// The host's sender of agents' sealed states (host/vault-sender.ts): real
// workspaces in a temporary directory, real keys and sealing; the claims
// service's AgentVaultService is a sink function that records what it is
// given (or fails, to show the retry).
import { create } from "@bufbuild/protobuf";
import {
  PutAgentStateOutcomeSchema,
  type SealedAgentState,
} from "@convos-pool/gen/convos/pool/v1/agent_vault_service_pb.js";
import { createLogger } from "@convos-pool/kit/server";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { MasterSeed } from "@convos-pool/kit/signing";
import { seedKeys, walletAt } from "../platform/keys.js";
import { openState, VAULT_FILE } from "../platform/vault.js";
import { FILES, Workspace } from "../platform/workspace.js";
import { VaultSender } from "./vault-sender.js";
import type { StateMark } from "@convos-pool/gen/convos/pool/v1/state_mark_service_pb.js";
import { LOCAL_POOL_ID, SignatureVerifier } from "@convos-pool/kit/signing";

const seed = MasterSeed.parse(`0x${"24".repeat(32)}`);
const log = createLogger("vault-sender-test", { level: "error" });
const dirs: string[] = [];
const senders: VaultSender[] = [];
afterEach(async () => {
  for (const s of senders.splice(0)) await s.close().catch(() => undefined);
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

/** A sender over a fresh data dir whose sink records each call, or fails while `failing` says so. */
async function setup(opts: { debounceMs?: number; refused?: string[] } = {}) {
  const dataDir = await mkdtemp(join(tmpdir(), "vault-sender-"));
  dirs.push(dataDir);
  const calls: SealedAgentState[][] = [];
  /** `held`: a call waits on it, after saying it began (`began`). */
  const sink: { failing: boolean; held?: Promise<void> | undefined; began?: () => void } = { failing: false };
  /** The marks sent (or the mark sink failing, while `marksDown`). */
  const marks: StateMark[] = [];
  const marksSink: { down: boolean; refuse: string[] } = { down: false, refuse: [] };
  const sender = new VaultSender({
    poolId: LOCAL_POOL_ID,
    mark: async (m) => {
      if (marksSink.down) throw new Error("the lineage service is down");
      // Refused, as the lineage service refuses an agent it does not know yet: not kept.
      const refused = m.filter((x) => marksSink.refuse.includes(x.instanceId)).map((x) => x.instanceId);
      marks.push(...m.filter((x) => !refused.includes(x.instanceId)));
      return refused;
    },
    keys: seedKeys(seed),
    dataDir,
    log,
    debounceMs: opts.debounceMs ?? 60_000,
    put: async (states) => {
      sink.began?.();
      await sink.held;
      if (sink.failing) throw new Error("the claims service is down");
      calls.push(states);
      return states.map((s) =>
        create(PutAgentStateOutcomeSchema, {
          instanceId: s.instanceId,
          stored: !opts.refused?.includes(s.instanceId),
        }),
      );
    },
  });
  senders.push(sender);
  /** A claimed agent's workspace, wired to the sender as the host wires it. */
  const agent = async (id: string, walletIndex: number, configured = true) => {
    const ws = new Workspace(dataDir, id, sender.listener(id));
    await ws.create();
    await ws.writeJson(FILES.instance, {
      instanceId: id,
      walletIndex,
      address: walletAt(seed, walletIndex).address,
      inboxId: `inbox-of-${id}`,
    });
    if (configured) await ws.writeJson(FILES.config, { templateId: "t" });
    return ws;
  };
  return { dataDir, calls, sink, sender, agent, marks, marksSink };
}

describe("the high-water marks of kept states", () => {
  /** Checks a mark as a restoring host does: signed by the wallet at `walletIndex`, for this agent and sequence. */
  const signedBy = (m: StateMark, walletIndex: number) =>
    new SignatureVerifier({
      resolver: {
        addressBelongsToInbox: async (a) => a.toLowerCase() === walletAt(seed, walletIndex).address.toLowerCase(),
      },
      poolId: LOCAL_POOL_ID,
    }).verify(
      "MarkAgentState",
      { inboxId: m.inboxId, instanceId: m.instanceId, sequence: m.sequence },
      m.agentSignature,
    );

  it("marks each state the vault kept at its sequence, signed by the agent's own wallet; a state not kept, not", async () => {
    const { calls, sender, agent, marks } = await setup({ refused: ["agent-b"] });
    const a = await agent("agent-a", 1);
    await agent("agent-b", 2);
    await sender.flush();
    await a.writeJson(FILES.memory, { entries: [{ text: "the boat is called Heron" }] });
    await sender.flush();
    expect(calls.flat().map((s) => s.instanceId)).toEqual(["agent-a", "agent-b", "agent-a"]);
    expect(marks.map((m) => [m.instanceId, m.inboxId, m.sequence])).toEqual([
      ["agent-a", "inbox-of-agent-a", 1n],
      ["agent-a", "inbox-of-agent-a", 2n],
    ]);
    await signedBy(marks[1]!, 1);
    // Not another agent's wallet: a mark is the agent's word alone.
    await expect(signedBy(marks[1]!, 2)).rejects.toThrow(/not signed by a wallet/);
  });

  it("a mark the lineage service refuses (an agent it does not know yet) is sent again with the next pass", async () => {
    const { calls, sender, agent, marks, marksSink } = await setup();
    await agent("agent-a", 1);
    marksSink.refuse = ["agent-a"];
    await sender.flush();
    expect(marks).toEqual([]);
    marksSink.refuse = [];
    // No write since: the refusal alone put the agent back.
    await sender.flush();
    expect(calls.map((c) => c.map((st) => st.sequence))).toEqual([[1n], [2n]]);
    expect(marks.map((m) => [m.instanceId, m.sequence])).toEqual([["agent-a", 2n]]);
  });

  it("a mark that cannot be sent is sent again with the agent's next pass, though the agent changed nothing", async () => {
    const { calls, sender, agent, marks, marksSink } = await setup();
    await agent("agent-a", 1);
    marksSink.down = true;
    await sender.flush();
    expect(calls).toHaveLength(1);
    expect(marks).toEqual([]);
    marksSink.down = false;
    // No write since: the failed mark alone put the agent back.
    await sender.flush();
    expect(calls.map((c) => c.map((st) => st.sequence))).toEqual([[1n], [2n]]);
    expect(marks.map((m) => [m.instanceId, m.sequence])).toEqual([["agent-a", 2n]]);
    // Marked: nothing more to send.
    await sender.flush();
    expect(calls).toHaveLength(2);
  });
});

describe("keeping agents' states off the host", () => {
  it("sends every changed agent in one call, sealed at its next sequence, and remembers the sequence", async () => {
    const { calls, sender, agent } = await setup();
    const a = await agent("agent-a", 1);
    await agent("agent-b", 2);
    await sender.flush();
    expect(calls).toHaveLength(1);
    expect(calls[0]!.map((s) => [s.instanceId, s.sequence])).toEqual([
      ["agent-a", 1n],
      ["agent-b", 1n],
    ]);

    await a.writeJson(FILES.memory, { entries: [{ text: "the boat is called Heron" }] });
    await sender.flush();
    expect(calls).toHaveLength(2);
    const [sent] = calls[1]!;
    expect(sent!.sequence).toBe(2n);
    const opened = openState(walletAt(seed, 1).vaultKey(), "agent-a", 2n, sent!.sealed);
    expect(opened.files[FILES.memory]).toContain("Heron");
    expect(await a.readJson(VAULT_FILE)).toEqual({ sequence: "2" });
  });

  it("sends nothing for an agent not configured, nor for writes outside its durable state", async () => {
    const { calls, sender, agent } = await setup();
    await agent("idle-one", 3, false);
    await sender.flush();
    expect(calls).toHaveLength(0);
    const a = await agent("agent-a", 1);
    await sender.flush();
    await a.writeJson("dormant.json", { since: "now" });
    await sender.flush();
    expect(calls).toHaveLength(1);
  });

  it("a failed call is tried again, with the newest state at a newer sequence: nothing lost", async () => {
    const { calls, sink, sender, agent } = await setup();
    const a = await agent("agent-a", 1);
    sink.failing = true;
    await sender.flush();
    expect(calls).toHaveLength(0);
    await a.writeJson(FILES.memory, { entries: [{ text: "taught while the service was down" }] });
    sink.failing = false;
    await sender.flush();
    expect(calls).toHaveLength(1);
    const [sent] = calls[0]!;
    expect(sent!.sequence).toBe(2n);
    expect(openState(walletAt(seed, 1).vaultKey(), "agent-a", 2n, sent!.sealed).files[FILES.memory]).toContain(
      "taught while the service was down",
    );
  });

  it("a flush returns once what was marked before it is sent, also when another caller started the pass that sends it", async () => {
    const { calls, sink, sender, agent } = await setup();
    const a = await agent("agent-a", 1);
    let release = () => {};
    sink.held = new Promise<void>((r) => {
      release = r;
    });
    const began = new Promise<void>((r) => {
      sink.began = r;
    });
    const first = sender.flush(); // a pass held inside its call, sealed before the write below
    await began;
    await a.writeJson(FILES.memory, { entries: [{ text: "written while a pass was out" }] });
    const other = sender.flush();
    const mine = sender.flush();
    sink.held = undefined;
    release();
    await mine;
    const last = calls.at(-1)!.find((s) => s.instanceId === "agent-a")!;
    expect(
      openState(walletAt(seed, 1).vaultKey(), "agent-a", last.sequence, last.sealed).files[FILES.memory],
    ).toContain("written while a pass was out");
    await Promise.all([first, other]);
  });

  it("waits for the debounce, then sends on its own: many writes, one call", async () => {
    // The debounce on fake timers: ten writes take longer than 100 ms on a busy machine, which sent two calls.
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    try {
      const { calls, agent } = await setup({ debounceMs: 100 });
      const a = await agent("agent-a", 1);
      for (let i = 0; i < 10; i++) await a.writeJson(FILES.memory, { n: i });
      await vi.advanceTimersByTimeAsync(99);
      expect(calls).toHaveLength(0);
      await vi.advanceTimersByTimeAsync(1);
      await expect.poll(() => calls.length).toBe(1);
      expect(calls[0]).toHaveLength(1);
    } finally {
      vi.useRealTimers();
    }
  });
});

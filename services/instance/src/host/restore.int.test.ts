// A host lost for good loses no agent (docs/scaling.md, "A host lost for
// good"), end to end on the real stack: the local XMTP node, real SDK clients,
// a Convos conversation created and served by the real Convos CLI (`convos
// agent serve`, whose person is the agent's owner), and two instance hosts in
// this process over real gRPC with the same master seed and their own data
// directories. The one stand-in is the claims service's AgentVaultService: the
// first host's sender puts its sealed states into a list (its sink), and the
// test hands the newest to the second host's RestoreInstance, as the claims
// service does, with the pool's record of the agent (its owner, its trust,
// the dates: `recordNow`) as the claims service keeps it. The first move hands
// over a state as a host of before conversations.json sealed it (its
// conversation in state.json): the move across that release. A state its host
// sealed naming another owner is refused on the real host, nothing written.
import { create } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  PutAgentStateOutcomeSchema,
  type SealedAgentState,
  SealedAgentStateSchema,
} from "@convos-pool/gen/convos/pool/v1/agent_vault_service_pb.js";
import { TrustLevel } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import {
  InstanceHostService,
  type RestoreRecord,
  RestoreRecordSchema,
} from "@convos-pool/gen/convos/pool/v1/instance_host_service_pb.js";
import { InstanceState } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { createLogger, createServiceClient, type ServiceClient } from "@convos-pool/kit/server";
import { OneHost } from "@convos-pool/instance/testing";
import { waitFor } from "@convos-pool/testing";
import { Client, createBackend } from "@xmtp/node-sdk";
import { existsSync } from "node:fs";
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MasterSeed } from "@convos-pool/kit/signing";
import {
  type ConversationsFile,
  conversationOf,
  readConversations,
  type SavedConversationState,
} from "../agent/conversation/files.js";
import { MOVED_NOTICE } from "../agent/face/claim.js";
import { walletAt } from "../platform/keys.js";
import { openState, sealState } from "../platform/vault.js";
import { conversationFile, FILES, Workspace } from "../platform/workspace.js";
import type { MemoryFile } from "../memory/store.js";
import { startInstanceHost, type RunningInstanceHost } from "./host.js";
import type { PutStates } from "./vault-sender.js";

const ID = "inst-moving";
const logs: string[] = [];
/** What the first host kept off its disk, in the order it sent it. */
const kept: SealedAgentState[] = [];
const sink: PutStates = async (states) => {
  kept.push(...states);
  return states.map((s) => create(PutAgentStateOutcomeSchema, { instanceId: s.instanceId, stored: true }));
};
const one = new OneHost({
  name: "instance-restore",
  host: {
    joinTimeoutMs: 20_000,
    vaultPut: sink,
    vaultDebounceMs: 200,
    log: createLogger("instance-host", { level: "debug", sink: (l) => logs.push(l) }),
  },
  content: { agent_name: "Keeper", instructions: "You keep the club's facts." },
  conversations: { serve: ["--name", "Boat club", "--profile-name", "Saul"] },
});

let agentInbox: string;
let second: RunningInstanceHost | undefined;
let secondRpc: ServiceClient<typeof InstanceHostService> | undefined;
/** The data directory's name of the host the agent lives on now. */
let secondName = "host2";
/** What each later host kept off its disk, by its directory's name. */
const keptOn = new Map<string, SealedAgentState[]>();
const sinkOf =
  (host: string): PutStates =>
  async (states) => {
    keptOn.set(host, [...(keptOn.get(host) ?? []), ...states]);
    return states.map((s) => create(PutAgentStateOutcomeSchema, { instanceId: s.instanceId, stored: true }));
  };

beforeAll(async () => {
  await one.start();
  agentInbox = await one.joinedServed(ID, 0, { ownerId: one.ready.inboxId });
}, 120_000);

afterAll(async () => {
  secondRpc?.close();
  await second?.close();
  await one.close();
}, 30_000);

async function ask(text: string, ms = 20_000): Promise<string> {
  const from = await one.cli!.send(text);
  return (await one.cli!.messageFrom(agentInbox, from, ms)).content;
}

/**
 * The pool's record of the agent as the claims service hands it with a move:
 * its owner since the claim, at its template's starting level with no limit
 * (the owner set none), its state kept and its host seen just now.
 */
function recordNow(): RestoreRecord {
  return create(RestoreRecordSchema, {
    ownerId: one.ready.inboxId,
    ownerSince: { seconds: BigInt(Math.floor(Date.now() / 1000) - 3600) },
    trustLevel: TrustLevel.ADVISOR,
    stateKeptAt: timestampNow(),
    hostSeenAt: timestampNow(),
  });
}

/** The newest state the first host kept for the agent. */
function newest(): SealedAgentState {
  const mine = kept.filter((s) => s.instanceId === ID);
  const last = mine.at(-1);
  if (!last) throw new Error("the first host kept no state of the agent");
  return last;
}

/**
 * `state` as a host of before conversations.json would have sealed it: its
 * conversation in state.json, its invite in join.json, at the top; sealed
 * again with the agent's vault key at the same sequence.
 */
function sealedBefore(state: SealedAgentState): SealedAgentState {
  const key = walletAt(MasterSeed.parse(one.masterSeed), 0).vaultKey();
  const opened = openState(key, ID, state.sequence, state.sealed);
  const files = { ...opened.files };
  const list = JSON.parse(files[FILES.conversations]!) as ConversationsFile;
  const home = list.conversations.find((c) => c.conversationId === list.home)!;
  const own = (kind: "state" | "join" | "participation" | "outside-words") =>
    conversationFile(home.conversationId, kind);
  const saved = JSON.parse(files[own("state")]!) as SavedConversationState;
  files[FILES.state] = JSON.stringify(conversationOf(home, saved));
  const moved = [
    ["join", FILES.join],
    ["participation", FILES.participation],
    ["outside-words", FILES.outsideWords],
  ] as const;
  for (const [kind, old] of moved) if (files[own(kind)] !== undefined) files[old] = files[own(kind)]!;
  for (const name of Object.keys(files))
    if (name === FILES.conversations || name.startsWith("conversations/")) delete files[name];
  expect(files[FILES.join], "the state holds the invite it rejoins with").toBeDefined();
  return create(SealedAgentStateSchema, { ...state, sealed: sealState(key, state.sequence, { ...opened, files }) });
}

/** `state` sealed again by its host with the agent's key, its config.json naming `ownerId`. */
function withOwner(state: SealedAgentState, ownerId: string): SealedAgentState {
  const key = walletAt(MasterSeed.parse(one.masterSeed), 0).vaultKey();
  const opened = openState(key, ID, state.sequence, state.sealed);
  const config = { ...(JSON.parse(opened.files[FILES.config]!) as object), ownerId };
  const files = { ...opened.files, [FILES.config]: JSON.stringify(config) };
  return create(SealedAgentStateSchema, { ...state, sealed: sealState(key, state.sequence, { ...opened, files }) });
}

describe("an agent of a host lost for good comes back on another host", () => {
  it("answers again from the second host, remembers what it was taught, says it moved, and has one installation", {
    timeout: 240_000,
  }, async () => {
    expect(await ask("remember that my diet is vegan")).toBe("[offline model] Noted: your diet is vegan.");
    const firstDir = join(one.dir, "host");
    await waitFor("memory.json holding the lesson", async () => {
      const text = await readFile(join(firstDir, "instances", ID, "memory.json"), "utf8").catch(() => "");
      return text !== "" && (JSON.parse(text) as MemoryFile).entries.some((e) => e.text.includes("vegan"));
    });
    await one.host.vault!.flush();
    const state = newest();
    const oldInstallation = one.host.instances.get(ID)!.client!.installationId;

    second = await startInstanceHost(one.hostOptions({ dataDir: join(one.dir, "host2"), vaultPut: sinkOf("host2") }));
    secondRpc = createServiceClient(InstanceHostService, second.url, one.creds.claims);

    // While its host still answers, the agent is not moved, whoever asks: nothing is written, no installation made.
    const early = await secondRpc.client
      .restoreInstance({ instanceId: ID, walletIndex: 0, state, record: recordNow() })
      .catch((err: unknown) => ConnectError.from(err));
    expect(early).toBeInstanceOf(ConnectError);
    expect((early as ConnectError).code).toBe(Code.FailedPrecondition);
    expect((early as ConnectError).rawMessage).toBe(
      `${ID}'s host ${one.host.url} still answers: an agent moves only when its host is gone (stop that host first, or mark it found)`,
    );
    expect(existsSync(join(one.dir, "host2", "instances", ID))).toBe(false);

    // The host is lost: its process gone, its disk with it.
    one.hostRpc.close();
    one.rpc.close();
    await one.host.close();
    await rm(firstDir, { recursive: true, force: true });

    // A state altered in one byte is refused, and nothing is written.
    const altered = Uint8Array.from(state.sealed);
    altered[altered.length - 40] = altered[altered.length - 40]! ^ 0x01;
    const refused = await secondRpc.client
      .restoreInstance({
        instanceId: ID,
        walletIndex: 0,
        state: create(SealedAgentStateSchema, { ...state, sealed: altered }),
        record: recordNow(),
      })
      .catch((err: unknown) => ConnectError.from(err));
    expect(refused).toBeInstanceOf(ConnectError);
    expect((refused as ConnectError).code).toBe(Code.InvalidArgument);
    expect((refused as ConnectError).rawMessage).toMatch(/does not open as agent inst-moving's at sequence/);
    expect(existsSync(join(one.dir, "host2", "instances", ID))).toBe(false);

    // Sealed by its host naming another owner (a host holds its agents' keys): not the pool's record, refused.
    const forged = await secondRpc.client
      .restoreInstance({ instanceId: ID, walletIndex: 0, state: withOwner(state, "e".repeat(64)), record: recordNow() })
      .catch((err: unknown) => ConnectError.from(err));
    expect(forged).toBeInstanceOf(ConnectError);
    expect([(forged as ConnectError).code, (forged as ConnectError).rawMessage]).toEqual([
      Code.FailedPrecondition,
      expect.stringMatching(/^state\.owner_id: the sealed state names owner e{64}, the pool's record /),
    ]);
    expect(existsSync(join(one.dir, "host2", "instances", ID))).toBe(false);

    // Sealed by a host of before conversations.json: it opens, and the agent's start moves it into the new layout.
    const from = one.cli!.events.length;
    const before = sealedBefore(state);
    const restored = await secondRpc.client.restoreInstance({
      instanceId: ID,
      walletIndex: 0,
      state: before,
      record: recordNow(),
    });
    expect(restored.inboxId).toBe(agentInbox);
    expect(restored.installationId).not.toBe(oldInstallation);
    expect([InstanceState.STARTING, InstanceState.CLAIMED]).toContain(restored.state);

    // Back in: it says so once, then answers with what it was taught on the first host.
    expect((await one.cli!.messageFrom(agentInbox, from, 90_000)).content).toBe(MOVED_NOTICE);
    expect(await ask("what is my diet?")).toBe("[offline model] From what I remember: your diet is vegan.");
    const moved = new Workspace(join(one.dir, "host2"), ID);
    expect(await moved.readText(FILES.state)).toBeUndefined();
    expect(await moved.readText(FILES.join)).toBeUndefined();
    expect((await readConversations(moved))?.home).toBeDefined();
    const listed = await secondRpc.client.listInstances({});
    expect(listed.instances.find((i) => i.instanceId === ID)?.state).toBe(InstanceState.CLAIMED);

    // Asked again (a retry), it answers as the first did, and makes no new installation.
    const again = await secondRpc.client.restoreInstance({
      instanceId: ID,
      walletIndex: 0,
      state: before,
      record: recordNow(),
    });
    expect(again.installationId).toBe(restored.installationId);
    expect(again.state).toBe(InstanceState.CLAIMED);

    // The node knows one installation of its inbox: the new one; the lost host's is revoked.
    const [inbox] = await Client.fetchInboxStates(
      [agentInbox],
      await createBackend({ env: "local", apiUrl: one.node.url }),
    );
    expect(inbox!.installations.map((i) => i.id)).toEqual([restored.installationId]);
  });

  it("moved four more times, each time to a fresh host, it keeps one installation and all it was taught", {
    timeout: 300_000,
  }, async () => {
    let host = second!;
    let rpc = secondRpc!;
    let name = "host2";
    const installations = async () =>
      (
        await Client.fetchInboxStates([agentInbox], await createBackend({ env: "local", apiUrl: one.node.url }))
      )[0]!.installations.map((i) => i.id);
    const things = ["boat", "mooring", "flag", "anchor"];
    for (let move = 1; move <= 4; move++) {
      const thing = things[move - 1] ?? "boat";
      // Taught something on this host, which keeps it off its disk.
      expect(await ask(`remember that my ${thing} is Wave${move}`)).toBe(
        `[offline model] Noted: your ${thing} is Wave${move}.`,
      );
      await waitFor("memory.json holding the lesson", async () =>
        (await readFile(join(one.dir, name, "instances", ID, "memory.json"), "utf8").catch(() => "")).includes(
          `Wave${move}`,
        ),
      );
      await host.vault!.flush();
      const state = keptOn
        .get(name)
        ?.filter((s) => s.instanceId === ID)
        .at(-1);
      expect(state, `${name} kept the agent's state`).toBeDefined();

      // This host is lost too; a fresh one takes the agent.
      rpc.close();
      await host.close();
      await rm(join(one.dir, name), { recursive: true, force: true });
      name = `host${move + 2}`;
      host = await startInstanceHost(one.hostOptions({ dataDir: join(one.dir, name), vaultPut: sinkOf(name) }));
      rpc = createServiceClient(InstanceHostService, host.url, one.creds.claims);
      second = host;
      secondRpc = rpc;
      secondName = name;
      const from = one.cli!.events.length;
      const restored = await rpc.client.restoreInstance({
        instanceId: ID,
        walletIndex: 0,
        state: state!,
        record: recordNow(),
      });
      expect((await one.cli!.messageFrom(agentInbox, from, 90_000)).content).toBe(MOVED_NOTICE);
      expect(await ask("what is my diet?")).toBe("[offline model] From what I remember: your diet is vegan.");
      // Everything it was taught on every host before.
      for (const [i, earlier] of things.slice(0, move).entries())
        expect(await ask(`what is my ${earlier}?`)).toContain(`your ${earlier} is Wave${i + 1}`);
      expect(await installations(), `after move ${move + 1}`).toEqual([restored.installationId]);
    }
  });
  it("a move the network's rate limit refuses is started again by its new host, and comes back with one installation", {
    timeout: 240_000,
  }, async () => {
    const file = (name: string) => readFile(join(one.dir, secondName, "instances", ID, name), "utf8").catch(() => "");
    // Its home conversation's state.json (agent/conversation/files.ts).
    const homeState = async () => {
      const list = await readConversations(new Workspace(join(one.dir, secondName), ID)).catch(() => undefined);
      return list ? file(conversationFile(list.home, "state")) : "";
    };
    const readMark = await homeState();
    expect(await ask("remember that my sail is Red")).toBe("[offline model] Noted: your sail is Red.");
    await waitFor("memory.json holding the lesson", async () => (await file("memory.json")).includes("Red"));
    // And its read position past the lesson (written when the turn ends, after its answer): a state kept
    // before that would have the new host answer the lesson again, in place of the next question.
    await waitFor("state.json marking the lesson read", async () => (await homeState()) !== readMark);
    await second!.vault!.flush();
    const state = keptOn
      .get(secondName)
      ?.filter((s) => s.instanceId === ID)
      .at(-1);
    expect(state, `${secondName} kept the agent's state`).toBeDefined();
    secondRpc!.close();
    await second!.close();
    await rm(join(one.dir, secondName), { recursive: true, force: true });
    const name = "host-limited";
    const host = await startInstanceHost(one.hostOptions({ dataDir: join(one.dir, name), vaultPut: sinkOf(name) }));
    const rpc = createServiceClient(InstanceHostService, host.url, one.creds.claims);
    second = host;
    secondRpc = rpc;
    secondName = name;

    // One write in two minutes for this machine: the new installation's registration is refused.
    one.node.setRateLimits({ writes: 1, reads: 0, windowMs: 120_000 });
    const refused = await rpc.client
      .restoreInstance({ instanceId: ID, walletIndex: 0, state: state!, record: recordNow() })
      .then(() => undefined)
      .catch((err: unknown) => ConnectError.from(err));
    expect(refused, "the restore was refused").toBeInstanceOf(ConnectError);
    expect(refused!.code).toBe(Code.ResourceExhausted);
    expect(refused!.rawMessage).toMatch(/rate limit refused inst-moving's start here/);
    // Kept, crashed, with what the refused start made: not dropped.
    const listed = await rpc.client.listInstances({});
    expect(listed.instances.find((i) => i.instanceId === ID)?.state).toBe(InstanceState.CRASHED);

    // The limit lifts; nobody asks again: the host starts it again by itself, and it is back.
    const from = one.cli!.events.length;
    one.node.setRateLimits(undefined);
    expect((await one.cli!.messageFrom(agentInbox, from, 90_000)).content).toBe(MOVED_NOTICE);
    expect(await ask("what is my sail?")).toBe("[offline model] From what I remember: your sail is Red.");
    expect(await ask("what is my diet?")).toBe("[offline model] From what I remember: your diet is vegan.");

    // The mover's retry of the refused restore: the same installation, and every other one revoked.
    const again = await rpc.client.restoreInstance({
      instanceId: ID,
      walletIndex: 0,
      state: state!,
      record: recordNow(),
    });
    expect(again.installationId).toBe(host.instances.get(ID)!.client!.installationId);
    expect(again.state).toBe(InstanceState.CLAIMED);
    const [inbox] = await Client.fetchInboxStates(
      [agentInbox],
      await createBackend({ env: "local", apiUrl: one.node.url }),
    );
    expect(inbox!.installations.map((i) => i.id)).toEqual([again.installationId]);
  });
});

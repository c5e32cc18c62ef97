// Dormancy end to end (agent/life/dormancy.ts, host/group-watch.ts, docs/instance.md "Dormancy"): an instance
// host on the local XMTP node (real PostgreSQL), claimed agents that joined
// their own Convos conversations through real invites from a creator
// (@xmtp/node-sdk), and a quiet time of a second: an agent falls asleep (its
// client closed, its descriptors given back), a message or a call wakes it and it answers, a host
// restart keeps it dormant and the host's subscription still wakes it, a
// workspace of before conversations.json (and its one-cursor dormant.json)
// moved into the new layout at that dormant start. An agent its owner added
// to a second conversation (Eve's, by a signed invite) sleeps with a cursor
// in each, and a message in either wakes it, before and after a host restart.
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger, type ServiceClient } from "@convos-pool/kit/server";
import { waitFor } from "@convos-pool/testing";
import { startCreator } from "@convos-pool/convos/testing";
import { signAddToConversation } from "@convos-pool/kit/signing";
import { OneHost, type Creator } from "@convos-pool/instance/testing";
import type { RunningDevnode } from "@convos-pool/xmtp-devnode";
import type { InstanceHostService } from "@convos-pool/gen/convos/pool/v1/instance_host_service_pb.js";
import type { InstanceService } from "@convos-pool/gen/convos/pool/v1/instance_service_pb.js";
import { InstanceState } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { OFFLINE_LABEL } from "../model/offline.js";
import { GroupWatch, readGroupMessage } from "./group-watch.js";
import { instanceCall, type RunningInstanceHost } from "./host.js";
import { readHome, removeConversations } from "../agent/conversation/files.js";
import { conversationFile, FILES, Workspace } from "../platform/workspace.js";
import { DORMANT_FILE, type DormantFile, type OneCursorFile } from "../agent/life/dormancy.js";

const DORMANT_AFTER_MS = 1_000;
const one = new OneHost({
  name: "instance-dormancy",
  host: { joinTimeoutMs: 20_000, dormantAfterMs: DORMANT_AFTER_MS },
  content: { instructions: "You answer questions about the city." },
});

let node: RunningDevnode | undefined;
let dir: string;
let host: RunningInstanceHost | undefined;
let creator: Creator | undefined;
let hostRpc: ServiceClient<typeof InstanceHostService>;
let rpc: ServiceClient<typeof InstanceService>;
const agents = new Map<string, { inboxId: string; groupId: string }>();

async function startHost(): Promise<void> {
  ({ host, hostRpc, rpc } = await one.startHost());
}

const release = (version: bigint, instructions?: string) => one.release(version, instructions ? { instructions } : {});

/** Started, configured and in a conversation of its own with the creator. */
async function claimedAgent(id: string, walletIndex: number): Promise<{ inboxId: string; groupId: string }> {
  const agent = await one.joined(id, walletIndex);
  agents.set(id, agent);
  return agent;
}

async function stateOf(id: string): Promise<InstanceState | undefined> {
  return (await hostRpc.client.listInstances({})).instances.find((i) => i.instanceId === id)?.state;
}

/** Waits for `cond`, polled every 100 ms: each poll is an RPC to the host or a sync with the node. */
const until = (what: string, cond: () => Promise<boolean> | boolean, ms = 20_000) => waitFor(what, cond, ms, 100);

/** Files under the agent's workspace this process has open (its XMTP database, WAL and shared memory). */
function openFilesOf(id: string): string[] {
  const under = `${join(dir, "host", "instances", id)}/`;
  const open: string[] = [];
  for (const fd of readdirSync("/proc/self/fd")) {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      if (target.startsWith(under)) open.push(target);
    } catch {
      // closed meanwhile
    }
  }
  return open;
}

const threads = () => Number(/Threads:\s+(\d+)/.exec(readFileSync("/proc/self/status", "utf8"))![1]);

/** The agent's texts in its group, as the creator reads them. */
async function answersIn(agent: { inboxId: string; groupId: string }): Promise<string[]> {
  return (await creator!.transcript(agent.groupId)).filter((l) => l.from === agent.inboxId).map((l) => l.text);
}

/** The agent's workspace on the host. */
const workspaceOf = (id: string) => new Workspace(join(dir, "host"), id);

/**
 * Rewrites an agent's workspace as it was before conversations.json: its conversation in state.json, its files
 * beside it, and a dormant one's dormant.json in its one-cursor form.
 */
async function asBefore(id: string): Promise<void> {
  const ws = workspaceOf(id);
  const convo = (await readHome(ws))!;
  await ws.writeJson(FILES.state, convo);
  const dormant = await ws.readJson<DormantFile>(DORMANT_FILE);
  if (dormant) {
    const [only] = dormant.conversations;
    await ws.writeJson(DORMANT_FILE, { ...only!, since: dormant.since } satisfies OneCursorFile);
  }
  const moved = [
    ["join", FILES.join],
    ["participation", FILES.participation],
    ["outside-words", FILES.outsideWords],
  ] as const;
  for (const [kind, old] of moved) {
    const text = await ws.readText(conversationFile(convo.conversationId, kind));
    if (text !== undefined) await ws.writeText(old, text);
  }
  await removeConversations(ws);
}

/** Wakes the host counted in pool_agent_wake_seconds, as a scrape of its /metrics reads them. */
async function wakesCounted(): Promise<number> {
  const text = await (await fetch(`${host!.url}/metrics`)).text();
  return Number(/^pool_agent_wake_seconds_count(?:\{[^}]*\})? (\S+)$/m.exec(text)?.[1]);
}

beforeAll(async () => {
  ({ node, dir, host, creator, hostRpc, rpc } = await one.start());
}, 90_000);

afterAll(() => one.close(), 30_000);

describe("dormancy", () => {
  it("a quiet agent goes dormant: its client closed, its database files given back, no thread left", async () => {
    const a = await claimedAgent("inst-a", 0);
    const b = await claimedAgent("inst-b", 1);
    // Both answer while awake.
    await creator!.ask(a.groupId, a.inboxId, "Hello?", 20_000);
    await creator!.ask(b.groupId, b.inboxId, "Hello?", 20_000);
    expect(openFilesOf("inst-a").length).toBeGreaterThan(0);
    const awake = { threads: threads() };
    await until(
      "both dormant",
      async () =>
        (await stateOf("inst-a")) === InstanceState.DORMANT && (await stateOf("inst-b")) === InstanceState.DORMANT,
    );
    // The claims service's view: Health says dormant, without waking it.
    expect((await rpc.client.health({}, instanceCall("inst-a"))).state).toBe(InstanceState.DORMANT);
    expect(openFilesOf("inst-a")).toEqual([]);
    expect(openFilesOf("inst-b")).toEqual([]);
    // (The whole process's descriptor count is no measure here: the client's connection to the node goes
    // when the closed client is collected, and the in-process node's own pool moves the count.)
    // An agent's client runs no threads of its own (one database connection, no pool: platform/xmtp.ts); none came.
    expect(threads()).toBeLessThanOrEqual(awake.threads);
    expect(await stateOf("inst-a")).toBe(InstanceState.DORMANT);
  }, 120_000);

  it("a message in its conversation wakes it, and it answers that message once", async () => {
    const a = agents.get("inst-a")!;
    const before = (await answersIn(a)).length;
    const wakes = await wakesCounted();
    const started = Date.now();
    await creator!.ask(a.groupId, a.inboxId, "Are you there? What is open on Sunday?", 10_000);
    const wakeMs = Date.now() - started;
    expect(wakeMs).toBeLessThan(5_000);
    // The wake is in the host's histogram (docs/runbook.md, "Dashboard and alerts"), once.
    await until("the wake counted", async () => (await wakesCounted()) >= wakes + 1, 5_000);
    expect(await wakesCounted()).toBe(wakes + 1);
    expect(openFilesOf("inst-a").length).toBeGreaterThan(0);
    // The other agent slept on.
    expect(await stateOf("inst-b")).toBe(InstanceState.DORMANT);
    // Quiet again, it falls asleep again: only with no turn left, so any second answer was sent by then.
    await until("dormant again", async () => (await stateOf("inst-a")) === InstanceState.DORMANT);
    // Its answer came once: not again from the stream and the catch-up both.
    const answers = await answersIn(a);
    expect(answers.length).toBe(before + 1);
    expect(answers.at(-1)).toContain(OFFLINE_LABEL);
  }, 60_000);

  it("a call wakes it: an instruction update is applied by the woken agent", async () => {
    await until("inst-b dormant", async () => (await stateOf("inst-b")) === InstanceState.DORMANT);
    const res = await rpc.client.updateTemplate(
      { template: await release(3n, "You answer in French.") },
      instanceCall("inst-b"),
    );
    expect(res.appliedVersion).toBe(3n);
    expect(await stateOf("inst-b")).toBe(InstanceState.CLAIMED);
    expect(openFilesOf("inst-b").length).toBeGreaterThan(0);
    const b = agents.get("inst-b")!;
    await creator!.ask(b.groupId, b.inboxId, "Still there?", 10_000);
  }, 60_000);

  it("a host restart brings dormant agents back dormant, and a message that came meanwhile wakes the agent, answered once", async () => {
    const a = agents.get("inst-a")!;
    const b = agents.get("inst-b")!;
    await until(
      "both dormant",
      async () =>
        (await stateOf("inst-a")) === InstanceState.DORMANT && (await stateOf("inst-b")) === InstanceState.DORMANT,
    );
    const before = (await answersIn(a)).length;
    await host!.close();
    host = undefined;
    // While the host is down: two messages for inst-a.
    await creator!.send(a.groupId, "First, while you were away: where is the market?");
    await creator!.send(a.groupId, "And second: when does it open?");
    // inst-b's workspace as a host of before this layout left it, its dormant.json of one cursor.
    await asBefore("inst-b");
    expect(await workspaceOf("inst-b").readText(FILES.conversations)).toBeUndefined();
    expect(await workspaceOf("inst-b").readJson(DORMANT_FILE)).toEqual({
      conversationId: b.groupId,
      cursor: expect.stringMatching(/^\d+$/),
      since: expect.any(String),
    });
    await startHost();
    // inst-b comes back dormant, without a client, its workspace moved: its conversation the home, nothing at the top.
    expect(await stateOf("inst-b")).toBe(InstanceState.DORMANT);
    expect(openFilesOf("inst-b")).toEqual([]);
    expect((await readHome(workspaceOf("inst-b")))?.conversationId).toBe(b.groupId);
    for (const old of [FILES.state, FILES.join]) expect(await workspaceOf("inst-b").readText(old), old).toBeUndefined();
    expect(await workspaceOf("inst-b").readText(conversationFile(b.groupId, "join"))).toContain("invite");
    // inst-a: the subscription replays from its cursor; it wakes and answers.
    await until(
      "inst-a answered what came while the host was down",
      async () => (await answersIn(a)).length > before,
      20_000,
    );
    // It falls asleep again only with no turn left: any second answer was sent by then.
    await until("inst-a dormant again", async () => (await stateOf("inst-a")) === InstanceState.DORMANT);
    // What came while it slept is answered once, as after any restart: the newest message, once.
    expect((await answersIn(a)).length).toBe(before + 1);
    // And inst-b still wakes for a message after the restart.
    await creator!.ask(b.groupId, b.inboxId, "Good morning?", 10_000);
  }, 90_000);

  it("the host's watch reads the node's newest message id, and wakes on an application message only", async () => {
    const a = agents.get("inst-a")!;
    const watch = new GroupWatch({ apiUrl: node!.url, log: createLogger("watch", { level: "silent" }) });
    try {
      const cursor = await watch.newest(a.groupId);
      expect(cursor).toBeGreaterThan(0n);
      // A second group on the same stream: the node replays every group from its cursor before it
      // delivers anything live, so once a live message to that group arrived, a replay would have too.
      const other = await creator!.conversation("Dormancy watch");
      const otherCursor = await watch.newest(other.groupId);
      let woke = 0;
      let otherWoke = 0;
      watch.watch(a.groupId, cursor, () => woke++);
      watch.watch(other.groupId, otherCursor, () => otherWoke++);
      await until("subscribed", () => watch.streams === 1, 5_000);
      await creator!.send(other.groupId, "A live message on the same stream");
      await until("the other group woken", () => otherWoke === 1, 5_000);
      // Nothing past the cursor: nothing delivered.
      expect(woke).toBe(0);
      await creator!.send(a.groupId, "A message the watch sees as ciphertext");
      await until("woken", () => woke === 1, 5_000);
      // Called once: the group is no longer watched.
      expect(watch.size).toBe(0);
    } finally {
      await watch.close();
    }
    // Not a GroupMessage: nothing read.
    expect(readGroupMessage(new Uint8Array([0x10, 0x01]))).toBeUndefined();
  }, 60_000);
});

describe("dormancy of an agent in two conversations", () => {
  const ID = "inst-c";
  /** Eve, who made the second conversation; the agent's owner is the fixture's creator, who made its home. */
  let eve: Creator;
  let c: { inboxId: string; groupId: string };
  let club: { groupId: string; invite: string };

  const dormant = async () => (await stateOf(ID)) === InstanceState.DORMANT;
  /** The agent's texts in `groupId`, as `reader` reads them. */
  const saidIn = async (reader: Creator, groupId: string) =>
    (await reader.transcript(groupId)).filter((l) => l.from === c.inboxId).map((l) => l.text);

  beforeAll(async () => {
    await mkdir(join(dir, "eve"));
    eve = await startCreator(node!.url, join(dir, "eve"));
    c = await claimedAgent(ID, 2);
    club = await eve.conversation("Book club");
    const owner = creator!;
    const signed = { ownerId: owner.inboxId, instanceId: ID, conversationInvite: club.invite };
    const added = await rpc.client.addConversation(
      {
        conversationInvite: club.invite,
        authorization: { ownerId: owner.inboxId, signature: await signAddToConversation(owner.account, signed) },
      },
      { ...instanceCall(ID), timeoutMs: 30_000 },
    );
    expect(added.conversationId).toBe(club.groupId);
    // Awake, it answers in both.
    await eve.ask(club.groupId, c.inboxId, "Hello from the book club?", 20_000);
    await creator!.ask(c.groupId, c.inboxId, "Hello at home?", 20_000);
  }, 90_000);

  afterAll(() => eve?.close(), 30_000);

  it("goes dormant with a cursor in each conversation, its client closed", async () => {
    await until("inst-c dormant", dormant);
    const file = await workspaceOf(ID).readJson<DormantFile>(DORMANT_FILE);
    expect(file?.conversations).toEqual([
      { conversationId: c.groupId, cursor: expect.stringMatching(/^\d+$/) },
      { conversationId: club.groupId, cursor: expect.stringMatching(/^\d+$/) },
    ]);
    expect(openFilesOf(ID)).toEqual([]);
  }, 60_000);

  it("a message in the second conversation, not its home, wakes it, and it answers there once", async () => {
    await until("inst-c dormant", dormant);
    const before = { club: (await saidIn(eve, club.groupId)).length, home: (await saidIn(creator!, c.groupId)).length };
    const wakes = await wakesCounted();
    await eve.ask(club.groupId, c.inboxId, "The book club calls after a quiet spell", 10_000);
    await until("the wake counted", async () => (await wakesCounted()) >= wakes + 1, 5_000);
    // Asleep again only with no turn left: any second answer was sent by then.
    await until("inst-c dormant again", dormant);
    expect(await wakesCounted()).toBe(wakes + 1);
    const club2 = await saidIn(eve, club.groupId);
    expect(club2.length).toBe(before.club + 1);
    expect(club2.at(-1)).toContain("The book club calls after a quiet spell");
    // Nothing said at home.
    expect((await saidIn(creator!, c.groupId)).length).toBe(before.home);
  }, 60_000);

  it("a message in its home wakes it too, and it answers there", async () => {
    await until("inst-c dormant", dormant);
    const before = (await saidIn(eve, club.groupId)).length;
    await creator!.ask(c.groupId, c.inboxId, "Home calls after a quiet spell", 10_000);
    expect((await saidIn(creator!, c.groupId)).at(-1)).toContain("Home calls after a quiet spell");
    await until("inst-c dormant again", dormant);
    expect((await saidIn(eve, club.groupId)).length).toBe(before);
  }, 60_000);

  it("a host restart brings it back dormant, and a message in either conversation wakes it", async () => {
    await until("inst-c dormant", dormant);
    await host!.close();
    host = undefined;
    await startHost();
    expect(await stateOf(ID)).toBe(InstanceState.DORMANT);
    expect(openFilesOf(ID)).toEqual([]);
    await eve.ask(club.groupId, c.inboxId, "After the restart: the club asks first", 10_000);
    expect((await saidIn(eve, club.groupId)).at(-1)).toContain("the club asks first");
    await until("inst-c dormant again", dormant);
    await creator!.ask(c.groupId, c.inboxId, "After the restart: home asks second", 10_000);
    expect((await saidIn(creator!, c.groupId)).at(-1)).toContain("home asks second");
  }, 90_000);
});

// A destroyed instance that may still be added somewhere (host/retiree.ts): an
// instance host on the local XMTP node, a creator (@xmtp/node-sdk) whose
// client answers join requests late, as a Convos client that was offline
// does. The claim gave up and the pool destroyed the instance; when the
// creator's client adds it afterwards, it leaves, also after a host restart,
// and its workspace goes once the invite has expired. The host's clock is a
// test clock (TestClock: the machine's time, moved on by the test): the last
// invite's expiry is reached by advancing it, not by waiting it out.
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger, type ServiceClient } from "@convos-pool/kit/server";
import { codeOf } from "@convos-pool/kit/testing";
import { TestClock, waitFor } from "@convos-pool/testing";
import { OneHost, type Creator } from "@convos-pool/instance/testing";
import type { InstanceHostService } from "@convos-pool/gen/convos/pool/v1/instance_host_service_pb.js";
import type { InstanceService } from "@convos-pool/gen/convos/pool/v1/instance_service_pb.js";
import { instanceCall, type RunningInstanceHost } from "./host.js";
import type { InstanceRecord } from "../platform/workspace.js";

const logs: string[] = [];
const clock = new TestClock();
const one = new OneHost({
  name: "instance-retiree",
  host: {
    clock,
    joinTimeoutMs: 3_000,
    log: createLogger("instance-host", { level: "info", sink: (line) => logs.push(line) }),
  },
});
/**
 * How long the late invite is open: long enough for the join to give up, a destroy and a host restart
 * before the late add on a busy machine too (the last test advances the host's clock past it).
 */
const INVITE_OPEN_MS = 75_000;

let host: RunningInstanceHost | undefined;
let creator: Creator | undefined;
let hostRpc: ServiceClient<typeof InstanceHostService>;
let rpc: ServiceClient<typeof InstanceService>;

async function startHost(): Promise<void> {
  ({ host, hostRpc, rpc } = await one.startHost());
}

const workspace = (id: string) => join(one.dir, "host", "instances", id);
const listed = async () => (await hostRpc.client.listInstances({})).instances.map((i) => i.instanceId);
const membersOf = async (groupId: string) => (await creator!.members()).get(groupId) ?? [];
const configured = (id: string, walletIndex: number) => one.configured(id, walletIndex);

beforeAll(async () => {
  ({ host, creator, hostRpc, rpc } = await one.start());
}, 90_000);

afterAll(() => one.close(), 30_000);

describe("a destroyed instance that may still be added somewhere", () => {
  it("with nothing to watch (it never asked to join), a destroy deletes its workspace at once", async () => {
    await hostRpc.client.startInstance({ instanceId: "inst-idle", walletIndex: 9 });
    await hostRpc.client.stopInstance({ instanceId: "inst-idle", destroy: true });
    await expect(readdir(workspace("inst-idle"))).rejects.toThrow();
    expect(host!.retirees.size).toBe(0);
  });

  it("its claim died mid-join and the pool destroyed it: it keeps only its watch, listed nowhere, and cannot be started again", {
    timeout: 60_000,
  }, async () => {
    const inboxId = await configured("inst-late", 0);
    creator!.holdJoins();
    const late = await creator!.conversation("Late", { expiresAt: new Date(Date.now() + INVITE_OPEN_MS) });
    // The creator does not answer in time: the join gives up, and nobody releases the claim (its process died).
    expect(
      await codeOf(rpc.client.joinConversation({ conversationInvite: late.invite }, instanceCall("inst-late"))),
    ).toBe("DeadlineExceeded");
    expect(creator!.joinRequests).toBe(1);

    await hostRpc.client.stopInstance({ instanceId: "inst-late", destroy: true });
    expect(await listed()).not.toContain("inst-late");
    expect(host!.retirees.has("inst-late")).toBe(true);
    // Its claim is gone with it: no config, credentials or memory wait out the invite on disk.
    expect((await readdir(workspace("inst-late"))).sort()).toEqual(["instance.json", "invites.json", "xmtp"]);
    const record = JSON.parse(await readFile(join(workspace("inst-late"), "instance.json"), "utf8")) as InstanceRecord;
    expect(Date.parse(record.retiredUntil!)).toBeGreaterThan(Date.now());
    expect(Date.parse(record.retiredUntil!)).toBeLessThanOrEqual(Date.now() + INVITE_OPEN_MS);
    expect(record.inboxId).toBe(inboxId);

    // The pool never starts it again, nor another instance on its wallet.
    expect(await codeOf(hostRpc.client.startInstance({ instanceId: "inst-late", walletIndex: 0 }))).toBe(
      "FailedPrecondition",
    );
    expect(await codeOf(hostRpc.client.startInstance({ instanceId: "inst-other", walletIndex: 0 }))).toBe(
      "AlreadyExists",
    );
    // A second destroy (a pool pass that did not hear the first answer) changes nothing.
    await hostRpc.client.stopInstance({ instanceId: "inst-late", destroy: true });
    expect(host!.retirees.has("inst-late")).toBe(true);
  });

  it("after a host restart it watches again; when the creator's client adds it late, it leaves at once", {
    timeout: 90_000,
  }, async () => {
    await host!.close();
    await startHost();
    expect(host!.retirees.has("inst-late")).toBe(true);
    expect(await listed()).not.toContain("inst-late");
    const record = JSON.parse(await readFile(join(workspace("inst-late"), "instance.json"), "utf8")) as InstanceRecord;

    const from = logs.length;
    const [groupId] = [...(await creator!.members()).keys()];
    creator!.answerJoins();
    // Added and gone again within a poll or two: the watch's log says it left, and the creator removed it.
    await waitFor(
      "the retired agent left the conversation it was added to",
      () =>
        logs.slice(from).some((l) => l.includes("left a conversation of an abandoned invite") && l.includes(groupId!)),
      45_000,
      250,
    );
    await waitFor(
      "the creator removed it",
      async () => !(await membersOf(groupId!)).includes(record.inboxId),
      30_000,
      500,
    );
    expect(creator!.errors).toEqual([]);
  });

  it("once its last invite has expired, the workspace goes", { timeout: 60_000 }, async () => {
    const record = JSON.parse(await readFile(join(workspace("inst-late"), "instance.json"), "utf8")) as InstanceRecord;
    // A second before the expiry it is still watched; at the expiry its own wait ends it.
    clock.advance(Date.parse(record.retiredUntil!) - clock.now() - 1_000);
    await new Promise((r) => setTimeout(r, 200));
    expect(host!.retirees.has("inst-late")).toBe(true);
    clock.advance(1_000);
    await waitFor("the retired workspace is gone", async () => !host!.retirees.has("inst-late"), 20_000, 100);
    await expect(readdir(workspace("inst-late"))).rejects.toThrow();
    expect(logs.some((l) => l.includes("instance destroyed: its invites expired") && l.includes("inst-late"))).toBe(
      true,
    );
  });

  it("destroyed while in its conversation (its Release never came): it leaves it, and watches the invite's 7 days", {
    timeout: 60_000,
  }, async () => {
    const inboxId = await configured("inst-in", 1);
    const convo = await creator!.conversation("In");
    await rpc.client.joinConversation(
      { conversationInvite: convo.invite },
      { ...instanceCall("inst-in"), timeoutMs: 30_000 },
    );
    expect(await membersOf(convo.groupId)).toContain(inboxId);

    await hostRpc.client.stopInstance({ instanceId: "inst-in", destroy: true });
    await waitFor(
      "the destroyed agent left",
      async () => !(await membersOf(convo.groupId)).includes(inboxId),
      45_000,
      500,
    );
    const record = JSON.parse(await readFile(join(workspace("inst-in"), "instance.json"), "utf8")) as InstanceRecord;
    expect(Date.parse(record.retiredUntil!) - Date.now()).toBeGreaterThan(6 * 24 * 60 * 60 * 1000);
  });
});

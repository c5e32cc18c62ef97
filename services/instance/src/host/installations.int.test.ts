// XMTP's limit of 10 installations per inbox (docs/instance.md, "XMTP's
// limits"): an agent keeps one installation across its host's restarts and its
// wakes from dormancy, because its client reopens its own database (its key
// derived from the wallet) instead of registering anew. Real: the instance
// host, the local XMTP node on PostgreSQL, a Convos conversation's creator
// (@xmtp/node-sdk) who asks the agent after each restart; the installations
// are counted from the node's own record of the inbox (fetchInboxStates).
import { Client, createBackend } from "@xmtp/node-sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InstanceState } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { waitFor } from "@convos-pool/testing";
import { OneHost } from "@convos-pool/instance/testing";

const RESTARTS = 20;
const one = new OneHost({
  name: "instance-installations",
  // Dormant a second after its answer: every ask after a restart also wakes it.
  host: { joinTimeoutMs: 20_000, dormantAfterMs: 1_000 },
});

beforeAll(() => one.start(), 90_000);
afterAll(() => one.close(), 30_000);

/** The agent's installations as the XMTP node records its inbox now (revoked ones are not listed). */
async function installationsOf(inboxId: string): Promise<string[]> {
  const backend = await createBackend({ env: "local", apiUrl: one.node.url });
  const [state] = await Client.fetchInboxStates([inboxId], backend);
  return (state?.installations ?? []).map((i) => i.id);
}

const stateOf = async (id: string) =>
  (await one.hostRpc.client.listInstances({})).instances.find((i) => i.instanceId === id)?.state;

describe("an agent's XMTP installations", () => {
  it(`stays one installation through ${RESTARTS} host restarts, asleep and awake, and the wakes between, answering after each`, async () => {
    const a = await one.joined("inst-one", 0);
    await one.creator!.ask(a.groupId, a.inboxId, "Hello, are you there?", 20_000);
    const first = await installationsOf(a.inboxId);
    expect(first).toHaveLength(1);

    for (let i = 1; i <= RESTARTS; i++) {
      // Every other restart finds it asleep (it comes back dormant, with no client) or awake (its client reopened).
      if (i % 2)
        await waitFor("dormant", async () => (await stateOf("inst-one")) === InstanceState.DORMANT, 20_000, 100);
      await one.host.close();
      await one.startHost();
      // A message wakes it from its sleep on the new host process, and it answers.
      await one.creator!.ask(a.groupId, a.inboxId, `Restart ${i}: still you?`, 20_000);
      expect(await installationsOf(a.inboxId), `after restart ${i}`).toEqual(first);
    }
  }, 300_000);
});

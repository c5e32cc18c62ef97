// InstanceHostService.ConfigureInstances, JoinConversations and
// AttestInstances on a real instance host (host/batch-claims.ts): the local
// XMTP node, real agents with their workspaces, real gRPC with the claims
// service's credential, releases signed by the creator with the kit, a real
// Convos invite from a creator (@xmtp/node-sdk) to join, and attestations
// signed with a key of the kit's. Each agent's refusal within a batch is the
// very error its own call gives: code, message and the field it names.
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type {
  InstanceHostService,
  JoinConversationsResponse,
} from "@convos-pool/gen/convos/pool/v1/instance_host_service_pb.js";
import {
  AttestRequestSchema,
  ConfigureRequestSchema,
  type AttestRequest,
  type InstanceService,
  type ConfigureRequest,
} from "@convos-pool/gen/convos/pool/v1/instance_service_pb.js";
import { InstanceState } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { fieldViolations } from "@convos-pool/kit/content";
import { fromInstanceCallError, type ServiceClient } from "@convos-pool/kit/server";
import { AttestationKeyRing, generateAttestationKeyPem } from "@convos-pool/kit/signing";
import { waitFor } from "@convos-pool/testing";
import { OneHost, type Creator } from "@convos-pool/instance/testing";
import { instanceCall, type RunningInstanceHost } from "./host.js";

const one = new OneHost({
  name: "host-claims",
  host: { joinTimeoutMs: 20_000 },
  content: { instructions: "You answer questions about the city." },
});
const AGENTS = ["inst-a", "inst-b", "inst-c"];

let host: RunningInstanceHost | undefined;
let creator: Creator | undefined;
let hosts: ServiceClient<typeof InstanceHostService>;
let agents: ServiceClient<typeof InstanceService>;

/** What the claims service sends for a claim of `id`: the template's release as its creator signed it. */
async function configureRequest(id: string, ownerId = `${"0".repeat(63)}1`): Promise<ConfigureRequest> {
  return create(ConfigureRequestSchema, { instanceId: id, template: await one.release(2n), ownerId });
}

/** An error as a caller compares it: code, message, and the fields it names. */
const seen = (e: ConnectError) => ({ code: Code[e.code], message: e.rawMessage, fields: fieldViolations(e) });

async function singleCallError(p: Promise<unknown>): Promise<ReturnType<typeof seen>> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, "the single call should have failed").toBeInstanceOf(ConnectError);
  return seen(err as ConnectError);
}

/** The pool's attestation of `inboxId`, as the claims service hands it to an agent. */
const POOL_KEYS = new AttestationKeyRing([{ kid: "k1", pem: generateAttestationKeyPem() }]);
function attestRequest(inboxId: string): AttestRequest {
  const a = POOL_KEYS.attest(inboxId);
  return create(AttestRequestSchema, {
    attestation: { inboxId: a.inboxId, signature: a.signature, timestamp: a.timestamp, kid: a.kid },
    key: { kid: a.kid, x: a.x },
  });
}

const inboxOf = (id: string) => host!.instances.get(id)!.inboxId;

/** Its state (Health wakes no dormant agent). */
async function stateOf(id: string): Promise<InstanceState> {
  return (await agents.client.health({}, instanceCall(id))).state;
}

beforeAll(async () => {
  ({ host, creator, hostRpc: hosts, rpc: agents } = await one.start());
  await Promise.all(AGENTS.map((id, i) => hosts.client.startInstance({ instanceId: id, walletIndex: i })));
}, 60_000);

afterAll(() => one.close());

describe("ConfigureInstances", () => {
  it("configures two agents and refuses a third and an unknown one each with its single call's code, message and field, answered in the order asked", async () => {
    // No owner: refused by the agent itself, naming the field.
    const refused = await configureRequest("inst-c", "");
    const res = await hosts.client.configureInstances({
      instances: [
        await configureRequest("inst-a"),
        refused,
        await configureRequest("inst-nobody"),
        await configureRequest("inst-b"),
      ],
    });
    expect(res.outcomes.map((o) => [o.instanceId, o.outcome.case])).toEqual([
      ["inst-a", "configured"],
      ["inst-c", "error"],
      ["inst-nobody", "error"],
      ["inst-b", "configured"],
    ]);
    const batchError = (i: number) =>
      seen(
        fromInstanceCallError(res.outcomes[i]!.outcome.case === "error" ? res.outcomes[i]!.outcome.value : undefined),
      );
    expect(batchError(1)).toEqual({
      code: "InvalidArgument",
      message: "owner_id: is required",
      fields: [{ field: "owner_id", description: "is required" }],
    });
    expect(batchError(1)).toEqual(await singleCallError(agents.client.configure(refused, instanceCall("inst-c"))));
    expect(batchError(2)).toEqual(
      await singleCallError(
        agents.client.configure(await configureRequest("inst-nobody"), instanceCall("inst-nobody")),
      ),
    );
    expect(batchError(2).code).toBe("NotFound");
    expect(await stateOf("inst-a")).toBe(InstanceState.CLAIMING);
    expect(await stateOf("inst-b")).toBe(InstanceState.CLAIMING);
    expect(await stateOf("inst-c")).toBe(InstanceState.IDLE);
  });

  it("a call naming no agent, or one agent twice, is refused whole, naming the field", async () => {
    const twice = await hosts.client
      .configureInstances({ instances: [await configureRequest("inst-c"), await configureRequest("inst-c")] })
      .catch((e: unknown) => ConnectError.from(e));
    expect(twice).toBeInstanceOf(ConnectError);
    expect(seen(twice as ConnectError)).toMatchObject({
      code: "InvalidArgument",
      fields: [{ field: "instances[1].instance_id" }],
    });
    const none = await hosts.client.configureInstances({ instances: [] }).catch((e: unknown) => ConnectError.from(e));
    expect(seen(none as ConnectError)).toMatchObject({ code: "InvalidArgument", fields: [{ field: "instances" }] });
    expect(await stateOf("inst-c")).toBe(InstanceState.IDLE);
  });
});

describe("JoinConversations", () => {
  it("streams each agent's outcome as its join ends: a bad invite refused at once with its single call's error while the other agent joins", {
    timeout: 40_000,
  }, async () => {
    const conv = await creator!.conversation("Batch join");
    const badInvite = "https://dev.convos.org/v2?i=not-an-invite";
    const outcomes: JoinConversationsResponse[] = [];
    for await (const o of hosts.client.joinConversations(
      {
        joins: [
          { instanceId: "inst-a", conversationInvite: conv.invite },
          { instanceId: "inst-b", conversationInvite: badInvite },
        ],
      },
      { timeoutMs: 30_000 },
    )) {
      outcomes.push(o);
    }
    // The refusal did not wait for the join, which waits for the creator to add the agent.
    expect(outcomes.map((o) => [o.instanceId, o.outcome.case])).toEqual([
      ["inst-b", "error"],
      ["inst-a", "joined"],
    ]);
    const refusal = seen(
      fromInstanceCallError(outcomes[0]!.outcome.case === "error" ? outcomes[0]!.outcome.value : undefined),
    );
    expect(refusal.code).toBe("InvalidArgument");
    expect(refusal).toEqual(
      await singleCallError(agents.client.joinConversation({ conversationInvite: badInvite }, instanceCall("inst-b"))),
    );
    expect(outcomes[1]!.outcome.case === "joined" && outcomes[1]!.outcome.value.conversationId).toBe(conv.groupId);
    expect(await stateOf("inst-a")).toBe(InstanceState.CLAIMED);
    expect(await stateOf("inst-b")).toBe(InstanceState.CLAIMING);
    expect((await creator!.members()).get(conv.groupId)).toEqual([host!.instances.get("inst-a")!.inboxId]);
  });
});

describe("AttestInstances", () => {
  it("attests each agent as its own Attest does, a dormant one woken for it, while an agent not in a conversation, an attestation of another inbox and an unknown agent are refused each with its single call's error, in the order asked", {
    timeout: 40_000,
  }, async () => {
    // inst-a joined its conversation above; asleep now, as a quiet agent falls asleep.
    const a = host!.instances.get("inst-a")!;
    await waitFor("inst-a to fall asleep", () => a.sleepIfQuiet(0), 20_000, 100);
    expect(await stateOf("inst-a")).toBe(InstanceState.DORMANT);
    const notInConversation = attestRequest(inboxOf("inst-b"));
    const anotherInbox = attestRequest(inboxOf("inst-a"));
    const res = await hosts.client.attestInstances(
      {
        instances: [
          { instanceId: "inst-b", attest: notInConversation },
          { instanceId: "inst-a", attest: attestRequest(inboxOf("inst-a")) },
          { instanceId: "inst-c", attest: anotherInbox },
          { instanceId: "inst-nobody", attest: attestRequest(inboxOf("inst-c")) },
        ],
      },
      { timeoutMs: 30_000 },
    );
    expect(res.outcomes.map((o) => [o.instanceId, o.outcome.case])).toEqual([
      ["inst-b", "error"],
      ["inst-a", "attested"],
      ["inst-c", "error"],
      ["inst-nobody", "error"],
    ]);
    // Woken, and its badge published in its profile.
    const attested = res.outcomes[1]!.outcome;
    expect(attested.case === "attested" && attested.value.metadataKeys).toContain("attestation");
    expect(await stateOf("inst-a")).toBe(InstanceState.CLAIMED);

    const batchError = (i: number) =>
      seen(
        fromInstanceCallError(res.outcomes[i]!.outcome.case === "error" ? res.outcomes[i]!.outcome.value : undefined),
      );
    expect(batchError(0).code).toBe("FailedPrecondition");
    expect(batchError(0)).toEqual(
      await singleCallError(agents.client.attest(notInConversation, instanceCall("inst-b"))),
    );
    expect(batchError(2)).toMatchObject({
      code: "InvalidArgument",
      fields: [{ field: "attestation.inbox_id" }],
    });
    expect(batchError(2)).toEqual(await singleCallError(agents.client.attest(anotherInbox, instanceCall("inst-c"))));
    expect(batchError(3)).toEqual(
      await singleCallError(agents.client.attest(attestRequest(inboxOf("inst-c")), instanceCall("inst-nobody"))),
    );
    expect(batchError(3).code).toBe("NotFound");
  });

  it("a call naming no agent, more than 1,000, or one agent twice, is refused whole, naming the field", async () => {
    const refusedWhole = async (instances: { instanceId: string; attest: AttestRequest }[]) => {
      const err = await hosts.client.attestInstances({ instances }).then(
        () => undefined,
        (e: unknown) => ConnectError.from(e),
      );
      expect(err, "the call should have been refused").toBeInstanceOf(ConnectError);
      return seen(err!);
    };
    const ofA = { instanceId: "inst-a", attest: attestRequest(inboxOf("inst-a")) };
    expect(await refusedWhole([])).toMatchObject({ code: "InvalidArgument", fields: [{ field: "instances" }] });
    expect(
      await refusedWhole(Array.from({ length: 1_001 }, (_, i) => ({ ...ofA, instanceId: `inst-many-${i}` }))),
    ).toMatchObject({ code: "InvalidArgument", fields: [{ field: "instances" }] });
    expect(
      await refusedWhole([ofA, { instanceId: "inst-b", attest: attestRequest(inboxOf("inst-b")) }, ofA]),
    ).toMatchObject({
      code: "InvalidArgument",
      fields: [{ field: "instances[2].instance_id" }],
    });
  });
});

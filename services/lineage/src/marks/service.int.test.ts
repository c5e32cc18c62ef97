// Agents' high-water marks (docs/scaling.md, "Only the newest state") at the
// lineage service, over gRPC on real PostgreSQL. Agents arrive as the claims
// service's relay feeds them (with their inbox); each agent's wallet is a
// real key and inboxes are derived from it, as the other lineage tests
// resolve them (the XMTP network does it in production). No templates
// service: marks need none.
import { randomBytes } from "node:crypto";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LineageEventSchema, LineageEventService } from "@convos-pool/gen/convos/pool/v1/lineage_event_service_pb.js";
import {
  AgentStateMarkService,
  type StateMark,
  StateMarkSchema,
} from "@convos-pool/gen/convos/pool/v1/state_mark_service_pb.js";
import { createServiceClient, generateServiceCredentials, type ServiceClient } from "@convos-pool/kit/server";
import { LOCAL_POOL_ID, SignatureVerifier, signOperation } from "@convos-pool/kit/signing";
import { codeOf, newIdentity, type TestIdentity } from "@convos-pool/kit/testing";
import { createTestDatabase } from "@convos-pool/testing";
import { startLineageService, type RunningLineageService } from "../server.js";

const creds = generateServiceCredentials();
let service: RunningLineageService;
let feedSc: ServiceClient<typeof LineageEventService>;
let hostSc: ServiceClient<typeof AgentStateMarkService>;
let sequence = 1_000n;

interface Agent {
  instanceId: string;
  wallet: TestIdentity;
}

async function feed(event: NonNullable<MessageInitShape<typeof LineageEventSchema>["event"]>) {
  await feedSc.client.recordLineageEvents({
    events: [create(LineageEventSchema, { sequence: ++sequence, at: timestampFromDate(new Date()), event })],
  });
}

/** A live agent, as the claims service's relay announces it. */
async function agent(): Promise<Agent> {
  const a = { instanceId: `inst_${randomBytes(8).toString("hex")}`, wallet: newIdentity() };
  await feed({
    case: "claimed",
    value: {
      instanceId: a.instanceId,
      templateId: "tmpl_0123456789abcdef",
      ownerId: newIdentity().inboxId,
      conversationId: `conv-${a.instanceId}`,
      inboxId: a.wallet.inboxId,
    },
  });
  return a;
}

/** `a`'s mark at `seq`, signed by `signer` (the agent's own wallet unless told otherwise). */
async function markOf(a: Agent, seq: bigint, signer = a.wallet): Promise<StateMark> {
  const fields = { inboxId: a.wallet.inboxId, instanceId: a.instanceId, sequence: seq };
  const agentSignature = await signOperation(signer.account, "MarkAgentState", { ...fields, inboxId: signer.inboxId });
  return create(StateMarkSchema, { ...fields, agentSignature });
}

const kept = async (a: Agent) => (await hostSc.client.getStateMark({ instanceId: a.instanceId })).mark?.sequence;

beforeAll(async () => {
  service = await startLineageService({
    databaseUrl: await createTestDatabase("marks_lineage"),
    credentials: creds.lineage,
    templatesUrl: "http://127.0.0.1:9",
  });
  feedSc = createServiceClient(LineageEventService, service.url, creds.claims);
  hostSc = createServiceClient(AgentStateMarkService, service.url, creds["instance-host"]);
}, 60_000);

afterAll(async () => {
  for (const sc of [feedSc, hostSc]) sc?.close();
  await service?.close();
});

describe("an agent's state mark", () => {
  it("is kept as the agent signed it, only ever rises, and is handed back for the restoring host to check", async () => {
    const a = await agent();
    expect(await kept(a)).toBeUndefined();
    const out = await hostSc.client.putStateMarks({ marks: [await markOf(a, 5n)] });
    expect(out.outcomes).toMatchObject([{ instanceId: a.instanceId, kept: true, error: "" }]);
    expect(await kept(a)).toBe(5n);
    // An older mark played again (a host's late call, or anyone who kept it) changes nothing.
    await hostSc.client.putStateMarks({ marks: [await markOf(a, 3n)] });
    expect(await kept(a)).toBe(5n);
    await hostSc.client.putStateMarks({ marks: [await markOf(a, 6n)] });
    const back = (await hostSc.client.getStateMark({ instanceId: a.instanceId })).mark!;
    expect(back.sequence).toBe(6n);
    // What the restoring host checks: the agent's own wallet signed this agent and sequence.
    const own = new SignatureVerifier({
      resolver: { addressBelongsToInbox: async (x) => x.toLowerCase() === a.wallet.account.address.toLowerCase() },
      poolId: LOCAL_POOL_ID,
    });
    await own.verify(
      "MarkAgentState",
      { inboxId: back.inboxId, instanceId: back.instanceId, sequence: back.sequence },
      back.agentSignature,
      "mark",
      { anyAge: true },
    );
  });

  it("is refused, each mark apart, when not the agent's signature, not its inbox, not a live agent, or malformed", async () => {
    const [a, a2, b, c] = [await agent(), await agent(), await agent(), await agent()];
    const stranger = newIdentity();
    const ended = await agent();
    await feed({ case: "ended", value: { instanceId: ended.instanceId, reason: "removed" } });
    const good = await markOf(b, 2n);
    const out = await hostSc.client.putStateMarks({
      marks: [
        await markOf(a, 9n, stranger),
        { ...(await markOf(a2, 9n)), inboxId: stranger.inboxId },
        await markOf(ended, 9n),
        { ...(await markOf(c, 1n)), sequence: 0n },
        good,
        good,
      ],
    });
    expect(out.outcomes.map((o) => [o.kept, o.error.split(":")[0]])).toEqual([
      [false, "agent_signature"],
      [false, "inbox_id"],
      [false, "instance_id"],
      [false, "sequence"],
      [true, ""],
      [false, "instance_id"],
    ]);
    expect(out.outcomes[5]!.error).toMatch(/named twice/);
    for (const x of [a, a2, c]) expect(await kept(x)).toBeUndefined();
    expect(await kept(ended)).toBeUndefined();
    expect(await kept(b)).toBe(2n);
  });

  it("is the hosts' to carry and read: another service's credential is refused", async () => {
    const gateway = createServiceClient(AgentStateMarkService, service.url, creds.gateway);
    try {
      expect(await codeOf(gateway.client.getStateMark({ instanceId: "inst_0123456789abcdef" }))).toBe(
        "PermissionDenied",
      );
    } finally {
      gateway.close();
    }
  });
});

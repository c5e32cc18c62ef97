// GrpcInstanceRuntime's claim calls (grpc-runtime.ts) over the wire, against the
// TEST STAND-IN instance host (claims/test/stand-in-host.ts), which checks each
// Configure's creator-signed release as an instance does and is where faults
// are injected. Concurrent claims' Configure and JoinConversation calls to one
// host go as one ConfigureInstances call and one JoinConversations stream, and
// the attestations that follow them as one AttestInstances call; each still
// gets exactly what its single call would give: its answer, or its agent's
// refusal with the code, message and field. The real host's side is tested in
// services/instance (host/batch-claims.int.test.ts), and every claim of
// claims-e2e.int.test.ts goes through both.
import { setTimeout as sleep } from "node:timers/promises";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { InstanceHostService } from "@convos-pool/gen/convos/pool/v1/instance_host_service_pb.js";
import {
  AttestRequestSchema,
  ConfigureRequestSchema,
  InstanceService,
  type AttestRequest,
  type ConfigureRequest,
} from "@convos-pool/gen/convos/pool/v1/instance_service_pb.js";
import { createServiceClient, generateServiceCredentials } from "@convos-pool/kit/server";
import { fieldViolations, INSTANCE_HEADER } from "@convos-pool/kit/content";
import { signUpdateRelease, newTemplateIdentity } from "@convos-pool/kit/signing";
import { newIdentity, sampleContent } from "@convos-pool/kit/testing";
import { GrpcInstanceRuntime } from "./grpc-runtime.js";
import type { InstanceRef } from "./runtime.js";
import { StandInHost } from "../../test/stand-in-host.js";

const CREDS = generateServiceCredentials();
const CREATOR = newIdentity();
/** Its template, as the templates service makes one: the id derives from CREATOR's create (kit ids.ts). */
const RUNTIME_MADE = newTemplateIdentity(CREATOR.inboxId);
const OWNER = newIdentity();

let host: StandInHost;
let runtime: GrpcInstanceRuntime;
let started = 0;

/** `n` new idle agents on `on`, started as the pool manager starts them. */
async function agents(n: number, on: StandInHost = host): Promise<InstanceRef[]> {
  const c = createServiceClient(InstanceHostService, on.url, CREDS.claims);
  try {
    return await Promise.all(
      Array.from({ length: n }, async () => {
        const id = `inst-${++started}`;
        const { inboxId } = await c.client.startInstance({ instanceId: id, walletIndex: started });
        return { id, hostUrl: on.url, inboxId };
      }),
    );
  } finally {
    c.close();
  }
}

/** What the claim flow sends: the template's release as its creator signed it. */
async function configureRequest(instance: InstanceRef): Promise<ConfigureRequest> {
  const template = await signUpdateRelease(CREATOR.account, {
    ...RUNTIME_MADE,
    creatorId: CREATOR.inboxId,
    version: 2n,
    content: sampleContent({ tools: [] }),
  });
  return create(ConfigureRequestSchema, { instanceId: instance.id, template, ownerId: OWNER.inboxId });
}

const inviteOf = (instance: InstanceRef) => `https://dev.convos.org/v2?i=runtime-${instance.id}`;

/** An attestation of `inboxId` (the stand-in checks only that it names the agent's own inbox). */
const attestRequest = (inboxId: string): AttestRequest =>
  create(AttestRequestSchema, {
    attestation: { inboxId, signature: "sig", timestamp: new Date().toISOString(), kid: "k1" },
  });

/** Each settled call as the claim flow sees it: its value, or its error's code, message and fields. */
function outcomes<T>(settled: PromiseSettledResult<T>[]) {
  return settled.map((s) => {
    if (s.status === "fulfilled") return { ok: s.value };
    const e = s.reason as ConnectError;
    expect(e, String(s.reason)).toBeInstanceOf(ConnectError);
    return { code: Code[e.code], message: e.rawMessage, fields: fieldViolations(e) };
  });
}

/** What the single InstanceService call gives for the same request. */
async function singleCall(
  call: (c: ReturnType<typeof createServiceClient<typeof InstanceService>>["client"]) => Promise<unknown>,
) {
  const c = createServiceClient(InstanceService, host.url, CREDS.claims);
  try {
    return outcomes(await Promise.allSettled([call(c.client)]))[0];
  } finally {
    c.close();
  }
}

beforeAll(async () => {
  host = await StandInHost.start(CREDS["instance-host"]);
  runtime = new GrpcInstanceRuntime({ credentials: CREDS.claims });
});

afterAll(async () => {
  runtime?.close();
  await host?.kill();
});

describe("a claim's calls to its host", () => {
  it("concurrent claims on one host go as one ConfigureInstances call and one JoinConversations stream, each claim getting its own answer", async () => {
    const claimed = await agents(3);
    const requests = await Promise.all(claimed.map(configureRequest));
    const before = host.claimBatches.length;
    await Promise.all(claimed.map((a, i) => runtime.configure(a, requests[i]!)));
    const joined = await Promise.all(claimed.map((a) => runtime.join(a, inviteOf(a))));
    expect(host.claimBatches.slice(before)).toEqual([
      { call: "configure", instanceIds: claimed.map((a) => a.id) },
      { call: "join", instanceIds: claimed.map((a) => a.id) },
    ]);
    // Each its own conversation, each agent configured with its own request, each call recorded as a single call's.
    expect(joined.map((j) => j.conversationId)).toEqual(claimed.map((a) => host.instances.get(a.id)!.conversationId));
    expect(new Set(joined.map((j) => j.conversationId)).size).toBe(3);
    for (const [i, a] of claimed.entries()) {
      expect(host.instances.get(a.id)!.configured).toEqual(requests[i]);
      expect(host.callsOf(a.id)).toEqual(["configure", "join"]);
    }
  });

  it("an agent's refusal reaches its claim with its single call's code, message and field, while the others of its batch are configured and joined", async () => {
    const [a, b, c] = await agents(3);
    const unknown: InstanceRef = { id: "inst-nobody", hostUrl: host.url, inboxId: "" };
    // No template: the agent refuses it, naming the field.
    const noTemplate = create(ConfigureRequestSchema, { ...(await configureRequest(b!)), template: undefined });
    const configured = outcomes(
      await Promise.allSettled([
        runtime.configure(a!, await configureRequest(a!)),
        runtime.configure(b!, noTemplate),
        runtime.configure(unknown, await configureRequest(unknown)),
        runtime.configure(c!, await configureRequest(c!)),
      ]),
    );
    expect(host.claimBatches.at(-1)).toEqual({ call: "configure", instanceIds: [a!.id, b!.id, unknown.id, c!.id] });
    expect(configured).toEqual([
      { ok: undefined },
      {
        code: "InvalidArgument",
        message: "template: required: the template's release as its creator signed it",
        fields: [{ field: "template", description: "required: the template's release as its creator signed it" }],
      },
      { code: "NotFound", message: "no instance inst-nobody on this host", fields: [] },
      { ok: undefined },
    ]);
    expect(configured[1]).toEqual(
      await singleCall((c) => c.configure(noTemplate, { headers: { [INSTANCE_HEADER]: b!.id } })),
    );

    // b was not configured: its join is refused as its single call would be, and a's and c's go through.
    const joined = outcomes(await Promise.allSettled([a!, b!, c!].map((x) => runtime.join(x, inviteOf(x)))));
    expect(joined).toEqual([
      { ok: { conversationId: host.instances.get(a!.id)!.conversationId } },
      { code: "FailedPrecondition", message: "not configured", fields: [] },
      { ok: { conversationId: host.instances.get(c!.id)!.conversationId } },
    ]);
  });

  it("a host's injected failure and a host gone fail each claim of the batch as its single call would have", async () => {
    const [a, b] = await agents(2);
    await Promise.all([a!, b!].map(async (x) => runtime.configure(x, await configureRequest(x))));
    host.failing.add("join");
    host.failingWith.set("join", Code.FailedPrecondition);
    try {
      const single = await singleCall((c) =>
        c.joinConversation({ conversationInvite: inviteOf(a!) }, { headers: { [INSTANCE_HEADER]: a!.id } }),
      );
      expect(outcomes(await Promise.allSettled([a!, b!].map((x) => runtime.join(x, inviteOf(x)))))).toEqual([
        single,
        single,
      ]);
    } finally {
      host.failing.delete("join");
      host.failingWith.delete("join");
    }

    // The host away: the whole call fails, and with it each claim of the batch with that one error, as each
    // single call would have (UNAVAILABLE; INTERNAL on a connection the host refused as it went).
    await host.kill();
    try {
      const away = outcomes(await Promise.allSettled([a!, b!].map((x) => runtime.join(x, inviteOf(x)))));
      expect(away[1]).toEqual(away[0]);
      expect(["Unavailable", "Internal"]).toContain(away[0]!.code);
    } finally {
      await host.restart();
    }
  });

  it("a join stream is bounded by the join timeout, as each single join is", async () => {
    const short = new GrpcInstanceRuntime({ credentials: CREDS.claims, joinTimeoutMs: 300 });
    const [a, b] = await agents(2);
    await Promise.all([a!, b!].map(async (x) => short.configure(x, await configureRequest(x))));
    host.joinDelayMs = 2_000;
    try {
      const late = outcomes(await Promise.allSettled([a!, b!].map((x) => short.join(x, inviteOf(x)))));
      expect(late.map((o) => o.code)).toEqual(["DeadlineExceeded", "DeadlineExceeded"]);
    } finally {
      host.joinDelayMs = 0;
      short.close();
    }
  });

  it("a host that predates the batch calls still gets each claim configured and joined, by the single calls, and is remembered", async () => {
    const old = await StandInHost.start(CREDS["instance-host"]);
    old.takesClaimBatches = false;
    try {
      const claimed = await agents(4, old);
      const [first, second] = [claimed.slice(0, 2), claimed.slice(2)];
      await Promise.all(first.map(async (a) => runtime.configure(a, await configureRequest(a))));
      await Promise.all(first.map((a) => runtime.join(a, inviteOf(a))));
      for (const a of first) expect(old.callsOf(a.id)).toEqual(["configure", "join"]);
      // Upgraded meanwhile: the runtime does not ask again for a while (as instruction sync).
      old.takesClaimBatches = true;
      await Promise.all(second.map(async (a) => runtime.configure(a, await configureRequest(a))));
      await Promise.all(second.map((a) => runtime.join(a, inviteOf(a))));
      for (const a of second) expect(old.callsOf(a.id)).toEqual(["configure", "join"]);
      expect(old.claimBatches).toEqual([]);
      for (const a of claimed) expect(old.instances.get(a.id)!.conversationId).toBeTruthy();
    } finally {
      await old.kill();
    }
  });

  it("a lone claim waits for no timer: with every timer stopped, it is still configured, joined and attested, by the single calls", async () => {
    const [a] = await agents(1);
    const batchesBefore = host.claimBatches.length;
    const attestBatchesBefore = host.attestBatches.length;
    const req = await configureRequest(a!);
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval"] });
    try {
      const all = (async () => {
        await runtime.configure(a!, req);
        const joined = await runtime.join(a!, inviteOf(a!));
        await runtime.attest(a!, attestRequest(a!.inboxId));
        return joined;
      })();
      const answer = await Promise.race([all, sleep(5_000).then(() => "stuck")]);
      expect(answer).toEqual({ conversationId: host.instances.get(a!.id)!.conversationId });
    } finally {
      vi.useRealTimers();
    }
    // One alone is not worth a batch call.
    expect(host.claimBatches.length).toBe(batchesBefore);
    expect(host.attestBatches.length).toBe(attestBatchesBefore);
    expect(host.callsOf(a!.id).slice(-2)).toEqual(["configure", "join"]);
    expect(host.singleAttests.at(-1)).toBe(a!.id);
  });
});

describe("the attestations' calls to their hosts", () => {
  it("attestations of one host's agents made together go as one AttestInstances call, each settled with its own outcome: a refusal with its single call's code, message and field while the others are attested", async () => {
    const [a, b, c] = await agents(3);
    const unknown: InstanceRef = { id: "inst-nobody", hostUrl: host.url, inboxId: "" };
    // b handed an attestation of a's inbox: it refuses it, naming the field.
    const ofAnother = attestRequest(a!.inboxId);
    const before = { batches: host.attestBatches.length, singles: host.singleAttests.length };
    const attested = outcomes(
      await Promise.allSettled([
        runtime.attest(a!, attestRequest(a!.inboxId)),
        runtime.attest(b!, ofAnother),
        runtime.attest(unknown, attestRequest("")),
        runtime.attest(c!, attestRequest(c!.inboxId)),
      ]),
    );
    expect(host.attestBatches.slice(before.batches)).toEqual([[a!.id, b!.id, unknown.id, c!.id]]);
    expect(host.singleAttests.length).toBe(before.singles);
    expect(attested).toEqual([
      { ok: undefined },
      {
        code: "InvalidArgument",
        message: "attestation.inbox_id: must name this agent's own inbox",
        fields: [{ field: "attestation.inbox_id", description: "must name this agent's own inbox" }],
      },
      { code: "NotFound", message: "no instance inst-nobody on this host", fields: [] },
      { ok: undefined },
    ]);
    expect(attested[1]).toEqual(
      await singleCall((c) => c.attest(ofAnother, { headers: { [INSTANCE_HEADER]: b!.id } })),
    );
  });

  it("the host gone fails each attestation of the batch alike, as its single call would have", async () => {
    const [a, b] = await agents(2);
    await host.kill();
    try {
      const away = outcomes(await Promise.allSettled([a!, b!].map((x) => runtime.attest(x, attestRequest(x.inboxId)))));
      expect(away[1]).toEqual(away[0]);
      expect(["Unavailable", "Internal"]).toContain(away[0]!.code);
    } finally {
      await host.restart();
    }
  });

  it("a host that predates AttestInstances alone gets the single Attest calls, and is remembered, while a claim's calls to it still go in batches", async () => {
    const older = await StandInHost.start(CREDS["instance-host"]);
    older.takesAttestBatches = false;
    try {
      const claimed = await agents(4, older);
      const [first, second] = [claimed.slice(0, 2), claimed.slice(2)];
      await Promise.all(first.map((a) => runtime.attest(a, attestRequest(a.inboxId))));
      // Upgraded meanwhile: the runtime does not ask again for a while.
      older.takesAttestBatches = true;
      await Promise.all(second.map((a) => runtime.attest(a, attestRequest(a.inboxId))));
      expect(older.singleAttests).toEqual(claimed.map((a) => a.id));
      expect(older.attestBatches).toEqual([]);
      // Its ConfigureInstances is not held against it.
      await Promise.all(claimed.map(async (a) => runtime.configure(a, await configureRequest(a))));
      expect(older.claimBatches).toEqual([{ call: "configure", instanceIds: claimed.map((a) => a.id) }]);
    } finally {
      await older.kill();
    }
  });
});

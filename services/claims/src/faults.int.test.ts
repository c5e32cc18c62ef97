// Faults with real processes: a claims service started from its main.ts, as
// deploy/ runs it, killed with SIGKILL in the middle of a claim (after
// Configure, during the join). The client lost its answer; it retries with
// the same idempotency key at another replica (the in-process claims service
// on the same database), which resolves the dead process's claim once its
// lease runs out: the agent taken back, the retry told so, never a second one.
// Both replicas hold a claim's lease for 4 s (CLAIM_LEASE_SECONDS' least), not
// the default 20, so the retry hears in seconds what it would in 20 or so.
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClaimService } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import { createServiceClient, serviceEnv } from "@convos-pool/kit/server";
import { newIdentity, sampleContent, signedTemplate } from "@convos-pool/kit/testing";
import { startServiceProcess, type ServiceProcess, waitFor } from "@convos-pool/testing";
import { as } from "../test/helpers.js";
import { StandInStack } from "../test/stand-in-stack.js";

const LEASE_SECONDS = 4;
const stack = new StandInStack({
  name: "faults",
  smsRange: "+15550910000..+15550910019",
  claimLeaseSeconds: LEASE_SECONDS,
});
let proc: ServiceProcess | undefined;

beforeAll(async () => {
  await stack.start();
  proc = await startServiceProcess("services/claims/src/main.ts", {
    env: {
      DATABASE_URL: stack.claimsDatabaseUrl,
      TEMPLATES_URL: stack.templates.url,
      POOL_SECRETS_KEY: stack.secretsKey,
      POOL_DATA_DIR: stack.dataDir,
      SMS_NUMBER_RANGE: "+15550910000..+15550910019",
      CLAIM_LEASE_SECONDS: String(LEASE_SECONDS),
      ...serviceEnv(stack.creds.claims),
    },
  });
}, 90_000);

afterAll(async () => {
  await proc?.kill();
  await stack.close();
});

describe("a claims process killed mid-claim", () => {
  it("leaves no agent half-claimed: a retry with the same key at another replica learns the outcome within 30 s, and no second agent is made", {
    timeout: 90_000,
  }, async () => {
    const t = await signedTemplate(stack.templatesClient, newIdentity(), sampleContent({ tools: [] }), "public");
    await stack.seedIdle(2);
    const owner = newIdentity();
    const req = {
      requester: owner.inboxId,
      templateId: t.id,
      conversationInvite: "https://dev.convos.org/v2?i=faults-1",
      idempotencyKey: "killed-during-join",
    };
    const killed = createServiceClient(ClaimService, proc!.url, stack.creds.gateway);
    stack.host.joinDelayMs = 10_000;
    const joins = () => stack.host.calls.filter((c) => c.step === "join");
    const before = joins().length;
    const lost = killed.client.claim(req, as(owner)).then(
      () => undefined,
      (err: unknown) => ConnectError.from(err),
    );
    let failedEarly: ConnectError | undefined;
    void lost.then((e) => (failedEarly = e));
    await waitFor(
      "the killed replica's join, or its claim failing",
      () => joins().length > before || !!failedEarly,
      30_000,
    );
    expect(failedEarly?.message ?? "", proc!.lines.slice(-5).join("\n")).toBe("");
    const instanceId = joins().at(-1)!.instanceId;
    expect(stack.host.callsOf(instanceId)).toEqual(["configure", "join"]);
    await proc!.kill("SIGKILL");
    const killedAt = Date.now();
    expect([Code.Unavailable, Code.Canceled]).toContain((await lost)?.code); // the connection went with the process
    killed.close();
    stack.host.joinDelayMs = 0;

    // Another replica's sweep, as its timer runs it every few seconds (here every second, so that the
    // retry hears within a second of the lease running out).
    let sweeping = true;
    const sweeper = (async () => {
      while (sweeping) {
        await stack.claims.flow.sweep();
        await new Promise((r) => setTimeout(r, 1_000));
      }
    })();
    try {
      const retry = await stack.claimsClient.claim(req, as(owner)).then(
        () => undefined,
        (err: unknown) => ConnectError.from(err),
      );
      expect(retry?.code).toBe(Code.Aborted);
      expect(retry?.rawMessage).toMatch(/stopped before it finished/);
      expect(Date.now() - killedAt).toBeLessThan(30_000);
    } finally {
      sweeping = false;
      await sweeper;
    }
    expect(await stack.instanceRow(instanceId)).toMatchObject({ state: "dead", owner_id: null, claim_id: null });
    expect(stack.host.callsOf(instanceId)).toEqual(["configure", "join", "release"]);
    expect(await stack.rows(`select id from instances where owner_id = $1`, [owner.inboxId])).toEqual([]);
    // A new try, with a new key, gets an agent.
    const again = await stack.claimsClient.claim({ ...req, idempotencyKey: "after-the-crash" }, as(owner));
    expect(again.instanceId).not.toBe(instanceId);
  });
});

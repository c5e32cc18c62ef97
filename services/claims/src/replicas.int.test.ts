// Two claims services on one PostgreSQL database (docs/scaling.md), in this
// process, against the STAND-IN instance host (claims/test/stand-in-host.ts),
// which counts every call per instance: a burst of claims through both, no
// instance taken twice; one requester's burst split across both held to one
// allowance (claims per caller, counted in the shared database); a template update pushed to one while the other's
// fan-out runs too, each agent updated once. With real processes, real
// instance hosts and SIGKILL: services/e2e/src/replicas.system.test.ts.
import { randomBytes } from "node:crypto";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClaimService } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import { createLogger, createServiceClient, DEFAULT_LIMITS, limitExceededOf } from "@convos-pool/kit/server";
import { signUpdateRelease } from "@convos-pool/kit/signing";
import { newIdentity, sampleContent, signedTemplate, creationNonceOf } from "@convos-pool/kit/testing";
import { waitFor } from "@convos-pool/testing";
import { startClaimsService, type RunningClaimsService } from "./server.js";
import { as } from "../test/helpers.js";
import { StandInStack } from "../test/stand-in-stack.js";

const stack = new StandInStack({
  name: "replicas",
  smsRange: "+15550900000..+15550900199",
  sync: { concurrency: 2, scanIntervalMs: 50 },
});
const { seedIdle, rows } = stack;
let second: RunningClaimsService;
const clients: { close(): void }[] = [];

beforeAll(async () => {
  await stack.start();
  second = await startClaimsService({
    budget: stack.budget,
    databaseUrl: stack.claimsDatabaseUrl,
    credentials: stack.creds.claims,
    templatesUrl: stack.templates.url,
    secretsKey: stack.secretsKey,
    dataDir: stack.dataDir,
    smsRange: "+15550900000..+15550900199",
    sync: { concurrency: 2, scanIntervalMs: 50 },
    sweepIntervalMs: 3_600_000,
    log: createLogger("claims-2", { level: "silent" }),
  });
});

afterAll(async () => {
  for (const c of clients) c.close();
  await second?.close();
  await stack.close();
});

const claimsAt = (url: string) => {
  const c = createServiceClient(ClaimService, url, stack.creds.gateway);
  clients.push(c);
  return c.client;
};

describe("two claims services on one database", () => {
  it("a burst of claims through both: every claim its own instance, configured and joined once; one more than idle is told so", async () => {
    const creator = newIdentity();
    const t = await signedTemplate(stack.templatesClient, creator, sampleContent({ tools: [] }));
    const idle = await seedIdle(30);
    stack.host.joinDelayMs = 20;
    const [a, b] = [claimsAt(stack.claims.url), claimsAt(second.url)];
    const results = await Promise.all(
      Array.from({ length: 31 }, (_, i) => {
        const owner = newIdentity();
        const invite = `https://dev.convos.org/v2?i=invite-${randomBytes(6).toString("hex")}`;
        return (i % 2 === 0 ? a : b)
          .claim({ requester: owner.inboxId, templateId: t.id, conversationInvite: invite }, as(owner))
          .then(
            (r) => ({ id: r.instanceId, owner: owner.inboxId }),
            (err: unknown) => ({ code: ConnectError.from(err).code }),
          );
      }),
    );
    stack.host.joinDelayMs = 0;
    const won = results.filter((r): r is { id: string; owner: string } => "id" in r);
    expect(won).toHaveLength(30);
    expect(results.filter((r) => "code" in r)).toEqual([{ code: Code.ResourceExhausted }]);
    expect(new Set(won.map((w) => w.id))).toEqual(new Set(idle));
    for (const id of idle) {
      const calls = stack.host.callsOf(id);
      expect(
        calls.filter((c) => c === "configure"),
        id,
      ).toEqual(["configure"]);
      expect(
        calls.filter((c) => c === "join"),
        id,
      ).toEqual(["join"]);
    }
    const owned = await rows<{ id: string; owner_id: string; state: string }>(
      `select id, owner_id, state from instances where id = any($1)`,
      [idle],
    );
    expect(owned.map((r) => r.state)).toEqual(idle.map(() => "claimed"));
    expect(new Map(owned.map((r) => [r.id, r.owner_id]))).toEqual(new Map(won.map((w) => [w.id, w.owner])));
  });

  it("one requester's burst split across both is held to one allowance of claims per caller, counted where both see it", async () => {
    const creator = newIdentity();
    const t = await signedTemplate(stack.templatesClient, creator, sampleContent({ tools: [] }));
    const allowance = DEFAULT_LIMITS.claimsPerCaller!.points;
    await seedIdle(allowance);
    const owner = newIdentity();
    const [a, b] = [claimsAt(stack.claims.url), claimsAt(second.url)];
    const results = await Promise.all(
      Array.from({ length: 3 * allowance }, (_, i) =>
        (i % 2 === 0 ? a : b)
          .claim(
            {
              requester: owner.inboxId,
              templateId: t.id,
              conversationInvite: `https://dev.convos.org/v2?i=invite-${randomBytes(6).toString("hex")}`,
            },
            as(owner),
          )
          .then(
            (r) => r.instanceId,
            (err: unknown) => limitExceededOf(err)?.limit ?? Code[ConnectError.from(err).code],
          ),
      ),
    );
    const won = results.filter((r) => r.startsWith("inst_"));
    expect(won).toHaveLength(allowance);
    expect(results.filter((r) => !r.startsWith("inst_"))).toEqual(Array(2 * allowance).fill("claims per caller"));
    // Read back: one counter for the requester, in the database both replicas open.
    const [row] = await rows<{ points: number; expire: string }>(
      `select points, expire from rate_counters where key = $1`,
      [`claims per caller:${owner.inboxId}`],
    );
    expect(row!.points).toBeGreaterThan(allowance);
    expect(Number(row!.expire)).toBeGreaterThan(Date.now());
    const owned = await rows<{ id: string }>(`select id from instances where owner_id = $1 and state = 'claimed'`, [
      owner.inboxId,
    ]);
    expect(owned.map((r) => r.id).sort()).toEqual([...won].sort());
  });

  it("an update fanned out by both services' sync workers reaches every agent once", async () => {
    const creator = newIdentity();
    const content = sampleContent({ tools: [] });
    const t = await signedTemplate(stack.templatesClient, creator, content);
    const ids = await seedIdle(40);
    const [a, b] = [claimsAt(stack.claims.url), claimsAt(second.url)];
    for (const [i, id] of ids.entries()) {
      const owner = newIdentity();
      const got = await (i % 2 ? a : b).claim(
        { requester: owner.inboxId, templateId: t.id, conversationInvite: `https://dev.convos.org/v2?i=${id}` },
        as(owner),
      );
      expect(ids).toContain(got.instanceId);
    }
    // Slow enough that both workers' scans run while deliveries are in flight.
    stack.host.updateDelayMs = 30;
    stack.host.maxUpdatesInFlight = 0;
    const v = t.contentVersion + 1n;
    const release = await signUpdateRelease(creator.account, {
      templateId: t.id,
      creatorId: creator.inboxId,
      creationNonce: creationNonceOf(t.id),
      version: v,
      content: { ...content, instructions: "Only Japan." },
    });
    await stack.syncClient.pushTemplateVersion({ template: release });
    // The second service learns of it from the database alone (its scan), as a replica the push did not reach.
    await waitFor(
      "every agent at the new version",
      () => ids.every((id) => stack.host.instances.get(id)?.appliedVersion === Number(v)),
      20_000,
    );
    await waitFor(
      "every delivery recorded",
      async () =>
        (await rows(`select 1 from instances where id = any($1) and sync_next_at is not null`, [ids])).length === 0,
      20_000,
    );
    for (const id of ids)
      expect(
        stack.host.callsOf(id).filter((c) => c === "update"),
        id,
      ).toEqual(["update"]);
    // Both delivered: a scan takes 32 at most (2 at once, 16 each queued), and each service has 2 in flight.
    expect(stack.host.maxUpdatesInFlight).toBeGreaterThan(2);
    stack.host.updateDelayMs = 0;
  });
});

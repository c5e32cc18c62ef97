// The verified badge and the birth certificate, end to end: Saul (a real
// Convos CLI serving the conversation) claims an agent with his signed
// claim; the agent publishes its face, the pool's attestation and its
// certificate in its Convos profile, which Saul's CLI reads. The Convos
// CLI's own `attestation verify` checks the badge against the gateway's
// JWKS, and refuses a tampered one or one of another inbox; `pool
// verify-agent` checks the certificate's signatures against the local XMTP
// node. The claims service attests again when due, at once when the key
// that signed is dropped, never a removed agent. A transfer offer has a
// deadline (dated at most 5 minutes ahead, 7 days long) and a withdrawal
// voids the open one whatever its date, checked by the pool and the agent.
// Real: PostgreSQL, the XMTP node, the instance host, the claims and
// template services, the gateway, the Convos CLI. Nothing stands in.
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AttestRequestSchema,
  TransferOwnerRequestSchema,
} from "@convos-pool/gen/convos/pool/v1/instance_service_pb.js";
import { Code } from "@connectrpc/connect";
import { run as pool } from "@convos-pool/cli";
import { startGateway, type RunningGateway } from "@convos-pool/gateway";
import type { Agent } from "@convos-pool/instance";
import { DEV_KEY_FILE } from "@convos-pool/claims";
import {
  AttestationKeyRing,
  generateAttestationKeyPem,
  plainMetadata,
  signClaim,
  signOperation,
  type AttestationJwks,
  type ProfileMetadata,
} from "@convos-pool/kit/signing";
import { createLogger } from "@convos-pool/kit/server";
import { createTestDatabase } from "@convos-pool/testing";
import { newIdentity, sampleContent, signedTemplate, type TestIdentity } from "@convos-pool/kit/testing";
import { runConvos, type CliEvent } from "@convos-pool/testing/convos-cli";
import { RealStack } from "./real-stack.js";
import { waitFor } from "@convos-pool/testing/wait";
import { as } from "@convos-pool/claims/testing";
import { LOCAL_XMTP_PORT } from "@convos-pool/testing/xmtp-port";

const stack = new RealStack({
  name: "badge-e2e",
  conversationName: "Trip buddies",
  host: { joinTimeoutMs: 15_000 },
  claims: { pool: { target: 1 }, attestation: { scanIntervalMs: 300 } },
});

let gateway: RunningGateway;
let saul: TestIdentity;
/** Saul, until he hands the agent to Ana. */
let owner: TestIdentity;
let creator: TestIdentity;
let agent: Agent;
let templateId: string;
let jwksUrl: string;

/** The agent's newest profile_update with an attestation, as Saul's CLI printed it. */
const attested = (from = 0) =>
  stack.cli!.waitFor<CliEvent & { name?: string; metadata?: unknown }>(
    "the agent's attested profile",
    (e) =>
      e.event === "profile_update" &&
      e.senderInboxId === agent.inboxId &&
      !!(e as { metadata?: Record<string, unknown> }).metadata?.attestation,
    { ms: 30_000, from },
  );

/** `convos attestation verify` (it needs no XMTP node: no bridge, so it reaches the gateway). */
const convosVerify = (inboxId: string, m: ProfileMetadata, jwks = jwksUrl) =>
  runConvos<{ verified: boolean; reason: string | null }>(
    [
      "attestation",
      "verify",
      inboxId,
      "--attestation",
      String(m.attestation),
      "--attestation-ts",
      String(m.attestation_ts),
      "--attestation-kid",
      String(m.attestation_kid),
      "--jwks-url",
      jwks,
    ],
    join(stack.dir, "verifier"),
    { xmtpPort: LOCAL_XMTP_PORT },
  );

/** `pool verify-agent` in this process, with the profile as a file; its exit code and printed report. */
async function verifyAgent(inboxId: string, m: ProfileMetadata, invite?: string) {
  const file = join(stack.dir, `profile-${Date.now()}.json`);
  await writeFile(file, JSON.stringify({ metadata: m }));
  const out: string[] = [];
  const code = await pool(
    [
      "--json",
      "verify-agent",
      inboxId,
      "--profile",
      file,
      "--url",
      gateway.url,
      ...(invite ? ["--invite", invite] : []),
    ],
    {
      env: { XMTP_API_URL: stack.node!.url },
      cwd: stack.dir,
      stdout: (t) => out.push(t),
      stderr: () => {},
    },
  );
  return { code, report: JSON.parse(out.join("")) as Record<string, unknown> };
}

beforeAll(async () => {
  await stack.start();
  gateway = await startGateway({
    templatesUrl: stack.templates!.url,
    claimsUrl: stack.claims!.url,
    credentials: stack.creds.gateway,
    databaseUrl: await createTestDatabase("badge_e2e_gateway"),
    log: createLogger("gateway", { level: "silent" }),
  });
  jwksUrl = `${gateway.url}/.well-known/agents.json`;
  await mkdir(join(stack.dir, "verifier"), { recursive: true });
  saul = await stack.personOf();
  owner = saul;
  creator = newIdentity();
  const template = await signedTemplate(
    stack.templatesSc!.client,
    creator,
    sampleContent({ agent_name: "Trip Planner", description: "Plans trips with you", avatar: "🧭", tools: [] }),
    "public",
  );
  templateId = template.id;
  await stack.idleAgents(1);
  // Signed, not a session: the owner's own signature goes into the certificate.
  const claim = {
    requester: saul.inboxId,
    templateId,
    conversationInvite: stack.ready.inviteUrl,
    model: "",
    userConfig: {},
  };
  const { instanceId } = await stack.claimsSc!.client.claim({
    ...claim,
    signature: await signClaim(saul.account, claim),
  });
  agent = stack.host!.instances.get(instanceId)!;
}, 180_000);

afterAll(async () => {
  await gateway?.close();
  await stack.close();
});

describe("the verified badge and the birth certificate", () => {
  let profile: ProfileMetadata;

  it("a member sees the agent's face, the pool's attestation and its certificate in its Convos profile", {
    timeout: 60_000,
  }, async () => {
    const e = await attested();
    expect(e.name).toBe("Trip Planner");
    profile = plainMetadata(e);
    expect(profile).toMatchObject({
      description: "Plans trips with you",
      avatar: "🧭",
      template_id: templateId,
      template_version: 1,
      creator: creator.inboxId,
      owner: saul.inboxId,
      attestation_kid: expect.stringMatching(/^dev-/),
    });
    expect(profile.parent).toBeUndefined();
    expect(Date.now() - Date.parse(String(profile.attestation_ts))).toBeLessThan(60_000);
    // The gateway's JWKS has the key that signed it, public half only.
    const jwks = (await (await fetch(jwksUrl)).json()) as AttestationJwks;
    expect(jwks.keys.map((k) => k.kid)).toContain(profile.attestation_kid);
    expect(JSON.stringify(jwks)).not.toMatch(/PRIVATE|"d":/);
  });

  it("the Convos CLI's own attestation verify says valid against the gateway's JWKS, and refuses a tampered one", {
    timeout: 60_000,
  }, async () => {
    const sig = String(profile.attestation);
    const tampered = { ...profile, attestation: `${sig[0] === "A" ? "B" : "A"}${sig.slice(1)}` };
    // Side by side: each is a CLI start of several seconds. (Another inbox's is refused by the
    // CLI's own code in kit's attestation.test.ts, and by pool verify-agent below.)
    const [valid, altered] = await Promise.all([
      convosVerify(agent.inboxId, profile),
      convosVerify(agent.inboxId, tampered),
    ]);
    expect(valid).toMatchObject({ verified: true, reason: null });
    expect(altered.verified).toBe(false);
  });

  it("pool verify-agent checks the creator's release and the owner's signed claim into this conversation", {
    timeout: 60_000,
  }, async () => {
    const { code, report } = await verifyAgent(agent.inboxId, profile, stack.ready.inviteUrl);
    expect(report.problems).toEqual([]);
    expect(code).toBe(0);
    expect(report).toMatchObject({
      valid: true,
      attestation: { valid: true },
      inboxCheck: stack.node!.url,
      certificate: {
        templateId,
        version: 1,
        creatorId: creator.inboxId,
        ownerId: saul.inboxId,
        ownerProof: "claim",
        template: { ok: true, by: "signature" },
        owner: { ok: true, by: "signature", detail: expect.stringContaining("this conversation's invite") },
      },
    });
    // Another inbox's profile passed off as this one's: refused, exit 1.
    const other = await verifyAgent(saul.inboxId, profile);
    expect(other.code).toBe(1);
    expect(other.report.valid).toBe(false);
    // A profile that names another owner than the one who signed.
    const lying = await verifyAgent(agent.inboxId, { ...profile, owner: creator.inboxId });
    expect(lying.code).toBe(1);
  });

  it("the agent refuses an attestation of another inbox and publishes nothing", { timeout: 30_000 }, async () => {
    const before = stack.cli!.events.length;
    const req = create(AttestRequestSchema, {
      attestation: {
        inboxId: saul.inboxId,
        signature: String(profile.attestation),
        timestamp: String(profile.attestation_ts),
        kid: String(profile.attestation_kid),
      },
      key: { kid: String(profile.attestation_kid), x: "" },
    });
    await expect(agent.attest(req)).rejects.toThrow(/attestation.inbox_id/);
    // Its own inbox, with a key that did not sign it.
    const forged = create(AttestRequestSchema, {
      attestation: { ...req.attestation!, inboxId: agent.inboxId },
      key: { kid: String(profile.attestation_kid), x: "A".repeat(43) },
    });
    await expect(agent.attest(forged)).rejects.toThrow(/attestation.signature/);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(
      stack.cli!.events.slice(before).filter((e) => e.event === "profile_update" && e.senderInboxId === agent.inboxId),
    ).toEqual([]);
  });

  it("a transfer offer has a deadline: one dated a day ahead is refused by the pool and by the agent, and a withdrawal voids the open offer though it is dated after the withdrawal", {
    timeout: 60_000,
  }, async () => {
    const ana = newIdentity();
    const client = stack.claimsSc!.client;
    const offerFields = { inboxId: saul.inboxId, instanceId: agent.id, newOwnerId: ana.inboxId };
    const now = Math.floor(Date.now() / 1000);
    const acceptance = await signOperation(ana.account, "AcceptAgent", {
      inboxId: ana.inboxId,
      instanceId: agent.id,
      fromOwnerId: saul.inboxId,
    });
    const handOver = (offer: Awaited<ReturnType<typeof signOperation>>) =>
      agent.transferOwner(
        create(TransferOwnerRequestSchema, { ownerId: saul.inboxId, newOwnerId: ana.inboxId, offer, acceptance }),
      );
    // Dated a day ahead: the pool refuses it, naming the field; the agent, handed it past the pool, too.
    const ahead = await signOperation(saul.account, "TransferAgent", offerFields, now + 86_400);
    await expect(
      client.transferAgent({ instanceId: agent.id, newOwnerId: ana.inboxId, ownerSignature: ahead }, as(saul)),
    ).rejects.toMatchObject({
      code: Code.Unauthenticated,
      rawMessage: expect.stringContaining("owner_signature.issued_at"),
    });
    await expect(handOver(ahead)).rejects.toThrow(/offer\.issued_at: dated more than 5 minutes ahead/);
    // Dated 50 s ahead (inside the clock-skew allowance), offered, then withdrawn at once: the
    // withdrawal is dated before the offer, and still voids it.
    const soon = await signOperation(saul.account, "TransferAgent", offerFields, now + 50);
    await client.transferAgent({ instanceId: agent.id, newOwnerId: ana.inboxId, ownerSignature: soon }, as(saul));
    const back = await client.withdrawTransfer(
      { instanceId: agent.id, ownerSignature: await signOperation(saul.account, "WithdrawTransfer", offerFields, now) },
      as(saul),
    );
    expect(back.instance).toMatchObject({ ownerId: saul.inboxId, pendingOwnerId: "" });
    await expect(client.acceptAgent({ instanceId: agent.id, signature: acceptance }, as(ana))).rejects.toMatchObject({
      code: Code.NotFound,
    });
    // A pool that kept it cannot complete it: the agent voided it by its nonce.
    await expect(handOver(soon)).rejects.toThrow(/the owner withdrew it/);
    expect(agent.configSnapshot?.ownerId).toBe(saul.inboxId);
  });

  it("a newer offer replaces the older one at the agent: whoever kept the offer to Ana cannot complete it once Saul offered Carol", {
    timeout: 60_000,
  }, async () => {
    const [ana, carol] = [newIdentity(), newIdentity()];
    const client = stack.claimsSc!.client;
    const offerTo = (who: TestIdentity) =>
      signOperation(saul.account, "TransferAgent", {
        inboxId: saul.inboxId,
        instanceId: agent.id,
        newOwnerId: who.inboxId,
      });
    const toAna = await offerTo(ana);
    await client.transferAgent({ instanceId: agent.id, newOwnerId: ana.inboxId, ownerSignature: toAna }, as(saul));
    const toCarol = await offerTo(carol);
    await client.transferAgent({ instanceId: agent.id, newOwnerId: carol.inboxId, ownerSignature: toCarol }, as(saul));
    expect((await client.getInstance({ instanceId: agent.id }, as(saul))).instance?.pendingOwnerId).toBe(carol.inboxId);
    // The offer to Ana, in its 7 days, never withdrawn, with Ana's acceptance, straight to the agent: refused.
    const anaAccepts = await signOperation(ana.account, "AcceptAgent", {
      inboxId: ana.inboxId,
      instanceId: agent.id,
      fromOwnerId: saul.inboxId,
    });
    await expect(
      agent.transferOwner(
        create(TransferOwnerRequestSchema, {
          ownerId: saul.inboxId,
          newOwnerId: ana.inboxId,
          offer: toAna,
          acceptance: anaAccepts,
        }),
      ),
    ).rejects.toMatchObject({ code: Code.PermissionDenied });
    expect(agent.configSnapshot?.ownerId).toBe(saul.inboxId);
    // Saul takes the offer to Carol back too: the agent stays his for the next test.
    await client.withdrawTransfer(
      {
        instanceId: agent.id,
        ownerSignature: await signOperation(saul.account, "WithdrawTransfer", {
          inboxId: saul.inboxId,
          instanceId: agent.id,
          newOwnerId: carol.inboxId,
        }),
      },
      as(saul),
    );
  });

  it("after a transfer it names its new owner, and pool verify-agent checks the chain from Saul's claim to her", {
    timeout: 60_000,
  }, async () => {
    const ana = newIdentity();
    const client = stack.claimsSc!.client;
    // Saul offers, then thinks better of it: the agent voids the offer, the pool forgets it.
    const offerFields = { inboxId: saul.inboxId, instanceId: agent.id, newOwnerId: ana.inboxId };
    const withdrawn = await signOperation(saul.account, "TransferAgent", offerFields);
    await client.transferAgent({ instanceId: agent.id, newOwnerId: ana.inboxId, ownerSignature: withdrawn }, as(saul));
    const stranger = newIdentity();
    const withdrawal = (who: TestIdentity) =>
      signOperation(who.account, "WithdrawTransfer", { ...offerFields, inboxId: who.inboxId });
    await expect(
      client.withdrawTransfer({ instanceId: agent.id, ownerSignature: await withdrawal(stranger) }, as(stranger)),
    ).rejects.toMatchObject({ code: Code.NotFound });
    const back = await client.withdrawTransfer(
      { instanceId: agent.id, ownerSignature: await withdrawal(saul) },
      as(saul),
    );
    expect(back.instance).toMatchObject({ ownerId: saul.inboxId, pendingOwnerId: "" });
    const acceptance = await signOperation(ana.account, "AcceptAgent", {
      inboxId: ana.inboxId,
      instanceId: agent.id,
      fromOwnerId: saul.inboxId,
    });
    await expect(client.acceptAgent({ instanceId: agent.id, signature: acceptance }, as(ana))).rejects.toMatchObject({
      code: Code.NotFound,
    });
    // A pool that kept the withdrawn offer cannot complete it: the agent refuses it.
    await expect(
      agent.transferOwner(
        create(TransferOwnerRequestSchema, {
          ownerId: saul.inboxId,
          newOwnerId: ana.inboxId,
          offer: withdrawn,
          acceptance,
        }),
      ),
    ).rejects.toThrow(/the owner withdrew it/);
    expect(agent.configSnapshot?.ownerId).toBe(saul.inboxId);
    // An offer made after the withdrawal (a later second) is a new one.
    await new Promise((r) => setTimeout(r, 1_100));

    const from = stack.cli!.events.length;
    await client.transferAgent(
      {
        instanceId: agent.id,
        newOwnerId: ana.inboxId,
        ownerSignature: await signOperation(saul.account, "TransferAgent", {
          inboxId: saul.inboxId,
          instanceId: agent.id,
          newOwnerId: ana.inboxId,
        }),
      },
      as(saul),
    );
    await client.acceptAgent(
      {
        instanceId: agent.id,
        signature: await signOperation(ana.account, "AcceptAgent", {
          inboxId: ana.inboxId,
          instanceId: agent.id,
          fromOwnerId: saul.inboxId,
        }),
      },
      as(ana),
    );
    owner = ana;
    // It publishes its profile again at once, with the attestation it has.
    const handed = plainMetadata(await attested(from));
    expect(handed.owner).toBe(ana.inboxId);
    expect(handed.attestation).toBeTruthy(); // checked below, with the rest
    const { code, report } = await verifyAgent(agent.inboxId, handed, stack.ready.inviteUrl);
    expect(report.problems).toEqual([]);
    expect(code).toBe(0);
    expect(report.certificate).toMatchObject({
      ownerId: ana.inboxId,
      ownerProof: "claim",
      transfers: [{ from: saul.inboxId, to: ana.inboxId }],
      owner: { ok: true, by: "signature", detail: expect.stringContaining(`handed to ${ana.inboxId}`) },
    });
    // The old profile's certificate does not vouch for the new owner.
    expect((await verifyAgent(agent.inboxId, { ...profile, owner: ana.inboxId })).code).toBe(1);
  });

  it("a key the operator drops: the agents it attested get the key that replaces it at once; a key still published waits for the renewal", {
    timeout: 90_000,
  }, async () => {
    const devKid = String(profile.attestation_kid);
    const devPem = await readFile(join(stack.dir, "claims", DEV_KEY_FILE), "utf8");
    const newPem = generateAttestationKeyPem();
    const kidOf = async () =>
      (
        await stack.rows<{ attest_kid: string; due_in: number }>(
          `select attest_kid, extract(epoch from attest_next_at - now())::float8 as due_in from instances where id = $1`,
          [agent.id],
        )
      )[0]!;
    const restartClaims = async (keys: AttestationKeyRing) => {
      await stack.claims!.close();
      await stack.startClaims({ attestationKeys: keys });
    };
    expect(await kidOf()).toMatchObject({ attest_kid: devKid });
    // The transfer made it due at once (its statement names the new owner, docs/statement.md): that
    // attestation done and its profile seen before the rotation's window opens.
    await waitFor("the attestation after the transfer", async () => ((await kidOf()).due_in ?? 0) > 11 * 3600, 10_000);
    await new Promise((r) => setTimeout(r, 1_500));

    // A planned rotation: the new key appended, the old one still published for two days.
    let from = stack.cli!.events.length;
    await restartClaims(
      new AttestationKeyRing([
        { kid: devKid, pem: devPem, exp: new Date(Date.now() + 2 * 86_400_000).toISOString() },
        { kid: "op-2", pem: newPem },
      ]),
    );
    await new Promise((r) => setTimeout(r, 2_000)); // several scans
    expect(stack.cli!.events.slice(from).filter((e) => e.event === "profile_update")).toEqual([]);
    expect((await kidOf()).due_in).toBeGreaterThan(11 * 3600);

    // The old key dropped (it leaked): attested again with the new one without waiting 12 hours.
    from = stack.cli!.events.length;
    await restartClaims(new AttestationKeyRing([{ kid: "op-2", pem: newPem }]));
    const renewed = plainMetadata(await attested(from));
    expect(renewed.attestation_kid).toBe("op-2");
    await waitFor("op-2 recorded", async () => (await kidOf()).attest_kid === "op-2", 10_000);
    // A client that fetches the JWKS now (a gateway without a cached copy) finds the new key, and only it.
    const fresh = await startGateway({
      templatesUrl: stack.templates!.url,
      claimsUrl: stack.claims!.url,
      credentials: stack.creds.gateway,
      databaseUrl: await createTestDatabase("badge_e2e_gateway_fresh"),
      log: createLogger("gateway", { level: "silent" }),
    });
    try {
      const freshJwks = `${fresh.url}/.well-known/agents.json`;
      expect(((await (await fetch(freshJwks)).json()) as AttestationJwks).keys.map((k) => k.kid)).toEqual(["op-2"]);
      expect(await convosVerify(agent.inboxId, renewed, freshJwks)).toMatchObject({ verified: true });
      expect((await convosVerify(agent.inboxId, profile, freshJwks)).verified).toBe(false);
    } finally {
      await fresh.close();
    }
  });

  it("is renewed when due, and a removed agent's is not", { timeout: 60_000 }, async () => {
    const from = stack.cli!.events.length;
    await stack.sql.query(`update instances set attest_next_at = now() - interval '1 minute' where id = $1`, [
      agent.id,
    ]);
    const again = plainMetadata(await attested(from));
    expect(Date.parse(String(again.attestation_ts))).toBeGreaterThan(Date.parse(String(profile.attestation_ts)));
    // Its next one a refresh ahead, once the agent has answered.
    await waitFor(
      "the next attestation 12 hours ahead",
      async () =>
        (
          await stack.rows<{ due_in: number }>(
            `select extract(epoch from attest_next_at - now())::float8 as due_in from instances where id = $1`,
            [agent.id],
          )
        )[0]!.due_in >
        11 * 3600,
      10_000,
    );

    const ownerSignature = await signOperation(owner.account, "RemoveAgent", {
      inboxId: owner.inboxId,
      instanceId: agent.id,
    });
    await stack.claimsSc!.client.removeAgent({ instanceId: agent.id, ownerSignature }, as(owner));
    await waitFor(
      "the agent removed",
      async () =>
        (await stack.rows<{ state: string }>(`select state from instances where id = $1`, [agent.id]))[0]?.state !==
        "claimed",
      20_000,
    );
    await stack.sql.query(`update instances set attest_next_at = null where id = $1`, [agent.id]);
    await new Promise((r) => setTimeout(r, 1_500));
    const [after] = await stack.rows<{ attest_next_at: Date | null }>(
      `select attest_next_at from instances where id = $1`,
      [agent.id],
    );
    expect(after?.attest_next_at ?? null).toBeNull();
  });
});

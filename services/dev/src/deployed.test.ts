// Every service's main.ts, started with the environment deploy/compose.yaml
// gives it (testing/deployed.ts), checked for what a deployment must have:
// signatures checked against the XMTP network, its own credential and
// nothing more, its own database.
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { Code, ConnectError } from "@connectrpc/connect";
import pg from "pg";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClaimService } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import { InstanceHostService } from "@convos-pool/gen/convos/pool/v1/instance_host_service_pb.js";
import { LineageService } from "@convos-pool/gen/convos/pool/v1/lineage_service_pb.js";
import { TemplateReleaseService, TemplateService, TemplateUsageService } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import { TemplateSyncService } from "@convos-pool/gen/convos/pool/v1/template_sync_service_pb.js";
import { createXmtpClient, walletSigner } from "@convos-pool/convos";
import { DerivedInboxResolver, claimFields, createServiceClient, jsonHash, signOperation, type ClientCredentials } from "@convos-pool/kit";
import { sampleContent } from "@convos-pool/kit/testing";
import { DEPLOYED, DeployedPool, PRINCIPAL_OF } from "./testing/deployed.js";

const pool = new DeployedPool({ name: "deployed", sizing: { claims: { POOL_TARGET_IDLE: "2" } } });

beforeAll(() => pool.start(), 180_000);
afterAll(() => pool.close(), 60_000);

type Sig = Awaited<ReturnType<typeof signOperation>>;
const restSig = (s: Sig) => ({ signature: s.signature, issued_at: Number(s.issuedAt), nonce: s.nonce });
const camelSig = (s: Sig) => ({ signature: s.signature, issuedAt: Number(s.issuedAt), nonce: s.nonce });

async function rest(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`${pool.url("gateway")}${path}`, {
    method,
    headers: { "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

/** The code a call answered with ("ok" when it succeeded). */
const outcome = (p: Promise<unknown>) => p.then(() => "ok", (e: unknown) => Code[ConnectError.from(e).code]);

describe("every main.ts as deploy/compose.yaml starts it", () => {
  it("checks signers against the XMTP network in the gateway, the templates service and the claims service", { timeout: 90_000 }, async () => {
    // A creator whose second wallet the network added to their inbox: only a
    // network-backed check knows it belongs (derivation knows the first alone).
    const first = privateKeyToAccount(generatePrivateKey());
    const second = privateKeyToAccount(generatePrivateKey());
    const xmtp = await createXmtpClient(first, {
      apiUrl: pool.url("xmtp"),
      dbPath: join(pool.dir, "creator.db3"),
      dbEncryptionKey: randomBytes(32),
    });
    await xmtp.unsafe_addAccount(walletSigner(second), true);
    const inboxId = xmtp.inboxId;
    expect(await new DerivedInboxResolver().addressBelongsToInbox(second.address, inboxId)).toBe(false);

    const session = await rest("POST", "/api/pool/sessions", {
      inbox_id: inboxId,
      signature: restSig(await signOperation(second, "CreateSession", { inboxId, audience: "convos-agent-pool" })),
    });
    expect(session.status, `gateway: ${JSON.stringify(session.json)}`).toBe(200);

    const content = sampleContent({ tools: [] });
    const created = await rest("POST", "/api/pool/templates", {
      creator_id: inboxId,
      ...content,
      signature: restSig(await signOperation(second, "CreateTemplate", { inboxId, contentHash: jsonHash(content) })),
    });
    expect(created.status, `templates: ${JSON.stringify(created.json)}`).toBe(201);

    // A claim signed by the second wallet gets past the signature check, to
    // the template (which does not exist): NOT_FOUND, not PERMISSION_DENIED.
    const claim = {
      requester: inboxId,
      templateId: "tmpl_0000000000000000",
      conversationInvite: "https://dev.convos.org/v2?i=nowhere",
      model: "",
      userConfig: {},
    };
    const claimed = await rest("POST", "/api/pool/claim", {
      ...claim,
      signature: camelSig(await signOperation(second, "ClaimAgent", claimFields(claim))),
    });
    expect(claimed.status, `claims: ${JSON.stringify(claimed.json)}`).toBe(404);
  });

  it("gives each service its own credential, which opens only what that service must call", async () => {
    const tokens = DEPLOYED.map((s) => pool.envs.get(s)!.POOL_SERVICE_TOKEN);
    expect(new Set(tokens).size).toBe(DEPLOYED.length);
    for (const s of DEPLOYED) expect(pool.envs.get(s)!.POOL_SERVICE_TOKEN).toBe(pool.creds[PRINCIPAL_OF[s]].token);

    const as = (creds: ClientCredentials) => ({
      templates: createServiceClient(TemplateService, pool.url("templates"), creds),
      release: createServiceClient(TemplateReleaseService, pool.url("templates"), creds),
      usage: createServiceClient(TemplateUsageService, pool.url("templates"), creds),
      claims: createServiceClient(ClaimService, pool.url("claims"), creds),
      lineage: createServiceClient(LineageService, pool.url("claims"), creds),
      sync: createServiceClient(TemplateSyncService, pool.url("claims"), creds),
      host: createServiceClient(InstanceHostService, pool.url("instance-host"), creds),
    });
    const probe = async (creds: ClientCredentials) => {
      const c = as(creds);
      try {
        return {
          templates: await outcome(c.templates.client.browseStore({})),
          release: await outcome(c.release.client.getTemplateRelease({ templateId: "tmpl_0000000000000000" })),
          usage: await outcome(c.usage.client.recordTemplateUse({ templateId: "tmpl_0000000000000000" })),
          claims: await outcome(c.claims.client.getInstance({ instanceId: "inst_0000000000000000" })),
          lineage: await outcome(c.lineage.client.getLineage({ instanceId: "inst_0000000000000000" })),
          sync: await outcome(c.sync.client.pushTemplateVersion({})),
          host: await outcome(c.host.client.listInstances({})),
        };
      } finally {
        for (const x of Object.values(c)) x.close();
      }
    };
    const denied = "PermissionDenied";
    // What gets past the credential check answers for itself (NotFound, InvalidArgument...).
    expect(await probe(pool.creds["instance-host"])).toEqual({
      templates: denied,
      release: denied,
      usage: denied,
      claims: denied,
      lineage: denied,
      sync: denied,
      host: denied,
    });
    expect(await probe(pool.creds.gateway)).toMatchObject({ templates: "ok", release: denied, usage: denied, sync: denied, host: denied });
    expect(await probe(pool.creds.templates)).toMatchObject({ templates: denied, release: denied, usage: denied, claims: denied, lineage: denied, host: denied });
    expect(await probe(pool.creds.claims)).toMatchObject({ templates: denied, release: "NotFound", usage: "NotFound", claims: denied, lineage: denied, sync: denied, host: "ok" });
    expect(Object.values(await probe({ token: "not-a-credential" }))).toEqual(Array(7).fill("Unauthenticated"));
  });

  it("gives each service its own database", async () => {
    const tables = async (url: string) => {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        const r = await c.query<{ t: string }>(`select table_name as t from information_schema.tables where table_schema = 'public'`);
        return new Set(r.rows.map((x) => x.t));
      } finally {
        await c.end();
      }
    };
    expect([...pool.databases.keys()].sort()).toEqual(["claims", "gateway", "templates"]);
    const [templates, claims, gateway] = (await Promise.all(["templates", "claims", "gateway"].map((d) => tables(pool.databases.get(d)!)))) as [
      Set<string>,
      Set<string>,
      Set<string>,
    ];
    expect(templates.has("templates")).toBe(true);
    expect(claims.has("instances")).toBe(true);
    expect(gateway.has("signature_nonces")).toBe(true);
    for (const own of ["templates", "template_versions"]) expect(claims.has(own) || gateway.has(own), own).toBe(false);
    for (const own of ["instances", "provisioned_tools", "template_releases"]) expect(templates.has(own) || gateway.has(own), own).toBe(false);
    for (const [name, env] of pool.envs) {
      if (name !== "instance-host") expect(env.DATABASE_URL, name).toBe(pool.databases.get(name));
    }
  });
});

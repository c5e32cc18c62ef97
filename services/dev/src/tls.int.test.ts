// The pool's internal gRPC over mutual TLS, as configured with POOL_TLS_*:
// the templates service, the claims service and an instance host (the claims
// tests' stand-in) serve https and require client certificates of the pool's
// CA; the gateway (public face plain, as behind an ingress) reaches them with
// its certificate. A creator publishes, a user claims, over the gateway.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { TemplateService } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import {
  NO_LIMITS,
  createLogger,
  createServiceClient,
  generateServiceCredentials,
  tlsFromEnv,
  type TlsConfig,
} from "@convos-pool/kit/server";
import { jsonHash } from "@convos-pool/kit/content";
import { signClaim, signOperation } from "@convos-pool/kit/signing";
import { codeOf, newIdentity, sampleContent } from "@convos-pool/kit/testing";
import { createTestDatabase, makeTestPki, type TestPki } from "@convos-pool/testing";
import { OPEN_BUDGET, SecretBox } from "@convos-pool/claims";
import { startClaimsService, type RunningClaimsService } from "@convos-pool/claims";
import { StandInHost } from "@convos-pool/claims/testing/stand-in-host";
import { startGateway, type RunningGateway } from "@convos-pool/gateway";
import { startTemplateService, type RunningTemplateService } from "@convos-pool/templates";

const quiet = (name: string) => createLogger(name, { level: "silent" });
let pki: TestPki;
let tls: TlsConfig;
let dir: string;
let templates: RunningTemplateService;
let host: StandInHost;
let claims: RunningClaimsService;
let gateway: RunningGateway;

beforeAll(async () => {
  pki = await makeTestPki();
  // As main.ts reads it.
  tls = tlsFromEnv({
    POOL_TLS_CERT: pki.files.cert,
    POOL_TLS_KEY: pki.files.key,
    POOL_TLS_CA: pki.files.ca,
    POOL_TLS_MUTUAL: "true",
  })!;
  const creds = generateServiceCredentials(tls);
  dir = await mkdtemp(join(tmpdir(), "pool-tls-"));
  templates = await startTemplateService({
    databaseUrl: await createTestDatabase("tls_templates"),
    credentials: creds.templates,
    log: quiet("templates"),
  });
  host = await StandInHost.start(creds["instance-host"]);
  claims = await startClaimsService({
    // Numbers and mailboxes without an operator's grant: this measures something else (docs/limits.md).
    budget: OPEN_BUDGET,
    databaseUrl: await createTestDatabase("tls_claims"),
    credentials: creds.claims,
    templatesUrl: templates.url,
    secretsKey: SecretBox.generateKey(),
    dataDir: dir,
    pool: { hostUrls: [host.url], target: 1, intervalMs: 3_600_000 },
    limits: NO_LIMITS,
    log: quiet("claims"),
  });
  gateway = await startGateway({
    templatesUrl: templates.url,
    claimsUrl: claims.url,
    credentials: creds.gateway,
    databaseUrl: await createTestDatabase("tls_gateway"),
    limits: NO_LIMITS,
    log: quiet("gateway"),
  });
}, 60_000);

afterAll(async () => {
  await gateway?.close();
  await claims?.close();
  await host?.kill();
  await templates?.close();
  await pki?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** A call to the gateway's REST API; `T` is the answer's shape that the test expects. */
async function rest<T = unknown>(method: string, path: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${gateway.url}${path}`, {
    method,
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as T };
}

it("runs a claim end to end over mutual TLS between the services; without a client certificate a service is not reached", async () => {
  expect([templates.url, claims.url, host.url].every((u) => u.startsWith("https://"))).toBe(true);
  const creator = newIdentity();
  const content = sampleContent({ tools: [] });
  const s = await signOperation(creator.account, "CreateTemplate", {
    inboxId: creator.inboxId,
    contentHash: jsonHash(content),
  });
  const created = await rest<{ id: string; version: number }>("POST", "/api/pool/templates", {
    creator_id: creator.inboxId,
    ...content,
    signature: { signature: s.signature, issued_at: Number(s.issuedAt), nonce: s.nonce },
  });
  expect(created.status, JSON.stringify(created.json)).toBe(201);
  const { id, version } = created.json;
  const p = await signOperation(creator.account, "SetTemplateVisibility", {
    inboxId: creator.inboxId,
    templateId: id,
    version: BigInt(version),
    visibility: "public",
  });
  const published = await rest(
    "PATCH",
    `/api/pool/templates/${id}/visibility`,
    { visibility: "public", signature: { signature: p.signature, issued_at: Number(p.issuedAt), nonce: p.nonce } },
    { "if-match": String(version) },
  );
  expect(published.status).toBe(200);

  await claims.pool!.reconcile();
  const user = newIdentity();
  const claim = {
    requester: user.inboxId,
    templateId: id,
    conversationInvite: `https://dev.convos.org/v2?i=${randomBytes(4).toString("hex")}`,
    model: "",
    userConfig: {},
  };
  const c = await signClaim(user.account, claim);
  const res = await rest<{ instance_id: string }>("POST", "/api/pool/claim", {
    requester: claim.requester,
    template_id: claim.templateId,
    conversation_invite: claim.conversationInvite,
    model: claim.model,
    user_config: claim.userConfig,
    signature: { signature: c.signature, issued_at: Number(c.issuedAt), nonce: c.nonce },
  });
  expect(res.status, JSON.stringify(res.json)).toBe(200);
  expect(host.instances.get(res.json.instance_id)?.configured?.ownerId).toBe(user.inboxId);

  // The gateway's token without its certificate does not get through the TLS layer.
  const creds = generateServiceCredentials();
  const noCert = createServiceClient(TemplateService, templates.url, {
    token: creds.gateway.token,
    tls: { ...tls, mutual: false },
  });
  try {
    expect(await codeOf(noCert.client.browseStore({}))).toMatch(/^(Internal|Unavailable|Canceled)$/);
  } finally {
    noCert.close();
  }
});

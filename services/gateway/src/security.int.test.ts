// Who gets through the gateway (docs/security.md, docs/limits.md): sign-out,
// limits per client address and per inbox, the claims service's limits
// relayed, and claims and removals by their owner only. Real PostgreSQL, the
// real templates and claims services, three real gateways on one database (as
// replicas), the claims tests' stand-in host. Gateways `front` and `front2` trust
// 127.0.0.1 as a proxy, so each test gives its clients addresses of their own
// in X-Forwarded-For; gateway `direct` trusts no one.

import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SessionService } from "@convos-pool/gen/convos/pool/v1/session_service_pb.js";
import { InstanceState } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { createLogger, generateServiceCredentials, limitExceededOf } from "@convos-pool/kit/server";
import { jsonHash } from "@convos-pool/kit/content";
import { signClaim, signOperation, signSignIn } from "@convos-pool/kit/signing";
import { createTestDatabase } from "@convos-pool/testing";
import { newIdentity, sampleContent, type TestIdentity } from "@convos-pool/kit/testing";
import { OPEN_BUDGET, SecretBox } from "@convos-pool/claims";
import { startClaimsService, type RunningClaimsService } from "@convos-pool/claims";
import { StandInHost } from "@convos-pool/claims/testing/stand-in-host";
import { startTemplateService, type RunningTemplateService } from "@convos-pool/templates";
import { startGateway, type RunningGateway } from "./server.js";
import { restCall, restSig, restSignIn, restSignature, type RestAnswer } from "../test/rest.js";

const CREDS = generateServiceCredentials();
const quiet = (name: string) => createLogger(name, { level: "silent" });
const MINUTE = { seconds: 60 };

let templates: RunningTemplateService;
let host: StandInHost;
let claims: RunningClaimsService;
let front: RunningGateway;
let direct: RunningGateway;
/** Another replica like `front` (the same database, the same trusted proxy). */
let front2: RunningGateway;
let gatewayDb: string;
let dataDir: string;

interface Call {
  body?: unknown;
  token?: string;
  /** The client behind the trusted proxy (X-Forwarded-For). */
  from?: string;
  on?: RunningGateway;
}

const rest = (method: string, urlPath: string, call: Call = {}) =>
  restCall((call.on ?? front).url, method, urlPath, {
    ...call,
    ...(call.from ? { headers: { "x-forwarded-for": call.from } } : {}),
  });

/** A sign-in made for the gateway it is sent to. */
const signIn = async (c: TestIdentity, call: Call = {}, signer = c) =>
  rest("POST", "/api/pool/sessions", { ...call, body: await restSignIn((call.on ?? front).url, c, signer) });

async function session(c: TestIdentity, call: Call = {}): Promise<string> {
  const res = await signIn(c, call);
  expect(res.status, JSON.stringify(res.json)).toBe(200);
  return res.json.token as string;
}

/** A fresh client address per use: each test's allowances are its own. */
let nextClient = 0;
const client = () => `198.51.100.${++nextClient}`;

async function createTemplate(c: TestIdentity, call: Call = {}): Promise<RestAnswer> {
  const body = sampleContent({ tools: [] });
  return rest("POST", "/api/pool/templates", {
    ...call,
    body: {
      creator_id: c.inboxId,
      ...body,
      signature: await restSig(c, "CreateTemplate", { contentHash: jsonHash(body) }),
    },
  });
}

async function publicTemplate(c: TestIdentity): Promise<string> {
  const created = await createTemplate(c, { from: client() });
  expect(created.status, JSON.stringify(created.json)).toBe(201);
  const t = created.json as { id: string; version: number };
  const signature = await restSig(c, "SetTemplateVisibility", {
    templateId: t.id,
    version: BigInt(t.version),
    visibility: "public",
  });
  const res = await fetch(`${front.url}/api/pool/templates/${t.id}/visibility`, {
    method: "PATCH",
    headers: { "content-type": "application/json", "if-match": String(t.version), "x-forwarded-for": client() },
    body: JSON.stringify({ visibility: "public", signature }),
  });
  expect(res.status).toBe(200);
  return t.id;
}

const claimBody = (requester: TestIdentity, templateId: string) => ({
  requester: requester.inboxId,
  template_id: templateId,
  conversation_invite: `https://dev.convos.org/v2?i=invite-${randomBytes(6).toString("hex")}`,
  model: "",
  user_config: {},
});

async function signedClaim(requester: TestIdentity, templateId: string, signer = requester) {
  const body = claimBody(requester, templateId);
  const s = await signClaim(signer.account, {
    requester: body.requester,
    templateId: body.template_id,
    conversationInvite: body.conversation_invite,
    model: body.model,
    userConfig: body.user_config,
  });
  return { ...body, signature: restSignature(s) };
}

const states = async (ids: string[]) => ids.map((id) => host.instances.get(id)?.state);

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), "gw-security-"));
  templates = await startTemplateService({
    databaseUrl: await createTestDatabase("gws_templates"),
    credentials: CREDS.templates,
    log: quiet("templates"),
  });
  host = await StandInHost.start(CREDS["instance-host"]);
  claims = await startClaimsService({
    // Numbers and mailboxes without an operator's grant: this measures something else (docs/limits.md).
    budget: OPEN_BUDGET,
    databaseUrl: await createTestDatabase("gws_claims"),
    credentials: CREDS.claims,
    templatesUrl: templates.url,
    secretsKey: SecretBox.generateKey(),
    dataDir,
    smsRange: "+15550800000..+15550800049",
    pool: { hostUrls: [host.url], target: 4, intervalMs: 3_600_000 },
    limits: { claimsPerCaller: { points: 3, ...MINUTE } },
    log: quiet("claims"),
  });
  gatewayDb = await createTestDatabase("gws_gateway");
  const limits = {
    claimsPerAddress: { points: 4, ...MINUTE },
    signInsPerAddress: { points: 5, ...MINUTE },
    signInsPerInbox: { points: 3, ...MINUTE },
    templateWritesPerAddress: { points: 4, ...MINUTE },
  };
  const common = {
    templatesUrl: templates.url,
    claimsUrl: claims.url,
    credentials: CREDS.gateway,
    databaseUrl: gatewayDb,
    sessionSecret: "shared by the replicas, long enough",
  };
  front = await startGateway({ ...common, limits, trustedProxies: ["127.0.0.1"], log: quiet("gateway-front") });
  direct = await startGateway({ ...common, limits, log: quiet("gateway-direct") });
  front2 = await startGateway({ ...common, limits, trustedProxies: ["127.0.0.1"], log: quiet("gateway-front-2") });
});

afterAll(async () => {
  await front2?.close();
  await direct?.close();
  await front?.close();
  await claims?.close();
  await host?.kill();
  await templates?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe("signing out", () => {
  it("ends the session on every gateway that shares the database, over REST and Connect", async () => {
    const alice = newIdentity();
    const mine = `/api/pool/templates?creator=${alice.inboxId}`;
    const token = await session(alice, { from: client() });
    expect((await rest("GET", mine, { token })).status).toBe(200);
    expect((await rest("GET", mine, { token, on: direct })).status).toBe(200);

    expect((await rest("DELETE", "/api/pool/sessions", { token })).status).toBe(204);
    for (const on of [front, direct]) {
      const after = await rest("GET", mine, { token, on });
      expect(after.status).toBe(401);
      expect(after.json.error.message).toMatch(/session ended: signed out/);
    }
    expect((await rest("DELETE", "/api/pool/sessions", { token })).status).toBe(401);
    expect((await rest("DELETE", "/api/pool/sessions")).status).toBe(401);

    // Over Connect, on the other replica: refused on the first from then on.
    const second = await session(alice, { from: client() });
    const connect = createClient(SessionService, createConnectTransport({ baseUrl: direct.url }));
    await connect.deleteSession({}, { headers: { authorization: `Bearer ${second}` } });
    expect((await rest("GET", mine, { token: second })).status).toBe(401);
    await expect(connect.deleteSession({})).rejects.toMatchObject({ code: Code.Unauthenticated });
    // A new sign-in works.
    expect((await rest("GET", mine, { token: await session(alice, { from: client() }) })).status).toBe(200);
  });
});

describe("limits per client address and per inbox", () => {
  it("sign-ins from one address: the sixth is 429 with Retry-After (rate_limited), over Connect RESOURCE_EXHAUSTED with the detail; none is issued", async () => {
    const from = client();
    for (let i = 0; i < 5; i++) expect((await signIn(newIdentity(), { from })).status).toBe(200);
    const refused = await signIn(newIdentity(), { from });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(refused.json.error).toMatchObject({ type: "rate_limited", code: "resource_exhausted" });
    expect(refused.json.error.message).toMatch(/sign-ins per client address is 5 per 60 s/);
    expect(refused.json.token).toBeUndefined();
    // Another address is not held back.
    expect((await signIn(newIdentity(), { from: client() })).status).toBe(200);

    const connect = createClient(SessionService, createConnectTransport({ baseUrl: front.url }));
    const viaConnect = { headers: { "x-forwarded-for": from } };
    const who = newIdentity();
    const signed = await signSignIn(who.account, who.inboxId, front.url);
    const err = ConnectError.from(await connect.createSession(signed, viaConnect).catch((e: unknown) => e));
    expect(err.code).toBe(Code.ResourceExhausted);
    expect(limitExceededOf(err)?.limit).toBe("sign-ins per client address");
  });

  it("a burst split across two replicas is held to one allowance: per address and per inbox, counted in the gateways' database", async () => {
    const from = client();
    const burst = await Promise.all(
      Array.from({ length: 12 }, (_, i) => signIn(newIdentity(), { from, on: i % 2 ? front : front2 })),
    );
    expect(burst.filter((r) => r.status === 200)).toHaveLength(5);
    const refused = burst.filter((r) => r.status !== 200);
    expect(refused.map((r) => r.status)).toEqual(Array(7).fill(429));
    for (const r of refused) expect(r.json.error.message).toMatch(/sign-ins per client address is 5 per 60 s/);

    const inbox = newIdentity();
    const byInbox = await Promise.all(
      Array.from({ length: 6 }, (_, i) => signIn(inbox, { from: client(), on: i % 2 ? front : front2 })),
    );
    expect(byInbox.filter((r) => r.status === 200)).toHaveLength(3);
    expect(byInbox.filter((r) => r.status === 429)).toHaveLength(3);

    // Read back from the database the replicas share.
    const db = new pg.Client({ connectionString: gatewayDb });
    await db.connect();
    try {
      const { rows } = await db.query<{ key: string; points: number }>(
        "select key, points from rate_counters where key = any($1)",
        [[`sign-ins per client address:${from}`, `sign-ins per inbox:${inbox.inboxId}`]],
      );
      // Refused requests count too, until a replica has seen the key over its limit.
      expect(new Map(rows.map((r) => [r.key, r.points]))).toEqual(
        new Map([
          [`sign-ins per client address:${from}`, expect.toSatisfy((n: number) => n >= 6 && n <= 12)],
          [`sign-ins per inbox:${inbox.inboxId}`, expect.toSatisfy((n: number) => n >= 4 && n <= 6)],
        ]),
      );
    } finally {
      await db.end();
    }
  });

  it("sign-ins of one inbox count once their signature checked out: bad signatures naming a victim do not lock the victim out", async () => {
    const victim = newIdentity();
    const mallory = newIdentity();
    for (let i = 0; i < 6; i++) expect((await signIn(victim, { from: client() }, mallory)).status).toBe(403);
    for (let i = 0; i < 3; i++) expect((await signIn(victim, { from: client() })).status).toBe(200);
    const fourth = await signIn(victim, { from: client() });
    expect(fourth.status).toBe(429);
    expect(fourth.json.error.message).toMatch(/sign-ins per inbox/);
  });

  it("template writes from one address: the fifth is 429 and nothing is written", async () => {
    const from = client();
    const creator = newIdentity();
    for (let i = 0; i < 4; i++) expect((await createTemplate(creator, { from })).status).toBe(201);
    const fifth = await createTemplate(creator, { from });
    expect(fifth.status).toBe(429);
    expect(fifth.json.error.message).toMatch(/template writes per client address/);
    const token = await session(creator, { from: client() });
    const listed = await rest("GET", `/api/pool/templates?creator=${creator.inboxId}`, { token });
    expect(listed.json.templates).toHaveLength(4);
  });

  it("claims from one address are refused at the gateway once its allowance is spent, whoever signs them", async () => {
    const from = client();
    const templateId = "tmpl_0000000000000000";
    for (let i = 0; i < 4; i++) {
      const res = await rest("POST", "/api/pool/claim", { from, body: await signedClaim(newIdentity(), templateId) });
      expect(res.status, JSON.stringify(res.json)).toBe(404);
    }
    const fifth = await rest("POST", "/api/pool/claim", { from, body: await signedClaim(newIdentity(), templateId) });
    expect(fifth.status).toBe(429);
    expect(fifth.json.error.message).toMatch(/claims per client address/);
    // Anonymous claims count too: a flood is stopped before the claims service.
    expect((await rest("POST", "/api/pool/claim", { from, body: claimBody(newIdentity(), templateId) })).status).toBe(
      429,
    );
  });

  it("X-Forwarded-For names the client only behind a trusted proxy, and only its rightmost untrusted entry", async () => {
    // Straight to the gateway: the header is the client's own words, and every request is 127.0.0.1's.
    let refusedAt = 0;
    for (let i = 1; i <= 6 && !refusedAt; i++) {
      if ((await signIn(newIdentity(), { from: client(), on: direct })).status === 429) refusedAt = i;
    }
    expect(refusedAt).toBe(6);
    // Behind the proxy, a client cannot pick its address by writing one on the left.
    const real = client();
    for (let i = 0; i < 5; i++)
      expect((await signIn(newIdentity(), { from: `10.0.0.${i}, ${real}` })).status).toBe(200);
    expect((await signIn(newIdentity(), { from: `10.9.9.9, ${real}` })).status).toBe(429);
  });
});

describe("claims and removals by their owner only", () => {
  it("a claim without proof is 401, in another's name 403 (session or signature), and nothing is claimed", async () => {
    const templateId = await publicTemplate(newIdentity());
    await claims.pool!.reconcile();
    const idle = [...host.instances.values()].filter((i) => i.state === InstanceState.IDLE).map((i) => i.id);
    const user = newIdentity();
    const stranger = newIdentity();
    const anon = await rest("POST", "/api/pool/claim", { from: client(), body: claimBody(user, templateId) });
    expect(anon.status).toBe(401);
    expect(anon.json.error.message).toMatch(/sign in, or sign the claim/);
    const token = await session(stranger, { from: client() });
    expect(
      (await rest("POST", "/api/pool/claim", { from: client(), token, body: claimBody(user, templateId) })).status,
    ).toBe(403);
    const forged = await rest("POST", "/api/pool/claim", {
      from: client(),
      body: await signedClaim(user, templateId, stranger),
    });
    expect(forged.status).toBe(403);
    expect(forged.json.error.message).toMatch(/^signature: not signed by a wallet of inbox/);
    expect(await states(idle)).toEqual(idle.map(() => InstanceState.IDLE));
    // The requester's own signature: claimed.
    expect(
      (await rest("POST", "/api/pool/claim", { from: client(), body: await signedClaim(user, templateId) })).status,
    ).toBe(200);
  });

  it("the claims service's limit per requester reaches a REST client as 429 with its Retry-After", async () => {
    const user = newIdentity();
    const token = await session(user, { from: client() });
    for (let i = 0; i < 3; i++) {
      expect(
        (
          await rest("POST", "/api/pool/claim", {
            from: client(),
            token,
            body: claimBody(user, "tmpl_0000000000000000"),
          })
        ).status,
      ).toBe(404);
    }
    const fourth = await rest("POST", "/api/pool/claim", {
      from: client(),
      token,
      body: claimBody(user, "tmpl_0000000000000000"),
    });
    expect(fourth.status).toBe(429);
    expect(fourth.json.error.message).toMatch(/claims per caller is 3 per 60 s/);
    expect(Number(fourth.headers.get("retry-after"))).toBeGreaterThan(0);
  });

  it("an owner removes an agent (DELETE /api/pool/agents/{id}) only with a RemoveAgent signature, signed in or not; a session alone 401, anyone else's signature 404", async () => {
    const templateId = await publicTemplate(newIdentity());
    await claims.pool!.reconcile();
    const owner = newIdentity();
    const claim = async () =>
      (await rest("POST", "/api/pool/claim", { from: client(), body: await signedClaim(owner, templateId) })).json
        .instance_id as string;
    const [a, b] = [await claim(), await claim()];
    const token = await session(owner, { from: client() });
    const stranger = await session(newIdentity(), { from: client() });
    const removal = async (id: string, signer = owner) =>
      restSignature(await signOperation(signer.account, "RemoveAgent", { inboxId: owner.inboxId, instanceId: id }));

    expect((await rest("DELETE", `/api/pool/agents/${a}`)).status).toBe(401);
    // A session, even the owner's, is not enough: what a stolen token or a replayed sign-in gives removes nothing.
    for (const t of [token, stranger]) {
      const refused = await rest("DELETE", `/api/pool/agents/${a}`, { token: t });
      expect(refused.status).toBe(401);
      expect(refused.json.error.message).toMatch(/^owner_signature: required: RemoveAgent cannot be undone/);
    }
    const forged = { owner_signature: await removal(a, newIdentity()) };
    expect((await rest("DELETE", `/api/pool/agents/${a}`, { token: stranger, body: forged })).status).toBe(404);
    expect((await rest("GET", `/api/pool/agents/${a}`, { token })).json.state).toBe("INSTANCE_STATE_CLAIMED");

    const signedA = { owner_signature: await removal(a) };
    expect((await rest("DELETE", `/api/pool/agents/${a}`, { token, body: signedA })).status).toBe(204);
    const ownerSignature = await removal(b);
    expect((await rest("DELETE", `/api/pool/agents/${b}`, { body: { owner_signature: ownerSignature } })).status).toBe(
      204,
    );
    for (const id of [a, b])
      expect((await rest("GET", `/api/pool/agents/${id}`, { token })).json.state).toBe("INSTANCE_STATE_DEAD");
    expect(
      (await rest("DELETE", `/api/pool/agents/${a}`, { token, body: { owner_signature: await removal(a) } })).status,
    ).toBe(404);
    const bad = await rest("DELETE", `/api/pool/agents/${b}`, {
      body: { owner_signature: { ...ownerSignature, nonce: "x" } },
    });
    expect(bad.status).toBe(400);
    expect(bad.json.error.field).toBe("owner_signature.nonce");
  });
});

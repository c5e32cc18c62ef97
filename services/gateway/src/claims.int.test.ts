// Claims through the gateway: real PostgreSQL, the real templates service and
// the real claims service in-process (real local providers, real gRPC
// instance runtime), the real gateway; REST and Connect-Web. The instance host
// is the claims service's TEST STAND-IN (services/claims/test/
// stand-in-host.ts), as in the claims service's own tests: it speaks the real
// InstanceHostService / InstanceService contracts but joins no conversation.

import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { create } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-web";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClaimService } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import { TrustLevel } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import {
  ActivityEntrySchema,
  ApprovalPlace,
  Grant,
  InstanceState,
  OutsiderReply,
  ParticipationMode,
  SyncState,
  ToolCallOutcome,
} from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { generateServiceCredentials, createLogger, NO_LIMITS } from "@convos-pool/kit/server";
import {
  CALLER_HEADER,
  jsonHash,
  resolveParticipation,
  resolvePermissions,
  type ResolvedParticipation,
  type ResolvedPermissions,
  type TemplateContentJson,
  type ToolJson,
} from "@convos-pool/kit/content";
import { signClaim, signClone, signOperation } from "@convos-pool/kit/signing";
import { createTestDatabase } from "@convos-pool/testing";
import { newIdentity, sampleContent, type TestIdentity } from "@convos-pool/kit/testing";
import { startTemplateService, type RunningTemplateService } from "@convos-pool/templates";
import { OPEN_BUDGET, SecretBox } from "@convos-pool/claims";
import { startClaimsService, type RunningClaimsService } from "@convos-pool/claims";
import { StandInHost } from "@convos-pool/claims/testing/stand-in-host";
import { startLineageService, type RunningLineageService } from "@convos-pool/lineage";
import { CLAIMS_NOT_CONFIGURED, startGateway, type RunningGateway } from "./server.js";
import { restCall, restSession, restSig, restSignature, type RestAnswer, type RestCall } from "../test/rest.js";

const CREDS = generateServiceCredentials();
const quiet = (name: string) => createLogger(name, { level: "silent" });
const WARM = 3;

let templates: RunningTemplateService;
let host: StandInHost;
let claims: RunningClaimsService;
let lineage: RunningLineageService;
let gateway: RunningGateway;
let bare: RunningGateway; // no claimsUrl
let dataDir: string;
let claimsDatabaseUrl = "";

/** A REST call to the gateway, or to another (`on`). */
const rest = (method: string, urlPath: string, opts: RestCall & { on?: RunningGateway } = {}) =>
  restCall((opts.on ?? gateway).url, method, urlPath, opts);

const session = (c: TestIdentity) => restSession(gateway.url, c);

const PROMPT = "Your email for booking confirmations?";
const TOOLS: ToolJson[] = [
  { id: "sms", name: "SMS", provisioning: "pool", description: "", prompt: "", required: false },
  { id: "personal-email", name: "Your email", provisioning: "user", description: "", prompt: PROMPT, required: true },
];

/** A template of `c` with a pool tool and a required user tool, published unless `private`. */
async function template(
  c: TestIdentity,
  visibility: "public" | "private" = "public",
  over: Partial<TemplateContentJson> = {},
) {
  const body = sampleContent({ tools: TOOLS, ...over });
  const created = await rest("POST", "/api/pool/templates", {
    body: {
      creator_id: c.inboxId,
      ...body,
      signature: await restSig(c, "CreateTemplate", { contentHash: jsonHash(body) }),
    },
  });
  expect(created.status, JSON.stringify(created.json)).toBe(201);
  const t = created.json as { id: string; version: number };
  if (visibility === "private") return t.id;
  const pub = await rest("PATCH", `/api/pool/templates/${t.id}/visibility`, {
    headers: { "if-match": String(t.version) },
    body: {
      visibility: "public",
      signature: await restSig(c, "SetTemplateVisibility", {
        templateId: t.id,
        version: BigInt(t.version),
        visibility: "public",
      }),
    },
  });
  expect(pub.status, JSON.stringify(pub.json)).toBe(200);
  return t.id;
}

const invite = () => `https://dev.convos.org/v2?i=invite-${randomBytes(6).toString("hex")}`;

/** A claim body signed by its requester (ClaimAgent), as a client without a session sends it. */
async function signedClaim(requester: TestIdentity, templateId: string, over: Record<string, unknown> = {}) {
  const body = claimBody(requester, templateId, over) as ReturnType<typeof claimBody> & { conversation_id?: string };
  const s = await signClaim(requester.account, {
    requester: body.requester,
    templateId: body.template_id,
    conversationInvite: body.conversation_invite ?? body.conversation_id ?? "",
    model: body.model,
    userConfig: body.user_config,
  });
  return { ...body, signature: restSignature(s) };
}

/** A claim body, the conversation given by its invite. */
const claimBody = (requester: TestIdentity, templateId: string, over: Record<string, unknown> = {}) => ({
  requester: requester.inboxId,
  template_id: templateId,
  conversation_invite: invite(),
  model: "gpt-oss-20b",
  user_config: { "personal-email": "saul@example.com" },
  ...over,
});

/** The warm pool at its target: idle instances to claim. */
const refill = () => claims.pool!.reconcile();

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), "gw-claims-"));
  templates = await startTemplateService({
    databaseUrl: await createTestDatabase("gwc_templates"),
    credentials: CREDS.templates,
    log: quiet("templates"),
  });
  host = await StandInHost.start(CREDS["instance-host"]);
  lineage = await startLineageService({
    databaseUrl: await createTestDatabase("gwc_lineage"),
    credentials: CREDS.lineage,
    templatesUrl: templates.url,
    log: quiet("lineage"),
  });
  const lineageUrl = lineage.url;
  claimsDatabaseUrl = await createTestDatabase("gwc_claims");
  claims = await startClaimsService({
    // Numbers and mailboxes without an operator's grant: this measures something else (docs/limits.md).
    budget: OPEN_BUDGET,
    databaseUrl: claimsDatabaseUrl,
    credentials: CREDS.claims,
    templatesUrl: templates.url,
    secretsKey: SecretBox.generateKey(),
    dataDir,
    smsRange: "+15550400000..+15550400099",
    lineageUrl: lineageUrl,
    // Passes run when the tests ask (refill), not on their own.
    pool: { hostUrls: [host.url], target: WARM, intervalMs: 3_600_000 },
    // Limits have their own tests (security.int.test.ts).
    limits: NO_LIMITS,
    log: quiet("claims"),
  });
  gateway = await startGateway({
    templatesUrl: templates.url,
    claimsUrl: claims.url,
    lineageUrl: lineage.url,
    credentials: CREDS.gateway,
    limits: NO_LIMITS,
    databaseUrl: await createTestDatabase("gwc_gateway"),
    log: quiet("gateway"),
  });
  bare = await startGateway({
    templatesUrl: templates.url,
    credentials: CREDS.gateway,
    limits: NO_LIMITS,
    databaseUrl: await createTestDatabase("gwc_bare"),
    log: quiet("gateway-bare"),
  });
  await refill();
});

afterAll(async () => {
  await bare?.close();
  await gateway?.close();
  await claims?.close();
  await lineage?.close();
  await host?.kill();
  await templates?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

/** A creator's public template claimed by a new user over REST (answered 200). */
async function claimedAgent() {
  const creator = newIdentity();
  const user = newIdentity();
  const templateId = await template(creator);
  await refill();
  const res = await rest("POST", "/api/pool/claim", { body: await signedClaim(user, templateId) });
  expect(res.status, JSON.stringify(res.json)).toBe(200);
  return { creator, user, templateId, claimed: res };
}

describe("REST", () => {
  it("a claim retried with its Idempotency-Key, the very same signed request, gets the same agent", async () => {
    const user = newIdentity();
    const templateId = await template(newIdentity());
    await refill();
    const body = await signedClaim(user, templateId);
    const headers = { "idempotency-key": "claim-7f1c" };
    const first = await rest("POST", "/api/pool/claim", { body, headers });
    expect(first.status, JSON.stringify(first.json)).toBe(200);
    // The answer was lost; the client sends the same request again: its nonce is spent, yet the key gives the outcome.
    const retry = await rest("POST", "/api/pool/claim", { body, headers });
    expect(retry.status, JSON.stringify(retry.json)).toBe(200);
    expect(retry.json.instance_id).toBe(first.json.instance_id);
    // Without the key, the same request is a replay.
    expect((await rest("POST", "/api/pool/claim", { body })).status).toBe(401);
    // In the body too; a body's key that differs from the header's is refused, naming the field.
    const both = await rest("POST", "/api/pool/claim", { body: { ...body, idempotency_key: "other" }, headers });
    expect(both.status).toBe(400);
    expect(both.json.error.field).toBe("idempotency_key");
  });

  it("claims a public template, then lists it in the owner's agents", async () => {
    const creator = newIdentity();
    const user = newIdentity();
    const templateId = await template(creator);
    await refill();

    const res = await rest("POST", "/api/pool/claim", { body: await signedClaim(user, templateId) });
    expect(res.status, JSON.stringify(res.json)).toBe(200);
    expect(Object.keys(res.json)).toEqual(["instance_id"]);
    const instanceId = res.json.instance_id as string;
    expect(instanceId).toMatch(/^inst_/);
    // The stand-in host was asked to configure and join that instance.
    expect(host.instances.get(instanceId)?.configured?.ownerId).toBe(user.inboxId);
    expect(host.instances.get(instanceId)?.conversationId).toBeTruthy();

    const token = await session(user);
    const mine = await rest("GET", `/api/pool/agents?owner=${user.inboxId}`, { token });
    expect(mine.status, JSON.stringify(mine.json)).toBe(200);
    expect(mine.json.next_cursor).toBeNull();
    expect(mine.json.agents).toHaveLength(1);
    const agent = mine.json.agents[0];
    expect(agent).toMatchObject({
      id: instanceId,
      template_id: templateId,
      owner_id: user.inboxId,
      state: "INSTANCE_STATE_CLAIMED",
      model: "gpt-oss-20b",
      model_overridden: false,
      parent_instance_id: "",
      agent_name: "Trip Planner",
    });
    expect(agent.tools).toEqual([{ tool_id: "sms", handle: expect.stringMatching(/^\+1555040/) }]);
    expect(typeof agent.claimed_at).toBe("string");

    // Paging: limit and cursor.
    await refill();
    const second = await rest("POST", "/api/pool/claim", { body: await signedClaim(user, templateId), token });
    expect(second.status, JSON.stringify(second.json)).toBe(200);
    const page1 = await rest("GET", `/api/pool/agents?owner=${user.inboxId}&limit=1`, { token });
    expect(page1.json.agents.map((a: { id: string }) => a.id)).toEqual([second.json.instance_id]);
    expect(typeof page1.json.next_cursor).toBe("string");
    const page2 = await rest("GET", `/api/pool/agents?owner=${user.inboxId}&limit=1&cursor=${page1.json.next_cursor}`, {
      token,
    });
    expect(page2.json.agents.map((a: { id: string }) => a.id)).toEqual([instanceId]);
  });

  it("'My agents' needs the owner's session: 401 without one, 403 with another's", async () => {
    const { creator, user } = await claimedAgent();

    const anonymous = await rest("GET", `/api/pool/agents?owner=${user.inboxId}`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.json.error).toMatchObject({ type: "unauthenticated", code: "unauthenticated" });

    // A caller-supplied x-pool-caller is not an identity.
    const forged = await rest("GET", `/api/pool/agents?owner=${user.inboxId}`, {
      headers: { [CALLER_HEADER]: user.inboxId },
    });
    expect(forged.status).toBe(401);

    const other = await rest("GET", `/api/pool/agents?owner=${user.inboxId}`, { token: await session(creator) });
    expect(other.status).toBe(403);
    expect(other.json.error).toMatchObject({ type: "permission_denied", code: "permission_denied" });

    const badToken = await rest("GET", `/api/pool/agents?owner=${user.inboxId}`, { token: "not-a-token" });
    expect(badToken.status).toBe(401);

    const noOwner = await rest("GET", `/api/pool/agents`, { token: await session(user) });
    expect(noOwner.status).toBe(400);
    expect(noOwner.json.error.field).toBe("owner");
    const badOwner = await rest("GET", `/api/pool/agents?owner=nobody`, { token: await session(user) });
    expect(badOwner.status).toBe(400);
    expect(badOwner.json.error.field).toBe("owner");
    const badLimit = await rest("GET", `/api/pool/agents?owner=${user.inboxId}&limit=500`, {
      token: await session(user),
    });
    expect(badLimit.status).toBe(400);
    expect(badLimit.json.error.field).toBe("limit");
    const unknown = await rest("GET", `/api/pool/agents?owner=${user.inboxId}&colour=red`, {
      token: await session(user),
    });
    expect(unknown.status).toBe(400);
    expect(unknown.json.error.field).toBe("colour");
  });

  it("answers 404 for someone else's private template, as for a missing one", async () => {
    const creator = newIdentity();
    const stranger = newIdentity();
    const templateId = await template(creator, "private");
    await refill();
    const res = await rest("POST", "/api/pool/claim", { body: await signedClaim(stranger, templateId) });
    expect(res.status, JSON.stringify(res.json)).toBe(404);
    expect(res.json.error).toMatchObject({ type: "not_found", code: "not_found" });
    const missing = await rest("POST", "/api/pool/claim", {
      body: await signedClaim(stranger, "tmpl_0000000000000000"),
    });
    expect(missing.status).toBe(404);
    // Its creator can.
    const own = await rest("POST", "/api/pool/claim", { body: await signedClaim(creator, templateId) });
    expect(own.status, JSON.stringify(own.json)).toBe(200);
  });

  it("answers 400 with the tool's prompt when a required user tool is missing", async () => {
    const templateId = await template(newIdentity());
    const res = await rest("POST", "/api/pool/claim", {
      body: await signedClaim(newIdentity(), templateId, { user_config: {} }),
    });
    expect(res.status, JSON.stringify(res.json)).toBe(400);
    expect(res.json.error).toMatchObject({
      type: "invalid_request",
      code: "invalid_argument",
      field: "user_config.personal-email",
    });
    expect(res.json.error.message).toContain(PROMPT);
  });

  it("renames the claims service's fields to the body's", async () => {
    const templateId = await template(newIdentity(), "public", {
      model: { default: "gpt-oss-20b", allow_override: false },
    });
    const model = await rest("POST", "/api/pool/claim", {
      body: await signedClaim(newIdentity(), templateId, { model: "other-model" }),
    });
    expect(model.status).toBe(400);
    expect(model.json.error.field).toBe("model");
    const badTemplate = await rest("POST", "/api/pool/claim", { body: await signedClaim(newIdentity(), "nope") });
    expect(badTemplate.status).toBe(400);
    expect(badTemplate.json.error.field).toBe("template_id");
    expect(badTemplate.json.error.message).toMatch(/^template_id: /);
    const blank = await rest("POST", "/api/pool/claim", {
      body: await signedClaim(newIdentity(), templateId, { conversation_invite: " " }),
    });
    expect(blank.json.error.field).toBe("conversation_invite");
    const blankAlias = await rest("POST", "/api/pool/claim", {
      body: { ...claimBody(newIdentity(), templateId), conversation_invite: undefined, conversation_id: " " },
    });
    expect(blankAlias.json.error.field).toBe("conversation_id");
    const context = await rest("POST", "/api/pool/claim", {
      body: await signedClaim(newIdentity(), templateId, { context_prompt: "bring it all" }),
    });
    expect(context.status).toBe(400);
    expect(context.json.error.field).toBe("context_prompt");
  });

  it("answers 400 naming the field for a malformed body", async () => {
    const user = newIdentity();
    const templateId = await template(newIdentity());
    const cases: Array<[unknown, string]> = [
      [{ ...claimBody(user, templateId), colour: "red" }, "colour"],
      [{ ...claimBody(user, templateId), requester: undefined }, "requester"],
      [{ ...claimBody(user, templateId), template_id: 5 }, "template_id"],
      [{ ...claimBody(user, templateId), conversation_invite: undefined }, "conversation_invite"],
      [{ ...claimBody(user, templateId), model: null }, "model"],
      [{ ...claimBody(user, templateId), user_config: ["saul@example.com"] }, "user_config"],
      [{ ...claimBody(user, templateId), user_config: { "personal-email": 1 } }, "user_config.personal-email"],
      [{ ...claimBody(user, templateId), owner_signature: "0xabc" }, "owner_signature"],
      [
        { ...claimBody(user, templateId), owner_signature: { signature: "0x", nonce: "0x", issuedAt: 1 } },
        "owner_signature.issuedAt",
      ],
      [{ ...claimBody(user, templateId), conversation_id: invite() }, "conversation_id"],
      [
        { ...claimBody(user, templateId), conversation_invite: undefined, conversation_id: "ab".repeat(16) },
        "conversation_id",
      ],
      [[], "body"],
    ];
    for (const [body, field] of cases) {
      const res = await rest("POST", "/api/pool/claim", { body });
      expect(res.status, `${field}: ${JSON.stringify(res.json)}`).toBe(400);
      expect(res.json.error).toMatchObject({ type: "invalid_request", code: "invalid_argument", field });
      expect(res.json.error.message.startsWith(`${field}: `), res.json.error.message).toBe(true);
    }
    // The camelCase names of the first REST API are unknown fields, told their snake_case spelling.
    const { template_id: _, ...noTemplate } = claimBody(user, templateId);
    const camel = await rest("POST", "/api/pool/claim", { body: { ...noTemplate, templateId } });
    expect(camel.status).toBe(400);
    expect(camel.json.error).toEqual({
      type: "invalid_request",
      code: "invalid_argument",
      message: "templateId: unknown field; did you mean template_id?",
      field: "templateId",
      violations: [{ field: "templateId", description: "unknown field; did you mean template_id?" }],
    });
    const nested = await rest("POST", "/api/pool/claim", {
      body: { ...claimBody(user, templateId), owner_signature: { signature: "0x", nonce: "0x", issuedAt: 1 } },
    });
    expect(nested.json.error.message).toBe("owner_signature.issuedAt: unknown field; did you mean issued_at?");
    const malformed = await rest("POST", "/api/pool/claim", { raw: '{"requester": ' });
    expect(malformed.status).toBe(400);
    expect(malformed.json.error.field).toBe("body");
    const query = await rest("POST", "/api/pool/claim?x=1", { body: claimBody(user, templateId) });
    expect(query.status).toBe(400);
    expect(query.json.error.field).toBe("x");
    const method = await rest("GET", "/api/pool/claim");
    expect(method.status).toBe(405);
    expect(method.headers.get("allow")).toBe("POST, OPTIONS");
  });

  it("accepts conversation_id, the alias of conversation_invite, when it is an invite", async () => {
    const user = newIdentity();
    const templateId = await template(newIdentity());
    await refill();
    const body = await signedClaim(user, templateId, { conversation_invite: undefined, conversation_id: invite() });
    const res = await rest("POST", "/api/pool/claim", { body });
    expect(res.status, JSON.stringify(res.json)).toBe(200);
  });

  it("takes a clone body (clone_from, template_id, template_creator_id, context_prompt, carry, owner_signature), naming bad fields in the body's names", async () => {
    const user = newIdentity();
    const to = invite();
    const clone = {
      ownerId: user.inboxId,
      parentInstanceId: "inst_0000000000000000",
      templateId: "tmpl_0000000000000000",
      templateCreatorId: newIdentity().inboxId,
      conversationInvite: to,
      contextPrompt: "general travel knowledge",
      carry: ["training"],
      model: "",
      userConfig: {},
    };
    const s = await signClone(user.account, clone);
    const body = {
      requester: user.inboxId,
      clone_from: clone.parentInstanceId,
      template_id: clone.templateId,
      template_creator_id: clone.templateCreatorId,
      conversation_invite: to,
      context_prompt: clone.contextPrompt,
      carry: clone.carry,
      owner_signature: restSignature(s),
    };
    // Signed, but of an agent that is not the requester's (none at all): 404, as any agent not yours.
    const missing = await rest("POST", "/api/pool/claim", { body });
    expect(missing.status, JSON.stringify(missing.json)).toBe(404);
    const unsigned = await rest("POST", "/api/pool/claim", { body: { ...body, owner_signature: undefined } });
    expect(unsigned.status).toBe(400);
    expect(unsigned.json.error.field).toBe("owner_signature");
    const noCreator = await rest("POST", "/api/pool/claim", { body: { ...body, template_creator_id: undefined } });
    expect(noCreator.status).toBe(400);
    expect(noCreator.json.error.field).toBe("template_creator_id");
    const badKind = await rest("POST", "/api/pool/claim", { body: { ...body, carry: ["secrets"] } });
    expect(badKind.status).toBe(400);
    expect(badKind.json.error.field).toBe("carry[0]");
    const notList = await rest("POST", "/api/pool/claim", { body: { ...body, carry: "training" } });
    expect(notList.status).toBe(400);
    expect(notList.json.error.field).toBe("carry");
  });

  it("offers an agent to another inbox and lets that inbox accept it, both signed, over REST", async () => {
    const owner = newIdentity();
    const heir = newIdentity();
    const templateId = await template(newIdentity());
    await refill();
    const claimed = await rest("POST", "/api/pool/claim", { body: await signedClaim(owner, templateId) });
    expect(claimed.status, JSON.stringify(claimed.json)).toBe(200);
    const id = claimed.json.instance_id as string;
    const sig = restSig;
    const noSig = await rest("POST", `/api/pool/agents/${id}/transfer`, {
      body: { new_owner_id: heir.inboxId },
      token: await session(owner),
    });
    expect(noSig.status).toBe(401);
    // Offered, then withdrawn by the owner (a stranger's withdrawal is a 404): the heir has nothing to accept.
    const offer = async () =>
      rest("POST", `/api/pool/agents/${id}/transfer`, {
        body: {
          new_owner_id: heir.inboxId,
          owner_signature: await sig(owner, "TransferAgent", { instanceId: id, newOwnerId: heir.inboxId }),
        },
      });
    expect((await offer()).status).toBe(200);
    const stranger = newIdentity();
    const strangers = await rest("DELETE", `/api/pool/agents/${id}/transfer`, {
      body: { owner_signature: await sig(stranger, "WithdrawTransfer", { instanceId: id, newOwnerId: heir.inboxId }) },
    });
    expect(strangers.status).toBe(404);
    const withdrawn = await rest("DELETE", `/api/pool/agents/${id}/transfer`, {
      body: { owner_signature: await sig(owner, "WithdrawTransfer", { instanceId: id, newOwnerId: heir.inboxId }) },
    });
    expect(withdrawn.status, JSON.stringify(withdrawn.json)).toBe(200);
    expect(withdrawn.json).toMatchObject({ owner_id: owner.inboxId, pending_owner_id: "" });
    expect(host.callsOf(id)).toContain("withdraw");
    const none = await rest("DELETE", `/api/pool/agents/${id}/transfer`, {
      token: await session(owner),
      body: { owner_signature: await sig(owner, "WithdrawTransfer", { instanceId: id, newOwnerId: heir.inboxId }) },
    });
    expect(none.status).toBe(422);
    await new Promise((r) => setTimeout(r, 1_100)); // a new offer is signed in a later second than the withdrawal
    const offered = await rest("POST", `/api/pool/agents/${id}/transfer`, {
      body: {
        new_owner_id: heir.inboxId,
        owner_signature: await sig(owner, "TransferAgent", { instanceId: id, newOwnerId: heir.inboxId }),
      },
    });
    expect(offered.status, JSON.stringify(offered.json)).toBe(200);
    expect(offered.json).toMatchObject({ owner_id: owner.inboxId, pending_owner_id: heir.inboxId });
    const heirToken = await session(heir);
    expect((await rest("GET", `/api/pool/agents/${id}`, { token: heirToken })).json.owner_id).toBe(owner.inboxId);
    const accepted = await rest("POST", `/api/pool/agents/${id}/accept`, {
      token: heirToken,
      body: { signature: await sig(heir, "AcceptAgent", { instanceId: id, fromOwnerId: owner.inboxId }) },
    });
    expect(accepted.status, JSON.stringify(accepted.json)).toBe(200);
    expect(accepted.json).toMatchObject({ owner_id: heir.inboxId, pending_owner_id: "" });
    expect(host.callsOf(id)).toContain("transfer");
    expect((await rest("GET", `/api/pool/agents/${id}`, { token: await session(owner) })).status).toBe(404);
    const badField = await rest("POST", `/api/pool/agents/${id}/transfer`, {
      body: {
        new_owner_id: "nope",
        owner_signature: await sig(heir, "TransferAgent", { instanceId: id, newOwnerId: "nope" }),
      },
    });
    expect(badField.status).toBe(400);
    expect(badField.json.error.field).toBe("new_owner_id");
  });

  it("takes the owner's WithdrawFunds (POST /api/pool/agents/{id}/withdraw): signed even with a session, the owner's signature only", async () => {
    const owner = newIdentity();
    const templateId = await template(newIdentity(), "public", {
      tools: [
        ...TOOLS,
        { id: "crypto", name: "Wallet", provisioning: "pool", description: "", prompt: "", required: false },
      ],
    });
    await refill();
    const claimed = await rest("POST", "/api/pool/claim", { body: await signedClaim(owner, templateId) });
    expect(claimed.status, JSON.stringify(claimed.json)).toBe(200);
    const id = claimed.json.instance_id as string;
    const path = `/api/pool/agents/${id}/withdraw`;
    // A session alone moves nothing.
    const noSig = await rest("POST", path, { body: {}, token: await session(owner) });
    expect(noSig.status).toBe(401);
    expect(noSig.json.error.message).toMatch(/owner_signature: required/);
    const stranger = newIdentity();
    const strangers = await rest("POST", path, {
      body: { owner_signature: await restSig(owner, "WithdrawFunds", { instanceId: id }, stranger) },
    });
    expect(strangers.status).toBe(403);
    // The owner's, here on a pool without a chain: its wallet holds nothing the pool can send.
    const owners = await rest("POST", path, {
      body: { owner_signature: await restSig(owner, "WithdrawFunds", { instanceId: id }) },
    });
    expect(owners.status, JSON.stringify(owners.json)).toBe(422);
    expect(owners.json.error.message).toMatch(/on no chain/);
    const bad = await rest("POST", path, {
      body: { owner_signature: { signature: "0x1", issued_at: 1, nonce: "0x2" } },
    });
    expect(bad.status).toBe(400);
    expect(bad.json.error.field).toBe("owner_signature.signature");
  });

  it("answers the lineage paths from the lineage service, and 503 on a gateway without one", async () => {
    const creator = newIdentity();
    const owner = newIdentity();
    const templateId = await template(creator);
    await refill();
    const claimed = await rest("POST", "/api/pool/claim", { body: await signedClaim(owner, templateId) });
    const id = claimed.json.instance_id as string;
    await claims.lineage!.drained();
    const ownerToken = await session(owner);
    const lin = await rest("GET", `/api/pool/agents/${id}/lineage`, { token: ownerToken });
    expect(lin.status, JSON.stringify(lin.json)).toBe(200);
    expect(lin.json.instance).toMatchObject({
      instance_id: id,
      template_id: templateId,
      owner_id: owner.inboxId,
      depth: 0,
      parent_instance_id: "",
    });
    expect(lin.json.ancestors).toEqual([]);
    const dash = await rest("GET", `/api/pool/templates/${templateId}/dashboard`, { token: await session(creator) });
    expect(dash.status, JSON.stringify(dash.json)).toBe(200);
    expect(dash.json).toMatchObject({
      template_id: templateId,
      live_count: 1,
      total_count: 1,
      clone_count: 0,
      owners: [{ owner_id: owner.inboxId, live: 1, total: 1 }],
    });
    expect((await rest("GET", `/api/pool/templates/${templateId}/dashboard`, { token: ownerToken })).status).toBe(403);
    const lastTwo = await rest("GET", `/api/pool/templates/${templateId}/dashboard?days=2`, {
      token: await session(creator),
    });
    expect(lastTwo.json.usage).toEqual([
      { day: new Date(Date.now() - 86_400_000).toISOString().slice(0, 10), claims: 0, active_agents: 0 },
      { day: new Date().toISOString().slice(0, 10), claims: 1, active_agents: 1 },
    ]);
    const tooLong = await rest("GET", `/api/pool/templates/${templateId}/dashboard?days=91`, {
      token: await session(creator),
    });
    expect([tooLong.status, tooLong.json.error.field]).toEqual([400, "days"]);
    const mine = await rest("GET", `/api/pool/lineage?owner=${owner.inboxId}&ended=true`, { token: ownerToken });
    expect(mine.json.agents.map((a: { instance_id: string }) => a.instance_id)).toEqual([id]);
    expect((await rest("GET", `/api/pool/lineage`, { token: ownerToken })).json.error.field).toBe("owner");
    expect(
      (await rest("GET", `/api/pool/lineage?owner=${owner.inboxId}&limit=500`, { token: ownerToken })).json.error.field,
    ).toBe("limit");
    expect((await rest("GET", `/api/pool/agents/${id}/lineage`)).status).toBe(401);
    const none = await rest("GET", `/api/pool/agents/${id}/lineage`, { token: ownerToken, on: bare });
    expect(none.status).toBe(503);
    expect(none.json.error.message).toContain("lineage service");
  });

  it("answers 503 with Retry-After when no agent is idle, and the pool refills", async () => {
    const user = newIdentity();
    const templateId = await template(newIdentity());
    await refill();
    let answer: RestAnswer | undefined;
    for (let i = 0; i <= WARM; i++) {
      answer = await rest("POST", "/api/pool/claim", { body: await signedClaim(user, templateId) });
      if (answer.status !== 200) break;
    }
    expect(answer!.status, JSON.stringify(answer!.json)).toBe(503);
    expect(answer!.json.error).toMatchObject({ type: "unavailable", code: "resource_exhausted" });
    expect(answer!.headers.get("retry-after")).toBe("5");
    await refill();
    const again = await rest("POST", "/api/pool/claim", { body: await signedClaim(user, templateId) });
    expect(again.status, JSON.stringify(again.json)).toBe(200);
  });

  it("lists a template's instances with a count for its creator (GET /api/pool/templates/{id}/instances)", async () => {
    const creator = newIdentity();
    const users = [newIdentity(), newIdentity()];
    const templateId = await template(creator);
    const ids: string[] = [];
    for (const u of [users[0]!, users[1]!, users[0]!]) {
      await refill();
      const res = await rest("POST", "/api/pool/claim", { body: await signedClaim(u, templateId) });
      expect(res.status, JSON.stringify(res.json)).toBe(200);
      ids.push(res.json.instance_id as string);
    }
    const token = await session(creator);
    const path = `/api/pool/templates/${templateId}/instances`;

    const all = await rest("GET", path, { token });
    expect(all.status, JSON.stringify(all.json)).toBe(200);
    expect(Object.keys(all.json)).toEqual(["instances", "total_count", "next_cursor", "reach"]);
    expect(all.json.total_count).toBe(3);
    // Where the live agents stand with the newest release, counted over all of them.
    const r = all.json.reach;
    expect(r.live_count).toBe(3);
    expect(r.current_count + r.pending_count + r.failed_count + r.pinned_count).toBe(3);
    // What they run: all three the template's first version.
    expect(r.running).toEqual([{ version: 1, count: 3 }]);
    expect(all.json.next_cursor).toBeNull();
    expect(all.json.instances.map((i: { id: string }) => i.id)).toEqual([...ids].reverse());
    expect(all.json.instances[0]).toMatchObject({
      id: ids[2],
      template_id: templateId,
      owner_id: users[0]!.inboxId,
      state: "INSTANCE_STATE_CLAIMED",
      parent_instance_id: "",
      agent_name: "Trip Planner",
    });

    // Paging, and the live filter (all three are live here; the claims service's tests cover dead ones).
    const p1 = await rest("GET", `${path}?live=true&limit=2`, { token });
    expect(p1.status, JSON.stringify(p1.json)).toBe(200);
    expect(p1.json.instances.map((i: { id: string }) => i.id)).toEqual([ids[2], ids[1]]);
    expect(p1.json.total_count).toBe(3);
    expect(typeof p1.json.next_cursor).toBe("string");
    const p2 = await rest("GET", `${path}?live=true&limit=2&cursor=${p1.json.next_cursor}`, { token });
    expect(p2.json.instances.map((i: { id: string }) => i.id)).toEqual([ids[0]]);
    expect(p2.json.next_cursor).toBeNull();

    // The creator's session only.
    const anonymous = await rest("GET", path);
    expect(anonymous.status).toBe(401);
    expect(anonymous.json.error).toMatchObject({ type: "unauthenticated", code: "unauthenticated" });
    const forged = await rest("GET", path, { headers: { [CALLER_HEADER]: creator.inboxId } });
    expect(forged.status).toBe(401);
    const stranger = await rest("GET", path, { token: await session(users[0]!) });
    expect(stranger.status).toBe(403);
    expect(stranger.json.error).toMatchObject({ type: "permission_denied", code: "permission_denied" });
    const privateId = await template(creator, "private");
    const hidden = await rest("GET", `/api/pool/templates/${privateId}/instances`, { token: await session(users[1]!) });
    expect(hidden.status).toBe(404);
    expect(hidden.json.error).toMatchObject({ type: "not_found", code: "not_found" });
    const ownPrivate = await rest("GET", `/api/pool/templates/${privateId}/instances`, { token });
    expect(ownPrivate.json).toMatchObject({
      instances: [],
      total_count: 0,
      next_cursor: null,
      reach: { live_count: 0 },
    });

    // Bad queries name the parameter.
    for (const [query, field] of [
      ["live=yes", "live"],
      ["limit=500", "limit"],
      ["limit=0", "limit"],
      ["cursor=garbage", "cursor"],
      ["colour=red", "colour"],
    ] as const) {
      const bad = await rest("GET", `${path}?${query}`, { token });
      expect(bad.status, `${query}: ${JSON.stringify(bad.json)}`).toBe(400);
      expect(bad.json.error).toMatchObject({ type: "invalid_request", code: "invalid_argument", field });
    }
    const badId = await rest("GET", `/api/pool/templates/nope/instances`, { token });
    expect(badId.status).toBe(400);
    expect(badId.json.error.field).toBe("template_id");
    const method = await rest("POST", path, { token });
    expect(method.status).toBe(405);
    expect(method.headers.get("allow")).toBe("GET, OPTIONS");

    // Without a claims service.
    const bareAnswer = await rest("GET", path, { token, on: bare });
    expect(bareAnswer.status).toBe(503);
    expect(bareAnswer.json.error.message).toBe(CLAIMS_NOT_CONFIGURED);
  });

  it("reads one agent and pins it (GET /api/pool/agents/{id}, PUT /api/pool/agents/{id}/pin), for its owner only", async () => {
    const { user, claimed } = await claimedAgent();
    const id = claimed.json.instance_id as string;
    const token = await session(user);
    const strangerId = newIdentity();
    const stranger = await session(strangerId);

    const got = await rest("GET", `/api/pool/agents/${id}`, { token });
    expect(got.status, JSON.stringify(got.json)).toBe(200);
    // Version 1: the content its creator signed (publishing made the template version 2, not its content).
    expect(got.json).toMatchObject({
      id,
      owner_id: user.inboxId,
      sync: { state: "SYNC_STATE_CURRENT", applied_version: "1", pending_version: "0", error: "" },
    });
    const hidden = await rest("GET", `/api/pool/agents/${id}`, { token: stranger });
    expect(hidden.status).toBe(404);
    expect(hidden.json.error.code).toBe("not_found");
    expect((await rest("GET", `/api/pool/agents/${id}`)).status).toBe(401);
    const badId = await rest("GET", `/api/pool/agents/nope`, { token });
    expect(badId.status).toBe(400);
    expect(badId.json.error.field).toBe("instance_id");

    const pinned = await rest("PUT", `/api/pool/agents/${id}/pin`, { token, body: { pinned: true } });
    expect(pinned.status, JSON.stringify(pinned.json)).toBe(200);
    expect(pinned.json.sync.state).toBe("SYNC_STATE_PINNED");
    // Unpinning takes the owner's signature even signed in: a stolen session cannot hand the agent to new versions.
    const sessionOnly = await rest("PUT", `/api/pool/agents/${id}/pin`, { token, body: { pinned: false } });
    expect(sessionOnly.status).toBe(401);
    expect(sessionOnly.json.error.message).toMatch(/^owner_signature: required: SetInstancePin to unpin /);
    const strangers = restSignature(
      await signOperation(strangerId.account, "SetInstancePin", {
        inboxId: strangerId.inboxId,
        instanceId: id,
        pinned: false,
      }),
    );
    const byStranger = await rest("PUT", `/api/pool/agents/${id}/pin`, {
      token: stranger,
      body: { pinned: false, owner_signature: strangers },
    });
    expect(byStranger.status).toBe(404);
    expect((await rest("PUT", `/api/pool/agents/${id}/pin`, { body: { pinned: false } })).status).toBe(401);

    // Without a session: the owner's signature.
    const s = await signOperation(user.account, "SetInstancePin", {
      inboxId: user.inboxId,
      instanceId: id,
      pinned: false,
    });
    const ownerSignature = restSignature(s);
    const unpinned = await rest("PUT", `/api/pool/agents/${id}/pin`, {
      body: { pinned: false, owner_signature: ownerSignature },
    });
    expect(unpinned.status, JSON.stringify(unpinned.json)).toBe(200);
    expect(unpinned.json.sync.state).toBe("SYNC_STATE_CURRENT");
    const replay = await rest("PUT", `/api/pool/agents/${id}/pin`, {
      body: { pinned: false, owner_signature: ownerSignature },
    });
    expect(replay.status).toBe(401);

    for (const [body, field] of [
      [{}, "pinned"],
      [{ pinned: "yes" }, "pinned"],
      [{ pinned: true, colour: "red" }, "colour"],
      [
        { pinned: true, owner_signature: { signature: "0x00", issued_at: 1, nonce: "0x00" } },
        "owner_signature.signature",
      ],
    ] as const) {
      const bad = await rest("PUT", `/api/pool/agents/${id}/pin`, { token, body });
      expect(bad.status, JSON.stringify(bad.json)).toBe(400);
      expect(bad.json.error.field).toBe(field);
    }
    const method = await rest("POST", `/api/pool/agents/${id}/pin`, { token, body: { pinned: true } });
    expect(method.status).toBe(405);
    expect((await rest("GET", `/api/pool/agents/${id}`, { token, on: bare })).status).toBe(503);
  });

  it("sets an agent's trust level, signed by its owner, and lists its activity (PUT /api/pool/agents/{id}/trust, GET …/activity; whole with the owner's signature, POST …/activity/list), for its owner only", async () => {
    const owner = newIdentity();
    // With a wallet: what the pool's payment signer signed for it is part of the owner's signed read.
    const templateId = await template(newIdentity(), "public", {
      max_trust_level: "L4",
      tools: [
        ...TOOLS,
        { id: "crypto", name: "Wallet", provisioning: "pool", description: "", prompt: "", required: false },
      ],
    });
    await refill();
    const claimed = await rest("POST", "/api/pool/claim", { body: await signedClaim(owner, templateId) });
    expect(claimed.status, JSON.stringify(claimed.json)).toBe(200);
    const id = claimed.json.instance_id as string;
    const token = await session(owner);
    const stranger = newIdentity();
    const sig = (who: TestIdentity, trustLevel: number, dailySpendLimitWei = 0n) =>
      restSig(who, "SetTrustLevel", { instanceId: id, trustLevel, dailySpendLimitWei });

    // A new agent starts at L2; levels are named as people name them.
    const before = await rest("GET", `/api/pool/agents/${id}`, { token });
    expect(before.json).toMatchObject({ trust_level: "L2" });
    expect((await rest("GET", `/api/pool/agents/${id}/activity`, { token })).json).toEqual({
      entries: [],
      next_cursor: null,
      detailed: false,
      signed_payments: [],
    });

    const l1 = await rest("PUT", `/api/pool/agents/${id}/trust`, {
      body: { trust_level: "L1", owner_signature: await sig(owner, 1) },
    });
    expect(l1.status, JSON.stringify(l1.json)).toBe(200);
    expect(l1.json).toMatchObject({ id, owner_id: owner.inboxId, trust_level: "L1" });
    expect(host.callsOf(id)).toContain("trust");
    const wei = "50000000000000000";
    const l4 = await rest("PUT", `/api/pool/agents/${id}/trust`, {
      token,
      body: { trust_level: "L4", daily_spend_limit_wei: wei, owner_signature: await sig(owner, 4, BigInt(wei)) },
    });
    expect(l4.status, JSON.stringify(l4.json)).toBe(200);
    expect(l4.json).toMatchObject({ trust_level: "L4", daily_spend_limit_wei: wei });
    expect((await rest("GET", `/api/pool/agents?owner=${owner.inboxId}`, { token })).json.agents[0]).toMatchObject({
      id,
      trust_level: "L4",
      daily_spend_limit_wei: wei,
    });

    // The log, newest first, in pages. A session alone reads it without details (the owner's own changes stay whole).
    const all = await rest("GET", `/api/pool/agents/${id}/activity`, { token });
    expect(all.status, JSON.stringify(all.json)).toBe(200);
    expect(all.json.next_cursor).toBeNull();
    expect(all.json.detailed).toBe(false);
    expect(all.json.entries).toHaveLength(2);
    expect(all.json.entries[0]).toEqual({
      id: expect.any(String),
      at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      tool_id: "trust",
      action: "set_trust_level",
      target: "",
      amount_wei: wei,
      outcome: "done",
      detail: "L1 → L4, set by the owner",
      trust_level: "L4",
      approved: false,
      // A change of level is the owner's, signed: nobody asked for it in the conversation.
      asked_by: "",
      asked_by_role: "",
      asked_by_name: "",
    });
    expect(all.json.entries[1]).toMatchObject({
      action: "set_trust_level",
      outcome: "done",
      detail: "L2 → L1, set by the owner",
      trust_level: "L1",
    });
    const page1 = await rest("GET", `/api/pool/agents/${id}/activity?limit=1`, { token });
    expect(page1.json.entries.map((e: { id: string }) => e.id)).toEqual([all.json.entries[0].id]);
    const page2 = await rest("GET", `/api/pool/agents/${id}/activity?limit=1&cursor=${page1.json.next_cursor}`, {
      token,
    });
    expect(page2.json).toMatchObject({ entries: [{ id: all.json.entries[1].id }], next_cursor: null });

    // A payment as the agent logs it (the stand-in logs only its owner's changes): a session alone reads it
    // without recipient, amount, detail or asker; the owner's ReadAgentActivity (POST …/activity/list) whole,
    // its page from the query; the signature once; no one else's; a session still needed.
    const paid = {
      target: `0x${"ab".repeat(20)}`,
      amount_wei: "10000000000000000",
      detail: `transaction 0x${"cd".repeat(32)}`,
      asked_by: stranger.inboxId,
      asked_by_name: "Ana",
    };
    host.instances.get(id)?.activity?.push(
      create(ActivityEntrySchema, {
        id: "act_paid",
        at: timestampNow(),
        toolId: "crypto",
        action: "send_payment",
        target: paid.target,
        amountWei: paid.amount_wei,
        outcome: ToolCallOutcome.DONE,
        detail: paid.detail,
        trustLevel: TrustLevel.AUTONOMOUS,
        approved: true,
        askedBy: paid.asked_by,
        askedByRole: "member",
        askedByName: paid.asked_by_name,
      }),
    );
    const payment = { id: "act_paid", tool_id: "crypto", action: "send_payment", outcome: "done", approved: true };
    const hiddenPayment = await rest("GET", `/api/pool/agents/${id}/activity?limit=2`, { token });
    expect(hiddenPayment.json).toMatchObject({ detailed: false, entries: [payment, all.json.entries[0]] });
    expect(hiddenPayment.json.entries[0]).toMatchObject({
      ...Object.fromEntries(Object.keys(paid).map((k) => [k, ""])),
      trust_level: "L4",
      asked_by_role: "member",
    });
    // The payment signer's ledger for its wallet, as the claims service keeps it (docs/security.md, "Agents' money").
    const sql = new pg.Client({ connectionString: claimsDatabaseUrl });
    await sql.connect();
    await sql.query(
      `insert into signed_payments (instance_id, wallet, chain_id, to_address, value_wei, max_fee_wei, nonce, transaction_hash, host_url)
       select $1, handle, 31337, $2, $3, 42000, 7, $4, $5 from provisioned_tools where instance_id = $1 and tool_id = 'crypto'`,
      [id, paid.target, paid.amount_wei, `0x${"ab".repeat(32)}`, host.url],
    );
    await sql.end();
    const whole = `/api/pool/agents/${id}/activity/list`;
    const read = (signer = owner) => restSig(owner, "ReadAgentActivity", { instanceId: id }, signer);
    const ownersRead = await read();
    const signed = await rest("POST", `${whole}?limit=2`, { token, body: { owner_signature: ownersRead } });
    expect(signed.status, JSON.stringify(signed.json)).toBe(200);
    expect(signed.json).toEqual({
      entries: [{ ...hiddenPayment.json.entries[0], ...paid }, all.json.entries[0]],
      next_cursor: hiddenPayment.json.next_cursor,
      detailed: true,
      signed_payments: [
        {
          sequence: expect.stringMatching(/^\d+$/),
          chain_id: "31337",
          to: paid.target,
          value_wei: paid.amount_wei,
          max_fee_wei: "42000",
          nonce: "7",
          transaction_hash: `0x${"ab".repeat(32)}`,
          host_url: host.url,
          signed_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        },
      ],
    });
    // A session alone reads none of it.
    expect(hiddenPayment.json.signed_payments).toEqual([]);
    const again = await rest("POST", whole, { token, body: { owner_signature: ownersRead } });
    expect(again.status).toBe(401);
    expect(again.json.error.message).toMatch(/^owner_signature\.nonce: already used/);
    const strangers = await rest("POST", whole, { token, body: { owner_signature: await read(stranger) } });
    expect(strangers.status, JSON.stringify(strangers.json)).toBe(403);
    expect(strangers.json.error.message).toMatch(/^owner_signature/);
    // Unsigned, the session's read, as ListAgentActivity answers on Connect.
    const unsigned = await rest("POST", whole, { token, body: {} });
    expect([unsigned.status, unsigned.json.detailed, unsigned.json.signed_payments]).toEqual([200, false, []]);
    expect((await rest("POST", whole, { body: { owner_signature: await read() } })).status).toBe(401);
    const strangersSession = await rest("POST", whole, {
      token: await session(stranger),
      body: { owner_signature: await read() },
    });
    expect(strangersSession.status).toBe(404);
    // Unsigned, as on Connect: the agent is judged first, so a stranger learns no more than 404.
    expect((await rest("POST", whole, { token: await session(stranger), body: {} })).status).toBe(404);
    for (const [q, body, field] of [
      ["?limit=500", { owner_signature: await read() }, "limit"],
      ["", { owner_signature: await read(), colour: "red" }, "colour"],
      ["", { owner_signature: { signature: "0x00", issued_at: 1 } }, "owner_signature.nonce"],
    ] as const) {
      const bad = await rest("POST", `${whole}${q}`, { token, body });
      expect(bad.status, JSON.stringify(bad.json)).toBe(400);
      expect(bad.json.error.field).toBe(field);
    }

    // The owner's signature, always; once; nobody else's. The owner's session only for the log.
    expect((await rest("PUT", `/api/pool/agents/${id}/trust`, { token, body: { trust_level: "L3" } })).status).toBe(
      401,
    );
    const once = await sig(owner, 3);
    expect(
      (await rest("PUT", `/api/pool/agents/${id}/trust`, { body: { trust_level: "L3", owner_signature: once } }))
        .status,
    ).toBe(200);
    expect(
      (await rest("PUT", `/api/pool/agents/${id}/trust`, { body: { trust_level: "L3", owner_signature: once } }))
        .status,
    ).toBe(401);
    // Signed over another level than the body's: not the owner's signature for this.
    expect(
      (
        await rest("PUT", `/api/pool/agents/${id}/trust`, {
          body: { trust_level: "L2", owner_signature: await sig(owner, 1) },
        })
      ).status,
    ).toBe(404);
    expect(
      (
        await rest("PUT", `/api/pool/agents/${id}/trust`, {
          body: { trust_level: "L2", owner_signature: await sig(stranger, 2) },
        })
      ).status,
    ).toBe(404);
    expect((await rest("GET", `/api/pool/agents/${id}/activity`)).status).toBe(401);
    const hidden = await rest("GET", `/api/pool/agents/${id}/activity`, { token: await session(stranger) });
    expect(hidden.status).toBe(404);
    expect(hidden.json.error.code).toBe("not_found");
    expect((await rest("GET", `/api/pool/agents/${id}`, { token })).json.trust_level).toBe("L3");
    // L3 may have a limit too (each payment also waits for the owner's yes), as over Connect.
    const l3 = await rest("PUT", `/api/pool/agents/${id}/trust`, {
      body: { trust_level: "L3", daily_spend_limit_wei: "1000", owner_signature: await sig(owner, 3, 1000n) },
    });
    expect(l3.status, JSON.stringify(l3.json)).toBe(200);
    expect(l3.json).toMatchObject({ trust_level: "L3", daily_spend_limit_wei: "1000" });

    // Bad input, named by the body's field.
    for (const [body, field] of [
      [{}, "trust_level"],
      [{ trust_level: "L5" }, "trust_level"],
      [{ trust_level: 3 }, "trust_level"],
      [{ trust_level: "TRUST_LEVEL_OPERATOR" }, "trust_level"],
      [{ trust_level: "L4" }, "daily_spend_limit_wei"],
      [{ trust_level: "L1", daily_spend_limit_wei: "1" }, "daily_spend_limit_wei"],
      [
        { trust_level: "L4", daily_spend_limit_wei: "0.05", owner_signature: await sig(owner, 4, 5n) },
        "daily_spend_limit_wei",
      ],
      [{ trust_level: "L3", colour: "red" }, "colour"],
      [{ trust_level: "L3", owner_signature: { signature: "0x00", issued_at: 1 } }, "owner_signature.nonce"],
    ] as const) {
      const bad = await rest("PUT", `/api/pool/agents/${id}/trust`, { token, body });
      expect(bad.status, JSON.stringify(bad.json)).toBe(400);
      expect(bad.json.error).toMatchObject({ type: "invalid_request", code: "invalid_argument", field });
    }
    expect(
      (await rest("PUT", `/api/pool/agents/${id}/trust`, { token, body: { trust_level: "L5" } })).json.error.message,
    ).toBe('trust_level: must be one of "L1", "L2", "L3", "L4"');
    for (const [q, field] of [
      ["limit=500", "limit"],
      ["colour=red", "colour"],
    ] as const) {
      const bad = await rest("GET", `/api/pool/agents/${id}/activity?${q}`, { token });
      expect(bad.status, JSON.stringify(bad.json)).toBe(400);
      expect(bad.json.error.field).toBe(field);
    }
    expect((await rest("POST", `/api/pool/agents/${id}/trust`, { token, body: {} })).status).toBe(405);
    expect((await rest("GET", `/api/pool/agents/${id}/activity`, { token, on: bare })).status).toBe(503);
    expect(
      (
        await rest("POST", `/api/pool/agents/${id}/activity/list`, {
          token,
          on: bare,
          body: { owner_signature: await restSig(owner, "ReadAgentActivity", { instanceId: id }) },
        })
      ).status,
    ).toBe(503);
  });

  it("sets whose requests an agent acts on, signed by its owner over all five with the defaults filled in (PUT /api/pool/agents/{id}/permissions), for its owner only, and shows them by name", async () => {
    const { user: owner, claimed } = await claimedAgent();
    const id = claimed.json.instance_id as string;
    const token = await session(owner);
    const stranger = newIdentity();
    const sig = (who: TestIdentity, p: Partial<ResolvedPermissions>) =>
      restSig(who, "SetPermissions", { instanceId: id, ...resolvePermissions(p) });
    const put = (body: unknown, t?: string) =>
      rest("PUT", `/api/pool/agents/${id}/permissions`, { body, ...(t ? { token: t } : {}) });

    // A new agent has the defaults: members ask the owner first, outsiders are not answered, the owner is asked in the conversation.
    const defaults = {
      member_sms: "ask",
      member_email: "ask",
      member_crypto: "ask",
      outsider_reply: "none",
      approvals: "conversation",
    };
    expect((await rest("GET", `/api/pool/agents/${id}`, { token })).json.permissions).toEqual(defaults);

    // Two named, no session: the others are their defaults, which the owner signed filled in.
    const two = await put({
      member_crypto: "refuse",
      outsider_reply: "answer",
      owner_signature: await sig(owner, { memberCrypto: Grant.REFUSE, outsiderReply: OutsiderReply.ANSWER }),
    });
    expect(two.status, JSON.stringify(two.json)).toBe(200);
    const kept = {
      member_sms: "ask",
      member_email: "ask",
      member_crypto: "refuse",
      outsider_reply: "answer",
      approvals: "conversation",
    };
    expect(two.json).toMatchObject({ id, owner_id: owner.inboxId, permissions: kept });
    expect(host.callsOf(id)).toContain("permissions");
    expect(host.instances.get(id)?.permissions).toEqual({
      memberSms: Grant.ASK,
      memberEmail: Grant.ASK,
      memberCrypto: Grant.REFUSE,
      outsiderReply: OutsiderReply.ANSWER,
      approvals: ApprovalPlace.CONVERSATION,
    });
    expect((await rest("GET", `/api/pool/agents/${id}`, { token })).json.permissions).toEqual(kept);
    expect((await rest("GET", `/api/pool/agents?owner=${owner.inboxId}`, { token })).json.agents[0]).toMatchObject({
      id,
      permissions: kept,
    });
    expect((await rest("GET", `/api/pool/agents/${id}/activity`, { token })).json.entries[0]).toMatchObject({
      tool_id: "permissions",
      action: "set_permissions",
      outcome: "done",
      detail:
        "set by the owner: members: texts ask, mail ask, money refuse; texts from outside: answer; approvals: conversation",
    });

    // All five, with a session too.
    const all = {
      member_sms: "allow",
      member_email: "refuse",
      member_crypto: "allow",
      outsider_reply: "ask",
      approvals: "direct",
    };
    const five = await put(
      {
        ...all,
        owner_signature: await sig(owner, {
          memberSms: Grant.ALLOW,
          memberEmail: Grant.REFUSE,
          memberCrypto: Grant.ALLOW,
          outsiderReply: OutsiderReply.ASK,
          approvals: ApprovalPlace.DIRECT,
        }),
      },
      token,
    );
    expect(five.status, JSON.stringify(five.json)).toBe(200);
    expect(five.json.permissions).toEqual(all);
    expect(host.instances.get(id)?.permissions?.approvals).toBe(ApprovalPlace.DIRECT);
    expect((await rest("GET", `/api/pool/agents/${id}`, { token })).json.permissions).toEqual(all);

    // The owner's signature, always (a session is not enough), once, over these values; nobody else's.
    const unsigned = await put({ member_sms: "refuse" }, token);
    expect(unsigned.status, JSON.stringify(unsigned.json)).toBe(401);
    expect(unsigned.json.error.code).toBe("unauthenticated");
    const once = await sig(owner, { memberSms: Grant.REFUSE, memberEmail: Grant.REFUSE });
    expect((await put({ member_sms: "refuse", member_email: "refuse", owner_signature: once })).status).toBe(200);
    expect((await put({ member_sms: "refuse", member_email: "refuse", owner_signature: once })).status).toBe(401);
    // Signed over other values than the body's (email left out: its default, "ask"): not the owner's for this.
    const other = await put({ member_sms: "refuse", owner_signature: await sig(owner, { memberSms: Grant.ALLOW }) });
    expect(other.status, JSON.stringify(other.json)).toBe(404);
    // Where the owner is asked is signed too: "direct" under a signature over the default is not the owner's.
    const place = await put({ approvals: "direct", owner_signature: await sig(owner, {}) });
    expect(place.status, JSON.stringify(place.json)).toBe(404);
    const strangers = await put({
      member_sms: "allow",
      owner_signature: await sig(stranger, { memberSms: Grant.ALLOW }),
    });
    expect(strangers.status, JSON.stringify(strangers.json)).toBe(404);
    expect(strangers.json.error.code).toBe("not_found");
    const withStrangersSession = await put(
      { member_sms: "allow", owner_signature: await sig(stranger, { memberSms: Grant.ALLOW }) },
      await session(stranger),
    );
    expect(withStrangersSession.status).toBe(404);

    // Bad input, named by the body's field, before anything is signed or sent.
    for (const [body, field] of [
      [{ member_sms: "yes" }, "member_sms"],
      [{ member_email: 2 }, "member_email"],
      [{ member_crypto: "GRANT_REFUSE" }, "member_crypto"],
      [{ outsider_reply: "allow" }, "outsider_reply"],
      [{ approvals: "dm" }, "approvals"],
      [{ approvals: 2 }, "approvals"],
      [{ member_sms: null }, "member_sms"],
      [{ memberSms: "allow" }, "memberSms"],
      [{ member_sms: "allow", colour: "red" }, "colour"],
      [{ member_sms: "allow", owner_signature: { signature: "0x00", issued_at: 1 } }, "owner_signature.nonce"],
    ] as const) {
      const bad = await put(body, token);
      expect(bad.status, JSON.stringify(bad.json)).toBe(400);
      expect(bad.json.error).toMatchObject({ type: "invalid_request", code: "invalid_argument", field });
    }
    expect((await put({ member_sms: "yes" }, token)).json.error.message).toBe(
      'member_sms: must be "allow" or "ask" or "refuse"',
    );
    expect((await put({ outsider_reply: "ask me" }, token)).json.error.message).toBe(
      'outsider_reply: must be "none" or "ask" or "answer"',
    );
    expect((await put({ approvals: "private" }, token)).json.error.message).toBe(
      'approvals: must be "conversation" or "direct"',
    );
    expect((await put({ memberSms: "allow" }, token)).json.error.message).toBe(
      "memberSms: unknown field; did you mean member_sms?",
    );

    // Nothing refused changed anything: the last values set stand.
    expect((await rest("GET", `/api/pool/agents/${id}`, { token })).json.permissions).toEqual({
      member_sms: "refuse",
      member_email: "refuse",
      member_crypto: "ask",
      outsider_reply: "none",
      approvals: "conversation",
    });
    expect((await rest("POST", `/api/pool/agents/${id}/permissions`, { token, body: {} })).status).toBe(405);
    expect((await rest("PUT", `/api/pool/agents/${id}/permissions`, { token, body: {}, on: bare })).status).toBe(503);
  });

  it("sets when an agent speaks, signed by its owner over the mode and cooldown with the defaults filled in (PUT /api/pool/agents/{id}/participation), for its owner only, and shows it by name", async () => {
    const { user: owner, claimed } = await claimedAgent();
    const id = claimed.json.instance_id as string;
    const token = await session(owner);
    const stranger = newIdentity();
    const sig = (who: TestIdentity, p: Partial<ResolvedParticipation>) =>
      restSig(who, "SetParticipation", { instanceId: id, ...resolveParticipation(p) });
    const put = (body: unknown, t?: string) =>
      rest("PUT", `/api/pool/agents/${id}/participation`, { body, ...(t ? { token: t } : {}) });

    // A new agent speaks by its conversation's size, with no cooldown.
    expect((await rest("GET", `/api/pool/agents/${id}`, { token })).json.participation).toEqual({
      mode: "auto",
      cooldown_seconds: 0,
    });

    // Both, no session.
    const mention = await put({
      mode: "mention",
      cooldown_seconds: 60,
      owner_signature: await sig(owner, { mode: ParticipationMode.MENTION, cooldownSeconds: 60 }),
    });
    expect(mention.status, JSON.stringify(mention.json)).toBe(200);
    const kept = { mode: "mention", cooldown_seconds: 60 };
    expect(mention.json).toMatchObject({ id, owner_id: owner.inboxId, participation: kept });
    expect(host.callsOf(id)).toContain("participation");
    expect(host.instances.get(id)?.participation).toEqual({ mode: ParticipationMode.MENTION, cooldownSeconds: 60 });
    expect((await rest("GET", `/api/pool/agents/${id}`, { token })).json.participation).toEqual(kept);
    expect((await rest("GET", `/api/pool/agents?owner=${owner.inboxId}`, { token })).json.agents[0]).toMatchObject({
      id,
      participation: kept,
    });

    // The mode alone, with a session: the cooldown left out is 0, as signed.
    const paused = await put(
      { mode: "paused", owner_signature: await sig(owner, { mode: ParticipationMode.PAUSED }) },
      token,
    );
    expect(paused.status, JSON.stringify(paused.json)).toBe(200);
    expect(paused.json.participation).toEqual({ mode: "paused", cooldown_seconds: 0 });

    // The owner's signature, always (a session is not enough), once, over these values; nobody else's.
    const unsigned = await put({ mode: "speak" }, token);
    expect(unsigned.status, JSON.stringify(unsigned.json)).toBe(401);
    expect(unsigned.json.error.code).toBe("unauthenticated");
    const once = await sig(owner, { mode: ParticipationMode.SPEAK, cooldownSeconds: 30 });
    expect((await put({ mode: "speak", cooldown_seconds: 30, owner_signature: once })).status).toBe(200);
    expect((await put({ mode: "speak", cooldown_seconds: 30, owner_signature: once })).status).toBe(401);
    // Signed over another cooldown than the body's: not the owner's for this.
    const other = await put({
      mode: "speak",
      cooldown_seconds: 5,
      owner_signature: await sig(owner, { mode: ParticipationMode.SPEAK, cooldownSeconds: 6 }),
    });
    expect(other.status, JSON.stringify(other.json)).toBe(404);
    const strangers = await put({
      mode: "speak",
      owner_signature: await sig(stranger, { mode: ParticipationMode.SPEAK }),
    });
    expect(strangers.status, JSON.stringify(strangers.json)).toBe(404);
    expect(strangers.json.error.code).toBe("not_found");
    const withStrangersSession = await put(
      { mode: "speak", owner_signature: await sig(stranger, { mode: ParticipationMode.SPEAK }) },
      await session(stranger),
    );
    expect(withStrangersSession.status).toBe(404);

    // Bad input, named by the body's field, before anything is signed or sent.
    for (const [body, field] of [
      [{ mode: "loud" }, "mode"],
      [{ mode: 1 }, "mode"],
      [{ mode: "PARTICIPATION_MODE_SPEAK" }, "mode"],
      [{ mode: null }, "mode"],
      [{ cooldown_seconds: -1 }, "cooldown_seconds"],
      [{ cooldown_seconds: 86_401 }, "cooldown_seconds"],
      [{ cooldown_seconds: "60" }, "cooldown_seconds"],
      [{ cooldownSeconds: 60 }, "cooldownSeconds"],
      [{ mode: "speak", colour: "red" }, "colour"],
      [{ mode: "speak", owner_signature: { signature: "0x00", issued_at: 1 } }, "owner_signature.nonce"],
    ] as const) {
      const bad = await put(body, token);
      expect(bad.status, JSON.stringify(bad.json)).toBe(400);
      expect(bad.json.error).toMatchObject({ type: "invalid_request", code: "invalid_argument", field });
    }
    expect((await put({ mode: "loud" }, token)).json.error.message).toBe(
      'mode: must be "auto" or "speak" or "mention" or "paused"',
    );
    expect((await put({ cooldownSeconds: 60 }, token)).json.error.message).toBe(
      "cooldownSeconds: unknown field; did you mean cooldown_seconds?",
    );

    // Nothing refused changed anything: the last value set stands.
    expect((await rest("GET", `/api/pool/agents/${id}`, { token })).json.participation).toEqual({
      mode: "speak",
      cooldown_seconds: 30,
    });
    expect((await rest("POST", `/api/pool/agents/${id}/participation`, { token, body: {} })).status).toBe(405);
    expect((await rest("PUT", `/api/pool/agents/${id}/participation`, { token, body: {}, on: bare })).status).toBe(503);
  });

  it("refuses a trust level above the highest the agent's template allows (L2 when it names none)", async () => {
    const { user, claimed } = await claimedAgent();
    const id = claimed.json.instance_id as string;
    const s = await signOperation(user.account, "SetTrustLevel", {
      inboxId: user.inboxId,
      instanceId: id,
      trustLevel: 3,
      dailySpendLimitWei: 0n,
    });
    const res = await rest("PUT", `/api/pool/agents/${id}/trust`, {
      body: {
        trust_level: "L3",
        owner_signature: restSignature(s),
      },
    });
    expect(res.status, JSON.stringify(res.json)).toBe(400);
    expect(res.json.error.message).toContain("L2");
    expect((await rest("GET", `/api/pool/agents/${id}`, { token: await session(user) })).json.trust_level).toBe("L2");
  });

  it("answers 503 on a gateway without claimsUrl", async () => {
    const user = newIdentity();
    const token = await session(user);
    const claim = await rest("POST", "/api/pool/claim", {
      body: await signedClaim(user, "tmpl_0000000000000000"),
      on: bare,
    });
    expect(claim.status).toBe(503);
    expect(claim.json.error).toEqual({ type: "unavailable", code: "unavailable", message: CLAIMS_NOT_CONFIGURED });
    const agents = await rest("GET", `/api/pool/agents?owner=${user.inboxId}`, { on: bare, token });
    expect(agents.status).toBe(503);
    expect(agents.json.error.message).toBe(CLAIMS_NOT_CONFIGURED);
    const rpc = createClient(ClaimService, createConnectTransport({ baseUrl: bare.url }));
    await expect(rpc.claim({ requester: user.inboxId })).rejects.toMatchObject({ code: Code.Unavailable });
  });
});

describe("Connect-Web (browser)", () => {
  it("claims and lists over Connect JSON and gRPC-Web", async () => {
    const creator = newIdentity();
    const user = newIdentity();
    const templateId = await template(creator);
    const connect = createClient(
      ClaimService,
      createConnectTransport({ baseUrl: gateway.url, useBinaryFormat: false }),
    );
    const grpcWeb = createClient(ClaimService, createGrpcWebTransport({ baseUrl: gateway.url }));
    const token = await session(user);
    const auth = { headers: { authorization: `Bearer ${token}` } };

    await refill();
    const req = {
      requester: user.inboxId,
      templateId,
      conversationInvite: invite(),
      userConfig: { "personal-email": "saul@example.com" },
    };
    const { instanceId } = await connect.claim(req, auth);
    expect(instanceId).toMatch(/^inst_/);

    const { instances } = await grpcWeb.listOwnerAgents({ ownerId: user.inboxId }, auth);
    expect(instances.map((i) => i.id)).toEqual([instanceId]);
    expect(instances[0]?.state).toBe(InstanceState.CLAIMED);
    const got = await connect.getInstance({ instanceId }, auth);
    expect(got.instance?.ownerId).toBe(user.inboxId);
    const pin = await grpcWeb.setInstancePin({ instanceId, pinned: true }, auth);
    expect(pin.instance?.sync?.state).toBe(SyncState.PINNED);
    await expect(connect.setInstancePin({ instanceId, pinned: false })).rejects.toMatchObject({
      code: Code.Unauthenticated,
    });
    const trustSig = await signOperation(user.account, "SetTrustLevel", {
      inboxId: user.inboxId,
      instanceId,
      trustLevel: TrustLevel.OBSERVER,
      dailySpendLimitWei: 0n,
    });
    const trust = await grpcWeb.setTrustLevel({
      instanceId,
      trustLevel: TrustLevel.OBSERVER,
      ownerSignature: trustSig,
    });
    expect(trust.instance?.trustLevel).toBe(TrustLevel.OBSERVER);
    const activity = await connect.listAgentActivity({ instanceId }, auth);
    expect(activity.entries.map((e) => [e.action, e.outcome, e.trustLevel])).toEqual([
      ["set_trust_level", ToolCallOutcome.DONE, TrustLevel.OBSERVER],
    ]);
    await expect(connect.listAgentActivity({ instanceId })).rejects.toMatchObject({ code: Code.Unauthenticated });

    // Errors keep code, message and field violations.
    await expect(connect.listOwnerAgents({ ownerId: user.inboxId })).rejects.toMatchObject({
      code: Code.Unauthenticated,
    });
    await expect(connect.claim(req)).rejects.toMatchObject({ code: Code.Unauthenticated });
    const err = await connect.claim({ ...req, userConfig: {} }, auth).catch((e: unknown) => ConnectError.from(e));
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(Code.InvalidArgument);
    expect((err as ConnectError).rawMessage).toContain(PROMPT);
    const secret = await connect
      .claim(
        { ...req, templateId: await template(creator, "private") },
        { headers: { authorization: `Bearer ${await session(newIdentity())}` } },
      )
      .catch((e: unknown) => ConnectError.from(e));
    // Someone else's session for this requester: refused before anything else.
    expect((secret as ConnectError).code).toBe(Code.PermissionDenied);
    const hidden = await connect
      .claim({ ...req, templateId: await template(creator, "private") }, auth)
      .catch((e: unknown) => ConnectError.from(e));
    expect((hidden as ConnectError).code).toBe(Code.NotFound);
  });

  it("lists a template's instances over Connect JSON and gRPC-Web (ClaimService)", async () => {
    const { creator, user, templateId, claimed } = await claimedAgent();
    const connect = createClient(
      ClaimService,
      createConnectTransport({ baseUrl: gateway.url, useBinaryFormat: false }),
    );
    const grpcWeb = createClient(ClaimService, createGrpcWebTransport({ baseUrl: gateway.url }));
    const auth = { headers: { authorization: `Bearer ${await session(creator)}` } };

    const viaConnect = await connect.listTemplateInstances({ templateId, liveOnly: true }, auth);
    expect(viaConnect.totalCount).toBe(1n);
    expect(viaConnect.instances.map((i) => i.id)).toEqual([claimed.json.instance_id]);
    expect(viaConnect.instances[0]?.ownerId).toBe(user.inboxId);
    const viaGrpcWeb = await grpcWeb.listTemplateInstances({ templateId }, auth);
    expect(viaGrpcWeb.instances.map((i) => i.id)).toEqual([claimed.json.instance_id]);
    expect(viaGrpcWeb.totalCount).toBe(1n);

    await expect(connect.listTemplateInstances({ templateId })).rejects.toMatchObject({ code: Code.Unauthenticated });
    const stranger = { headers: { authorization: `Bearer ${await session(user)}` } };
    await expect(grpcWeb.listTemplateInstances({ templateId }, stranger)).rejects.toMatchObject({
      code: Code.PermissionDenied,
    });
    const bareRpc = createClient(ClaimService, createConnectTransport({ baseUrl: bare.url }));
    await expect(bareRpc.listTemplateInstances({ templateId }, auth)).rejects.toMatchObject({ code: Code.Unavailable });
  });
});

describe("REST: a claim's wait and its cancel", () => {
  it("GET /api/pool/claims/{key} shows the requester's claim waiting at the join; another person's session gets 404 and cannot cancel it; the requester's DELETE does, and the claim answers 409 cancelled", async () => {
    const user = newIdentity();
    const stranger = newIdentity();
    const templateId = await template(newIdentity());
    await refill();
    // The stand-in's join takes its time, as a creator's app slow to let the agent in (last in the file: it
    // still finishes that join after the release).
    host.joinDelayMs = 4_000;
    try {
      const key = `wait-${randomBytes(4).toString("hex")}`;
      const path = `/api/pool/claims/${key}`;
      const body = await signedClaim(user, templateId);
      const posting = rest("POST", "/api/pool/claim", { body, headers: { "idempotency-key": key } });
      const token = await session(user);
      await expect
        .poll(async () => (await rest("GET", path, { token })).json?.stage, { timeout: 10_000, interval: 100 })
        .toBe("joining");
      const waiting = await rest("GET", path, { token });
      expect(waiting.json).toMatchObject({ cancel_requested: false });
      expect(Date.parse(waiting.json.started_at)).toBeLessThanOrEqual(Date.now());

      const other = await session(stranger);
      expect((await rest("GET", path, { token: other })).status).toBe(404);
      expect((await rest("DELETE", path, { token: other })).status).toBe(404);
      expect((await rest("DELETE", path)).status).toBe(401);
      expect((await rest("GET", path, { token })).json.cancel_requested).toBe(false);

      const cancel = await rest("DELETE", path, { token });
      expect(cancel.status, JSON.stringify(cancel.json)).toBe(200);
      expect(cancel.json).toEqual({ stage: "joining" });
      const answered = await posting;
      expect(answered.status, JSON.stringify(answered.json)).toBe(409);
      expect(answered.json.error).toMatchObject({
        type: "cancelled",
        message: "you cancelled the claim; nothing was claimed",
      });
      expect((await rest("GET", path, { token })).json).toMatchObject({
        stage: "cancelled",
        cancel_requested: true,
        error: { code: "canceled" },
      });
      expect((await rest("DELETE", path, { token })).status).toBe(404);
    } finally {
      host.joinDelayMs = 0;
    }
  });
});

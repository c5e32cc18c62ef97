// One contract, every face (docs/rest.md, "One contract, every face"): the
// same values go through REST and through Connect, and both faces must come
// out the same: accepted, or refused with the same Connect code naming the
// same fields. Two parts. Every route against its RPC (test/route-rpcs.ts,
// held to the route table by contract.test.ts): any request drawn from the
// RPC's descriptor (test/routes.ts), unsigned, as a signed-in stranger; what
// it reaches is the checks before a signature or an owner (DIFFER names the
// routes whose faces still part, and how). And ROWS, the routes whose rules
// need signed cases a subject accepts: the edges of the rule the service
// applies (test/faces.ts), signed by the subject's owner or creator. Real:
// PostgreSQL, the templates, claims and lineage services in-process, the
// gateway, both faces over HTTP. The instance host is the claims service's
// TEST STAND-IN (services/claims/test/stand-in-host.ts), which checks a
// level, permissions and participation as an instance does (the kit's rules)
// but is no agent.

import type { DescMessage } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { ClaimService } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import { TrustLevel } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import { ConversationTools } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { Visibility } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import { TemplateService } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import { OPEN_BUDGET, SecretBox, startClaimsService, type RunningClaimsService } from "@convos-pool/claims";
import { StandInHost } from "@convos-pool/claims/testing/stand-in-host";
import {
  MAX_COOLDOWN_SECONDS,
  MAX_DAILY_SPEND_LIMIT_WEI,
  jsonHash,
  resolveParticipation,
  resolvePermissions,
  type ResolvedParticipation,
} from "@convos-pool/kit/content";
import { createLogger, generateServiceCredentials, NO_LIMITS } from "@convos-pool/kit/server";
import {
  addToConversationFields,
  claimFields,
  signClaim,
  signOperation,
  type OperationFields,
  type SignedOperation,
} from "@convos-pool/kit/signing";
import { newIdentity, sampleContent, type TestIdentity } from "@convos-pool/kit/testing";
import { createTestDatabase } from "@convos-pool/testing";
import { inviteUrl } from "@convos-pool/convos/testing/invite";
import { startLineageService, type RunningLineageService } from "@convos-pool/lineage";
import { startTemplateService, type RunningTemplateService } from "@convos-pool/templates";
import fc from "fast-check";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGateway, type RunningGateway } from "../server.js";
import { connectOutcome, requestArbitrary, restBodyOf, restOutcome, type Outcome } from "../../test/faces.js";
import { restCall, restSession, restSig, restSignature } from "../../test/rest.js";
import { ROUTE_RPCS } from "../../test/route-rpcs.js";
import { routeForm, routeRequests } from "../../test/routes.js";
import { PARTICIPATION_ERRORS, PERMISSIONS_ERRORS } from "./agents/errors.js";
import { CLAIM_ERRORS } from "./claims/json.js";
import { AGENT_ERRORS, TEMPLATE_ERRORS } from "./core/errors.js";
import { ROUTES } from "./routes.js";
import { ENUM_NAMES } from "../../test/enum-names.js";

const CREDS = generateServiceCredentials();
const quiet = (name: string) => createLogger(name, { level: "silent" });
/** Cases a route: each is two signed calls through the gateway, claims service and stand-in host. */
const RUNS = Number(process.env.POOL_CONTRACT_RUNS ?? 40);

type Request = Record<string, unknown>;
type Claims = ReturnType<typeof createClient<typeof ClaimService>>;
type Signature = Awaited<ReturnType<typeof signOperation>>;

/** What one case runs against: an agent of its owner, or a template of its creator. */
interface Subject {
  id: string;
  signer: TestIdentity;
}

/**
 * One REST route and the RPC it forwards to: which request fields vary,
 * the edges of the service's rule for them, what a case runs against (one
 * subject for the row, or a fresh one for each face of each case when a
 * case changes it), how its signer signs a request, each face's call, and
 * how its RPC errors read on REST.
 */
interface ContractRow {
  route: readonly [method: string, pattern: string];
  input: DescMessage;
  fields: readonly string[];
  edges: Readonly<Record<string, readonly unknown[]>>;
  /** Requests run first, before the generated ones: the cases the faces once disagreed on. */
  examples?: readonly Request[];
  subject: () => Promise<Subject>;
  /** A fresh subject for each face of each case (an accepted change would change the next case's answer). */
  freshSubject?: boolean;
  /** The request as one face sends it: a value that must be new each time (an invite) made so. */
  prepare?: (req: Request) => Request | Promise<Request>;
  operation: SignedOperation;
  /** The signed fields of a request (inboxId aside); a value that cannot be signed as it is, its zero. */
  signed: (subject: Subject, req: Request) => OperationFields;
  connect: (subject: Subject, req: Request, signature: Signature) => Promise<unknown>;
  rest: (subject: Subject, req: Request, signature: Signature) => { body: unknown; ifMatch?: string };
  restField: (rpcField: string) => string;
}

const wei = (v: unknown): bigint => {
  const text = typeof v === "string" ? v.trim() : "";
  return /^\d{1,78}$/.test(text) && BigInt(text) <= MAX_DAILY_SPEND_LIMIT_WEI ? BigInt(text) : 0n;
};
/** Resolved as the claims service signs them (defaults filled in); values it refuses signed as the defaults. */
const orDefaults = <T>(resolve: (v: never) => T, v: unknown): T => {
  try {
    return resolve(v as never);
  } catch {
    return resolve(undefined as never);
  }
};
const nothingSent = () => false;

/** An owner's signed setting of an agent: the body of the request's fields, `owner_signature` beside them. */
function ownerSetting(
  input: DescMessage,
  call: (rpc: Claims, req: Request) => Promise<unknown>,
  flatten: readonly string[] = [],
): Pick<ContractRow, "input" | "subject" | "connect" | "rest"> {
  return {
    input,
    subject: async () => {
      const owner = newIdentity();
      return { id: await claimedAgent(owner), signer: owner };
    },
    connect: (agent, req, signature) => call(claimsRpc(), { ...req, instanceId: agent.id, ownerSignature: signature }),
    rest: (_agent, req, signature) => ({
      body: { ...restBodyOf(input, req, ENUM_NAMES, flatten), owner_signature: restSignature(signature) },
    }),
  };
}

/** The invite a claim case stands for: a new conversation each time it is sent. */
const FRESH_INVITE = "(a new invite)";

/** `make` run once, its promise kept: a template the cases of a row share. */
function once<T>(make: () => Promise<T>): () => Promise<T> {
  let made: Promise<T> | undefined;
  return () => {
    made ??= make();
    return made;
  };
}
const additionTemplate = once(() => publicTemplate());
const claimTemplate = once(() => publicTemplate());

/** What AddToConversation signs; a participation or tools it refuses signed as the defaults (refused before the signature). */
function additionSigned(agent: Subject, req: Request): OperationFields {
  const add = {
    ownerId: agent.signer.inboxId,
    instanceId: agent.id,
    conversationInvite: typeof req.conversationInvite === "string" ? req.conversationInvite : "",
    participation: req.participation as Partial<ResolvedParticipation> | undefined,
    tools: (req.tools ?? 0) as ConversationTools,
    secondAgent: req.confirmSecondAgent === true,
  };
  try {
    return addToConversationFields(add);
  } catch {
    return addToConversationFields({ ...add, participation: undefined, tools: ConversationTools.UNSPECIFIED });
  }
}

const ROWS: ContractRow[] = [
  {
    route: ["POST", "/api/pool/agents/:id/conversations"],
    input: ClaimService.method.addToConversation.input,
    fields: [
      "conversation_invite",
      "participation.mode",
      "participation.cooldown_seconds",
      "tools",
      "confirm_second_agent",
    ],
    edges: {
      conversation_invite: [FRESH_INVITE, FRESH_INVITE, FRESH_INVITE, "", " ", "ab".repeat(16), "not an invite"],
      "participation.cooldown_seconds": [0, 0, 60, MAX_COOLDOWN_SECONDS, MAX_COOLDOWN_SECONDS + 1],
    },
    examples: [{ conversationInvite: FRESH_INVITE, participation: { mode: 0, cooldownSeconds: 0 }, tools: 0 }],
    // A new agent on each face of each case: an addition it took would count against the next (ten at most).
    subject: async () => {
      const owner = newIdentity();
      return { id: await claimedAgent(owner, await additionTemplate()), signer: owner };
    },
    freshSubject: true,
    // The claims service reads an addition's invite (its conversation's key): a Convos invite of a new conversation.
    prepare: async (req) =>
      req.conversationInvite === FRESH_INVITE ? { ...req, conversationInvite: await convosInvite() } : req,
    operation: "AddToConversation",
    signed: additionSigned,
    connect: (agent, req, signature) =>
      claimsRpc().addToConversation({ ...req, instanceId: agent.id, ownerSignature: signature }),
    rest: (_agent, req, signature) => ({
      body: {
        ...restBodyOf(ClaimService.method.addToConversation.input, req, ENUM_NAMES),
        owner_signature: restSignature(signature),
      },
    }),
    restField: (f) => AGENT_ERRORS.field(f, nothingSent),
  },
  {
    route: ["POST", "/api/pool/claim"],
    input: ClaimService.method.claim.input,
    fields: ["conversation_invite", "model", "context_prompt", "idempotency_key", "confirm_second_agent"],
    edges: {
      conversation_invite: [FRESH_INVITE, FRESH_INVITE, FRESH_INVITE, "", " ", "ab".repeat(16), "not an invite"],
      model: ["", "", "gpt-oss-20b", "no-such-model"],
      context_prompt: ["", "", "", "the trip so far"],
      idempotency_key: ["", "", "", "k-1", "k".repeat(300)],
    },
    examples: [
      { conversationInvite: FRESH_INVITE, model: "", contextPrompt: "", idempotencyKey: "", confirmSecondAgent: false },
    ],
    // One template; a new requester on each face of each case (a claim is theirs, its idempotency key too).
    subject: async () => {
      await claims.pool!.reconcile();
      return { id: await claimTemplate(), signer: newIdentity() };
    },
    freshSubject: true,
    prepare: (req) => (req.conversationInvite === FRESH_INVITE ? { ...req, conversationInvite: invite() } : req),
    operation: "ClaimAgent",
    signed: (template, req) =>
      claimFields({
        requester: template.signer.inboxId,
        templateId: template.id,
        conversationInvite: typeof req.conversationInvite === "string" ? req.conversationInvite : "",
        model: typeof req.model === "string" ? req.model : "",
        userConfig: {},
        confirmSecondAgent: req.confirmSecondAgent === true,
      }),
    connect: (template, req, signature) =>
      claimsRpc().claim({ ...req, requester: template.signer.inboxId, templateId: template.id, signature }),
    rest: (template, req, signature) => ({
      body: {
        ...restBodyOf(ClaimService.method.claim.input, req, ENUM_NAMES),
        requester: template.signer.inboxId,
        template_id: template.id,
        signature: restSignature(signature),
      },
    }),
    restField: (f) => CLAIM_ERRORS.field(f, nothingSent),
  },
  {
    route: ["PUT", "/api/pool/agents/:id/trust"],
    fields: ["trust_level", "daily_spend_limit_wei"],
    edges: {
      daily_spend_limit_wei: [
        "",
        "0",
        "1",
        "50000000000000000",
        " 7 ",
        "007",
        "0.05",
        "-1",
        MAX_DAILY_SPEND_LIMIT_WEI.toString(),
        (MAX_DAILY_SPEND_LIMIT_WEI + 1n).toString(),
      ],
    },
    // A limit at L2 and L3 (the web app's, over Connect) was refused by REST alone.
    examples: [
      { trustLevel: TrustLevel.OPERATOR, dailySpendLimitWei: "50000000000000000" },
      { trustLevel: TrustLevel.ADVISOR, dailySpendLimitWei: "50000000000000000" },
    ],
    operation: "SetTrustLevel",
    signed: (agent, req) => ({
      instanceId: agent.id,
      trustLevel: Number(req.trustLevel ?? 0),
      dailySpendLimitWei: wei(req.dailySpendLimitWei),
    }),
    ...ownerSetting(ClaimService.method.setTrustLevel.input, (rpc, req) => rpc.setTrustLevel(req)),
    restField: (f) => AGENT_ERRORS.field(f, nothingSent),
  },
  {
    route: ["PUT", "/api/pool/agents/:id/permissions"],
    fields: [
      "permissions.member_sms",
      "permissions.member_email",
      "permissions.member_crypto",
      "permissions.outsider_reply",
      "permissions.approvals",
    ],
    edges: {},
    operation: "SetPermissions",
    signed: (agent, req) => ({ instanceId: agent.id, ...orDefaults(resolvePermissions, req.permissions) }),
    ...ownerSetting(ClaimService.method.setPermissions.input, (rpc, req) => rpc.setPermissions(req), ["permissions"]),
    restField: (f) => PERMISSIONS_ERRORS.field(f, nothingSent),
  },
  {
    route: ["PUT", "/api/pool/agents/:id/participation"],
    fields: ["participation.mode", "participation.cooldown_seconds"],
    edges: { "participation.cooldown_seconds": [0, 60, MAX_COOLDOWN_SECONDS, MAX_COOLDOWN_SECONDS + 1] },
    operation: "SetParticipation",
    signed: (agent, req) => ({ instanceId: agent.id, ...orDefaults(resolveParticipation, req.participation) }),
    ...ownerSetting(ClaimService.method.setParticipation.input, (rpc, req) => rpc.setParticipation(req), [
      "participation",
    ]),
    restField: (f) => PARTICIPATION_ERRORS.field(f, nothingSent),
  },
  {
    route: ["PATCH", "/api/pool/templates/:id/visibility"],
    input: TemplateService.method.setTemplateVisibility.input,
    fields: ["expected_version", "visibility"],
    // Version 1 is the template's; 2 a stale one (a conflict); past 2e9 no version at all.
    edges: { expected_version: [0n, 1n, 2n, -1n, 2_000_000_001n] },
    examples: [
      { expectedVersion: 1n, visibility: Visibility.PUBLIC },
      { expectedVersion: 0n, visibility: 0 },
    ],
    subject: privateTemplate,
    freshSubject: true,
    operation: "SetTemplateVisibility",
    signed: (template, req) => ({
      templateId: template.id,
      version: typeof req.expectedVersion === "bigint" && req.expectedVersion > 0n ? req.expectedVersion : 0n,
      visibility: req.visibility === Visibility.PRIVATE ? "private" : "public",
    }),
    connect: (template, req, signature) =>
      createClient(TemplateService, transport()).setTemplateVisibility({ ...req, templateId: template.id, signature }),
    rest: (_template, req, signature) => {
      const { expected_version: version, ...body } = restBodyOf(
        TemplateService.method.setTemplateVisibility.input,
        req,
        ENUM_NAMES,
      );
      return {
        body: { ...body, signature: restSignature(signature) },
        // The version as a header (its decimal string); 0, unset, as no If-Match.
        ...(typeof version === "string" && version !== "0" ? { ifMatch: version } : {}),
      };
    },
    restField: (f) => TEMPLATE_ERRORS.field(f, nothingSent),
  },
];

let templates: RunningTemplateService;
let lineage: RunningLineageService;
/** A signed-in person's session: both faces of the generated cases call as them. */
let token: string;
let host: StandInHost;
let claims: RunningClaimsService;
let gateway: RunningGateway;
let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), "gw-contract-"));
  templates = await startTemplateService({
    databaseUrl: await createTestDatabase("gwk_templates"),
    credentials: CREDS.templates,
    log: quiet("templates"),
  });
  host = await StandInHost.start(CREDS["instance-host"]);
  claims = await startClaimsService({
    budget: OPEN_BUDGET,
    databaseUrl: await createTestDatabase("gwk_claims"),
    credentials: CREDS.claims,
    templatesUrl: templates.url,
    secretsKey: SecretBox.generateKey(),
    dataDir,
    smsRange: "+15550500000..+15550500099",
    pool: { hostUrls: [host.url], target: 2, intervalMs: 3_600_000 },
    limits: NO_LIMITS,
    log: quiet("claims"),
  });
  lineage = await startLineageService({
    databaseUrl: await createTestDatabase("gwk_lineage"),
    credentials: CREDS.lineage,
    templatesUrl: templates.url,
    log: quiet("lineage"),
  });
  gateway = await startGateway({
    templatesUrl: templates.url,
    claimsUrl: claims.url,
    lineageUrl: lineage.url,
    credentials: CREDS.gateway,
    limits: NO_LIMITS,
    databaseUrl: await createTestDatabase("gwk_gateway"),
    log: quiet("gateway"),
  });
  await claims.pool!.reconcile();
  token = await restSession(gateway.url, newIdentity());
});

afterAll(async () => {
  await gateway?.close();
  await claims?.close();
  await host?.kill();
  await lineage?.close();
  await templates?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

/** An agent of `owner`, claimed over REST from a public template whose highest level is L3 (so L4 is the agent's refusal). */
async function claimedAgent(owner: TestIdentity, templateId?: string): Promise<string> {
  const id = templateId ?? (await publicTemplate());
  await claims.pool!.reconcile();
  const claim = { requester: owner.inboxId, template_id: id, conversation_invite: invite() };
  const s = await signClaim(owner.account, {
    requester: claim.requester,
    templateId: claim.template_id,
    conversationInvite: claim.conversation_invite,
    model: "",
    userConfig: {},
  });
  const res = await restCall(gateway.url, "POST", "/api/pool/claim", {
    body: { ...claim, signature: restSignature(s) },
  });
  expect(res.status, JSON.stringify(res.json)).toBe(200);
  return res.json.instance_id as string;
}

/** A public template of a new creator, without tools, whose highest level is L3. */
async function publicTemplate(): Promise<string> {
  const creator = newIdentity();
  const content = sampleContent({ max_trust_level: "L3", tools: [] });
  const created = await restCall(gateway.url, "POST", "/api/pool/templates", {
    body: {
      creator_id: creator.inboxId,
      ...content,
      signature: await restSig(creator, "CreateTemplate", { contentHash: jsonHash(content) }),
    },
  });
  expect(created.status, JSON.stringify(created.json)).toBe(201);
  const id = created.json.id as string;
  const published = await restCall(gateway.url, "PATCH", `/api/pool/templates/${id}/visibility`, {
    ifMatch: 1,
    body: {
      visibility: "public",
      signature: await restSig(creator, "SetTemplateVisibility", { templateId: id, version: 1n, visibility: "public" }),
    },
  });
  expect(published.status, JSON.stringify(published.json)).toBe(200);
  return id;
}

const invite = () => `https://dev.convos.org/v2?i=invite-${randomBytes(6).toString("hex")}`;

/** A Convos invite of a new conversation, as its creator's app makes one (each call a new conversation). */
const convosInvite = (): Promise<string> =>
  inviteUrl({
    creatorInboxId: randomBytes(32).toString("hex"),
    tag: `tag${randomBytes(4).toString("hex")}`,
    name: "Trip",
  });

/** A private template of a new creator, at version 1. */
async function privateTemplate(): Promise<Subject> {
  const creator = newIdentity();
  const content = sampleContent({ tools: [] });
  const created = await restCall(gateway.url, "POST", "/api/pool/templates", {
    body: {
      creator_id: creator.inboxId,
      ...content,
      signature: await restSig(creator, "CreateTemplate", { contentHash: jsonHash(content) }),
    },
  });
  expect(created.status, JSON.stringify(created.json)).toBe(201);
  return { id: created.json.id as string, signer: creator };
}

const transport = () => createConnectTransport({ baseUrl: gateway.url, useBinaryFormat: false });
const claimsRpc = () => createClient(ClaimService, transport());

describe("every face of a forwarded RPC, signed and accepted", () => {
  for (const row of ROWS) {
    it(`${row.route.join(" ")} accepts and refuses what Connect does, naming the same fields with the same code`, async () => {
      const shared = row.freshSubject ? undefined : await row.subject();
      const subjectOf = async () => shared ?? (await row.subject());
      const sign = (subject: Subject, req: Request) =>
        signOperation(subject.signer.account, row.operation, {
          inboxId: subject.signer.inboxId,
          ...row.signed(subject, req),
        });
      let accepted = 0;
      let refused = 0;
      await fc.assert(
        fc.asyncProperty(requestArbitrary(row.input, row.fields, row.edges), async (req) => {
          const onRest = await subjectOf();
          const restReq = (await row.prepare?.(req)) ?? req;
          const sent = row.rest(onRest, restReq, await sign(onRest, restReq));
          const restPath = row.route[1].replace(":id", encodeURIComponent(onRest.id));
          const rest = restOutcome(
            await restCall(gateway.url, row.route[0], restPath, {
              body: sent.body,
              ...(sent.ifMatch !== undefined ? { ifMatch: sent.ifMatch } : {}),
            }),
          );
          const onConnect = await subjectOf();
          const connectReq = (await row.prepare?.(req)) ?? req;
          const connect = await connectOutcome(
            row.connect(onConnect, connectReq, await sign(onConnect, connectReq)),
            row.restField,
          );
          expect(rest, `REST ${JSON.stringify(sent)} and Connect ${JSON.stringify(req, jsonBigints)}`).toEqual(connect);
          if (rest.accepted) accepted++;
          else refused++;
        }),
        { numRuns: RUNS, examples: (row.examples ?? []).map((req) => [req] as [Request]) },
      );
      // Both outcomes were seen: a row whose values are all refused (or all taken) compares nothing worth having.
      expect(accepted, "accepted cases").toBeGreaterThan(0);
      expect(refused, "refused cases").toBeGreaterThan(0);
    });
  }
});

/**
 * Routes whose faces are known to part, from the generated comparison's
 * first run, each with how and why: what this test does not hold yet
 * (docs/rest.md, "One contract, every face"). `fields`: both faces refuse
 * (or take) the same values with the same code but name other fields: the
 * route reads and refuses its body's fields itself before the service sees
 * them, and one face or both stops at its first violation; the test still
 * holds the outcome and the code. `code`: the faces refuse with different
 * codes; the test still holds that both refuse (or take) the same values.
 * The list may only shrink: a route that holds should leave it.
 */
type Part = { part: "fields" | "code"; why: string };
const DIFFER: Readonly<Record<string, Part>> = {};

/**
 * Booleans REST requires where the RPC reads one left out as false: each is
 * a yes to an act (approve a request, share memory, hold a pattern, offer or
 * adopt patterns, pin an agent), and a REST caller says yes in words, never
 * by leaving a field out (docs/rest.md, "An act is said in words").
 * Deliberate, not a difference to mend, and kept apart from DIFFER: a
 * request without one of them is refused by REST naming it (the Connect face
 * is not asked); a request with them is held whole, like any route.
 */
const DELIBERATE: Readonly<Record<string, readonly string[]>> = {
  "PUT /agents/:id/pin": ["pinned"],
  "POST /agents/:id/approvals": ["approve"],
  "POST /agents/:id/memory/share": ["share"],
  "PUT /agents/:id/pattern-sharing": ["offer", "adopt"],
  "PUT /templates/:id/pattern-hold": ["hold"],
};

/** An outcome as far as `part` holds it: the fields left out when only the code is held. */
const heldPart = (o: Outcome, known: Part | undefined): Outcome | { accepted: boolean } =>
  known?.part === "code"
    ? { accepted: o.accepted }
    : known?.part === "fields" && !o.accepted
      ? { ...o, fields: [] }
      : o;

/**
 * Field violations a service answers at most (the server kit's bounded
 * errors, docs/server-kit.md, "Errors"): past them it names the first 20 in
 * its own order and counts the rest. REST names its own faults first, so a
 * Connect refusal cut short is held to the same code with REST naming every
 * field Connect named.
 */
const MAX_NAMED = 20;

/** POOL_CONTRACT_STRICT=1: every route held whole, DIFFER or not (which routes still part, to shrink the list). */
const STRICT = process.env.POOL_CONTRACT_STRICT === "1";

/** The generated cases' seed: fixed, so DIFFER says what a run finds; POOL_CONTRACT_SEED draws others. */
const SEED = Number(process.env.POOL_CONTRACT_SEED ?? 77);

/** Cases a route in the generated comparison: each is two unsigned calls as a signed-in stranger. */
const GENERATED_RUNS = Number(process.env.POOL_CONTRACT_GENERATED_RUNS ?? 8);

describe("every route against its RPC, with any request drawn from the RPC's descriptor", () => {
  for (const route of ROUTES) {
    const name = `${route[0]} ${route[1]}`;
    for (const of of ROUTE_RPCS[name] ?? []) {
      const known = STRICT ? undefined : DIFFER[name];
      it(`${name} refuses what ${of.rpc.parent.name}.${of.rpc.name} refuses, with the same code and fields`, async () => {
        const client = createClient(of.rpc.parent, transport()) as unknown as Record<
          string,
          (req: unknown, options: { headers: Record<string, string> }) => Promise<unknown>
        >;
        await fc.assert(
          fc.asyncProperty(routeRequests(route, of), async (req) => {
            const form = routeForm(route, of, req);
            const query = form.query.size > 0 ? `?${form.query.toString()}` : "";
            const rest = restOutcome(
              await restCall(gateway.url, route[0], `${form.path}${query}`, {
                token,
                ...(form.body !== undefined ? { body: form.body } : {}),
                ...(form.ifMatch !== undefined ? { ifMatch: form.ifMatch } : {}),
              }),
            );
            const unsaid = (DELIBERATE[name] ?? []).filter((field) => form.body?.[field] === undefined);
            if (unsaid.length > 0) {
              expect(rest, `REST ${JSON.stringify({ ...form, query })}`).toMatchObject({
                accepted: false,
                code: "invalid_argument",
                fields: expect.arrayContaining(unsaid),
              });
              return;
            }
            const sent = (field: string) => form.body?.[field] !== undefined;
            const connect = await connectOutcome(
              client[of.rpc.localName]!(req, { headers: { authorization: `Bearer ${token}` } }),
              (f) => route[3].field(f, sent),
            );
            const said = `REST ${JSON.stringify({ ...form, query })} and Connect ${JSON.stringify(req, jsonBigints)}`;
            if (!known && !connect.accepted && connect.fields.length >= MAX_NAMED && !rest.accepted) {
              expect(rest.code, said).toBe(connect.code);
              expect(rest.fields, said).toEqual(expect.arrayContaining(connect.fields));
            } else expect(heldPart(rest, known), said).toEqual(heldPart(connect, known));
          }),
          { numRuns: GENERATED_RUNS, seed: SEED },
        );
      });
    }
  }
});

function jsonBigints(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? value.toString() : value;
}

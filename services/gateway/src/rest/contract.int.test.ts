// One contract, every face (docs/rest.md, "One contract, every face"): for
// each REST route that forwards to an RPC, the same values, generated from
// the RPC's request descriptor and the edges of the rule the service applies
// (test/faces.ts), go through REST and through Connect, and both faces must
// come out the same: accepted, or refused with the same Connect code naming
// the same fields. Real: PostgreSQL, the templates and claims services
// in-process, the gateway, both faces over HTTP. The instance host is the
// claims service's TEST STAND-IN (services/claims/test/stand-in-host.ts),
// which checks a level, permissions and participation as an instance does
// (the kit's rules) but is no agent.

import type { DescMessage } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { ClaimService } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import { TrustLevel } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import { OPEN_BUDGET, SecretBox, startClaimsService, type RunningClaimsService } from "@convos-pool/claims";
import { StandInHost } from "@convos-pool/claims/testing/stand-in-host";
import {
  APPROVAL_PLACE_NAMES,
  GRANT_NAMES,
  MAX_COOLDOWN_SECONDS,
  MAX_DAILY_SPEND_LIMIT_WEI,
  OUTSIDER_REPLY_NAMES,
  PARTICIPATION_MODE_NAMES,
  TRUST_LEVEL_NAMES,
  jsonHash,
  parseApprovalPlace,
  parseGrant,
  parseOutsiderReply,
  parseParticipationMode,
  parseTrustLevel,
  resolveParticipation,
  resolvePermissions,
} from "@convos-pool/kit/content";
import { createLogger, generateServiceCredentials, NO_LIMITS } from "@convos-pool/kit/server";
import { signClaim, signOperation, type OperationFields, type SignedOperation } from "@convos-pool/kit/signing";
import { newIdentity, sampleContent, type TestIdentity } from "@convos-pool/kit/testing";
import { createTestDatabase } from "@convos-pool/testing";
import { startTemplateService, type RunningTemplateService } from "@convos-pool/templates";
import fc from "fast-check";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGateway, type RunningGateway } from "../server.js";
import { connectOutcome, requestArbitrary, restBodyOf, restOutcome, type EnumNames } from "../../test/faces.js";
import { restCall, restSig, restSignature } from "../../test/rest.js";
import { PARTICIPATION_ERRORS, PERMISSIONS_ERRORS } from "./agents/errors.js";
import { AGENT_ERRORS } from "./core/errors.js";
import { REST_ROUTES } from "./routes.js";

const CREDS = generateServiceCredentials();
const quiet = (name: string) => createLogger(name, { level: "silent" });
/** Cases a route: each is two signed calls through the gateway, claims service and stand-in host. */
const RUNS = Number(process.env.POOL_CONTRACT_RUNS ?? 40);

/** The REST names of the enums these routes take, from the kit's name lists (the names REST parses). */
function namesOf(
  names: readonly string[],
  parse: (name: string) => number | undefined,
): (n: number) => string | undefined {
  return (n) => names.find((name) => parse(name) === n);
}
const ENUM_NAMES: EnumNames = {
  "convos.pool.v1.TrustLevel": namesOf(TRUST_LEVEL_NAMES, parseTrustLevel),
  "convos.pool.v1.Grant": namesOf(GRANT_NAMES, parseGrant),
  "convos.pool.v1.OutsiderReply": namesOf(OUTSIDER_REPLY_NAMES, parseOutsiderReply),
  "convos.pool.v1.ApprovalPlace": namesOf(APPROVAL_PLACE_NAMES, parseApprovalPlace),
  "convos.pool.v1.ParticipationMode": namesOf(PARTICIPATION_MODE_NAMES, parseParticipationMode),
};

type Request = Record<string, unknown>;
type Claims = ReturnType<typeof createClient<typeof ClaimService>>;

/**
 * One REST route and the RPC it forwards to: which request fields vary,
 * the edges of the service's rule for them, how the route's body flattens
 * the request, how the owner signs it, and how its RPC errors read on REST.
 */
interface ContractRow {
  route: readonly [method: string, pattern: string];
  input: DescMessage;
  fields: readonly string[];
  edges: Readonly<Record<string, readonly unknown[]>>;
  /** Requests run first, before the generated ones: the cases the faces once disagreed on. */
  examples?: readonly Request[];
  flatten?: readonly string[];
  operation: SignedOperation;
  /** The signed fields of a request (instanceId and inboxId aside); a value that cannot be signed as it is, its zero. */
  signed: (req: Request) => OperationFields;
  call: (rpc: Claims, req: Request) => Promise<unknown>;
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

const ROWS: ContractRow[] = [
  {
    route: ["PUT", "/api/pool/agents/:id/trust"],
    input: ClaimService.method.setTrustLevel.input,
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
    signed: (req) => ({ trustLevel: Number(req.trustLevel ?? 0), dailySpendLimitWei: wei(req.dailySpendLimitWei) }),
    call: (rpc, req) => rpc.setTrustLevel(req),
    restField: (f) => AGENT_ERRORS.field(f, nothingSent),
  },
  {
    route: ["PUT", "/api/pool/agents/:id/permissions"],
    input: ClaimService.method.setPermissions.input,
    fields: [
      "permissions.member_sms",
      "permissions.member_email",
      "permissions.member_crypto",
      "permissions.outsider_reply",
      "permissions.approvals",
    ],
    edges: {},
    flatten: ["permissions"],
    operation: "SetPermissions",
    signed: (req) => ({ ...orDefaults(resolvePermissions, req.permissions) }),
    call: (rpc, req) => rpc.setPermissions(req),
    restField: (f) => PERMISSIONS_ERRORS.field(f, nothingSent),
  },
  {
    route: ["PUT", "/api/pool/agents/:id/participation"],
    input: ClaimService.method.setParticipation.input,
    fields: ["participation.mode", "participation.cooldown_seconds"],
    edges: { "participation.cooldown_seconds": [0, 60, MAX_COOLDOWN_SECONDS, MAX_COOLDOWN_SECONDS + 1] },
    flatten: ["participation"],
    operation: "SetParticipation",
    signed: (req) => ({ ...orDefaults(resolveParticipation, req.participation) }),
    call: (rpc, req) => rpc.setParticipation(req),
    restField: (f) => PARTICIPATION_ERRORS.field(f, nothingSent),
  },
];

/**
 * The REST routes that forward to an RPC and are not yet rows above, each
 * with why: the list this test's coverage is held to, so a new route is
 * either a row or named here.
 */
const NOT_YET: Readonly<Record<string, string>> = {
  "POST /api/pool/claim": "a warm agent a case, and user tools by the template's kinds",
  "PATCH /api/pool/templates/:id/visibility": "a template version a case (If-Match)",
};

let templates: RunningTemplateService;
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
  gateway = await startGateway({
    templatesUrl: templates.url,
    claimsUrl: claims.url,
    credentials: CREDS.gateway,
    limits: NO_LIMITS,
    databaseUrl: await createTestDatabase("gwk_gateway"),
    log: quiet("gateway"),
  });
  await claims.pool!.reconcile();
});

afterAll(async () => {
  await gateway?.close();
  await claims?.close();
  await host?.kill();
  await templates?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

/** An agent of `owner`, claimed over REST from a public template whose highest level is L3 (so L4 is the agent's refusal). */
async function claimedAgent(owner: TestIdentity): Promise<string> {
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

const invite = () => `https://dev.convos.org/v2?i=invite-${randomBytes(6).toString("hex")}`;

describe("every face of a forwarded RPC", () => {
  it("covers each REST route it names, and names the REST routes that forward to an RPC it does not cover yet", () => {
    const known = new Set(REST_ROUTES.map(([method, pattern]) => `${method} ${pattern}`));
    for (const row of ROWS) expect(known, row.route.join(" ")).toContain(row.route.join(" "));
    for (const route of Object.keys(NOT_YET)) expect(known, route).toContain(route);
  });

  for (const row of ROWS) {
    it(`${row.route.join(" ")} accepts and refuses what Connect does, naming the same fields with the same code`, async () => {
      const owner = newIdentity();
      const instanceId = await claimedAgent(owner);
      const rpc = createClient(ClaimService, createConnectTransport({ baseUrl: gateway.url, useBinaryFormat: false }));
      const restPath = row.route[1].replace(":id", encodeURIComponent(instanceId));
      const sign = (req: Request) =>
        signOperation(owner.account, row.operation, { inboxId: owner.inboxId, instanceId, ...row.signed(req) });
      let accepted = 0;
      let refused = 0;
      await fc.assert(
        fc.asyncProperty(requestArbitrary(row.input, row.fields, row.edges), async (req) => {
          const body = restBodyOf(row.input, req, ENUM_NAMES, row.flatten);
          const rest = restOutcome(
            await restCall(gateway.url, row.route[0], restPath, {
              body: { ...body, owner_signature: restSignature(await sign(req)) },
            }),
          );
          const connect = await connectOutcome(
            row.call(rpc, { ...req, instanceId, ownerSignature: await sign(req) }),
            row.restField,
          );
          expect(rest, `REST ${JSON.stringify(body)} and Connect ${JSON.stringify(req, jsonBigints)}`).toEqual(connect);
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

function jsonBigints(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? value.toString() : value;
}

// Bad input everywhere (docs/reliability.md): generated requests (fast-check)
// to every REST route and every RPC method the gateway serves, over the real
// stack behind it (templates, claims, lineage on PostgreSQL; the claims
// tests' stand-in host). Wrong types, huge and empty strings, unknown enum
// numbers, invalid UTF-8, deep and duplicate-key JSON, truncated protobuf;
// with and without a session. Every answer must be a clear error: REST a 4xx
// with the error body, RPC a code other than INTERNAL or UNKNOWN; and nothing
// may be written. The run prints how many inputs it tried.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fc } from "@fast-check/vitest";
import type { DescService } from "@bufbuild/protobuf";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClaimService } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import { LineageService } from "@convos-pool/gen/convos/pool/v1/lineage_service_pb.js";
import { SessionService } from "@convos-pool/gen/convos/pool/v1/session_service_pb.js";
import { TemplateService } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import { createLogger, generateServiceCredentials, signOperation, SESSION_AUDIENCE } from "@convos-pool/kit";
import { createTestDatabase, newIdentity } from "@convos-pool/kit/testing";
import { SecretBox } from "@convos-pool/claims/src/secrets.js";
import { startClaimsService, type RunningClaimsService } from "@convos-pool/claims/src/server.js";
import { StandInHost } from "@convos-pool/claims/src/testing/stand-in-host.js";
import { startLineageService, type RunningLineageService } from "@convos-pool/lineage/src/server.js";
import { startTemplateService, type RunningTemplateService } from "@convos-pool/templates/src/server.js";
import { REST_ROUTES } from "./rest/routes.js";
import { startGateway, type RunningGateway } from "./server.js";

const CREDS = generateServiceCredentials();
const quiet = (name: string) => createLogger(name, { level: "silent" });
const RUNS = Number(process.env.FUZZ_RUNS ?? 25);

let templates: RunningTemplateService;
let host: StandInHost;
let claims: RunningClaimsService;
let lineage: RunningLineageService;
let gateway: RunningGateway;
let dataDir: string;
let token = "";
const databases: Record<string, string> = {};
const tried = { rest: 0, rpc: 0 };

/** What the services hold: the same before and after the fuzzing. */
async function written(): Promise<Record<string, unknown>> {
  const count = async (db: string, sql: string) => {
    const c = new pg.Client({ connectionString: databases[db] });
    await c.connect();
    try {
      return (await c.query(sql)).rows;
    } finally {
      await c.end();
    }
  };
  return {
    templates: await count("templates", `select id, version, visibility, status from templates order by id`),
    instances: await count("claims", `select id, state, owner_id, trust_level, pinned from instances order by id`),
    tools: await count("claims", `select instance_id, tool_id from provisioned_tools order by 1, 2`),
    keys: await count("claims", `select count(*)::int from claim_keys`),
    nonces: await count("claims", `select count(*)::int from signature_nonces`),
    lineage: await count("lineage", `select count(*)::int from lineage_agents`),
  };
}

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), "gw-fuzz-"));
  for (const name of ["templates", "claims", "lineage", "gateway"]) databases[name] = await createTestDatabase(`fuzz_${name}`);
  templates = await startTemplateService({ databaseUrl: databases.templates!, credentials: CREDS.templates, limits: {}, log: quiet("templates") });
  host = await StandInHost.start(CREDS["instance-host"]);
  lineage = await startLineageService({ databaseUrl: databases.lineage!, credentials: CREDS.lineage, templatesUrl: templates.url, log: quiet("lineage") });
  claims = await startClaimsService({
    databaseUrl: databases.claims!,
    credentials: CREDS.claims,
    templatesUrl: templates.url,
    secretsKey: SecretBox.generateKey(),
    dataDir,
    smsRange: "+15550930000..+15550930019",
    pool: { hostUrls: [host.url], target: 2, intervalMs: 3_600_000 },
    lineageUrl: lineage.url,
    limits: {},
    log: quiet("claims"),
  });
  gateway = await startGateway({
    templatesUrl: templates.url,
    claimsUrl: claims.url,
    lineageUrl: lineage.url,
    credentials: CREDS.gateway,
    databaseUrl: databases.gateway!,
    sessionSecret: "fuzz",
    limits: {},
    log: quiet("gateway"),
  });
  // Half the requests carry a real session, so the fuzzing reaches past sign-in.
  const me = newIdentity();
  const s = await signOperation(me.account, "CreateSession", { inboxId: me.inboxId, audience: SESSION_AUDIENCE });
  const res = await fetch(`${gateway.url}/api/pool/sessions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ inbox_id: me.inboxId, signature: { signature: s.signature, issued_at: Number(s.issuedAt), nonce: s.nonce } }),
  });
  token = ((await res.json()) as { token: string }).token;
  expect(token).toBeTruthy();
}, 120_000);

afterAll(async () => {
  console.log(`fuzz: ${tried.rest} REST requests over ${REST_ROUTES.length} routes, ${tried.rpc} RPCs over ${rpcMethods().length} methods`);
  await gateway?.close();
  await claims?.close();
  await lineage?.close();
  await host?.kill();
  await templates?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

// ---------------------------------------------------------------- the bad inputs

/** Field names the pool's bodies and messages use, so generated objects hit real fields with wrong values. */
const FIELDS = [
  "requester", "templateId", "template_id", "conversationInvite", "conversationId", "model", "userConfig", "signature", "ownerSignature",
  "pinned", "trustLevel", "dailySpendLimitWei", "creator_id", "creatorId", "agent_name", "instructions", "tools", "visibility", "version",
  "inbox_id", "inboxId", "newOwnerId", "idempotencyKey", "cloneFrom", "carry", "query", "pageSize", "pageToken", "instanceId", "content",
  "expectedVersion", "issued_at", "issuedAt", "nonce", "max_trust_level", "category", "tags", "sort", "limit", "cursor",
] as const;

const huge = fc.constantFrom(200_000, 1_100_000).map((n) => "x".repeat(n));
const oddString = fc.oneof(fc.string(), fc.constant(""), huge, fc.string({ unit: "binary" }), fc.constant("\u0000"), fc.constant("tmpl_AAAAAAAAAAAAAAAA"));
const oddValue = fc.oneof(
  oddString,
  fc.integer(),
  fc.constantFrom(2 ** 53, -1, 99999, Number.MAX_SAFE_INTEGER), // unknown enum numbers, out-of-range versions
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.anything(), { maxLength: 5 }),
  fc.dictionary(fc.string(), fc.anything(), { maxKeys: 5 }),
);
const wrongFields = fc.dictionary(fc.constantFrom(...FIELDS), oddValue, { minKeys: 1, maxKeys: 6 });

/** A raw request body: JSON of every odd shape, and bytes that are not JSON at all. */
const rawBody: fc.Arbitrary<string | Uint8Array | undefined> = fc.oneof(
  fc.constant(undefined),
  wrongFields.map((o) => JSON.stringify(o)),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc.integer({ min: 1_000, max: 20_000 }).map((n) => `${"[".repeat(n)}${"]".repeat(n)}`), // deep
  fc.integer({ min: 1_000, max: 5_000 }).map((n) => `${'{"a":'.repeat(n)}1${"}".repeat(n)}`),
  fc.constantFrom(FIELDS[0], FIELDS[1], FIELDS[4]).map((f) => `{"${f}":"a","${f}":"b"}`), // duplicate keys
  fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.concat([Buffer.from('{"requester":"'), Buffer.from([0xff, 0xfe, ...b]), Buffer.from('"}')])), // invalid UTF-8
  wrongFields.map((o) => JSON.stringify(o).slice(0, -3)), // truncated
  fc.uint8Array({ maxLength: 256 }),
);

// URLs stay under Node's 16 KiB header limit (beyond it the server answers 431 and closes the connection).
const pathId = fc.oneof(fc.string({ maxLength: 40 }), fc.constant("inst_AAAAAAAAAAAAAAAA"), fc.constant("tmpl_AAAAAAAAAAAAAAAA"), fc.constant("%ff%fe"), huge.map((s) => s.slice(0, 2_000)));

// ---------------------------------------------------------------- REST

interface RestError {
  error?: { type?: unknown; code?: unknown; message?: unknown };
}

async function send(url: string, init: { method: string; headers: Record<string, string>; body?: string | Uint8Array }) {
  const res = await fetch(url, { ...init, ...(init.body === undefined ? {} : { body: init.body }) });
  const text = await res.text();
  return { status: res.status, text };
}

describe("every REST route, given bad input", () => {
  for (const [method, pattern] of REST_ROUTES) {
    it(`${method} ${pattern} answers a clear 4xx and writes nothing`, { timeout: 120_000 }, async () => {
      const before = await written();
      await fc.assert(
        fc.asyncProperty(pathId, rawBody, fc.boolean(), fc.dictionary(fc.constantFrom("owner", "limit", "cursor", "q", "category", "sort", "visibility", "permanent", "resolve"), oddString.map((s) => s.slice(0, 600)), { maxKeys: 4 }), async (id, body, signedIn, query) => {
          tried.rest++;
          const url = new URL(`${gateway.url}${pattern.replace(":id", encodeURIComponent(id) || "x")}`);
          for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
          const headers: Record<string, string> = { "content-type": "application/json" };
          if (signedIn) headers.authorization = `Bearer ${token}`;
          const res = await send(url.toString(), { method, headers, ...(body === undefined || method === "GET" ? {} : { body }) });
          if (res.status < 300) return; // a read of nothing, answered
          expect(res.status, `${method} ${url.pathname}: ${res.text.slice(0, 300)}`).toBeGreaterThanOrEqual(400);
          expect(res.status, `${method} ${url.pathname}: ${res.text.slice(0, 300)}`).toBeLessThan(500);
          const err = (JSON.parse(res.text) as RestError).error;
          expect(typeof err?.message, res.text.slice(0, 300)).toBe("string");
          expect(typeof err?.code).toBe("string");
        }),
        { numRuns: RUNS },
      );
      expect(await written()).toEqual(before);
    });
  }
});

// ---------------------------------------------------------------- RPC

function rpcMethods(): { service: DescService; method: string }[] {
  return [TemplateService, ClaimService, SessionService, LineageService].flatMap((service) =>
    service.methods.filter((m) => m.methodKind === "unary").map((m) => ({ service, method: m.name })),
  );
}

describe("every RPC method, given bad input", () => {
  it("answers a code other than INTERNAL or UNKNOWN, over Connect JSON and binary protobuf, and writes nothing", { timeout: 300_000 }, async () => {
    const before = await written();
    const methods = rpcMethods();
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...methods),
        fc.oneof(
          wrongFields.map((o) => ({ type: "application/json", body: JSON.stringify(o) as string | Uint8Array })),
          rawBody.map((b) => ({ type: "application/json", body: b ?? "" })),
          fc.uint8Array({ maxLength: 512 }).map((b) => ({ type: "application/proto", body: b as string | Uint8Array })), // truncated, garbage protobuf
        ),
        fc.boolean(),
        async ({ service, method }, { type, body }, signedIn) => {
          tried.rpc++;
          const headers: Record<string, string> = { "content-type": type, "connect-protocol-version": "1" };
          if (signedIn) headers.authorization = `Bearer ${token}`;
          const res = await send(`${gateway.url}/${service.typeName}/${method}`, { method: "POST", headers, body });
          if (res.status === 200) return;
          const code = (JSON.parse(res.text) as { code?: string }).code;
          expect(code, `${service.typeName}/${method}: ${res.text.slice(0, 300)}`).toBeTruthy();
          expect(["internal", "unknown"], `${service.typeName}/${method}: ${res.text.slice(0, 300)}`).not.toContain(code);
        },
      ),
      { numRuns: RUNS * methods.length },
    );
    expect(await written()).toEqual(before);
  });
});

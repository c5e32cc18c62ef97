// Bad input everywhere (docs/reliability.md): generated requests (fast-check)
// to every REST route and every RPC method the gateway serves, over the real
// stack behind it (templates, claims, lineage on PostgreSQL; the claims
// tests' stand-in host). Wrong types, huge and empty strings, unknown enum
// numbers, invalid UTF-8, deep and duplicate-key JSON, truncated protobuf
// (the generators are shared: kit/testing/fuzz.ts); with and without a
// session. Every answer must be a clear error: REST a 4xx with the error
// body, a 400 naming its field; RPC a code other than INTERNAL or UNKNOWN, an
// INVALID_ARGUMENT naming its field (or the request message as a whole, when
// it does not decode); and nothing may be written. The run prints how many
// inputs it tried.
import { fc } from "@fast-check/vitest";
import type { DescMethod } from "@bufbuild/protobuf";
import { ConnectError } from "@connectrpc/connect";
import { errorFromJson } from "@connectrpc/connect/protocol-connect";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClaimService } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import { LineageService } from "@convos-pool/gen/convos/pool/v1/lineage_service_pb.js";
import { SessionService } from "@convos-pool/gen/convos/pool/v1/session_service_pb.js";
import { TemplateService } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import { createLogger, generateServiceCredentials } from "@convos-pool/kit/server";
import { snakeCase } from "@convos-pool/kit/content";
import { createTestDatabase } from "@convos-pool/testing";
import { newIdentity } from "@convos-pool/kit/testing";
import {
  FUZZ_RUNS,
  POOL_FIELDS,
  UNKNOWN_TEMPLATE_ID,
  fieldNameProblem,
  huge,
  oddString,
  rawBodies,
  rpcBodies,
} from "@convos-pool/testing/fuzz";
import { FuzzStack } from "@convos-pool/claims/testing/fuzz-stack";
import { REST_ROUTES } from "./rest/routes.js";
import { startGateway, type RunningGateway } from "./server.js";
import { restSession } from "../test/rest.js";

const CREDS = generateServiceCredentials();
const quiet = (name: string) => createLogger(name, { level: "silent" });

const stack = new FuzzStack({ name: "fuzz", creds: CREDS, smsRange: "+15550930000..+15550930019" });
let gateway: RunningGateway;
let token = "";
const tried = { rest: 0, rpc: 0 };

/** What the services hold: the same before and after the fuzzing. */
async function written(): Promise<Record<string, unknown>> {
  const count = async (db: "templates" | "claims" | "lineage", sql: string) => {
    const c = new pg.Client({ connectionString: stack.databases[db] });
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
  const { templates, claims, lineage } = await stack.start();
  gateway = await startGateway({
    templatesUrl: templates.url,
    claimsUrl: claims.url,
    lineageUrl: lineage.url,
    credentials: CREDS.gateway,
    databaseUrl: await createTestDatabase("fuzz_gateway"),
    sessionSecret: "fuzz".repeat(8),
    limits: {},
    log: quiet("gateway"),
  });
  // Half the requests carry a real session, so the fuzzing reaches past sign-in.
  token = await restSession(gateway.url, newIdentity());
  expect(token).toBeTruthy();
}, 120_000);

afterAll(async () => {
  console.log(
    `fuzz: ${tried.rest} REST requests over ${REST_ROUTES.length} routes, ${tried.rpc} RPCs over ${rpcMethods().length} methods`,
  );
  await gateway?.close();
  await stack.close();
});

// ---------------------------------------------------------------- the bad inputs

// REST bodies are snake_case (docs/rest.md): the fields in that spelling too, so the bad values reach past "unknown field".
const rawBody = rawBodies([...new Set([...POOL_FIELDS, ...POOL_FIELDS.map(snakeCase)])]);

// URLs stay under Node's 16 KiB header limit (beyond it the server answers 431 and closes the connection).
const pathId = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.constant("inst_AAAAAAAAAAAAAAAA"),
  fc.constant(UNKNOWN_TEMPLATE_ID),
  fc.constant("%ff%fe"),
  huge.map((s) => s.slice(0, 2_000)),
);

// ---------------------------------------------------------------- REST

interface RestError {
  error?: { type?: unknown; code?: unknown; message?: unknown; field?: unknown };
}

async function send(
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string | Uint8Array },
) {
  const res = await fetch(url, { ...init, ...(init.body === undefined ? {} : { body: init.body }) });
  const text = await res.text();
  return { status: res.status, text };
}

describe("every REST route, given bad input", () => {
  for (const [method, pattern] of REST_ROUTES) {
    it(`${method} ${pattern} answers a clear 4xx and writes nothing`, { timeout: 120_000 }, async () => {
      const before = await written();
      await fc.assert(
        fc.asyncProperty(
          pathId,
          rawBody,
          fc.boolean(),
          fc.dictionary(
            fc.constantFrom("owner", "limit", "cursor", "q", "category", "sort", "visibility", "permanent", "resolve"),
            oddString.map((s) => s.slice(0, 600)),
            { maxKeys: 4 },
          ),
          async (id, body, signedIn, query) => {
            tried.rest++;
            const url = new URL(`${gateway.url}${pattern.replace(":id", encodeURIComponent(id) || "x")}`);
            for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
            const headers: Record<string, string> = { "content-type": "application/json" };
            if (signedIn) headers.authorization = `Bearer ${token}`;
            const res = await send(url.toString(), {
              method,
              headers,
              ...(body === undefined || method === "GET" ? {} : { body }),
            });
            if (res.status < 300) return; // a read of nothing, answered
            expect(res.status, `${method} ${url.pathname}: ${res.text.slice(0, 300)}`).toBeGreaterThanOrEqual(400);
            expect(res.status, `${method} ${url.pathname}: ${res.text.slice(0, 300)}`).toBeLessThan(500);
            const err = (JSON.parse(res.text) as RestError).error;
            expect(typeof err?.message, res.text.slice(0, 300)).toBe("string");
            expect(typeof err?.code).toBe("string");
            // A 400 names what is wrong: a field of the body or a query parameter, or "body" when it does not parse.
            if (res.status === 400)
              expect(
                typeof err?.field === "string" && err.field !== "",
                `${method} ${url.pathname}: ${res.text.slice(0, 300)}`,
              ).toBe(true);
          },
        ),
        { numRuns: FUZZ_RUNS },
      );
      expect(await written()).toEqual(before);
    });
  }
});

// ---------------------------------------------------------------- RPC

function rpcMethods(): DescMethod[] {
  return [TemplateService, ClaimService, SessionService, LineageService].flatMap((service) =>
    service.methods.filter((m) => m.methodKind === "unary"),
  );
}

describe("every RPC method, given bad input", () => {
  it("answers a code other than INTERNAL or UNKNOWN, naming the field of an invalid argument, over Connect JSON and binary protobuf, and writes nothing", {
    timeout: 300_000,
  }, async () => {
    const before = await written();
    const methods = rpcMethods();
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...methods).chain((m) => fc.tuple(fc.constant(m), rpcBodies(m.input, POOL_FIELDS))),
        fc.boolean(),
        async ([method, { type, body }], signedIn) => {
          tried.rpc++;
          const headers: Record<string, string> = { "content-type": type, "connect-protocol-version": "1" };
          if (signedIn) headers.authorization = `Bearer ${token}`;
          const res = await send(`${gateway.url}/${method.parent.typeName}/${method.name}`, {
            method: "POST",
            headers,
            body,
          });
          if (res.status === 200) return;
          const where = `${method.parent.typeName}/${method.name}: ${res.text.slice(0, 300)}`;
          const json = JSON.parse(res.text) as { code?: string };
          expect(json.code, where).toBeTruthy();
          expect(["internal", "unknown"], where).not.toContain(json.code);
          const err = errorFromJson(json, undefined, new ConnectError("no error body"));
          expect(fieldNameProblem(method.input, err), where).toBeUndefined();
        },
      ),
      { numRuns: FUZZ_RUNS * methods.length },
    );
    expect(await written()).toEqual(before);
  });
});

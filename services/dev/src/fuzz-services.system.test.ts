// Bad input straight to the templates, claims, lineage and keys services' own RPCs
// (docs/reliability.md), not through the gateway: every unary method of every
// service each of them serves, as listed by its own reflection, called with
// the credential of a principal its access policy lets in (the gateway's,
// with and without a caller, for the public services; the claims, lineage or
// templates service's for the internal ones), over Connect (JSON and
// protobuf) and gRPC. The inputs (kit/testing/fuzz.ts, shared with the
// gateway's and the instance host's fuzzing): wrong types, huge and empty
// strings, unknown enum numbers, invalid UTF-8, deep and duplicate-key JSON,
// each request message's own fields with odd values, truncated protobuf.
//
// Every answer must be a clear error: a code other than INTERNAL or UNKNOWN,
// and an INVALID_ARGUMENT names the field (or the request message as a whole,
// when it does not decode; docs/reliability.md). The run prints how many
// inputs it tried per service, by the code they were answered. Nothing may be written: every table of the three
// databases is the same after each refused call as before it (a call that is
// accepted, such as a well-formed lineage event, may write).
//
// One file for the three, here beside the pool they make up: the claims and
// lineage services need a templates service to start, so one stack serves
// all three (the claims tests' stand-in host keeps two idle agents, so a
// claim could take one if a bad input got through).
import * as http2 from "node:http2";
import type { DescService, JsonValue } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { codeToString, errorFromJson } from "@connectrpc/connect/protocol-connect";
import { findTrailerError } from "@connectrpc/connect/protocol-grpc";
import { fc } from "@fast-check/vitest";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AgentMemoryService } from "@convos-pool/gen/convos/pool/v1/agent_memory_service_pb.js";
import { AddressBookService } from "@convos-pool/gen/convos/pool/v1/address_book_service_pb.js";
import { ApprovalService } from "@convos-pool/gen/convos/pool/v1/approval_service_pb.js";
import { ConfirmationService } from "@convos-pool/gen/convos/pool/v1/confirmation_service_pb.js";
import { ClaimService } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import { AttestationKeyService } from "@convos-pool/gen/convos/pool/v1/attestation_service_pb.js";
import { LineageEventService } from "@convos-pool/gen/convos/pool/v1/lineage_event_service_pb.js";
import { LineageService } from "@convos-pool/gen/convos/pool/v1/lineage_service_pb.js";
import { RolloutService } from "@convos-pool/gen/convos/pool/v1/rollout_service_pb.js";
import { RolloutWatchService } from "@convos-pool/gen/convos/pool/v1/rollout_watch_service_pb.js";
import { PatternInsightsService, PatternPoolService } from "@convos-pool/gen/convos/pool/v1/pattern_pool_service_pb.js";
import {
  OwnerActivityService,
  TemplateOwnershipService,
  TemplateRatingService,
} from "@convos-pool/gen/convos/pool/v1/rating_service_pb.js";
import { AgentVaultService } from "@convos-pool/gen/convos/pool/v1/agent_vault_service_pb.js";
import { AgentKeyService } from "@convos-pool/gen/convos/pool/v1/agent_key_service_pb.js";
import { InstancePlacementService } from "@convos-pool/gen/convos/pool/v1/instance_placement_service_pb.js";
import { PaymentSignerService } from "@convos-pool/gen/convos/pool/v1/payment_signer_service_pb.js";
import { AgentStateMarkService } from "@convos-pool/gen/convos/pool/v1/state_mark_service_pb.js";
import { HostScheduleService, ScheduleService } from "@convos-pool/gen/convos/pool/v1/schedule_service_pb.js";
import {
  VersionSignalInsightsService,
  VersionSignalService,
} from "@convos-pool/gen/convos/pool/v1/signal_service_pb.js";
import {
  StoreCurationService,
  TemplateStandingService,
} from "@convos-pool/gen/convos/pool/v1/store_curation_service_pb.js";
import {
  TemplateReleaseService,
  TemplateService,
  TemplateUsageService,
} from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import { TemplateSyncService } from "@convos-pool/gen/convos/pool/v1/template_sync_service_pb.js";
import { Health } from "@convos-pool/gen/grpc/health/v1/health_pb.js";
import { ServerReflection } from "@convos-pool/gen/grpc/reflection/v1/reflection_pb.js";
import { CALLER_HEADER, SERVICE_TOKEN_HEADER } from "@convos-pool/kit/content";
import {
  PRINCIPALS,
  createLogger,
  generateServiceCredentials,
  hostCredentials,
  type AccessPolicy,
  type Principal,
} from "@convos-pool/kit/server";
import { waitFor } from "@convos-pool/testing";
import { newIdentity } from "@convos-pool/kit/testing";
import { FUZZ_RUNS, fieldNameProblem, oddString, rpcBodies, type RpcBody } from "@convos-pool/testing/fuzz";
import { CLAIMS_ACCESS } from "@convos-pool/claims";
import { FuzzStack } from "@convos-pool/claims/testing/fuzz-stack";
import { KEYS_ACCESS, startKeysService, type RunningKeysService } from "@convos-pool/keys";
import { LINEAGE_ACCESS } from "@convos-pool/lineage";
import { TEMPLATES_ACCESS } from "@convos-pool/templates";

/** The instance host calls with a credential of its own, as hosts do (the vault takes nothing under the shared one). */
const FUZZ_HOST = "http://fuzz-host.invalid:7100";
const CREDS = generateServiceCredentials(undefined, [FUZZ_HOST]);
const tokenOf = (p: Principal) => (p === "instance-host" ? hostCredentials(CREDS, FUZZ_HOST) : CREDS[p]).token;
/** Longer than any answer should take: a call past it fails the run instead of hanging it. */
const CALL_TIMEOUT_MS = 15_000;

/** The services the pool's servers may serve, by name. */
const KNOWN: DescService[] = [
  TemplateService,
  TemplateReleaseService,
  TemplateUsageService,
  StoreCurationService,
  TemplateStandingService,
  TemplateRatingService,
  ClaimService,
  AgentMemoryService,
  AddressBookService,
  ApprovalService,
  ConfirmationService,
  TemplateSyncService,
  TemplateOwnershipService,
  AgentVaultService,
  InstancePlacementService,
  PaymentSignerService,
  AgentKeyService,
  LineageService,
  LineageEventService,
  PatternPoolService,
  PatternInsightsService,
  VersionSignalService,
  VersionSignalInsightsService,
  AgentStateMarkService,
  OwnerActivityService,
  RolloutService,
  RolloutWatchService,
  AttestationKeyService,
  ScheduleService,
  HostScheduleService,
  Health,
];
/** grpc.health.v1.Health is open to every caller (kit/auth.ts). */
const OPEN: readonly Principal[] = PRINCIPALS;

const stack = new FuzzStack({ name: "fuzzsvc", creds: CREDS, smsRange: "+15550940000..+15550940019" });
const servers: { name: string; url: () => string; access: AccessPolicy; services: DescService[] }[] = [
  { name: "templates", url: () => stack.templates.url, access: TEMPLATES_ACCESS, services: [] },
  { name: "claims", url: () => stack.claims.url, access: CLAIMS_ACCESS, services: [] },
  { name: "lineage", url: () => stack.lineage.url, access: LINEAGE_ACCESS, services: [] },
  // No database: what it must not do is answer INTERNAL, or release a key to a host the claims service did not name.
  { name: "keys", url: () => keys.url, access: KEYS_ACCESS, services: [] },
];
let keys: RunningKeysService;
const tried: string[] = [];

async function query<T>(db: "templates" | "claims" | "lineage", sql: string): Promise<T[]> {
  const c = new pg.Client({ connectionString: stack.databases[db] });
  await c.connect();
  try {
    return (await c.query(sql)).rows as T[];
  } finally {
    await c.end();
  }
}

/** One connection per database, and the query that reads each of its tables' rows' count and digest. */
const snapshots: { db: string; client: pg.Client; sql: string }[] = [];

async function openSnapshots(): Promise<void> {
  for (const db of ["templates", "claims", "lineage"] as const) {
    const client = new pg.Client({ connectionString: stack.databases[db] });
    await client.connect();
    const tables = (
      await client.query<{ t: string }>(`select tablename as t from pg_tables where schemaname = 'public' order by 1`)
    ).rows;
    const sql = tables
      .map(
        ({ t }) =>
          `select '${t}' as t, count(*)::int || ' rows, ' || md5(coalesce(string_agg(x::text, E'\\n' order by x::text), '')) as h from "${t}" x`,
      )
      .join(" union all ");
    snapshots.push({ db, client, sql });
  }
}

/** Every table of the three databases: its rows' count and a digest of them. */
async function written(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const { db, client, sql } of snapshots)
    for (const r of (await client.query<{ t: string; h: string }>(sql)).rows) out[`${db}.${r.t}`] = r.h;
  return out;
}

/** The services a server serves, as its reflection lists them. */
async function servedBy(url: string): Promise<string[]> {
  const client = createClient(ServerReflection, createGrpcTransport({ baseUrl: url }));
  async function* ask() {
    yield { messageRequest: { case: "listServices" as const, value: "" } };
  }
  for await (const a of client.serverReflectionInfo(ask())) {
    if (a.messageResponse.case === "listServicesResponse") return a.messageResponse.value.service.map((s) => s.name);
  }
  return [];
}

beforeAll(async () => {
  await stack.start();
  keys = await startKeysService({
    claimsUrl: stack.claims.url,
    masterSeed: "22".repeat(32),
    credentials: CREDS.keys,
    log: createLogger("keys", { level: "silent" }),
  });
  // The warm pool filled before anything is compared.
  await waitFor(
    "the warm pool",
    async () =>
      (await query<{ n: number }>("claims", `select count(*)::int as n from instances where state = 'idle'`))[0]!.n >=
      2,
    30_000,
    100,
  );
  await openSnapshots();
  for (const s of servers) {
    for (const name of await servedBy(s.url())) {
      if (name === ServerReflection.typeName) continue; // bidirectional streaming only
      const service = KNOWN.find((k) => k.typeName === name);
      expect(service, `${s.name} serves ${name}, which this test does not know`).toBeDefined();
      s.services.push(service!);
    }
  }
}, 120_000);

afterAll(async () => {
  for (const line of tried) console.log(line);
  for (const { client } of snapshots) await client.end();
  await keys?.close();
  await stack.close();
});

// ---------------------------------------------------------------- calling

interface Answer {
  /** What the call was, for the failure message. */
  what: string;
  ok: boolean;
  err?: ConnectError;
  raw: string;
}

async function callConnect(url: string, headers: Record<string, string>, { type, body }: RpcBody): Promise<Answer> {
  const res = await fetch(url, {
    method: "POST",
    headers: { ...headers, "content-type": type, "connect-protocol-version": "1" },
    body,
    signal: AbortSignal.timeout(CALL_TIMEOUT_MS),
  });
  const text = await res.text();
  if (res.status === 200) return { what: "connect", ok: true, raw: "" };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { what: `connect ${res.status}`, ok: false, raw: text.slice(0, 300) };
  }
  return {
    what: `connect ${type}`,
    ok: false,
    err: errorFromJson(
      json as JsonValue,
      res.headers,
      new ConnectError(`HTTP ${res.status} without an error body`, Code.Unknown),
    ),
    raw: text.slice(0, 300),
  };
}

/** One gRPC call on a shared HTTP/2 session: the status from the trailers (or a trailers-only answer). */
function callGrpc(
  session: http2.ClientHttp2Session,
  requestPath: string,
  headers: Record<string, string>,
  { type, body }: RpcBody,
): Promise<Answer> {
  const bytes = Buffer.from(typeof body === "string" ? new TextEncoder().encode(body) : body);
  const frame = Buffer.alloc(5 + bytes.length);
  frame.writeUInt32BE(bytes.length, 1);
  bytes.copy(frame, 5);
  return new Promise((resolve) => {
    const req = session.request({
      ":method": "POST",
      ":path": requestPath,
      "content-type": type === "application/json" ? "application/grpc+json" : "application/grpc",
      te: "trailers",
      ...headers,
    });
    const seen = new Headers();
    const take = (h: http2.IncomingHttpHeaders) => {
      for (const [k, v] of Object.entries(h))
        if (!k.startsWith(":") && v !== undefined) seen.set(k, Array.isArray(v) ? v.join(", ") : String(v));
    };
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      const status = seen.get("grpc-status");
      const err = findTrailerError(seen);
      resolve({
        what: `grpc ${type}`,
        ok: status === "0",
        ...(err ? { err } : {}),
        raw: `grpc-status ${status} rst ${req.rstCode} ${err?.rawMessage ?? ""}`.slice(0, 300),
      });
    };
    // The answer is complete with its status (trailers, or a trailers-only response), maybe before the
    // server read all of a request it refused; the stream is left to end by itself, not cancelled
    // (a cancelled upload leaves its unread data counted against the connection: unread-requests.ts).
    const onStatus = (h: http2.IncomingHttpHeaders) => {
      take(h);
      if (h["grpc-status"] !== undefined) finish();
    };
    req.on("response", onStatus);
    req.on("trailers", onStatus);
    req.on("close", finish);
    req.setTimeout(CALL_TIMEOUT_MS, () => req.close(http2.constants.NGHTTP2_CANCEL)); // no status: the check fails, naming the call
    req.on("error", () => {}); // the server may answer before it read everything; the status is what counts
    req.resume();
    req.end(frame);
  });
}

// ---------------------------------------------------------------- the fuzzing

const caller = fc.oneof(
  fc.constant(undefined),
  fc.constant(newIdentity().inboxId),
  oddString.map((s) => s.slice(0, 200)).filter((s) => /^[\x21-\x7e]*$/.test(s)),
);

for (const server of servers) {
  describe(`the ${server.name} service, given bad input straight to its RPCs`, () => {
    // What it serves is known when the tests run, not when they are collected: one test per server, each service in turn.
    it("answers every method of every service it serves with a clear code, naming the field, and writes nothing", {
      timeout: 300_000,
    }, async () => {
      expect(server.services.length, "services listed by reflection").toBeGreaterThan(1);
      const session = http2.connect(server.url());
      session.on("error", () => {});
      try {
        for (const service of server.services) {
          const allowed = server.access[service.typeName] ?? OPEN;
          const methods = service.methods.filter((m) => m.methodKind === "unary");
          // What the databases hold after the last call: a refused call must leave it as it is. An
          // accepted one may write (lineage records any well-formed event the claims service sends).
          let held = await written();
          let count = 0;
          const codes = new Map<string, number>();
          await fc.assert(
            fc.asyncProperty(
              fc.constantFrom(...methods).chain((m) => fc.tuple(fc.constant(m), rpcBodies(m.input))),
              fc.constantFrom(...allowed),
              caller,
              fc.constantFrom("connect", "grpc"),
              async ([method, body], principal, inbox, protocol) => {
                count++;
                const headers: Record<string, string> = { [SERVICE_TOKEN_HEADER]: tokenOf(principal) };
                if (principal === "gateway" && inbox !== undefined) headers[CALLER_HEADER] = inbox;
                const requestPath = `/${service.typeName}/${method.name}`;
                const answer =
                  protocol === "grpc"
                    ? await callGrpc(session, requestPath, headers, body)
                    : await callConnect(`${server.url()}${requestPath}`, headers, body);
                const code = answer.ok ? "ok" : answer.err ? codeToString(answer.err.code) : "no status";
                codes.set(code, (codes.get(code) ?? 0) + 1);
                const before = held;
                held = await written();
                if (answer.ok) return;
                const where = `${service.typeName}/${method.name} as ${principal} (${answer.what}): ${answer.raw}`;
                expect(answer.err, where).toBeDefined();
                expect(["internal", "unknown"], where).not.toContain(code);
                expect(fieldNameProblem(method.input, answer.err!), where).toBeUndefined();
                expect(held, `${where}: wrote`).toEqual(before);
              },
            ),
            { numRuns: FUZZ_RUNS * methods.length },
          );
          const answered = [...codes]
            .sort((a, b) => b[1] - a[1])
            .map(([c, n]) => `${c} ${n}`)
            .join(", ");
          tried.push(`fuzz: ${count} calls to ${service.typeName} over ${methods.length} methods (${answered})`);
        }
      } finally {
        session.close();
      }
    });
  });
}

// What every REST handler shares (docs/rest.md): the request and answer
// shapes, the route, the deps, and the parsing of query parameters and If-Match.

import { Code } from "@connectrpc/connect";
import type { Logger, ServerRequest } from "@convos-pool/kit/server";
import type {
  CallInfo,
  ClaimsForwarder,
  MemoryForwarder,
  AddressBookForwarder,
  ApprovalsForwarder,
  CurationForwarder,
  LineageForwarder,
  RatingsForwarder,
  RolloutsForwarder,
  SchedulesForwarder,
  PatternInsightsForwarder,
  TemplatesForwarder,
  VersionSignalInsightsForwarder,
} from "../../connect/forward.js";
import type { Session, SignInRequest } from "../../sessions/service.js";
import { badRequest, RestError, type RestErrorMapping } from "./errors.js";
import { unknownName, type JsonObject } from "./json.js";

/** A sign-in as a body carries it (the request's Origin header comes with the call). */
export type SignInFields = Omit<SignInRequest, "requestOrigin">;

export interface RestDeps {
  templates: TemplatesForwarder;
  /** StoreCurationService, at the templates service. */
  curation: CurationForwarder;
  /** TemplateRatingService, at the templates service. */
  ratings: RatingsForwarder;
  /** RolloutService, at the templates service. */
  rollouts: RolloutsForwarder;
  /** Absent: the claim and "My agents" paths answer 503 with `claimsNotConfigured`. */
  claims?: ClaimsForwarder | undefined;
  /** AgentMemoryService, at the claims service; absent with it (503, `claimsNotConfigured`). */
  memory?: MemoryForwarder | undefined;
  /** AddressBookService, at the claims service; absent with it (503, `claimsNotConfigured`). */
  addressBook?: AddressBookForwarder | undefined;
  /** ApprovalService, at the claims service; absent with it (503, `claimsNotConfigured`). */
  approvals?: ApprovalsForwarder | undefined;
  /** ScheduleService, at the claims service; absent with it (503, `claimsNotConfigured`). */
  schedules?: SchedulesForwarder | undefined;
  /** LineageService; absent: the lineage paths answer 503 with `lineageNotConfigured`. */
  lineage?: LineageForwarder | undefined;
  /** PatternInsightsService, at the lineage service; absent with it (503, `lineageNotConfigured`). */
  patterns?: PatternInsightsForwarder | undefined;
  /** VersionSignalInsightsService, at the lineage service; absent with it (503, `lineageNotConfigured`). */
  signals?: VersionSignalInsightsForwarder | undefined;
  claimsNotConfigured: string;
  lineageNotConfigured: string;
  /** CreateSession, counted against the call's client address. */
  createSession(signIn: SignInFields, call: CallInfo): Promise<Session>;
  /** Signs out the session of an Authorization header value. */
  endSession(authorization: string | null | undefined): Promise<void>;
  /** What every signature for this pool names in its EIP-712 domain. */
  signingDomain: { poolId: string; name: string; version: string; salt: string };
  log: Logger;
  /** Largest accepted body; larger ones get 413. */
  maxBodyBytes: number;
}

export interface RestRequest {
  /** The template or agent id of the path, "" on paths without one. */
  id: string;
  /** Every parameter of the path by its name (`:rollout_id` → `rollout_id`), `id` among them. */
  params: Readonly<Record<string, string>>;
  url: URL;
  headers: ServerRequest["headers"];
  /** Reads the JSON body: an object with only `allowed` fields. */
  body(allowed: readonly string[]): Promise<JsonObject>;
  call: CallInfo;
}

export interface RestResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** Straight-line code: the errors it throws are turned into REST errors by its route's mapping. */
export type Handler = (r: RestRequest, deps: RestDeps) => Promise<RestResponse>;

/**
 * One REST route: its method, its path under BASE (`:id`, and a second
 * `:name` after it, are the path parameters), its handler, and how the RPC errors of its handler read on
 * REST (which field paths become which body or query names, which codes
 * answer otherwise). The dispatcher applies the mapping.
 */
export type Route = readonly [method: string, path: string, handler: Handler, errors: RestErrorMapping];

export const BASE = "/api/pool";

// ---------------------------------------------------------------- helpers

/** The query parameters, each at most once, none but `allowed`. */
export function query(r: RestRequest, allowed: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const [key, value] of r.url.searchParams) {
    if (!allowed.includes(key)) throw badRequest(key, unknownName(key, allowed, "unknown query parameter"));
    if (out.has(key)) throw badRequest(key, "given more than once");
    out.set(key, value);
  }
  return out;
}

/**
 * A whole-number query parameter as the RPC's int32 takes it, 0 when absent.
 * Its range is the service's to judge (`limit` is `page_size`, 1 to 100):
 * refused here is only what no int32 carries, and 0, which the RPC reads as
 * none given.
 */
export function queryInt(q: Map<string, string>, key: string): number {
  const v = q.get(key);
  if (v === undefined) return 0;
  const n = /^-?[1-9][0-9]{0,9}$/.test(v) ? Number(v) : 0;
  if (n === 0 || n < -(2 ** 31) || n > 2 ** 31 - 1) throw badRequest(key, "must be a whole number other than 0");
  return n;
}

export function queryBool(q: Map<string, string>, key: string): boolean {
  const v = q.get(key);
  if (v === undefined || v === "false") return false;
  if (v === "true") return true;
  throw badRequest(key, 'must be "true" or "false"');
}

/** The page of a list the query asks for, `?limit=&cursor=`: the RPC's page size and token. */
export function queryPage(q: Map<string, string>): { pageSize: number; pageToken: string } {
  return { pageSize: queryInt(q, "limit"), pageToken: q.get("cursor") ?? "" };
}

/** The highest version a template change may be based on: the templates service's bound on expected_version. */
export const MAX_TEMPLATE_VERSION = 2_000_000_000n;

/**
 * The version a change is based on: `If-Match: 3` or `If-Match: "3"`, 0
 * when absent. Its range is the templates service's one rule (1 to
 * MAX_TEMPLATE_VERSION, expected_version): it names a missing or stale one
 * as If-Match beside the request's other faults, on both faces. Refused here
 * is only what no int64 version carries.
 */
export function ifMatch(r: RestRequest): bigint {
  const raw = r.headers["if-match"];
  if (raw === undefined || raw === "") return 0n;
  const m = /^\s*(?:"(-?[0-9]{1,19})"|(-?[0-9]{1,19}))\s*$/.exec(raw);
  const text = m?.[1] ?? m?.[2];
  const version = text === undefined ? undefined : BigInt(text);
  if (version === undefined || version < -(2n ** 63n) || version >= 2n ** 63n)
    throw badRequest("If-Match", 'must be one template version, such as "3"');
  return version;
}

/**
 * A signed change of the path's template, based on the version in If-Match:
 * no query parameters, and a body of `fields` and `signature`.
 */
export async function signedChange(
  r: RestRequest,
  fields: readonly string[],
): Promise<{ expectedVersion: bigint; body: JsonObject }> {
  query(r, []);
  const expectedVersion = ifMatch(r);
  return { expectedVersion, body: await r.body([...fields, "signature"]) };
}

export const etag = (version: bigint | number) => `"${version}"`;

/** The upstream each optional forwarder calls: a gateway started without it has none of them. */
const UPSTREAM_OF = {
  claims: "claimsNotConfigured",
  memory: "claimsNotConfigured",
  addressBook: "claimsNotConfigured",
  approvals: "claimsNotConfigured",
  schedules: "claimsNotConfigured",
  lineage: "lineageNotConfigured",
  patterns: "lineageNotConfigured",
  signals: "lineageNotConfigured",
} as const satisfies Record<string, keyof RestDeps>;

/** An optional forwarder, or 503 naming the upstream this gateway is not connected to. */
export function forwarderOf<K extends keyof typeof UPSTREAM_OF>(deps: RestDeps, name: K): NonNullable<RestDeps[K]> {
  const forwarder = deps[name];
  if (!forwarder) throw new RestError(503, "unavailable", Code.Unavailable, deps[UPSTREAM_OF[name]]);
  return forwarder;
}

export const nextCursor = (token: string) => (token === "" ? null : token);

// The REST paths of docs/rest.md, served through the server kit's `fallback`.
// Each handler turns a request into an RPC of the same forwarder the Connect
// face uses (so authorization is the same), and the answer into JSON.

import { Code } from "@connectrpc/connect";
import { Visibility } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import { StoreSort } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import { peerAddressOf, type ServerRequest, type ServerResponse } from "@convos-pool/kit";
import type { ClaimsForwarder, LineageForwarder } from "../forward.js";
import {
  ACCEPT_FIELDS,
  CLAIM_FIELDS,
  PIN_FIELDS,
  REMOVE_FIELDS,
  TRANSFER_FIELDS,
  TRUST_FIELDS,
  acceptFromBody,
  activityEntryToJson,
  claimFromBody,
  claimRestField,
  inheritanceToJson,
  instanceToJson,
  lineageNodeToJson,
  pinFromBody,
  removeFromBody,
  transferFromBody,
  trustFromBody,
} from "./claims-json.js";
import { CURATION_ROUTES } from "./curation-routes.js";
import { MEMORY_ROUTES } from "./memory-routes.js";
import { PATTERN_ROUTES } from "./patterns-routes.js";
import { RestError, badRequest, methodNotAllowed, noRoute, toRestError, type RestErrorMapping } from "./errors.js";
import { JsonObject, readJsonBody } from "./json.js";
import {
  BASE,
  ifMatch,
  nextCursor,
  query,
  queryBool,
  queryInt,
  withTemplate,
  type Handler,
  type RestDeps,
  type RestRequest,
  type RestResponse,
} from "./request.js";
import {
  CONTENT_FIELDS,
  contentFromBody,
  patchFromBody,
  signatureFromBody,
  templateToJson,
  versionToJson,
  resolvedToJson,
} from "./templates-json.js";

const SORTS: Record<string, StoreSort> = {
  relevance: StoreSort.RELEVANCE,
  newest: StoreSort.NEWEST,
  most_used: StoreSort.MOST_USED,
};

// ---------------------------------------------------------------- handlers

const createSession: Handler = async (r, deps) => {
  const body = await r.body(["inbox_id", "signature"]);
  const session = await deps.createSession(body.string("inbox_id"), signatureFromBody(body), r.call);
  return { status: 200, body: { token: session.token, expires_at: session.expiresAt.toISOString() } };
};

/** Sign out: the session of the Authorization header is refused from now on (204). */
const endSession: Handler = async (r, deps) => {
  query(r, []);
  await deps.endSession(r.call.authorization);
  return { status: 204 };
};

const listTemplates: Handler = async (r, { templates }) => {
  if (r.url.searchParams.has("creator")) {
    const q = query(r, ["creator", "include_archived", "limit", "cursor"]);
    const res = await templates.listCreatorTemplates(
      {
        creatorId: q.get("creator") ?? "",
        includeArchived: queryBool(q, "include_archived"),
        pageSize: queryInt(q, "limit"),
        pageToken: q.get("cursor") ?? "",
      },
      r.call,
    );
    return {
      status: 200,
      body: { templates: res.templates.map(templateToJson), next_cursor: nextCursor(res.nextPageToken) },
    };
  }
  const q = query(r, ["visibility", "q", "category", "sort", "limit", "cursor"]);
  if (q.get("visibility") !== "public") {
    throw badRequest("visibility", "give visibility=public (the store) or creator=<inbox id> (a creator's templates)");
  }
  const sort = q.get("sort");
  if (sort !== undefined && SORTS[sort] === undefined)
    throw badRequest("sort", "must be relevance, newest or most_used");
  const res = await templates.browseStore(
    {
      query: q.get("q") ?? "",
      category: q.get("category") ?? "",
      sort: sort === undefined ? StoreSort.UNSPECIFIED : SORTS[sort],
      pageSize: queryInt(q, "limit"),
      pageToken: q.get("cursor") ?? "",
    },
    r.call,
  );
  return {
    status: 200,
    body: { templates: res.templates.map(templateToJson), next_cursor: nextCursor(res.nextPageToken) },
  };
};

const createTemplate: Handler = async (r, { templates }) => {
  const body = await r.body(["creator_id", ...CONTENT_FIELDS, "signature"]);
  const res = await templates.createTemplate(
    { creatorId: body.string("creator_id"), content: contentFromBody(body), signature: signatureFromBody(body) },
    r.call,
  );
  const out = withTemplate(201, res.template);
  out.headers = { ...out.headers, location: `${BASE}/templates/${encodeURIComponent(res.template?.id ?? "")}` };
  return out;
};

const getTemplate: Handler = async (r, { templates }) => {
  const resolve = queryBool(query(r, ["resolve"]), "resolve");
  const res = await templates.getTemplate({ templateId: r.id, resolve }, r.call);
  const out = withTemplate(200, res.template);
  if (res.resolved) out.body = { ...(out.body as object), resolved: resolvedToJson(res.resolved) };
  return out;
};

const updateTemplate: Handler = async (r, { templates }) => {
  query(r, []);
  const expectedVersion = ifMatch(r);
  const body = await r.body([...CONTENT_FIELDS, "signature", "release_notes"]);
  const res = await templates.updateTemplate(
    {
      templateId: r.id,
      expectedVersion,
      content: contentFromBody(body),
      signature: signatureFromBody(body),
      releaseNotes: body.string("release_notes", ""),
    },
    r.call,
  );
  return withTemplate(200, res.template);
};

const patchTemplate: Handler = async (r, { templates }) => {
  query(r, []);
  const expectedVersion = ifMatch(r);
  const body = await r.body([...CONTENT_FIELDS, "signature", "release_notes"]);
  const res = await templates.patchTemplate(
    {
      templateId: r.id,
      expectedVersion,
      patch: patchFromBody(body),
      signature: signatureFromBody(body),
      releaseNotes: body.string("release_notes", ""),
    },
    r.call,
  );
  return withTemplate(200, res.template);
};

const setVisibility: Handler = async (r, { templates }) => {
  query(r, []);
  const expectedVersion = ifMatch(r);
  const body = await r.body(["visibility", "signature"]);
  const visibility = body.oneOf("visibility", ["public", "private"] as const);
  const res = await templates.setTemplateVisibility(
    {
      templateId: r.id,
      expectedVersion,
      visibility: visibility === "public" ? Visibility.PUBLIC : Visibility.PRIVATE,
      signature: signatureFromBody(body),
    },
    r.call,
  );
  return withTemplate(200, res.template);
};

/** Archive, or with ?permanent=true delete for good (204). */
const deleteTemplate: Handler = async (r, { templates }) => {
  const permanent = queryBool(query(r, ["permanent"]), "permanent");
  const expectedVersion = ifMatch(r);
  const body = await r.body(["signature"]);
  const req = { templateId: r.id, expectedVersion, signature: signatureFromBody(body) };
  if (permanent) {
    await templates.deleteTemplate(req, r.call);
    return { status: 204 };
  }
  const res = await templates.archiveTemplate(req, r.call);
  return withTemplate(200, res.template);
};

const listVersions: Handler = async (r, { templates }) => {
  const q = query(r, ["limit", "cursor"]);
  const res = await templates.listTemplateVersions(
    { templateId: r.id, pageSize: queryInt(q, "limit"), pageToken: q.get("cursor") ?? "" },
    r.call,
  );
  return {
    status: 200,
    body: { versions: res.versions.map(versionToJson), next_cursor: nextCursor(res.nextPageToken) },
  };
};

const rollback: Handler = async (r, { templates }) => {
  query(r, []);
  const expectedVersion = ifMatch(r);
  const body = await r.body(["target_version", "signature", "release_notes"]);
  const res = await templates.rollbackTemplate(
    {
      templateId: r.id,
      expectedVersion,
      targetVersion: BigInt(body.integer("target_version", 1)),
      signature: signatureFromBody(body),
      releaseNotes: body.string("release_notes", ""),
    },
    r.call,
  );
  return withTemplate(200, res.template);
};

// ---------------------------------------------------------------- claims

/** Seconds a client should wait before retrying a claim that found no idle agent (the pool refills every few seconds). */
export const CLAIM_RETRY_AFTER_SECONDS = 5;

/**
 * RESOURCE_EXHAUSTED from the claims service without a LimitExceeded detail
 * means the warm pool has no idle agent right now (or a provider's range is
 * used up), not that this client sent too much: 503 with Retry-After, which
 * clients and proxies retry. A limit (with the detail) stays 429 (errors.ts).
 */
const CLAIM_BY_CODE: RestErrorMapping["byCode"] = {
  [Code.ResourceExhausted]: {
    status: 503,
    type: "unavailable",
    headers: { "retry-after": String(CLAIM_RETRY_AFTER_SECONDS) },
  },
};

function claimsOf(deps: RestDeps): ClaimsForwarder {
  if (!deps.claims) throw new RestError(503, "unavailable", Code.Unavailable, deps.claimsNotConfigured);
  return deps.claims;
}

const claim: Handler = async (r, deps) => {
  const claims = claimsOf(deps);
  query(r, []);
  const header = r.headers["idempotency-key"];
  const { request, inviteField } = claimFromBody(
    await r.body(CLAIM_FIELDS),
    Array.isArray(header) ? header[0] : header,
  );
  try {
    const res = await claims.claim(request, r.call);
    return {
      status: 200,
      body: {
        instanceId: res.instanceId,
        ...(res.inheritance ? { inheritance: inheritanceToJson(res.inheritance) } : {}),
      },
    };
  } catch (err) {
    throw toRestError(err, { field: claimRestField(inviteField), byCode: CLAIM_BY_CODE });
  }
};

/** "My agents": the owner's live instances across templates; the owner's session only. */
const listAgents: Handler = async (r, deps) => {
  const claims = claimsOf(deps);
  const q = query(r, ["owner", "limit", "cursor"]);
  const owner = q.get("owner");
  if (!owner) throw badRequest("owner", "is required: the XMTP inbox ID whose agents to list (your own)");
  try {
    const res = await claims.listOwnerAgents(
      { ownerId: owner, pageSize: queryInt(q, "limit"), pageToken: q.get("cursor") ?? "" },
      r.call,
    );
    return {
      status: 200,
      body: { agents: res.instances.map(instanceToJson), nextCursor: nextCursor(res.nextPageToken) },
    };
  } catch (err) {
    throw toRestError(err, { field: claimRestField(), byCode: CLAIM_BY_CODE });
  }
};

/** One agent, with its instruction-sync state; the owner's session only (anyone else: 404). */
const getAgent: Handler = async (r, deps) => {
  const claims = claimsOf(deps);
  query(r, []);
  try {
    const res = await claims.getInstance({ instanceId: r.id }, r.call);
    return { status: 200, body: instanceToJson(res.instance!) };
  } catch (err) {
    throw toRestError(err, { field: claimRestField() });
  }
};

/**
 * Pins an agent to the template version it runs, or unpins it (then it is
 * brought to the newest): `{pinned}` with the owner's session, or with
 * `ownerSignature` (SetInstancePin) instead. Answers the agent.
 */
const pinAgent: Handler = async (r, deps) => {
  const claims = claimsOf(deps);
  query(r, []);
  const { pinned, ownerSignature } = pinFromBody(await r.body(PIN_FIELDS));
  try {
    const res = await claims.setInstancePin({ instanceId: r.id, pinned, ownerSignature }, r.call);
    return { status: 200, body: instanceToJson(res.instance!) };
  } catch (err) {
    throw toRestError(err, { field: claimRestField() });
  }
};

/** Removes one of the owner's agents for good (204): the owner's session, or `ownerSignature` (RemoveAgent). */
const removeAgent: Handler = async (r, deps) => {
  const claims = claimsOf(deps);
  query(r, []);
  const { ownerSignature } = removeFromBody(await r.body(REMOVE_FIELDS));
  try {
    await claims.removeAgent({ instanceId: r.id, ownerSignature }, r.call);
    return { status: 204 };
  } catch (err) {
    throw toRestError(err, { field: claimRestField() });
  }
};

/**
 * Offers one of the owner's agents to another inbox: `{newOwnerId,
 * ownerSignature}` (TransferAgent; required even with a session: the agent
 * checks it). Answers the agent, with `pendingOwnerId`.
 */
const transferAgent: Handler = async (r, deps) => {
  const claims = claimsOf(deps);
  query(r, []);
  const { newOwnerId, ownerSignature } = transferFromBody(await r.body(TRANSFER_FIELDS));
  try {
    const res = await claims.transferAgent({ instanceId: r.id, newOwnerId, ownerSignature }, r.call);
    return { status: 200, body: instanceToJson(res.instance!) };
  } catch (err) {
    throw toRestError(err, { field: claimRestField() });
  }
};

/** The inbox an agent was offered to takes it: `{signature}` (AcceptAgent). Answers the agent, now theirs. */
const acceptAgent: Handler = async (r, deps) => {
  const claims = claimsOf(deps);
  query(r, []);
  const { signature } = acceptFromBody(await r.body(ACCEPT_FIELDS));
  try {
    const res = await claims.acceptAgent({ instanceId: r.id, signature }, r.call);
    return { status: 200, body: instanceToJson(res.instance!) };
  } catch (err) {
    throw toRestError(err, { field: claimRestField() });
  }
};

/**
 * Sets an agent's trust level: `{trustLevel: "L1".."L4", dailySpendLimitWei
 * (L4 only), ownerSignature}` (SetTrustLevel; required even with a session:
 * the agent checks it). Answers the agent, at its new level.
 */
const setTrust: Handler = async (r, deps) => {
  const claims = claimsOf(deps);
  query(r, []);
  const body = trustFromBody(await r.body(TRUST_FIELDS));
  try {
    const res = await claims.setTrustLevel({ instanceId: r.id, ...body }, r.call);
    return { status: 200, body: instanceToJson(res.instance!) };
  } catch (err) {
    throw toRestError(err, { field: claimRestField() });
  }
};

/** An agent's activity log, newest first: `{entries, nextCursor}`; its owner's session only (anyone else 404). */
const agentActivity: Handler = async (r, deps) => {
  const claims = claimsOf(deps);
  const q = query(r, ["limit", "cursor"]);
  try {
    const res = await claims.listAgentActivity(
      { instanceId: r.id, pageSize: queryInt(q, "limit"), pageToken: q.get("cursor") ?? "" },
      r.call,
    );
    return {
      status: 200,
      body: { entries: res.entries.map(activityEntryToJson), nextCursor: nextCursor(res.nextPageToken) },
    };
  } catch (err) {
    throw toRestError(err, { field: claimRestField() });
  }
};

function lineageOf(deps: RestDeps): LineageForwarder {
  if (!deps.lineage) throw new RestError(503, "unavailable", Code.Unavailable, deps.lineageNotConfigured);
  return deps.lineage;
}

/** An agent's lineage (its owner's or its template creator's session): `{instance, ancestors, children, descendants}`. */
const agentLineage: Handler = async (r, deps) => {
  const lineage = lineageOf(deps);
  query(r, []);
  try {
    const res = await lineage.getLineage({ instanceId: r.id }, r.call);
    return {
      status: 200,
      body: {
        instance: lineageNodeToJson(res.instance!),
        ancestors: res.ancestors.map(lineageNodeToJson),
        children: res.children.map(lineageNodeToJson),
        descendants: res.descendants.map(lineageNodeToJson),
      },
    };
  } catch (err) {
    throw toRestError(err, { field: claimRestField() });
  }
};

/** The creator's dashboard of a template (seed 000, C7): counts, clones, depth, agents per owner. */
const templateDashboard: Handler = async (r, deps) => {
  const lineage = lineageOf(deps);
  query(r, []);
  try {
    const d = await lineage.getTemplateDashboard({ templateId: r.id }, r.call);
    return {
      status: 200,
      body: {
        templateId: d.templateId,
        liveCount: Number(d.liveCount),
        totalCount: Number(d.totalCount),
        endedCount: Number(d.endedCount),
        cloneCount: Number(d.cloneCount),
        liveCloneCount: Number(d.liveCloneCount),
        maxDepth: d.maxDepth,
        owners: d.owners.map((o) => ({ ownerId: o.ownerId, live: Number(o.live), total: Number(o.total) })),
      },
    };
  } catch (err) {
    throw toRestError(err, { field: claimRestField() });
  }
};

/** An owner's agents with their lineage: `?owner=<inbox>&ended=true&limit=&cursor=`, the owner's session. */
const ownerLineage: Handler = async (r, deps) => {
  const lineage = lineageOf(deps);
  const q = query(r, ["owner", "ended", "limit", "cursor"]);
  const owner = q.get("owner");
  if (!owner) throw badRequest("owner", "is required: the XMTP inbox ID whose agents to list (your own)");
  try {
    const res = await lineage.listOwnerLineage(
      {
        ownerId: owner,
        includeEnded: queryBool(q, "ended"),
        pageSize: queryInt(q, "limit"),
        pageToken: q.get("cursor") ?? "",
      },
      r.call,
    );
    return {
      status: 200,
      body: { agents: res.agents.map(lineageNodeToJson), nextCursor: nextCursor(res.nextPageToken) },
    };
  } catch (err) {
    throw toRestError(err, { field: claimRestField() });
  }
};

/** Field paths of ListTemplateInstances in the path's and query's names. */
const TEMPLATE_INSTANCES_FIELDS: Record<string, string> = {
  live_only: "live",
  page_size: "limit",
  page_token: "cursor",
};

/**
 * A template's instances with their count, for its creator's session (seed
 * 000's C7 dashboard data): `{instances, totalCount, nextCursor, rollout}`, camelCase
 * as the other claims paths.
 */
const listTemplateInstances: Handler = async (r, deps) => {
  if (!deps.claims) throw new RestError(503, "unavailable", Code.Unavailable, deps.claimsNotConfigured);
  const q = query(r, ["live", "limit", "cursor"]);
  const liveOnly = queryBool(q, "live");
  try {
    const res = await deps.claims.listTemplateInstances(
      { templateId: r.id, liveOnly, pageSize: queryInt(q, "limit"), pageToken: q.get("cursor") ?? "" },
      r.call,
    );
    return {
      status: 200,
      body: {
        instances: res.instances.map(instanceToJson),
        totalCount: Number(res.totalCount),
        nextCursor: nextCursor(res.nextPageToken),
        rollout: {
          releaseVersion: Number(res.rollout?.releaseVersion ?? 0n),
          liveCount: Number(res.rollout?.liveCount ?? 0n),
          currentCount: Number(res.rollout?.currentCount ?? 0n),
          pendingCount: Number(res.rollout?.pendingCount ?? 0n),
          failedCount: Number(res.rollout?.failedCount ?? 0n),
          pinnedCount: Number(res.rollout?.pinnedCount ?? 0n),
        },
      },
    };
  } catch (err) {
    throw toRestError(err, { field: (f) => TEMPLATE_INSTANCES_FIELDS[f] ?? f });
  }
};

// ---------------------------------------------------------------- routing

const ROUTES: Array<[method: string, pattern: string, handler: Handler]> = [
  ["POST", "/sessions", createSession],
  ["DELETE", "/sessions", endSession],
  ["GET", "/templates", listTemplates],
  ["POST", "/templates", createTemplate],
  ["GET", "/templates/:id", getTemplate],
  ["PUT", "/templates/:id", updateTemplate],
  ["PATCH", "/templates/:id", patchTemplate],
  ["DELETE", "/templates/:id", deleteTemplate],
  ["PATCH", "/templates/:id/visibility", setVisibility],
  ["GET", "/templates/:id/versions", listVersions],
  ["POST", "/templates/:id/rollback", rollback],
  ["GET", "/templates/:id/instances", listTemplateInstances],
  ["POST", "/claim", claim],
  ["GET", "/agents", listAgents],
  ["GET", "/agents/:id", getAgent],
  ["PUT", "/agents/:id/pin", pinAgent],
  ["DELETE", "/agents/:id", removeAgent],
  ["POST", "/agents/:id/transfer", transferAgent],
  ["POST", "/agents/:id/accept", acceptAgent],
  ["PUT", "/agents/:id/trust", setTrust],
  ["GET", "/agents/:id/activity", agentActivity],
  ["GET", "/agents/:id/lineage", agentLineage],
  ["GET", "/templates/:id/dashboard", templateDashboard],
  ["GET", "/lineage", ownerLineage],
  ...CURATION_ROUTES,
  ...MEMORY_ROUTES,
  ...PATTERN_ROUTES,
];

/** Every REST route, method and full path pattern (`:id` for the path parameter): what the fuzz tests drive. */
export const REST_ROUTES: ReadonlyArray<readonly [method: string, pattern: string]> = ROUTES.map(
  ([method, pattern]) => [method, `${BASE}${pattern}`] as const,
);

/** Path parameters when `path` matches `pattern`, else undefined. */
function matchPath(pattern: string, path: string): Record<string, string> | undefined {
  const want = `${BASE}${pattern}`.split("/");
  const got = path.split("/");
  if (want.length !== got.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const w = want[i] ?? "";
    const g = got[i] ?? "";
    if (w.startsWith(":")) {
      if (g === "") return undefined;
      try {
        params[w.slice(1)] = decodeURIComponent(g);
      } catch {
        return undefined;
      }
    } else if (w !== g) return undefined;
  }
  return params;
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (body === undefined) {
    res.writeHead(status, headers);
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    "content-type": "application/json; charset=utf-8",
    "content-length": String(Buffer.byteLength(text)),
  });
  res.end(text);
}

/** The server kit's `fallback`: answers every path under /api/pool/, leaves others alone. */
export function restApi(deps: RestDeps): (req: ServerRequest, res: ServerResponse) => Promise<boolean> {
  return async (req, res) => {
    const url = new URL(req.url ?? "/", "http://gateway.invalid");
    if (url.pathname !== BASE && !url.pathname.startsWith(`${BASE}/`)) return false;
    const started = performance.now();
    const method = req.method ?? "GET";
    const aborted = new AbortController();
    res.once("close", () => {
      if (!res.writableFinished) aborted.abort();
    });
    let status: number;
    try {
      const out = await dispatch(method, url, req, aborted.signal, deps);
      status = out.status;
      send(res, out.status, out.body, out.headers);
    } catch (err) {
      const e = toRestError(err);
      status = e.status;
      if (e.status >= 500) deps.log.error("rest request failed", { method, path: url.pathname, err });
      if (!res.headersSent) send(res, e.status, e.body, e.headers);
      else res.end();
    }
    // Never headers or bodies: they carry session tokens and signatures.
    deps.log.info("rest", { method, path: url.pathname, status, durationMs: Math.round(performance.now() - started) });
    return true;
  };
}

async function dispatch(
  method: string,
  url: URL,
  req: ServerRequest,
  signal: AbortSignal,
  deps: RestDeps,
): Promise<RestResponse> {
  const allowed: string[] = [];
  for (const [routeMethod, pattern, handler] of ROUTES) {
    const params = matchPath(pattern, url.pathname);
    if (!params) continue;
    if (routeMethod !== method) {
      allowed.push(routeMethod);
      continue;
    }
    const r: RestRequest = {
      id: params.id ?? "",
      url,
      headers: req.headers,
      body: async (fields) => JsonObject.body(await readJsonBody(req, deps.maxBodyBytes), fields),
      call: {
        authorization: req.headers.authorization,
        peer: peerAddressOf(req),
        forwardedFor: req.headers["x-forwarded-for"],
        signal,
      },
    };
    return handler(r, deps);
  }
  if (allowed.length === 0) throw noRoute(method, url.pathname);
  if (method === "OPTIONS") return { status: 204, headers: { allow: [...allowed, "OPTIONS"].join(", ") } };
  throw methodNotAllowed(method, url.pathname, [...allowed, "OPTIONS"]);
}

// The REST paths of the pool of learned patterns (docs/rest.md, "Learned
// patterns"; docs/patterns.md): the pool's health, and a template's patterns
// for its creator. Each is an RPC of the PatternInsightsService forwarder, as
// on the Connect face.

import { Code } from "@connectrpc/connect";
import { timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import type { Pattern, RefusalCount } from "@convos-pool/gen/convos/pool/v1/pattern_pool_service_pb.js";
import type { PatternInsightsForwarder } from "../forward.js";
import { RestError, TEMPLATE_ERRORS, renaming, type RestErrorMapping } from "./errors.js";
import { nextCursor, query, queryBool, queryInt, type Handler, type RestDeps, type Route } from "./request.js";

const iso = (t: Timestamp | undefined) => (t ? timestampDate(t).toISOString() : null);

function patternToJson(p: Pattern) {
  return {
    pattern_id: p.patternId,
    text: p.text,
    template_id: p.templateId,
    interests: p.interests,
    created_at: iso(p.createdAt),
    expires_at: iso(p.expiresAt),
    offered_count: Number(p.offeredCount),
    adopted_count: Number(p.adoptedCount),
  };
}

const refusalsToJson = (refusals: RefusalCount[]) =>
  Object.fromEntries(refusals.map((r) => [r.reason, Number(r.count)]));

function patternsOf(deps: RestDeps): PatternInsightsForwarder {
  if (!deps.patterns) throw new RestError(503, "unavailable", Code.Unavailable, deps.lineageNotConfigured);
  return deps.patterns;
}

/** The pool's health, anyone's: `{live_count, expired_count, refused_count, refusals: {reason: n}, adoption_count}`. */
const poolHealth: Handler = async (r, deps) => {
  const patterns = patternsOf(deps);
  query(r, []);
  const h = await patterns.getPatternPoolHealth({}, r.call);
  return {
    status: 200,
    body: {
      live_count: Number(h.liveCount),
      expired_count: Number(h.expiredCount),
      refused_count: Number(h.refusedCount),
      refusals: refusalsToJson(h.refusals),
      adoption_count: Number(h.adoptionCount),
    },
  };
};

/** Field paths of ListTemplatePatterns in the query's names (`template_id` is the path's `{id}`). */
const LIST_ERRORS: RestErrorMapping = {
  field: renaming({ include_expired: "expired", page_size: "limit", page_token: "cursor" }),
};

/** A template's patterns, its creator's session only (anyone else 404): `?expired=true&limit=&cursor=`. */
const templatePatterns: Handler = async (r, deps) => {
  const patterns = patternsOf(deps);
  const q = query(r, ["expired", "limit", "cursor"]);
  const res = await patterns.listTemplatePatterns(
    {
      templateId: r.id,
      includeExpired: queryBool(q, "expired"),
      pageSize: queryInt(q, "limit"),
      pageToken: q.get("cursor") ?? "",
    },
    r.call,
  );
  return {
    status: 200,
    body: {
      patterns: res.patterns.map(patternToJson),
      refusals: refusalsToJson(res.refusals),
      next_cursor: nextCursor(res.nextPageToken),
    },
  };
};

export const PATTERN_ROUTES: Route[] = [
  ["GET", "/patterns/health", poolHealth, TEMPLATE_ERRORS],
  ["GET", "/templates/:id/patterns", templatePatterns, LIST_ERRORS],
];

// The REST paths of the pool of learned patterns (docs/rest.md, "Learned
// patterns"; docs/patterns.md): the pool's health, a template's patterns for
// its creator, and the creator's hold and decisions on lessons. Each is an
// RPC of the PatternInsightsService forwarder, as on the Connect face.

import { timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import {
  PatternDecision,
  type Pattern,
  type RefusalCount,
} from "@convos-pool/gen/convos/pool/v1/pattern_pool_service_pb.js";
import { reviewPatternViolations } from "@convos-pool/kit/content";
import { TEMPLATE_ERRORS, Violations, fieldNames, renaming, type RestErrorMapping } from "../core/errors.js";
import { signatureOf } from "../core/signature-json.js";
import {
  forwarderOf,
  nextCursor,
  query,
  queryBool,
  queryInt,
  queryPage,
  type Handler,
  type Route,
} from "../core/request.js";

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
    owner_count: Number(p.ownerCount),
    template_count: Number(p.templateCount),
    quorum: p.quorum,
  };
}

/** Each decision on a lesson by its REST word. */
export const DECISION_WORDS: Record<PatternDecision, string> = {
  [PatternDecision.UNSPECIFIED]: "waiting",
  [PatternDecision.APPROVED]: "approved",
  [PatternDecision.REJECTED]: "rejected",
};

const refusalsToJson = (refusals: RefusalCount[]) =>
  Object.fromEntries(refusals.map((r) => [r.reason, Number(r.count)]));

/** The pool's health, anyone's: `{live_count, expired_count, refused_count, refusals: {reason: n}, adoption_count}`. */
const poolHealth: Handler = async (r, deps) => {
  const patterns = forwarderOf(deps, "patterns");
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
      quorum: { owners: h.quorumOwners, templates: h.quorumTemplates },
      quorum_count: Number(h.quorumCount),
    },
  };
};

/** Field paths of ListTemplatePatterns in the query's names (`template_id` is the path's `{id}`). */
const LIST_ERRORS: RestErrorMapping = {
  field: renaming({ include_expired: "expired", page_size: "limit", page_token: "cursor" }),
};

/** A template's patterns, its creator's session only (anyone else 404): `?expired=true&limit=&cursor=`. */
const templatePatterns: Handler = async (r, deps) => {
  const patterns = forwarderOf(deps, "patterns");
  const q = query(r, ["expired", "limit", "cursor"]);
  const res = await patterns.listTemplatePatterns(
    {
      templateId: r.id,
      includeExpired: queryBool(q, "expired"),
      ...queryPage(q),
    },
    r.call,
  );
  return {
    status: 200,
    body: {
      patterns: res.patterns.map(patternToJson),
      refusals: refusalsToJson(res.refusals),
      hold: res.hold,
      next_cursor: nextCursor(res.nextPageToken),
    },
  };
};

/** The creator holds lessons for approval, or stops: `{hold, signature}` (SetPatternHold) → `{hold}`. */
const setHold: Handler = async (r, deps) => {
  const patterns = forwarderOf(deps, "patterns");
  const body = await r.body(["hold", "signature"]);
  const res = await patterns.setPatternHold(
    { templateId: r.id, hold: body.boolean("hold"), signature: signatureOf(body) },
    r.call,
  );
  return { status: 200, body: { hold: res.hold } };
};

const HELD_ERRORS: RestErrorMapping = { field: renaming({ include_decided: "decided", page_size: "limit" }) };

/** The lessons that would reach the template's agents, waiting ones (all with `?decided=true`), the most similar first. */
const heldPatterns: Handler = async (r, deps) => {
  const patterns = forwarderOf(deps, "patterns");
  const q = query(r, ["decided", "limit"]);
  const res = await patterns.listHeldPatterns(
    { templateId: r.id, includeDecided: queryBool(q, "decided"), pageSize: queryInt(q, "limit") },
    r.call,
  );
  return {
    status: 200,
    body: {
      hold: res.hold,
      patterns: res.patterns.map((h) => ({
        ...(h.pattern ? patternToJson(h.pattern) : {}),
        similarity: h.pattern?.similarity ?? 0,
        decision: DECISION_WORDS[h.decision],
      })),
    },
  };
};

/** The decisions a creator says, by their REST words. */
const DECISIONS = new Map([
  ["approved", PatternDecision.APPROVED],
  ["rejected", PatternDecision.REJECTED],
]);

/** ReviewPattern's fields in REST's words. */
const REVIEW_NAMES = fieldNames({
  template_id: "template_id",
  pattern_id: "pattern_id",
  decision: "decision",
  signature: "signature",
});

/**
 * The creator's decision on one lesson: `{pattern_id, decision: "approved" |
 * "rejected", signature}` (ReviewPattern). No decision goes on as none, for
 * the service to name; another word is REST's own fault, named with the
 * service's check of the rest, and the service is not asked.
 */
const reviewPattern: Handler = async (r, deps) => {
  const patterns = forwarderOf(deps, "patterns");
  const body = await r.body(["pattern_id", "decision", "signature"]);
  const check = new Violations();
  const word = body.has("decision")
    ? check.read(() => body.oneOf("decision", ["approved", "rejected"] as const))
    : undefined;
  const req = {
    templateId: r.id,
    patternId: check.read(() => body.string("pattern_id", "")) ?? "",
    decision: DECISIONS.get(word ?? "") ?? PatternDecision.UNSPECIFIED,
    signature: check.read(() => signatureOf(body)),
  };
  check.doneWith(REVIEW_NAMES, () => reviewPatternViolations(req));
  const res = await patterns.reviewPattern(req, r.call);
  return { status: 200, body: { pattern_id: req.patternId, decision: DECISION_WORDS[res.decision] } };
};

export const PATTERN_ROUTES: Route[] = [
  ["GET", "/patterns/health", poolHealth, TEMPLATE_ERRORS],
  ["GET", "/templates/:id/patterns", templatePatterns, LIST_ERRORS],
  ["PUT", "/templates/:id/pattern-hold", setHold, TEMPLATE_ERRORS],
  ["GET", "/templates/:id/patterns/held", heldPatterns, HELD_ERRORS],
  ["POST", "/templates/:id/patterns/review", reviewPattern, REVIEW_NAMES],
];

// The pattern pool's rules that need no database (docs/patterns.md): a
// template's interest, how close two interests are, how long a pattern
// lives, when two offers are the same lesson, and the request checks.
import { createHash } from "node:crypto";
import type { Template } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import {
  invalidArgument,
  normalizePatternText,
  patternTextProblem,
  TEMPLATE_ID_PATTERN,
  PATTERN_ID_PATTERN,
} from "@convos-pool/kit/content";

const DAY_SECONDS = 86_400;
export const DEFAULT_PATTERN_TTL_SECONDS = 30 * DAY_SECONDS;
export const MAX_PATTERN_TTL_SECONDS = 90 * DAY_SECONDS;
export const DEFAULT_MIN_SIMILARITY = 0.3;
/** Expired patterns are kept this long (the creator still sees them, `--expired`), then swept. */
export const EXPIRED_KEPT_DAYS = 30;
/** Pattern ids in one RecordAdoptions: a query's answer is at most 50. */
export const MAX_ADOPTIONS_PER_CALL = 50;

/**
 * What a lesson needs before it reaches any agent (docs/patterns.md, "The
 * quorum"): offers from agents of `owners` distinct owners, under
 * `templates` distinct templates of `creators` distinct creators, counting
 * only agents that have lived and been used by others a while: claimed at
 * least `agentAgeDays` ago, and with at least `activeDays` days with others
 * (UTC days on which it answered at least two people besides its owner, by
 * its own signed counts: activity/policy.ts). PATTERN_QUORUM_OWNERS,
 * _TEMPLATES, _CREATORS, _AGENT_AGE_DAYS, _ACTIVE_DAYS.
 */
export interface Quorum {
  owners: number;
  templates: number;
  creators: number;
  agentAgeDays: number;
  activeDays: number;
}
export const DEFAULT_QUORUM: Quorum = Object.freeze({
  owners: 3,
  templates: 2,
  creators: 2,
  agentAgeDays: 7,
  activeDays: 3,
});

/** One offer of a lesson, with what the quorum weighs of its agent. */
export interface QuorumOffer {
  /** The agent's owner when it offered. */
  ownerId: string;
  templateId: string;
  /** The template's creator when it offered ("" when not known: counts toward no creator). */
  creatorId: string;
  /** When the claims service says the agent was claimed (unix seconds). */
  claimedAt: number;
  /** Its days with others (activity/policy.ts daysAnsweringOthers). */
  activeDays: number;
}

/** What an agent must have lived and done for its offer to count (the same rule as the SQL of sql.ts). */
export function offerCounts(o: QuorumOffer, quorum: Quorum, nowSeconds: number): boolean {
  return o.claimedAt <= nowSeconds - quorum.agentAgeDays * DAY_SECONDS && o.activeDays >= quorum.activeDays;
}

/** Distinct owners, templates and creators of the offers that count. */
export function quorumCounts(
  offers: readonly QuorumOffer[],
  quorum: Quorum,
  nowSeconds: number,
): { owner_count: number; template_count: number; creator_count: number } {
  const counted = offers.filter((o) => offerCounts(o, quorum, nowSeconds));
  return {
    owner_count: new Set(counted.map((o) => o.ownerId)).size,
    template_count: new Set(counted.map((o) => o.templateId)).size,
    creator_count: new Set(counted.map((o) => o.creatorId).filter((c) => c !== "")).size,
  };
}

export function hasQuorum(
  counts: { owner_count: number; template_count: number; creator_count: number },
  quorum: Quorum,
): boolean {
  return (
    counts.owner_count >= quorum.owners &&
    counts.template_count >= quorum.templates &&
    counts.creator_count >= quorum.creators
  );
}

/** The quorum's thresholds as whole numbers for SQL (they come from configuration: checked, never a caller's). */
export function checkQuorum(quorum: Quorum): Quorum {
  for (const [name, value] of Object.entries(quorum)) {
    if (!Number.isSafeInteger(value) || value < 0)
      throw new Error(`pattern quorum: ${name} must be a whole number >= 0`);
  }
  return quorum;
}

/** The most patterns a creator's review list answers. */
export function reviewPageSize(value: number): number {
  if (value === 0) return 50;
  if (!Number.isInteger(value) || value < 1 || value > 100)
    throw invalidArgument("page_size", "must be 1 to 100; 0 for 50");
  return value;
}

export function checkTemplateId(templateId: string): void {
  if (!TEMPLATE_ID_PATTERN.test(templateId))
    throw invalidArgument("template_id", 'must be a template id such as "tmpl_" followed by 16 letters or digits');
}

/** A lesson's id and a creator's review of it: the kit's, which the gateway's REST face runs too. */
export { checkPatternId, PATTERN_ID_PATTERN, reviewPatternViolations } from "@convos-pool/kit/content";

/** A template's interest: "category:<c>" and "tag:<t>", lower-case, each once. */
export function interestsOf(template: Template): string[] {
  const clean = (s: string) => s.trim().toLowerCase();
  const out = new Set<string>();
  const category = clean(template.content?.category ?? "");
  if (category) out.add(`category:${category}`);
  for (const tag of template.content?.tags ?? []) if (clean(tag)) out.add(`tag:${clean(tag)}`);
  return [...out];
}

/** A shared category says more than a shared tag: it weighs two. */
const weight = (interest: string) => (interest.startsWith("category:") ? 2 : 1);

/**
 * Weighted Jaccard: the weight of what both share over the weight of what
 * either has, a category weighing two and a tag one. 0 when either has no
 * interest (an agent without category or tags matches nothing).
 */
export function interestSimilarity(a: readonly string[], b: readonly string[]): number {
  const left = new Set(a);
  const right = new Set(b);
  let shared = 0;
  let either = 0;
  for (const x of new Set([...left, ...right])) {
    either += weight(x);
    if (left.has(x) && right.has(x)) shared += weight(x);
  }
  return either === 0 ? 0 : shared / either;
}

/** The same lesson however it is spaced, cased or ended: "Confirm dates first." and "confirm  dates first" are one. */
export function lessonHash(text: string): string {
  const key = normalizePatternText(text)
    .toLowerCase()
    .replace(/[\s.!;,]+$/u, "");
  return createHash("sha256").update(key).digest("hex");
}

/** The text's own problems (empty, too long): INVALID_ARGUMENT, not a refusal. */
export function checkPatternText(text: string): void {
  const problem = patternTextProblem(text);
  if (problem) throw invalidArgument("text", problem);
}

/** Seconds to keep a pattern: the default for 0, at most 90 days. */
export function patternTtlSeconds(ttlSeconds: bigint): number {
  if (ttlSeconds === 0n) return DEFAULT_PATTERN_TTL_SECONDS;
  if (ttlSeconds < 0n || ttlSeconds > BigInt(MAX_PATTERN_TTL_SECONDS)) {
    throw invalidArgument(
      "ttl_seconds",
      `must be 1 to ${MAX_PATTERN_TTL_SECONDS} (90 days), or 0 for the default (30 days)`,
    );
  }
  return Number(ttlSeconds);
}

export function minSimilarity(value: number): number {
  if (value === 0) return DEFAULT_MIN_SIMILARITY;
  if (!Number.isFinite(value) || value < 0 || value > 1)
    throw invalidArgument("min_similarity", "must be between 0 and 1; 0 for the default (0.3)");
  return value;
}

export function queryPageSize(value: number): number {
  if (value === 0) return 10;
  if (!Number.isInteger(value) || value < 1 || value > 50)
    throw invalidArgument("page_size", "must be 1 to 50; 0 for 10");
  return value;
}

export function checkPatternIds(ids: readonly string[]): void {
  if (ids.length === 0) throw invalidArgument("pattern_ids", "is required: the patterns the agent adopted");
  if (ids.length > MAX_ADOPTIONS_PER_CALL)
    throw invalidArgument("pattern_ids", `must be at most ${MAX_ADOPTIONS_PER_CALL}`);
  const bad = ids.findIndex((id) => !PATTERN_ID_PATTERN.test(id));
  if (bad >= 0)
    throw invalidArgument(
      `pattern_ids[${bad}]`,
      'must be a pattern id such as "pat_" followed by 16 letters or digits',
    );
}

// The pattern pool's SQL (docs/patterns.md): offering a lesson (a new row,
// or another offer of the same live one, its time to live renewed), the
// quorum's counts (of the offers whose agents count, as policy.ts
// quorumCounts, with their days with others from activity/sql.ts), the candidates of a query (those
// with the quorum, less what the asker's creator rejected or holds),
// adoptions, a template's patterns in keyset pages, the creator's hold and
// decisions, refusal counts, the pool's health, and the sweep of
// long-expired patterns.
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { EntityManager } from "@mikro-orm/postgresql";
import type { Signature } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import {
  PatternDecision,
  PatternSchema,
  RefusalCountSchema,
  type Pattern,
  type RefusalCount,
} from "@convos-pool/gen/convos/pool/v1/pattern_pool_service_pb.js";
import { PATTERN_REFUSAL_REASONS, randomId, type PatternRefusalReason } from "@convos-pool/kit/content";
import { decodePageToken, encodePageToken, isDateAndId } from "@convos-pool/kit/server";
import { daysWithOthersSql } from "../activity/sql.js";
import { checkQuorum, EXPIRED_KEPT_DAYS, hasQuorum, type Quorum } from "./policy.js";

interface PatternDbRow {
  pattern_id: string;
  text: string;
  template_id: string;
  interests: string[];
  created_at: Date | string;
  expires_at: Date | string;
  offered_count: string | number;
  adopted_count: string | number;
  owner_count: number;
  template_count: number;
  creator_count: number;
}

const DAY_SECONDS = 86_400;

/**
 * The quorum's counts of pattern `p`, as a lateral join `q`: distinct owners,
 * templates and creators of the offers whose agent counts (claimed at least
 * `agentAgeDays` ago, with at least `activeDays` days with others by its
 * signed counts, activity/sql.ts): the rule of policy.ts quorumCounts.
 * Counted when asked, since agents age and report.
 */
function quorumJoin(quorum: Quorum): string {
  const { agentAgeDays, activeDays } = checkQuorum(quorum);
  return `cross join lateral (
    select count(distinct o.owner_id)::int as owner_count,
      count(distinct o.template_id)::int as template_count,
      count(distinct nullif(o.creator_id, ''))::int as creator_count
    from pattern_offers o join lineage_agents a on a.instance_id = o.instance_id
    where o.pattern_id = p.pattern_id
      and a.claimed_at <= now() - interval '1 second' * ${agentAgeDays * DAY_SECONDS}
      and (select count(*) from (${daysWithOthersSql("o.instance_id")}) d) >= ${activeDays}
  ) q`;
}

/** Whether `q` (quorumJoin) meets the quorum, as SQL. */
function withQuorum(quorum: Quorum): string {
  const { owners, templates, creators } = checkQuorum(quorum);
  return `(q.owner_count >= ${owners} and q.template_count >= ${templates} and q.creator_count >= ${creators})`;
}

/** Patterns `p` with their counts (and `more` columns): `select … from patterns p` and the quorum's join. */
function patternsWithCounts(quorum: Quorum, more = ""): string {
  return `select p.pattern_id, p.text, p.template_id, p.interests, p.created_at, p.expires_at,
    q.owner_count, q.template_count, q.creator_count,
    (select count(*) from pattern_offers o where o.pattern_id = p.pattern_id) as offered_count,
    (select count(*) from pattern_adoptions a where a.pattern_id = p.pattern_id) as adopted_count${more}
  from patterns p ${quorumJoin(quorum)}`;
}

export function patternToProto(r: PatternDbRow, quorum: Quorum, similarity = 0): Pattern {
  return create(PatternSchema, {
    patternId: r.pattern_id,
    text: r.text,
    templateId: r.template_id,
    interests: r.interests,
    createdAt: timestampFromDate(new Date(r.created_at)),
    expiresAt: timestampFromDate(new Date(r.expires_at)),
    offeredCount: BigInt(r.offered_count),
    adoptedCount: BigInt(r.adopted_count),
    similarity,
    ownerCount: BigInt(r.owner_count),
    templateCount: BigInt(r.template_count),
    quorum: hasQuorum(r, quorum),
  });
}

async function patternById(em: EntityManager, patternId: string, quorum: Quorum): Promise<PatternDbRow> {
  const [row] = await em.execute<PatternDbRow[]>(`${patternsWithCounts(quorum)} where p.pattern_id = ?`, [patternId]);
  if (!row) throw new Error(`pattern ${patternId} vanished within its own transaction`);
  return row;
}

export interface Offer {
  instanceId: string;
  /** The offering agent's owner now: an owner counts once toward the quorum, however many agents of theirs offer. */
  ownerId: string;
  /** The offering agent's template, its creator and its interest now. */
  templateId: string;
  creatorId: string;
  interests: string[];
  text: string;
  textHash: string;
  ttlSeconds: number;
}

/**
 * One offer, in one transaction. The same lesson live already: one more
 * offer (an agent's second offer counts once), its expiry pushed to the
 * later of the two. Expired but not yet swept: replaced by a new pattern,
 * as if it had never been. The pattern comes back with the counts of
 * `quorum`.
 */
export async function offerPattern(
  em: EntityManager,
  offer: Offer,
  quorum: Quorum,
): Promise<{ pattern: PatternDbRow; created: boolean }> {
  return em.transactional(async (tx) => {
    let [existing] = await tx.execute<{ pattern_id: string; expired: boolean }[]>(
      `select pattern_id, expires_at <= now() as expired from patterns where text_hash = ? for update`,
      [offer.textHash],
    );
    if (existing?.expired) {
      await tx.execute(`delete from patterns where pattern_id = ?`, [existing.pattern_id], "run");
      existing = undefined;
    }
    let created = false;
    let patternId = existing?.pattern_id;
    if (!patternId) {
      // A concurrent offer of the same lesson may insert first: then this one waits for it and becomes an offer of it.
      const inserted = await tx.execute<{ pattern_id: string }[]>(
        `insert into patterns (pattern_id, text, text_hash, template_id, interests, created_at, expires_at)
         values (?, ?, ?, ?, array[?]::text[], now(), now() + ? * interval '1 second')
         on conflict (text_hash) do nothing returning pattern_id`,
        [randomId("pat"), offer.text, offer.textHash, offer.templateId, offer.interests, offer.ttlSeconds],
      );
      created = inserted.length === 1;
      patternId = inserted[0]?.pattern_id;
      if (!patternId) {
        [existing] = await tx.execute<{ pattern_id: string; expired: boolean }[]>(
          `select pattern_id, false as expired from patterns where text_hash = ? for update`,
          [offer.textHash],
        );
        if (!existing) throw new Error(`patterns: the offer of ${offer.textHash} lost the insert, yet no row holds it`);
        patternId = existing.pattern_id;
      }
    }
    if (!created) {
      await tx.execute(
        `update patterns set expires_at = greatest(expires_at, now() + ? * interval '1 second') where pattern_id = ?`,
        [offer.ttlSeconds, patternId],
        "run",
      );
    }
    // An agent's offer counts once, under the owner it had when it first offered (a transfer adds no owner).
    await tx.execute(
      `insert into pattern_offers (pattern_id, instance_id, template_id, creator_id, owner_id, offered_at) values (?, ?, ?, ?, ?, now())
       on conflict (pattern_id, instance_id) do update set offered_at = excluded.offered_at`,
      [patternId, offer.instanceId, offer.templateId, offer.creatorId, offer.ownerId],
      "run",
    );
    return { pattern: await patternById(tx, patternId, quorum), created };
  });
}

/** How many candidates a query weighs at most: the live patterns sharing an interest, latest to expire first. */
const QUERY_CANDIDATES = 1_000;

/** What the asking agent's template's creator decided, as SQL over `p` (the template id is its one parameter). */
const REJECTED = `exists (select 1 from pattern_reviews r where r.template_id = ? and r.text_hash = p.text_hash and r.decision = 'rejected')`;
const APPROVED = `exists (select 1 from pattern_reviews r where r.template_id = ? and r.text_hash = p.text_hash and r.decision = 'approved')`;

/**
 * Live patterns sharing at least one interest that have the quorum, none
 * offered by the asking agent, none its template's creator rejected, and
 * with the creator's hold on only those approved.
 */
export async function queryCandidates(
  em: EntityManager,
  asker: { instanceId: string; templateId: string; hold: boolean },
  interests: string[],
  quorum: Quorum,
): Promise<PatternDbRow[]> {
  if (interests.length === 0) return [];
  return em.execute<PatternDbRow[]>(
    `${patternsWithCounts(quorum)}
     where p.expires_at > now() and p.interests && array[?]::text[]
       and ${withQuorum(quorum)}
       and not exists (select 1 from pattern_offers o where o.pattern_id = p.pattern_id and o.instance_id = ?)
       and not ${REJECTED} ${asker.hold ? `and ${APPROVED}` : ""}
     order by p.expires_at desc limit ${QUERY_CANDIDATES}`,
    [interests, asker.instanceId, asker.templateId, ...(asker.hold ? [asker.templateId] : [])],
  );
}

/**
 * Patterns the agent adopted that it must drop: rejected by its template's
 * creator, held and not approved, or without the quorum (adopted before the
 * pool had one, or before its thresholds were raised).
 */
export async function withdrawnAdoptions(
  em: EntityManager,
  asker: { instanceId: string; templateId: string; hold: boolean },
  quorum: Quorum,
): Promise<string[]> {
  const rows = await em.execute<{ pattern_id: string }[]>(
    `select p.pattern_id from pattern_adoptions ad join patterns p on p.pattern_id = ad.pattern_id ${quorumJoin(quorum)}
     where ad.instance_id = ?
       and (not ${withQuorum(quorum)} or ${REJECTED} ${asker.hold ? `or not ${APPROVED}` : ""})
     order by p.pattern_id`,
    [asker.instanceId, asker.templateId, ...(asker.hold ? [asker.templateId] : [])],
  );
  return rows.map((r) => r.pattern_id);
}

/** Whether the template's creator holds lessons for approval. */
export async function holdOf(em: EntityManager, templateId: string): Promise<boolean> {
  const [row] = await em.execute<{ hold: boolean }[]>(`select hold from pattern_holds where template_id = ?`, [
    templateId,
  ]);
  return row?.hold ?? false;
}

const signatureJson = (s: Signature) =>
  JSON.stringify({ signature: s.signature, issued_at: String(s.issuedAt), nonce: s.nonce });

/** The creator's signed hold, in the transaction that spends its nonce. */
export async function setHold(
  em: EntityManager,
  h: { templateId: string; hold: boolean; creatorId: string; signature: Signature },
): Promise<void> {
  await em.execute(
    `insert into pattern_holds (template_id, hold, creator_id, signature, set_at) values (?, ?, ?, ?::jsonb, now())
     on conflict (template_id) do update set hold = excluded.hold, creator_id = excluded.creator_id,
       signature = excluded.signature, set_at = excluded.set_at`,
    [h.templateId, h.hold, h.creatorId, signatureJson(h.signature)],
    "run",
  );
}

/** The creator's decision on a lesson (by its text), in the transaction that spends its nonce; false when there is no such pattern. */
export async function reviewPattern(
  em: EntityManager,
  r: { templateId: string; patternId: string; approve: boolean; creatorId: string; signature: Signature },
): Promise<boolean> {
  const rows = await em.execute<{ pattern_id: string }[]>(
    `insert into pattern_reviews (template_id, text_hash, pattern_id, decision, creator_id, signature, decided_at)
     select ?, p.text_hash, p.pattern_id, ?, ?, ?::jsonb, now() from patterns p where p.pattern_id = ?
     on conflict (template_id, text_hash) do update set pattern_id = excluded.pattern_id, decision = excluded.decision,
       creator_id = excluded.creator_id, signature = excluded.signature, decided_at = excluded.decided_at
     returning pattern_id`,
    [r.templateId, r.approve ? "approved" : "rejected", r.creatorId, signatureJson(r.signature), r.patternId],
  );
  return rows.length === 1;
}

/**
 * The lessons that would reach a template's agents (live, with the quorum,
 * sharing an interest), with the creator's decision on each: the candidates
 * of ListHeldPatterns, weighed and cut by the caller.
 */
export async function reviewCandidates(
  em: EntityManager,
  templateId: string,
  interests: string[],
  quorum: Quorum,
): Promise<{ row: PatternDbRow; decision: PatternDecision }[]> {
  if (interests.length === 0) return [];
  const rows = await em.execute<(PatternDbRow & { decision: string | null })[]>(
    `${patternsWithCounts(quorum, `, (select r.decision from pattern_reviews r where r.template_id = ? and r.text_hash = p.text_hash) as decision`)}
     where p.expires_at > now() and p.interests && array[?]::text[] and ${withQuorum(quorum)}
     order by p.expires_at desc limit ${QUERY_CANDIDATES}`,
    [templateId, interests],
  );
  return rows.map((row) => ({
    row,
    decision:
      row.decision === "approved"
        ? PatternDecision.APPROVED
        : row.decision === "rejected"
          ? PatternDecision.REJECTED
          : PatternDecision.UNSPECIFIED,
  }));
}

/** Records the adoptions not recorded before, of patterns that exist and the agent did not offer; returns how many. */
export async function recordAdoptions(em: EntityManager, instanceId: string, patternIds: string[]): Promise<number> {
  const rows = await em.execute<{ pattern_id: string }[]>(
    `insert into pattern_adoptions (pattern_id, instance_id, adopted_at)
     select p.pattern_id, ?, now() from patterns p
     where p.pattern_id in (?)
       and not exists (select 1 from pattern_offers o where o.pattern_id = p.pattern_id and o.instance_id = ?)
     on conflict (pattern_id, instance_id) do nothing returning pattern_id`,
    [instanceId, [...new Set(patternIds)], instanceId],
  );
  return rows.length;
}

export async function countRefusal(em: EntityManager, templateId: string, reason: PatternRefusalReason): Promise<void> {
  await em.execute(
    `insert into pattern_refusals (template_id, reason, count) values (?, ?, 1)
     on conflict (template_id, reason) do update set count = pattern_refusals.count + 1`,
    [templateId, reason],
    "run",
  );
}

/** Refusals by reason, every reason listed (0 when none): of one template, or of the whole pool. */
export async function refusalCounts(em: EntityManager, templateId?: string): Promise<RefusalCount[]> {
  const rows = await em.execute<{ reason: string; count: string | number }[]>(
    `select reason, sum(count) as count from pattern_refusals ${templateId === undefined ? "" : "where template_id = ?"} group by reason`,
    templateId === undefined ? [] : [templateId],
  );
  const by = new Map(rows.map((r) => [r.reason, BigInt(r.count)]));
  return PATTERN_REFUSAL_REASONS.map((reason) => create(RefusalCountSchema, { reason, count: by.get(reason) ?? 0n }));
}

/** The patterns a template's agents offered (first by them or not), newest first; expired ones only when asked. */
export async function templatePatterns(
  em: EntityManager,
  templateId: string,
  opts: { includeExpired: boolean; limit: number; pageToken: string; quorum: Quorum },
): Promise<{ patterns: Pattern[]; nextPageToken: string }> {
  const cursor = decodePageToken(opts.pageToken, 2, "page_token", isDateAndId);
  const rows = await em.execute<PatternDbRow[]>(
    `${patternsWithCounts(opts.quorum)}
     where exists (select 1 from pattern_offers o where o.pattern_id = p.pattern_id and o.template_id = ?)
     ${opts.includeExpired ? "" : "and p.expires_at > now()"}
     ${cursor ? "and (p.created_at, p.pattern_id) < (?::timestamptz, ?)" : ""}
     order by p.created_at desc, p.pattern_id desc limit ?`,
    [templateId, ...(cursor ? [String(cursor[0]), String(cursor[1])] : []), opts.limit + 1],
  );
  const page = rows.slice(0, opts.limit);
  const last = page.at(-1);
  return {
    patterns: page.map((r) => patternToProto(r, opts.quorum)),
    nextPageToken:
      rows.length > opts.limit && last
        ? encodePageToken([new Date(last.created_at).toISOString(), last.pattern_id])
        : "",
  };
}

export interface PoolHealth {
  live: bigint;
  /** Live and with the quorum. */
  withQuorum: bigint;
  /** Expired and still kept (EXPIRED_KEPT_DAYS); swept ones are forgotten. */
  expired: bigint;
  adoptions: bigint;
}

export async function poolHealth(em: EntityManager, quorum: Quorum): Promise<PoolHealth> {
  const [counts] = await em.execute<
    { live: string | number; quorum: string | number; expired: string | number; adoptions: string | number }[]
  >(
    `select count(*) filter (where p.expires_at > now()) as live,
       count(*) filter (where p.expires_at > now() and ${withQuorum(quorum)}) as quorum,
       count(*) filter (where p.expires_at <= now()) as expired,
       (select count(*) from pattern_adoptions) as adoptions
     from patterns p ${quorumJoin(quorum)}`,
  );
  return {
    live: BigInt(counts?.live ?? 0),
    withQuorum: BigInt(counts?.quorum ?? 0),
    expired: BigInt(counts?.expired ?? 0),
    adoptions: BigInt(counts?.adoptions ?? 0),
  };
}

/** Deletes patterns expired over EXPIRED_KEPT_DAYS ago, with their offers and adoptions; returns how many. */
export async function sweepExpiredPatterns(em: EntityManager): Promise<number> {
  const rows = await em.execute<{ pattern_id: string }[]>(
    `delete from patterns where expires_at < now() - interval '${EXPIRED_KEPT_DAYS} days' returning pattern_id`,
  );
  return rows.length;
}

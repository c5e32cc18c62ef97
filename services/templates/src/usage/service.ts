// "Most used" in the store (docs/store.md): distinct owners over a recent
// window, not raw claims, which one person can inflate. The claims service
// batches its claims and names their owners (RecordTemplateUse); each
// (template, day, owner) is one row, so claiming again the same day adds
// nothing. `templates.recent_owners` keeps the count the store sorts by: set
// when uses arrive, and refreshed as the window slides (refreshRecentOwners).
import type { ServiceImpl } from "@connectrpc/connect";
import type { EntityManager } from "@mikro-orm/postgresql";
import type { TemplateUsageService } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import { INBOX_ID_PATTERN, TEMPLATE_ID_PATTERN, invalidArgument, notFound } from "@convos-pool/kit/content";

/** Days an owner's use counts towards "most used": today and the 29 before. */
export const RECENT_DAYS = 30;

const MAX_OWNERS = 1_000;

/** The UTC day of `at`, as PostgreSQL's date. */
const dayOf = (at: Date) => at.toISOString().slice(0, 10);

/** Distinct owners of a template within the window ending on `day`. */
const RECENT_COUNT = `(select count(distinct owner_id) from template_uses u where u.template_id = t.id and u.day > ?::date - ${RECENT_DAYS})`;

/** Internal: instances claimed from a template, and by whom. */
export function createTemplateUsageService(
  em: EntityManager,
  now: () => Date = () => new Date(),
): ServiceImpl<typeof TemplateUsageService> {
  return {
    async recordTemplateUse(req) {
      if (!TEMPLATE_ID_PATTERN.test(req.templateId)) throw invalidArgument("template_id", "must be a template id");
      if (req.count < 0n || req.count > 1_000_000n) throw invalidArgument("count", "must be 0 to 1,000,000");
      if (req.ownerIds.length > MAX_OWNERS) throw invalidArgument("owner_ids", `must be at most ${MAX_OWNERS}`);
      req.ownerIds.forEach((id, i) => {
        if (!INBOX_ID_PATTERN.test(id))
          throw invalidArgument(`owner_ids[${i}]`, "must be an XMTP inbox ID (64 lower-case hex characters)");
      });
      const day = dayOf(now());
      const rows = await em.fork().transactional(async (tx) => {
        if (req.ownerIds.length > 0) {
          await tx.execute(
            `insert into template_uses (template_id, day, owner_id)
              select t.id, ?::date, o from templates t, unnest(array[?]::text[]) o where t.id = ? on conflict do nothing`,
            [day, [...new Set(req.ownerIds)], req.templateId],
          );
        }
        return tx.execute<{ usage_count: string }[]>(
          `update templates t set usage_count = usage_count + ?, recent_owners = ${RECENT_COUNT} where id = ? returning usage_count`,
          [String(req.count === 0n ? 1n : req.count), day, req.templateId],
        );
      });
      const [counted] = rows;
      if (!counted) throw notFound(`template ${req.templateId}`);
      return { usageCount: BigInt(counted.usage_count) };
    },
  };
}

/**
 * Brings every count up to the window as it is today (a day that left the
 * window takes its owners with it) and forgets uses older than the window.
 * Run at start and hourly.
 */
export async function refreshRecentOwners(em: EntityManager, at: Date = new Date()): Promise<void> {
  const day = dayOf(at);
  await em.execute(`update templates t set recent_owners = ${RECENT_COUNT} where recent_owners > 0`, [day]);
  await em.execute(`delete from template_uses where day <= ?::date - ${RECENT_DAYS}`, [day]);
}

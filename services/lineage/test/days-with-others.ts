/**
 * TEST HARNESS, NOT PRODUCT CODE. What an agent's signed days leave in the
 * lineage database (docs/signals.md, "Days with others"), written there
 * directly, for tests whose agents never speak (the claims service's
 * stand-in host) and yet must have answered other people before their
 * owner rates or their offer counts. The agent must be in lineage already
 * (fed by the claims service's relay, or a test's feed). The signed path
 * itself (ReportSignals) is tested in lineage's own tests.
 */
import pg from "pg";

/** A day's counts with which an agent answered two people besides its owner (three spoke, the owner perhaps one; two answers). */
export const WITH_OTHERS = { people: 3, answers: 2 } as const;

/**
 * Writes, in the lineage database at `databaseUrl`, a day of `counts` for
 * the agent `instanceId` on each of the UTC days `daysAgo` before today, as
 * its reports of those days would have; and moves lineage's record of the
 * first day that is its owner's (`owner_days_from`) back to the earliest of
 * them, as an owner who has had it since would (tests move the claims
 * service's record of since when the owner holds it back the same way).
 */
export async function answeredOthersOn(
  databaseUrl: string,
  instanceId: string,
  daysAgo: readonly number[],
  counts: { people: number; answers: number } = WITH_OTHERS,
): Promise<void> {
  const c = new pg.Client({ connectionString: databaseUrl });
  await c.connect();
  try {
    const known = await c.query(`select 1 from lineage_agents where instance_id = $1`, [instanceId]);
    if (known.rowCount === 0)
      throw new Error(`lineage has no agent ${instanceId} yet: feed it (or drain the relay) first`);
    for (const d of daysAgo) {
      await c.query(
        `insert into version_signals (instance_id, day, template_id, version, answers, people, thumbs_up, thumbs_down,
           corrections, forget_requests, approvals_asked, approvals_declined, tool_calls_failed)
         select instance_id, (now() at time zone 'UTC')::date - $2::int, template_id, 'test', $3, $4, 0, 0, 0, 0, 0, 0, 0
           from lineage_agents where instance_id = $1
         on conflict (instance_id, day, version) do update set answers = excluded.answers, people = excluded.people`,
        [instanceId, d, counts.answers, counts.people],
      );
    }
    if (daysAgo.length > 0)
      await c.query(
        `update lineage_agents set owner_days_from = least(owner_days_from, (now() at time zone 'UTC')::date - $2::int)
         where instance_id = $1`,
        [instanceId, Math.max(...daysAgo)],
      );
  } finally {
    await c.end();
  }
}

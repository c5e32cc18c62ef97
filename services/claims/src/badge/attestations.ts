/**
 * The verified badge's renewal (docs/claims.md, "The verified badge"): the
 * claims service, which alone holds the pool operator's attestation keys,
 * signs each claimed agent's inbox and hands it the attestation
 * (InstanceService.Attest); the agent checks that it names its own inbox
 * and publishes it in its Convos profile. Once right after the claim, then
 * every 12 hours, twice within the 24 hours Convos clients accept one.
 *
 * The state is `attest_next_at` (null: due now): a scan picks the due
 * claimed agents and moves them past the retry delay before it calls them
 * (so two replicas do not both), a success moves them a refresh ahead and
 * records the key that signed (`attest_kid`). Only claimed agents are
 * picked: a released, removed or dead agent's attestation is never renewed
 * and ages out within a day.
 *
 * Rotation: while the key that signed an agent's attestation is published,
 * the agent waits for its renewal (a new key takes over within 12 hours);
 * once it is not (the operator dropped it, or it expired), the agent is due
 * at once. The published keys are compared at every scan, and the agents
 * are marked due only when they changed (at a start, or an expiry).
 *
 * The statement of what the agent may do (statement.ts) goes with each
 * attestation: the last one again while its facts hold and it is under a
 * day old, else a new one. A change of its facts (trust level, permissions,
 * participation, version, owner, a tool that leaves it) makes the agent due
 * at once (claim/sql.ts, sync/sql.ts, tools/sql.ts), so the new statement
 * follows within a scan. The agent posts only a
 * statement it has not posted. A new statement is kept (`statement`) before
 * it is handed over, in place of the one it names only, so that two
 * attestations at once never start two chains.
 *
 * An agent in several conversations gets one statement for each
 * (`conversation_statements`): the same facts with that conversation's id,
 * participation and tools, each its own chain (agent_conversations
 * `statement`), kept and handed the same way.
 */
import { create } from "@bufbuild/protobuf";
import type { EntityManager } from "@mikro-orm/postgresql";
import { AttestRequestSchema } from "@convos-pool/gen/convos/pool/v1/instance_service_pb.js";
import { ATTESTATION_REFRESH_MS, LOCAL_POOL_ID, type AttestationKeyRing } from "@convos-pool/kit/signing";
import { Batcher, forEachLimited, type Logger } from "@convos-pool/kit/server";
import type { StatementFacts } from "@convos-pool/kit/content";
import type { InstanceRef, InstanceRuntime } from "../hosts/runtime.js";
import type { TemplateSource } from "../templates/release.js";
import {
  conversationKey,
  keepConversationStatements,
  keepStatements,
  planStatement,
  readStatementFacts,
  type ConversationStatementToKeep,
  type LastStatement,
  type StatementRead,
  type StatementToKeep,
} from "./statement.js";

export interface AttestationsOptions {
  em: EntityManager;
  runtime: InstanceRuntime;
  keys: AttestationKeyRing;
  log: Logger;
  /** Between two attestations of an agent; default 12 h. */
  refreshMs?: number | undefined;
  /** After a failed one; default 10 min. */
  retryMs?: number | undefined;
  /** Between scans for due agents; default 30 s. */
  scanIntervalMs?: number | undefined;
  /** Agents called at once; default 16. */
  concurrency?: number | undefined;
  /** The pool's id, named in each statement; default LOCAL_POOL_ID. */
  poolId?: string | undefined;
  /** Where the connections of an agent's template are read; absent: none stated. */
  templates?: TemplateSource | undefined;
  /** Whether attestations carry the agent's statement (statement.ts); default true. */
  statements?: boolean | undefined;
}

/** Agents picked by one scan at most. */
const BATCH = 200;

/** When an agent is due next, and the key that has just signed its attestation (none after a failure). */
interface Next {
  id: string;
  ms: number;
  kid?: string | undefined;
}

export class Attestations {
  private readonly refreshMs: number;
  private readonly retryMs: number;
  private timer: NodeJS.Timeout | undefined;
  private scanning: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  /** First attestations after claims, awaited by stop(). */
  private readonly firsts = new Set<Promise<boolean>>();
  /** The key ids published when agents were last checked against them (comma-separated). */
  private checkedKids: string | undefined;
  /**
   * The agents' next dates, written together: one query for the agents
   * attested close together (every claim's first attestation, a scan's
   * batch) instead of one each, which was most of the claims service's
   * queries under load (docs/performance/claims.md).
   */
  private readonly nexts: Batcher<Next, void>;
  /** The leases, facts and kept statements of agents attested close together, one query each. */
  private readonly leases: Batcher<string, void>;
  private readonly facts: Batcher<string, StatementRead | undefined>;
  private readonly keeps: Batcher<StatementToKeep, boolean>;
  private readonly conversationKeeps: Batcher<ConversationStatementToKeep, boolean>;

  constructor(private readonly opts: AttestationsOptions) {
    this.refreshMs = opts.refreshMs ?? ATTESTATION_REFRESH_MS;
    this.retryMs = opts.retryMs ?? 10 * 60_000;
    this.nexts = new Batcher(
      async (batch, settle) => {
        await this.writeNext(batch);
        for (let i = 0; i < batch.length; i++) settle(i, undefined);
      },
      { maxBatch: BATCH, maxInFlight: 2 },
    );
    this.leases = new Batcher(
      async (ids, settle) => {
        await this.lease(ids);
        for (let i = 0; i < ids.length; i++) settle(i, undefined);
      },
      { maxBatch: BATCH, maxInFlight: 2 },
    );
    this.facts = new Batcher(
      async (ids, settle) => {
        const read = await readStatementFacts(
          this.opts.em.fork(),
          this.opts.templates,
          this.opts.poolId ?? LOCAL_POOL_ID,
          [...new Set(ids)],
        );
        for (const [i, id] of ids.entries()) settle(i, read.get(id));
      },
      { maxBatch: BATCH, maxInFlight: 2 },
    );
    this.keeps = new Batcher(
      async (batch, settle) => {
        // One new statement an agent per batch: two kept in place of the same last would start two chains.
        const first = new Map<string, StatementToKeep>();
        for (const k of batch) if (!first.has(k.instanceId)) first.set(k.instanceId, k);
        const kept = await keepStatements(this.opts.em.fork(), [...first.values()]);
        for (const [i, k] of batch.entries()) settle(i, first.get(k.instanceId) === k && kept.has(k.instanceId));
      },
      { maxBatch: BATCH, maxInFlight: 2 },
    );
    this.conversationKeeps = new Batcher(
      async (batch, settle) => {
        // As keeps: one new statement a conversation per batch.
        const first = new Map<string, ConversationStatementToKeep>();
        for (const k of batch) if (!first.has(conversationKey(k))) first.set(conversationKey(k), k);
        const kept = await keepConversationStatements(this.opts.em.fork(), [...first.values()]);
        for (const [i, k] of batch.entries()) {
          settle(i, first.get(conversationKey(k)) === k && kept.has(conversationKey(k)));
        }
      },
      { maxBatch: BATCH, maxInFlight: 2 },
    );
  }

  start(): void {
    this.timer = setInterval(() => this.kick(), this.opts.scanIntervalMs ?? 30_000);
    this.timer.unref();
    this.kick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.scanning;
    await Promise.all(this.firsts);
  }

  /** Scans now (or once more after the scan under way). */
  kick(): void {
    if (this.stopped) return;
    if (this.scanning) {
      this.again = true;
      return;
    }
    this.scanning = this.scan()
      .catch((err: unknown) => this.opts.log.warn("attestation scan failed", { err }))
      .finally(() => {
        this.scanning = undefined;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  /**
   * A newly claimed agent's first attestation, now; a failure is left to the
   * scan's retry. Leased first, as a scan leases what it takes: a change of
   * its facts meanwhile makes it due again (writeNext keeps that).
   */
  claimed(instance: InstanceRef): void {
    if (this.stopped) return;
    const first = this.leases
      .add(instance.id)
      .catch((err: unknown) => this.opts.log.warn("could not lease an attestation", { instanceId: instance.id, err }))
      .then(() => this.attest(instance))
      .finally(() => this.firsts.delete(first));
    this.firsts.add(first);
  }

  /** Moves claimed agents past the retry delay before they are attested, as a scan does with what it takes. */
  private async lease(ids: readonly string[]): Promise<void> {
    await this.opts.em
      .fork()
      .execute(
        `update instances set attest_next_at = now() + make_interval(secs => ?) where id in (?) and state = 'claimed'`,
        [this.retryMs / 1000, [...new Set(ids)]],
      );
  }

  private async scan(): Promise<void> {
    await this.dueForGoneKeys();
    const due = await this.opts.em.fork().execute<{ id: string; host_url: string; inbox_id: string }[]>(
      `update instances set attest_next_at = now() + make_interval(secs => ?)
       where id in (
         select id from instances
         where state = 'claimed' and (attest_next_at is null or attest_next_at <= now())
         order by attest_next_at nulls first
         limit ? for update skip locked)
       returning id, host_url, inbox_id`,
      [this.retryMs / 1000, BATCH],
    );
    await forEachLimited(due, this.opts.concurrency ?? 16, async (r) => {
      if (!this.stopped) await this.attest({ id: r.id, hostUrl: r.host_url, inboxId: r.inbox_id });
    });
    if (due.length === BATCH) this.again = true;
  }

  /** When the published keys changed: the agents whose attestation no published key signed are due now. */
  private async dueForGoneKeys(): Promise<void> {
    const kids = this.opts.keys
      .publicKeys()
      .map((k) => k.kid)
      .join(",");
    if (kids === this.checkedKids) return;
    // Key ids have no commas (AttestationKeyRing checks them).
    const [{ n } = { n: 0 }] = await this.opts.em.fork().execute<{ n: number }[]>(
      `with gone as (
         update instances set attest_next_at = null
         where state = 'claimed' and attest_kid is not null and attest_kid <> all(string_to_array(?, ','))
         returning 1)
       select count(*)::int as n from gone`,
      [kids],
    );
    this.checkedKids = kids;
    if (n > 0) this.opts.log.info("agents attested by a key no longer published: attested again now", { agents: n });
  }

  /** Signs the agent's inbox, hands it the attestation, and records when the next one is due. */
  private async attest(instance: InstanceRef): Promise<boolean> {
    let a: ReturnType<AttestationKeyRing["attest"]>;
    let statementFailed = false;
    try {
      a = this.opts.keys.attest(instance.inboxId);
      // The badge does not wait on the statement: one not made now (the templates service away) is tried
      // again after the retry delay, with another attestation.
      const statements = await this.statementsFor(instance.id, a.kid).catch((err: unknown) => {
        this.opts.log.warn("statement not made; the attestation goes without it", { instanceId: instance.id, err });
        statementFailed = true;
        return undefined;
      });
      await this.opts.runtime.attest(
        instance,
        create(AttestRequestSchema, {
          attestation: { inboxId: a.inboxId, signature: a.signature, timestamp: a.timestamp, kid: a.kid },
          key: { kid: a.kid, x: a.x, expiresAt: a.expiresAt ?? "" },
          statement: statements?.home ?? "",
          conversationStatements: statements?.conversations ?? [],
        }),
      );
    } catch (err) {
      this.opts.log.warn("attestation not delivered; retried later", { instanceId: instance.id, err });
      await this.setNext(instance.id, this.retryMs).catch(() => undefined);
      return false;
    }
    await this.setNext(instance.id, statementFailed ? this.retryMs : this.refreshMs, a.kid);
    this.opts.log.debug("attested", { instanceId: instance.id, kid: a.kid });
    return true;
  }

  /**
   * The statements to hand the agent with an attestation by key `kid`
   * (statement.ts): its home's and each of its other joined conversations',
   * each its last again or a new one signed now; none when it is not
   * claimed.
   */
  private async statementsFor(
    instanceId: string,
    kid: string,
  ): Promise<{ home: string | undefined; conversations: { conversationId: string; statement: string }[] } | undefined> {
    if (this.opts.statements === false) return undefined;
    const read = await this.facts.add(instanceId);
    if (!read) return undefined;
    const now = Date.now();
    const [home, ...others] = await Promise.all([
      this.statementFor(read.facts, read.last, kid, now, (jws) => this.keeps.add({ instanceId, last: read.kept, jws })),
      ...read.conversations.map((c) =>
        this.statementFor(c.facts, c.last, kid, now, (jws) =>
          this.conversationKeeps.add({ instanceId, conversationId: c.conversationId, last: c.last?.jws, jws }),
        ),
      ),
    ]);
    const conversations = read.conversations.flatMap((c, i) => {
      const statement = others[i];
      return statement ? [{ conversationId: c.conversationId, statement }] : [];
    });
    return { home, conversations };
  }

  /**
   * One conversation's statement: its last again, or a new one signed now
   * and kept (`keep`). The last again only when that key signed it, since
   * the agent checks it with the key handed beside it.
   */
  private async statementFor(
    facts: StatementFacts,
    last: LastStatement | undefined,
    kid: string,
    now: number,
    keep: (jws: string) => Promise<boolean>,
  ): Promise<string | undefined> {
    const plan = planStatement(facts, last, now);
    if ("again" in plan && plan.again.kid === kid) return plan.again.jws;
    // After a rotation the same facts are signed again with the new key.
    const fresh = "sign" in plan ? plan : planStatement(facts, last, now, 0);
    if (!("sign" in fresh)) return undefined;
    const { jws } = this.opts.keys.signStatement(fresh.sign);
    if (await keep(jws)) return jws;
    // Another attestation kept one meanwhile: it hands that one; this one hands none.
    return undefined;
  }

  /** When the agent is due next; with `kid`, the key that has just signed its attestation. */
  private setNext(id: string, ms: number, kid?: string): Promise<void> {
    return this.nexts.add({ id, ms, kid });
  }

  /**
   * Several agents' next dates in one query; an agent named twice gets
   * its latest, as one after the other would. The ids listed (`in`) let the
   * query planner find the rows by primary key. An agent due now (null) stays due:
   * it was leased before its attestation, so a null is a change of its facts
   * made while it was attested, and its statement must follow it.
   */
  private async writeNext(batch: Next[]): Promise<void> {
    const latest = [...new Map(batch.map((n) => [n.id, n])).values()];
    // The platform writes a null in an array as nothing: '' stands for no key.
    await this.opts.em.fork().execute(
      `update instances i set attest_next_at = case when i.attest_next_at is null then null else now() + make_interval(secs => v.secs) end,
         attest_kid = coalesce(nullif(v.kid, ''), i.attest_kid)
       from unnest(array[?]::text[], array[?]::float8[], array[?]::text[]) as v(id, secs, kid)
       where i.id in (?) and i.id = v.id and i.state = 'claimed'`,
      [
        latest.map((n) => n.id),
        latest.map((n) => n.ms / 1000),
        latest.map((n) => n.kid ?? ""),
        latest.map((n) => n.id),
      ],
    );
  }
}

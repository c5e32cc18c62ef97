/**
 * Moves the claimed agents of hosts lost for good (docs/scaling.md, "A host
 * lost for good"; lost-hosts.ts) to hosts that answer.
 *
 * One run, every `intervalMs` and whenever a host is marked lost:
 *  1. the due agents: live (claimed or crashed) on a lost host, with a sealed
 *     state kept (vault/sql.ts), not waiting out a backoff; an agent with no
 *     state kept cannot be moved and stays recorded on its lost host
 *     (`pool_agents_unmovable`, logged when the host is marked);
 *  2. the hosts that may take them: configured, not draining, not lost, and
 *     answering ListInstances now, with what each runs and holds;
 *  3. each agent, `concurrency` at once, to the one that already runs it (a
 *     restore refused part way: that host keeps it and starts it again), or
 *     else the one of them with the most free places running its runtime (policy.ts
 *     `mostFreeHost`): RestoreInstance with its wallet index
 *     and newest sealed state, with the pool's record of the agent that the
 *     new host checks the state against (its owner, trust level, limit and
 *     permissions; when its vault kept the state and the pool last saw the
 *     lost host: `recordOf`), and the new host makes a new installation of the
 *     same inbox, revokes the old ones, rejoins and says it moved. On
 *     success the agent's row names its new host (a guarded update: only if
 *     it is still on the lost host), so updates, memory calls and removal go
 *     there, and any update it missed and its attestation (for the new
 *     installation's profile) are made due. On failure (or no free place) it
 *     waits `moveBackoffSeconds` and is tried again, never dropped. A host
 *     that answers RESOURCE_EXHAUSTED (the network's rate limit refused a
 *     restore there) is sent no more restores in that run.
 * Replicas: a run holds the `host-mover` lease (leases.ts), so two replicas
 * never move one agent at once; RestoreInstance is idempotent besides.
 */
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import type { EntityManager } from "@mikro-orm/postgresql";
import { forEachLimited, type Logger } from "@convos-pool/kit/server";
import { randomId, type ResolvedPermissions } from "@convos-pool/kit/content";
import type { HostRuntime, InstanceHost, RestoreRecordIn } from "../hosts/instance-host.js";
import { acquireLease, releaseLease, renewLease } from "./leases.js";
import { hostMarks } from "./lost-hosts.js";
import { DEFAULT_HOST_CAPACITY, moveBackoffSeconds, mostFreeHost } from "./policy.js";
import { makeDue } from "../sync/sql.js";
import { RepeatedPass } from "./repeated-pass.js";

/** The lease a run holds (leases.ts). */
export const MOVER_LEASE = "host-mover";

export interface HostMoverOptions {
  em: EntityManager;
  /** Every configured host (INSTANCE_HOST_URLS): the lost ones are left out of the targets. */
  hosts: InstanceHost[];
  log: Logger;
  /** Time between runs; default 5 s. */
  intervalMs?: number | undefined;
  /** Restores in flight at once; default 8. */
  concurrency?: number | undefined;
  /** Agents taken per run at most; default 500 (the next run takes the rest at once). */
  batch?: number | undefined;
  /** The run's lease, renewed every third of it; default 30 s. */
  leaseSeconds?: number | undefined;
  /** An agent was moved, `seconds` after its host was marked lost (metrics). */
  onMoved?: (seconds: number) => void;
  /** Moved agents have template updates due (instruction sync). */
  onSyncDue?: () => void;
}

export interface MoveReport {
  /** False when another replica held the lease. */
  ran: boolean;
  moved: number;
  /** Restores that failed, or found no host with a free place: retried after their backoff. */
  failed: number;
}

interface DueRow {
  id: string;
  wallet_index: number;
  host_url: string;
  inbox_id: string;
  runtime: HostRuntime;
  move_attempts: number;
  sequence: string | number;
  sealed: Buffer;
  owner_id: string;
  owner_since: Date | string | null;
  trust_level: number;
  daily_spend_limit_wei: string;
  permissions: ResolvedPermissions | null;
  kept_at: Date | string;
  last_seen_at: Date | string;
}

/**
 * What the pool records of an agent it moves, as RestoreInstance carries it:
 * what the agent took of its owner's signed calls, and the dates that vouch
 * for its state (docs/scaling.md, "Only what the pool signed").
 */
function recordOf(r: DueRow): RestoreRecordIn {
  const at = (d: Date | string) => timestampFromDate(new Date(d));
  return {
    ownerId: r.owner_id,
    ...(r.owner_since ? { ownerSince: at(r.owner_since) } : {}),
    trustLevel: r.trust_level,
    dailySpendLimitWei: r.daily_spend_limit_wei,
    ...(r.permissions ? { permissions: r.permissions } : {}),
    stateKeptAt: at(r.kept_at),
    hostSeenAt: at(r.last_seen_at),
  };
}

interface Target {
  host: InstanceHost;
  runtime: HostRuntime;
}

/** Kicked when a host was just marked lost; a run in progress is followed by another. */
export class HostMover extends RepeatedPass<MoveReport> {
  readonly holder = randomId("mover");

  constructor(private readonly opts: HostMoverOptions) {
    super(opts, "moving agents off lost hosts failed");
  }

  /** One run; concurrent callers share the run in progress. */
  run(): Promise<MoveReport> {
    return this.runNow();
  }

  protected async pass(): Promise<MoveReport> {
    const { em, log } = this.opts;
    const report: MoveReport = { ran: false, moved: 0, failed: 0 };
    // Most runs find nothing to do: they take no lease.
    if ((await this.due(em.fork(), 1)).length === 0) return report;
    const seconds = this.opts.leaseSeconds ?? 30;
    if (!(await acquireLease(em.fork(), MOVER_LEASE, this.holder, seconds))) return report;
    report.ran = true;
    const renewer = setInterval(
      () => {
        renewLease(em.fork(), MOVER_LEASE, this.holder, seconds).then(
          (still) => !still && log.warn("the host mover's lease lapsed during its run; another replica may move too"),
          (err: unknown) => log.warn("the host mover's lease was not renewed", { err }),
        );
      },
      (seconds * 1000) / 3,
    );
    renewer.unref();
    try {
      await this.move(report);
    } finally {
      clearInterval(renewer);
      await releaseLease(em.fork(), MOVER_LEASE, this.holder, {}).catch((err: unknown) =>
        log.warn("the host mover's lease was not given up; it lapses", { err }),
      );
    }
    if (report.moved || report.failed) log.info("agents moved off lost hosts", { ...report });
    return report;
  }

  private due(em: EntityManager, limit: number): Promise<DueRow[]> {
    return em.execute<DueRow[]>(
      `select i.id, i.wallet_index, i.host_url, i.inbox_id, i.runtime, i.move_attempts, s.sequence, s.sealed,
         i.owner_id, i.owner_since, i.trust_level, i.daily_spend_limit_wei, i.permissions, s.updated_at as kept_at,
         h.last_seen_at
       from instances i
       join instance_hosts h on h.url = i.host_url and h.lost_at is not null
       join agent_states s on s.instance_id = i.id
       where i.state in ('claimed', 'crashed') and i.owner_id is not null
         and (i.move_next_at is null or i.move_next_at <= now())
       order by h.lost_at, i.move_attempts, i.id
       limit ?`,
      [limit],
    );
  }

  private async move(report: MoveReport): Promise<void> {
    const { em, log } = this.opts;
    const rows = await this.due(em.fork(), this.opts.batch ?? 500);
    const { targets, counts, capacity, holders } = await this.targets();
    const moved: string[] = [];
    // Hosts whose network refused a restore (its rate limit counts by the host's address): no more
    // restores go there this run. The agents not tried wait for the next run, their attempts uncounted.
    const limited = new Set<string>();
    await forEachLimited(rows, this.opts.concurrency ?? 8, async (r) => {
      if (this.stopped) return;
      const open = targets.filter((t) => t.runtime === r.runtime).map((t) => t.host);
      // A host that holds it already (a restore refused part way, which that host starts again) takes
      // it again: another copy elsewhere would revoke that one's installation, and leave it behind.
      const holder = holders.get(r.id);
      const to =
        holder && open.includes(holder)
          ? holder
          : mostFreeHost(
              open.filter((h) => !limited.has(h.url)),
              counts,
              capacity,
            );
      // Its holder refuses for now, or every host that could take it does: the next run.
      if (to ? limited.has(to.url) : open.some((h) => limited.has(h.url))) return;
      if (!to) {
        await this.failed(r, "no instance host that answers has a free place for it");
        report.failed++;
        return;
      }
      // Counted before the call, so that the restores in flight spread over the hosts.
      if (to !== holder) counts.set(to.url, (counts.get(to.url) ?? 0) + 1);
      try {
        // Named before the call: the keys service releases the agent's key to this host alone, while its own is lost.
        if (!(await recordMoving(em.fork(), r.id, r.host_url, to.url))) {
          // Released or ended meanwhile: nothing to move, and no place taken.
          if (to !== holder) counts.set(to.url, (counts.get(to.url) ?? 1) - 1);
          return;
        }
        const res = await to.restore(
          r.id,
          Number(r.wallet_index),
          { sequence: BigInt(r.sequence), sealed: new Uint8Array(r.sealed) },
          recordOf(r),
        );
        if (r.inbox_id !== "" && res.inboxId !== r.inbox_id)
          throw new Error(`the restored agent's inbox ${res.inboxId} is not its own ${r.inbox_id}`);
        const seconds = await recordMoved(em.fork(), r.id, r.host_url, to.url);
        if (seconds === undefined) return; // released or ended meanwhile: its next pass stops it there
        moved.push(r.id);
        report.moved++;
        this.opts.onMoved?.(seconds);
        log.info("an agent moved off a lost host", {
          instanceId: r.id,
          from: r.host_url,
          to: to.url,
          installationId: res.installationId,
          seconds,
        });
      } catch (err) {
        if (to !== holder) counts.set(to.url, (counts.get(to.url) ?? 1) - 1);
        if (ConnectError.from(err).code === Code.ResourceExhausted) limited.add(to.url);
        report.failed++;
        await this.failed(r, err instanceof Error ? err.message : String(err), to.url);
      }
    });
    if ((await makeDue(em.fork(), moved)) > 0) this.opts.onSyncDue?.();
  }

  /** The hosts that may take agents now, with what each holds and its size, and which runs each agent. */
  private async targets(): Promise<{
    targets: Target[];
    counts: Map<string, number>;
    capacity: Map<string, number>;
    holders: Map<string, InstanceHost>;
  }> {
    const marks = await hostMarks(this.opts.em.fork());
    const counts = new Map<string, number>();
    const capacity = new Map<string, number>();
    const targets: Target[] = [];
    const holders = new Map<string, InstanceHost>();
    for (const host of this.opts.hosts) {
      if (marks.lost.has(host.url) || marks.draining.has(host.url)) continue;
      try {
        const listing = await host.list();
        counts.set(host.url, listing.instances.length);
        capacity.set(host.url, listing.maxInstances || DEFAULT_HOST_CAPACITY);
        targets.push({ host, runtime: listing.runtime ?? "pool" });
        for (const i of listing.instances) holders.set(i.instanceId, host);
      } catch {
        // Not answering now: not a place to move an agent to.
      }
    }
    return { targets, counts, capacity, holders };
  }

  private async failed(r: DueRow, error: string, to?: string): Promise<void> {
    const attempts = Number(r.move_attempts) + 1;
    const wait = moveBackoffSeconds(attempts);
    this.opts.log.warn("an agent of a lost host was not moved yet; tried again later", {
      instanceId: r.id,
      from: r.host_url,
      to,
      attempts,
      retryInSeconds: wait,
      error,
    });
    await this.opts.em.fork().execute(
      // No host is named as taking it until the next try names one again: its key goes to none meanwhile.
      `update instances set move_attempts = ?, move_next_at = now() + make_interval(secs => ?), move_error = ?, moving_to = null
         where id = ? and host_url = ?`,
      [attempts, wait, error.slice(0, 500), r.id, r.host_url],
    );
  }
}

/**
 * The host a restore is about to run on, named while the agent is still on
 * its lost host `from` (the keys service releases its key to that host alone,
 * and only then); false when it is no longer there.
 */
async function recordMoving(em: EntityManager, id: string, from: string, to: string): Promise<boolean> {
  const rows = await em.execute<{ id: string }[]>(
    `update instances set moving_to = ? where id = ? and host_url = ? and state in ('claimed', 'crashed') returning id`,
    [to, id, from],
  );
  return rows.length > 0;
}

/**
 * The agent now lives on `to`: its row follows, if it is still live on the
 * lost host `from`. Returns how long after `from` was marked lost; undefined
 * when the row had changed.
 */
async function recordMoved(em: EntityManager, id: string, from: string, to: string): Promise<number | undefined> {
  const rows = await em.execute<{ seconds: number }[]>(
    `update instances i set host_url = ?, moving_to = null, state = 'claimed', move_attempts = 0, move_next_at = null, move_error = null,
       attest_next_at = null, updated_at = now()
     from instance_hosts h
     where i.id = ? and i.host_url = ? and i.state in ('claimed', 'crashed') and h.url = i.host_url
     returning extract(epoch from now() - h.lost_at)::float8 as seconds`,
    [to, id, from],
  );
  const r = rows[0];
  return r ? Number(r.seconds) : undefined;
}
